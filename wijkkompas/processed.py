"""``data/processed``: the one place its paths and file names are spelled, and the light
reading of what the build wrote (indicator table, definitions, indelingen, boundaries,
``bouwinfo.json``) for steps that need no kompas file, such as the vlekkenkaart.

The kompas scores are read back by ``kompas/results.py``, on top of this.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wijkkompas.errors import WijkkompasError, library_detail, library_reason
from wijkkompas.gebied import check_code, in_gemeente

# geopandas and pyogrio are imported where boundaries are read: the build spells its paths
# here and, for CBS tables alone, reads no boundaries (tests/indicatoren/test_speed_*).
if TYPE_CHECKING:
    import geopandas as gpd

#: The kompas tables: name and the form they are read back in (each is also written as CSV).
KOMPAS_TABLES = (("kompas_scores", "parquet"), ("kompas_indicatorscores", "parquet"),
                 ("kompas_referentie", "csv"), ("kompas_gevoeligheid", "csv"))


@dataclass(frozen=True)
class ProcessedPaths:
    """The files of one processed folder: ``data/processed`` or the build's staging folder
    beside it (``ProcessedPaths(folder)``; ``ProcessedPaths.of(data_dir)`` for the first)."""

    folder: Path

    @classmethod
    def of(cls, data_dir: Path | str) -> ProcessedPaths:
        return cls(Path(data_dir) / "processed")

    @property
    def table(self) -> Path:
        return self.folder / "indicatoren.parquet"

    @property
    def table_csv(self) -> Path:
        return self.folder / "indicatoren.csv"

    @property
    def definitions(self) -> Path:
        return self.folder / "indicatoren_definities.csv"

    @property
    def indelingen(self) -> Path:
        return self.folder / "indelingen.csv"

    @property
    def variables_report(self) -> Path:
        return self.folder / "rapport_variabelen.csv"

    @property
    def herindeling_report(self) -> Path:
        return self.folder / "rapport_herindeling.csv"

    @property
    def boundaries(self) -> Path:
        return self.folder / "grenzen.gpkg"

    @property
    def build_info(self) -> Path:
        return self.folder / "bouwinfo.json"

    @property
    def peers(self) -> Path:
        """The vergelijkbare wijken (``kompas/peers.py``); beside it the same as CSV."""
        return self.folder / "vergelijkbare_wijken.parquet"

    @property
    def peer_positions(self) -> Path:
        """Where each wijk stands among its vergelijkbare wijken, per indicator and year."""
        return self.folder / "vergelijkbare_wijken_positie.parquet"

    def kompas_table(self, name: str, kind: str) -> Path:
        """``kompas_scores.parquet`` and the like: one of :data:`KOMPAS_TABLES`."""
        return self.folder / f"{name}.{kind}"

    @property
    def export(self) -> Path:
        """Where ``wijkkompas export`` writes by default."""
        return self.folder / "export"

    @property
    def vlekkenkaart(self) -> Path:
        """Where ``wijkkompas vlekkenkaart`` writes by default."""
        return self.folder / "vlekkenkaart"


def _unreadable() -> tuple[type[BaseException], ...]:
    """What the readers raise on a damaged file (pyogrio's errors once it is loaded)."""
    errors: list[type[BaseException]] = [OSError, ValueError, KeyError, TypeError,
                                         pa.ArrowException, pd.errors.ParserError,
                                         pd.errors.EmptyDataError]
    if "pyogrio" in sys.modules:
        import pyogrio.errors

        errors += [pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError]
    return tuple(errors)


@contextmanager
def rebuild_on_error(path: Path) -> Iterator[None]:
    """A missing or damaged file in processed/ becomes one line: build again."""
    try:
        yield
    except FileNotFoundError:
        raise WijkkompasError(f"{path} ontbreekt. Bouw opnieuw met 'wijkkompas build'.") \
            from None
    except _unreadable() as exc:
        raise WijkkompasError(f"{path} is beschadigd of onleesbaar ({library_reason(exc)}). "
                              "Bouw opnieuw met 'wijkkompas build'.", library_detail(exc)) \
            from None


def read_build_info(paths: ProcessedPaths) -> dict[str, Any]:
    """``bouwinfo.json`` as a dict; one line to build again when it is missing or damaged."""
    with rebuild_on_error(paths.build_info):
        info = json.loads(paths.build_info.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("geen object")
    return info


def recorded(info: dict, paths: ProcessedPaths, gemeente: str | None) -> dict:
    """The bouwinfo record of the kompas that scored ``gemeente`` (default: the first)."""
    out = paths.folder
    records = info.get("kompas") if isinstance(info, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise WijkkompasError(f"{paths.build_info} noemt geen kompas (gebouwd met een "
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


def scored_gemeenten(data_dir: Path) -> list[str]:
    """The gemeenten the build scored, in order (from ``bouwinfo.json``)."""
    paths = ProcessedPaths.of(data_dir)
    info = read_build_info(paths)
    records = info.get("kompas")
    if not isinstance(records, list):
        recorded(info, paths, None)  # refuses: built by an older version
    return [str(r.get("gemeente")) for r in records or [] if isinstance(r, dict)]


@dataclass(frozen=True)
class TableFacts:
    """What the pages say about the whole indicator table, not only one gemeente's rows:
    every (indicator, year) with a value for any area, and every source named."""

    measured: frozenset[tuple[str, int]]
    sources: tuple[str, ...]

    @classmethod
    def of(cls, table: pd.DataFrame | pa.Table) -> TableFacts:
        """The facts of ``table`` (a DataFrame or an Arrow table with at least the columns
        indicator, jaar, waarde and bron), counted on the codes of the distinct texts
        instead of on the texts of every row."""
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table[["indicator", "jaar", "waarde", "bron"]],
                                         preserve_index=False)
        counted = FactsCounter()
        counted.add(table)
        return counted.facts()


class FactsCounter:
    """:class:`TableFacts` counted part by part (the batches of a table read in pieces)."""

    def __init__(self) -> None:
        self.measured: set[tuple[str, int]] = set()
        self.sources: set[str] = set()

    def add(self, part: pa.Table | pa.RecordBatch) -> None:
        if part.num_rows == 0:
            return
        names, indicator = _codes(part.column("indicator"))
        jaar = part.column("jaar").to_numpy()
        valued = pc.is_valid(part.column("waarde")).to_numpy(zero_copy_only=False) \
            & (indicator >= 0)
        if valued.any():
            first = int(jaar[valued].min())
            span = int(jaar[valued].max()) - first + 1
            counts = np.bincount(indicator[valued] * span + (jaar[valued] - first),
                                 minlength=len(names) * span)
            self.measured.update((str(names[at // span]), first + at % span)
                                 for at in np.flatnonzero(counts))
        sources, bron = _codes(part.column("bron"))
        used = np.flatnonzero(np.bincount(bron[bron >= 0], minlength=len(sources)))
        self.sources.update(str(sources[at]) for at in used)

    def facts(self) -> TableFacts:
        return TableFacts(frozenset(self.measured), tuple(sorted(self.sources)))


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[list[Any], np.ndarray]:
    """The distinct values of a text column and per row the position of its value in them
    (-1 where there is none)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    positions = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), positions.astype(np.int64)


@dataclass
class Tables:
    """What the build wrote for one gemeente, without its kompas: the indicator table
    (the gemeente's own rows and Nederland's when read for one gemeente; see
    :func:`gemeente_rows`), the definitions and indelingen, and its boundaries (read when
    asked)."""

    data_dir: Path
    table: pd.DataFrame
    definitions: pd.DataFrame
    verdicts: pd.DataFrame
    target: int | None
    gemeente: str
    naam: str
    #: The facts of the whole indicator table, where ``table`` holds only a part of it
    #: (None: ``table`` is all of it).
    facts: TableFacts | None = field(default=None, kw_only=True)
    #: Layers of grenzen.gpkg read so far, for the file as it was then (size, mtime).
    _layers: dict[tuple[str, int, int], gpd.GeoDataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    #: Whole layers of grenzen.gpkg shared by the gemeenten of a folder read once (None:
    #: this gemeente reads its own).
    shared_layers: dict[tuple[str, int, int], SharedLayer] | None = field(
        default=None, kw_only=True, repr=False, compare=False)

    @property
    def paths(self) -> ProcessedPaths:
        return ProcessedPaths.of(self.data_dir)

    @property
    def years(self) -> list[int]:
        """The years with figures."""
        return sorted(int(j) for j in self.table["jaar"].unique())

    def boundaries(self, niveau: str, jaar: int | None = None) -> gpd.GeoDataFrame:
        """Boundaries of ``niveau`` ("buurt", "wijk", "gemeente") in ``jaar`` (default: the
        target indeling, on which the scores of every year are comparable)."""
        jaar = jaar or self.target or max(self.years)
        layer = {"buurt": "buurten", "wijk": "wijken", "gemeente": "gemeente"}[niveau]
        path = self.paths.boundaries
        frame = self._read_layer(path, f"{layer}_{jaar}")
        if frame is None:
            raise WijkkompasError(f"Geen {layer} van {jaar} in {path}. Importeer of haal de "
                                  "grenzen van dat jaar op en bouw opnieuw.")
        return frame.copy()

    def _read_layer(self, path: Path, name: str) -> gpd.GeoDataFrame | None:
        """The gemeente's part of one layer, read once per version of the file (from
        ``shared_layers`` where several gemeenten share one reading of the file)."""
        if not path.is_file():
            return None
        stat = path.stat()
        key = (name, stat.st_size, stat.st_mtime_ns)
        if key not in self._layers:
            for stale in [k for k in self._layers if k[0] == name]:
                del self._layers[stale]  # an earlier version of the file
            if self.shared_layers is not None:
                whole = self.shared_layers.get(key)
                if whole is None:
                    for stale in [k for k in self.shared_layers if k[0] == name]:
                        del self.shared_layers[stale]
                    whole = self.shared_layers[key] = SharedLayer.read(path, name)
                if whole.frame is None:
                    return None
                self._layers[key] = whole.part(self.gemeente)
            else:
                frame = read_layer(path, name)
                if frame is None:
                    return None
                own = in_gemeente(frame["gebiedscode"], self.gemeente)
                self._layers[key] = frame[own].reset_index(drop=True)
        return self._layers[key]


def read_layer(path: Path, name: str) -> gpd.GeoDataFrame | None:
    """One whole layer of a boundaries file; None where the file has no such layer."""
    import geopandas as gpd
    import pyogrio

    with rebuild_on_error(path):
        if name not in {n for n, _ in pyogrio.list_layers(path)}:
            return None
        return gpd.read_file(path, layer=name)


@dataclass(frozen=True)
class SharedLayer:
    """One whole layer of a boundaries file, read once for the pages of many gemeenten,
    with per gemeente (its four digits) the positions of its areas: each gemeente takes
    its part without scanning the others'."""

    frame: gpd.GeoDataFrame | None
    positions: dict[str, np.ndarray]

    @classmethod
    def read(cls, path: Path, name: str) -> SharedLayer:
        frame = read_layer(path, name)
        if frame is None:
            return cls(None, {})
        digits = frame["gebiedscode"].str[2:6]
        return cls(frame, {str(d): rows for d, rows in digits.groupby(
            digits, sort=False).indices.items()})

    def part(self, gemeente: str) -> gpd.GeoDataFrame:
        """The areas of ``gemeente`` (as :func:`~wijkkompas.gebied.in_gemeente` finds them),
        in the order of the layer."""
        assert self.frame is not None
        rows = self.positions.get(gemeente[2:6], np.array([], dtype=np.intp))
        return self.frame.take(rows).reset_index(drop=True)


def target_of(info: dict[str, Any], paths: ProcessedPaths) -> int | None:
    """The target indeling the build recorded (a year, or None)."""
    with rebuild_on_error(paths.build_info):
        target = info.get("doelindeling")
        if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
            raise ValueError(f"doelindeling {target!r} is geen jaar")
    return target


#: Nederland's code in the indicator table: its rows are the reference on every page.
NEDERLAND = "NL00"


def gemeente_filter(gemeente: str, column: str = "gebiedscode") -> pc.Expression:
    """The rows of ``gemeente`` (its own code, its wijken and buurten) and of Nederland,
    as a filter on reading Parquet: what one gemeente's pages read of the indicator table
    (the same rows as :func:`~wijkkompas.gebied.in_gemeente` or NL00)."""
    digits = gemeente[2:6]
    code = pc.field(column)
    return ((code == NEDERLAND) | (code == f"GM{digits}")
            | pc.starts_with(code, f"WK{digits}") | pc.starts_with(code, f"BU{digits}"))


def rows_by_gemeente(codes: pd.Series) -> dict[str, np.ndarray]:
    """Per gemeente code ("GM0141") the positions of its rows in ``codes`` (its own code,
    its wijken and buurten) and of Nederland's, in their order (under NL00 Nederland's
    alone): each gemeente's share of a
    table read once, found with one pass over the distinct codes instead of one over every
    row per gemeente."""
    positions, distinct = pd.factorize(codes, use_na_sentinel=True)
    digits = pd.Series(distinct, dtype=object).map(
        lambda c: c[2:6] if isinstance(c, str) and c[:2] in ("GM", "WK", "BU") else None)
    kinds, names = pd.factorize(digits, use_na_sentinel=True)
    # Per row the number of its gemeente (-1: none, such as NL00).
    owner = np.where(positions >= 0, kinds[np.maximum(positions, 0)], -1)
    nederland = [at for at, c in enumerate(distinct) if c == NEDERLAND]
    extra = np.flatnonzero(np.isin(positions, nederland))
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(names) + 1))
    found = {f"GM{name}": np.sort(np.concatenate([order[bounds[at]:bounds[at + 1]], extra]))
             for at, name in enumerate(names)}
    found[NEDERLAND] = extra  # what a gemeente without rows of its own gets
    return found


def require_table(paths: ProcessedPaths) -> None:
    """One line to build first when there is no indicator table."""
    if not paths.table.is_file():
        raise WijkkompasError(f"{paths.table} bestaat niet: draai eerst 'wijkkompas build'.")


def read_indicator_table(paths: ProcessedPaths) -> pd.DataFrame:
    """The indicator table the build wrote."""
    require_table(paths)
    with rebuild_on_error(paths.table):
        return pd.read_parquet(paths.table)


#: Rows of the indicator table read at a time by :func:`read_gemeente_table`: the whole
#: national table at once would be some 800 MiB in memory, for a gemeente's 18,000 rows.
READ_BATCH_ROWS = 262_144


def read_gemeente_table(paths: ProcessedPaths, gemeente: str) -> tuple[pd.DataFrame,
                                                                     TableFacts]:
    """The rows of ``gemeente`` and of Nederland of the indicator table the build wrote
    (as :func:`read_indicator_table` gives them), with the facts of the whole table. The
    table is read in batches of :data:`READ_BATCH_ROWS` rows, its texts as codes of their
    distinct values: each batch's facts are counted and its rows of the gemeente kept, so
    that memory holds one batch, and finding the rows compares the distinct codes of a
    batch instead of the code of every row."""
    import pyarrow.parquet as pq

    require_table(paths)
    with rebuild_on_error(paths.table):
        schema = pq.read_schema(paths.table)
        texts = [f.name for f in schema if pa.types.is_string(f.type)
                 or pa.types.is_large_string(f.type)]
        counted, kept = FactsCounter(), []
        with pq.ParquetFile(paths.table, read_dictionary=texts) as source:
            for batch in source.iter_batches(batch_size=READ_BATCH_ROWS):
                counted.add(batch)
                rows = _rows_of_gemeente(batch.column("gebiedscode"), gemeente)
                if len(rows):
                    kept.append(pa.Table.from_batches([batch.take(rows)]))
        part = (pa.concat_tables(kept, promote_options="permissive").cast(schema) if kept
                else schema.empty_table())
        strings = pd.Series([""]).dtype  # the dtype pandas reads a text column as
        mapper = {pa.string(): strings, pa.large_string(): strings}.get \
            if isinstance(strings, pd.StringDtype) else None
        return part.to_pandas(types_mapper=mapper), counted.facts()


def _rows_of_gemeente(codes: pa.Array, gemeente: str) -> np.ndarray:
    """The positions in ``codes`` (area codes, dictionary encoded) of the rows of NL00 and of
    ``gemeente`` (its own code, its wijken and buurten: the rows :func:`gemeente_filter`
    keeps), decided once per distinct code."""
    if not pa.types.is_dictionary(codes.type):
        codes = pc.dictionary_encode(codes)
    names, digits = codes.dictionary, gemeente[2:6]
    own = pc.or_kleene(pc.is_in(names, value_set=pa.array([NEDERLAND, f"GM{digits}"])),
                       pc.or_kleene(pc.starts_with(names, f"WK{digits}"),
                                    pc.starts_with(names, f"BU{digits}")))
    keep = np.append(pc.fill_null(own, False).to_numpy(zero_copy_only=False), False)
    positions = pc.fill_null(codes.indices, -1).to_numpy(zero_copy_only=False)
    return np.flatnonzero(keep[positions])


def read_tables(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The indicator table, the definitions and the indelingen the build wrote."""
    paths = ProcessedPaths.of(data_dir)
    table = read_indicator_table(paths)
    definitions, verdicts = read_side_tables(paths)
    return table, definitions, verdicts


def read_side_tables(paths: ProcessedPaths) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The definitions and the indelingen the build wrote."""
    with rebuild_on_error(paths.definitions):
        definitions = pd.read_csv(paths.definitions)
    with rebuild_on_error(paths.indelingen):
        verdicts = pd.read_csv(paths.indelingen)
    return definitions, verdicts


def load_tables(data_dir: Path, gemeente: str | None = None) -> Tables:
    """The light load: what the build wrote for ``gemeente`` (default: the first it scored),
    without reading or checking any kompas file."""
    paths = ProcessedPaths.of(data_dir)
    table, definitions, verdicts = read_tables(data_dir)
    info = read_build_info(paths)
    target = target_of(info, paths)
    entry = recorded(info, paths, gemeente)
    code = str(entry.get("gemeente"))
    check_code(code, "gemeente", where=str(paths.build_info))
    return Tables(Path(data_dir), table, definitions, verdicts, target, code,
                  str(entry.get("naam") or code))
