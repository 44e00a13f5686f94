"""The shared vlekkenkaart page as a reader sees it, in a real headless Chromium: title,
legend, draagkracht scale, the VOORBEELD banner, totals without invented locations, and one
rank denominator on the map and in toets.txt."""

from __future__ import annotations

import re

import pandas as pd

from tests.browser import OVERFLOW, SCREENS, TILE_HOST, opened, zoom_allowed
from tests.helpers import ZORG_CATEGORIES, today_in_dutch, zorg_toml
from wijkkompas.vlekkenkaart.stage import build_vlekkenkaart, write_outputs
from wijkkompas.vlekkenkaart.toets import run_toets
from wijkkompas.vlekkenkaart.zorglocaties import read_config

IN_1000 = (241947, 486382)  # BU01411000 Binnenstad Noord (RD, metres)

CATEGORIES = {**ZORG_CATEGORIES, "ggz": ("GGZ", False)}
REAL = {"bestand": "echt.csv", "bron": "eigen registratie", "categorie_kolom": "categorie"}
EXAMPLE = {"bestand": "verzonnen.csv", "bron": "proef", "voorbeeld": True,
           "categorie_kolom": "categorie"}
HEADER = "naam,categorie,capaciteit,x,y\n"


def _write(tmp_path, with_example: bool, **extra: object):
    x, y = IN_1000
    (tmp_path / "echt.csv").write_text(
        HEADER + f"Praktijk Echt,huisarts,,{x},{y + 50}\n"
        f"Opvang A,opvang,20,{x},{y}\n" f"GGZ Centrum,ggz,8,{x + 300},{y - 200}\n",
        encoding="utf-8")
    (tmp_path / "verzonnen.csv").write_text(
        HEADER + f"Praktijk Verzonnen,huisarts,,{x + 80},{y}\n", encoding="utf-8")
    path = tmp_path / "zorg.toml"
    datasets = [REAL, EXAMPLE] if with_example else [REAL]
    path.write_text(zorg_toml(CATEGORIES, datasets, **extra), encoding="utf-8")
    return read_config(path)


def _shared_page(processed, tmp_path, with_example: bool, **extra: object):
    config = _write(tmp_path, with_example, **extra)
    vk = build_vlekkenkaart(processed, config)
    toets = run_toets(processed, vk.located, config, IN_1000[0] + 60, IN_1000[1], "huisarts")
    write_outputs(processed, vk, tmp_path / "uit", toets, say=lambda _: None)
    return tmp_path / "uit"


def _tooltip(page, code: str) -> str:
    return page.page.evaluate(
        "code => { const l = window.vlekkenkaart.counts.getLayers()"
        ".find(x => x.feature.properties.c === code); l.openTooltip(l.getBounds().getCenter());"
        " return l.getTooltip().getElement().innerText; }", code)


