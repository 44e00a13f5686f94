"""Hostile text in every field that reaches an output (issues #10, #11, #16).

Template syntax, markup and paths go into area names from CBS (the loopback OData server),
from PDOK and from an imported wijk- en buurtkaart, into the names, units and source of a
local indicator, the names and a code of the kompas themes, the gemeente's name in the
kompas file, and the names of care locations and their categories. The real command line
then fetches, imports, builds, exports and draws the vlekkenkaart. Nothing may be
evaluated, nothing may run in Chromium, every text must show as itself, and nothing may be
written outside ``--out``.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import geopandas as gpd
import pytest

from tests.browser import opened
from tests.fixtures.geo import almelo_layers
from tests.fixtures.kwb import table_2023, table_2024
from tests.fixtures.politie import table_47018
from tests.helpers import import_almelo, toml_value, zorg_toml
from tests.servers import CbsServer, PdokServer
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import check_code
from wijkkompas.kompas.results import load_processed
from wijkkompas.output.export import run_export

#: The pieces every hostile text is made of: Jinja expressions and statements (one that
#: would create a folder PWN in the working directory), HTML that would run script, a path
#: that leaves its folder, and template syntax left open.
PIECES = ("{{ 7*7 }}", "{% if true %}JA{% endif %}", "<script>window.__pwned=1</script>",
          '"><img src=x onerror="window.__pwned=1">', "../../PWN",
          "{{ lipsum.__globals__.os.mkdir(dict(PWN=1)|first) }}", "{{ open", "{# open")
EVIL_CODE = 'werk_inkomen"><img src=x onerror="window.__pwned=1">'
CARE_XY = (241947, 486382)  # in BU01411000 Binnenstad Noord (RD)


def hostile(label: str) -> str:
    """A text that names its field, followed by every hostile piece."""
    return " ".join((label, *PIECES))


TEXTS = {field: hostile(field) for field in (
    "CBS-wijk", "CBS-buurt", "PDOK-wijk", "PDOK-buurt", "Kaart-buurt", "Indicator", "Eenheid",
    "Bron", "Thema", "Gemeente", "Zorglocatie", "Zorgsoort", "Gevoelig")}


def _everything(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _kompas_file(path: Path) -> Path:
    from wijkkompas.kompas.definition import default_path

    text = default_path().read_text(encoding="utf-8")
    # Almelo's kompas extends the basis-set: a [[thema]] with a basis code renames that theme,
    # a new code is a new theme; one basis indicator moves into it.
    text += (f"\n[[thema]]\ncode = \"werk_inkomen\"\nnaam = {toml_value(TEXTS['Thema'])}\n"
             f"\n[[thema]]\ncode = {toml_value(EVIL_CODE)}\nnaam = {toml_value(TEXTS['Thema'])}\n"
             f"\n[indicator.ww_per_1000]\nthema = {toml_value(EVIL_CODE)}\n")
    path.write_text(text, encoding="utf-8")
    return path


def _lokaal_file(folder: Path) -> Path:
    (folder / "cijfers.csv").write_text(
        "gebiedscode,jaar,indicator,waarde,teller,noemer\n"
        "WK014115,2021,meldingen_openbare_ruimte,74.8,243,3250\n", encoding="utf-8")
    path = folder / "lokaal.toml"
    path.write_text(f"""bestanden = ["cijfers.csv"]
