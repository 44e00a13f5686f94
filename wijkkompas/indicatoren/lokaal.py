"""The municipality's own indicators: definitions in TOML, figures in CSV or Excel.

Definitions file (for example ``lokaal.toml``)::

    bestanden = ["lokaal_2023.csv"]          # relative to this file

    [indicator.meldingen_openbare_ruimte]
    naam = "Meldingen openbare ruimte"
    eenheid = "per 1.000 inwoners"
    bron = "Gemeente Almelo, meldingen openbare ruimte"
    soort = "objectief"                      # objectief or subjectief
    berekening = "per_1000"                  # aantal, aandeel, per_1000, gemiddelde, verhouding

Figures: one row per area, year and indicator, columns ``gebiedscode, jaar, indicator,
waarde`` and optionally ``bron, teller, noemer``. Every problem is reported with file,
line and column; nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from wijkkompas.catalogue import FACTORS, indicators
from wijkkompas.errors import WijkkompasError, capped, file_problem
from wijkkompas.gebied import CODE_RE, in_gemeente, level_of
from wijkkompas.indicatoren.rows import INTERNAL
from wijkkompas.schema import Schema
from wijkkompas.tabular import (
    NumberError,
    Table,
    parse_number,
    read_table,
    shown,
    text_of,
)
from wijkkompas.tomlfile import read_toml_schema

REQUIRED = ("gebiedscode", "jaar", "indicator", "waarde")
SOORTEN = ("objectief", "subjectief")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LocalIndicator:
    indicator: str
    naam: str
    eenheid: str
    bron: str
    soort: str
    berekening: str

    @property
    def factor(self) -> float:
        return FACTORS[self.berekening]


@dataclass
class LocalConfig:
    path: Path
    definitions: dict[str, LocalIndicator]
    files: list[Path]


def _indicator_name(code: str) -> str:
    if not _NAME_RE.match(code):
        raise ValueError(f"'{code}' is geen geldige indicatornaam: gebruik kleine letters, "
                         "cijfers en _ (bijvoorbeeld meldingen_per_1000)")
    return code


def _berekening(value: str) -> str:
    if value not in FACTORS:
        raise ValueError(f"berekening '{value}' is onbekend; kies uit {', '.join(FACTORS)}")
    return value


class LocalIndicatorSchema(Schema):
    naam: Annotated[str, Field(min_length=1)]
    eenheid: str
    bron: Annotated[str, Field(min_length=1)]
    soort: Literal["objectief", "subjectief"]
    berekening: Annotated[str, AfterValidator(_berekening)]


class LocalSchema(Schema):
    """The definitions file of local indicators (see ``voorbeelden/lokale_indicatoren.toml``)."""

    bestanden: list[Annotated[str, Field(min_length=1)]] = []
    indicator: dict[Annotated[str, AfterValidator(_indicator_name)], LocalIndicatorSchema] = {}

    @model_validator(mode="after")
    def _not_cbs(self) -> LocalSchema:
        taken = sorted(set(self.indicator) & set(indicators()))
        if taken:
            raise ValueError(f"indicator.{taken[0]}: '{taken[0]}' is al een CBS-indicator; "
                             "kies een andere naam")
        return self


def read_definitions(path: Path) -> LocalConfig:
    """Read and check the definitions file of local indicators."""
    spec = read_toml_schema(path, LocalSchema, "definitiebestand van lokale indicatoren")
    definitions = {code: LocalIndicator(code, **item.model_dump())
                   for code, item in spec.indicator.items()}
    files = [Path(path).parent / f for f in spec.bestanden]
    return LocalConfig(Path(path), definitions, files)


def _read_table(path: Path) -> Table:
    table = read_table(path)
    names = [str(c).strip().lower() for c in table.frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise WijkkompasError(f"{path}: de kopregel noemt kolom {capped(twice, sep=', ')} meer "
                              "dan eens (hoofdletters tellen niet). Geef elke kolom een eigen "
                              "naam.")
    table.frame.columns = names
    return table


@dataclass
class Problem:
    bestand: str
    regel: int
    kolom: str
    probleem: str

    def __str__(self) -> str:
        return f"{self.bestand} regel {self.regel}, kolom {self.kolom}: {self.probleem}"


def indeling_for(year: int, areas: dict[int, set[str]]) -> int | None:
    """The year whose area classification applies to ``year``: the latest one not after it."""
    known = sorted(areas)
    if not known:
        return None
    earlier = [y for y in known if y <= year]
    return earlier[-1] if earlier else known[0]


def _impossible(values: dict[str, float | None],
                definition: LocalIndicator | None) -> list[tuple[str, str]]:
    """Values no count or share can have: negative counts, shares outside 0-100, a part
    larger than its whole."""
    found = []
    for column in ("teller", "noemer"):
        if values[column] is not None and values[column] < 0:
            found.append((column, f"een {column} kan niet negatief zijn ({values[column]:g})"))
    if definition is None or values["waarde"] is None:
        return found
    waarde = values["waarde"]
    if definition.berekening in ("aantal", "per_1000") and waarde < 0:
        what = "aantal" if definition.berekening == "aantal" else "aantal per 1.000"
        found.append(("waarde", f"een {what} kan niet negatief zijn ({waarde:g})"))
    if definition.berekening == "aandeel":
        if not 0 <= waarde <= 100:
            found.append(("waarde", f"een aandeel ligt tussen 0 en 100, niet {waarde:g}"))
        teller, noemer = values["teller"], values["noemer"]
        if teller is not None and noemer is not None and teller > noemer >= 0:
            found.append(("teller", f"teller {teller:g} is groter dan noemer {noemer:g}"))
    return found


def _one_gemeente(areas: dict[int, set[str]]) -> str | None:
    """The gemeente of the build when all its areas lie in one, else None."""
    gemeenten = {c for codes in areas.values() for c in codes if c.startswith("GM")}
    return gemeenten.pop() if len(gemeenten) == 1 else None


def validate(path: Path, config: LocalConfig, areas: dict[int, set[str]],
             gemeente: str | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Check one file of local figures; returns its rows (long format) and every problem.

    When ``gemeente`` is given (by default: the one gemeente of ``areas``, if there is one),
    rows of another gemeente are problems too."""
    if gemeente is None:
        gemeente = _one_gemeente(areas)
    table = _read_table(path)
    frame = table.frame
    name = str(path)
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        return pd.DataFrame(columns=INTERNAL), [Problem(name, 1, ", ".join(missing),
                                                       "verplichte kolom ontbreekt")]
    this_year = date.today().year
    rows = []
    seen: dict[tuple[str, int, str], int] = {}
    for index, row in frame.iterrows():
        line = int(index) + 2
        before = len(problems)
        code = text_of(row["gebiedscode"])
        valid = bool(CODE_RE.fullmatch(code))
        if not valid:
            problems.append(Problem(name, line, "gebiedscode", f"ongeldige code '{shown(code)}' "
                                    "(verwacht GM####, WK###### of BU########)"))
        elif gemeente and code != "NL00" and not in_gemeente(pd.Series([code]), gemeente)[0]:
            valid = False
            problems.append(Problem(name, line, "gebiedscode", f"{code} ligt niet in gemeente "
                                    f"{gemeente}; dit bestand hoort alleen cijfers van "
                                    f"{gemeente} te bevatten"))
        try:
            jaar = int(text_of(row["jaar"]))
            if not 1990 <= jaar <= this_year + 1:
                raise ValueError
        except ValueError:
            problems.append(Problem(name, line, "jaar",
                                    f"onmogelijk jaar '{shown(text_of(row['jaar']))}'"))
            jaar = None
        indicator = text_of(row["indicator"])
        if indicator not in config.definitions:
            problems.append(Problem(name, line, "indicator", f"onbekende indicator "
                                    f"'{shown(indicator)}'; definieer hem in {config.path}"))
        values = {}
        for column in ("waarde", "teller", "noemer"):
            try:
                values[column] = (parse_number(row[column], table.decimal)
                                  if column in frame.columns else None)
            except NumberError as exc:
                problems.append(Problem(name, line, column, exc.reason))
                values[column] = None
        definition = config.definitions.get(indicator)
        problems.extend(Problem(name, line, column, text)
                        for column, text in _impossible(values, definition))
        if jaar is not None and valid:
            indeling = indeling_for(jaar, areas)
            if indeling is not None and code not in areas[indeling]:
                older = sorted(y for y, codes in areas.items() if code in codes)
                if older:
                    problems.append(Problem(name, line, "gebiedscode", f"{code} hoort bij de "
                                            f"indeling van {capped(older, sep=', ')}, niet bij "
                                            f"die van {indeling}; reken om naar de buurten van "
                                            f"{indeling}"))
                else:
                    problems.append(Problem(name, line, "gebiedscode",
                                            f"onbekende gebiedscode {code}"))
            key = (code, jaar, indicator)
            if key in seen:
                problems.append(Problem(name, line, "gebiedscode", f"dubbele rij: {code}, "
                                        f"{jaar}, {indicator} staat ook op regel {seen[key]}"))
            seen.setdefault(key, line)
        else:
            indeling = None
        if (len(problems) == before and definition and definition.berekening != "aantal"
                and values["teller"] is not None and values["noemer"]
                and values["waarde"] is not None):
            expected = definition.factor * values["teller"] / values["noemer"]
            if abs(expected - values["waarde"]) > max(0.005 * abs(expected), 0.01):
                problems.append(Problem(name, line, "waarde", f"{values['waarde']:g} past niet "
                                        f"bij teller/noemer ({expected:.4g})"))
        if len(problems) == before and definition is not None and jaar is not None:
            bron = text_of(row["bron"]) if "bron" in frame.columns else ""
            rows.append({"gebiedscode": code, "jaar": jaar, "indeling": indeling or jaar,
                         "indicator": indicator, "bron": bron or definition.bron, **values})
    return _long(rows, config), problems


