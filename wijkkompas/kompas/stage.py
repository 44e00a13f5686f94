"""The scoring stage: the indicator table in ``data/processed`` scored with a kompas
definition, and the scores written beside it.

Writes (each atomically) ``kompas_scores`` and ``kompas_indicatorscores`` (Parquet and CSV),
``kompas_referentie.csv`` (the fixed frame) and ``kompas_gevoeligheid.csv`` (rank ranges
under other weights). See docs/methode.md.

``build_and_score`` is the whole build step of the command line and notebook 01: the build
stage and the scoring into a staging folder, which replaces ``data/processed`` only when
every output is written (see docs/architecture.md, "Locking and staging").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from wijkkompas.build.stage import BuildResult, run_build
from wijkkompas.errors import WijkkompasError
from wijkkompas.kompas.definition import load_kompas
from wijkkompas.kompas.scores import KompasResult, score
from wijkkompas.storage import (
    DEFAULT_WAIT,
    csv_bytes,
    data_lock,
    replace_folder,
    write_bytes_atomic,
    write_table,
)


def write_scores(result: KompasResult, out_dir: Path) -> list[Path]:
    """The kompas scores: themes, indicator scores (the chain), frame and sensitivity."""
    written = []
    for name, frame in (("kompas_scores", result.themes),
                        ("kompas_indicatorscores", result.indicators)):
        parquet, csv = out_dir / f"{name}.parquet", out_dir / f"{name}.csv"
        write_table(frame, parquet, csv)
        written += [parquet, csv]
    for name, frame in (("kompas_referentie", result.frame),
                        ("kompas_gevoeligheid", result.sensitivity)):
        write_bytes_atomic(out_dir / f"{name}.csv", csv_bytes(frame))
        written.append(out_dir / f"{name}.csv")
    return written


def run_kompas(data_dir: Path, kompas_path: Path | None = None,
               say: Callable[[str], None] = print,
               out_dir: Path | None = None) -> KompasResult | None:
    """Score what the build wrote in ``out_dir`` (default ``data_dir/processed``) and write
    the scores there.

    Returns None (and says why) when the table has no figures for the kompas's gemeente.
    """
    out_dir = Path(out_dir) if out_dir is not None else Path(data_dir) / "processed"
    table_path = out_dir / "indicatoren.parquet"
    if not table_path.is_file():
        raise WijkkompasError(f"{table_path} bestaat niet: draai eerst 'wijkkompas build'.")
    kompas = load_kompas(kompas_path)
    table = pd.read_parquet(table_path)
    verdicts = pd.read_csv(out_dir / "indelingen.csv")
    info = json.loads((out_dir / "bouwinfo.json").read_text(encoding="utf-8"))
    if not (table["gebiedscode"] == kompas.gemeente).any():
        say(f"Geen cijfers voor {kompas.gemeente} ({kompas.naam}): geen kompasscores "
            f"(kompasdefinitie {kompas.path}).")
        return None
    result = score(table, kompas, verdicts, info.get("doelindeling"))
    written = write_scores(result, out_dir)
    themes = result.themes
    wijken = themes[(themes["niveau"] == "wijk") & themes["score"].notna()]
    say(f"Wijkkompas {kompas.naam}: {len(wijken)} themascores van wijken "
        f"(basisjaar {kompas.basisjaar}).")
    for path in written:
        say(f"geschreven: {path}")
    return result


def build_and_score(data_dir: Path, local_path: Path | None = None,
                    target_indeling: int | None = None, kompas_path: Path | None = None,
                    say: Callable[[str], None] = print,
                    wait: float = DEFAULT_WAIT, weights_path: Path | None = None,
                    csv: bool = False) -> tuple[BuildResult, KompasResult | None]:
    """Build and score into a staging folder beside ``data_dir/processed`` and swap it in
    when everything is written; on any error or interruption ``processed`` stays as it was.

    Holds the lock of ``data_dir`` (waiting up to ``wait`` seconds for another run). What
    the stages report is said after the swap, with the final paths.
    """
    data_dir = Path(data_dir)
    final = data_dir / "processed"
    lines: list[str] = []
    with data_lock(data_dir, wait), replace_folder(final) as staging:
        built = run_build(data_dir, local_path, target_indeling, say=lines.append,
                          out_dir=staging, weights_path=weights_path, csv=csv)
        scored = run_kompas(data_dir, kompas_path, say=lines.append, out_dir=staging)
    for line in lines:
        say(line.replace(str(staging), str(final)))
    built.outputs = [final / p.relative_to(staging) for p in built.outputs]
    return built, scored
