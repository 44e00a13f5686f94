"""The kompas scores read back as the kompas stage wrote them (``kompas_*`` tables, the
kompas recorded in ``bouwinfo.json``), on top of the light load of ``processed.py``, for maps,
charts and exports; nothing is scored here."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import check_code, code_problem
from wijkkompas.kompas.definition import Kompas, for_gemeente, load_kompas
from wijkkompas.kompas.scores import KompasResult
from wijkkompas.processed import (
    KOMPAS_TABLES,
    NEDERLAND,
    ProcessedPaths,
    SharedLayer,
    TableFacts,
    Tables,
    gemeente_filter,
    read_build_info,
    read_gemeente_table,
    read_side_tables,
    read_tables,
    rebuild_on_error,
    recorded,
    require_table,
    rows_by_gemeente,
    target_of,
)

T = TypeVar("T")


@dataclass
class Processed(Tables):
    """What the build wrote for one gemeente, with its kompas scores."""

    result: KompasResult = field(kw_only=True)
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
        def compute() -> list[str]:
            themes = self.result.themes
            return sorted({str(c) for c in themes.loc[themes["niveau"] == "wijk", "gebiedscode"]})

        wijken = self.derived("wijken", compute)
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
        if not re.fullmatch(r"\d{4}", text, flags=re.ASCII) or int(text) not in years:
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


def _read_score_table(path: Path, kind: str, gemeente: str | None) -> pd.DataFrame:
    """One kompas table as written (``gemeente``: only its rows, filtered while reading
    Parquet); a table of rows without a gemeente column is refused."""
    with rebuild_on_error(path):
        if kind == "parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            filters = gemeente_filter(gemeente, "gemeente") if gemeente is not None \
                and "gemeente" in names else None
            frame = pd.read_parquet(path, filters=filters)
        else:
            frame = pd.read_csv(path, dtype={"gebiedscode": str, "reden": str})
        if "gemeente" not in frame.columns and len(frame):
            raise KeyError("kolom gemeente ontbreekt")
    return frame


def _own_scores(frames: dict[str, pd.DataFrame], gemeente: str) -> dict[str, pd.DataFrame]:
    """The rows of ``gemeente`` of every kompas table, as the pages use them."""
    own = {}
    for name, _ in KOMPAS_TABLES:
        frame = frames[name]
        if "gemeente" in frame.columns:
            frame = frame[frame["gemeente"] == gemeente].drop(columns="gemeente")
        if name == "kompas_scores":
            frame = frame.drop(columns="basisjaar", errors="ignore")  # in bouwinfo.json too
        own[name] = frame.reset_index(drop=True)
    own["kompas_referentie"]["reden"] = own["kompas_referentie"]["reden"].fillna("")
    return own


def _read_scores(paths: ProcessedPaths, gemeente: str) -> dict[str, pd.DataFrame]:
    """The kompas tables the build wrote, only the rows of ``gemeente``."""
    return _own_scores({name: _read_score_table(paths.kompas_table(name, kind), kind, gemeente)
                        for name, kind in KOMPAS_TABLES}, gemeente)


class ReadOnce:
    """A processed folder read once for the pages of many gemeenten: the indicator table
    and every kompas table whole, with per gemeente the positions of its rows, so that each
    gemeente takes its share without reading or scanning the others' again
    (:func:`load_processed` with ``folder``)."""

    def __init__(self, data_dir: Path) -> None:
        self.paths = ProcessedPaths.of(data_dir)
        self.table, self.definitions, self.verdicts = read_tables(data_dir)
        self.facts = TableFacts.of(self.table)
        self._rows = rows_by_gemeente(self.table["gebiedscode"])
        self._scores = {name: _read_score_table(self.paths.kompas_table(name, kind), kind, None)
                        for name, kind in KOMPAS_TABLES}
        self._score_rows = {name: frame.groupby("gemeente", sort=False).indices
                            if "gemeente" in frame.columns else None
                            for name, frame in self._scores.items()}
        #: The layers of grenzen.gpkg, each read whole once (when a gemeente first asks
        #: for it) and shared by the gemeenten.
        self.layers: dict[tuple[str, int, int], SharedLayer] = {}

    def table_of(self, gemeente: str) -> pd.DataFrame:
        """The rows of ``gemeente`` and of Nederland, as read with a filter."""
        rows = self._rows.get(gemeente)
        if rows is None:  # no rows of its own: Nederland's
            rows = self._rows[NEDERLAND]
        return self.table.take(rows).reset_index(drop=True)

    def scores_of(self, gemeente: str) -> dict[str, pd.DataFrame]:
        """The kompas tables of ``gemeente``."""
        frames = {}
        for name, frame in self._scores.items():
            index = self._score_rows[name]
            if index is not None:
                frame = frame.take(index.get(gemeente, np.array([], dtype=np.intp)))
            frames[name] = frame
        return _own_scores(frames, gemeente)


def load_processed(data_dir: Path, kompas_path: Path | None = None,
                   gemeente: str | None = None, folder: ReadOnce | None = None) -> Processed:
    """Load the processed outputs with the kompas scores the build wrote for ``gemeente``
    (default: the first gemeente scored): of the indicator table the rows of the gemeente
    and of Nederland, with the facts of the whole table (:class:`TableFacts`), and its
    rows of the kompas tables. Nothing is scored here. ``folder``: the folder read once
    for many gemeenten, which each takes its share of.

    ``kompas_path``, when given, must be the kompas the build used (same file and content),
    else the step is refused with the advice to build again.
    """
    paths = ProcessedPaths.of(data_dir)
    out = paths.folder
    if folder is None:
        require_table(paths)
        definitions, verdicts = read_side_tables(paths)
    else:
        definitions, verdicts = folder.definitions, folder.verdicts
    info_path = paths.build_info
    info = read_build_info(paths)
    target = target_of(info, paths)
    entry = recorded(info, paths, gemeente)
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
    with rebuild_on_error(info_path):
        # The base year the scores count from, as the build recorded it.
        basisjaar = entry.get("basisjaar")
        if not isinstance(basisjaar, int) or isinstance(basisjaar, bool):
            raise ValueError(f"basisjaar {basisjaar!r} is geen jaar")
    kompas = replace(kompas, basisjaar=basisjaar)
    if folder is None:
        (table, facts), frames = read_gemeente_table(paths, code), _read_scores(paths, code)
    else:
        table, facts, frames = folder.table_of(code), folder.facts, folder.scores_of(code)
    result = KompasResult(kompas, frames["kompas_referentie"],
                          frames["kompas_indicatorscores"], frames["kompas_scores"],
                          frames["kompas_gevoeligheid"])
    return Processed(Path(data_dir), table, definitions, verdicts, target, code, kompas.naam,
                     result=result, facts=facts,
                     shared_layers=None if folder is None else folder.layers)

