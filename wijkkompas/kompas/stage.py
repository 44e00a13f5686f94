"""The scoring stage: the indicator table in ``data/processed`` scored with a kompas
definition, and the scores written beside it.

Writes (each atomically) ``kompas_scores`` and ``kompas_indicatorscores`` (Parquet, and CSV
when asked: ``csv=True``, ``--csv``),
``kompas_referentie.csv`` (the fixed frame) and ``kompas_gevoeligheid.csv`` (rank ranges
under other weights), each with the rows of every scored gemeente and a column ``gemeente``,
and records in ``bouwinfo.json`` (key ``kompas``) which kompas scored which gemeente. Later
steps read these tables and never score again (``kompas/results.py``). See
docs/methode.md.

``build_and_score`` is the whole build step of the command line and notebook 01: the build
stage and the scoring into a staging folder, which replaces ``data/processed`` only when
every output is written (see docs/architecture.md, "Locking and staging").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wijkkompas.catalogue import indicators
from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.indicatoren.stage import BuildResult, run_build
from wijkkompas.kompas.definition import (
    ALMELO,
    Kompas,
    check_indicators,
    for_gemeente,
    load_kompas,
    record,
)
from wijkkompas.kompas.peers import gemeenten_peers, write_peers
from wijkkompas.kompas.scores import (
    GROUP_SIZE,
    GemeentenResult,
    KompasResult,
    Kompassen,
    score_in_groups,
)
from wijkkompas.processed import KOMPAS_TABLES, ProcessedPaths
from wijkkompas.settings import LOCK_TIMEOUT
from wijkkompas.storage import (
    TableMismatch,
    TableStream,
    atomic_paths,
    csv_bytes,
    data_lock,
    replace_folder,
    write_bytes_atomic,
    write_json_atomic,
    write_table,
)


def write_scores(result: GemeentenResult, out_dir: Path, csv: bool = False) -> list[Path]:
    """The kompas scores: themes, indicator scores (the chain), frame and sensitivity, with
    the rows of every scored gemeente. The two large tables are Parquet, and with ``csv``
    also CSV (nationally some 700 and 450 MB); frame and sensitivity are always CSV."""
    paths = ProcessedPaths(out_dir)
    frames = {"kompas_scores": _with_basisjaar(result), "kompas_indicatorscores": result.indicators,
              "kompas_referentie": result.frame, "kompas_gevoeligheid": result.sensitivity}
    written = []
    for name, kind in KOMPAS_TABLES:
        if kind == "parquet":
            parquet = paths.kompas_table(name, "parquet")
            as_csv = paths.kompas_table(name, "csv") if csv else None
            write_table(frames[name], parquet, as_csv)
            written += [parquet, *([as_csv] if as_csv else [])]
        else:
            path = paths.kompas_table(name, "csv")
            write_bytes_atomic(path, csv_bytes(frames[name]))
            written.append(path)
    return written


def _with_basisjaar(result: GemeentenResult) -> pd.DataFrame:
    """The theme scores with, before the column ``gemeente``, the frame year the scores
    count from ("100 = the gemeente in <basisjaar>"); it is dropped again when read back."""
    themes = result.themes.copy()
    themes.insert(len(themes.columns) - 1, "basisjaar", themes["gemeente"].map(
        {g: k.basisjaar for g, k in result.kompassen.items()}).astype("int64"))
    return themes


@dataclass
class WrittenScores:
    """What :func:`score_and_write` keeps of the scores it wrote: the kompassen as they
    scored (with the base year the scores count from), in the order of scoring, the
    number of theme scores of wijken per gemeente, the reference frame of every gemeente
    (small: a row per gemeente and indicator), the result of the first gemeente, the files
    written and the number of groups the tables were written in."""

    kompassen: Kompassen
    wijk_scores: dict[str, int]
    frame: pd.DataFrame
    first: KompasResult | None
    paths: list[Path]
    groups: int


def score_and_write(table: pd.DataFrame, kompassen: Sequence[Kompas],
                    verdicts: pd.DataFrame | None, target: int | None, out_dir: Path,
                    csv: bool = False, group_size: int = GROUP_SIZE) -> WrittenScores:
    """Score ``kompassen`` (``scores.score_in_groups``) and write the tables of
    :func:`write_scores`, group by group: the two large tables go to their files as each
    group is scored, so that memory holds one group's scores, not the country's. The
    files are the same as :func:`write_scores` of the one pass over all gemeenten; in the
    rare case that a group's columns differ in type from the first group's (a column
    that is whole numbers in one group and has a missing value in another), everything is
    scored again in one pass so that the types are those of the one pass."""
    try:
        return _score_and_write(table, kompassen, verdicts, target, out_dir, csv, group_size)
    except TableMismatch:
        return _score_and_write(table, kompassen, verdicts, target, out_dir, csv,
                                max(len(kompassen), 1))


def _score_and_write(table: pd.DataFrame, kompassen: Sequence[Kompas],
                     verdicts: pd.DataFrame | None, target: int | None, out_dir: Path,
                     csv: bool, group_size: int) -> WrittenScores:
    paths = ProcessedPaths(out_dir)
    large = [name for name, kind in KOMPAS_TABLES if kind == "parquet"]
    targets = {name: (paths.kompas_table(name, "parquet"),
                      paths.kompas_table(name, "csv") if csv else None) for name in large}
    flat = [path for pair in targets.values() for path in pair if path is not None]
    scored: Kompassen = {}
    wijk_scores: dict[str, int] = {}
    first: KompasResult | None = None
    frames: list[pd.DataFrame] = []
    sensitivities: list[pd.DataFrame] = []
    empty: dict[str, pd.DataFrame] = {}
    groups = 0
    with atomic_paths(flat) as staged, ExitStack() as stack:
        temporary = dict(zip(flat, staged, strict=True))
        streams = {}
        for name, (parquet, as_csv) in targets.items():
            stream = TableStream(temporary[parquet],
                                 temporary[as_csv] if as_csv is not None else None)
            stack.callback(stream.close)
            streams[name] = stream
        for group in score_in_groups(table, kompassen, verdicts, target, group_size):
            groups += 1
            scored.update(group.kompassen)
            themes = group.themes
            counts = themes.loc[(themes["niveau"] == "wijk") & themes["score"].notna(),
                                "gemeente"].value_counts()
            wijk_scores.update({str(g): int(n) for g, n in counts.items() if n})
            if first is None and group.kompassen:
                first = group.of(next(iter(group.kompassen)))
            tables = {"kompas_scores": _with_basisjaar(group),
                      "kompas_indicatorscores": group.indicators}
            for name, rows in tables.items():
                streams[name].write(rows)
                if not len(rows):
                    empty.setdefault(name, rows)
            frames.append(group.frame)
            sensitivities.append(group.sensitivity)
            del group, themes, tables
        stack.close()
        for name, stream in streams.items():
            if stream.empty:
                if groups > 1:
                    # No rows in any group: the table's types are those of the one pass.
                    raise TableMismatch(out_dir)
                parquet, as_csv = targets[name]
                write_table(empty[name], temporary[parquet],
                            temporary[as_csv] if as_csv is not None else None)
    written = [path for pair in targets.values() for path in pair if path is not None]
    small = {"kompas_referentie": _together(frames),
             "kompas_gevoeligheid": _together(sensitivities)}
    for name, frame in small.items():
        path = paths.kompas_table(name, "csv")
        write_bytes_atomic(path, csv_bytes(frame))
        written.append(path)
    return WrittenScores(scored, wijk_scores, small["kompas_referentie"], first, written,
                         groups)


def _together(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables of the groups as one: a group without rows adds none (nor its types)."""
    full = [part for part in parts if len(part)]
    if not full:
        return parts[0]
    return pd.concat(full, ignore_index=True) if len(full) > 1 else full[0]


