"""The wijkkompas method: hand-computed scores and the invariants of the fixed frame."""

from __future__ import annotations

import inspect
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.fixtures.kompas import FRAME, KOMPAS
from wijkkompas.errors import WijkkompasError
from wijkkompas.indicatoren.rows import COLUMNS
from wijkkompas.kompas.classes import CHANGE_CLASSES, CLASSES, classify, classify_change
from wijkkompas.kompas.definition import load_kompas
from wijkkompas.kompas.scores import (
    SENSITIVITY_DRAWS,
    WEIGHT_RANGE,
    add_changes,
    base_year,
    explain,
    indicator_scores,
    reference_frame,
    score,
    score_gemeenten,
    select_rows,
    sensitivity,
    theme_scores,
)

# gemeente and four wijken; x and y per year
BASE = {"GM0999": (50, 10), "WK099901": (40, 5), "WK099902": (50, 10), "WK099903": (60, 15),
        "WK099904": (50, 10)}
SD_X = math.sqrt(200 / 4)  # population standard deviation of 40, 50, 60, 50
SD_Y = math.sqrt(50 / 4)  # of 5, 10, 15, 10


def _kompas(tmp_path, text=KOMPAS):
    path = tmp_path / "kompas.toml"
    path.write_text(text, encoding="utf-8")
    return load_kompas(path)


def _rows(values: dict[tuple[str, int, str], float | None]) -> pd.DataFrame:
    rows = []
    for (code, jaar, indicator), waarde in values.items():
        niveau = {"GM": "gemeente", "WK": "wijk", "BU": "buurt"}[code[:2]]
        rows.append({"gebiedscode": code, "gebiedsnaam": code, "niveau": niveau, "jaar": jaar,
                     "indeling": jaar, "indicator": indicator,
                     "waarde": np.nan if waarde is None else float(waarde), "teller": np.nan,
                     "noemer": np.nan, "bron": "test",
                     "status": "ontbreekt" if waarde is None else "waargenomen",
                     "indelingswijziging": 1.0, "dekking": 1.0})
    return pd.DataFrame(rows, columns=COLUMNS)


def _table(years=(2020,), shift=None):
    values = {}
    for jaar in years:
        for code, (x, y) in BASE.items():
            dx = (shift or {}).get((code, jaar), 0)
            values[(code, jaar, "x")] = x + dx
            values[(code, jaar, "y")] = y
            values[(code, jaar, "z")] = 1000
    return values


def _theme(result, code, jaar, thema="a", deel="totaal"):
    t = result.themes
    row = t[(t.gebiedscode == code) & (t.jaar == jaar) & (t.thema == thema) & (t.deel == deel)]
    assert len(row) == 1
    return row.iloc[0]


def _ind(result, code, jaar, indicator):
    t = result.indicators
    return t[(t.gebiedscode == code) & (t.jaar == jaar) & (t.indicator == indicator)].iloc[0]


def test_hand_computed_scores(tmp_path):
    result = score(_rows(_table()), _kompas(tmp_path))
    x1 = 100 + 20 * (40 - 50) / SD_X  # 71.716
    y1 = 100 - 20 * (5 - 10) / SD_Y  # 128.284, "hoger is slechter"
    assert _ind(result, "WK099901", 2020, "x").score == pytest.approx(x1)
    assert _ind(result, "WK099901", 2020, "y").score == pytest.approx(y1)
    assert _theme(result, "WK099901", 2020).score == pytest.approx((x1 + y1) / 2)
    assert _theme(result, "WK099901", 2020, deel="objectief").score == pytest.approx(x1)
    assert _theme(result, "WK099901", 2020, deel="subjectief").score == pytest.approx(y1)
    # Context is shown, never scored: theme b has no scored indicator for wijk 1.
    assert math.isnan(_ind(result, "WK099901", 2020, "z").score)
    assert math.isnan(_theme(result, "WK099901", 2020, thema="b").score)
    assert _theme(result, "WK099901", 2020, thema="b").klasse_label == "geen data"
    frame = result.frame.set_index("indicator")
    assert frame.loc["x", "referentiewaarde"] == 50 and frame.loc["x", "spreiding"] == \
        pytest.approx(SD_X)


def test_gemeente_scores_100_in_the_base_year(tmp_path):
    result = score(_rows(_table()), _kompas(tmp_path))
    scored = result.indicators
    gemeente = scored[(scored.gebiedscode == "GM0999") & scored.score.notna()]
    assert len(gemeente) == 2 and (gemeente.score == 100).all()
    assert _theme(result, "GM0999", 2020).score == 100


def test_reversed_polarity_mirrors_the_score_around_100(tmp_path):
    normal = score(_rows(_table()), _kompas(tmp_path))
    flipped_text = KOMPAS.replace('[indicator.x]\nthema = "a"\nrichting = "hoger is beter"',
                                  '[indicator.x]\nthema = "a"\nrichting = "hoger is slechter"')
    flipped = score(_rows(_table()), _kompas(tmp_path, flipped_text))
    for code in BASE:
        a = _ind(normal, code, 2020, "x").score
        b = _ind(flipped, code, 2020, "x").score
        assert a + b == pytest.approx(200)


def test_adding_a_later_year_changes_no_earlier_score(tmp_path):
    kompas = _kompas(tmp_path)
    before = score(_rows(_table(years=(2020, 2021))), kompas)
    # 2022: every wijk and the gemeente move; the frame of 2020 must not.
    after = score(_rows(_table(years=(2020, 2021, 2022),
                               shift={(c, 2022): 30 for c in BASE})), kompas)
    old = before.themes.set_index(["gebiedscode", "jaar", "thema", "deel"])["score"]
    new = after.themes.set_index(["gebiedscode", "jaar", "thema", "deel"])["score"]
    pd.testing.assert_series_equal(old, new.loc[old.index], check_names=False)
    # The whole city improved in 2022, and the scores say so instead of staying put.
    assert _theme(after, "GM0999", 2022).score > 100


def test_a_missing_indicator_lowers_coverage_not_the_score(tmp_path):
    values = _table()
    values[("WK099901", 2020, "y")] = None
    result = score(_rows(values), _kompas(tmp_path))
    row = _theme(result, "WK099901", 2020)
    assert row.dekking == 0.5
    assert row.score == pytest.approx(100 + 20 * (40 - 50) / SD_X)  # x alone, y not as 0


def test_too_little_coverage_gives_no_score(tmp_path):
    values = _table()
    values[("WK099901", 2020, "y")] = None
    text = KOMPAS.replace("minimale_dekking = 0.5", "minimale_dekking = 0.75")
    row = _theme(score(_rows(values), _kompas(tmp_path, text)), "WK099901", 2020)
    assert math.isnan(row.score) and row.klasse == 0 and row.klasse_label == "geen data"


def test_gebied_specifiek_applies_only_to_its_wijk(tmp_path):
    values = _table()
    for code, v in (("GM0999", 20), ("WK099901", 10), ("WK099902", 30), ("WK099903", 20)):
        values[(code, 2020, "n")] = v
    result = score(_rows(values), _kompas(tmp_path))
    assert not np.isnan(_theme(result, "WK099902", 2020, thema="b").score)
    assert np.isnan(_theme(result, "WK099901", 2020, thema="b").score)
    assert _theme(result, "WK099901", 2020, thema="b").indicatoren == 0


def _class_by_hand(value: float) -> int:
    """The class of a score as docs/methode.md states it, written out apart from the code."""
    if math.isnan(value):
        return 0
    if value < 80:
        return 1
    if value < 95:
        return 2
    if value < 105:
        return 3
    return 4 if value < 120 else 5


def test_class_bounds_are_the_same_every_year(tmp_path):
    shift = {(c, j): d for c in BASE for j, d in ((2021, -12), (2022, 4), (2023, 25))}
    result = score(_rows(_table(years=(2020, 2021, 2022, 2023), shift=shift)),
                   _kompas(tmp_path))
    themes = result.themes
    expected = [_class_by_hand(v) for v in themes["score"]]
    assert themes["klasse"].tolist() == expected
    # The years reach different classes, so the comparison above means something.
    assert {1, 2, 3, 4, 5, 0} <= set(expected)
    # WK099902 scores 100 + 20 x 4 / SD_X on x and 100 on y in 2022: 105.7, just above 105.
    wijk = _theme(result, "WK099902", 2022)
    assert wijk.score == pytest.approx((100 + 20 * 4 / SD_X + 100) / 2)
    assert wijk.klasse == 4 and wijk.klasse_label == "gunstiger dan gemiddeld"
    assert [c.lower for c in CLASSES][1:] == [80.0, 95.0, 105.0, 120.0]
    assert classify(pd.Series([79.9, 80, 94.99, 95, 104.9, 105, 119.99, 120, np.nan])).tolist() \
        == [1, 2, 2, 3, 3, 4, 4, 5, 0]


