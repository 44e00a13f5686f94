"""The build stage: the raw cache into one tidy indicator table in ``data/processed``.

Writes (each atomically):

- ``indicatoren.parquet`` (and ``indicatoren.csv`` when asked, ``csv=True``; nationally
  it is half a gigabyte and takes longer to write than the rest of the build): one row
  per area, year, indeling and indicator (columns in ``indicators.COLUMNS``; see
  docs/data-dictionary.md), from the KWB tables and wijk- en buurtkaart files, the
  Politie's crime counts (with rates per 1,000 inhabitants, indicatoren/veiligheid.py) and the
  Leefbaarometer (indicatoren/leefbaarometer.py);
- ``indicatoren_definities.csv``: name, unit, source and kind of each indicator;
- ``grenzen.gpkg``: the boundaries of every year, layers buurten_/wijken_/gemeente_<jaar>;
- ``indelingen.csv``: per buurt of the target indeling, whether each other year's buurt
  with that code is the same area;
- ``rapport_variabelen.csv``: which CBS key became which variable, and which keys went
  unused;
- ``rapport_herindeling.csv``: per buurt of the target indeling, the carried inhabitants,
  households and dwellings of the last year before the change against the first observed
  year after it (see docs/methode.md).

Problems in local files stop the build before anything is written; they are listed in
``data/rapporten/rapport_lokaal.csv``, outside ``processed`` (which stays as it was).
Every raw file is checked against its checksum in the manifest, beside the reading; nothing
read is used before every checksum matches.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from wijkkompas.catalogue import factor_table, indicators
from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import parent_code
from wijkkompas.indicatoren import leefbaarometer
from wijkkompas.indicatoren.aggregate import complete_levels, expected_parts, publishes_every_parent
from wijkkompas.indicatoren.grenzen import (
    Boundaries,
    dissolve,
    load_boundaries,
    write_boundaries,
)
from wijkkompas.indicatoren.harmonise import (
    RESIDENTIAL,
    carry_over,
    compare_indelingen,
    quality_report,
    read_weight_layer,
)
from wijkkompas.indicatoren.lokaal import LocalConfig, load_local, problems_error, read_definitions
from wijkkompas.indicatoren.rows import (
    COLUMNS,
    INTERNAL,
    IndicatorRows,
    compute_rows,
    plain,
    sort_rows,
    stack,
)
from wijkkompas.indicatoren.sources import (
    BASE_COLUMNS,
    SourceFrame,
    read_cbs_table,
    read_kaart_source,
    read_politie_table,
)
from wijkkompas.indicatoren.veiligheid import crime_rates, missing_rates_line
from wijkkompas.manifest import read_manifest, verify_raw
from wijkkompas.processed import ProcessedPaths
from wijkkompas.storage import (
    csv_bytes,
    now_stamp,
    write_bytes_atomic,
    write_json_atomic,
    write_table,
)

if TYPE_CHECKING:
    import geopandas as gpd

STATUS = ("waargenomen", "berekend", "ontbreekt")
VERDICT_COLUMNS = ["gebiedscode", "indeling", "overlap", "oordeel", "vergeleken_met"]


@dataclass
class BuildResult:
    table: pd.DataFrame
    target_indeling: int | None
    outputs: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        t = self.table
        years = sorted(t["jaar"].unique()) if len(t) else []
        counts = t["status"].value_counts().to_dict()
        out = [f"Indicatortabel: {len(t)} rijen, jaren {', '.join(map(str, years))}; "
               + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUS)]
        if self.target_indeling:
            out.append(f"Buurtwaarden van andere indelingen omgerekend naar de buurtindeling "
                       f"van {self.target_indeling}.")
        if (rates := missing_rates_line(t)) is not None:
            out.append(rates)
        out += [f"geschreven: {p}" for p in self.outputs]
        return out


def read_sources(raw_dir: Path) -> list[SourceFrame]:
    """Every CBS table, Politie table and imported wijk- en buurtkaart file in the manifest.

    Every raw file (boundaries too) is checked against its checksum in the manifest while
    the tables are read, in a thread of its own (hashing lets other threads run), and
    nothing read is returned before all checksums match. A changed file is the error
    named, also when reading it failed too.
    """
    manifest = read_manifest(raw_dir)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="checksums") as pool:
        verified = pool.submit(verify_raw, raw_dir, manifest)
        try:
            sources = _read_sources(raw_dir, manifest)
        except Exception:
            verified.result()  # a changed file explains a failed read: named first
            raise
        verified.result()
    return sources


def _read_sources(raw_dir: Path, manifest: dict[str, Any]) -> list[SourceFrame]:
    sources = []
    for table_id, entry in sorted(manifest["cbs"].items()):
        sources.append(read_cbs_table(raw_dir / "cbs" / table_id, table_id, entry["jaar"]))
    for table_id, entry in sorted(manifest.get("politie", {}).items()):
        sources += read_politie_table(raw_dir / "politie" / entry["table_id"], table_id)
    for entry in manifest["kaart"].values():
        path = raw_dir / "kaart" / str(entry["jaar"]) / entry["bestand"]
        source = read_kaart_source(path, entry["jaar"])
        # A file of boundaries only (codes and names) adds areas, not statistics.
        if set(source.frame.columns) - {*BASE_COLUMNS, "indelingswijziging"}:
            sources.append(source)
    return sources


def known_areas(sources: list[SourceFrame], bounds: dict[int, Boundaries]) -> dict[int, set[str]]:
    """Per year every area code: those of the sources and boundaries, and their parents."""
    codes: dict[int, list[pd.Series]] = {}
    for source in sources:
        codes.setdefault(source.indeling_jaar, []).append(source.frame["gebiedscode"])
    for jaar, item in bounds.items():
        for frame in (item.buurten, item.wijken):
            if frame is not None:
                codes.setdefault(jaar, []).append(frame["gebiedscode"])
    areas = {}
    for jaar, parts in codes.items():
        series = pd.Series(pd.concat(parts, ignore_index=True).astype(str).unique())
        found = [series, parent_code(series[series.str[:2] == "BU"], "wijk"),
                 parent_code(series[series.str[:2] != "GM"], "gemeente")]
        # Sets from object arrays: iterating Arrow-backed text in Python is slow.
        areas[jaar] = set().union(*(part.to_numpy(dtype=object) for part in found))
    return areas


def _names(sources: list[SourceFrame], bounds: dict[int, Boundaries]) -> pd.DataFrame:
    parts = [s.frame[["gebiedscode", "gebiedsnaam"]].assign(jaar=s.indeling_jaar)
             for s in sources]
    for jaar, item in bounds.items():
        for frame in (item.buurten, item.wijken):
            if frame is not None:
                parts.append(pd.DataFrame({"gebiedscode": frame["gebiedscode"], "jaar": jaar,
                                           "gebiedsnaam": frame["gebiedsnaam"]}))
    names = pd.concat(parts, ignore_index=True).dropna(subset=["gebiedsnaam"])
    names = names[names["gebiedsnaam"].astype(str).str.strip() != ""]
    return names.drop_duplicates(["gebiedscode", "jaar"])


def _fill_names(table: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Name each unnamed row after its area in its indeling year, else in any year.

    Works on the distinct (area, indeling) pairs of the unnamed rows, not on every row.
    """
    column = table["gebiedsnaam"]
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    missing = column.isna().to_numpy()
    if not missing.any():
        table["gebiedsnaam"] = column
        return table
    need = table.loc[missing, ["gebiedscode", "indeling"]].astype({"gebiedscode": "str"})
    pairs = need.drop_duplicates()
    exact = names.rename(columns={"jaar": "indeling"}).astype(
        {"gebiedscode": "str", "gebiedsnaam": "str"}).set_index(["gebiedscode", "indeling"])
    found = pairs.join(exact["gebiedsnaam"], on=["gebiedscode", "indeling"])["gebiedsnaam"]
    latest = names.sort_values("jaar").drop_duplicates("gebiedscode", keep="last")
    fallback = pairs["gebiedscode"].map(
        latest.astype({"gebiedscode": "str", "gebiedsnaam": "str"})
        .set_index("gebiedscode")["gebiedsnaam"])
    pairs = pairs.assign(gebiedsnaam=found.fillna(fallback))
    filled = need.merge(pairs, on=["gebiedscode", "indeling"], how="left")["gebiedsnaam"]
    new = sorted(set(filled.dropna()) - set(column.cat.categories))
    categories = pd.Index(sorted([*column.cat.categories, *new]), dtype="str")
    column = column.cat.set_categories(categories)
    codes = column.cat.codes.to_numpy().copy()
    codes[missing] = categories.get_indexer(filled.astype(object).where(filled.notna(), None))
    table["gebiedsnaam"] = pd.Categorical.from_codes(codes, dtype=column.dtype)
    return table


