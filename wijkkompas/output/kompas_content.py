"""What the kompas chart of one area and year shows, computed once for every renderer.

:func:`kompas_content` gathers the chart's content: a sector per scored theme (score,
class, colour, hatch and its axis label with this year's and the earlier years' values),
the earlier years drawn as lines (the previous measurement and the base year where that
differs) with the value at each point, the reference circle, the legend entries, the
context indicators (not scored) and, for every theme without a score, why. Two renderers
draw it: matplotlib for notebooks and files (:func:`wijkkompas.output.charts.kompas_chart`)
and a direct SVG writer for the pages (:mod:`wijkkompas.output.kompas_svg`), so both show
the same texts and values. Nothing here imports matplotlib.

Texts are plain text, as they come from the data; each renderer escapes them for its own
medium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wijkkompas.kompas.classes import ALL_CLASSES, classify
from wijkkompas.kompas.results import Processed
from wijkkompas.output.profile import area_rows, area_themes, indicator_label, value_text
from wijkkompas.web.numbers import nl_number

#: Line hatches per class code (matplotlib's hatch notation): slanted one way for the
#: unfavourable classes, the other way for the favourable ones, denser at the ends, crossed
#: for "geen data". Dot and circle hatches are avoided: in SVG each of them became a
#: pattern of over 100 kB, where a line hatch takes a few hundred bytes.
HATCHES = {0: "xx", 1: "////", 2: "//", 3: "", 4: "\\\\", 5: "\\\\\\\\"}
#: The radius (in score points above the centre) of the stub drawn for "geen data"; far
#: below the lowest score (the kompas's ondergrens), so never mistaken for one.
NO_DATA_STUB = 8.0
#: The score at the centre of the chart: 0, so that the length of a bar is its score (a
#: score of 66 is two thirds of the way to the 100 circle, not a sliver above 40).
CENTRE = 0.0
#: The score circles drawn and labelled.
TICKS = (50, 100, 150)
#: The reference circle: 100 = the gemeente in the base year.
REFERENCE = 100.0
#: How the earlier years are drawn, in order: (colour, dotted, marker "o" circle or "s"
#: square). The previous measurement solid black with circles, the base year dotted grey
#: with squares.
LINE_LOOKS = (("black", False, "o"), ("#555", True, "s"))


@dataclass(frozen=True)
class Sector:
    """One scored theme: the bar of ``jaar`` and the texts around it."""

    code: str
    naam: str
    score: float  # NaN: no score in this year
    klasse: int  # class code (0 = "geen data")
    colour: str
    hatch: str
    lines: tuple[str, ...]  # the axis label: name, this year's value, earlier values

    @property
    def value_text(self) -> str | None:
        """The score written at the end of the bar; None where there is none."""
        return None if math.isnan(self.score) else nl_number(self.score, 0)


@dataclass(frozen=True)
class Series:
    """An earlier year drawn as a closed line over the sectors."""

    jaar: int
    label: str  # the legend entry
    values: tuple[float, ...]  # per sector; NaN where the theme had no score
    colour: str
    dotted: bool
    marker: str  # "o" circle, "s" square

    @property
    def texts(self) -> tuple[str | None, ...]:
        """The value written beside each point; None where there is no point."""
        return tuple(None if math.isnan(v) else nl_number(v, 0) for v in self.values)


@dataclass(frozen=True)
class LegendPatch:
    """A legend entry of a score class: label, fill colour and hatch."""

    label: str
    colour: str
    hatch: str


@dataclass(frozen=True)
class KompasContent:
    """Everything the kompas chart of one area and year shows (see the module text)."""

    title: str
    jaar: int
    low: float  # the score at the centre (CENTRE: 0)
    high: float  # the score at the outer circle
    sectors: tuple[Sector, ...]
    series: tuple[Series, ...]
    reference_label: str  # "100 = <gemeente> in <basisjaar>"
    bar_label: str  # the first legend entry: what a bar is
    classes: tuple[LegendPatch, ...]
    context_title: str
    context: tuple[str, ...]  # "name: value unit" per context indicator, or "geen gegevens"
    missing_title: str | None  # None when every theme has a score
    missing: tuple[str, ...]  # "theme: reason" per theme without a score
    ticks: tuple[int, ...] = TICKS
    reference: float = REFERENCE

    @property
    def angles(self) -> list[float]:
        """The angle of each sector in radians, counter-clockwise from the east (the first
        sector), evenly spaced."""
        n = len(self.sectors)
        return [2 * math.pi * i / n for i in range(n)]

    @property
    def bar_width(self) -> float:
        """The angular width of a bar in radians (86 % of a sector)."""
        return 2 * math.pi / max(len(self.sectors), 1) * 0.86

    def texts(self) -> list[str]:
        """Every text the chart shows, in a fixed order (to compare renderers)."""
        out = [self.title]
        for sector in self.sectors:
            out += list(sector.lines)
            if sector.value_text is not None:
                out.append(sector.value_text)
        for series in self.series:
            out += [t for t in series.texts if t is not None]
        out += [str(t) for t in self.ticks]
        out += [self.bar_label, *(c.label for c in self.classes), self.reference_label]
        out += [s.label for s in self.series]
        out += [self.context_title, *self.context]
        if self.missing_title is not None:
            out += [self.missing_title, *self.missing]
        return out


def scored_themes(processed: Processed) -> list[tuple[str, str]]:
    """(code, name) of every theme with at least one scored indicator, in kompas order."""
    kompas = processed.kompas
    return [(t.code, t.naam) for t in kompas.themes
            if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]


def earlier_series(totaal: pd.DataFrame, jaar: int, basisjaar: int) -> list[tuple[int, str]]:
    """The earlier years drawn as lines: the previous year with a score and the base year
    where it differs, each with its label."""
    scored = totaal[totaal["score"].notna()]
    earlier = sorted({int(j) for j in scored["jaar"]} - {jaar})
    earlier = [j for j in earlier if j < jaar]
    out = []
    if earlier:
        out.append((earlier[-1], f"{earlier[-1]} (vorige meting)"))
    if basisjaar in earlier and basisjaar != earlier[-1]:
        out.append((basisjaar, f"{basisjaar} (basisjaar)"))
    return out


def context_lines(processed: Processed, code: str, jaar: int) -> list[str]:
    """The context indicators (not scored) of an area in a year: "name: value unit", in
    the order of the kompas."""
    rows = area_rows(processed, code)  # the rows that apply to it
    rows = rows[(rows["jaar"] == jaar) & (rows["richting"] == 0) & rows["waarde"].notna()]
    order = list(processed.kompas.indicators)
    rows = rows.assign(_order=rows["indicator"].map(order.index)).sort_values("_order")
    lines = []
    for indicator, value in zip(rows["indicator"], rows["waarde"], strict=True):
        naam, eenheid = indicator_label(processed, indicator)
        lines.append(f"{naam}: {value_text(value, eenheid)}")
    return lines


def kompas_content(processed: Processed, code: str, jaar: int) -> KompasContent:
    """The content of the kompas chart of area ``code`` in ``jaar``."""
    from wijkkompas.output.maps import theme_reasons

    themes = area_themes(processed, code)
    totaal = themes[themes["deel"] == "totaal"]
    # Per year the score of each theme (an area has one row per theme and year).
    by_year: dict[int, dict[str, float]] = {}
    for year, thema, score in zip(totaal["jaar"].tolist(), totaal["thema"].tolist(),
                                  totaal["score"].tolist(), strict=True):
        by_year.setdefault(year, {})[thema] = score
    current = by_year.get(jaar, {})
    kompas = processed.kompas
    themes_shown = scored_themes(processed)
    scores = [float(current.get(c, np.nan)) for c, _ in themes_shown]
    codes = [int(k) for k in classify(pd.Series(scores, dtype="float64"))]
    colours = {c.code: c.colour for c in ALL_CLASSES}

    series = []
    earlier_text: dict[str, list[str]] = {c: [] for c, _ in themes_shown}
    for (year, label), (colour, dotted, marker) in zip(
            earlier_series(totaal, jaar, kompas.basisjaar), LINE_LOOKS, strict=False):
        values = by_year.get(year, {})
        before = tuple(float(values.get(c, np.nan)) for c, _ in themes_shown)
        for (c, _), value in zip(themes_shown, before, strict=True):
            if not math.isnan(value):
                earlier_text[c].append(f"{year}: {nl_number(value, 0)}")
        series.append(Series(year, label, before, colour, dotted, marker))

    sectors = []
    for (c, naam), score, klasse in zip(themes_shown, scores, codes, strict=True):
        first = f"{jaar}: {nl_number(score, 0)}" if not math.isnan(score) else \
            f"{jaar}: geen score"
        sectors.append(Sector(c, naam, score, klasse, colours[klasse], HATCHES[klasse],
                              (naam, first, *earlier_text[c])))

    named = totaal.dropna(subset=["gebiedsnaam"]).sort_values("jaar")
    name = named["gebiedsnaam"].iloc[-1] if len(named) else code  # the latest name
    reasons = theme_reasons(processed)
    missing = tuple(f"{s.naam}: {reasons.get((code, s.code, jaar), 'geen cijfers')}"
                    for s in sectors if math.isnan(s.score))
    context = tuple(context_lines(processed, code, jaar)) or ("geen gegevens",)
    return KompasContent(
        title=f"Wijkkompas {name}, {jaar}", jaar=jaar,
        low=CENTRE, high=kompas.bovengrens,
        sectors=tuple(sectors), series=tuple(series),
        reference_label=f"100 = {kompas.naam} in {kompas.basisjaar}",
        bar_label=f"balk = score {jaar}; kleur = klasse:",
        classes=tuple(LegendPatch(c.label, c.colour, HATCHES[c.code]) for c in ALL_CLASSES),
        context_title="Context (niet gescoord)", context=context,
        missing_title=f"Geen score in {jaar}, omdat:" if missing else None, missing=missing)