def test_change_meaningful_and_afglijden(tmp_path):
    # wijk 1 loses 2 points of x each year (small), wijk 3 loses 5 each year.
    shift = {}
    for step, jaar in enumerate((2021, 2022, 2023), start=1):
        shift[("WK099901", jaar)] = -1 * step
        shift[("WK099903", jaar)] = -5 * step
    result = score(_rows(_table(years=(2020, 2021, 2022, 2023), shift=shift)),
                   _kompas(tmp_path))
    small = _theme(result, "WK099901", 2021)
    assert small.verandering_vorig_jaar == pytest.approx(-20 * 1 / SD_X / 2)
    assert small.ontwikkeling == "gelijk gebleven"
    big = _theme(result, "WK099903", 2021)
    assert big.ontwikkeling == "verslechterd"
    assert big.verandering_basisjaar == pytest.approx(-20 * 5 / SD_X / 2)
    # Three declines in a row, together a meaningful loss: afglijden in 2023 only.
    assert bool(_theme(result, "WK099903", 2023).afglijden)
    assert not bool(_theme(result, "WK099903", 2022).afglijden)
    # Three small declines that add up to less than the threshold are not afglijden.
    assert not bool(_theme(result, "WK099901", 2023).afglijden)


# One theme, one indicator, and four wijken around the gemeente's 50 with a spread of
# exactly 10: a score is 100 + 2 x (waarde - 50), so score changes are exact in binary.
KOMPAS_EEN = FRAME + """
[[thema]]
code = "a"
naam = "Thema A"

[indicator.x]
thema = "a"
richting = "hoger is beter"
soort = "objectief"
"""

# Values of x in 2020, 2021, 2022 and 2023; the 2020 values make the frame (mean 50, sd 10).
PATHS = {
    "GM0999": (50, 50, 50, 50),
    "WK099901": (40, 39, 38, 37.5),  # -2, -2, -1: three declines adding up to exactly 5
    "WK099902": (60, 59, 58, 57.505),  # -2, -2, -0.99: three declines adding up to 4.99
    "WK099903": (40, 35, 30, 30.5),  # -10, -10, +1: two declines, then a rise
    "WK099904": (60, 57.5, 60, 62.495),  # -5, +5, +4.99
    "WK099905": (40, 37, 37, 34),  # -6, 0, -6: a year without decline in between
    "WK099906": (60, 57.505, 55.01, 52.515),  # -4.99 three times: each small, together big
}


def _paths_result(tmp_path):
    values = {(code, jaar, "x"): v for code, path in PATHS.items()
              for jaar, v in zip((2020, 2021, 2022, 2023), path, strict=True)}
    return score(_rows(values), _kompas(tmp_path, KOMPAS_EEN))


def test_change_threshold_and_afglijden_at_their_bounds(tmp_path):
    result = _paths_result(tmp_path)
    frame = result.frame.set_index("indicator")
    assert (frame.loc["x", "referentiewaarde"], frame.loc["x", "spreiding"]) == (50, 10)

    def change(code, jaar):
        row = _theme(result, code, jaar)
        return row.verandering_vorig_jaar, row.ontwikkeling, bool(row.afglijden)

    # A change of exactly the threshold (5 points) counts; 4.99 does not.
    assert change("WK099904", 2021) == (-5.0, "verslechterd", False)
    assert change("WK099904", 2022) == (5.0, "verbeterd", False)
    delta, ontwikkeling, _ = change("WK099904", 2023)
    assert delta == pytest.approx(4.99) and ontwikkeling == "gelijk gebleven"
    delta, ontwikkeling, _ = change("WK099906", 2021)
    assert delta == pytest.approx(-4.99) and ontwikkeling == "gelijk gebleven"
    # Three declines in a row adding up to exactly the threshold: afglijden.
    assert [change("WK099901", j)[0] for j in (2021, 2022, 2023)] == [-2.0, -2.0, -1.0]
    assert change("WK099901", 2023)[2] is True
    assert _theme(result, "WK099901", 2023).verandering_basisjaar == -5.0
    # Three declines adding up to 4.99: not afglijden.
    assert change("WK099902", 2023)[2] is False
    assert _theme(result, "WK099902", 2023).verandering_basisjaar == pytest.approx(-4.99)
    # Two big declines and then a rise is not afglijden; neither are two declines alone.
    assert [change("WK099903", j)[2] for j in (2021, 2022, 2023)] == [False, False, False]
    assert change("WK099903", 2022)[:2] == (-10.0, "verslechterd")
    # A year without decline breaks the row.
    assert change("WK099905", 2022)[:2] == (0.0, "gelijk gebleven")
    assert change("WK099905", 2023)[2] is False
    # Three declines each below the threshold, together above it: afglijden.
    assert change("WK099906", 2023)[2] is True
    # The gemeente stays at 100 and never slides.
    assert [change("GM0999", j) for j in (2021, 2022, 2023)] == \
        [(0.0, "gelijk gebleven", False)] * 3
    # Only the two cases above slide, and only in 2023.
    sliding = result.themes[result.themes.afglijden & (result.themes.deel == "totaal")]
    assert sorted(zip(sliding.gebiedscode, sliding.jaar, strict=True)) == [
        ("WK099901", 2023), ("WK099906", 2023)]


def test_change_classes_of_the_maps_at_their_bounds():
    from wijkkompas.kompas.classes import change_direction

    deltas = pd.Series([-12.5, -10.0, -9.99, -5.0, -4.99, 0.0, 4.99, 5.0, 9.99, 10.0, 12.5,
                        np.nan])
    assert classify_change(deltas, 5).tolist() == [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 0]
    assert change_direction(deltas, 5).tolist()[:-1] == [-1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 1]
    assert math.isnan(change_direction(deltas, 5).iloc[-1])


@pytest.mark.parametrize("table, classify_", [
    (CLASSES, lambda v: classify(pd.Series(v))),
    (CHANGE_CLASSES, lambda v: classify_change(pd.Series(v) * 5, 5)),  # in thresholds t = 5
], ids=["scores", "changes"])
def test_class_tables_match_the_classification(table, classify_):
    """The bounds in the class tables (legends) are the ones the classification uses."""
    assert [c.code for c in table] == [1, 2, 3, 4, 5]
    assert table[0].lower == -np.inf and table[-1].upper == np.inf
    for below, above in zip(table, table[1:], strict=False):
        assert below.upper == above.lower, (below, above)
    middles = [(c.upper - 1 if math.isinf(c.lower) else c.lower + 1 if math.isinf(c.upper)
                else (c.lower + c.upper) / 2) for c in table]
    assert classify_(middles).tolist() == [1, 2, 3, 4, 5]
    assert len({c.colour for c in table}) == 5


WEIGHTED = KOMPAS.replace('richting = "hoger is beter"\nsoort = "objectief"\n\n[indicator.y]',
                          'richting = "hoger is beter"\nsoort = "objectief"\ngewicht = 3\n\n'
                          '[indicator.y]', 1).replace(
    'richting = "hoger is slechter"\nsoort = "subjectief"',
    'richting = "hoger is slechter"\nsoort = "subjectief"\ngewicht = 0.5', 1)


