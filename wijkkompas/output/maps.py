"""The interactive wijkkompas map: one folium map with a choice of level, theme, year and
measure (score, or change against the previous year or the base year).

Every area's geometry is stored once, with all its scores, classes and main indicator
values as properties; a small script restyles the areas when a choice changes. Leaflet
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
from wijkkompas.output.leaflet import PDOK_TILES, InlineLeafletLayer, Rendered, base_map
from wijkkompas.output.numbers import nl_number
from wijkkompas.output.processed import Processed
from wijkkompas.output.profile import indicator_label
from wijkkompas.output.webgeo import rounded_geojson_geometry, web_geometry

LEVELS = {"wijk": "Wijken", "buurt": "Buurten"}
MEASURES = {"score": "Score", "vorig": "Verandering t.o.v. vorig jaar",
            "basis": "Verandering t.o.v. basisjaar"}
MAX_TOOLTIP_INDICATORS = 6
LEVEL_NAMES = {"wijk": "Wijk", "buurt": "Buurt"}


def _num(value: Any, decimals: int = 1) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return round(float(value), decimals)


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
    """Why a theme has no score, per (area, theme, year) of the totals, in plain Dutch."""
    kompas = processed.kompas
    themes = processed.result.themes
    missing = themes[(themes["deel"] == "totaal") & themes["score"].isna()]
    table = processed.table
    present = table[table["waarde"].notna()]
    measured = {(i, int(j)) for i, j in zip(present["indicator"], present["jaar"], strict=True)}
    members = {t.code: [c for c, i in kompas.indicators.items() if i.scored and i.thema == t.code]
               for t in kompas.themes}
    needed = nl_number(100 * kompas.minimale_dekking, 0)
    reasons = {}
    for code, thema, jaar, n, met in zip(missing["gebiedscode"], missing["thema"],
                                        missing["jaar"], missing["indicatoren"],
                                        missing["met_score"], strict=True):
        jaar = int(jaar)
        if not any((i, jaar) in measured for i in members.get(thema, [])):
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


def map_data(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
             wijk: str | None = None, jaar: int | None = None) -> dict[str, Any]:
    """Everything the map script needs: geometry per level with all values, and the choices.

    With ``wijk`` only that wijk and its buurten are included; ``jaar`` is the year the
    map opens on (default: the latest year with a score). ``r`` holds, per theme and year
    without a score, the reason in Dutch (the gemeente page's table shows it).
    """
    reasons = theme_reasons(processed)
    opening = jaar
    result = processed.result
    kompas = result.kompas
    themes = result.themes[result.themes["deel"] == "totaal"]
    scored_themes = [t for t in kompas.themes
                     if any(i.scored and i.thema == t.code for i in kompas.indicators.values())]
    years = processed.years
    indicators = result.indicators
    geo: dict[str, Any] = {}
    for niveau in levels:
        frame = web_geometry(processed.boundaries(niveau))
        if wijk:
            keep = frame["gebiedscode"].map(
                lambda c: wijk_of(c) == wijk)
            frame = frame[keep]
        level_themes = themes[themes["niveau"] == niveau].set_index(
            ["gebiedscode", "thema", "jaar"])
        level_rows = indicators[indicators["niveau"] == niveau]
        values = {code: group for code, group in level_rows.groupby("gebiedscode")}
        features = []
        for code, name, geom in zip(frame["gebiedscode"], frame["gebiedsnaam"],
                                    frame.geometry, strict=True):
            props: dict[str, Any] = {"c": code, "n": None if pd.isna(name) else str(name),
                                     "s": {}, "d": {}, "b": {}, "v": {}, "r": {}}
            for theme in scored_themes:
                for jaar in years:
                    key = f"{theme.code}|{jaar}"
                    if (code, theme.code, jaar) in level_themes.index:
                        row = level_themes.loc[(code, theme.code, jaar)]
                        # three decimals: the page rounds for display as Python does
                        props["s"][key] = _num(row["score"], 3)
                        props["d"][key] = _num(row["verandering_vorig_jaar"], 3)
                        props["b"][key] = _num(row["verandering_basisjaar"], 3)
                        if props["n"] is None and not pd.isna(row["gebiedsnaam"]):
                            props["n"] = str(row["gebiedsnaam"])
                    if props["s"].get(key) is None:
                        props["r"][key] = reasons.get(
                            (code, theme.code, jaar), f"geen cijfers voor dit gebied in {jaar}")
            rows = values.get(code)
            if rows is not None:
                for (thema, jaar), group in rows.groupby(["thema", "jaar"]):
                    shown = group[group["waarde"].notna()].sort_values("indicator")
                    props["v"][f"{thema}|{int(jaar)}"] = [
                        [*indicator_label(processed, ind), _num(v, 1)]
                        for ind, v in zip(shown["indicator"], shown["waarde"], strict=True)
                    ][:MAX_TOOLTIP_INDICATORS]
            features.append({"type": "Feature", "properties": props,
                             "geometry": rounded_geojson_geometry(geom)})
        geo[niveau] = {"type": "FeatureCollection", "features": features}
    start_thema, start_jaar = _start(themes, scored_themes, years, levels[0])
    if opening is not None and opening in years:
        start_jaar = opening
        start_thema = next((t.code for t in scored_themes if any(
            f["properties"]["s"].get(f"{t.code}|{opening}") is not None
            for f in geo[levels[0]]["features"])), start_thema)
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
        "geo": geo,
    }


class KompasLayer(InlineLeafletLayer):
    """The areas with all their values, the choice panel and the fixed legend
    (``templates/kompas_map.js`` and ``kompas_map.css``)."""

    css_file = "kompas_map.css"
    js_files = ("kompas_map.js",)
    entry = "wijkkompasKaart"


def interactive_map(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
                    wijk: str | None = None, tiles_url: str = PDOK_TILES,
                    height: str = "100%", jaar: int | None = None) -> folium.Map:
    """The wijkkompas map: one map, with level, theme, year and measure to choose."""
    fmap = base_map(tiles_url, height)
    KompasLayer(map_data(processed, levels, wijk, jaar)).add_to(fmap)
    fmap.get_root().header.add_child(Rendered('<meta name="robots" content="noindex">'),
                                     name="robots")
    return fmap
