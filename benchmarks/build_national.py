"""Benchmark: build the indicator table for the whole country, 8 years.

Generates a raw cache of national size in CBS's format (345 gemeenten, about 3,500 wijken
and 14,500 buurten per year, every topic of table 85984NED's real DataProperties, some
values null as CBS's secrecy does), then measures in fresh processes:

1. reading the same input only (json.load of every TypedDataSet and DataProperties), and
2. ``wijkkompas.build.stage.run_build`` and ``wijkkompas.kompas.stage.run_kompas`` (CBS part:
   no boundaries, no local files),

each with wall time and peak memory (max RSS). Run:

    python benchmarks/build_national.py [--years 8] [--work DIR]

and record the printed figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_PROPS = ROOT.parent / "shared" / "data" / "odata" / "85984NED" / "DataProperties.json"
GEMEENTEN, WIJKEN, BUURTEN = 345, 3500, 14500


def generate(raw: Path, years: int) -> None:
    props = json.loads(SHARED_PROPS.read_text(encoding="utf-8"))
    topics = [p for p in props if p.get("Type") == "Topic"]
    rng = random.Random(141)
    manifest = {"cbs": {}, "geo": {}, "kaart": {}}
    areas = []
    wijk_per_gem = WIJKEN // GEMEENTEN + 1
    buurt_per_wijk = BUURTEN // WIJKEN + 1
    wijken = buurten = 0
    for g in range(GEMEENTEN):
        gm = f"{g + 1:04d}"
        areas.append(("GM" + gm, "Gemeente"))
        for w in range(min(wijk_per_gem, 99)):
            if wijken >= WIJKEN:
                break
            wijken += 1
            areas.append((f"WK{gm}{w:02d}", "Wijk"))
            for b in range(buurt_per_wijk):
                if buurten >= BUURTEN:
                    break
                buurten += 1
                areas.append((f"BU{gm}{w:02d}{b:02d}", "Buurt"))
    for year in range(2024 - years + 1, 2025):
        table = f"9{year}NED"
        folder = raw / "cbs" / table
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for number, (code, kind) in enumerate(areas):
            row = {"ID": number, "WijkenEnBuurten": f"{code:<10}"}
            for topic in topics:
                key, unit = topic["Key"], topic.get("Unit", "")
                if key.startswith("Indelingswijziging"):
                    row[key] = f"{'1':<10}"  # CBS's code as text: 1 = unchanged
                elif topic.get("Datatype") == "String":
                    row[key] = f"{kind:<10}" if key.startswith("SoortRegio") else f"{code:<10}"
                elif rng.random() < 0.05:
                    row[key] = None  # secret
                elif unit == "%":
                    row[key] = round(rng.uniform(0, 100))
                elif unit == "aantal":
                    row[key] = rng.randrange(0, 5000, 5)
                else:
                    row[key] = round(rng.uniform(0, 400), 1)
            rows.append(row)
        (folder / "TypedDataSet.json").write_text(json.dumps(rows, indent=2))
        (folder / "DataProperties.json").write_text(json.dumps(props, indent=2))
        regions = [{"Key": f"{c:<10}", "Title": c, "Description": "", "CategoryGroupID": None}
                   for c, _ in areas]
        (folder / "WijkenEnBuurten.json").write_text(json.dumps(regions, indent=2))
        (folder / "TableInfos.json").write_text(json.dumps([{"Identifier": table}]))
        manifest["cbs"][table] = {"table_id": table, "jaar": year, "gemeente": "NL",
                                  "gevonden_via": "benchmark",
                                  "fetched_at": "2024-01-01T00:00:00+00:00", "files": {}}
    (raw / "manifest.json").write_text(json.dumps(manifest))


READ_ONLY = """
import json, sys
from pathlib import Path
raw = Path(sys.argv[1])
rows = 0
for folder in sorted((raw / "cbs").iterdir()):
    rows += len(json.loads((folder / "TypedDataSet.json").read_text()))
    json.loads((folder / "DataProperties.json").read_text())
    json.loads((folder / "WijkenEnBuurten.json").read_text())
print(rows)
"""

BUILD = """
import sys
from pathlib import Path
from wijkkompas.build.stage import run_build
from wijkkompas.kompas.stage import run_kompas
result = run_build(Path(sys.argv[1]), say=lambda _: None)
run_kompas(Path(sys.argv[1]), say=lambda _: None)
print(len(result.table))
"""


def measure(code: str, argument: str) -> tuple[float, float, str]:
    """Run ``code`` in a fresh Python; wall seconds, peak RSS in MiB and what it printed."""
    script = (code + "\nimport resource\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, argument], capture_output=True,
                          text=True, check=True)
    seconds = time.perf_counter() - start
    out, peak_kib = done.stdout.split()[-2:]
    return seconds, int(peak_kib) / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="wijkkompas-bench-"))
    data = work / "data"
    start = time.perf_counter()
    generate(data / "raw", args.years)
    print(f"generated {args.years} years in {time.perf_counter() - start:.1f} s at {data}")
    size = sum(p.stat().st_size for p in (data / "raw").rglob("*.json")) / 2**20
    print(f"input: {size:.0f} MiB of JSON")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # noqa: F841
    read_s, read_mib, rows = measure(READ_ONLY, str(data / "raw"))
    print(f"read only: {read_s:.1f} s, peak {read_mib:.0f} MiB, {rows} area rows")
    build_s, build_mib, out_rows = measure(BUILD, str(data))
    print(f"build:     {build_s:.1f} s, peak {build_mib:.0f} MiB, {out_rows} indicator rows")
    for name in ("indicatoren.parquet", "indicatoren.csv"):
        path = data / "processed" / name
        print(f"  {name}: {path.stat().st_size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