def gemeente_names(table: pd.DataFrame, gemeenten: Sequence[str]) -> dict[str, str]:
    """Each gemeente's own name in the indicator table (its latest); a gemeente without a
    name is left out. One pass over the table for all of them."""
    rows = table.loc[table["gebiedscode"].isin(gemeenten), ["gebiedscode", "jaar",
                                                            "gebiedsnaam"]].dropna()
    rows = rows[rows["gebiedsnaam"].astype(str).str.strip() != ""]
    latest = rows.sort_values("jaar", kind="stable").drop_duplicates("gebiedscode", keep="last")
    return {str(c): str(n) for c, n in zip(latest["gebiedscode"], latest["gebiedsnaam"],
                                           strict=True)}


def _no_figures(table: pd.DataFrame, code: str, data_dir: Path) -> str:
    """Why a gemeente cannot be scored: raw/ holds none of its figures."""
    codes = table["gebiedscode"].astype(str)
    present = sorted(set(codes[codes.str.fullmatch(r"GM\d{4}", flags=re.ASCII)]) - {code})
    others = f" (wel van {capped(present, 3, ', ')})" if present else ""
    return (f"Geen cijfers van gemeente {code} in {data_dir / 'raw'}{others}; er is niets "
            f"gebouwd. Haal ze eerst op ('wijkkompas fetch --gemeente {code}') of importeer ze "
            "('wijkkompas import BESTAND --jaar JJJJ').")