def test_weights_make_a_weighted_mean(tmp_path):
    assert WEIGHTED.count("gewicht") == 2
    kompas = _kompas(tmp_path, WEIGHTED)
    assert (kompas.indicators["x"].gewicht, kompas.indicators["y"].gewicht) == (3.0, 0.5)
    values = _table()
    values[("WK099902", 2020, "x")] = 47
    values[("WK099902", 2020, "y")] = None  # missing: its weight leaves the mean too
    # The frame moves with these values: x over 40, 47, 60, 50 and y over 5, 15, 10.
    sd_x = math.sqrt((10 ** 2 + 3 ** 2 + 10 ** 2 + 0) / 4 - ((-10 - 3 + 10 + 0) / 4) ** 2)
    sd_y = math.sqrt((5 ** 2 + 5 ** 2 + 0) / 3)
    result = score(_rows(values), kompas)
    frame = result.frame.set_index("indicator")
    assert frame.loc["x", "spreiding"] == pytest.approx(sd_x)
    assert frame.loc["y", "spreiding"] == pytest.approx(sd_y)
    for code, x, y in (("WK099901", 40, 5), ("WK099903", 60, 15), ("WK099904", 50, 10)):
        sx = 100 + 20 * (x - 50) / sd_x
        sy = 100 - 20 * (y - 10) / sd_y
        row = _theme(result, code, 2020)
        assert row.score == pytest.approx((3 * sx + 0.5 * sy) / 3.5), code
        assert _theme(result, code, 2020, deel="objectief").score == pytest.approx(sx)
        assert _theme(result, code, 2020, deel="subjectief").score == pytest.approx(sy)
    # Unweighted, WK099901's theme would be the plain mean of its two scores.
    plain = (100 + 20 * -10 / sd_x + 100 + 20 * 5 / sd_y) / 2
    assert _theme(result, "WK099901", 2020).score < plain - 5
    # With y missing, the theme score is x's alone, whatever the weights.
    assert _theme(result, "WK099902", 2020).score == pytest.approx(100 + 20 * (47 - 50) / sd_x)
    # The rank of each wijk in the weight sensitivity uses the same weights.
    themes = result.themes[(result.themes.niveau == "wijk") & (result.themes.thema == "a")
                           & (result.themes.deel == "totaal")].set_index("gebiedscode")
    expected = (-themes.score).rank(method="min").astype(int)
    ranks = result.sensitivity[result.sensitivity.thema == "a"].set_index("gebiedscode").rang
    assert ranks.sort_index().tolist() == expected.sort_index().tolist()
    assert ranks.loc["WK099901"] == 4 and ranks.loc["WK099903"] == 1
    chain = explain(result, "WK099901", 2020, "a")
    parts = chain.iloc[:-1]
    assert list(parts.gewicht) == [3.0, 0.5]
    assert chain.iloc[-1].score == pytest.approx(
        (3 * parts.score.iloc[0] + 0.5 * parts.score.iloc[1]) / 3.5)


def test_rows_follow_the_indeling_verdicts(tmp_path):
    """select_rows on a hand-made table: 2020 figures on their own indeling and carried onto
    the 2021 indeling; WK099901 kept its boundary ("gelijk"), WK099902 did not."""
    kompas = _kompas(tmp_path)
    values = _table(years=(2020, 2021))
    table = _rows(values)
    carried = table[(table.jaar == 2020) & table.gebiedscode.isin(["WK099901", "WK099902",
                                                                    "GM0999"])].copy()
    carried["indeling"] = 2021
    carried["waarde"] = carried["waarde"] + 1  # so that the two can be told apart
    # and 2021's figure of WK099901 carried back onto 2020's indeling: never used here
    back = table[(table.jaar == 2021) & (table.gebiedscode == "WK099901")].copy()
    back["indeling"] = 2020
    table = pd.concat([table, carried, back], ignore_index=True)
    verdicts = pd.DataFrame({"gebiedscode": ["WK099901", "WK099902"], "indeling": [2021, 2021],
                             "overlap": [0.97, 0.6], "oordeel": ["gelijk", "grens gewijzigd"],
                             "vergeleken_met": [2020, 2020]})
    rows = select_rows(table, kompas, verdicts, target=2021)
    picked = rows.set_index(["gebiedscode", "jaar", "indicator"])
    assert not picked.index.duplicated().any()
    # Same boundary: its own 2020 figure, comparable.
    assert (picked.loc[("WK099901", 2020, "x"), ["indeling", "waarde"]].tolist()
            == [2020, 40])
    assert picked.loc[("WK099901", 2020, "x"), "vergelijkbaar"] == 1.0
    # Boundary changed: the figure carried onto 2021's indeling.
    assert (picked.loc[("WK099902", 2020, "x"), ["indeling", "waarde"]].tolist()
            == [2021, 51])
    assert picked.loc[("WK099902", 2020, "x"), "vergelijkbaar"] == 1.0
    # The gemeente is always the same area; the target year is on its own indeling.
    assert picked.loc[("GM0999", 2020, "x"), "indeling"] == 2020
    assert picked.loc[("WK099902", 2021, "x"), ["indeling", "vergelijkbaar"]].tolist() \
        == [2021, 1.0]
    # Nothing carried and no verdict: its own figure, comparability unknown.
    assert picked.loc[("WK099903", 2020, "x"), "indeling"] == 2020
    assert np.isnan(picked.loc[("WK099903", 2020, "x"), "vergelijkbaar"])
    assert len(rows) == len(BASE) * 2 * 3
    # Without a target indeling: every year on its own, only the gemeente known comparable.
    own = select_rows(table, kompas).set_index(["gebiedscode", "jaar", "indicator"])
    assert set(own.indeling) == {2020, 2021} and not own.index.duplicated().any()
    assert own.loc[("WK099902", 2020, "x"), "waarde"] == 50
    assert own.loc[("GM0999", 2020, "x"), "vergelijkbaar"] == 1.0
    assert np.isnan(own.loc[("WK099901", 2020, "x"), "vergelijkbaar"])
    # The frame and the scores use the chosen rows: WK099902's 2020 x is 51.
    result = score(table, kompas, verdicts, target=2021)
    sd = float(np.std([40, 51, 60, 50]))
    assert result.frame.set_index("indicator").loc["x", "spreiding"] == pytest.approx(sd)
    assert _ind(result, "WK099902", 2020, "x").score == pytest.approx(100 + 20 * 1 / sd)


def test_frame_from_the_first_year_that_can_carry_it(tmp_path):
    """An indicator without a usable base year gets its frame from its first year with a
    gemeente value and at least three wijken that differ."""
    text = KOMPAS + """
[indicator.u]
thema = "b"
richting = "hoger is beter"
soort = "objectief"

[indicator.v]
thema = "b"
richting = "hoger is beter"
soort = "objectief"

[indicator.w]
thema = "b"
richting = "hoger is beter"
soort = "objectief"
"""
    values = _table(years=(2020, 2021))
    wijken = ["WK099901", "WK099902", "WK099903", "WK099904"]
    for code in ["GM0999", *wijken]:
        values[(code, 2020, "u")] = 10  # 2020: all wijken alike, no spread
        values[(code, 2021, "u")] = {"WK099901": 8, "WK099903": 12}.get(code, 10)
        values[(code, 2021, "w")] = {"WK099901": 8, "WK099903": 12}.get(code, 10)
    for code in ["GM0999", "WK099901", "WK099902"]:  # 2020: two wijken only
        values[(code, 2020, "v")] = {"WK099901": 0}.get(code, 10)
    for code in ["GM0999", *wijken]:
        values[(code, 2021, "v")] = {"WK099901": 8, "WK099903": 12}.get(code, 10)
    frame = score(_rows(values), _kompas(tmp_path, text)).frame.set_index("indicator")
    sd = math.sqrt(8 / 4)  # 8, 10, 12, 10
    for name in ("u", "v", "w"):
        row = frame.loc[name]
        assert (row.referentiejaar, row.referentiewaarde, row.wijken_in_referentie) == \
            (2021, 10, 4), name
        assert row.spreiding == pytest.approx(sd), name
    # Context is never framed; an indicator with no usable year says why.
    assert "z" not in frame.index
    values = {k: v for k, v in values.items() if k[2] != "w" or k[0] == "GM0999"}
    frame = score(_rows(values), _kompas(tmp_path, text)).frame.set_index("indicator")
    assert frame.loc["w", "wijken_in_referentie"] == 0
    assert np.isnan(frame.loc["w", "referentiejaar"])
    assert frame.loc["w", "reden"] == "geen gemeentewaarde met ten minste 3 wijken in of na 2020"


