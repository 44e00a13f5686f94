"""The wijk and gemeente pages as their readers see them, in headless Chromium, on the real
Almelo data (2015, 2021) with one local indicator measured in both years."""

from __future__ import annotations

import io
import re
from collections import Counter

import pandas as pd
import pytest
from pypdf import PdfReader

from tests.browser import LAYOUT, OVERFLOW, SCREENS, SMALLEST_TEXT, opened, zoom_allowed
from tests.helpers import import_almelo, today_in_dutch
from wijkkompas.indicatoren.stage import run_build
from wijkkompas.kompas.results import load_processed
from wijkkompas.kompas.stage import run_kompas
from wijkkompas.output.export import run_export
from wijkkompas.output.kompas_content import earlier_series
from wijkkompas.output.profile import indicator_label, profile_table
from wijkkompas.output.summary import latest_scored_year, summary_lines

#: Meldingen openbare ruimte per 1.000 inwoners (hoger is slechter), per wijk, 2015.
MELDINGEN_2015 = {"WK014110": 40, "WK014111": 50, "WK014112": 60, "WK014113": 70,
                  "WK014114": 80, "WK014115": 90, "WK014116": 100, "WK014117": 45,
                  "WK014118": 55, "WK014119": 65, "WK014120": 75, "WK014121": 85}
#: 2021: Binnenstad twice as many, De Riet the same, Noorderkwartier a third; Bornerbroek
#: not measured (its latest scored year stays 2015).
MELDINGEN_2021 = {**MELDINGEN_2015, "WK014110": 80, "WK014112": 20}
del MELDINGEN_2021["WK014121"]


