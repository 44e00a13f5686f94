"""The dialogue export in a real headless Chromium (Debian's chromium, driven by Playwright),
with every network request blocked, on the real Almelo data."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.browser import TILE_HOST, opened
from tests.helpers import import_almelo, page_data
from wijkkompas.indicatoren.stage import run_build
from wijkkompas.kompas.results import load_processed
from wijkkompas.kompas.stage import run_kompas
from wijkkompas.output.export import run_export
from wijkkompas.output.profile import indicator_label
from wijkkompas.web.geometry import web_geometry
from wijkkompas.web.numbers import nl_number

EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_INDICATOR = "<script>alert(2)</script> meldingen"


@pytest.fixture(scope="module")
def pages(shared, tmp_path_factory):
    """Exports of the real data, with one buurt and one local indicator named to attack."""
    data = tmp_path_factory.mktemp("export") / "data"
    geo = gpd.read_file(shared / "geo" / "almelo_buurten_2021_epsg28992.geojson")
    geo.loc[geo["buurtcode"] == "BU01411501", "buurtnaam"] = EVIL_NAME
    evil_geo = data.parent / "buurten_2021.gpkg"
    geo.to_file(evil_geo, driver="GPKG")
    import_almelo(data, shared, buurten_2021=evil_geo)
    lokaal = data.parent / "lokaal.toml"
    lokaal.write_text(f"""bestanden = ["cijfers.csv"]
