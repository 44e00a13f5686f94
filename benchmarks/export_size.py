"""Benchmark: the dialogue export of Almelo, in one run.

Imports the real Almelo data of ../shared/data (wijk- en buurtkaart 2015 and 2021 with
their boundaries) into a temporary folder and builds it once (not timed). Then, in one run:

1. ``wijkkompas build`` and ``wijkkompas export`` (all pages), each in its own fresh Python
   process, taking turns, ``--repeat`` times: wall time and peak memory, the median of
   each, and the ratio export / build (goal: at most 1);
2. the bytes of every page the export wrote (goals: gemeente page at most 300 kB, every
   wijk page at most 250 kB; 1 kB = 1,000 bytes) and whether it is self-contained (no
   script or style loaded from elsewhere);
3. the first render of every page in headless Debian chromium with every network request
   blocked: from navigation start to the mark ``wijkkompas-klaar`` that the map script sets
   when the areas are drawn, median of ``--loads`` loads (goal: under 150 ms each);
4. for reference, the naive way of making the gemeente page: a folium map with one GeoJson
   choropleth layer per theme, year and level, full-resolution geometry, folium's defaults.

    python benchmarks/export_size.py [--repeat 3] [--loads 5] [--vergelijk MAP]

``--vergelijk MAP``: also load the pages in MAP (for instance an export made by an earlier
version from the same data) in the same turns, and print their bytes and first render
beside these.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import folium

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Run, fresh, median_of  # noqa: E402

from wijkkompas.cli import main as cli  # noqa: E402
from wijkkompas.kompas.classes import classify, colour  # noqa: E402
from wijkkompas.kompas.results import Processed, load_processed  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GEMEENTE_GOAL, WIJK_GOAL, RENDER_GOAL_MS = 300_000, 250_000, 150.0
COMMAND = "from wijkkompas.cli import main\nassert main({args!r}) == 0\n"


def import_almelo(data: Path) -> None:
    for path, jaar in [(SHARED / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
                       (SHARED / "geo" / "almelo_buurten_2015_simplified.geojson", 2015),
                       (SHARED / "geo" / "almelo_wijken_2015_simplified.geojson", 2015),
                       (SHARED / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
                       (SHARED / "geo" / "almelo_buurten_2021_epsg28992.geojson", 2021)]:
        assert cli(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0


def command(*args: str) -> str:
    return COMMAND.format(args=list(args))


def build_and_export(data: Path, out: Path, repeat: int) -> tuple[Run, Run]:
    """``wijkkompas build`` and ``wijkkompas export``, each in a fresh process, in turns."""
    builds, exports = [], []
    for _ in range(repeat):
        builds.append(fresh(command("build", "--data-dir", str(data))))
        if out.exists():
            shutil.rmtree(out)
        exports.append(fresh(command("export", "--data-dir", str(data), "--out", str(out))))
    return median_of(builds), median_of(exports)


def self_contained(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return not re.search(r"<script[^>]+src=|<link[^>]+href=", text)


def naive(processed: Processed, target: Path) -> None:
    """One layer per theme, year and level, full-resolution geometry, folium's defaults."""
    fmap = folium.Map(location=[52.35, 6.66], zoom_start=12)
    themes = processed.result.themes
    themes = themes[themes["deel"] == "totaal"]
    for niveau in ("wijk", "buurt"):
        areas = processed.boundaries(niveau).to_crs("EPSG:4326")
        for theme in processed.kompas.themes:
            if not any(i.scored and i.thema == theme.code
                       for i in processed.kompas.indicators.values()):
                continue  # the export shows scored themes only; so does this
            for jaar in processed.years:
                rows = themes[(themes["niveau"] == niveau) & (themes["thema"] == theme.code)
                              & (themes["jaar"] == jaar)].set_index("gebiedscode")["score"]
                layer = areas.assign(score=areas["gebiedscode"].map(rows))
                layer["kleur"] = [colour(k) for k in classify(layer["score"])]
                folium.GeoJson(
                    layer.__geo_interface__, name=f"{theme.naam} {jaar} {niveau}",
                    style_function=lambda f: {"fillColor": f["properties"]["kleur"],
                                              "color": "#333", "weight": 1},
                    tooltip=folium.GeoJsonTooltip(["gebiedscode", "gebiedsnaam", "score"]),
                    show=False,
                ).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.save(str(target))


