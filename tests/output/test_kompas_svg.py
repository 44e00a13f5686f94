"""The kompas chart of the pages, written as SVG without matplotlib: text kept as text
(and escaped), line hatches only, rounded coordinates, and the same content as the
matplotlib chart of the notebooks, both drawn from one content function."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from fontTools.ttLib import TTFont

from tests.browser import LAYOUT, opened
from wijkkompas.output import kompas_svg as svg_module
from wijkkompas.output.charts import kompas_chart
from wijkkompas.output.kompas_content import (
    HATCHES,
    KompasContent,
    LegendPatch,
    Sector,
    Series,
    kompas_content,
)
from wijkkompas.output.kompas_svg import _CHARS, SVG, WIDTHS, kompas_svg, text_width

#: The layouts of the chart (names of wijkkompas.output.kompas_svg).
LAYOUTS = ["WIDE", "NARROW", "PRINT"]

NS = {"s": SVG}


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?", text)


def _svg_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{{{SVG}}}text")]


def _words(texts: list[str]) -> Counter:
    return Counter(w for t in texts for w in t.split())


def _figure_texts(fig) -> list[str]:
    """Every text a matplotlib kompas chart shows, one entry per line, as written (the
    ``\\$`` that keeps a ``$`` from starting mathtext undone)."""
    polar = fig.axes[0]
    pieces = [*polar.get_xticklabels(), *polar.get_yticklabels(),
              *polar.texts, *fig.legends[0].get_texts(), *fig.texts]  # the title is in fig.texts
    return [line.replace(r"\$", "$") for t in pieces for line in t.get_text().split("\n")]


@pytest.fixture(scope="module")
def three_years(processed):
    """The Almelo data with made-up later years (2021: the 2015 scores, werk en inkomen
    104; 2023: the 2015 scores plus 30, one above the outer circle): the chart of 2023 has
    the previous year and the base year as lines."""
    themes = processed.result.themes
    extra = themes[themes["jaar"] == 2015].assign(jaar=2023, score=lambda f: f["score"] + 30)
    extra.loc[(extra["gebiedscode"] == "WK014115") & (extra["thema"] == "werk_inkomen"),
              "score"] = 175.0
    later = themes[themes["jaar"] == 2015].assign(jaar=2021)
    later.loc[later["thema"] == "werk_inkomen", "score"] = 104.0
    frame = pd.concat([themes[themes["jaar"] == 2015], later, extra], ignore_index=True)
    result = dataclasses.replace(processed.result, themes=frame)
    return dataclasses.replace(processed, result=result)


def test_hatches_are_lines_and_differ_per_class():
    assert set("".join(HATCHES.values())) <= set("/\\|-+x")  # no dots or circles
    assert len(set(HATCHES.values())) == len(HATCHES)


def test_kompas_svg_keeps_texts_and_values(processed):
    themes = processed.result.themes
    mine = themes[(themes.gebiedscode == "WK014115") & (themes.deel == "totaal")
                  & (themes.jaar == 2015)].set_index("thema")["score"]
    text = kompas_svg(kompas_content(processed, "WK014115", 2015))
    root = ET.fromstring(text)
    texts = _svg_texts(root)
    assert "Werk en inkomen" in texts and f"2015: {mine['werk_inkomen']:.0f}" in texts
    assert f"{mine['werk_inkomen']:.0f}" in texts  # at the end of the bar
    assert "Wijkkompas Wijk 15 Nieuwstraat-Kwartier, 2015" in texts
    assert "Context (niet gescoord)" in texts and "100 = Almelo in 2015" in texts
    assert "Aantal inwoners: 3.245" in texts
    assert "Geen score in 2015, omdat:" in texts
    # Only text, rectangles, circles and paths: no glyphs drawn as paths, no images.
    tags = {e.tag.removeprefix(f"{{{SVG}}}") for e in root.iter()}
    assert tags <= {"svg", "defs", "pattern", "rect", "path", "circle", "g", "text"}, tags
    assert root.find("s:metadata", NS) is None and "<use" not in text
    # Hatches are line patterns (move and line commands only), one per hatched class.
    patterns = root.findall(".//s:pattern", NS)
    assert len(patterns) == sum(1 for h in HATCHES.values() if h)
    for pattern in patterns:
        for path in pattern.iter(f"{{{SVG}}}path"):
            assert set(re.sub(r"[-\d. ]", "", path.get("d"))) <= set("ML")
    # Coordinates rounded to one decimal; ids only where something refers to them.
    for element in root.iter():
        for name in ("d", "x", "y", "cx", "cy", "r", "width", "height", "viewBox"):
            for number in _numbers(element.get(name) or ""):
                assert len(number.partition(".")[2]) <= 1, (name, number)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert ids and all(f"url(#{i})" in text for i in ids)
    assert len(text.encode("utf-8")) < 12_000  # 22 kB from matplotlib, 317 kB before that


def test_the_two_renderers_show_the_same_content(processed, three_years):
    """Both charts draw the one content: the same texts, word for word, as the content
    lists, and the values of the tables."""
    cases = [(processed, "WK014115", 2015), (processed, "WK014110", 2021),
             (three_years, "WK014115", 2023), (three_years, "WK014121", 2023)]
    for data, code, jaar in cases:
        content = kompas_content(data, code, jaar)
        expected = content.texts()
        svg = _svg_texts(ET.fromstring(kompas_svg(content)))
        fig = kompas_chart(data, code, jaar)
        drawn = _figure_texts(fig)
        plt.close(fig)
        assert _words(svg) == _words(expected), (code, jaar)
        assert _words(drawn) == _words(expected), (code, jaar)
        joined_svg, joined_drawn = " ".join(svg), " ".join(" ".join(drawn).split())
        for line in expected:  # wrapped lines follow each other
            assert " ".join(line.split()) in joined_svg, line
            assert " ".join(line.split()) in joined_drawn, line


def test_content_follows_the_tables(three_years):
    themes = three_years.result.themes
    mine = themes[(themes.gebiedscode == "WK014115") & (themes.deel == "totaal")]
    score = mine.set_index(["jaar", "thema"])["score"]
    content = kompas_content(three_years, "WK014115", 2023)
    names = {t.code: t.naam for t in three_years.kompas.themes}
    assert [s.code for s in content.sectors] == [
        "veiligheid", "leefomgeving", "zorg_welzijn", "wonen", "werk_inkomen", "participatie"]
    assert [(s.jaar, s.label) for s in content.series] == [
        (2021, "2021 (vorige meting)"), (2015, "2015 (basisjaar)")]
    for sector in content.sectors:
        now = score.get((2023, sector.code))
        first = f"2023: {now:.0f}" if pd.notna(now) else "2023: geen score"
        earlier = [f"{j}: {score[(j, sector.code)]:.0f}" for j in (2021, 2015)
                   if pd.notna(score.get((j, sector.code)))]
        assert sector.lines == (names[sector.code], first, *earlier)
    werk = next(s for s in content.sectors if s.code == "werk_inkomen")
    assert (werk.score, werk.klasse, werk.value_text) == (175.0, 5, "175")
    assert werk.hatch == HATCHES[5] and werk.colour == "#2166ac"
    assert [s.texts[4] for s in content.series] == ["104", f"{score[(2015, 'werk_inkomen')]:.0f}"]
    assert content.missing == tuple(f"{s.naam}: geen bron met cijfers voor dit thema in 2023"
                                    for s in content.sectors if s.code != "werk_inkomen")




def test_long_names_and_three_years_fit_in_chromium(three_years, browser, tmp_path):
    """Long theme, area and indicator names are wrapped or given room, and every text of
    a chart with two earlier years lies inside the picture, as Chromium lays it out; no
    label overlaps another."""
    long = "Zorg, welzijn, gezondheid en ondersteuning bij het dagelijks leven van bewoners"
    content = kompas_content(three_years, "WK014115", 2023)
    sectors = tuple(dataclasses.replace(s, naam=f"{s.naam}: {long}",
                                        lines=(f"{s.naam}: {long}", *s.lines[1:]))
                    for s in content.sectors)
    content = dataclasses.replace(
        content, sectors=sectors, title=f"Wijkkompas {long}, 2023",
        context=(*content.context, f"{long}: 12,3 % van de inwoners"),
        missing=tuple(f"{m} {long}" for m in content.missing))
    assert len(content.series) == 2
    page = tmp_path / "kompas.html"
    page.write_text(f"<!DOCTYPE html><html><body><div class='wk-kompas'>"
                    f"{kompas_svg(content)}</div></body></html>", encoding="utf-8")
    with opened(browser, page, ready="document.readyState === 'complete'") as shown:
        found = shown.page.eval_on_selector(".wk-kompas svg", LAYOUT)
        texts = _svg_texts(ET.fromstring(shown.page.inner_html(".wk-kompas")))
    assert found["outside"] == [] and found["empty"] == [], found
    assert found["overlaps"] == [], found["overlaps"]
    assert _words(texts) == _words(content.texts())
    assert max(len(t) for t in texts) < len(f"Wijkkompas {long}, 2023") + 1  # wrapped


def test_same_content_gives_the_same_svg(processed):
    first = kompas_svg(kompas_content(processed, "WK014110", 2021))
    assert kompas_svg(kompas_content(processed, "WK014110", 2021)) == first


def test_texts_from_data_are_escaped_and_stay_text():
    hostile = 'M 1.23456 L d="9.87654" <b>&amp; {{ 7*7 }} $x$'
    sector = Sector("t", hostile, 90.0, 2, "#ef8a62", "//", (hostile, "2021: 90"))
    content = KompasContent(
        title=hostile, jaar=2021, low=40.0, high=160.0, sectors=(sector,),
        series=(Series(2015, hostile, (100.0,), "black", False, "o"),),
        reference_label=hostile, bar_label="balk", classes=(LegendPatch(hostile, "#fff", ""),),
        context_title=hostile, context=(hostile,), missing_title=None, missing=())
    text = kompas_svg(content)
    root = ET.fromstring(text)
    assert _svg_texts(root).count(hostile) == 6
    assert "<b>" not in text and "&lt;b&gt;&amp;amp;" in text


def test_widths_are_those_of_the_font():
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for bold, name in ((False, "DejaVuSans.ttf"), (True, "DejaVuSans-Bold.ttf")):
        font = TTFont(folder / name)
        advance, cmap = font["hmtx"], font.getBestCmap()
        em = font["head"].unitsPerEm
        for char in _CHARS:
            exact = advance[cmap[ord(char)]][0] * 1000 / em
            assert exact <= WIDTHS[bold][char] < exact + 1, (name, char)
    assert text_width("Wonen", 10) == pytest.approx((989 + 612 + 634 + 616 + 634) / 100)
    assert text_width("中", 10) > text_width("W", 10)  # unknown characters count as wide


def test_the_export_imports_no_matplotlib(processed, tmp_path):
    """A fresh interpreter runs the export of all pages; neither matplotlib nor the
    vlekkenkaart stage (its configuration reader, with geocoding) is ever imported."""
    data = tmp_path / "data"
    shutil.copytree(processed.data_dir, data)
    out = tmp_path / "export"
    probe = textwrap.dedent(f"""
        import sys
        from wijkkompas.cli import main
        assert main(["export", "--data-dir", {str(data)!r}, "--out", {str(out)!r}]) == 0
        print(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"
                     or m.startswith("wijkkompas.vlekkenkaart")))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=300)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert len(list(out.glob("wijkkompas_*.html"))) == 13


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_bar_is_as_long_as_its_score(three_years, name):
    """The radial axis starts at 0: a bar of 66 reaches two thirds of the 100 circle (not
    a sliver above 40), in every layout and in the matplotlib chart."""
    content = kompas_content(three_years, "WK014115", 2021)
    root = ET.fromstring(kompas_svg(content, getattr(svg_module, name)))
    reference = float(next(c.get("r") for c in root.iter(f"{{{SVG}}}circle")
                           if c.get("stroke-dasharray")))
    arcs = [float(re.search(r"A([\d.]+) ", p.get("d")).group(1))
            for p in root.iter(f"{{{SVG}}}path") if "A" in (p.get("d") or "")]
    scores = [s.score for s in content.sectors if not math.isnan(s.score)]
    assert scores
    for score in scores:
        assert any(abs(r - reference * score / 100) <= 0.2 for r in arcs), (score, arcs)
    fig = kompas_chart(three_years, "WK014115", 2021)
    assert fig.axes[0].get_ylim()[0] == 0
    plt.close(fig)


def test_the_bar_heading_of_the_legend_has_no_swatch(processed):
    """"balk = score <jaar>; kleur = klasse:" heads the classes; it has no (empty) swatch
    of its own, in the SVG or in the matplotlib chart."""
    content = kompas_content(processed, "WK014110", 2021)
    for name in LAYOUTS:
        root = ET.fromstring(kompas_svg(content, getattr(svg_module, name, None)))
        swatches = [r for r in root.iter(f"{{{SVG}}}rect") if r.get("width") == "16"]
        assert len(swatches) == len(content.classes), name
    fig = kompas_chart(processed, "WK014110", 2021)
    first = fig.legends[0].legend_handles[0]
    assert fig.legends[0].get_texts()[0].get_text() == content.bar_label
    assert first.get_facecolor()[3] == 0 and first.get_edgecolor()[3] == 0
    plt.close(fig)
