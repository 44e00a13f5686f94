"""The interactive wijkkompas map: one folium map with a choice of level, theme, year and
measure (score, or change against the previous year or the base year).

Every area's geometry is stored once, with all its scores and main indicator values, as
columns (one entry per area; texts that repeat, such as reasons and indicator names, once
in a shared list; the numbers of a column packed into one short string,
:mod:`wijkkompas.output.packing`); a small script restyles the areas when a choice changes. Leaflet
itself is inlined from an installed package (``django-js-lib-leaflet``), so the map works
without a network; only the PDOK base map (BRT-Achtergrondkaart, grijs) needs one, and
without it the areas, labels, legend and choices still work. Data reaches the page only as
script-safe JSON; the script (``templates/kompas_map.js``) escapes every text it shows.
"""

from __future__ import annotations

import math
from typing import Any

import folium
import pandas as pd

from wijkkompas.gebied import wijk_of
from wijkkompas.kompas.classes import ALL_CHANGE_CLASSES, ALL_CLASSES, page_classes
from wijkkompas.kompas.results import Processed
from wijkkompas.output.packing import pack_level
from wijkkompas.output.profile import carried_areas, indicator_label, measured
from wijkkompas.web.geometry import delta_rings, web_geometry
from wijkkompas.web.leaflet import PDOK_TILES, InlineLeafletLayer, Rendered, base_map
from wijkkompas.web.numbers import nl_number

LEVELS = {"wijk": "Wijken", "buurt": "Buurten"}
MEASURES = {"score": "Score", "vorig": "Verandering t.o.v. vorig jaar",
            "basis": "Verandering t.o.v. basisjaar", "waarde": "Waarde van een indicator"}
MAX_TOOLTIP_INDICATORS = 6
LEVEL_NAMES = {"wijk": "Wijk", "buurt": "Buurt"}


def _num(value: Any, decimals: int = 1) -> float | int | None:
    """A value for the page, rounded to ``decimals``; a whole number without its ".0" (the
    same number to the script, two bytes less on the page: counts are most of the
    indicator values, and each page holds every year's)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    rounded = round(float(value), decimals)
    negative_zero = rounded == 0 and math.copysign(1, rounded) < 0  # the script shows "-0"
    whole = rounded.is_integer() and abs(rounded) < 2**53 and not negative_zero
    return int(rounded) if whole else rounded


def _start(themes: pd.DataFrame, scored: list, years: list[int],
           niveau: str) -> tuple[str, int]:
    """The theme and year the map opens on: the latest year with any score, and the first
    theme with scores in it."""
    have = themes[(themes["niveau"] == niveau) & themes["score"].notna()]
    for jaar in sorted(years, reverse=True):
        for theme in scored:
            if ((have["jaar"] == jaar) & (have["thema"] == theme.code)).any():
                return theme.code, jaar
    return (scored[0].code if scored else ""), (years[-1] if years else 0)


def theme_reasons(processed: Processed) -> dict[tuple[str, str, int], str]:
    """Why a theme has no score, per (area, theme, year) of the totals, in plain Dutch
    (computed once per loaded data)."""
    return processed.derived("theme_reasons", lambda: _theme_reasons(processed))


def _theme_reasons(processed: Processed) -> dict[tuple[str, str, int], str]:
    kompas = processed.kompas
    themes = processed.result.themes
    missing = themes[(themes["deel"] == "totaal") & themes["score"].isna()]
    found = measured(processed)  # of the whole table, once per loaded data
    members = {t.code: [c for c, i in kompas.indicators.items() if i.scored and i.thema == t.code]
               for t in kompas.themes}
    needed = nl_number(100 * kompas.minimale_dekking, 0)
    reasons = {}
    for code, thema, jaar, n, met in zip(missing["gebiedscode"], missing["thema"],
                                        missing["jaar"], missing["indicatoren"],
                                        missing["met_score"], strict=True):
        jaar = int(jaar)
        if not any((i, jaar) in found for i in members.get(thema, [])):
            reason = f"geen bron met cijfers voor dit thema in {jaar}"
        elif n == 0:
            reason = "geen vergelijkingsbasis: te weinig wijken met een cijfer in het basisjaar"
        elif met == 0:
            reason = f"geen cijfers voor dit gebied in {jaar} (geheim, te lage dekking na " \
                     "omrekening of niet beschikbaar)"
        else:
            reason = (f"te weinig indicatoren met een cijfer ({int(met)} van {int(n)}; "
                      f"minimaal {needed} % nodig)")
        reasons[(code, thema, jaar)] = reason
    return reasons


def _key(thema: str, jaar: int) -> str:
    return f"{thema}|{jaar}"


class _Index:
    """A shared list of texts on the page; columns hold positions in it."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._at: dict[Any, int] = {}

    def __call__(self, item: Any) -> int:
        key = item if not isinstance(item, list) else tuple(item)
        if key not in self._at:
            self._at[key] = len(self.items)
            self.items.append(item)
        return self._at[key]


