"""Each JavaScript file of the packages' ``templates/`` folders on its own in headless Chromium,
with a small payload: no console error, and the page classifies exactly as Python does,
with the class bounds it is sent."""

from __future__ import annotations

import math
from html import escape
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import shape

from tests.browser import opened
from wijkkompas.kompas.classes import (
    ALL_CHANGE_CLASSES,
    ALL_CLASSES,
    CHANGE_CLASSES,
    ScoreClass,
    classify,
    classify_change,
    page_classes,
)
from wijkkompas.output.packing import pack_level, pack_numbers, unpack_numbers
from wijkkompas.web.geometry import delta_rings
from wijkkompas.web.leaflet import script_safe_json

#: The packages whose templates/ hold the scripts and styles: shared, pages, vlekkenkaart.
PACKAGES = ("wijkkompas.web", "wijkkompas.output", "wijkkompas.vlekkenkaart")
LEAFLET = resources.files("js_lib_leaflet").joinpath("static", "js_lib_leaflet")
SQUARE = {"type": "Polygon", "coordinates": [[[6.6, 52.3], [6.7, 52.3], [6.7, 52.4],
                                              [6.6, 52.4], [6.6, 52.3]]]}
THRESHOLD = 5.0


def _template(name: str):
    """A file of the templates/ folder that holds it."""
    found = [resources.files(p).joinpath("templates", name) for p in PACKAGES
             if resources.files(p).joinpath("templates", name).is_file()]
    assert len(found) == 1, (name, found)
    return found[0]


def _page(tmp_path, scripts: list[str], css: str, call: str):
    """An HTML file that loads Leaflet and the template files themselves, then runs
    ``call``."""
    tags = [f'<link rel="stylesheet" href="{LEAFLET.joinpath("leaflet.css").as_uri()}">',
            f'<link rel="stylesheet" href="{_template(css).as_uri()}">',
            f'<script src="{LEAFLET.joinpath("leaflet.js").as_uri()}"></script>']
    tags += [f'<script src="{_template(name).as_uri()}"></script>' for name in scripts]
    path = tmp_path / "pagina.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'>" + "".join(tags)
                    + "</head><body><div id='kaart' style='height:400px'></div><script>\n"
                    + "var map = L.map('kaart');\n" + call + "\n</script></body></html>",
                    encoding="utf-8")
    return path


def _kompas_page(tmp_path, payload: dict):
    """A page with the kompas map of ``payload``, its levels written as the export packs
    them (``payload["geo"]`` in the layout of ``area_data``)."""
    themas, jaren = [t[0] for t in payload["themas"]], payload["jaren"]
    packed = {**payload, "geo": {n: pack_level(level, themas, jaren)
                                 for n, level in payload["geo"].items()}}
    return _page(tmp_path, ["escape.js", "packing.js", "kompas_map.js"], "kompas_map.css",
                 f"wijkkompasKaart(map, {script_safe_json(packed)});")


def _kompas_payload(veranderklassen: list[dict]) -> dict:
    wijk = {"c": ["WK014115"], "n": ["Wijk 15"], "g": [delta_rings(shape(SQUARE))],
            "s": {"t|2015": [99.5]}, "d": {}, "b": {"t|2015": [7.0]}, "r": {},
            "v": {"t|2015": [[0, [12.5]]]}}
    return {"gemeente": "Almelo", "basisjaar": 2015, "start": {"thema": "t", "jaar": 2015},
            "drempel": THRESHOLD, "niveaus": [["wijk", "Wijken"]], "themas": [["t", "Thema"]],
            "jaren": [2015], "maten": [["score", "Score"], ["basis", "Verandering"]],
            "klassen": page_classes(ALL_CLASSES), "veranderklassen": veranderklassen,
            "tipmax": 6, "redenen": [], "indicatoren": [["Bijstand", "per 1.000"]],
            "geo": {"wijk": wijk}}


# Every bound, just below and above it, and missing.
SCORES = [None, 40.0, 79.999, 80.0, 94.999, 95.0, 100.0, 104.999, 105.0, 119.999, 120.0, 150.0]
CHANGES = [None, -15.0, -10.0, -9.999, -5.0, -4.999, 0.0, 4.999, 5.0, 9.999, 10.0, 15.0]