def run_kompas(data_dir: Path, kompas_path: Path | None = None,
               say: Callable[[str], None] = print,
               out_dir: Path | None = None,
               gemeenten: Sequence[str] = (ALMELO,),
               keep: Mapping[str, str | None] | None = None,
               csv: bool = False, table: pd.DataFrame | None = None) -> KompasResult | None:
    """Score what the build wrote in ``out_dir`` (default ``data_dir/processed``), each of
    ``gemeenten`` on its own frame, and write the scores there: one table per kind with the
    rows of every gemeente and a column ``gemeente``. ``bouwinfo.json`` gets, under
    ``kompas``, per gemeente the kompas that produced its scores (path, sha256).

    Without ``kompas_path`` each gemeente gets its default (Almelo's for GM0141, else the
    basis-set). ``keep``: gemeenten scored before in this data folder, with the kompas that
    scored them; they are scored again with it (a build of one gemeente keeps the others'
    results), or said to be dropped when the table has no figures of them any more.
    The gemeenten are scored in groups of ``scores.GROUP_SIZE``, each group's rows written
    as it is scored (:func:`score_and_write`). ``csv``: the two
    large score tables also as CSV. ``table``: the indicator table the build just wrote
    to ``out_dir``, as it holds it in memory (text as categoricals), so that it is not
    read back. Returns the result of the first gemeente with scores (None when none has
    scores). A gemeente of ``gemeenten`` without any figures in the table is refused: one
    line saying to fetch or import them first.
    """
    out_dir = Path(out_dir) if out_dir is not None else ProcessedPaths.of(data_dir).folder
    paths = ProcessedPaths(out_dir)
    table_path = paths.table
    if not table_path.is_file():
        raise WijkkompasError(f"{table_path} bestaat niet: draai eerst 'wijkkompas build'.")
    kompassen = [(code, load_kompas(kompas_path, code)) for code in gemeenten]
    if table is None:
        table = pd.read_parquet(table_path)
    # The areas with figures, once: every gemeente is looked up here, not in the table.
    present = set(table["gebiedscode"].unique())
    kept = set()
    for code, path in (keep or {}).items():
        if code in gemeenten:
            continue
        if code not in present:
            say(f"De kompasscores van {code} vervallen: er staan geen cijfers van {code} meer "
                f"in {data_dir / 'raw'}.")
            continue
        try:
            kompassen.append((code, load_kompas(Path(path) if path else None, code)))
            kept.add(code)
        except WijkkompasError as exc:
            say(f"De kompasscores van {code} vervallen: {exc}")
    verdicts = pd.read_csv(paths.indelingen)
    info_path = paths.build_info
    info = json.loads(info_path.read_text(encoding="utf-8"))
    known = set(indicators()) | {str(i) for i in table["indicator"].unique()}
    for _code, definition in kompassen:
        check_indicators(definition, known)
    names = gemeente_names(table, [code for code, _ in kompassen])
    scoring = []
    for code, definition in kompassen:
        if code not in present:
            # Asked for by name (--gemeente): a build without its figures is no success.
            raise WijkkompasError(_no_figures(table, code, data_dir))
        kompas = for_gemeente(definition, code, names.get(code))
        scoring.append(kompas)
    if not scoring:
        info["kompas"] = []
        write_json_atomic(info_path, info)
        return None
    # Scored group by group and written as each group is scored; what follows needs only
    # the kompassen as they scored and a count per gemeente.
    result = score_and_write(table, scoring, verdicts, info.get("doelindeling"), out_dir,
                             csv)
    wijk_scores = result.wijk_scores
    records = []
    for kompas in scoring:
        code = str(kompas.gemeente)
        scored = result.kompassen[code]
        if code in kept:
            say(f"De kompasscores van {kompas.naam} ({code}) blijven: opnieuw berekend met "
                f"kompasdefinitie {kompas.path}.")
        records.append(record(scored))
        say(f"Wijkkompas {kompas.naam} ({code}): {int(wijk_scores.get(code, 0))} themascores "
            f"van wijken (basisjaar {scored.basisjaar}; kompasdefinitie {kompas.path}).")
        if scored.basisjaar != kompas.basisjaar:
            say(f"Let op: {kompas.naam} ({code}) heeft geen cijfers in het basisjaar "
                f"{kompas.basisjaar} van het kompas; de scores tellen vanaf "
                f"{scored.basisjaar}, het eerste jaar met cijfers (100 = {kompas.naam} "
                f"in {scored.basisjaar}). Haal de cijfers van {kompas.basisjaar} op of "
                "importeer ze, of kies een basisjaar in een eigen kompasbestand.")
    info["kompas"] = records
    write_json_atomic(info_path, info)
    for path in result.paths:
        say(f"geschreven: {path}")
    for path in _write_peers(table, result, out_dir, say):
        say(f"geschreven: {path}")
    return result.first


