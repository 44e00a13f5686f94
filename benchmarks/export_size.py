"""Benchmark: size and first render of the gemeente export, against the naive way.

Builds the real Almelo data of ../shared/data (wijk- en buurtkaart 2015 and 2021 with their
boundaries) in a temporary folder, then writes

1. the wijkkompas export of the gemeente (``run_export``), and
2. the naive way of making the same content: a folium map with one GeoJson choropleth
   layer per theme, year and level, with the full-resolution geometry, saved as folium
   does by default (scripts and styles from CDNs),

and reports their bytes, and the time from navigation to the drawn map of the export in
headless Chromium (the mark ``wijkkompas-klaar``), median of 5 loads with the network off.

    python benchmarks/export_size.py
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

import folium

from wijkkompas.build.stage import run_build
from wijkkompas.cli import main as cli
from wijkkompas.kompas.classes import classify, colour
from wijkkompas.kompas.stage import run_kompas
from wijkkompas.output.export import run_export
from wijkkompas.output.processed import Processed, load_processed

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def build(data: Path) -> None:
    for path, jaar in [(SHARED / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
                       (SHARED / "geo" / "almelo_buurten_2015_simplified.geojson", 2015),
                       (SHARED / "geo" / "almelo_wijken_2015_simplified.geojson", 2015),
                       (SHARED / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
                       (SHARED / "geo" / "almelo_buurten_2021_epsg28992.geojson", 2021)]:
        cli(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)])
    run_build(data, say=lambda _: None)
    run_kompas(data, say=lambda _: None)


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


def first_render(path: Path, runs: int = 5) -> float:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(runs):
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else r.abort())
            page.goto(path.as_uri())
            page.wait_for_function("performance.getEntriesByName('wijkkompas-klaar').length")
            times.append(page.evaluate(
                "performance.getEntriesByName('wijkkompas-klaar')[0].startTime"))
            page.close()
        browser.close()
    return statistics.median(times)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="wijkkompas-export-"))
    data = work / "data"
    build(data)
    processed = load_processed(data)
    ours = run_export(processed, work / "export", say=lambda _: None)[0]
    naive_path = work / "naive.html"
    naive(processed, naive_path)
    a, b = ours.stat().st_size, naive_path.stat().st_size
    print(f"export gemeente:  {a:>10,} bytes")
    print(f"naive folium:     {b:>10,} bytes (+ Leaflet, jQuery, Bootstrap from CDNs)")
    print(f"ratio:            {a / b:.3f}")
    print(f"first render:     {first_render(ours):.0f} ms (median of 5, network off)")


if __name__ == "__main__":
    main()