def target_counts(table: pd.DataFrame, target: int) -> pd.DataFrame:
    """Per buurt of the target year its observed inhabitants, households and dwellings."""
    rows = plain(table[(table["niveau"] == "buurt") & (table["jaar"] == target)
                       & (table["indeling"] == target) & (table["status"] == "waargenomen")
                       & table["indicator"].isin(RESIDENTIAL)])
    # Where two sources give the same year, a known value wins over a secret one.
    rows = rows.sort_values("waarde", na_position="last", kind="stable")
    rows = rows.drop_duplicates(["gebiedscode", "indicator"])
    return rows.pivot(index="gebiedscode", columns="indicator", values="waarde").reset_index()


def _carry(table: pd.DataFrame, bounds: dict[int, Boundaries], factors: dict,
           target: int, points: gpd.GeoDataFrame | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Buurt rows of other indelingen carried onto the target year's buurten."""
    counts = target_counts(table, target)
    goal = bounds[target].buurten
    goal_wijken = bounds[target].wijken
    if goal_wijken is None:
        goal_wijken = dissolve(goal, "wijk")
    carried, verdicts = [], []
    for jaar, item in sorted(bounds.items()):
        if jaar == target or item.buurten is None:
            continue
        verdict = compare_indelingen(item.buurten, goal).assign(vergeleken_met=jaar)
        wijken = item.wijken if item.wijken is not None else dissolve(item.buurten, "wijk")
        verdicts += [verdict, compare_indelingen(wijken, goal_wijken).assign(vergeleken_met=jaar)]
        rows = table[(table["indeling"] == jaar) & (table["niveau"] == "buurt")]
        if len(rows) and (verdict["oordeel"] != "gelijk").any():
            carried.append(carry_over(rows, item.buurten, goal, target, factors, counts,
                                      points))
    verdict_frame = (pd.concat(verdicts, ignore_index=True) if verdicts
                     else pd.DataFrame(columns=["gebiedscode", "overlap", "oordeel",
                                                "vergeleken_met"]))
    verdict_frame.insert(1, "indeling", target)
    verdict_frame = verdict_frame[VERDICT_COLUMNS]
    return (pd.concat(carried, ignore_index=True) if carried
            else pd.DataFrame(columns=INTERNAL)), verdict_frame


def _definitions(local: LocalConfig | None) -> pd.DataFrame:
    rows = [{"indicator": i.indicator, "naam": i.naam, "eenheid": i.eenheid,
             "berekening": i.berekening, "teller": i.teller, "noemer": i.noemer,
             "bron": i.bron, "soort": "objectief"}
            for i in indicators().values()]
    if local:
        rows += [{"indicator": d.indicator, "naam": d.naam, "eenheid": d.eenheid,
                  "berekening": d.berekening, "teller": "", "noemer": "", "bron": d.bron,
                  "soort": d.soort} for d in local.definitions.values()]
    return pd.DataFrame(rows)


def _computed(source: SourceFrame) -> IndicatorRows | pd.DataFrame:
    """The source's indicators, in the indeling its codes belong to."""
    return compute_rows(source.frame, source.indeling)


def _joined(frames: list[IndicatorRows | pd.DataFrame], consume: bool = False
            ) -> pd.DataFrame:
    """The frames one under the other, text columns categorical (see ``indicators.stack``)."""
    return stack(frames, consume)


def build_table(raw_dir: Path, local: LocalConfig | None = None,
                target_indeling: int | None = None,
                weights_path: Path | None = None) -> tuple[pd.DataFrame, dict]:
    """Everything the build writes, in memory: the table and the side tables.

    ``weights_path``: an optional layer of residential addresses or inhabited grid cells
    that re-allocation onto the target indeling uses first (see ``read_weight_layer``).
    """
    sources = read_sources(raw_dir)
    lbm_sources = leefbaarometer.read_sources(raw_dir, read_manifest(raw_dir))
    if not sources and not lbm_sources:
        raise WijkkompasError(
            f"Geen gegevens in {raw_dir}: haal eerst CBS-tabellen op (wijkkompas fetch) of "
            "importeer een wijk- en buurtkaart of de Leefbaarometer (wijkkompas import)."
        )
    bounds = load_boundaries(raw_dir)
    points = read_weight_layer(weights_path) if weights_path else None
    local_factors = ({n: (d.berekening, d.factor) for n, d in local.definitions.items()}
                     if local else {})
    factors = factor_table(local_factors)

    long = _joined([_computed(s) for s in sources], consume=True)
    areas = known_areas(sources + lbm_sources, bounds)
    expected = expected_parts(areas)
    problems = []
    # Sources whose every wijk and gemeente is published need no completion (CBS tables);
    # a bron shared with rows of another kind is looked at row by row.
    verdict = [(publishes_every_parent(s.frame["gebiedscode"]), set(s.frame["bron"].unique()))
               for s in sources]
    whole = set().union(*(b for ok, b in verdict if ok)) - set().union(
        *(b for ok, b in verdict if not ok))
    if local:
        local_rows, problems = load_local(local, areas)
        if not problems:
            long = _joined([long, local_rows])
            whole -= set(local_rows["bron_id"].astype(str))
    long = complete_levels(long, factors, expected, complete=whole)

    with_buurten = [j for j, b in bounds.items() if b.buurten is not None]
    target = target_indeling or (max(with_buurten) if with_buurten else None)
    verdicts = pd.DataFrame(columns=VERDICT_COLUMNS)
    if target is not None:
        if target not in with_buurten:
            raise WijkkompasError(f"Geen buurtgrenzen van {target} in {raw_dir}; kies een "
                                  f"indeling uit {sorted(with_buurten)}.")
        carried, verdicts = _carry(long, bounds, factors, target, points)
        # Carried buurten add up to wijken and the gemeente on the target's boundaries.
        long = _joined([long, complete_levels(carried, factors, expected)])

    # Crime per 1,000 inhabitants: counts and inhabitants of the same area and indeling.
    long = _joined([long, crime_rates(long, verdicts)])
    # Leefbaarometer scores, weighted by inhabitants of the same buurt, year and indeling.
    long = _joined([long, leefbaarometer.weighted_rows(lbm_sources, long, verdicts, factors,
                                                       expected)])
    long = _fill_names(long, _names(sources + lbm_sources, bounds))
    long["indelingswijziging"] = pd.to_numeric(long["indelingswijziging"], errors="coerce")
    # Numbers stay numbers whatever the sources were (an empty source frame is untyped).
    long = long.astype({"jaar": "int64", "indeling": "int64", "waarde": "float64",
                        "teller": "float64", "noemer": "float64", "dekking": "float64"})
    long = long[COLUMNS]
    long = sort_rows(long, ["indicator", "jaar", "indeling", "niveau", "gebiedscode", "bron"],
                     consume=True)
    report = pd.DataFrame([row for s in sources if s.resolution for row in s.resolution.report()])
    side = {"bounds": bounds, "verdicts": verdicts, "report": report, "problems": problems,
            "definitions": _definitions(local), "target": target,
            "herindeling": quality_report(long, target)}
    return long, side


@contextmanager
def small_pages() -> Iterator[None]:
    """numpy's new arrays without transparent huge pages for a while, unless the
    environment variable ``NUMPY_MADVISE_HUGEPAGE`` says what the user wants.

    numpy asks Linux for huge pages for every array from 4 MB. Where the kernel compacts
    memory to find them (``transparent_hugepage/defrag`` = madvise, a common default), a
    national build spent about half a second of system time on that, for arrays that live
    less than a second. numpy reads that variable only when it is imported; the switch
    behind it is not public, so where it is absent nothing changes.
    """
    switch = None
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2, 1
            with suppress(ImportError):
                switch = getattr(importlib.import_module(module), "_set_madvise_hugepage", None)
            if switch is not None:
                break
    if switch is None:
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)


