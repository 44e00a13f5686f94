"""Maps and charts on the real Almelo data: the expected areas, themes, years and classes."""

from __future__ import annotations

import json
import re

import pytest
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from wijkkompas.kompas.classes import ALL_CHANGE_CLASSES, ALL_CLASSES
from wijkkompas.output.packing import unpack_level


def _embedded_data(html: str) -> dict:
    match = re.search(r"var data = (\{.*?\});\n", html, flags=re.S)
    assert match, "the map data is not in the page"
    return json.loads(match.group(1))


def test_interactive_map_holds_each_area_once_with_all_choices(processed):
    from wijkkompas.output.maps import interactive_map

    html = interactive_map(processed).get_root().render()
    data = _embedded_data(html)
    assert len(data["geo"]["wijk"]["c"]) == len(data["geo"]["wijk"]["g"]) == 12
    assert len(data["geo"]["buurt"]["c"]) == len(data["geo"]["buurt"]["g"]) == 71
    codes = data["geo"]["buurt"]["c"]
    assert len(set(codes)) == len(codes)
    assert data["jaren"] == [2015, 2021]
    scored = [t.naam for t in processed.kompas.themes
              if any(i.scored and i.thema == t.code for i in processed.kompas.indicators.values())]
    assert [t[1] for t in data["themas"]] == scored
    assert [m[0] for m in data["maten"]] == ["score", "vorig", "basis", "waarde"]
    assert [k["label"] for k in data["klassen"]] == [c.label for c in ALL_CLASSES]
    # One wijk's score as the method computed it.
    nsk = data["geo"]["wijk"]["c"].index("WK014115")
    themes = processed.result.themes
    expected = themes[(themes.gebiedscode == "WK014115") & (themes.jaar == 2015)
                      & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")].score
    wijken = unpack_level(data["geo"]["wijk"], [t[0] for t in data["themas"]], data["jaren"])
    assert wijken["s"]["werk_inkomen|2015"][nsk] == pytest.approx(expected.iloc[0], abs=0.0005)
    # The PDOK base map with its attribution; nothing loaded from a CDN.
    assert "service.pdok.nl/brt/achtergrondkaart" in html and "Kadaster" in html
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=\"http", html)


def test_map_of_one_wijk(processed):
    from wijkkompas.output.maps import map_data

    data = map_data(processed, wijk="WK014115")
    assert data["geo"]["wijk"]["c"] == ["WK014115"]
    buurten = data["geo"]["buurt"]["c"]
    assert buurten and all(c.startswith("BU014115") for c in buurten)


def test_kompas_chart_has_a_sector_per_theme(processed, tmp_path):
    from wijkkompas.output.charts import kompas_chart

    fig = kompas_chart(processed, "WK014115", 2015, out=tmp_path / "kompas")
    polar = fig.axes[0]
    bars = [p for p in polar.patches if isinstance(p, Rectangle)]
    scored = [t.naam for t in processed.kompas.themes
              if any(i.scored and i.thema == t.code for i in processed.kompas.indicators.values())]
    assert len(bars) == len(scored) == 6
    labels = [t.get_text() for t in polar.get_xticklabels()]
    assert [label.split("\n")[0] for label in labels] == scored
    assert "Werk en inkomen\n2015: 66" in labels  # the worked example of docs/methode.md
    assert (tmp_path / "kompas.png").stat().st_size > 10_000
    assert (tmp_path / "kompas.svg").read_text().lstrip().startswith("<?xml")
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "Context (niet gescoord)" in texts and "Aantal inwoners: 3.245" in texts


@pytest.mark.parametrize("niveau, areas", [("wijk", 12), ("buurt", 71)])
def test_static_map_draws_every_area_with_the_fixed_legend(processed, tmp_path, niveau, areas):
    from wijkkompas.output.charts import static_map

    fig = static_map(processed, niveau, "werk_inkomen", 2015, out=tmp_path / "kaart")
    ax = fig.axes[0]
    drawn = sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PatchCollection))
    assert drawn == areas
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [c.label for c in ALL_CLASSES]
    assert (tmp_path / "kaart.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "kaart.png").stat().st_size > 10_000


def test_change_map_uses_the_change_legend(processed, tmp_path):
    from wijkkompas.output.charts import static_map

    fig = static_map(processed, "wijk", "werk_inkomen", 2021, maat="basis")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [c.label for c in ALL_CHANGE_CLASSES]


def test_dutch_number_notation():
    from wijkkompas.web.numbers import nl_number

    assert nl_number(1234.56, 1) == "1.234,6"
    assert nl_number(72291, 0) == "72.291"
    assert nl_number(float("nan")) == "geen data"