def _write_peers(table: pd.DataFrame, result: WrittenScores, out_dir: Path,
                 say: Callable[[str], None]) -> list[Path]:
    """The vergelijkbare wijken of every scored gemeente and their positions per scored
    indicator (kompas/peers.py), one table of each for all gemeenten, found in one pass."""
    found = gemeenten_peers(table, result.kompassen)
    for summary in found.summaries:
        code = summary.gemeente
        if summary.with_peers:
            say(f"Vergelijkbare wijken ({code}, kenmerken van {summary.jaar}): "
                f"{summary.with_peers} van {summary.wijken} wijken, uit "
                f"{summary.peer_gemeenten} andere gemeenten.")
        else:
            reason = summary.reason if summary.reason is not None else "geen wijken"
            say(f"Geen vergelijkbare wijken voor {code}: {reason}.")
    return write_peers(found.peers, found.positions, out_dir)


def _scored_before(folder: Path) -> dict[str, str | None]:
    """The gemeenten a build scored in ``folder`` before, with the kompas it used."""
    try:
        info = json.loads(ProcessedPaths(folder).build_info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    records = info.get("kompas") if isinstance(info, dict) else None
    found: dict[str, str | None] = {}
    for entry in records if isinstance(records, list) else []:
        code = entry.get("gemeente") if isinstance(entry, dict) else None
        if isinstance(code, str) and re.fullmatch(r"GM\d{4}", code, flags=re.ASCII):
            path = entry.get("pad")
            found[code] = path if isinstance(path, str) and path else None
    return found


def build_and_score(data_dir: Path, local_path: Path | None = None,
                    target_indeling: int | None = None, kompas_path: Path | None = None,
                    say: Callable[[str], None] = print,
                    timeout: float = LOCK_TIMEOUT, weights_path: Path | None = None,
                    gemeenten: Sequence[str] = (ALMELO,), csv: bool = False,
                    ) -> tuple[BuildResult, KompasResult | None]:
    """Build and score into a staging folder beside ``data_dir/processed`` and swap it in
    when everything is written; on any error or interruption ``processed`` stays as it was.

    Holds the lock of ``data_dir`` (waiting up to ``timeout`` seconds for another run). What
    the stages report is said after the swap, with the final paths.
    """
    data_dir = Path(data_dir)
    final = data_dir / "processed"
    lines: list[str] = []
    with data_lock(data_dir, timeout), replace_folder(final) as staging:
        keep = _scored_before(final)
        try:
            built = run_build(data_dir, local_path, target_indeling, say=lines.append,
                              out_dir=staging, weights_path=weights_path, csv=csv)
            scored = run_kompas(data_dir, kompas_path, say=lines.append, out_dir=staging,
                                gemeenten=gemeenten, keep=keep, csv=csv, table=built.table)
        except OSError as exc:  # a full disk: named by the file's final path
            if not (isinstance(exc.filename, str) and exc.filename.startswith(str(staging))):
                raise
            named = str(final) + exc.filename[len(str(staging)):]
            raise OSError(exc.errno, exc.strerror, named) from exc
    for line in lines:
        say(line.replace(str(staging), str(final)))
    built.outputs = [final / p.relative_to(staging) for p in built.outputs]
    return built, scored