def run_build(data_dir: Path, local_path: Path | None = None,
              target_indeling: int | None = None,
              say: Callable[[str], None] = print,
              out_dir: Path | None = None,
              weights_path: Path | None = None,
              csv: bool = False) -> BuildResult:
    """Build and write into ``out_dir`` (default ``data/processed``); nothing is written
    there when the input is rejected. ``weights_path`` is an optional address or grid layer
    for re-allocating onto the target indeling. ``csv``: also write the indicator table as
    ``indicatoren.csv`` (the side tables are always CSV).

    ``build_and_score`` (kompas stage) runs this into a staging folder, for the command line.
    """
    data_dir = Path(data_dir)
    raw_dir = data_dir / "raw"
    out_dir = Path(out_dir) if out_dir is not None else data_dir / "processed"
    local = read_definitions(local_path) if local_path else None
    with small_pages():
        return _build_and_write(raw_dir, out_dir, data_dir, local, target_indeling,
                                weights_path, csv, say)


def _build_and_write(raw_dir: Path, out_dir: Path, data_dir: Path, local: LocalConfig | None,
                     target_indeling: int | None, weights_path: Path | None, csv: bool,
                     say: Callable[[str], None]) -> BuildResult:
    table, side = build_table(raw_dir, local, target_indeling, weights_path)
    if side["problems"]:
        report = data_dir / "rapporten" / "rapport_lokaal.csv"
        frame = pd.DataFrame([vars(p) for p in side["problems"]])
        write_bytes_atomic(report, csv_bytes(frame))
        raise problems_error(side["problems"], report)
    out_dir.mkdir(parents=True, exist_ok=True)

    result = BuildResult(table, side["target"])
    paths = ProcessedPaths(out_dir)
    parquet = paths.table
    csv_path = paths.table_csv if csv else None
    outputs = {
        paths.definitions: side["definitions"],
        paths.indelingen: side["verdicts"],
        paths.variables_report: side["report"],
        paths.herindeling_report: side["herindeling"],
    }
    # The indicator table is written in a thread of its own (Arrow's Parquet writer lets
    # other threads run) while the side tables and the boundaries are written here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="indicatoren") as pool:
        written = pool.submit(write_table, table, parquet, csv_path)
        for path, frame in outputs.items():
            write_bytes_atomic(path, csv_bytes(frame))
        write_boundaries(side["bounds"], paths.boundaries)
        written.result()
    write_json_atomic(paths.build_info, {
        "doelindeling": side["target"], "gebouwd": now_stamp(),
        "jaren": sorted(int(j) for j in table["jaar"].unique()),
        "bronnen": sorted(table["bron"].unique().tolist()),
    })
    result.outputs = [parquet, *([csv_path] if csv_path else []),
                      *outputs, paths.boundaries, paths.build_info]
    for line in result.lines():
        say(line)
    return result
