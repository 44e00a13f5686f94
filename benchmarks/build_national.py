"""Benchmark: build the indicator table for the whole country, 1 to 8 years.

Generates a raw cache of national size in CBS's format with ``national_cache.generate`` (345
gemeenten, about 3,500 wijken and 14,500 buurten per year spread evenly over them, an NL00
row, every topic of table 85984NED's real DataProperties, some values null as CBS's secrecy
does; ``--gemeenten N`` for a smaller country), then measures,
each step in its own fresh Python (wall time, and peak memory as VmHWM of that process):

1. reading the same JSON only, with the standard library's ``json``;
2. reading it with the fastest parser installed (orjson and, if installed, msgspec);
3. ``wijkkompas.indicatoren.stage.run_build`` (CBS part: no boundaries, no local files; the
   indicator table as Parquet, no CSV). The manifest holds the checksums a fetch records,
   so the build checks the sha256 of every raw file, as after a real fetch.

Steps take turns within each repetition; the figures are medians of ``--repeat`` runs and
the ratio build / fastest read is taken within the same run. Beside the wall time each
step's processor time (user + sys of its process) is printed: on a shared machine it
varies less. Run:

    python benchmarks/build_national.py --years 8 --repeat 3 --scaling [--vergelijk MAP]

and record the printed table in docs/benchmarks.md. ``--vergelijk MAP`` also times the
build of another version of the code (MAP holds its source tree, e.g.
``git archive 243f5c3 | tar -x -C MAP``) in the same turns, so that before and after are
measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Run, fresh, median_of  # noqa: E402
from national_cache import GEMEENTEN, generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def subset(raw: Path, target: Path, years: int) -> None:
    """A raw cache with the latest ``years`` tables of ``raw`` (folders linked, not copied)."""
    manifest = json.loads((raw / "manifest.json").read_text())
    chosen = sorted(manifest["cbs"].items(), key=lambda kv: kv[1]["jaar"])[-years:]
    (target / "cbs").mkdir(parents=True, exist_ok=True)
    for table, _ in chosen:
        (target / "cbs" / table).symlink_to(raw / "cbs" / table, target_is_directory=True)
    (target / "manifest.json").write_text(json.dumps({**manifest, "cbs": dict(chosen)}))


READ_JSON = """
import json, sys
from pathlib import Path
raw = Path(sys.argv[1])
rows = 0
for folder in sorted((raw / "cbs").iterdir()):
    rows += len(json.loads((folder / "TypedDataSet.json").read_bytes()))
    json.loads((folder / "DataProperties.json").read_bytes())
    json.loads((folder / "WijkenEnBuurten.json").read_bytes())
print(rows)
"""

BUILD = """
import sys
from pathlib import Path
if sys.argv[3]:
    sys.path.insert(0, sys.argv[3])  # another version of the code
from wijkkompas.indicatoren.stage import run_build
result = run_build(Path(sys.argv[1]), say=lambda _: None, csv=sys.argv[2] == "csv")
print(len(result.table))
"""


#: msgspec decoding each file from a memory map instead of a copy of its bytes (as the
#: build does), so that the fastest read is not slowed by a copy the build avoids.
READ_MSGSPEC_MMAP = """
import mmap, msgspec, sys
from pathlib import Path
raw = Path(sys.argv[1])
rows = 0
def decode(path):
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0,
                                               access=mmap.ACCESS_READ) as view:
        return msgspec.json.decode(view)
for folder in sorted((raw / "cbs").iterdir()):
    rows += len(decode(folder / "TypedDataSet.json"))
    decode(folder / "DataProperties.json")
    decode(folder / "WijkenEnBuurten.json")