def _long(rows: list[dict], config: LocalConfig) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=INTERNAL)
    out = pd.DataFrame(rows)
    for column in ("waarde", "teller", "noemer"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    counts = out["indicator"].map(lambda i: config.definitions[i].berekening == "aantal")
    # A count is its own teller; a share, rate or average without teller/noemer can be
    # shown but not aggregated.
    out.loc[counts, "teller"] = out.loc[counts, "waarde"]
    out["gebiedsnaam"] = pd.NA
    out["niveau"] = level_of(out["gebiedscode"])
    out["status"] = np.where(out["waarde"].notna(), "waargenomen", "ontbreekt")
    out["indelingswijziging"] = np.nan
    out["dekking"] = np.where(out["waarde"].notna(), 1.0, np.nan)
    out["bron_id"] = out["indicator"].map(lambda i: config.definitions[i].bron)
    return out[INTERNAL]


def load_local(config: LocalConfig,
               areas: dict[int, set[str]]) -> tuple[pd.DataFrame, list[Problem]]:
    """All files of local figures with every problem found in them."""
    frames, problems = [], []
    for path in config.files:
        problem = file_problem(path)
        if problem is not None:
            problems.append(Problem(str(path), 0, "-", f"bestand {problem}"))
            continue
        frame, found = validate(path, config, areas)
        frames.append(frame)
        problems.extend(found)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INTERNAL)
    return frame, problems


def problems_error(problems: list[Problem], report: Path) -> WijkkompasError:
    return WijkkompasError(
        f"Lokale indicatoren afgekeurd, {len(problems)} probleem/problemen: {capped(problems)}. "
        f"Alle problemen staan in {report}. Verbeter de bestanden; er is niets gebouwd."
    )