def test_title_legend_and_banner_with_example_data(processed, tmp_path, browser):
    out = _shared_page(processed, tmp_path, with_example=True)
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart") as page:
        p = page.page
        assert p.inner_text(".vk-kop h1") == "Zorglocaties in Almelo"
        assert "vlekken" in p.inner_text(".vk-kop p")
        entries = p.eval_on_selector_all(".vk-categorieen li", "ls => ls.map(l => l.innerText)")
        assert entries == ["Maatschappelijke opvang\nalleen als aantal per buurt, niet als punt",
                           "Huisartsenpraktijk (2 op de kaart, waarvan 1 VOORBEELD)",
                           "GGZ (1 op de kaart)"]
        legend = p.eval_on_selector_all(".vk-categorieen li svg g", "gs => gs.map(g => "
                                        "[g.getAttribute('fill'), g.firstChild.tagName])")
        assert len(legend) == 2 and legend[0] != legend[1]
        assert len({fill for fill, _ in legend}) == 2  # a colour of its own
        assert len({shape for _, shape in legend}) == 2  # and a shape of its own, for print
        markers = p.eval_on_selector_all(".vk-punt svg g", "gs => gs.map(g => "
                                         "[g.getAttribute('fill'), g.firstChild.tagName, "
                                         "g.getAttribute('stroke-dasharray')])")
        assert sorted(markers, key=str) == sorted(
            [[*legend[0], None], [*legend[0], "2 1.5"], [*legend[1], None]], key=str)
        tips = p.evaluate("() => window.vlekkenkaart.points.getLayers().map(l => {"
                          " l.openTooltip(); return l.getTooltip().getElement().innerText; })")
        assert sorted(tips) == [
            "GGZ Centrum\nGGZ\ncapaciteit: 8",
            "Praktijk Echt\nHuisartsenpraktijk\ncapaciteit: onbekend",
            "VOORBEELD (verzonnen locatie)\nPraktijk Verzonnen\nHuisartsenpraktijk\n"
            "capaciteit: onbekend"]
        banner = p.inner_text(".vk-voorbeeld")
        assert "VOORBEELD" in banner and "1 verzonnen locatie(s)" in banner
        assert "tellen niet mee" in banner
        scale = p.inner_text(".vk-draagkracht")
        assert "minste draagkracht" in scale and "geen gegevens" in scale
        tip = _tooltip(page, "BU01411000")
        assert "Huisartsenpraktijk: 1\n" in tip  # the invented practice is not counted
        assert "GGZ: 1\n" in tip
        assert "zorglocaties (zonder gevoelige): 2\n" in tip  # huisarts and GGZ
        assert page.errors == []
        assert all(r.startswith(TILE_HOST) for r in page.requests)  # only the base map
    measures = pd.read_csv(out / "zorglocaties_maten_gedeeld.csv")
    row = measures[(measures.gebiedscode == "BU01411000") & (measures.categorie == "huisarts")]
    assert row.aantal.tolist() == ["1"]


def test_no_banner_without_example_data(processed, tmp_path, browser):
    out = _shared_page(processed, tmp_path, with_example=False)
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart") as page:
        assert page.page.query_selector(".vk-voorbeeld") is None
        assert "stippelrand" not in page.page.inner_text(".vk-legenda")
        entries = page.page.eval_on_selector_all(".vk-categorieen li",
                                                 "ls => ls.map(l => l.innerText)")
        assert entries[1:] == ["Huisartsenpraktijk (1 op de kaart)", "GGZ (1 op de kaart)"]
        tip = _tooltip(page, "BU01411000")
        assert "zorglocaties (zonder gevoelige): 2\n" in tip


def test_example_data_counted_only_when_asked(processed, tmp_path, browser):
    out = _shared_page(processed, tmp_path, with_example=True,
                       voorbeeld_meetellen=True)
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart") as page:
        banner = page.page.inner_text(".vk-voorbeeld")
        assert "tellen mee" in banner and "niet als echte informatie" in banner
        tip = _tooltip(page, "BU01411000")
        assert "Huisartsenpraktijk: 2\n" in tip
        assert "zorglocaties (zonder gevoelige): 3\n" in tip


def test_one_rank_denominator_on_the_map_and_in_the_toets(processed, tmp_path, browser):
    out = _shared_page(processed, tmp_path, with_example=False)
    carry = pd.read_csv(out / "zorglocaties_draagkracht.csv")
    ranked = int(carry["rang"].notna().sum())
    toets = (out / "toets.txt").read_text(encoding="utf-8")
    rank = int(carry.set_index("gebiedscode").loc["BU01411000", "rang"])
    assert f"Draagkracht van de buurt: rang {rank} van {ranked} " in toets
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart") as page:
        tip = _tooltip(page, "BU01411000")
        assert f"draagkracht: rang {rank} van {ranked} (1 = minste draagkracht)" in tip
        scale = page.page.inner_text(".vk-draagkracht")
        assert f"van {ranked} buurten met gegevens" in scale
        first = int(0.2 * ranked)
        assert f"rang 1 t/m {first} (minste draagkracht)" in scale
        assert re.search(rf"rang \d+ t/m {ranked} \(meeste draagkracht\)", scale)