@pytest.fixture(scope="module")
def site(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("wijkpagina") / "data"
    import_almelo(data, shared)
    lokaal = data.parent / "lokaal.toml"
    lokaal.write_text("""bestanden = ["meldingen.csv"]
[indicator.meldingen_openbare_ruimte]
naam = "Meldingen openbare ruimte"
eenheid = "per 1.000 inwoners"
bron = "gemeente Almelo, meldingensysteem"
soort = "objectief"
berekening = "per_1000"
""", encoding="utf-8")
    lines = ["gebiedscode,jaar,indicator,waarde"]
    for jaar, values in ((2015, MELDINGEN_2015), (2021, MELDINGEN_2021)):
        lines.append(f"GM0141,{jaar},meldingen_openbare_ruimte,70")
        lines += [f"{code},{jaar},meldingen_openbare_ruimte,{v}" for code, v in values.items()]
    (data.parent / "meldingen.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_build(data, lokaal, say=lambda _: None)
    run_kompas(data, say=lambda _: None)
    processed = load_processed(data)
    written = run_export(processed, data / "export", say=lambda _: None)
    return processed, {p.stem.split("_")[1]: p for p in written}


def _rows(page, selector="table.wk-tabel"):
    """The first table matching ``selector`` as a list of dicts (header -> cell text)."""
    return page.page.eval_on_selector(selector, """t => {
        const head = [...t.querySelectorAll('thead th')].map(h => h.innerText.trim());
        return [...t.querySelectorAll('tbody tr')].map(r => Object.fromEntries(
            [...r.querySelectorAll('td')].map((c, i) => [head[i], c.innerText.trim()])));
    }""")


def _indicator_table(page):
    return _rows(page, "#wk-indicatoren table.wk-tabel")


def test_wijk_page_opens_on_the_newest_year_with_data(site, browser):
    """Both wijken open on 2021, the newest year with figures; the compass of Bornerbroek,
    without a theme score in 2021, shows 2015 and says so."""
    processed, files = site
    assert latest_scored_year(processed, "WK014110") == 2021
    assert latest_scored_year(processed, "WK014121") == 2015  # no 2021 meldingen there
    for code, chart in (("WK014110", 2021), ("WK014121", 2015)):
        with opened(browser, files[code]) as page:
            assert page.page.inner_text("h1").endswith(", 2021")
            assert page.page.input_value("#wk-jaar") == "2021"
            assert any(t.endswith(f", {chart}") and t.startswith("Wijkkompas ")
                       for t in _chart_texts(page)), code
            note = page.page.inner_text("#wk-kompas")
            said = ("In 2021 heeft geen thema een score; het kompas toont 2015, het laatste "
                    "jaar met themascores.")
            assert (said in note) == (chart == 2015), code
            assert page.errors == []


def _chart_texts(page):
    return page.page.eval_on_selector_all(".wk-kompas-breed svg text",
                                          "ts => ts.map(t => t.textContent)")


def test_kompas_chart_labels_years_and_values(site, browser):
    processed, files = site
    themes = processed.result.themes
    mine = themes[(themes.gebiedscode == "WK014110") & (themes.deel == "totaal")
                  & (themes.thema == "leefomgeving")].set_index("jaar")["score"]
    with opened(browser, files["WK014110"]) as page:
        texts = _chart_texts(page)
    joined = re.sub(r"\s+", " ", " ".join(texts))  # wrapped lines as one text
    assert "2015 (vorige meting)" in texts  # the earlier series, in the legend
    assert f"2021: {mine[2021]:.0f}" in texts and f"2015: {mine[2015]:.0f}" in texts
    assert "Leefomgeving" in texts
    assert "Geen score in 2021, omdat:" in texts
    assert "Werk en inkomen: geen bron met cijfers voor dit thema in 2021" in joined
    assert "100 = Almelo in 2015" in texts


def test_kompas_chart_values_are_those_of_the_tables(site, browser):
    """Every label and value of the chart, wijk by wijk, against the theme scores: each
    theme's name with this year's score (or "geen score") and the previous year's, the
    score at each bar, the value at each point of the previous year, the context
    indicators with their values, and for every theme without a score its reason."""
    processed, files = site
    themes = processed.result.themes
    totaal = themes[themes.deel == "totaal"]
    names = {t.code: t.naam for t in processed.kompas.themes}
    sectors = ["veiligheid", "leefomgeving", "zorg_welzijn", "wonen", "werk_inkomen",
               "participatie"]
    indicators = processed.result.indicators
    for code in ("WK014110", "WK014112", "WK014121"):
        jaar = latest_scored_year(processed, code)  # the year the chart shows
        score = totaal[totaal.gebiedscode == code].set_index(["jaar", "thema"])["score"]
        expected, values, missing = [], [], []
        for thema in sectors:
            now = score.get((jaar, thema))
            label = [names[thema], f"{jaar}: {now:.0f}" if pd.notna(now) else
                     f"{jaar}: geen score"]
            before = score.get((2015, thema)) if jaar == 2021 else None
            if before is not None and pd.notna(before):
                label.append(f"2015: {before:.0f}")
                values.append(f"{before:.0f}")
            if pd.notna(now):
                values.append(f"{now:.0f}")
            else:
                missing.append(f"{names[thema]}: geen bron met cijfers voor dit thema in {jaar}")
            expected.append(label)
        context = indicators[(indicators.gebiedscode == code) & (indicators.jaar == jaar)
                             & (indicators.richting == 0) & indicators.van_toepassing
                             & indicators.waarde.notna()]
        inwoners = context.set_index("indicator")["waarde"]["inwoners"]
        with opened(browser, files[code]) as page:
            texts = _chart_texts(page)
        joined = re.sub(r"\s+", " ", " ".join(texts))
        for label in expected:
            at = texts.index(label[0])
            assert texts[at:at + len(label)] == label, (code, label)
        numbers = Counter(t for t in texts if t.isdigit())
        numbers.subtract(["50", "100", "150"])  # the score circles, once each
        assert sorted(numbers.elements()) == sorted(values), code
        for line in missing:
            assert line in joined, (code, line)
        assert f"Aantal inwoners: {inwoners:,.0f}".replace(",", ".") in texts, code
        assert len(context) >= 5 and "Context (niet gescoord)" in texts, code
        named = totaal[totaal.gebiedscode == code].dropna(subset=["gebiedsnaam"])
        latest = named.sort_values("jaar")["gebiedsnaam"].iloc[-1]
        assert f"Wijkkompas {latest}, {jaar}" in texts, code


def test_kompas_chart_shows_everything_it_draws(site, browser):
    """Every text and shape of the chart lies inside its view box, as Chromium lays it
    out (getBBox), every text is drawn, and no two texts overlap."""
    _, files = site
    for code in ("WK014110", "WK014121"):
        with opened(browser, files[code]) as page:
            found = page.page.eval_on_selector(".wk-kompas-breed svg", LAYOUT)
        assert found["outside"] == [], code
        assert found["empty"] == [] and found["overlaps"] == [], code
        assert found["count"] > 30, code
        assert found["width"] > 700, code  # shown at its size, not shrunk


def test_earlier_value_change_and_class(site, browser):
    """The earlier value of the same area, the change and its class; Noorderkwartier
    (WK014112) got other boundaries in 2021 (overlap 0.40 with 2015), and its 2015 figure of
    the old wijk is not compared with the new one."""
    _, files = site
    expected = {"WK014110": ("40,0 per 1.000 inwoners (2015)", "+40,0 per 1.000 inwoners",
                             "verslechterd"),
                "WK014111": ("50,0 per 1.000 inwoners (2015)", "0,0 per 1.000 inwoners",
                             "gelijk"),
                "WK014112": ("geen eerdere meting van hetzelfde gebied (2015: andere grenzen)",
                             "", "")}
    for code, (eerder, verandering, klasse) in expected.items():
        with opened(browser, files[code]) as page:
            rows = {r["Indicator"]: r for r in _indicator_table(page)}
        row = rows["Meldingen openbare ruimte"]
        assert (row["Eerdere waarde"], row["Verandering"], row["Ontwikkeling"]) == \
            (eerder, verandering, klasse), code
        assert row["Peildatum"] == "2021"


def test_missing_values_say_why_and_have_no_peildatum(site, browser):
    processed, files = site
    with opened(browser, files["WK014110"]) as page:
        rows = {r["Indicator"]: r for r in _indicator_table(page)}
        # The list without figures comes after the table, closed; a click opens it.
        assert page.page.eval_on_selector("#wk-zonder-cijfer details", "d => d.open") is False
        page.page.click("#wk-zonder-cijfer summary")
        missing = {r["Indicator"]: r["Waarom geen cijfer"]
                   for r in _rows(page, "#wk-zonder-cijfer table.wk-tabel")}
    bijstand = rows["Personen met bijstand"]
    # The newest value (2015) with why 2021 has none; nothing before 2015.
    assert bijstand["Nieuwste waarde"].endswith(
        "(2015); in 2021: geen bron met dit cijfer voor 2021")
    assert bijstand["Eerdere waarde"] == "geen eerdere meting"
    assert bijstand["Peildatum"] == ""
    assert missing["Woninginbraken"] == "geen bron met dit cijfer voor 2021"
    # A local indicator of the kompas without a definition: a name, never its code.
    assert "Voelt zich veilig" in missing
    # A buurt whose 2015 figures cover 1 % of it after re-allocation to 2021.
    buurt = profile_table(processed, "BU01411205", 2015).set_index("indicator")
    assert buurt.loc["Personen met bijstand", "reden"] == \
        "dekking te laag na omrekening naar de indeling van 2021 (1 %)"
    assert buurt.loc["Personen met bijstand", "peildatum"] == ""


def test_gemeente_table_follows_the_choices(site, browser):
    processed, files = site
    themes = processed.result.themes
    buurt = themes[(themes.gebiedscode == "BU01411001") & (themes.thema == "werk_inkomen")
                   & (themes.jaar == 2015) & (themes.deel == "totaal")].score.iloc[0]
    names = themes.dropna(subset=["gebiedsnaam"]).drop_duplicates("gebiedscode").set_index(
        "gebiedscode")["gebiedsnaam"]
    wijken = processed.boundaries("wijk")["gebiedscode"]
    with opened(browser, files["GM0141"]) as page:
        rows = _rows(page, "#wk-gebiedstabel table")
        assert page.page.inner_text(".wk-tabelkop") == \
            "Leefomgeving, 2021: score per wijk (12)"
        assert sorted(r["Wijk"] for r in rows) == sorted(names[wijken])
        bornerbroek = next(r for r in rows if r["Wijk"] == "Wijk 21 Bornerbroek")
        assert bornerbroek["Score"] == "geen data"
        assert bornerbroek["Toelichting"].startswith("geen cijfers voor dit gebied in 2021")
        page.choose("niveau", "buurt")
        page.choose("thema", "werk_inkomen")
        page.choose("jaar", 2015)
        assert page.page.inner_text(".wk-tabelkop") == \
            "Werk en inkomen, 2015: score per buurt (71)"
        rows = _rows(page, "#wk-gebiedstabel table")
        assert len(rows) == 71
        name = names["BU01411001"]
        assert next(r for r in rows if r["Buurt"] == name)["Score"] == f"{buurt:.0f}"
        page.choose("maat", "basis")
        rows = _rows(page, "#wk-gebiedstabel table")
        assert {r["Toelichting"] for r in rows if r["Verandering (punten)"] == "geen data"} \
            <= {"2015 is het basisjaar: nog geen verandering"} | {
                r["Toelichting"] for r in rows if r["Toelichting"].startswith("geen")}
        assert "2015 is het basisjaar: nog geen verandering" in {r["Toelichting"] for r in rows}
        page.choose("niveau", "wijk")
        page.choose("jaar", 2021)
        page.choose("maat", "score")
        rows = _rows(page, "#wk-gebiedstabel table")
        assert len(rows) == 12
        assert {r["Toelichting"] for r in rows} == \
            {"geen bron met cijfers voor dit thema in 2021"}
        assert page.errors == []


def test_no_codes_or_nan_on_any_page(site, browser):
    processed, files = site
    codes = set(processed.kompas.indicators) | {t.code for t in processed.kompas.themes}
    # Codes that are also Dutch words (inwoners, wonen) count when they stand alone in a cell.
    raw = {c for c in codes if "_" in c}
    for path in files.values():
        with opened(browser, path) as page:
            body = page.page.inner_text("body")
            cells = set(page.page.eval_on_selector_all(
                "td, th, option", "cs => cs.map(c => c.innerText.trim())"))
            assert cells & codes == set(), path.name
            svg = " ".join(page.page.eval_on_selector_all(
                "svg text", "ts => ts.map(t => t.textContent)"))
            for choice in ("wk-niveau", "wk-thema"):
                for value in page.page.eval_on_selector_all(
                        f"#{choice} option", "os => os.map(o => o.value)"):
                    page.choose(choice.removeprefix("wk-"), value)
                    body += page.page.inner_text("body")
        words = set(re.findall(r"[a-z0-9_]+", body + " " + svg))
        assert words & raw == set(), path.name
        assert "NaN" not in body and "nan" not in words and "None" not in body, path.name


def test_series_add_the_base_year_where_it_differs():
    totaal = pd.DataFrame({"jaar": [2015, 2019, 2021, 2023], "score": [100.0, 95.0, None, 90.0]})
    assert earlier_series(totaal, 2023, 2015) == [(2019, "2019 (vorige meting)"),
                                           (2015, "2015 (basisjaar)")]
    assert earlier_series(totaal, 2019, 2015) == [(2015, "2015 (vorige meting)")]
    assert earlier_series(totaal, 2015, 2015) == []


def test_indicator_without_definition_gets_a_name(site):
    processed, _ = site
    assert indicator_label(processed, "leegstand_winkels") == ("Leegstand winkels", "")
    assert indicator_label(processed, "meldingen_openbare_ruimte") == (
        "Meldingen openbare ruimte", "per 1.000 inwoners")


def test_summary_on_top_in_plain_lines(site, browser):
    """Three to five lines above the explanation and the map, as summary_lines gives them,
    naming changes of shares in procentpunt."""
    processed, files = site
    for code in ("WK014110", "WK014115"):
        with opened(browser, files[code]) as page:
            lines = page.page.eval_on_selector_all("#wk-samenvatting li",
                                                   "ls => ls.map(l => l.innerText.trim())")
            order = page.page.evaluate("""() => {
                const s = document.getElementById('wk-samenvatting');
                const m = document.querySelector('.folium-map');
                return s.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING;
            }""")
        assert lines == summary_lines(processed, code, 2021), code
        assert 3 <= len(lines) <= 5 and order, code
        joined = " ".join(lines)
        assert "Het meest veranderd: " in joined and "procentpunt" in joined, code
    # Binnenstad: its meldingen doubled, so Leefomgeving fell since 2015.
    themes = processed.result.themes
    leef = themes[(themes.gebiedscode == "WK014110") & (themes.thema == "leefomgeving")
                  & (themes.deel == "totaal") & (themes.jaar == 2021)].iloc[0]
    assert leef.verandering_vorig_jaar <= -5
    assert (f"verslechterd: Leefomgeving ({leef.verandering_vorig_jaar:.0f} punten, 2015-2021)"
            in " ".join(summary_lines(processed, "WK014110", 2021)))


def _comparable_earlier(processed, code, jaar):
    """Per indicator name: (newest year, earlier year) of the area from the kompas rows,
    the earlier only where both rows describe the same area."""
    rows = processed.result.indicators
    rows = rows[(rows.gebiedscode == code) & rows.van_toepassing & rows.waarde.notna()
                & (rows.jaar <= jaar)].sort_values("jaar")
    out = {}
    for indicator, group in rows.groupby("indicator"):
        newest = group.iloc[-1]
        same = group[(group.jaar < newest.jaar) & ((group.indeling == newest.indeling) | (
            (group.vergelijkbaar == 1) & (newest.vergelijkbaar == 1)))]
        out[indicator_label(processed, indicator)[0]] = (
            int(newest.jaar), int(same.jaar.iloc[-1]) if len(same) else None)
    return out


def test_newest_year_table_has_an_earlier_value_for_every_indicator_that_has_one(site,
                                                                                browser):
    processed, files = site
    for code in ("WK014110", "WK014115", "WK014121"):
        expected = _comparable_earlier(processed, code, 2021)
        with opened(browser, files[code]) as page:
            rows = {r["Indicator"]: r for r in _indicator_table(page)}
        assert set(rows) == set(expected), code
        for name, (newest, earlier) in expected.items():
            row = rows[name]
            assert f"({newest})" in row["Nieuwste waarde"], (code, name)
            if earlier is None:
                assert row["Eerdere waarde"].startswith("geen eerdere meting"), (code, name)
                assert row["Verandering"] == "", (code, name)
            else:
                assert row["Eerdere waarde"].endswith(f"({earlier})"), (code, name)
                assert row["Verandering"] != "" and row["Ontwikkeling"] != "", (code, name)


def test_nieuwstraat_kwartier_both_years_side_by_side(site, browser):
    """Done on the real files: every indicator of Nieuwstraat-Kwartier present in 2015 and
    2021 shows both values and the change; inwoners 65+ 13,6 % -> 15,4 %."""
    processed, files = site
    table = processed.table
    mine = table[(table.gebiedscode == "WK014115") & table.waarde.notna()
                 & (table.indeling == table.jaar)]
    both = set(mine[mine.jaar == 2015].indicator) & set(mine[mine.jaar == 2021].indicator)
    both &= {n for n, i in processed.kompas.indicators.items() if i.applies_to("WK014115")}
    assert len(both) >= 9
    with opened(browser, files["WK014115"]) as page:
        rows = {r["Indicator"]: r for r in _indicator_table(page)}
        columns = page.page.eval_on_selector_all("#wk-indicatoren thead th",
                                                 "hs => hs.map(h => h.innerText.trim())")
    for indicator in both:
        row = rows[indicator_label(processed, indicator)[0]]
        assert row["Nieuwste waarde"].endswith("(2021)"), indicator
        assert row["Eerdere waarde"].endswith("(2015)") and row["Verandering"], indicator
    older = rows["Inwoners 65 jaar of ouder"]
    assert (older["Nieuwste waarde"], older["Eerdere waarde"], older["Verandering"]) == (
        "15,4 % van de inwoners (2021)", "13,6 % van de inwoners (2015)", "+1,8 procentpunt")
    # Wijk 15 has the same boundary in both years: nothing was carried, so no column for it.
    assert "Omrekening" not in columns and "Nederland" not in columns


def test_gemeente_page_lists_the_signals(site, browser):
    """The rookmelder: every wijk and buurt whose newest theme score fell 5 points or more,
    largest decline first, with the numbers of the theme scores."""
    processed, files = site
    themes = processed.result.themes
    fell = themes[(themes.deel == "totaal") & (themes.jaar == 2021)
                  & (themes.verandering_vorig_jaar <= -5) & themes.niveau.isin(["wijk", "buurt"])]
    assert len(fell) >= 1 and "WK014110" in set(fell.gebiedscode)
    with opened(browser, files["GM0141"]) as page:
        rows = _rows(page, "#wk-signalen table.wk-tabel")
        note = page.page.inner_text("#wk-signalen .wk-noot")
    assert len(rows) == len(fell)
    assert note.startswith(f"{len(fell)} keer ging een wijk of buurt op een thema betekenisvol")
    changes = [int(r["Verandering (punten)"]) for r in rows]
    assert changes == sorted(changes)
    first = fell.sort_values("verandering_vorig_jaar").iloc[0]
    assert (rows[0]["Jaar"], rows[0]["Vorige meting"], rows[0]["Score"],
            rows[0]["Verandering (punten)"]) == (
        "2021", "2015", f"{first.score:.0f}", f"{first.verandering_vorig_jaar:.0f}")


def test_gemeente_map_of_a_year_without_scores_shows_values(site, browser):
    """Werk en inkomen has no score in 2021: the map shows the value of an indicator of
    2021 (inwoners, households, ...), in classes, instead of an all-grey map."""
    processed, files = site
    with opened(browser, files["GM0141"]) as page:
        page.choose("thema", "werk_inkomen")
        page.choose("jaar", 2021)
        assert page.page.input_value("#wk-maat") == "score"  # Leefomgeving has 2021 scores
        page.choose("niveau", "buurt")
        page.choose("maat", "waarde")
        page.choose("indicator", page.page.eval_on_selector(
            "#wk-indicator", "s => [...s.options].find(o => o.text === 'Aantal inwoners').value"))
        rows = _rows(page, "#wk-gebiedstabel table")
        fills = page.fills()
        legend = page.page.inner_text(".wk-legend").splitlines()
        assert page.errors == []
    inwoners = processed.result.indicators
    inwoners = inwoners[(inwoners.niveau == "buurt") & (inwoners.jaar == 2021)
                        & (inwoners.indicator == "inwoners")].set_index("gebiedscode")["waarde"]
    names = processed.boundaries("buurt").set_index("gebiedsnaam")["gebiedscode"]
    for row in rows:
        value = inwoners.get(names.get(row["Buurt"]))
        assert row["Waarde"] == (f"{value:,.0f}".replace(",", ".") if pd.notna(value)
                                 else "geen data"), row
    # Up to five classes of equal counts (equal values stay in one class), each in the
    # legend, and every area in the class of its value.
    assert legend[0] == "Aantal inwoners, 2021 (waarde, geen oordeel)"
    classes = [line for line in legend[1:] if line != "geen data"]
    assert 3 <= len(set(fills) - {"#bdbdbd"}) == len(classes) <= 5
    for row in rows:
        if row["Waarde"] != "geen data":
            low, _, high = row["Klasse"].partition(" tot en met ")
            number = float(row["Waarde"].replace(".", ""))
            assert float(low.replace(".", "")) <= number <= float((high or low).replace(
                ".", "")), row


def test_carried_values_are_marked_omgerekend(site, browser):
    """Buurt scores of 2015 drawn on the 2021 buurten say so in the map's table and
    tooltip; a buurt with the same boundary (BU01411301, overlap 0.92) does not. The wijk
    page of Noorderkwartier, whose 2015 figures are carried onto its 2021 boundary, says
    so per indicator."""
    processed, files = site
    mark = "cijfers van 2015 omgerekend naar de indeling van 2021 (schatting)"
    names = processed.boundaries("buurt").set_index("gebiedscode")["gebiedsnaam"]
    with opened(browser, files["GM0141"]) as page:
        page.choose("niveau", "buurt")
        page.choose("jaar", 2015)
        rows = {r["Buurt"]: r for r in _rows(page, "#wk-gebiedstabel table")}
        tip = page.page.evaluate("""() => { let text = '';
            window.wijkkompas.layers.buurt.eachLayer(l => {
                if (l.feature.properties.i === 0) { l.openTooltip(l.getBounds().getCenter());
                    text = l.getTooltip().getElement().innerText; l.closeTooltip(); } });
            return text; }""")
        assert page.errors == []
    assert mark in rows[names["BU01411000"]]["Toelichting"]
    assert mark not in rows[names["BU01411301"]]["Toelichting"]
    first = processed.boundaries("buurt")["gebiedscode"].iloc[0]
    assert (mark in tip) == (first != "BU01411301")
    with opened(browser, files["WK014112"]) as page:
        table = {r["Indicator"]: r for r in _indicator_table(page)}
    assert table["Aantal inwoners"]["Omrekening"] == \
        "2015 omgerekend naar de indeling van 2021 (schatting)"
    assert table["Aantal inwoners"]["Eerdere waarde"].endswith("(2015)")
#: The width of the content of an A4 page as page.css prints it (210 mm less 2 x 10 mm).
A4_CONTENT = round(190 / 25.4 * 96)


@pytest.mark.parametrize("size", SCREENS, ids=lambda s: f"{s[0]}px")
def test_pages_fit_the_screen_and_can_be_zoomed(site, browser, size):
    """From a 360 px phone to a laptop: nothing wider than the screen outside a scroll box
    of its own, pinch-zoom allowed, the chart's smallest text at least 11 px."""
    _, files = site
    for code in ("WK014110", "GM0141"):
        with opened(browser, files[code], size=size) as page:
            found = page.page.evaluate(OVERFLOW)
            assert found["page"] <= found["screen"] and found["wide"] == [], (code, found)
            assert zoom_allowed(page.page), code
            assert page.errors == []
    with opened(browser, files["WK014110"], size=size) as page:
        chart = page.page.evaluate(SMALLEST_TEXT, ".wk-kompas svg text")
        layout = page.page.eval_on_selector(".wk-kompas svg:visible", LAYOUT)
    assert layout["outside"] == [] and layout["empty"] == [], layout
    assert layout["overlaps"] == [], layout["overlaps"]
    assert chart["count"] > 30  # one chart shown, with all its texts
    assert chart["smallest"] >= 11 - 0.01, chart


@pytest.mark.parametrize("size", SCREENS[:2], ids=lambda s: f"{s[0]}px")
def test_on_a_phone_the_table_scrolls_with_its_indicator_column_fixed(site, browser, size):
    _, files = site
    with opened(browser, files["WK014110"], size=size) as page:
        box = "#wk-indicatoren .wk-tabelvak"
        before = page.page.eval_on_selector(
            box, "b => [b.scrollWidth, b.clientWidth, b.querySelector('tbody td.wk-vast')"
                 ".getBoundingClientRect().left, b.getBoundingClientRect().left]")
        assert before[0] > before[1]  # wider than the screen: it scrolls in its box
        after = page.page.eval_on_selector(box, """b => {
            b.scrollLeft = b.scrollWidth;
            const cell = b.querySelector('tbody td.wk-vast');
            return [b.scrollLeft, cell.innerText, cell.getBoundingClientRect().left,
                    b.getBoundingClientRect().left];
        }""")
        assert after[0] > 0
        assert after[1] != ""  # the indicator's name
        assert abs(after[2] - after[3]) <= 1  # still at the left edge of the box
        # The map's choices and legend start folded, and open with a tap.
        folded = page.page.eval_on_selector_all(".wk-panel details", "ds => ds.map(d => d.open)")
        assert folded == [False, False]
        page.page.click(".wk-keuzes summary")
        assert page.page.is_visible("#wk-thema")


def test_on_a_laptop_the_map_choices_are_open(site, browser):
    _, files = site
    with opened(browser, files["WK014110"], size=SCREENS[2]) as page:
        assert page.page.eval_on_selector_all(".wk-panel details",
                                              "ds => ds.map(d => d.open)") == [True, True]


def test_wijk_page_prints_on_a4(site, browser):
    """A paper handout: the page printed to PDF is one or two A4 pages with the kompas and
    the tables and without the map; laid out as printed, nothing is wider than the paper
    and no chart text is below 11 px."""
    _, files = site
    with opened(browser, files["WK014110"]) as page:
        headings = page.page.eval_on_selector_all(
            "#wk-indicatoren th", "hs => hs.map(h => h.innerText.trim())")
        indicators = page.page.eval_on_selector_all(
            "#wk-indicatoren td.wk-vast", "ds => ds.map(d => d.innerText.trim())")
        pdf = page.page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
            for p in reader.pages} <= {(595, 842), (596, 843)}  # A4 in points (rounded)
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Het kompas" in text and "Context (niet gescoord)" in text
    for word in {w for h in headings for w in h.split()}:
        assert word in text, word
    for name in indicators:
        assert name.split()[0] in text, name
    assert "Leaflet" not in text  # the map is not printed
    with opened(browser, files["WK014110"], size=(A4_CONTENT, 1100)) as page:
        page.page.emulate_media(media="print")
        found = page.page.evaluate(OVERFLOW)
        chart = page.page.evaluate(SMALLEST_TEXT, ".wk-kompas svg text")
        table = page.page.eval_on_selector(
            "#wk-indicatoren table", "t => t.getBoundingClientRect().right")
    assert found["page"] <= A4_CONTENT and found["wide"] == [], found
    assert table <= A4_CONTENT
    assert chart["count"] > 30 and chart["smallest"] >= 11 - 0.01, chart


def test_page_says_when_it_was_made_in_words_for_residents(site, browser):
    _, files = site
    with opened(browser, files["WK014110"]) as page:
        foot = page.page.inner_text(".wk-voet")
        body = page.page.inner_text("body")
    assert f"Gemaakt op {today_in_dutch()}" in foot
    assert ".csv" not in body and "gewogen naar" not in body
    assert "naam niet opgegeven" not in body and "lokale indicator" not in body