def test_escape_js_escapes_what_html_needs(tmp_path, browser):
    text = '<script>x</script> "><img src=x onerror="y"> & \'z\' {{ 7*7 }}'
    path = _page(tmp_path, ["escape.js"], "kompas_map.css",
                 f"window.wijkkompas = wkEsc({script_safe_json(text)});")
    with opened(browser, path) as page:
        assert page.page.evaluate("window.wijkkompas") == escape(text, quote=True).replace(
            "&#x27;", "&#39;")
        assert page.page.evaluate("[wkEsc(null), wkEsc(undefined), wkEsc(0)]") == ["", "", "0"]
        assert page.errors == [] and page.dialogs == []


def test_kompas_map_js_classifies_as_python_does(tmp_path, browser):
    payload = _kompas_payload(page_classes(ALL_CHANGE_CLASSES))
    path = _kompas_page(tmp_path, payload)
    with opened(browser, path) as page:
        scores = page.page.evaluate("xs => xs.map(x => window.wijkkompas.scoreClass(x).code)",
                                    SCORES)
        changes = page.page.evaluate(
            "xs => xs.map(x => window.wijkkompas.changeClass(x).code)", CHANGES)
        assert scores == classify(pd.Series(SCORES, dtype="float64")).tolist()
        assert changes == classify_change(pd.Series(CHANGES, dtype="float64"),
                                          THRESHOLD).tolist()
        assert page.fills() == [ALL_CLASSES[2].colour]  # 99.5: "rond het gemiddelde"
        page.choose("maat", "basis")  # +7 with a threshold of 5: "verbeterd"
        assert page.fills() == [CHANGE_CLASSES[3].colour]
        assert page.page.inner_text(".wk-legend").count("\n") >= len(ALL_CHANGE_CLASSES)
        assert page.errors == [] and page.dialogs == []


def test_kompas_map_js_uses_the_bounds_it_is_sent(tmp_path, browser):
    # Other change bounds (1.5 and 3 times the threshold): the page follows them.
    wider = tuple(ScoreClass(c.code, c.label, c.lower * 1.5, c.upper * 1.5, c.colour,
                             c.lower_counts, c.upper_counts) for c in CHANGE_CLASSES)
    payload = _kompas_payload(page_classes((*wider, ALL_CHANGE_CLASSES[-1])))
    path = _kompas_page(tmp_path, payload)
    with opened(browser, path) as page:
        changes = page.page.evaluate(
            "xs => xs.map(x => window.wijkkompas.changeClass(x).code)", CHANGES)
        values = np.array([np.nan if x is None else x for x in CHANGES]) / THRESHOLD
        expected = [0 if np.isnan(v) else next(c.code for c in wider if c.contains(
            pd.Series([v])).iloc[0]) for v in values]
        assert changes == expected
        assert changes != classify_change(pd.Series(CHANGES, dtype="float64"),
                                          THRESHOLD).tolist()
        assert page.errors == []


@pytest.mark.parametrize("gedeeld", [True, False])
def test_vlekkenkaart_js_draws_a_small_payload(tmp_path, browser, gedeeld):
    buurt = {"type": "Feature", "geometry": SQUARE, "properties": {
        "c": "BU01411000", "n": "Binnenstad Noord", "t": [["Huisarts", 1]], "r": 1, "i": 0.4}}
    payload = {"gedeeld": gedeeld, "bandbreedte": 300,
               "vlekken": {"type": "FeatureCollection", "features": [
                   {"type": "Feature", "geometry": SQUARE, "properties": {"n": 1, "d": 0.5}}]},
               "vlekkleuren": ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"],
               "punten": {"n": ["Praktijk"], "ci": [1], "v": [0], "k": [2],
                          "ll": [[52.35, 6.65]]},
               "categorieen": [
                   {"naam": "Opvang", "kleur": "#0072B2", "vorm": "cirkel", "getekend": 0,
                    "geteld": 0, "voorbeeld": 0, "verborgen": gedeeld},
                   {"naam": "Huisarts", "kleur": "#E69F00", "vorm": "vierkant", "getekend": 1,
                    "geteld": 1, "voorbeeld": 0, "verborgen": False}],
               "titel": "Zorglocaties in Almelo", "inleiding": "Uitleg.",
               "buurten": {"type": "FeatureCollection", "features": [buurt]},
               "buurtaantal": 1, "rangvan": 1, "gevoelig": ["Opvang"],
               "draagkrachtkleuren": ["#54278f", "#9e9ac8", "#dadaeb", "#f2f0f7"],
               "draagkrachtdelen": [0.2, 0.4, 0.6, 1.0], "geengegevens": "#bdbdbd",
               "voorbeeld": None, "bronnen": ["eigen registratie, peildatum 2024"],
               "gemaakt": "7 december 2026"}
    if not gedeeld:
        payload["toets"] = {"ll": [52.35, 6.65], "stralen": [250, 500], "tekst": "Toets\nregel"}
    path = _page(tmp_path, ["escape.js", "vlekkenkaart.js"], "vlekkenkaart.css",
                 f"vlekkenkaartKaart(map, {script_safe_json(payload)});")
    with opened(browser, path, ready="window.vlekkenkaart") as page:
        legend = page.page.inner_text(".vk-legenda")
        assert "bandbreedte 300 m" in legend
        assert ("Opvang\nalleen als aantal per buurt" in legend) == gedeeld
        layers = page.page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label", "ls => ls.map(l => l.innerText.trim())")
        assert ("Toets" in layers) == (not gedeeld)
        assert page.errors == [] and page.dialogs == []