#: The share of the map (0 to 1) under its controls (title, warning, layer choice, legend,
#: toets), from a grid of points over the map.
COVERED = """() => {
    const map = document.querySelector('.leaflet-container').getBoundingClientRect();
    let under = 0, all = 0;
    for (let x = map.left + 5; x < map.right; x += 10) {
        for (let y = map.top + 5; y < map.bottom; y += 10) {
            all += 1;
            const e = document.elementFromPoint(x, y);
            if (e && e.closest('.leaflet-control')) { under += 1; }
        }
    }
    return under / all;
}"""


def _visible_in_view(page, selector):
    """Whether the middle of ``selector`` is on the screen and not covered by another."""
    return page.eval_on_selector(selector, """e => {
        const r = e.getBoundingClientRect();
        const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
        return r.width > 0 && r.bottom <= innerHeight && r.right <= innerWidth
            && e.contains(document.elementFromPoint(x, y));
    }""")


def test_on_a_phone_the_map_and_the_warning_stay_visible(processed, tmp_path, browser):
    """At 390 px the title, the layer choice and the legend start folded: most of the map
    shows, and the VOORBEELD warning stays in view; a tap opens the legend. At 360 px
    nothing is wider than the screen; pinch-zoom is allowed."""
    out = _shared_page(processed, tmp_path, with_example=True)
    for name in ("vlekkenkaart_gedeeld.html", "toets_intern.html"):
        with opened(browser, out / name, ready="window.vlekkenkaart",
                    size=SCREENS[1]) as page:
            p = page.page
            assert zoom_allowed(p), name
            assert p.evaluate(COVERED) < 0.25, name
            assert _visible_in_view(p, ".vk-voorbeeld"), name
            assert p.query_selector(".leaflet-control-layers-expanded") is None, name
            assert p.eval_on_selector_all(".vk-vouw", "ds => ds.map(d => d.open)") == \
                [False] * len(p.query_selector_all(".vk-vouw")), name
            p.click(".vk-legenda summary")
            assert "Huisartsenpraktijk" in p.inner_text(".vk-legenda"), name
            assert page.errors == []
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart",
                size=SCREENS[0]) as page:
        found = page.page.evaluate(OVERFLOW)
        assert found["page"] <= found["screen"] and found["wide"] == [], found


def test_on_a_laptop_the_panels_are_open(processed, tmp_path, browser):
    out = _shared_page(processed, tmp_path, with_example=True)
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart",
                size=SCREENS[2]) as page:
        assert page.page.eval_on_selector_all(".vk-vouw", "ds => ds.map(d => d.open)") == \
            [True, True]
        assert page.page.query_selector(".leaflet-control-layers-expanded") is not None


def test_sources_with_dates_and_the_toets_on_the_map(processed, tmp_path, browser):
    """The shared map names the source and date of the care locations and the day it was
    made; the toets map shows the toets (as in toets.txt) and a legend of the proposed
    location and its rings."""
    out = _shared_page(processed, tmp_path, with_example=False)
    today = today_in_dutch()
    with opened(browser, out / "vlekkenkaart_gedeeld.html", ready="window.vlekkenkaart") as page:
        sources = page.page.inner_text(".vk-bronnen")
        assert page.page.query_selector(".vk-toets") is None  # no toets on the shared map
    assert f"eigen registratie (bestand van {today})" in sources
    assert f"Kaart gemaakt op {today}." in sources
    toets = (out / "toets.txt").read_text(encoding="utf-8").strip()
    with opened(browser, out / "toets_intern.html", ready="window.vlekkenkaart") as page:
        shown = page.page.inner_text(".vk-toetstekst")
        legend = page.page.inner_text(".vk-toetslegenda")
        assert page.errors == []
    assert shown.strip() == toets
    assert "voorgestelde locatie" in legend and "afstand 250, 500, 1.000 m" in legend
