"""The compass chart as compact SVG for the pages: text kept as text (and escaped), line
hatches only, rounded coordinates, nothing matplotlib adds for files (metadata, ids that
nothing refers to), and cropped to its content from a single drawing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt

from wijkkompas.output.charts import HATCHES, SVG, compact_svg, compass_chart, svg_text

NS = {"s": SVG}


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?", text)


def test_hatches_are_lines_and_differ_per_class():
    assert set("".join(HATCHES.values())) <= set("/\\|-+x")  # no dots or circles
    assert len(set(HATCHES.values())) == len(HATCHES)


def test_chart_svg_keeps_texts_and_values(processed):
    themes = processed.result.themes
    mine = themes[(themes.gebiedscode == "WK014115") & (themes.deel == "totaal")
                  & (themes.jaar == 2015)].set_index("thema")["score"]
    fig = compass_chart(processed, "WK014115", 2015)
    text = svg_text(fig)
    plt.close(fig)
    root = ET.fromstring(text)
    texts = [t.text for t in root.iter(f"{{{SVG}}}text")]
    assert "Werk en inkomen" in texts and f"2015: {mine['werk_inkomen']:.0f}" in texts
    assert "Wijkkompas Wijk 15 Nieuwstraat-Kwartier, 2015" in texts
    assert "Context (niet gescoord)" in texts and "100 = Almelo in 2015" in texts
    # No metadata, no glyphs drawn as paths, no dot or circle patterns (curves).
    assert root.find("s:metadata", NS) is None and "<metadata" not in text
    assert root.find(".//s:defs/s:path", NS) is None  # glyph outlines would be here
    patterns = root.findall(".//s:pattern", NS)
    assert len(patterns) >= 4
    for pattern in patterns:
        for path in pattern.iter(f"{{{SVG}}}path"):
            assert set(re.sub(r"[-\d. ]", "", path.get("d"))) <= set("MLz")
    # Coordinates rounded to one decimal; ids only where something refers to them.
    for element in root.iter():
        for name in ("d", "x", "y", "width", "height", "viewBox"):
            for number in _numbers(element.get(name) or ""):
                assert len(number.partition(".")[2]) <= 1, (name, number)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert ids and all(f"#{i}" in text for i in ids)
    assert len(text.encode("utf-8")) < 40_000  # was 317 kB with dot hatches and glyphs


def test_same_figure_gives_the_same_text(processed):
    first = compass_chart(processed, "WK014110", 2021)
    second = compass_chart(processed, "WK014110", 2021)
    assert svg_text(first) == svg_text(second)
    plt.close("all")


def test_compact_svg_leaves_text_as_written_and_escapes_it():
    hostile = 'M 1.23456 L d="9.87654" <b>&amp; {{ 7*7 }}'
    fig = plt.figure(figsize=(3, 2))
    fig.text(0.1, 0.5, hostile)
    fig.text(0.1, 0.2, "  ")
    text = svg_text(fig)
    plt.close(fig)
    root = ET.fromstring(text)
    assert [t.text for t in root.iter(f"{{{SVG}}}text")] == [hostile, "  "]
    assert "&lt;b&gt;&amp;amp;" in text and "<b>" not in text


def test_compact_svg_rounds_paths_and_keeps_referenced_ids():
    source = (f'<svg xmlns="{SVG}" xmlns:xlink="http://www.w3.org/1999/xlink" '
              'viewBox="0 0 10.123456 5"><g id="figure_1"><g>'
              '<defs><path id="m1" d="M 0 0.795609 \nL 1.249999 2 \nz\n"/></defs>'
              '<use xlink:href="#m1" x="3.049999" y="-0.04"/>'
              '<rect id="unused" transform="rotate(-0.123456 1.5 2.25)" width="1" '
              'height="2"/></g></g></svg>')
    out = compact_svg(source)
    assert 'd="M0 0.8L1.2 2z"' in out
    assert 'x="3"' in out and 'y="0"' in out  # -0.04 rounds to 0, never "-0"
    assert 'viewBox="0 0 10.1 5"' in out
    assert 'id="m1"' in out and 'id="unused"' not in out and "figure_1" not in out
    assert 'transform="rotate(-0.123 1.5 2.25)"' in out
    assert "<g" not in out  # groups that only nested are gone
    assert compact_svg(source, (1.0, 2.04, 3.0, 4.0)).startswith(
        f'<svg xmlns="{SVG}" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'viewBox="1 2 3 4" width="3pt" height="4pt"')