def test_chain_of_one_year_and_theme_among_several(tmp_path):
    values = _table(years=(2020, 2021), shift={("WK099902", 2021): 6})
    for jaar in (2020, 2021):
        for code, v in (("GM0999", 20), ("WK099901", 10), ("WK099902", 30), ("WK099903", 20)):
            values[(code, jaar, "n")] = v
    result = score(_rows(values), _kompas(tmp_path))
    chain = explain(result, "WK099902", 2021, "a")
    assert chain.indicator.tolist() == ["x", "y", "themascore a"]
    assert chain.waarde.tolist()[:2] == [56, 10]
    assert chain.iloc[-1].score == pytest.approx(_theme(result, "WK099902", 2021).score)
    assert chain.iloc[-1].score != pytest.approx(_theme(result, "WK099902", 2020).score)
    chain_b = explain(result, "WK099902", 2020, "b")
    assert chain_b.indicator.tolist() == ["n", "z", "themascore b"]
    assert chain_b.iloc[-1].score == pytest.approx(chain_b.score.iloc[0])
    objective = explain(result, "WK099902", 2021, "a", deel="objectief")
    assert objective.indicator.tolist() == ["x", "themascore a"]


def test_sensitivity_with_two_wijken_and_with_one(tmp_path):
    values = _table(years=(2020, 2021))
    for code in ("WK099903", "WK099904"):  # 2021: two wijken measured
        values[(code, 2021, "x")] = None
        values[(code, 2021, "y")] = None
    values[("WK099902", 2021, "x")] = 45
    result = score(_rows(values), _kompas(tmp_path))
    sens = result.sensitivity[(result.sensitivity.thema == "a")]
    later = sens[sens.jaar == 2021].set_index("gebiedscode")
    assert sorted(later.index) == ["WK099901", "WK099902"] and set(later.wijken) == {2}
    # WK099902 (45 and 10) beats WK099901 (40 and 5) on x and loses on y: ranks can swap.
    assert later.loc["WK099902", "rang"] == 2
    values[("WK099902", 2021, "x")] = None
    values[("WK099902", 2021, "y")] = None
    alone = score(_rows(values), _kompas(tmp_path)).sensitivity
    assert alone[alone.jaar == 2021].empty  # one wijk has no rank to vary


def test_traceable_chain(tmp_path):
    result = score(_rows(_table()), _kompas(tmp_path))
    chain = explain(result, "WK099901", 2020, "a")
    parts = chain.iloc[:-1]
    assert list(parts.indicator) == ["x", "y"]
    assert list(parts.waarde) == [40, 5] and set(parts.bron) == {"test"}
    weighted = (parts.score * parts.gewicht).sum() / parts.gewicht.sum()
    assert chain.iloc[-1].score == pytest.approx(weighted)


def test_sensitivity_rank_ranges(tmp_path):
    values = _table()
    values[("WK099904", 2020, "x")] = 58  # good on x
    values[("WK099904", 2020, "y")] = 6  # and on y: first whatever the weights
    values[("WK099903", 2020, "y")] = 9  # best on x, fairly good on y
    values[("WK099902", 2020, "x")] = 47  # a little below average on x, average on y
    result = score(_rows(values), _kompas(tmp_path))
    sens = result.sensitivity[result.sensitivity.thema == "a"].set_index("gebiedscode")
    assert (sens.rang_min <= sens.rang).all() and (sens.rang <= sens.rang_max).all()
    assert sens.loc["WK099904", ["rang", "rang_min", "rang_max"]].tolist() == [1, 1, 1]
    # Wijk 1 (worst on x, best on y) and wijk 2 trade places as the weights vary.
    assert sens.loc["WK099901", "rang_min"] < sens.loc["WK099901", "rang_max"]


@pytest.mark.parametrize("old, new, match", [
    ('thema = "b"\nrichting = "context"', 'thema = "c"\nrichting = "context"',
     "thema 'c' staat niet in de"),
    ('richting = "hoger is beter"', 'richting = "omhoog"',
     "richting: moet 'hoger is beter', 'hoger is slechter' of 'context' zijn"),
    ('soort = "subjectief"', 'soort = "gevoel"', "soort: moet 'objectief' of 'subjectief' zijn"),
    ("basisjaar = 2020\n", "", "'basisjaar' ontbreekt"),
    ("ondergrens = 40", "ondergrens = 120", "ondergrens en bovengrens moeten 100 insluiten"),
    ('soort = "objectief"\n\n[indicator.y]', 'soort = "objectief"\nkleur = "rood"\n\n'
     '[indicator.y]', "onbekende sleutel"),
])
def test_bad_kompas_definitions(tmp_path, old, new, match):
    assert old in KOMPAS
    with pytest.raises(WijkkompasError, match=match):
        _kompas(tmp_path, KOMPAS.replace(old, new, 1))


def test_almelo_default_kompas():
    from wijkkompas.catalogue import indicators

    kompas = load_kompas()
    basis = [i for i in kompas.indicators.values() if not i.gebieden]
    from_cbs = [i for i in basis if i.indicator in indicators()]
    assert len(basis) >= 20 and len(from_cbs) >= 20
    themes = {t.naam for t in kompas.themes}
    assert {"Veiligheid", "Leefomgeving"} <= themes
    specific = {c for i in kompas.indicators.values() for c in i.gebieden}
    assert {"WK014115", "WK014110"} <= specific
    assert {i.soort for i in kompas.indicators.values()} == {"objectief", "subjectief"}


def test_a_score_only_where_the_indicator_applies(tmp_path):
    values = _table()
    for code, v in (("GM0999", 20), ("WK099901", 10), ("WK099902", 30), ("WK099903", 20)):
        values[(code, 2020, "n")] = v
    result = score(_rows(values), _kompas(tmp_path))
    # n applies to WK099902 only: the value of WK099901 is kept, it gets no score.
    assert _ind(result, "WK099901", 2020, "n").waarde == 10
    assert math.isnan(_ind(result, "WK099901", 2020, "n").score)
    # the frame of n: gemeente 20, wijken 10, 30, 20 (sd 8.165)
    assert _ind(result, "WK099902", 2020, "n").score == pytest.approx(
        100 + 20 * 10 / math.sqrt(200 / 3))
    assert [bool(v) for v in result.indicators.set_index(["gebiedscode", "indicator"]).loc[
        [("WK099901", "n"), ("WK099902", "n"), ("WK099901", "x")], "van_toepassing"]] \
        == [False, True, True]


def test_rows_of_the_kompas_and_its_gemeente_only(tmp_path):
    values = _table()
    values[("WK099801", 2020, "x")] = 70  # another gemeente
    values[("GM0998", 2020, "x")] = 70
    values[("BU09990101", 2020, "x")] = 45  # a buurt of this one
    table = _rows(values)
    other = table[table.gebiedscode == "WK099902"].assign(indicator="q")  # not in the kompas
    rows = select_rows(pd.concat([table, other], ignore_index=True), _kompas(tmp_path))
    assert list(rows.columns) == [*COLUMNS, "vergelijkbaar"]
    assert list(rows.index) == list(range(len(rows)))
    carried = select_rows(table, _kompas(tmp_path), None, target=2020)
    assert list(carried.columns) == [*COLUMNS, "vergelijkbaar"]
    assert list(carried.index) == list(range(len(carried)))
    assert sorted(set(rows.gebiedscode)) == ["BU09990101", *sorted(BASE)]
    assert set(rows.indicator) == {"x", "y", "z"}
    assert len(rows) == 3 * len(BASE) + 1
    # Without a target indeling only the gemeente is known to be the same area every year.
    known = rows.set_index("gebiedscode")["vergelijkbaar"]
    assert known["GM0999"].tolist() == [True, True, True]
    assert known[["WK099901", "WK099904", "BU09990101"]].isna().all()


def test_sensitivity_weights_from_half_to_twice_their_own(tmp_path):
    """Weights are drawn from 0.5 to 2 times their own, so the ratio of two weights runs from
    1/4 to 4. Scores on the 2020 frame (x: 50, sd 7.07; y: 10, sd 3.54, lower is better).
    A wijk 4 higher on x (+11.3) and 5 higher on y (-28.3) beats an average wijk only when
    w_x / w_y > 28.3 / 11.3 = 2.5: possible (in 5 % of the draws), but not with the kompas's
    own weights. With 8.2 higher on y (-46.4) it would need w_x / w_y > 4.1: never (asked in
    three years, 600 draws: a range up to 3 times the weight would get there)."""
    values = _table(years=(2020, 2021, 2022, 2023, 2024))
    for jaar, y in ((2021, 15), (2022, 18.2), (2023, 18.2), (2024, 18.2)):
        values[("WK099901", jaar, "x")] = 54
        values[("WK099901", jaar, "y")] = y
        for code in ("WK099903", "WK099904"):
            values[(code, jaar, "x")] = None
            values[(code, jaar, "y")] = None
    sens = score(_rows(values), _kompas(tmp_path)).sensitivity
    sens = sens[(sens.thema == "a") & (sens.jaar > 2020)].set_index(["jaar", "gebiedscode"])
    assert sens.loc[2021, ["rang", "rang_min", "rang_max"]].values.tolist() == [[2, 1, 2],
                                                                                [1, 1, 2]]
    for jaar in (2022, 2023, 2024):
        assert sens.loc[jaar, ["rang", "rang_min", "rang_max"]].values.tolist() == [
            [2, 2, 2], [1, 1, 1]]