print(rows)
"""


def parsers() -> dict[str, str]:
    """The installed fast JSON parsers, each as a read-only script like READ_JSON."""
    found = {}
    for name, call in (("orjson", "orjson.loads"), ("msgspec", "msgspec.json.decode")):
        try:
            __import__(name)
        except ImportError:
            continue
        found[name] = READ_JSON.replace("import json,", f"import {name},").replace(
            "json.loads", call)
    if "msgspec" in found:
        found["msgspec+mmap"] = READ_MSGSPEC_MMAP
    return found


def timed(code: str, *args: str) -> tuple[Run, float]:
    """One fresh run and the processor time (user + sys, seconds) its process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = fresh(code, *args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return run, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure_years(data: Path, repeat: int, csv: bool, other: Path | None = None
                  ) -> tuple[dict[str, Run], dict[str, float]]:
    """Median of ``repeat`` turns of every step on the raw cache in ``data``: wall time
    and peak, and processor time. ``other``: the source tree of a second version whose
    build takes its turn too ("build (vergelijk)")."""
    steps = {"json": READ_JSON, **parsers()}
    builds = {"build": ""}
    if other is not None:
        builds["build (vergelijk)"] = str(other.resolve())
    runs: dict[str, list[Run]] = {name: [] for name in [*steps, *builds]}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, code in steps.items():
            run, seconds = timed(code, str(data / "raw"))
            runs[name].append(run)
            cpu[name].append(seconds)
        for name, source in builds.items():
            run, seconds = timed(BUILD, str(data), "csv" if csv else "-", source)
            runs[name].append(run)
            cpu[name].append(seconds)
    for name, items in runs.items():
        if name != "json":
            print(f"  {data.parent.name} {name}: "
                  + ", ".join(f"{r.seconds:.2f} s" for r in items)
                  + " (processor " + ", ".join(f"{c:.2f} s" for c in cpu[name]) + ")",
                  flush=True)
    return ({name: median_of(items) for name, items in runs.items()},
            {name: statistics.median(items) for name, items in cpu.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--gemeenten", type=int, default=GEMEENTEN,
                        help="number of gemeenten (default the whole country, 345)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true",
                        help="also measure 1, 2, 4 ... years up to --years")
    parser.add_argument("--csv", action="store_true", help="build with the CSV as well")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--vergelijk", type=Path, default=None,
                        help="source tree of another version whose build is timed too")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="wijkkompas-bench-"))
    source = work / "bron" / "raw"
    start = time.perf_counter()
    generate(source, args.years, args.gemeenten)
    print(f"generated {args.years} years, {args.gemeenten} gemeenten in "
          f"{time.perf_counter() - start:.1f} s at {source}")
    counts = [n for n in (1, 2, 4, 8, 16) if n < args.years] if args.scaling else []
    start_load = _load()
    lines = []
    for years in [*counts, args.years]:
        data = work / f"jaren_{years}" / "data"
        shutil.rmtree(data, ignore_errors=True)
        subset(source, data / "raw", years)
        size = sum(p.stat().st_size for folder in (data / "raw" / "cbs").iterdir()
                   for p in folder.glob("*.json")) / 2**20  # the folders are links
        result, cpu = measure_years(data, args.repeat, args.csv, args.vergelijk)
        fast_name = min((n for n in result if n != "json" and not n.startswith("build")),
                        key=lambda n: result[n].seconds)
        fast, build, plain = result[fast_name], result["build"], result["json"]
        line = (f"| {years} | {int(plain.output):,} | {size:.1f} | {plain.seconds:.2f} s | "
                f"{fast.seconds:.2f} s ({fast_name}) | {build.seconds:.2f} s | "
                f"{build.seconds / fast.seconds:.2f}x | "
                f"{cpu['build'] / cpu[fast_name]:.2f}x | {plain.peak_mib:.0f} MiB | "
                f"{fast.peak_mib:.0f} MiB | {build.peak_mib:.0f} MiB | "
                f"{int(build.output):,} |")
        if args.vergelijk:
            old = result["build (vergelijk)"]
            line += (f" {old.seconds:.2f} s | {old.seconds / fast.seconds:.2f}x | "
                     f"{old.peak_mib:.0f} MiB |")
        lines.append(line)
        print(line, flush=True)
    end_load = _load()
    print()
    print(f"load average (1/5/15 min): {start_load} at the start, {end_load} at the end")
    print("| years | area rows | JSON MiB | json | fastest read | build | build / fastest "
          "| same, processor time | peak json | peak fastest | peak build | indicator rows |"
          + (" build (vergelijk) | vergelijk / fastest | peak vergelijk |"
             if args.vergelijk else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|"
                                                           if args.vergelijk else ""))
    for line in lines:
        print(line)
    processed = work / f"jaren_{args.years}" / "data" / "processed"
    for path in sorted(processed.glob("indicatoren.*")):
        print(f"  {path.name}: {path.stat().st_size / 2**20:.0f} MiB")
    summary(args, fast_name, fast, build)


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


#: The goals of issue #15 for the national build.
GOAL_RATIO = 2.0
GOAL_PEAK_MIB = 1e9 / 2**20  # 1 GB


def summary(args: argparse.Namespace, fast_name: str, fast: Run, build: Run) -> None:
    """The figures the goals are about, with the conditions they were measured under."""
    import pandas
    import pyarrow

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    ratio = build.seconds / fast.seconds
    print()
    print(f"Summary ({args.years} years, {args.gemeenten} gemeenten, median of {args.repeat}; "
          "a first build: every raw JSON file is parsed and its checksum checked; there is no "
          "cache of parsed tables)")
    print(f"  conditions: {os.cpu_count()} cores, load average {load} (1/5/15 min) at the "
          f"end; Python {platform.python_version()}, pandas {pandas.__version__}, "
          f"pyarrow {pyarrow.__version__}")
    print("| measure | figure | goal | met |")
    print("|---|---|---|---|")
    print(f"| build / fastest read ({fast_name}) | {ratio:.2f}x ({build.seconds:.2f} s / "
          f"{fast.seconds:.2f} s) | <= {GOAL_RATIO:.0f}x | "
          f"{'yes' if ratio <= GOAL_RATIO else 'no'} |")
    print(f"| peak memory of the build (VmHWM) | {build.peak_mib:,.0f} MiB | "
          f"<= {GOAL_PEAK_MIB:,.0f} MiB (1 GB) | "
          f"{'yes' if build.peak_mib <= GOAL_PEAK_MIB else 'no'} |")


if __name__ == "__main__":
    main()
