"""The Leefbaarometer 3.0: liveability scores per buurt, from its open data CSV.

The open data of a measurement (``open-data-leefbaarometer-meting-2024.zip``) hold
``Leefbaarometer-scores buurten 2002-2024.csv``: one row per buurt and year, columns
``bu_code, jaar, lbm`` (total score) and the five dimensions as deviations from the
national mean: ``won`` (woningvoorraad), ``fys`` (fysieke omgeving), ``vrz``
(voorzieningen), ``soc`` (sociale samenhang) and ``onv`` (overlast en onveiligheid).
Every year of a release is given on the buurten of that release (the 2024 release on
those of 2024), which is the ``indeling`` the rows get.

The file may use a semicolon or a comma between fields and a decimal comma or point.
:func:`read_file` checks every row and reports every bad one with its line number;
:func:`import_file` copies the file unchanged into ``data/raw/leefbaarometer/<indeling>/``
and writes its manifest entry in the same step. In the build, buurt scores are weighted by
the inhabitants of the same buurt, year and indeling (build/inwoners.py) to wijk and
gemeente values (status ``berekend``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.errors import WijkkompasError, file_problem, os_reason
from wijkkompas.indicatoren.aggregate import complete_levels
from wijkkompas.indicatoren.inwoners import inhabitants
from wijkkompas.indicatoren.rows import INTERNAL, plain
from wijkkompas.indicatoren.sources import SourceFrame
from wijkkompas.manifest import MANIFEST_NAME
from wijkkompas.storage import json_bytes, now_stamp, sha256_file, write_files_atomic

#: Column of the open data file -> variable (and indicator) of the catalogue.
COLUMNS = {"lbm": "lbm_totaal", "won": "lbm_won", "fys": "lbm_fys", "vrz": "lbm_vrz",
           "soc": "lbm_soc", "onv": "lbm_onv"}
REQUIRED = ("bu_code", "jaar", *COLUMNS)
FOLDER = "leefbaarometer"
RAW_NAME = "leefbaarometer_buurten.csv"
BRON = "Leefbaarometer 3.0"
_BUURT = re.compile(r"^BU\d{8}$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$", re.ASCII)
#: Bad rows named in the message; all of them are counted.
SHOWN = 5


@dataclass
class LbmTable:
    frame: pd.DataFrame  # bu_code, jaar, and the variables of COLUMNS
    separator: str
    missing: int  # empty cells, read as missing


def _number(text: str) -> float:
    """A score with a decimal comma or point; empty is missing; anything else raises."""
    text = text.strip()
    if text == "":
        return math.nan
    if not _NUMBER.match(text):
        raise ValueError(text)
    return float(text.replace(",", "."))


def _decode(path: Path) -> str:
    problem = file_problem(path)
    if problem is not None:
        raise WijkkompasError(f"Leefbaarometer-bestand {path} {problem}. Controleer het pad.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WijkkompasError(f"Kan {path} niet lezen ({os_reason(exc)}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_file(path: Path) -> LbmTable:
    """Read and check a Leefbaarometer buurt CSV; every bad row is reported by line."""
    text = _decode(path)
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        columns = [c.strip().lower() for c in next(reader)]
    except StopIteration:
        raise WijkkompasError(f"{path} is leeg; verwacht de Leefbaarometer-buurtscores met "
                              f"kolommen {', '.join(REQUIRED)}.") from None
    missing_columns = [c for c in REQUIRED if c not in columns]
    if missing_columns:
        raise WijkkompasError(
            f"{path}: kolom(men) {', '.join(missing_columns)} ontbreken; is dit wel het "
            "bestand 'Leefbaarometer-scores buurten' (kolommen bu_code, jaar, lbm, won, fys, "
            "vrz, soc, onv)?")
    where = {c: columns.index(c) for c in REQUIRED}
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, int], int] = {}
    this_year = date.today().year
    missing = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(columns):
                problems.append(f"regel {line}: {len(fields)} velden in plaats van "
                                f"{len(columns)}")
                continue
            code = fields[where["bu_code"]].strip()
            bad = []
            if not _BUURT.match(code):
                bad.append(f"bu_code '{code[:20]}' is geen buurtcode (BU + 8 cijfers)")
            jaar_text = fields[where["jaar"]].strip()
            jaar = int(jaar_text) if re.fullmatch(r"\d{4}", jaar_text, flags=re.ASCII) else None
            if jaar is None or not 2000 <= jaar <= this_year:
                bad.append(f"jaar '{jaar_text[:20]}' is geen geldig jaar")
            values = {}
            for column, variable in COLUMNS.items():
                cell = fields[where[column]]
                try:
                    values[variable] = _number(cell)
                except ValueError:
                    bad.append(f"{column} '{cell.strip()[:20]}' is geen getal")
            if not bad and jaar is not None:
                key = (code, jaar)
                if key in seen:
                    bad.append(f"{code} {jaar} staat ook op regel {seen[key]}")
                seen.setdefault(key, line)
            if bad:
                problems.append(f"regel {line}: {'; '.join(bad)}")
                continue
            missing += sum(1 for v in values.values() if math.isnan(v))
            rows.append({"bu_code": code, "jaar": jaar, **values})
    except csv.Error as exc:
        problems.append(f"regel {reader.line_num}: onleesbaar ({exc})")
    if problems:
        shown = "; ".join(problems[:SHOWN])
        more = f" (en nog {len(problems) - SHOWN})" if len(problems) > SHOWN else ""
        raise WijkkompasError(
            f"{path}: {len(problems)} foute rij(en): {shown}{more}. Verbeter het bestand; er "
            "is niets geïmporteerd.")
    if not rows:
        raise WijkkompasError(f"{path} bevat geen buurtrijen.")
    frame = pd.DataFrame(rows, columns=["bu_code", "jaar", *COLUMNS.values()])
    return LbmTable(frame, separator, missing)


def import_file(path: Path, raw_dir: Path, manifest: dict[str, Any], gemeente: str,
                indeling: int | None = None) -> tuple[LbmTable, int]:
    """Check the file, then copy it unchanged to ``raw/leefbaarometer/<indeling>/``.

    ``indeling`` is the year of the release's buurten; default the latest year in the file.
    The manifest (``leefbaarometer``) records it with the gemeente whose buurten the build
    takes from it. Nothing is written when the file is refused.
    """
    table = read_file(path)
    years = sorted(int(y) for y in table.frame["jaar"].unique())
    indeling = indeling or years[-1]
    if indeling < years[-1]:
        raise WijkkompasError(
            f"{path}: de buurtindeling {indeling} ligt voor het laatste jaar in het bestand "
            f"({years[-1]}); geef het jaar van de meting met --jaar, bijvoorbeeld {years[-1]}.")
    own = table.frame["bu_code"].str[2:6] == gemeente[2:6]
    if not own.any():
        raise WijkkompasError(f"{path}: geen enkele buurt van {gemeente}; controleer de "
                              "gemeente (instelling gemeente) en het bestand.")
    target = raw_dir / FOLDER / str(indeling) / RAW_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WijkkompasError(f"Kan {path} niet lezen ({os_reason(exc)}).") from None
    manifest.setdefault(FOLDER, {})[str(indeling)] = {
        "bestand": RAW_NAME, "origineel": path.name, "indeling": indeling,
        "gemeente": gemeente, "jaren": years, "rijen": len(table.frame),
        "sha256": hashlib.sha256(data).hexdigest(), "imported_at": now_stamp(),
        # As every entry of the manifest: its files with their checksums (verify_raw).
        "files": {RAW_NAME: {"sha256": hashlib.sha256(data).hexdigest()}},
    }
    # The file and its manifest entry are put in place together (Ctrl-C held back), so
    # raw/ never holds one without the other.
    write_files_atomic({target: data, raw_dir / MANIFEST_NAME: json_bytes(manifest)})
    return table, indeling


def read_sources(raw_dir: Path, manifest: dict[str, Any]) -> list[SourceFrame]:
    """The imported Leefbaarometer files: per year a frame of the gemeente's buurten."""
    sources = []
    for key, entry in sorted(manifest.get(FOLDER, {}).items()):
        path = raw_dir / FOLDER / key / RAW_NAME
        if not path.is_file() or sha256_file(path) != entry.get("sha256"):
            raise WijkkompasError(f"{path} ontbreekt of is gewijzigd; importeer de "
                                  "Leefbaarometer opnieuw (wijkkompas import BESTAND --bron "
                                  "leefbaarometer).")
        indeling = int(entry["indeling"])
        gemeente = str(entry["gemeente"])
        frame = read_file(path).frame
        frame = frame[frame["bu_code"].str[2:6] == gemeente[2:6]]
        bron = f"{BRON} (buurtindeling {indeling})"
        for jaar, part in frame.groupby("jaar", sort=True):
            codes = part["bu_code"].reset_index(drop=True)
            wide = pd.DataFrame({"gebiedscode": codes, "gebiedsnaam": pd.NA, "niveau": "buurt",
                                 "jaar": int(jaar), "bron": bron})
            for variable in COLUMNS.values():
                wide[variable] = part[variable].to_numpy()
            sources.append(SourceFrame(bron, int(jaar), wide, indeling=indeling))
    return sources