def test_afglijden_in_the_year_of_the_third_decline_only(tmp_path):
    """add_changes on hand-made theme scores: 100, 98, 96, 94, then a rise to 110.
    Three declines of 2 (together 6, at least the threshold of 5) end in 2023; 2024 rises.
    A second wijk misses 2022: its changes are against the previous year with a score."""
    jaren = [2020, 2021, 2022, 2023, 2024]
    themes = pd.DataFrame({
        "gebiedscode": ["WK099901"] * 5 + ["WK099902"] * 5, "thema": "a", "deel": "totaal",
        "jaar": jaren * 2,
        "score": [100.0, 98.0, 96.0, 94.0, 110.0, 100.0, 97.0, np.nan, 94.0, 91.0]})
    out = add_changes(themes, _kompas(tmp_path)).set_index(["gebiedscode", "jaar"])
    one = out.loc["WK099901"]
    assert one["afglijden"].tolist() == [False, False, False, True, False]
    assert one["verandering_vorig_jaar"].tolist()[1:] == [-2.0, -2.0, -2.0, 16.0]
    assert one["verandering_basisjaar"].tolist() == [0.0, -2.0, -4.0, -6.0, 10.0]
    two = out.loc["WK099902"]
    assert two["verandering_vorig_jaar"].tolist()[1] == -3.0
    assert np.isnan(two["verandering_vorig_jaar"].tolist()[2])
    assert two["verandering_vorig_jaar"].tolist()[3:] == [-3.0, -3.0]
    assert two["afglijden"].tolist() == [False, False, False, False, True]


def test_rows_carried_back_onto_an_older_target_indeling(tmp_path):
    """Target indeling 2020, figures of 2021: WK099901 kept its boundary ("gelijk"), so its
    own 2021 figure counts; WK099902 did not, so its 2021 figure carried onto the 2020
    indeling counts; WK099903 has nothing carried and no verdict."""
    table = _rows(_table(years=(2020, 2021)))
    back = table[(table.jaar == 2021) & table.gebiedscode.isin(["WK099901", "WK099902"])].copy()
    back["indeling"] = 2020
    back["waarde"] = back["waarde"] + 1
    verdicts = pd.DataFrame({"gebiedscode": ["WK099901", "WK099902"], "indeling": [2020, 2020],
                             "overlap": [0.97, 0.6], "oordeel": ["gelijk", "grens gewijzigd"],
                             "vergeleken_met": [2021, 2021]})
    rows = select_rows(pd.concat([table, back], ignore_index=True), _kompas(tmp_path), verdicts,
                       target=2020)
    picked = rows.set_index(["gebiedscode", "jaar", "indicator"])
    assert not picked.index.duplicated().any() and len(rows) == len(BASE) * 2 * 3
    assert picked.loc[("WK099901", 2021, "x"), ["indeling", "waarde"]].tolist() == [2021, 40]
    assert picked.loc[("WK099902", 2021, "x"), ["indeling", "waarde"]].tolist() == [2020, 51]
    assert picked.loc[("WK099902", 2021, "x"), "vergelijkbaar"] == 1.0
    assert picked.loc[("WK099903", 2021, "x"), "indeling"] == 2021
    assert np.isnan(picked.loc[("WK099903", 2021, "x"), "vergelijkbaar"])
    assert picked.loc[("WK099903", 2020, "x"), "vergelijkbaar"] == 1.0  # the target year


def test_theme_table_columns(tmp_path):
    result = score(_rows(_table()), _kompas(tmp_path))
    assert list(result.themes.columns) == [
        "gebiedscode", "gebiedsnaam", "niveau", "jaar", "thema", "deel", "indicatoren",
        "met_score", "dekking", "score", "klasse", "klasse_label", "thema_naam",
        "verandering_vorig_jaar", "verandering_basisjaar", "ontwikkeling", "afglijden"]
    assert list(result.themes.index) == list(range(len(result.themes)))


def test_the_reference_is_the_gemeente_row_wherever_it_stands(tmp_path):
    # A buurt (45) first and the gemeente (50) last, wijk 4 at 56: the frame is still 50.
    values = _table()
    values[("WK099904", 2020, "x")] = 56
    table = _rows({("BU09990101", 2020, "x"): 45, **values}).iloc[::-1]
    table = pd.concat([table.iloc[[-1]], table.iloc[:-1]], ignore_index=True)
    assert table.gebiedscode.iloc[0] == "BU09990101"
    assert table.gebiedscode.iloc[-1] == "GM0999"
    frame = score(table, _kompas(tmp_path)).frame.set_index("indicator")
    assert frame.loc["x", "referentiewaarde"] == 50
    assert frame.loc["x", "spreiding"] == pytest.approx(float(np.std([40, 50, 60, 56])))


def test_draws_and_weight_range_are_what_the_method_document_says():
    text = (Path(__file__).parents[2] / "docs" / "methode.md").read_text(encoding="utf-8")
    found = re.search(r"rekent elk thema (\d+) keer opnieuw met\s+willekeurige gewichten "
                      r"tussen ([\d,]+) en ([\d,]+) maal", text)
    assert found, "docs/methode.md beschrijft de gevoeligheid niet meer zoals verwacht"
    draws = int(found.group(1))
    low, high = (float(g.replace(",", ".")) for g in found.groups()[1:])
    assert (draws, low, high) == (200, 0.5, 2.0)
    assert (SENSITIVITY_DRAWS, *WEIGHT_RANGE) == (draws, low, high)


def test_page_classes_carry_the_bounds_of_the_method():
    """What a web page classifies with: 80, 95, 105 and 120 (docs/methode.md), the lower
    bound in the class, the upper one not, no bound at either end; the change classes at
    -2t, -t, t and 2t with the bound nearer to zero in the class; geen data without bounds."""
    from wijkkompas.kompas.classes import ALL_CLASSES, page_classes

    def bounds(classes):
        return [(c["code"], c["van"], c["tot"], c["van_telt"], c["tot_telt"])
                for c in page_classes(classes)]

    assert bounds(ALL_CLASSES) == [
        (1, None, 80.0, True, False), (2, 80.0, 95.0, True, False),
        (3, 95.0, 105.0, True, False), (4, 105.0, 120.0, True, False),
        (5, 120.0, None, True, False), (0, None, None, True, False)]
    assert bounds(CHANGE_CLASSES) == [
        (1, None, -2.0, False, True), (2, -2.0, -1.0, False, True),
        (3, -1.0, 1.0, False, False), (4, 1.0, 2.0, True, False), (5, 2.0, None, True, False)]
    assert [c["label"] for c in page_classes(CLASSES)] == [
        "veel ongunstiger dan gemiddeld", "ongunstiger dan gemiddeld", "rond het gemiddelde",
        "gunstiger dan gemiddeld", "veel gunstiger dan gemiddeld"]


def test_sensitivity_ranks_a_wijk_with_a_missing_indicator_by_what_it_has(tmp_path):
    # 2021: WK099902 at the gemeente's values (scores 100 and 100, mean 100); WK099901
    # without x and y = 8 (score 100 + 20 x 2 / 3.54 = 111.3): first with its own weights.
    values = _table(years=(2020, 2021))
    values[("WK099901", 2021, "x")] = None
    values[("WK099901", 2021, "y")] = 8
    for code in ("WK099903", "WK099904"):
        values[(code, 2021, "x")] = None
        values[(code, 2021, "y")] = None
    sens = score(_rows(values), _kompas(tmp_path)).sensitivity
    later = sens[(sens.thema == "a") & (sens.jaar == 2021)].set_index("gebiedscode")
    assert later["rang"].to_dict() == {"WK099901": 1, "WK099902": 2}


