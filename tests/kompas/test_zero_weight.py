"""A theme whose indicators all lack a score (here: in a year without figures for them) has
no score; it never divides by zero (it did: ZeroDivisionError in ``theme_scores``)."""

from __future__ import annotations

import numpy as np

from tests.fixtures.kompas import KOMPAS
from tests.kompas.test_scores import _kompas, _rows
from wijkkompas.kompas.scores import score

# The test kompas of test_scores.py with only its objective indicators x (theme a) and w
# (theme b, new here).
ONLY_OBJECTIVE = KOMPAS[:KOMPAS.index("[indicator.y]")] + """
[indicator.w]
thema = "b"
richting = "hoger is slechter"
soort = "objectief"
"""


def test_theme_without_any_score_is_geen_score(tmp_path):
    kompas = _kompas(tmp_path, ONLY_OBJECTIVE)
    codes = {"GM0999": 50, "WK099901": 40, "WK099902": 50, "WK099903": 60}
    values = {}
    for code, value in codes.items():
        values[(code, 2020, "x")] = value
        values[(code, 2020, "w")] = value
        values[(code, 2021, "x")] = value + 5
        values[(code, 2021, "w")] = None  # no figures for theme b in 2021
    table = _rows(values)
    # Values as the build can hand them over: numbers in a column of objects.
    table["waarde"] = table["waarde"].astype(object)
    result = score(table, kompas)
    themes = result.themes[result.themes["deel"] == "totaal"].set_index(
        ["gebiedscode", "jaar", "thema"])
    assert np.isnan(themes.loc[("WK099901", 2021, "b"), "score"])
    assert themes.loc[("WK099901", 2021, "b"), "klasse_label"] == "geen data"
    assert themes.loc[("WK099901", 2020, "b"), "score"] == 100 + 20 * (50 - 40) / np.std(
        [40, 50, 60])
    assert themes.loc[("WK099903", 2021, "a"), "score"] == 100 + 20 * (65 - 50) / np.std(
        [40, 50, 60])
