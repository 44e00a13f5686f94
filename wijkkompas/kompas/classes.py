"""The fixed score classes of the wijkkompas: the same bounds, labels and colours in every
year, map and legend of the project.

Scores are on the fixed reference frame of the method (100 = the gemeente in the base year,
20 points = one standard deviation between the wijken in that year). The colours are a
diverging palette that stays distinguishable for colour-blind readers and in grey print
(light in the middle, dark at both ends, with hatching in the static maps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ScoreClass:
    code: int
    label: str
    lower: float
    upper: float
    colour: str
    lower_counts: bool = True  # a value equal to ``lower`` is in the class
    upper_counts: bool = False  # a value equal to ``upper`` is in the class

    def contains(self, values: pd.Series) -> pd.Series:
        """True for each value within the bounds; False where it is missing."""
        above = values >= self.lower if self.lower_counts else values > self.lower
        below = values <= self.upper if self.upper_counts else values < self.upper
        return above & below & values.notna()


CLASSES: tuple[ScoreClass, ...] = (
    ScoreClass(1, "veel ongunstiger dan gemiddeld", -np.inf, 80.0, "#b2182b"),
    ScoreClass(2, "ongunstiger dan gemiddeld", 80.0, 95.0, "#ef8a62"),
    ScoreClass(3, "rond het gemiddelde", 95.0, 105.0, "#f7f7f7"),
    ScoreClass(4, "gunstiger dan gemiddeld", 105.0, 120.0, "#67a9cf"),
    ScoreClass(5, "veel gunstiger dan gemiddeld", 120.0, np.inf, "#2166ac"),
)
NO_DATA = ScoreClass(0, "geen data", np.nan, np.nan, "#bdbdbd")
ALL_CLASSES: tuple[ScoreClass, ...] = (*CLASSES, NO_DATA)

#: Change classes, in multiples of the method's meaningful-change threshold t: -2t or less,
#: -2t to -t, within t, t to 2t, 2t or more. The bound nearer to zero counts: a change of
#: exactly t is meaningful, as in the method. A purple-orange diverging palette, so that a
#: change map is never mistaken for a score map.
CHANGE_CLASSES: tuple[ScoreClass, ...] = (
    ScoreClass(1, "sterk verslechterd", -np.inf, -2.0, "#b35806", False, True),
    ScoreClass(2, "verslechterd", -2.0, -1.0, "#f1a340", False, True),
    ScoreClass(3, "gelijk gebleven", -1.0, 1.0, "#f7f7f7", False, False),
    ScoreClass(4, "verbeterd", 1.0, 2.0, "#998ec3", True, False),
    ScoreClass(5, "sterk verbeterd", 2.0, np.inf, "#542788", True, False),
)
ALL_CHANGE_CLASSES: tuple[ScoreClass, ...] = (*CHANGE_CLASSES, NO_DATA)


def _codes(values: pd.Series, classes: tuple[ScoreClass, ...]) -> pd.Series:
    codes = pd.Series(0, index=values.index, dtype=int)
    for klass in classes:
        codes[klass.contains(values)] = klass.code
    return codes


def classify_change(delta: pd.Series | np.ndarray, threshold: float) -> pd.Series:
    """The change class (1-5) of each score change; 0 ("geen data") where it is missing.

    Bounds are multiples of ``threshold`` (the meaningful change); a change of exactly t
    counts as meaningful, as in the method."""
    return _codes(pd.Series(delta, dtype="float64") / threshold, CHANGE_CLASSES)


def classify(scores: pd.Series | np.ndarray) -> pd.Series:
    """The class code (1-5) of each score; 0 ("geen data") where the score is missing."""
    return _codes(pd.Series(scores, dtype="float64"), CLASSES)


def page_classes(classes: tuple[ScoreClass, ...]) -> list[dict[str, object]]:
    """The classes as a web page gets them (JSON): code, label, colour, the bounds (None
    for no bound) and whether a value equal to each bound is in the class. The page
    classifies with these and nothing else."""
    def bound(value: float) -> float | None:
        return None if np.isinf(value) or np.isnan(value) else float(value)

    return [{"code": c.code, "label": c.label, "kleur": c.colour, "van": bound(c.lower),
             "tot": bound(c.upper), "van_telt": c.lower_counts, "tot_telt": c.upper_counts}
            for c in classes]


def label(code: int) -> str:
    return {c.code: c.label for c in ALL_CLASSES}[int(code)]


def colour(code: int) -> str:
    return {c.code: c.colour for c in ALL_CLASSES}[int(code)]


def change_direction(delta: pd.Series, threshold: float) -> pd.Series:
    """-1, 0 or 1 for a meaningful decline, no meaningful change, a meaningful gain; NaN
    where there is no change to speak of."""
    values = pd.Series(delta, dtype="float64")
    out = pd.Series(0.0, index=values.index)
    out[values >= threshold] = 1.0
    out[values <= -threshold] = -1.0
    return out.where(values.notna())