def test_explain_one_deel_lists_only_its_indicators(tmp_path):
    result = score(_rows(_table()), _kompas(tmp_path))
    chain = explain(result, "WK099901", 2020, "a", deel="subjectief")
    assert chain.indicator.tolist() == ["y", "themascore a"]
    assert list(chain.index) == [0, 1]
    assert chain.iloc[-1].score == pytest.approx(100 - 20 * (5 - 10) / SD_Y)
    assert list(chain.columns) == [
        "indicator", "soort", "richting", "waarde", "bron", "status", "indeling",
        "referentiejaar", "referentiewaarde", "spreiding", "score", "gewicht"]


def test_sensitivity_draws_around_the_own_weights_and_past_a_lone_wijk(tmp_path):
    """x weighs 4, y 1: drawn weights give w_x / w_y from 1 to 16. WK099901 (4 higher on
    x, 5 higher on y: ahead only when w_x / w_y > 2.5) is first with its own weights (4)
    and second in part of the draws. Theme b in 2020 has one wijk with a score (n applies to
    WK099902 only): it gets no ranks, and the years after it still do."""
    text = KOMPAS.replace('[indicator.x]\nthema = "a"', '[indicator.x]\nthema = "a"\ngewicht = 4')
    values = _table(years=(2020, 2021))
    for code, v in (("GM0999", 20), ("WK099901", 10), ("WK099902", 30), ("WK099903", 20)):
        values[(code, 2020, "n")] = v
    values[("WK099901", 2021, "x")] = 54
    values[("WK099901", 2021, "y")] = 15
    for code in ("WK099903", "WK099904"):
        values[(code, 2021, "x")] = None
        values[(code, 2021, "y")] = None
    sens = score(_rows(values), _kompas(tmp_path, text)).sensitivity
    assert set(sens[sens.thema == "b"].jaar) == set()
    later = sens[(sens.thema == "a") & (sens.jaar == 2021)].set_index("gebiedscode")
    assert later[["rang", "rang_min", "rang_max"]].values.tolist() == [[1, 1, 2], [2, 1, 2]]


def test_frame_from_the_base_year_on_and_with_a_small_spread(tmp_path):
    text = KOMPAS + """
[indicator.u]
thema = "b"
richting = "hoger is beter"
soort = "objectief"
"""
    values = _table(years=(2019, 2020))
    for code, (v19, v20) in {"GM0999": (30, 10.5), "WK099901": (20, 10.0),
                             "WK099902": (30, 10.5), "WK099903": (40, 11.0),
                             "WK099904": (30, 10.5)}.items():
        values[(code, 2019, "u")] = v19  # before the base year: never the frame
        values[(code, 2020, "u")] = v20  # spread sqrt(0.5 / 4) = 0.354, less than 1
    frame = score(_rows(values), _kompas(tmp_path, text)).frame.set_index("indicator")
    assert (frame.loc["u", "referentiejaar"], frame.loc["u", "referentiewaarde"]) == (2020, 10.5)
    assert frame.loc["u", "spreiding"] == pytest.approx(math.sqrt(0.5 / 4))
    assert frame.loc["x", "referentiejaar"] == 2020


def test_row_choice_does_not_depend_on_row_order(tmp_path):
    """The table of test_rows_follow_the_indeling_verdicts with carried rows first, and a
    buurt whose 2020 figure was carried onto 2021 (no verdict, so the carried one counts)."""
    kompas = _kompas(tmp_path)
    table = _rows({**_table(years=(2020, 2021)), ("BU09990101", 2020, "x"): 41,
                   ("BU09990101", 2021, "x"): 42})
    carried = table[(table.jaar == 2020) & table.gebiedscode.isin(
        ["WK099901", "WK099902", "GM0999", "BU09990101"])].copy()
    carried["indeling"] = 2021
    carried["waarde"] = carried["waarde"] + 1
    back = table[(table.jaar == 2021) & (table.gebiedscode == "WK099901")].copy()
    back["indeling"] = 2020
    back["waarde"] = back["waarde"] + 100
    verdicts = pd.DataFrame({"gebiedscode": ["WK099901", "WK099902"], "indeling": [2021, 2021],
                             "overlap": [0.97, 0.6], "oordeel": ["gelijk", "grens gewijzigd"],
                             "vergeleken_met": [2020, 2020]})
    rows = select_rows(pd.concat([carried, back, table], ignore_index=True), kompas, verdicts,
                       target=2021)
    picked = rows.set_index(["gebiedscode", "jaar", "indicator"])
    assert not picked.index.duplicated().any()
    assert picked.loc[("WK099901", 2020, "x"), ["indeling", "waarde"]].tolist() == [2020, 40]
    assert picked.loc[("WK099901", 2021, "x"), ["indeling", "waarde"]].tolist() == [2021, 40]
    assert picked.loc[("WK099902", 2020, "x"), ["indeling", "waarde"]].tolist() == [2021, 51]
    assert picked.loc[("BU09990101", 2020, "x"), ["indeling", "waarde"]].tolist() == [2021, 42]


def test_a_class_holds_its_own_bounds_only_as_the_method_says():
    """``ScoreClass.contains`` on its own (the page tests compare with it): a score class
    holds its lower bound and not its upper one, a change class the bound nearer to zero;
    a missing value is in no class. The classification cannot show this, because a later
    class overwrites an earlier one at a shared bound."""
    values = pd.Series([79.99, 80.0, 94.99, 95.0, np.nan])
    # Class 2 is 80 to 95: 80 in, 95 out, 79.99 out, 94.99 in.
    assert CLASSES[1].contains(values).tolist() == [False, True, True, False, False]
    # Class 1 ends at 80 (not in it); class 3 starts at 95 (in it).
    assert CLASSES[0].contains(values).tolist() == [True, False, False, False, False]
    assert CLASSES[2].contains(values).tolist() == [False, False, False, True, False]
    changes = pd.Series([-2.0, -1.0, -0.5, 1.0, 2.0, np.nan])
    # verslechterd (-2t, -t]: -1 in, -2 out; gelijk gebleven (-t, t): neither bound;
    # verbeterd [t, 2t): 1 in, 2 out.
    assert CHANGE_CLASSES[1].contains(changes).tolist() == [False, True, False, False, False,
                                                            False]
    assert CHANGE_CLASSES[2].contains(changes).tolist() == [False, False, True, False, False,
                                                            False]
    assert CHANGE_CLASSES[3].contains(changes).tolist() == [False, False, False, True, False,
                                                            False]


