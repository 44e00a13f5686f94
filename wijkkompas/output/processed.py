"""Everything the build wrote to ``data/processed``, loaded for maps, charts and exports.

The kompas scores are read back as the kompas stage wrote them (``kompas_*`` tables, the
kompas recorded in ``bouwinfo.json``); nothing is scored here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import check_code, code_problem, in_gemeente
from wijkkompas.kompas.definition import Kompas, for_gemeente, load_kompas
from wijkkompas.kompas.scores import KompasResult

T = TypeVar("T")


@dataclass
class Processed:
    data_dir: Path
    table: pd.DataFrame
    definitions: pd.DataFrame
    verdicts: pd.DataFrame
    result: KompasResult
    target: int | None
    #: Layers of grenzen.gpkg read so far, for the file as it was then (size, mtime).
    _layers: dict[tuple[str, int, int], gpd.GeoDataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    #: Values derived from the tables (see ``derived``), with the tables they came from.
    _derived: dict[Hashable, tuple[tuple[object, ...], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    #: Names and units by indicator code, with the definitions table they were taken from.
    _names: tuple[pd.DataFrame, dict[str, tuple[str, str]]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @property
    def kompas(self) -> Kompas:
        return self.result.kompas

    @property
    def years(self) -> list[int]:
        """The years with kompas scores (else with any figures)."""
        source = self.result.themes if len(self.result.themes) else self.table
        return sorted(int(j) for j in source["jaar"].unique())

    def boundaries(self, niveau: str, jaar: int | None = None) -> gpd.GeoDataFrame:
        """Boundaries of ``niveau`` ("buurt", "wijk", "gemeente") in ``jaar`` (default: the
        target indeling, on which the scores of every year are comparable)."""
        jaar = jaar or self.target or max(self.years)
        layer = {"buurt": "buurten", "wijk": "wijken", "gemeente": "gemeente"}[niveau]
        path = self.data_dir / "processed" / "grenzen.gpkg"
        frame = self._read_layer(path, f"{layer}_{jaar}")
        if frame is None:
            raise WijkkompasError(f"Geen {layer} van {jaar} in {path}. Importeer of haal de "
                                  "grenzen van dat jaar op en bouw opnieuw.")
        return frame.copy()

    def _read_layer(self, path: Path, name: str) -> gpd.GeoDataFrame | None:
        """The gemeente's part of one layer, read once per version of the file."""
        if not path.is_file():
            return None
        stat = path.stat()
        key = (name, stat.st_size, stat.st_mtime_ns)
        if key not in self._layers:
            for stale in [k for k in self._layers if k[0] == name]:
                del self._layers[stale]  # an earlier version of the file
            with _rebuild_on_error(path):
                if name not in {n for n, _ in pyogrio.list_layers(path)}:
                    return None
                frame = gpd.read_file(path, layer=name)
            own = in_gemeente(frame["gebiedscode"], self.kompas.gemeente)
            self._layers[key] = frame[own].reset_index(drop=True)
        return self._layers[key]

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once for these tables: a value derived from the indicator table
        and the scores (reasons, reference values, ...) that every page and chart of an
        export asks for. Computed again when a table is replaced, not when one is changed
        in place."""
        tables = (self.table, self.result.themes, self.result.indicators)
        found = self._derived.get(key)
        if found is None or any(a is not b for a, b in zip(found[0], tables, strict=True)):
            found = (tables, compute())
            self._derived[key] = found
        return found[1]

    def check_wijk(self, wijk: object) -> str:
        """``wijk`` (spaces around it and lower case allowed) when it is a wijk code with
        kompas scores; else one Dutch line that names wijken which do have scores."""
        themes = self.result.themes
        wijken = sorted({str(c) for c in themes.loc[themes["niveau"] == "wijk", "gebiedscode"]})
        examples = " of ".join(wijken[:2]) if wijken else "(geen: bouw opnieuw)"
        code = wijk.strip().upper() if isinstance(wijk, str) else wijk
        if code_problem(code, "wijk") is not None:
            code = wijk  # named as it was given
        problem = code_problem(code, "wijk")
        if problem is not None:
            raise WijkkompasError(f"{problem[0].upper()}{problem[1:]}; kies een wijkcode "
                                  f"zoals {examples}.")
        if code not in wijken:
            raise WijkkompasError(f"Wijk {code} komt niet voor in de scores van "
                                  f"{self.kompas.naam}; kies een wijkcode zoals {examples}.")
        return str(code)

    def check_year(self, jaar: object) -> int:
        """``jaar`` (a number or its digits) when it is one of ``years``; else one Dutch
        line that names the years there are."""
        text = str(jaar).strip()
        years = self.years
        if not re.fullmatch(r"\d{4}", text) or int(text) not in years:
            raise WijkkompasError(f"Geen scores of cijfers van {self.kompas.naam} in jaar "
                                  f"{text!r}; kies een jaar uit "
                                  f"{', '.join(str(j) for j in years) or '(geen: bouw opnieuw)'}.")
        return int(text)

    def check_theme(self, thema: object) -> str:
        """``thema`` when it is the code of one of the kompas's themes; else one Dutch line
        that names them."""
        codes = [t.code for t in self.kompas.themes]
        if thema not in codes:
            raise WijkkompasError(f"Thema {str(thema)!r} staat niet in het kompas van "
                                  f"{self.kompas.naam}; kies uit {', '.join(codes)}.")
        return str(thema)

    def indicator_name(self, code: str) -> tuple[str, str]:
        """The name and unit of an indicator from the definitions; (code, "") when it has
        none. The definitions are indexed once (again only when another table is set)."""
        if self._names is None or self._names[0] is not self.definitions:
            self._names = (self.definitions, _name_index(self.definitions))
        return self._names[1].get(code, (code, ""))


def _name_index(definitions: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Name and unit per indicator code (the first row of a code counts)."""
    first = definitions.drop_duplicates("indicator")
    return {code: (str(naam), str(eenheid)) for code, naam, eenheid in
            zip(first["indicator"], first["naam"], first["eenheid"], strict=True)}