[indicator.meldingen_openbare_ruimte]
naam = {toml_value(TEXTS['Indicator'])}
eenheid = {toml_value(TEXTS['Eenheid'])}
bron = {toml_value(TEXTS['Bron'])}
soort = "objectief"
berekening = "per_1000"
""", encoding="utf-8")
    return path


def _care_file(folder: Path) -> Path:
    x, y = CARE_XY
    name = TEXTS["Zorglocatie"].replace('"', '""')
    (folder / "locaties.csv").write_text(
        "naam,categorie,capaciteit,x,y,adres,postcode,plaats\n"
        f'"{name}",huisarts,12,{x},{y},,,\n'
        f"Opvang,opvang,5,{x + 80},{y},,,\n", encoding="utf-8")
    path = folder / "zorg.toml"
    path.write_text(zorg_toml({"huisarts": (TEXTS["Zorgsoort"], False),
                               "opvang": (TEXTS["Gevoelig"], True)}, bandbreedte_m=300),
                    encoding="utf-8")
    return path


def _servers() -> tuple[CbsServer, PdokServer]:
    table = table_2024()
    for region in table.regions:
        key = region["Key"].strip()
        if key == "WK014115":
            region["Title"] = TEXTS["CBS-wijk"]
        elif key == "GM0141":
            region["Title"] = TEXTS["Gemeente"]  # the gemeente's name comes from the data
        elif key == "BU01411000":
            region["Title"] = TEXTS["CBS-buurt"]
    layers = almelo_layers([2024])
    for feature in layers[(2024, "wijken")]:
        if feature["properties"]["wijkcode"] == "WK014110":
            feature["properties"]["wijknaam"] = TEXTS["PDOK-wijk"]
    for feature in layers[(2024, "buurten")]:
        if feature["properties"]["buurtcode"] == "BU01411001":
            feature["properties"]["buurtnaam"] = TEXTS["PDOK-buurt"]
    return (CbsServer([table, table_2023()]).start(),
            PdokServer(layers, page_size=30).start())


@pytest.fixture(scope="module")
def run(shared, tmp_path_factory):
    """The whole yearly update on hostile inputs, by the command line, in a fresh folder
    that is also the working directory."""
    root = tmp_path_factory.mktemp("vijandig")
    inputs, work, data, out, vk_out = (root / n for n in ("invoer", "werkmap", "data",
                                                          "export", "vlekkenkaart"))
    inputs.mkdir()
    work.mkdir()
    geo = gpd.read_file(shared / "geo" / "almelo_buurten_2021_epsg28992.geojson")
    geo.loc[geo["buurtcode"] == "BU01411501", "buurtnaam"] = TEXTS["Kaart-buurt"]
    kaart = inputs / "buurten_2021.gpkg"
    geo.to_file(kaart, driver="GPKG")
    kompas = _kompas_file(inputs / "kompas.toml")
    lokaal = _lokaal_file(inputs)
    zorg = _care_file(inputs)
    cbs, pdok = _servers()
    politie = CbsServer([table_47018()], page_size=7).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(work)
            for name, value in {"WIJKKOMPAS_CBS_URL": cbs.url, "WIJKKOMPAS_PDOK_URL": pdok.url,
                                "WIJKKOMPAS_POLITIE_URL": politie.url,
                                "WIJKKOMPAS_TIMEOUT": "2", "WIJKKOMPAS_RETRIES": "1",
                                "WIJKKOMPAS_BACKOFF": "0"}.items():
                patch.setenv(name, value)
            import_almelo(data, shared, buurten_2021=kaart)
            assert main(["fetch", "--jaren", "2024", "--data-dir", str(data)]) == 0
            assert main(["build", "--data-dir", str(data), "--lokaal", str(lokaal),
                         "--kompas", str(kompas)]) == 0
            before = _everything(root)
            assert main(["export", "--data-dir", str(data), "--kompas", str(kompas),
                         "--out", str(out)]) == 0
            assert main(["vlekkenkaart", "--data-dir", str(data),
                         "--zorglocaties", str(zorg), "--toets", f"{CARE_XY[0] + 40},"
                         f"{CARE_XY[1]}", "--categorie", "huisarts", "--out",
                         str(vk_out)]) == 0
            after = _everything(root)
    finally:
        cbs.stop()
        pdok.stop()
        politie.stop()
    return {"root": root, "work": work, "data": data, "out": out, "vk_out": vk_out,
            "kompas": kompas, "new": after - before}


def _visible(html: str) -> str:
    """The text of a page as a reader sees it, scripts left out."""
    html = re.sub(r"<script>.*?</script>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", "", html))


def _data(html: str) -> dict:
    match = re.search(r"var data = (\{.*?\});\n", html, flags=re.S)
    assert match, "the map data is not in the page"
    return json.loads(match.group(1))


def _texts(value: object) -> list[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def test_nothing_is_created_outside_the_output_folders(run):
    assert run["new"], "the run wrote nothing"
    outside = {p for p in run["new"]
               if not (p == "export" or p.startswith("export/") or p == "vlekkenkaart"
                       or p.startswith("vlekkenkaart/"))}
    assert outside == set()
    assert list(run["work"].iterdir()) == []  # no folder PWN in the working directory
    names = sorted(p.name for p in run["out"].iterdir())
    assert "wijkkompas_GM0141.html" in names and "wijkkompas_WK014115.html" in names
    assert all(re.fullmatch(r"wijkkompas_(GM\d{4}|WK\d{6})\.html", n) for n in names)


def test_gemeente_page_shows_every_text_as_itself(run):
    html = (run["out"] / "wijkkompas_GM0141.html").read_text(encoding="utf-8")
    visible = _visible(html)
    # The page's own HTML: title, heading, table of scores per wijk, sources.
    for field in ("Gemeente", "Thema", "Bron"):
        assert TEXTS[field] in visible, field
    assert f"<title>Wijkkompas {_escaped(TEXTS['Gemeente'])}</title>" in html
    # The map's data: names as they are, for the script to escape.
    data = _texts(_data(html))
    for field in ("Gemeente", "Thema", "PDOK-wijk", "PDOK-buurt"):
        assert TEXTS[field] in data, field
    assert EVIL_CODE in data
    _nothing_evaluated(html)


def test_wijk_page_shows_every_text_as_itself(run):
    html = (run["out"] / "wijkkompas_WK014115.html").read_text(encoding="utf-8")
    visible = _visible(html)
    # Title, profile table (indicator, theme, source) and sources.
    for field in ("Indicator", "Bron", "Thema", "Gemeente"):
        assert TEXTS[field] in visible, field
    # The unit of the local indicator is in the map's tooltips (2021, its only year).
    assert TEXTS["Eenheid"] in _texts(_data(html))
    # The CBS title of the wijk (its latest name) heads the kompas chart; matplotlib
    # writes it into the SVG as text, escaped. The kompas shows the latest scored year.
    assert re.search(re.escape(">Wijkkompas " + _xml_escaped(TEXTS["CBS-wijk"]) + ", ")
                     + r"20\d\d</text>", html)
    _nothing_evaluated(html)


def _xml_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _nothing_evaluated(html: str) -> None:
    # Markup from data never stands in the page as markup.
    for piece in ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">',
                  '"><img src=x'):
        assert piece not in html
    # Each template piece is still there, as written, as often as the others: none was
    # evaluated (in the page's HTML, its SVG or its JSON). The kompas chart wraps a long
    # text over lines, one SVG <text> each, at a space: those lines are read as one again.
    html = re.sub(r"</text><text [^>]*>", " ", html)
    counts = {piece: html.count(piece) for piece in (PIECES[0], PIECES[1], PIECES[5])}
    assert len(set(counts.values())) == 1 and counts[PIECES[0]] > 0, counts


def test_vlekkenkaart_shows_every_text_as_itself(run):
    shared_page = (run["vk_out"] / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8")
    data = _texts(_data(shared_page))
    assert TEXTS["Zorglocatie"] in data and TEXTS["Zorgsoort"] in data
    assert TEXTS["Gevoelig"] in data  # named in the legend, never as a point
    _nothing_evaluated(shared_page)
    internal = (run["vk_out"] / "toets_intern.html").read_text(encoding="utf-8")
    assert any(TEXTS["Zorgsoort"] in t for t in _texts(_data(internal)))
    _nothing_evaluated(internal)


def _no_attack_ran(page) -> None:
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.locator("img[src='x']").count() == 0
    assert page.dialogs == [] and page.errors == []


def _all_tooltips(page, layers: str) -> list[str]:
    """Open the tooltip of every area or point of ``layers`` (a JS expression) and return
    their texts: every tooltip script runs."""
    return page.page.evaluate(f"""() => {{
        const texts = [];
        {layers}.forEach(group => group.eachLayer(layer => {{
            const where = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
            layer.openTooltip(where);
            texts.push(layer.getTooltip().getElement().innerText);
            layer.closeTooltip();
        }}));
        return texts;
    }}""")


def test_nothing_runs_in_the_browser_on_the_gemeente_page(run, browser):
    with opened(browser, run["out"] / "wijkkompas_GM0141.html") as page:
        text = page.page.inner_text("body")
        for field in ("Gemeente", "Thema", "Bron"):
            assert TEXTS[field] in text, field
        # The hostile theme code is an option value, exactly as written.
        values = page.page.eval_on_selector_all("#wk-thema option", "os => os.map(o => o.value)")
        assert EVIL_CODE in values
        page.page.select_option("#wk-thema", EVIL_CODE)
        page.page.select_option("#wk-jaar", "2015")
        tips = []
        for niveau in ("wijk", "buurt"):
            page.choose("niveau", niveau)
            tips += _all_tooltips(page, f"[window.wijkkompas.layers.{niveau}]")
        joined = "\n".join(tips)
        for field in ("PDOK-wijk", "PDOK-buurt", "Thema"):
            assert TEXTS[field] in joined, field
        _no_attack_ran(page)


def test_nothing_runs_in_the_browser_on_a_wijk_page(run, browser):
    with opened(browser, run["out"] / "wijkkompas_WK014115.html") as page:
        text = page.page.inner_text("body")
        for field in ("Indicator", "Bron", "Thema", "Gemeente"):
            assert TEXTS[field] in text, field
        page.choose("thema", "leefomgeving")
        page.choose("jaar", 2021)
        tips = _all_tooltips(page, "[window.wijkkompas.layers.wijk]")
        assert len(tips) == 1
        assert TEXTS["Indicator"] in tips[0] and TEXTS["Eenheid"] in tips[0]
        # No theme score in 2021: the map shows the value of an indicator, chosen by its
        # hostile name (an option's text), in the legend and the tooltip as text.
        assert page.page.input_value("#wk-maat") == "waarde"
        page.choose("indicator", page.page.eval_on_selector(
            "#wk-indicator", "(s, name) => [...s.options].find(o => o.text === name).value",
            TEXTS["Indicator"]))
        assert TEXTS["Indicator"] in page.page.inner_text(".wk-legend")
        tips = _all_tooltips(page, "[window.wijkkompas.layers.wijk]")
        assert TEXTS["Indicator"] in tips[0] and TEXTS["Eenheid"] in tips[0]
        _no_attack_ran(page)


@pytest.fixture(scope="module")
def imported(shared, tmp_path_factory):
    """A wijk- en buurtkaart with hostile buurt names, imported, built and exported for one
    wijk, in a fresh folder that is also the working directory."""
    root = tmp_path_factory.mktemp("kaart")
    work, data, out = root / "werkmap", root / "data", root / "export"
    work.mkdir()
    geo = gpd.read_file(shared / "geo" / "almelo_buurten_2021_epsg28992.geojson")
    geo.loc[geo["buurtcode"] == "BU01411501", "buurtnaam"] = TEXTS["Kaart-buurt"]
    kaart = root / "buurten_2021.gpkg"
    geo.to_file(kaart, driver="GPKG")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        import_almelo(data, shared, buurten_2021=kaart)
        assert main(["build", "--data-dir", str(data)]) == 0
        before = _everything(root)
        assert main(["export", "--data-dir", str(data), "--wijk", "WK014115",
                     "--out", str(out)]) == 0
        new = _everything(root) - before
    assert new == {"export", "export/wijkkompas_WK014115.html"}
    assert list(work.iterdir()) == []
    return out / "wijkkompas_WK014115.html"


def test_names_from_a_wijk_en_buurtkaart_show_as_themselves(imported, browser):
    html = imported.read_text(encoding="utf-8")
    assert TEXTS["Kaart-buurt"] in _texts(_data(html))
    _nothing_evaluated(html)
    with opened(browser, imported) as page:
        page.choose("niveau", "buurt")
        tips = _all_tooltips(page, "[window.wijkkompas.layers.buurt]")
        assert sum(TEXTS["Kaart-buurt"] in t for t in tips) == 1
        _no_attack_ran(page)


def test_nothing_runs_in_the_browser_on_the_vlekkenkaart(run, browser):
    for name in ("vlekkenkaart_gedeeld.html", "toets_intern.html"):
        with opened(browser, run["vk_out"] / name, ready="window.vlekkenkaart") as page:
            tips = _all_tooltips(page, "[window.vlekkenkaart.points]")
            assert any(TEXTS["Zorglocatie"] in t and TEXTS["Zorgsoort"] in t for t in tips)
            legend = " ".join(page.page.eval_on_selector_all(".vk-panel",
                                                             "els => els.map(e => e.innerText)"))
            assert TEXTS["Gevoelig"] in legend or name == "toets_intern.html"
            _no_attack_ran(page)


@pytest.mark.parametrize("code, niveau", [
    ("GM0141", "gemeente"), ("WK014115", "wijk"), ("BU01411501", "buurt"), ("NL00", "land"),
    ("WK014115", None)])
def test_valid_codes_pass(code, niveau):
    assert check_code(code, niveau) == code


@pytest.mark.parametrize("code, niveau", [
    ("WK0141/../../x", "wijk"), ("WK0141/../../x", None), ("WK01411", "wijk"),
    ("WK014115\n", "wijk"), ("BU01411501", "wijk"), ("wk014115", "wijk"), ("WK01411５", "wijk"),
    (None, None), (14115, "wijk"), ("", None)])
def test_invalid_codes_are_refused_with_one_dutch_line(code, niveau):
    with pytest.raises(WijkkompasError) as caught:
        check_code(code, niveau)
    message = str(caught.value)
    assert message.startswith(f"Ongeldige gebiedscode {code!r}: verwacht ")
    assert "\n" not in message.replace(repr(code), "")


def test_export_refuses_a_code_that_is_a_path(run, tmp_path):
    processed = load_processed(run["data"], run["kompas"])
    themes = processed.result.themes
    bad = "WK0141/../../x"
    themes.loc[themes["gebiedscode"] == "WK014115", "gebiedscode"] = bad
    out = tmp_path / "a" / "b" / "export"
    with pytest.raises(WijkkompasError, match=re.escape(repr(bad))):
        run_export(processed, out, say=lambda _: None)
    assert list(tmp_path.rglob("*")) == []  # nothing written, not even the other pages
    with pytest.raises(WijkkompasError, match="Ongeldige gebiedscode"):
        run_export(processed, out, wijk="../WK014115", say=lambda _: None)
    assert list(tmp_path.rglob("*")) == []
