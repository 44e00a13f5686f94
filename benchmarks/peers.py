"""Benchmark: vergelijkbare wijken for every wijk of the country, against reading the
national indicator table.

Makes a national raw cache in CBS's format with ``build_national.generate`` (345 gemeenten,
about 3,500 wijken, every topic of 85984NED, some values secret), builds the indicator table
once with ``run_build`` (not timed), and then measures, each in its own fresh Python and
taking turns within each repetition:

1. ``read``: ``pandas.read_parquet`` of ``indicatoren.parquet`` (the national table);
2. ``peers``: the same read, then for EVERY wijk of the country its 10 peers of other
   gemeenten (``wijk_features`` + ``find_peers``: the latest year's features, the wijk's own
   gemeente left out) and its position among them for every indicator the basis-set scores
   and every year (``positions``).

The figure is the ratio peers / read (medians of ``--repeat`` turns). The generated address
densities lie between 0 and 400 per km², so every wijk is in stedelijkheid class 5: one
class and one tree of all 3,500 wijken, the largest search there can be. Run:

    python benchmarks/peers.py --years 8 --repeat 3 [--work MAP]

(with ``--work`` a folder that already holds the generated build is used as it is) and
record the printed table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_national import GEMEENTEN, generate, timed  # noqa: E402
from measure import Run, median_of  # noqa: E402

READ = """
import sys
import pandas as pd
table = pd.read_parquet(sys.argv[1])
print(len(table))
"""

PEERS = """
import sys, time
import pandas as pd
from wijkkompas.kompas.definition import builtin_path, load_kompas
from wijkkompas.kompas.peers import find_peers, positions, wijk_features
table = pd.read_parquet(sys.argv[1])
start = time.perf_counter()
wijken = table[table["niveau"] == "wijk"]
jaar = int(wijken["jaar"].max())
features = wijk_features(table, jaar)
kompas = load_kompas(builtin_path("basis"), "GM0001")
scored = [name for name, ind in kompas.indicators.items() if ind.scored]
found = find_peers(features, list(features.index), 10, leave_out=scored)
placed = positions(table, found.peers, scored)
seconds = time.perf_counter() - start
with_peers = found.peers["wijk"].nunique()
print(f"{len(features)} {with_peers} {len(found.peers)} {len(placed)} {seconds:.3f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="wijkkompas-peers-"))
    data = work / "data"
    table = data / "processed" / "indicatoren.parquet"
    if not table.is_file():  # a --work folder of an earlier run is used as it is
        start = time.perf_counter()
        generate(data / "raw", args.years, GEMEENTEN)
        print(f"generated {args.years} years in {time.perf_counter() - start:.1f} s",
              flush=True)
        from wijkkompas.indicatoren.stage import run_build

        start = time.perf_counter()
        run_build(data, say=lambda _: None)
        print(f"built in {time.perf_counter() - start:.1f} s", flush=True)
    runs: dict[str, list[Run]] = {"read": [], "peers": []}
    cpu: dict[str, list[float]] = {"read": [], "peers": []}
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        for name, code in (("read", READ), ("peers", PEERS)):
            run, seconds = timed(code, str(table))
            runs[name].append(run)
            cpu[name].append(seconds)
    load_after = os.getloadavg()
    cpu_read, cpu_peers = statistics.median(cpu["read"]), statistics.median(cpu["peers"])
    read, peers = median_of(runs["read"]), median_of(runs["peers"])
    wijken, with_peers, pairs, placed, _ = peers.output.split()
    inner = statistics.median(float(r.output.split()[-1]) for r in runs["peers"])
    print(f"turns: read {', '.join(f'{r.seconds:.2f}' for r in runs['read'])} s; peers "
          f"{', '.join(f'{r.seconds:.2f}' for r in runs['peers'])} s; processor time: read "
          f"{', '.join(f'{c:.2f}' for c in cpu['read'])} s; peers "
          f"{', '.join(f'{c:.2f}' for c in cpu['peers'])} s")
    print(f"load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end; "
          f"{os.cpu_count()} cores; Python {platform.python_version()}")
    print("| years | indicator rows | wijken | with peers | peer rows | position rows | read "
          "| read + peers | ratio | ratio, processor time | peers alone (in the process) "
          "| peak read | peak peers |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.years} | {int(read.output):,} | {int(wijken):,} | {int(with_peers):,} | "
          f"{int(pairs):,} | {int(placed):,} | {read.seconds:.2f} s | {peers.seconds:.2f} s | "
          f"{peers.seconds / read.seconds:.2f}x | {cpu_peers / cpu_read:.2f}x | {inner:.2f} s | "
          f"{read.peak_mib:.0f} MiB | "
          f"{peers.peak_mib:.0f} MiB |")


if __name__ == "__main__":
    main()