def first_renders(paths: list[Path], loads: int) -> dict[Path, tuple[float, float]]:
    """Per page, the median over ``loads`` loads of (1) the time (ms) from navigation
    start to the mark ``wijkkompas-klaar`` and (2) the busy time (ms) of the page's main
    thread by then (Chrome's ``TaskDuration``: parsing, script, style, layout; on a shared
    machine less disturbed by other processes than the wall time). Every request that
    would leave the machine is blocked; the pages take turns."""
    from playwright.sync_api import sync_playwright

    times: dict[Path, list[tuple[float, float]]] = {p: [] for p in paths}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(loads):
            for path in paths:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                           else r.abort())
                page.goto(path.as_uri())
                page.wait_for_function(
                    "performance.getEntriesByName('wijkkompas-klaar').length")
                busy = {m["name"]: m["value"]
                        for m in cdp.send("Performance.getMetrics")["metrics"]}
                mark = page.evaluate(
                    "performance.getEntriesByName('wijkkompas-klaar')[0].startTime")
                times[path].append((mark, busy["TaskDuration"] * 1000))
                page.close()
        browser.close()
    return {path: (statistics.median(v[0] for v in values),
                   statistics.median(v[1] for v in values)) for path, values in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of build and export")
    parser.add_argument("--loads", type=int, default=5, help="loads of each page")
    parser.add_argument("--vergelijk", type=Path, default=None, metavar="MAP",
                        help="pages of an earlier export to load in the same turns")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="wijkkompas-export-"))
    try:
        data, out = work / "data", work / "export"
        with contextlib.redirect_stdout(io.StringIO()):
            import_almelo(data)
            assert cli(["build", "--data-dir", str(data)]) == 0  # once, for the first export

        build, export = build_and_export(data, out, args.repeat)
        print(f"build  (wijkkompas build):  {build.seconds:6.2f} s, {build.peak_mib:5.0f} MiB")
        print(f"export (wijkkompas export): {export.seconds:6.2f} s, {export.peak_mib:5.0f} MiB")
        ratio = export.seconds / build.seconds
        print(f"export / build: {ratio:.2f} (goal: at most 1; median of {args.repeat}, in turns)")

        pages = sorted(out.glob("wijkkompas_*.html"))
        earlier = sorted(args.vergelijk.glob("wijkkompas_*.html")) if args.vergelijk else []
        renders = first_renders(pages + earlier, args.loads)
        print(f"\n{'page':<26} {'bytes':>9} {'goal':>9} {'self-contained':>15} "
              f"{'first render':>13} {'main thread':>12}")
        for path in pages:
            goal = GEMEENTE_GOAL if path.stem.split("_")[1].startswith("GM") else WIJK_GOAL
            size = path.stat().st_size
            mark, busy = renders[path]
            print(f"{path.name:<26} {size:>9,} {goal:>9,} {str(self_contained(path)):>15} "
                  f"{mark:>10.0f} ms {busy:>9.0f} ms" + ("" if size <= goal and mark
                                                         < RENDER_GOAL_MS else "  (goal missed)"))
        marks = [renders[p][0] for p in pages]
        busies = [renders[p][1] for p in pages]
        print(f"first render: median over pages {statistics.median(marks):.0f} ms, slowest "
              f"{max(marks):.0f} ms; main thread busy: median {statistics.median(busies):.0f} "
              f"ms, most {max(busies):.0f} ms (median of {args.loads} loads each; goal: first "
              f"render under {RENDER_GOAL_MS:.0f} ms)")

        if earlier:
            print(f"\nthe pages of {args.vergelijk}, loaded in the same turns:")
            for path in earlier:
                mark, busy = renders[path]
                print(f"{path.name:<26} {path.stat().st_size:>9,} {mark:>10.0f} ms "
                      f"{busy:>9.0f} ms")
            marks = [renders[p][0] for p in earlier]
            busies = [renders[p][1] for p in earlier]
            print(f"first render: median over pages {statistics.median(marks):.0f} ms; main "
                  f"thread busy: median {statistics.median(busies):.0f} ms")

        gemeente = next(p for p in pages if "_GM" in p.name)
        naive_path = work / "naive.html"
        naive(load_processed(data), naive_path)
        a, b = gemeente.stat().st_size, naive_path.stat().st_size
        print(f"\nnaive folium map of the gemeente: {b:,} bytes (+ Leaflet, jQuery, Bootstrap "
              f"from CDNs); export / naive {a / b:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