def weighted_rows(sources: list[SourceFrame], long: pd.DataFrame, verdicts: pd.DataFrame,
                  factors: dict[str, float | None], expected: pd.DataFrame) -> pd.DataFrame:
    """Buurt scores as observed rows, with wijk and gemeente values weighted by inhabitants.

    A buurt's weight is its number of inhabitants in the same year and indeling; wijk and
    gemeente values need 90 % of their buurten with a weight (``dekking``), else missing.
    """
    if not sources:
        return pd.DataFrame(columns=INTERNAL)
    parts = []
    for source in sources:
        for variable in COLUMNS.values():
            part = source.frame[["gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron"]].copy()
            part["indeling"] = source.indeling_jaar
            part["indicator"] = variable
            part["waarde"] = source.frame[variable].astype("float64")
            parts.append(part)
    rows = pd.concat(parts, ignore_index=True).astype({"jaar": "int64", "indeling": "int64"})
    weights = inhabitants(long, verdicts, rows)
    rows = rows.merge(weights[["gebiedscode", "jaar", "indeling", "inwoners"]],
                      on=["gebiedscode", "jaar", "indeling"], how="left")
    weight = rows["inwoners"].where(rows["inwoners"] > 0)
    rows["noemer"] = weight
    rows["teller"] = rows["waarde"] * weight
    rows["status"] = np.where(rows["waarde"].notna(), "waargenomen", "ontbreekt")
    rows["dekking"] = np.where(rows["waarde"].notna(), 1.0, np.nan)
    rows["indelingswijziging"] = np.nan
    rows["bron_id"] = rows["bron"]
    rows = rows[INTERNAL]
    out = plain(complete_levels(rows, factors, expected))
    upper = out["niveau"] != "buurt"
    out.loc[upper, "bron"] = out.loc[upper, "bron"] + ", buurten gewogen met hun inwoners"
    return out