def test_the_fixed_classes_cannot_be_changed_at_run_time():
    """The classes are the same in every year, map and legend: a class is frozen, so no
    caller can move a bound of the shared tables."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        CLASSES[1].lower = 75.0
    assert CLASSES[1].lower == 80.0


@pytest.mark.parametrize(("years", "expected"), [
    ([2020, 2022, np.nan], 2020),  # the base year has a reference: it stays
    ([2022, 2021, np.nan], 2021),  # no figures in 2020: the first reference year
    ([2023], 2023),
    ([np.nan, np.nan], 2020),  # nothing scorable: the kompas's own year
    ([], 2020),
])
def test_base_year_is_the_kompas_year_or_else_the_first_reference(tmp_path, years, expected):
    frame = pd.DataFrame({"indicator": [f"i{n}" for n in range(len(years))],
                          "referentiejaar": pd.Series(years, dtype="float64")})
    assert base_year(frame, _kompas(tmp_path)) == expected


def test_gebied_specifiek_applies_to_the_buurten_of_its_wijk(tmp_path):
    kompas = _kompas(tmp_path)
    n = kompas.indicators["n"]
    assert n.applies_to("WK099902") and n.applies_to("BU09990201")
    assert not n.applies_to("WK099901") and not n.applies_to("BU09990101")
    assert not n.applies_to("GM0999")
    assert kompas.indicators["x"].applies_to("BU09990101")  # basis-set: everywhere
    # Scored: a buurt of WK099902 with the wijk's own value of n has the wijk's score of n,
    # and theme b (n only; z is context) has a score there; a buurt of WK099901 has none.
    values = _table()
    for code, v in (("GM0999", 20), ("WK099901", 10), ("WK099902", 30), ("WK099903", 20),
                    ("BU09990201", 30), ("BU09990101", 10)):
        values[(code, 2020, "n")] = v
    for code in ("BU09990201", "BU09990101"):
        values[(code, 2020, "x")], values[(code, 2020, "y")] = BASE[f"WK{code[2:8]}"]
    result = score(_rows(values), kompas)
    wijk = _ind(result, "WK099902", 2020, "n").score
    assert not math.isnan(wijk)
    assert _ind(result, "BU09990201", 2020, "n").score == pytest.approx(wijk)
    assert _theme(result, "BU09990201", 2020, thema="b").score == pytest.approx(wijk)
    assert _theme(result, "BU09990201", 2020, thema="b").indicatoren == 1
    assert math.isnan(_ind(result, "BU09990101", 2020, "n").score)
    assert math.isnan(_theme(result, "BU09990101", 2020, thema="b").score)
    assert _theme(result, "BU09990101", 2020, thema="b").indicatoren == 0


def test_change_against_the_base_year_with_scores_before_it(tmp_path):
    # Base year 2020, figures from 2019 on (the Politie series starts years before the
    # kompas's base year). WK099905 has figures in 2019 and 2021 but none in 2020: it has no
    # score in the base year, so its change against the base year is unknown in every year,
    # never measured against 2019. (The frame of 2020 stays that of wijken 1-4.)
    values = _table(years=(2019, 2020, 2021), shift={("WK099903", 2019): -5,
                                                    ("WK099903", 2021): 5})
    for jaar, x in ((2019, 60), (2021, 50)):
        values[("WK099905", jaar, "x")], values[("WK099905", jaar, "y")] = x, 10
    values[("WK099905", 2020, "x")] = values[("WK099905", 2020, "y")] = None
    result = score(_rows(values), _kompas(tmp_path))
    assert math.isnan(_theme(result, "WK099905", 2020).score)
    # x 60 scores 100 + 20 x 10 / SD_X, y at the gemeente's 10 scores 100.
    assert _theme(result, "WK099905", 2019).score == pytest.approx(100 + 20 * 10 / SD_X / 2)
    assert _theme(result, "WK099905", 2021).score == pytest.approx(100)
    for jaar in (2019, 2020, 2021):
        assert math.isnan(_theme(result, "WK099905", jaar).verandering_basisjaar)
    # WK099903 has a 2020 score: its changes are against 2020, before and after it.
    # x moves 5 (half a theme of two indicators): 20 x 5 / SD_X / 2 points of the theme.
    step = 20 * 5 / SD_X / 2
    assert _theme(result, "WK099903", 2019).verandering_basisjaar == pytest.approx(-step)
    assert _theme(result, "WK099903", 2020).verandering_basisjaar == 0
    assert _theme(result, "WK099903", 2021).verandering_basisjaar == pytest.approx(step)


def test_the_draws_start_from_the_documented_seed():
    text = (Path(__file__).parents[2] / "docs" / "methode.md").read_text(encoding="utf-8")
    found = re.search(r"de toevalsgenerator begint altijd bij\s+startgetal (\d+)", text)
    assert found, "docs/methode.md noemt het startgetal van de gevoeligheid niet meer"
    assert inspect.signature(sensitivity).parameters["seed"].default == int(found.group(1))


def test_sensitivity_ranks_are_equal_to_nine_decimals(tmp_path):
    # One indicator: a wijk's weighted theme score is its score, whatever the weights.
    # WK099901 and WK099902 differ by 4e-10 (equal to 9 decimals: one rank), WK099903 is
    # 2e-9 higher (not equal to 9 decimals: a rank of its own, the best).
    kompas = _kompas(tmp_path)
    scores = {"WK099901": 100.0, "WK099902": 100.0 + 4e-10, "WK099903": 100.0 + 2e-9}
    scored = pd.DataFrame({"gebiedscode": list(scores), "niveau": "wijk", "jaar": 2020,
                           "thema": "a", "indicator": "x", "score": list(scores.values())})
    out = sensitivity(scored, kompas).set_index("gebiedscode")
    assert out["rang"].to_dict() == {"WK099901": 2, "WK099902": 2, "WK099903": 1}
    assert out["rang_min"].to_dict() == out["rang_max"].to_dict() == out["rang"].to_dict()
    assert set(out["wijken"]) == {3}


def test_the_steps_one_by_one_give_the_scores(tmp_path):
    """select_rows, reference_frame, indicator_scores and theme_scores called in turn (as
    docs/methode.md tells the method) give what score gives; with context the frame also
    has a row for the context indicator z, which is never scored."""
    kompas = _kompas(tmp_path)
    table = _rows(_table(years=(2020, 2021), shift={("WK099901", 2021): -6}))
    rows = select_rows(table, kompas)
    frame = reference_frame(rows, kompas)
    scored = indicator_scores(rows, frame, kompas)
    themes = theme_scores(scored, frame, kompas)
    result = score(table, kompas)
    pd.testing.assert_frame_equal(frame, result.frame)
    pd.testing.assert_frame_equal(scored, result.indicators)
    pd.testing.assert_frame_equal(themes, result.themes)
    with_context = reference_frame(rows, kompas, context=True).set_index("indicator")
    assert set(frame["indicator"]) == {"x", "y", "n"}
    assert set(with_context.index) == {"x", "y", "n", "z"}
    # z is 1000 everywhere: no spread between the wijken, so no frame, with the reason.
    assert np.isnan(with_context.loc["z", "spreiding"])
    assert with_context.loc["z", "reden"].startswith("geen gemeentewaarde met ten minste 3")


def test_text_as_categories_scores_the_same(tmp_path):
    """A table whose text columns are categoricals, their categories not in text order (as
    the build holds its table), gives the same scores as plain text."""
    kompas = _kompas(tmp_path)
    table = _rows({**_table(years=(2020, 2021)), ("BU09990101", 2020, "x"): 41})
    given = table.copy()
    for column in ("gebiedscode", "gebiedsnaam", "niveau", "indicator", "bron", "status"):
        given[column] = pd.Categorical(table[column],
                                       categories=sorted(set(table[column]), reverse=True))
    plain, categorical = score(table, kompas), score(given, kompas)
    for name in ("frame", "indicators", "themes", "sensitivity"):
        pd.testing.assert_frame_equal(getattr(categorical, name), getattr(plain, name),
                                      check_dtype=False, check_categorical=False, obj=name)


def test_sensitivity_without_two_wijken_is_empty(tmp_path):
    kompas = _kompas(tmp_path)
    columns = ["gebiedscode", "jaar", "thema", "rang", "rang_min", "rang_max", "wijken"]
    none = pd.DataFrame({"gebiedscode": ["GM0999"], "niveau": "gemeente", "jaar": 2020,
                         "thema": "a", "indicator": "x", "score": [100.0]})
    assert list(sensitivity(none, kompas).columns) == columns
    assert sensitivity(none, kompas).empty
    one = none.assign(gebiedscode="WK099901", niveau="wijk")
    assert list(sensitivity(one, kompas).columns) == columns
    assert sensitivity(one, kompas).empty
def test_a_second_gemeente_row_does_not_move_the_reference(tmp_path):
    """Two sources with a gemeente figure for the same year (50 first, 70 after it): the
    first row is the reference, with or without a target indeling (select_rows keeps the
    first of two rows when it has a target; without one both rows reach the frame)."""
    second = _rows({("GM0999", 2020, "x"): 70}).assign(bron="tweede bron")
    table = pd.concat([_rows(_table()), second], ignore_index=True)
    kompas = _kompas(tmp_path)
    for target in (None, 2020):
        frame = score(table, kompas, target=target).frame.set_index("indicator")
        assert frame.loc["x", "referentiewaarde"] == 50, target


def test_each_gemeente_slides_by_its_own_number_of_years(tmp_path):
    """Two gemeenten scored in one pass, the same threshold (5 points), afglijden over 3
    years in GM0999 and over 2 in GM0998. WK099801 declines 2 points a year: two declines
    add up to 4 (not afglijden), three to 6, which would count only over 3 years.
    WK099802 declines 6 twice: afglijden over 2 years in 2022. GM0999 has the paths of
    the bounds test above, which slide over 3 years only."""
    own = _kompas(tmp_path, KOMPAS_EEN)
    other_path = tmp_path / "ander"
    other_path.mkdir()
    other = _kompas(other_path, KOMPAS_EEN.replace('gemeente = "GM0999"', 'gemeente = "GM0998"')
                    .replace("afglijden_jaren = 3", "afglijden_jaren = 2"))
    paths = {**PATHS, "GM0998": (50, 50, 50, 50), "WK099801": (40, 39, 38, 37),
             "WK099802": (60, 57, 54, 54), "WK099803": (40, 40, 40, 40),
             "WK099804": (60, 60, 60, 60)}
    values = {(code, jaar, "x"): v for code, path in paths.items()
              for jaar, v in zip((2020, 2021, 2022, 2023), path, strict=True)}
    themes = score_gemeenten(_rows(values), [own, other]).themes
    sliding = themes[themes.afglijden & (themes.deel == "totaal")]
    assert sorted(zip(sliding.gemeente, sliding.gebiedscode, sliding.jaar, strict=True)) == [
        ("GM0998", "WK099802", 2022), ("GM0999", "WK099901", 2023),
        ("GM0999", "WK099906", 2023)]


def test_explain_a_year_without_figures_has_no_theme_score(tmp_path):
    """Never the score of a later year: WK099901 has figures in 2020 and 2021 only."""
    result = score(_rows(_table(years=(2020, 2021))), _kompas(tmp_path))
    chain = explain(result, "WK099901", 2019, "a")
    assert chain.indicator.tolist() == ["themascore a"]
    assert np.isnan(chain.iloc[-1].score)


def test_explain_takes_the_deel_as_text_read_at_run_time(tmp_path):
    """``deel`` compared as text, not as the same object: "totaal" made at run time (as
    from a notebook widget or a command line) lists every indicator of the theme."""
    result = score(_rows(_table()), _kompas(tmp_path))
    deel = "".join(["tot", "aal"])
    assert deel == "totaal" and deel is not sys.intern("totaal")
    chain = explain(result, "WK099901", 2020, "a", deel=deel)
    assert chain.indicator.tolist() == ["x", "y", "themascore a"]


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")
def test_a_spread_that_is_not_a_number_makes_no_frame(tmp_path):
    """An infinite wijk value in 2020 makes the spread of x there not a number (inf - inf):
    that year gives no frame, the next year with a spread does."""
    values = _table(years=(2020, 2021))
    values[("WK099901", 2020, "x")] = math.inf
    frame = score(_rows(values), _kompas(tmp_path)).frame.set_index("indicator")
    assert frame.loc["x", "referentiejaar"] == 2021
    assert frame.loc["x", "spreiding"] == pytest.approx(SD_X)


def _one_up_on_x(drop_on_y: float) -> pd.DataFrame:
    """Two wijken scored on x and y of theme a in 2020: WK099901 1 point higher on x and
    ``drop_on_y`` lower on y than WK099902, which scores 100 on both."""
    return pd.DataFrame({"gebiedscode": ["WK099901", "WK099901", "WK099902", "WK099902"],
                         "niveau": "wijk", "jaar": 2020, "thema": "a",
                         "indicator": ["x", "y", "x", "y"],
                         "score": [101.0, 100.0 - drop_on_y, 100.0, 100.0]})


def test_the_first_draw_counts_for_the_rank_range(tmp_path):
    """With seed 106 the first of the 200 draws is the only one where x weighs more than
    3.3 times y. WK099901 is 1 higher on x and 3.3 lower on y than WK099902: ahead only in
    that draw, so its best rank (rang_min) is 1 through the first draw alone."""
    draws = np.random.default_rng(106).uniform(*WEIGHT_RANGE, size=(SENSITIVITY_DRAWS, 2))
    ratio = draws[:, 0] / draws[:, 1]
    assert ratio[0] > 3.3 and (ratio[1:] < 3.3).all()
    scored = _one_up_on_x(drop_on_y=3.3)
    out = sensitivity(scored, _kompas(tmp_path), seed=106).set_index("gebiedscode")
    assert out[["rang", "rang_min", "rang_max"]].values.tolist() == [[2, 1, 2], [1, 1, 2]]


def test_the_own_weights_give_the_rank_not_a_draw(tmp_path):
    """Seed 106: the last draw weighs x only 0.61 times y. WK099901 is 1 higher on x and
    0.8 lower on y: ahead with its own weights (x as heavy as y), behind in that last draw."""
    draws = np.random.default_rng(106).uniform(*WEIGHT_RANGE, size=(SENSITIVITY_DRAWS, 2))
    assert draws[-1, 0] / draws[-1, 1] < 0.8
    scored = _one_up_on_x(drop_on_y=0.8)
    out = sensitivity(scored, _kompas(tmp_path), seed=106).set_index("gebiedscode")
    assert out[["rang", "rang_min", "rang_max"]].values.tolist() == [[1, 1, 2], [2, 1, 2]]


def test_each_gemeente_judges_change_by_its_own_threshold(tmp_path):
    """Two gemeenten scored in one pass, afglijden over 3 years in both, a meaningful change
    of 2 points in GM0998 and of 5 in GM0999 (score = 100 + 2 x (waarde - 50)). A decline of
    3 is "verslechterd" in GM0998 only; three declines of 1, 1 and 1.5 (together 3.5) are
    afglijden in GM0998 only; result.of gives each gemeente its own rows."""
    own = _kompas(tmp_path, KOMPAS_EEN)
    other_path = tmp_path / "ander"
    other_path.mkdir()
    other = _kompas(other_path, KOMPAS_EEN.replace('gemeente = "GM0999"', 'gemeente = "GM0998"')
                    .replace("betekenisvolle_verandering = 5", "betekenisvolle_verandering = 2"))
    paths = {"GM0999": (50, 50, 50, 50), "WK099901": (40, 39.5, 39, 38.25),
             "WK099902": (60, 58.5, 58.5, 58.5), "WK099903": (40, 40, 40, 40),
             "WK099904": (60, 60, 60, 60),
             "GM0998": (50, 50, 50, 50), "WK099801": (40, 39.5, 39, 38.25),
             "WK099802": (60, 58.5, 58.5, 58.5), "WK099803": (40, 40, 40, 40),
             "WK099804": (60, 60, 60, 60)}
    values = {(code, jaar, "x"): v for code, path in paths.items()
              for jaar, v in zip((2020, 2021, 2022, 2023), path, strict=True)}
    result = score_gemeenten(_rows(values), [own, other])
    themes = result.themes[result.themes.deel == "totaal"].set_index(["gebiedscode", "jaar"])
    assert themes.loc[("WK099802", 2021), "verandering_vorig_jaar"] == -3.0
    assert themes.loc[("WK099802", 2021), "ontwikkeling"] == "verslechterd"
    assert themes.loc[("WK099902", 2021), "ontwikkeling"] == "gelijk gebleven"
    sliding = themes[themes.afglijden]
    assert sorted(sliding.index) == [("WK099801", 2023)]
    assert set(result.of("GM0998").themes.gebiedscode) == {
        "GM0998", "WK099801", "WK099802", "WK099803", "WK099804"}


def test_afglijden_in_any_later_year(tmp_path):
    """WK099901 stays level in 2021 and declines 4 points a year after: afglijden in 2024,
    the fifth scored year (four changes before it), not in 2023."""
    paths = {"GM0999": (50,) * 5, "WK099901": (40, 40, 38, 36, 34), "WK099902": (60,) * 5,
             "WK099903": (40,) * 5, "WK099904": (60,) * 5}
    values = {(code, jaar, "x"): v for code, path in paths.items()
              for jaar, v in zip(range(2020, 2025), path, strict=True)}
    themes = score(_rows(values), _kompas(tmp_path, KOMPAS_EEN)).themes
    sliding = themes[themes.afglijden & (themes.deel == "totaal")]
    assert sorted(zip(sliding.gebiedscode, sliding.jaar, strict=True)) == [("WK099901", 2024)]


def test_afglijden_over_more_years_than_there_are_scores(tmp_path):
    """afglijden_jaren 20 and one scored year (ten theme scores): no area can slide yet, and
    scoring does not look for changes that are not there."""
    text = KOMPAS_EEN.replace("afglijden_jaren = 3", "afglijden_jaren = 20")
    values = {(code, 2020, "x"): path[0] for code, path in PATHS.items() if code <= "WK099904"}
    themes = score(_rows(values), _kompas(tmp_path, text)).themes
    assert themes["score"].notna().sum() == 10
    assert not themes["afglijden"].any()
