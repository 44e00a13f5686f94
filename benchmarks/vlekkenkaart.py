"""Benchmark: the vlekkenkaart of Almelo with its real care locations against the same with
26,000 generated locations added, each ``wijkkompas vlekkenkaart`` a whole fresh process
(wall time and peak memory, VmHWM), interleaved, median of ``--repeat`` runs.

Set-up (not timed): the real Almelo files of ../shared/data are imported and built into a
data folder. The real locations come from voorbeelden/zorglocaties.toml (Twente data sets
of DigiMV, hospitals and COA, plus the invented examples); the generated ones are RD points
spread over Almelo, in a CSV with a category column. Run:

    python benchmarks/vlekkenkaart.py --repeat 3 [--aantal 26000] [--vergelijk MAP]

``--vergelijk MAP`` times another version of the code in the same run, interleaved with this
one (MAP holds its source tree, e.g. ``git archive 2df4df3 | tar -x -C MAP``), so that before
and after are measured under the same load. The machine is shared: the load average before
and after, and the processor time (user + sys) of each run, are printed beside the wall time.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import fresh, median_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EXAMPLE = ROOT / "voorbeelden" / "zorglocaties.toml"
ALMELO = [("cbs/kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
          ("geo/almelo_buurten_2015_simplified.geojson", 2015),
          ("geo/almelo_wijken_2015_simplified.geojson", 2015),
          ("cbs/kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
          ("geo/almelo_buurten_2021_epsg28992.geojson", 2021)]

RUN = """
import sys
if sys.argv[4]:
    sys.path.insert(0, sys.argv[4])  # another version of the code
from wijkkompas.cli import main
code = main(["vlekkenkaart", "--data-dir", sys.argv[1], "--zorglocaties", sys.argv[2],
             "--out", sys.argv[3]])
assert code == 0, code
"""


def _timed(*args: str) -> tuple[object, float]:
    """One fresh run and the processor time (user + sys, seconds) its process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = fresh(RUN, *args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return run, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def configs(work: Path, count: int) -> tuple[Path, Path]:
    """The example configuration with absolute paths, and the same plus ``count`` points."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r'^bestand = "(.*)"$',
                  lambda m: f'bestand = "{(EXAMPLE.parent / m.group(1)).resolve()}"',
                  text, flags=re.MULTILINE)
    real = work / "echt.toml"
    real.write_text(text, encoding="utf-8")
    categories = re.findall(r"^\[categorie\.(\w+)\]$", text, flags=re.MULTILINE)
    rng = random.Random(141)
    lines = ["naam,categorie,capaciteit,x,y"]
    for i in range(count):
        lines.append(f"Locatie {i},{rng.choice(categories)},{rng.randrange(1, 60)},"
                     f"{rng.uniform(236500, 246500):.1f},{rng.uniform(482500, 492000):.1f}")
    (work / "gegenereerd.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    large = work / "groot.toml"
    large.write_text(text + f'\n[[dataset]]\nbestand = "{work / "gegenereerd.csv"}"\n'
                     'bron = "gegenereerd"\ncategorie_kolom = "categorie"\n', encoding="utf-8")
    return real, large


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--aantal", type=int, default=26000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--vergelijk", type=Path, default=None,
                        help="source tree of another version, timed in the same run")
    args = parser.parse_args()
    from wijkkompas.cli import main as cli

    work = args.work or Path(tempfile.mkdtemp(prefix="wijkkompas-vlek-"))
    data = work / "data"
    for name, jaar in ALMELO:
        assert cli(["import", str(SHARED / name), "--jaar", str(jaar), "--data-dir",
                    str(data)]) == 0
    assert cli(["build", "--data-dir", str(data)]) == 0
    real, large = configs(work, args.aantal)
    versions = {"": "deze versie"}
    if args.vergelijk:
        versions[str(args.vergelijk.resolve())] = f"vergelijk ({args.vergelijk})"
    runs: dict[tuple[str, str], list] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    start_load = _load()
    for _ in range(args.repeat):
        for source in versions:
            for name, config in (("echt", real), ("groot", large)):
                run, seconds = _timed(str(data), str(config), str(work / f"uit_{name}"),
                                      source)
                runs.setdefault((source, name), []).append(run)
                cpu.setdefault((source, name), []).append(seconds)
    end_load = _load()
    result = {key: median_of(items) for key, items in runs.items()}

    from wijkkompas.kompas.results import load_processed
    from wijkkompas.vlekkenkaart.zorglocaties import read_config, read_locations

    gemeente = load_processed(data).boundaries("gemeente")
    counts = {name: read_locations(read_config(config), gemeente)
              for name, config in (("echt", real), ("groot", large))}
    print(f"load average (1/5/15 min): {start_load} at the start, {end_load} at the end")
    print("| version | locations | read | included in Almelo | wall time | processor time "
          "| peak memory |")
    print("|---|---|---|---|---|---|---|")
    for source, label in versions.items():
        for name in ("echt", "groot"):
            run = result[(source, name)]
            print(f"| {label} | {name} | {len(counts[name].rows):,} | "
                  f"{len(counts[name].included):,} | {run.seconds:.2f} s | "
                  f"{statistics.median(cpu[(source, name)]):.2f} s | {run.peak_mib:.0f} MiB |")
    for source, label in versions.items():
        wall = result[(source, "groot")].seconds / result[(source, "echt")].seconds
        used = statistics.median(cpu[(source, "groot")]) / statistics.median(
            cpu[(source, "echt")])
        print(f"ratio groot / echt, {label}: {wall:.2f}x wall time, {used:.2f}x processor time")


if __name__ == "__main__":
    main()