[indicator.meldingen_openbare_ruimte]
naam = "{EVIL_INDICATOR}"
eenheid = "per 1.000 inwoners"
bron = "test"
soort = "objectief"
berekening = "per_1000"
""", encoding="utf-8")
    (data.parent / "cijfers.csv").write_text(
        "gebiedscode,jaar,indicator,waarde,teller,noemer\n"
        "WK014115,2021,meldingen_openbare_ruimte,74.8,243,3250\n", encoding="utf-8")
    run_build(data, lokaal, say=lambda _: None)
    run_kompas(data, say=lambda _: None)
    processed = load_processed(data)
    written = run_export(processed, data / "export", say=lambda _: None)
    return processed, {p.stem.split("_")[1]: p for p in written}


def _inside(processed, niveau, code):
    """A point inside the area as the page draws it (simplified geometry)."""
    areas = web_geometry(processed.boundaries(niveau))
    point = areas.loc[areas["gebiedscode"] == code].geometry.iloc[0].representative_point()
    return point.x, point.y


def test_gemeente_page_works_offline(pages, browser):
    processed, files = pages
    with opened(browser, files["GM0141"]) as page:
        assert page.errors == []
        assert len(page.fills()) == 12  # one shape per wijk
        page.choose("niveau", "buurt")
        assert len(page.fills()) == 71  # one shape per buurt
        assert page.page.inner_text(".wk-legend").count("geen data") == 1
        # Nothing but the base-map tiles was asked from the network, and that was blocked.
        assert page.requests and all(u.startswith(TILE_HOST) for u in page.requests)
        assert page.dialogs == []


def test_changing_theme_and_year_changes_the_colours(pages, browser):
    _, files = pages
    with opened(browser, files["GM0141"]) as page:
        page.choose("thema", "werk_inkomen")
        page.choose("jaar", 2015)
        before = page.fills()
        assert len(set(before)) >= 4  # several classes in 2015
        page.choose("jaar", 2021)  # no theme score in 2021: the value of an indicator
        assert page.page.input_value("#wk-maat") == "waarde"
        assert "(waarde, geen oordeel)" in page.page.inner_text(".wk-legend")
        after = page.fills()
        assert after != before and len(set(after) - {"#bdbdbd"}) >= 4
        page.choose("jaar", 2015)  # back on a year with scores: the score again
        assert page.page.input_value("#wk-maat") == "score"
        assert page.fills() == before
        page.choose("maat", "basis")
        assert page.fills() != before  # the change map has its own palette
        assert "Verandering" in page.page.inner_text(".wk-legend")
        assert page.errors == []


def test_tooltip_shows_the_right_value(pages, browser):
    processed, files = pages
    themes = processed.result.themes
    expected = themes[(themes.gebiedscode == "WK014115") & (themes.jaar == 2015)
                      & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")].score.iloc[0]
    with opened(browser, files["GM0141"]) as page:
        page.choose("thema", "werk_inkomen")
        page.choose("jaar", 2015)
        text = page.hover_area("WK014115", *_inside(processed, "wijk", "WK014115"))
        assert "WK014115" in text and "Werk en inkomen, 2015" in text
        assert f"score {expected:.0f}" in text
        assert text.startswith("Wijk 15 Nieuwstraat-Kwartier (WK014115)")
        assert "veel ongunstiger dan gemiddeld" in text
        assert "Personen met bijstand" in text


def _expected_tooltips(processed, niveau, thema, jaar):
    """Per area: the first line, the score line and the indicator rows its tooltip must
    show, from the tables themselves (up to six indicators of the theme with a value, in
    the order of their codes)."""
    themes = processed.result.themes
    rows = themes[(themes.niveau == niveau) & (themes.thema == thema) & (themes.jaar == jaar)
                  & (themes.deel == "totaal")].set_index("gebiedscode")
    values = processed.result.indicators
    values = values[(values.niveau == niveau) & (values.thema == thema) & (values.jaar == jaar)
                    & values.waarde.notna()].sort_values("indicator")
    areas = processed.boundaries(niveau)
    expected = {}
    for code, naam in zip(areas.gebiedscode, areas.gebiedsnaam, strict=True):
        if not isinstance(naam, str):
            naam = rows.loc[code, "gebiedsnaam"] if code in rows.index else code
        score = rows.loc[code, "score"] if code in rows.index else float("nan")
        mine = values[values.gebiedscode == code].head(6)
        expected[code] = (f"{naam} ({code})", f"score {nl_number(score, 0)}", [
            [indicator_label(processed, i)[0],
             f"{nl_number(round(v, 1), 1)} {indicator_label(processed, i)[1]}".strip()]
            for i, v in zip(mine.indicator, mine.waarde, strict=True)])
    return expected


def test_every_tooltip_shows_its_own_values(pages, browser):
    """The compact page data (columns, shared lists of names and reasons) gives every area
    its own name, score and indicator values."""
    processed, files = pages
    with opened(browser, files["GM0141"]) as page:
        for niveau, thema, jaar in (("buurt", "werk_inkomen", 2015), ("wijk", "zorg_welzijn", 2021),
                                    ("buurt", "leefomgeving", 2021)):
            page.choose("niveau", niveau)
            page.choose("thema", thema)
            page.choose("jaar", jaar)
            page.choose("maat", "score")  # 2021 has no scores: the map opens on a value
            shown = page.page.evaluate(r"""niveau => {
                const out = {};
                window.wijkkompas.layers[niveau].eachLayer(layer => {
                    layer.openTooltip(layer.getBounds().getCenter());
                    const tip = layer.getTooltip().getElement();
                    const lines = tip.innerText.split('\n');
                    const code = lines[0].match(/\((\w+)\)$/)[1];
                    out[code] = [lines[0], lines[2], [...tip.querySelectorAll('tr')].map(
                        r => [...r.cells].map(c => c.innerText.trim()))];
                    layer.closeTooltip();
                });
                return out;
            }""", niveau)
            expected = _expected_tooltips(processed, niveau, thema, jaar)
            assert {c: tuple(v) for c, v in shown.items()} == \
                {c: (a, b, list(r)) for c, (a, b, r) in expected.items()}
            assert any(rows for _, _, rows in expected.values())
        assert page.errors == []


def test_names_from_data_are_shown_as_text_and_run_nothing(pages, browser):
    processed, files = pages
    with opened(browser, files["WK014115"]) as page:
        page.choose("niveau", "buurt")
        page.choose("thema", "leefomgeving")
        page.choose("jaar", 2021)
        text = page.hover_area("BU01411501", *_inside(processed, "buurt", "BU01411501"))
        assert EVIL_NAME in text
        assert page.page.locator("img[src='x']").count() == 0
        body = page.page.inner_text("body")
        assert EVIL_INDICATOR in body  # the local indicator's name, in the table, as text
        assert page.dialogs == [] and page.errors == []


def test_wijk_page_has_chart_table_and_its_own_areas(pages, browser):
    processed, files = pages
    with opened(browser, files["WK014115"]) as page:
        # One chart shown: of the wide, narrow and print layouts the one for this screen.
        assert page.page.locator(".wk-kompas svg").count() == 3
        assert page.page.locator(".wk-kompas svg:visible").count() == 1
        # The themes beside the kompas, the indicators, those without a figure (closed).
        for part in ("kompas", "indicatoren", "zonder-cijfer"):
            assert page.page.locator(f"#wk-{part} table.wk-tabel").count() == 1, part
        assert len(page.fills()) == 1  # the wijk itself
        page.choose("niveau", "buurt")
        buurten = processed.boundaries("buurt")
        expected = buurten["gebiedscode"].str.startswith("BU014115").sum()
        assert len(page.fills()) == expected
        assert "Bronnen" in page.page.inner_text(".wk-voet")
        assert page.errors == []


def test_export_is_self_contained_and_small(pages):
    processed, files = pages
    wijken = sorted(processed.boundaries("wijk")["gebiedscode"])
    assert sorted(files) == sorted(["GM0141", *wijken])
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        assert "<script src" not in text and 'rel="stylesheet" href' not in text
        assert path.stat().st_size < 1_000_000
        data = page_data(text)
        assert data["gemeente"] == "Almelo" and data["jaren"] == [2015, 2021], name
        shown = sorted(data["geo"]["wijk"]["c"])
        assert shown == (wijken if name == "GM0141" else [name]), name