def test_kompas_map_js_reads_the_columns(tmp_path, browser):
    """Two areas in columns: each tooltip shows its own name, score or reason (from the
    shared list) and at most ``tipmax`` indicators that have a value, in the given order."""
    payload = _kompas_payload(page_classes(ALL_CHANGE_CLASSES))
    east = {"type": "Polygon", "coordinates": [[[6.8, 52.3], [6.9, 52.3], [6.9, 52.4],
                                                 [6.8, 52.4], [6.8, 52.3]]]}
    names = [[f"Indicator {n}", "%"] for n in range(8)]
    first = [None, 1.5, None, 3.5, 4.5, 5.5, 6.5, 7.5]  # seven values; six are shown
    payload |= {"indicatoren": names, "redenen": ["te weinig cijfers", "geheim"],
                "tipmax": 6}
    payload["geo"]["wijk"] = {
        "c": ["WK014115", "WK014116"], "n": [None, "Oost"],
        "g": [delta_rings(shape(SQUARE)), delta_rings(shape(east))],
        "s": {"t|2015": [None, 130.0]}, "d": {}, "b": {}, "r": {"t|2015": [1, None]},
        "v": {"t|2015": [[n, [x, 2.0 if n == 7 else None]] for n, x in enumerate(first)]}}
    path = _kompas_page(tmp_path, payload)
    with opened(browser, path) as page:
        tips = page.page.evaluate("""() => {
            const out = [];
            window.wijkkompas.layers.wijk.eachLayer(layer => {
                layer.openTooltip(layer.getBounds().getCenter());
                const tip = layer.getTooltip().getElement();
                out.push([tip.innerText.split('\\n').slice(0, 5), [...tip.querySelectorAll('tr')]
                    .map(r => r.innerText.replace('\\t', ' | '))]);
                layer.closeTooltip();
            });
            return out;
        }""")
        fills = page.fills()
        assert page.errors == []
    assert tips[0][0][:5] == ["WK014115 (WK014115)", "Thema, 2015", "score geen data",
                              "geen data", "geheim"]
    assert tips[0][1] == [f"Indicator {n} | {x:.1f} %".replace(".", ",")
                          for n, x in enumerate(first) if x is not None][:6]
    assert tips[1][0][:4] == ["Oost (WK014116)", "Thema, 2015", "score 130",
                              "veel gunstiger dan gemiddeld"]
    assert tips[1][1] == ["Indicator 7 | 2,0 %"]
    assert fills == [ALL_CLASSES[-1].colour, ALL_CLASSES[4].colour]


def test_packing_js_unpacks_what_python_packs(tmp_path, browser):
    """packing.js reads every packed column as Python's unpack_numbers does: large and
    negative numbers, decimals, -0 and missing."""
    columns = [[None, 0, 1, 44, 45, 2024, 2025, 91124, 91125, 10**12, -(10**12)],
               [102.145, -18.525, None, 0.001, -0.0, 0.0, 99.999, 100.0, 150.5],
               [34.2, 216.2, 0.3, 284, None, -0.0, -0.1, 3500], [None, None], [], [-0.0]]
    packed = [pack_numbers(c) for c in columns]
    path = _page(tmp_path, ["packing.js"], "kompas_map.css", "window.klaar = true;")
    with opened(browser, path, ready="window.klaar") as page:
        got = page.page.evaluate("""cols => cols.map(c => wkUnpackNumbers(c).map(
            x => [x, Object.is(x, -0)]))""", packed)
        assert page.errors == []
    expected = [[[x, x == 0 and math.copysign(1, x) < 0] for x in unpack_numbers(p)]
                for p in packed]
    assert got == expected
    assert [[x for x, _ in c] for c in got] == columns
