"""Benchmark: the commands a researcher runs, ``wijkkompas build`` and ``wijkkompas export``,
for 1, 10, 40 (and with ``--alle`` all 345) gemeenten of the synthetic national cache.

The cache (``national_cache.generate``: 345 gemeenten, every gemeente its wijken and
buurten, an NL00 row, synthetic boundaries for every year; 8 years by default) is made
once in ``--work`` (kept and reused). For each number N of gemeenten a data folder of its
own links the same raw cache and, each command in its own fresh Python, in one run:

1. ``wijkkompas build --gemeente GM0001,...`` (the indicator table of the whole country,
   the kompas scores of the N gemeenten);
2. ``wijkkompas export`` of the N gemeenten (every page; ``--werkers``, default all cores).

Then the same gemeente (GM0001) exported from the national folder and from a folder of
its own (its rows of the same cache alone, built there): the ratio of the two is the goal
of issue #30 (at most 1.5x). Each figure: wall time, processor time (user + sys of the
command and its worker processes: on a shared machine it varies less), peak memory of the
command (VmHWM) and of its largest worker process, and the size of the largest gemeente
and wijk page. Run:

    python benchmarks/national_cli.py [--gemeenten 1,10,40] [--alle] [--werkers N]

and record the printed table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from national_cache import GEMEENTEN, generate, own_cache  # noqa: E402

COMMAND = """
import resource, sys
from wijkkompas.cli import main
code = main(sys.argv[1:])
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print("VMHWM", int(line.split()[1]))
print("KINDEREN", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""
#: The goals of issue #30: one gemeente from the national folder against its own folder,
#: the whole country (build and every page), the build of all gemeenten against the build
#: of one, and that build's peak memory (1.5 GB, decimal, in MiB).
GOAL_OWN_RATIO, GOAL_COUNTRY_S, GOAL_BUILD_RATIO = 1.5, 600.0, 2.0
GOAL_BUILD_PEAK_MIB = 1.5e9 / 2**20


@dataclass
class Step:
    seconds: float
    processor: float
    peak_mib: float
    worker_mib: float


def command(*args: str) -> Step:
    """``wijkkompas ARGS`` in a fresh Python: wall and processor time, peaks."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COMMAND, *args], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"wijkkompas {' '.join(args[:2])} failed ({done.returncode}):\n"
                         f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    lines = done.stdout.splitlines()
    peak = next(int(x.split()[1]) for x in lines if x.startswith("VMHWM"))
    workers = next(int(x.split()[1]) for x in lines if x.startswith("KINDEREN"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Step(seconds, cpu, peak / 1024, workers / 1024)


def codes(count: int) -> str:
    return ",".join(f"GM{g + 1:04d}" for g in range(count))


def pages(folder: Path) -> tuple[int, int, int]:
    """Number of pages, largest gemeente page and largest wijk page (bytes)."""
    found = list(folder.glob("wijkkompas_*.html"))
    gm = [p.stat().st_size for p in found if p.name.startswith("wijkkompas_GM")]
    wk = [p.stat().st_size for p in found if p.name.startswith("wijkkompas_WK")]
    return len(found), max(gm, default=0), max(wk, default=0)


def fmt(step: Step) -> str:
    return (f"{step.seconds:.1f} s | {step.processor:.1f} s | {step.peak_mib:,.0f} MiB | "
            f"{step.worker_mib:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--gemeenten", default="1,10,40",
                        help="numbers of gemeenten, with commas (default 1,10,40)")
    parser.add_argument("--alle", action="store_true", help="also all 345 gemeenten")
    parser.add_argument("--werkers", type=int, default=None,
                        help="--werkers of the export (default: the command's, all cores)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="wijkkompas-cli-"))
    raw = work / "bron" / "raw"
    if not (raw / "manifest.json").is_file():
        start = time.perf_counter()
        shutil.rmtree(raw, ignore_errors=True)
        generate(raw, args.years, GEMEENTEN, boundaries=True)
        print(f"generated {args.years} years, {GEMEENTEN} gemeenten with boundaries in "
              f"{time.perf_counter() - start:.1f} s at {raw}", flush=True)
    werkers = ["--werkers", str(args.werkers)] if args.werkers else []
    counts = [int(n) for n in args.gemeenten.split(",")] + ([GEMEENTEN] if args.alle else [])
    load_start = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows, steps = [], {}
    for count in counts:
        data = work / f"n{count}" / "data"
        shutil.rmtree(data.parent, ignore_errors=True)
        data.mkdir(parents=True)
        (data / "raw").symlink_to(raw, target_is_directory=True)
        build = command("build", "--data-dir", str(data), "--gemeente", codes(count))
        out = data / "export"
        export = command("export", "--data-dir", str(data), "--gemeente", codes(count),
                         "--out", str(out), *werkers)
        number, gm, wk = pages(out)
        steps[count] = (build, export)
        row = (f"| {count} | {number:,} | {fmt(build)} | {fmt(export)} | "
               f"{export.seconds / number:.2f} s | {gm / 1000:,.0f} kB | {wk / 1000:,.0f} kB |")
        rows.append(row)
        print(row, flush=True)
    # One gemeente from the national folder (built above for the first count) and alone.
    national = work / f"n{counts[0]}" / "data"
    own = work / "eigen" / "data"
    shutil.rmtree(own.parent, ignore_errors=True)
    own_cache(raw, own / "raw", "GM0001")
    own_build = command("build", "--data-dir", str(own), "--gemeente", "GM0001")
    from_national = command("export", "--data-dir", str(national), "--gemeente", "GM0001",
                            "--out", str(work / "uit_landelijk"), *werkers)
    from_own = command("export", "--data-dir", str(own), "--gemeente", "GM0001",
                       "--out", str(work / "uit_eigen"), *werkers)
    load_end = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    import pandas
    import pyarrow

    print()
    print(f"{args.years} years; {os.cpu_count()} cores, load average (1/5/15 min) "
          f"{load_start} at the start, {load_end} at the end; Python "
          f"{platform.python_version()}, pandas {pandas.__version__}, pyarrow "
          f"{pyarrow.__version__}; export --werkers {args.werkers or 'standaard'}")
    print("| gemeenten | pages | build | processor | peak | peak worker | export | processor "
          "| peak | peak worker | export per page | largest gemeente page | largest wijk page |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    print("| GM0001 | export | processor | peak | peak worker |")
    print("|---|---|---|---|---|")
    print(f"| from the national folder | {fmt(from_national)} |")
    print(f"| from its own folder | {fmt(from_own)} |")
    print(f"| (build of its own folder) | {fmt(own_build)} |")
    ratio = from_national.seconds / from_own.seconds
    cpu_ratio = from_national.processor / from_own.processor
    print()
    print("| measure | figure | goal | met |")
    print("|---|---|---|---|")
    print(f"| export GM0001 national / own folder | {ratio:.2f}x (processor {cpu_ratio:.2f}x) "
          f"| <= {GOAL_OWN_RATIO}x | {'yes' if ratio <= GOAL_OWN_RATIO else 'no'} |")
    if GEMEENTEN in steps:
        build, export = steps[GEMEENTEN]
        total = build.seconds + export.seconds
        print(f"| whole country, build + every page | {total:.0f} s | <= {GOAL_COUNTRY_S:.0f} s "
              f"| {'yes' if total <= GOAL_COUNTRY_S else 'no'} |")
        if 1 in steps:
            one = steps[1][0]
            ratio = build.seconds / one.seconds
            print(f"| build {GEMEENTEN} / build 1 gemeente | {ratio:.2f}x (processor "
                  f"{build.processor / one.processor:.2f}x) | <= {GOAL_BUILD_RATIO}x | "
                  f"{'yes' if ratio <= GOAL_BUILD_RATIO else 'no'} |")
        print(f"| peak of the build of {GEMEENTEN} | {build.peak_mib:,.0f} MiB | <= "
              f"{GOAL_BUILD_PEAK_MIB:,.0f} MiB (1.5 GB) | "
              f"{'yes' if build.peak_mib <= GOAL_BUILD_PEAK_MIB else 'no'} |")
    first = counts[0]
    for count in counts[1:]:
        b0, e0 = steps[first]
        b, e = steps[count]
        print(f"| {count} / {first} gemeenten: build {b.seconds / b0.seconds:.2f}x, "
              f"export {e.seconds / e0.seconds:.2f}x | | | |")
    print(json.dumps({"work": str(work)}))


if __name__ == "__main__":
    main()