@contextmanager
def _rebuild_on_error(path: Path) -> Iterator[None]:
    """A missing or damaged file in processed/ becomes one line: build again."""
    try:
        yield
    except FileNotFoundError:
        raise WijkkompasError(f"{path} ontbreekt. Bouw opnieuw met 'wijkkompas build'.") \
            from None
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException,
            pd.errors.ParserError, pd.errors.EmptyDataError,
            pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WijkkompasError(f"{path} is beschadigd of onleesbaar ({reason}). Bouw opnieuw "
                              "met 'wijkkompas build'.") from None


def _recorded(info: dict, out: Path, gemeente: str | None) -> dict:
    """The bouwinfo record of the kompas that scored ``gemeente`` (default: the first)."""
    records = info.get("kompas") if isinstance(info, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise WijkkompasError(f"{out / 'bouwinfo.json'} noemt geen kompas (gebouwd met een "
                              "oudere versie). Bouw opnieuw met 'wijkkompas build'.")
    if gemeente is None and records:
        return records[0]
    if gemeente is None:
        raise WijkkompasError(f"Geen kompasscores in {out}: de build vond geen cijfers van de "
                              "gemeente. Haal ze op of importeer ze en bouw opnieuw.")
    for item in records:
        if item.get("gemeente") == gemeente:
            return item
    scored = ", ".join(str(r.get("gemeente")) for r in records) or "geen"
    raise WijkkompasError(f"Geen kompasscores voor gemeente {gemeente} in {out} (gescoord: "
                          f"{scored}). Bouw met 'wijkkompas build --gemeente {gemeente}'.")


def _read_scores(out: Path, gemeente: str) -> dict[str, pd.DataFrame]:
    """The kompas tables the build wrote, only the rows of ``gemeente``."""
    frames = {}
    for name, kind in (("kompas_scores", "parquet"), ("kompas_indicatorscores", "parquet"),
                       ("kompas_referentie", "csv"), ("kompas_gevoeligheid", "csv")):
        path = out / f"{name}.{kind}"
        with _rebuild_on_error(path):
            frame = (pd.read_parquet(path) if kind == "parquet"
                     else pd.read_csv(path, dtype={"gebiedscode": str, "reden": str}))
            if "gemeente" not in frame.columns and len(frame):
                raise KeyError("kolom gemeente ontbreekt")
        if "gemeente" in frame.columns:
            frame = frame[frame["gemeente"] == gemeente].drop(columns="gemeente")
        frames[name] = frame.reset_index(drop=True)
    frames["kompas_referentie"]["reden"] = frames["kompas_referentie"]["reden"].fillna("")
    return frames


def load_processed(data_dir: Path, kompas_path: Path | None = None,
                   gemeente: str | None = None) -> Processed:
    """Load the processed outputs with the kompas scores the build wrote for ``gemeente``
    (default: the first gemeente scored). Nothing is scored here.

    ``kompas_path``, when given, must be the kompas the build used (same file and content),
    else the step is refused with the advice to build again.
    """
    out = Path(data_dir) / "processed"
    table_path = out / "indicatoren.parquet"
    if not table_path.is_file():
        raise WijkkompasError(f"{table_path} bestaat niet: draai eerst 'wijkkompas build'.")
    with _rebuild_on_error(table_path):
        table = pd.read_parquet(table_path)
    with _rebuild_on_error(out / "indicatoren_definities.csv"):
        definitions = pd.read_csv(out / "indicatoren_definities.csv")
    with _rebuild_on_error(out / "indelingen.csv"):
        verdicts = pd.read_csv(out / "indelingen.csv")
    info_path = out / "bouwinfo.json"
    with _rebuild_on_error(info_path):
        info = json.loads(info_path.read_text(encoding="utf-8"))
        target = info.get("doelindeling") if isinstance(info, dict) else "?"
        if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
            raise ValueError(f"doelindeling {target!r} is geen jaar")
    entry = _recorded(info, out, gemeente)
    code = str(entry.get("gemeente"))
    check_code(code, "gemeente", where=str(info_path))
    built_with = Path(str(entry.get("pad")))
    if kompas_path is not None:
        asked = load_kompas(kompas_path, code)
        if (Path(asked.path).resolve() != built_with.resolve()
                or [asked.sha256, asked.basis_sha256]
                != [entry.get("sha256"), entry.get("basis_sha256")]):
            raise WijkkompasError(
                f"De scores in {out} zijn gemaakt met kompasdefinitie {built_with}, niet met "
                f"{kompas_path}. Bouw opnieuw met 'wijkkompas build --kompas {kompas_path}', "
                "of laat --kompas weg.")
    kompas = load_kompas(built_with, code)
    if [kompas.sha256, kompas.basis_sha256] != [entry.get("sha256"), entry.get("basis_sha256")]:
        raise WijkkompasError(
            f"Kompasdefinitie {built_with} is veranderd sinds de scores in {out} werden gemaakt. "
            "Bouw opnieuw met 'wijkkompas build'.")
    kompas = for_gemeente(kompas, code, str(entry.get("naam") or code))
    with _rebuild_on_error(info_path):
        # The base year the scores count from; a build before it was recorded used the
        # kompas's own.
        basisjaar = entry.get("basisjaar", kompas.basisjaar)
        if not isinstance(basisjaar, int) or isinstance(basisjaar, bool):
            raise ValueError(f"basisjaar {basisjaar!r} is geen jaar")
    kompas = replace(kompas, basisjaar=basisjaar)
    frames = _read_scores(out, code)
    result = KompasResult(kompas, frames["kompas_referentie"],
                          frames["kompas_indicatorscores"], frames["kompas_scores"],
                          frames["kompas_gevoeligheid"])
    return Processed(Path(data_dir), table, definitions, verdicts, result, target)


def scored_gemeenten(data_dir: Path) -> list[str]:
    """The gemeenten the build scored, in order (from ``bouwinfo.json``)."""
    info_path = Path(data_dir) / "processed" / "bouwinfo.json"
    with _rebuild_on_error(info_path):
        info = json.loads(info_path.read_text(encoding="utf-8"))
    records = info.get("kompas") if isinstance(info, dict) else None
    if not isinstance(records, list):
        _recorded(info, info_path.parent, None)  # refuses: built by an older version
    return [str(r.get("gemeente")) for r in records or [] if isinstance(r, dict)]