def area_data(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt")) -> dict[str, Any]:
    """Every area of ``levels`` with all its values, in one pass over the data: what
    :func:`map_data` takes each page's share of (the export computes it once for all its
    pages).

    Per level, columns with one entry per area, in the order of the boundaries: ``c``
    codes, ``n`` names (null where neither the boundaries nor the scores name the area),
    ``g`` geometry (:func:`~wijkkompas.web.geometry.delta_rings`); per ``"thema|jaar"`` the
    score ``s``, the change against the previous year ``d`` and against the base year ``b``
    (three decimals: the page rounds for display as Python does), ``r`` where there is no
    score the reason (a position in ``redenen``), and ``v`` the indicator values for the
    tooltip and the measure "waarde": ``[[position in indicatoren, [value per area]], ...]``
    in the order of the indicator codes; per year ``o`` the indeling an area's values were
    carried onto (an estimate, marked in the tooltip and table), or null. A key where every
    area has nothing is left out.
    """
    reasons = theme_reasons(processed)
    kompas = processed.result.kompas
    themes = processed.result.themes
    themes = themes[themes["deel"] == "totaal"]
    scored = [t for t in kompas.themes
              if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]
    years = processed.years
    indicators = processed.result.indicators
    indicators = indicators[indicators["waarde"].notna()]
    texts, labels = _Index(), _Index()
    geo: dict[str, Any] = {}
    for niveau in levels:
        frame = web_geometry(processed.boundaries(niveau))
        codes = [str(c) for c in frame["gebiedscode"]]
        names = [None if pd.isna(n) else str(n) for n in frame["gebiedsnaam"]]
        level: dict[str, Any] = {"c": codes, "n": names,
                                 "g": [delta_rings(g) for g in frame.geometry],
                                 "s": {}, "d": {}, "b": {}, "r": {}, "v": {}, "o": {}}
        found = _theme_rows(themes[themes["niveau"] == niveau])
        for theme in scored:
            for jaar in years:
                key = _key(theme.code, jaar)
                part = [found.get((theme.code, jaar), {}).get(code) for code in codes]
                for short, column in (("s", 0), ("d", 1), ("b", 2)):
                    values = [None if r is None else _num(r[column], 3) for r in part]
                    if any(v is not None for v in values):
                        level[short][key] = values
                scores = level["s"].get(key, [None] * len(codes))
                level["r"][key] = [None if score is not None else texts(reasons.get(
                    (code, theme.code, jaar), f"geen cijfers voor dit gebied in {jaar}"))
                    for code, score in zip(codes, scores, strict=True)]
                for at, row in enumerate(part):
                    if names[at] is None and row is not None and not pd.isna(row[3]):
                        names[at] = str(row[3])
        carried = carried_areas(processed)
        for jaar in years:
            onto = [carried.get((code, int(jaar))) for code in codes]
            if any(o is not None for o in onto):
                level["o"][str(jaar)] = onto
        position = {code: at for at, code in enumerate(codes)}
        rows = indicators[(indicators["niveau"] == niveau)
                          & indicators["gebiedscode"].isin(position)]
        for (thema, jaar, indicator), group in _indicator_rows(rows):
            values: list[float | None] = [None] * len(codes)
            for code, value in group:
                values[position[code]] = _num(value, 1)
            label = labels([*indicator_label(processed, str(indicator))])
            level["v"].setdefault(_key(str(thema), int(jaar)), []).append([label, values])
        geo[niveau] = level
    return {"redenen": texts.items, "indicatoren": labels.items, "geo": geo}


def _theme_rows(themes: pd.DataFrame) -> dict[tuple[str, int], dict[str, tuple]]:
    """Per (theme, year) of theme scores the first row of each area: its score, change
    against the previous year and against the base year, and name. One pass in plain
    Python instead of a pandas selection per theme and year."""
    found: dict[tuple[str, int], dict[str, tuple]] = {}
    for code, thema, jaar, *row in zip(
            themes["gebiedscode"].tolist(), themes["thema"].tolist(), themes["jaar"].tolist(),
            themes["score"].tolist(), themes["verandering_vorig_jaar"].tolist(),
            themes["verandering_basisjaar"].tolist(), themes["gebiedsnaam"].tolist(),
            strict=True):
        found.setdefault((thema, jaar), {}).setdefault(code, tuple(row))
    return found


def _indicator_rows(rows: pd.DataFrame) -> list[tuple[tuple[Any, Any, Any], list[tuple]]]:
    """The (code, value) pairs of indicator rows per (theme, year, indicator), in the order
    of those keys and of the rows, like a pandas ``groupby`` of the three (rows with a key
    missing are left out), without pandas' cost per group."""
    groups: dict[tuple[Any, Any, Any], list[tuple]] = {}
    for thema, jaar, indicator, code, value in zip(
            rows["thema"].tolist(), rows["jaar"].tolist(), rows["indicator"].tolist(),
            rows["gebiedscode"].tolist(), rows["waarde"].tolist(), strict=True):
        if not (pd.isna(thema) or pd.isna(jaar) or pd.isna(indicator)):
            groups.setdefault((thema, jaar, indicator), []).append((code, value))
    return sorted(groups.items(), key=lambda item: item[0])


def _share(full: dict[str, Any], wijk: str | None) -> dict[str, Any]:
    """The part of :func:`area_data` that one page shows: with ``wijk`` only that wijk and
    its buurten, with only the reasons and indicator names they use."""
    texts, labels = _Index(), _Index()
    geo: dict[str, Any] = {}
    for niveau, level in full["geo"].items():
        keep = [at for at, code in enumerate(level["c"]) if wijk is None or wijk_of(code) == wijk]

        def take(values: list, keep: list[int] = keep) -> list:
            return [values[at] for at in keep]

        part: dict[str, Any] = {name: take(level[name]) for name in ("c", "n", "g")}
        for name in ("s", "d", "b"):
            part[name] = {key: take(values) for key, values in level[name].items()
                          if any(values[at] is not None for at in keep)}
        part["r"] = {}
        for key, values in level["r"].items():
            shown = [None if v is None else texts(full["redenen"][v]) for v in take(values)]
            if any(v is not None for v in shown):
                part["r"][key] = shown
        part["o"] = {jaar: take(values) for jaar, values in level.get("o", {}).items()
                     if any(values[at] is not None for at in keep)}
        part["v"] = {}
        for key, entries in level["v"].items():
            kept = [[labels(full["indicatoren"][label]), take(values)] for label, values in entries
                    if any(values[at] is not None for at in keep)]
            if kept:
                part["v"][key] = kept
        geo[niveau] = part
    return {"redenen": texts.items, "indicatoren": labels.items, "geo": geo}


def map_data(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
             wijk: str | None = None, jaar: int | None = None,
             areas: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the map script needs: the areas of each level with all their values (see
    :func:`area_data`, computed here unless ``areas`` gives it; on the page in the compact
    layout of :mod:`wijkkompas.output.packing`), and the choices.

    With ``wijk`` only that wijk and its buurten are included; ``jaar`` is the year the
    map opens on (default: the latest year with a score).
    """
    result = processed.result
    kompas = result.kompas
    themes = result.themes[result.themes["deel"] == "totaal"]
    scored_themes = [t for t in kompas.themes
                     if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]
    years = processed.years
    if areas is None or any(n not in areas["geo"] for n in levels):
        areas = area_data(processed, levels)
    areas = {**areas, "geo": {n: areas["geo"][n] for n in levels}}
    shown = _share(areas, wijk)
    # The same for every page of the loaded data: found once.
    start_thema, start_jaar = processed.derived(
        ("map_start", levels[0]), lambda: _start(themes, scored_themes, years, levels[0]))
    if jaar is not None and jaar in years:
        start_jaar = jaar
        first = shown["geo"][levels[0]]["s"]
        start_thema = next((t.code for t in scored_themes if any(
            v is not None for v in first.get(_key(t.code, jaar), []))), start_thema)
    return {
        "gemeente": kompas.naam, "basisjaar": kompas.basisjaar,
        "start": {"thema": start_thema, "jaar": start_jaar},
        "drempel": kompas.betekenisvolle_verandering,
        "niveaus": [[n, LEVELS[n]] for n in levels],
        "themas": [[t.code, t.naam] for t in scored_themes],
        "jaren": years,
        "maten": [[k, v] for k, v in MEASURES.items()],
        "niveaunamen": {n: LEVEL_NAMES[n] for n in levels},
        "klassen": page_classes(ALL_CLASSES),
        "veranderklassen": page_classes(ALL_CHANGE_CLASSES),
        "tipmax": MAX_TOOLTIP_INDICATORS,
        "redenen": shown["redenen"], "indicatoren": shown["indicatoren"],
        "geo": {n: pack_level(level, [t.code for t in scored_themes], years)
                for n, level in shown["geo"].items()},
    }


class KompasLayer(InlineLeafletLayer):
    """The areas with all their values, the choice panel and the fixed legend
    (``templates/kompas_map.js`` and ``kompas_map.css``)."""

    package = "wijkkompas.output"
    css_file = "kompas_map.css"
    js_files = ("packing.js", "kompas_map.js")
    entry = "wijkkompasKaart"


def interactive_map(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
                    wijk: str | None = None, tiles_url: str = PDOK_TILES,
                    height: str = "100%", jaar: int | None = None,
                    areas: dict[str, Any] | None = None) -> folium.Map:
    """The wijkkompas map: one map, with level, theme, year and measure to choose
    (``areas``: :func:`area_data` computed before, for several maps)."""
    fmap = base_map(tiles_url, height)
    KompasLayer(map_data(processed, levels, wijk, jaar, areas)).add_to(fmap)
    fmap.get_root().header.add_child(Rendered('<meta name="robots" content="noindex">'),
                                     name="robots")
    return fmap
