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
from wijkkompas.output.processed import Processed
from wijkkompas.output.webgeo import rounded_geojson_geometry, web_geometry

LEVELS = {"wijk": "Wijken", "buurt": "Buurten"}
MEASURES = {"score": "Score", "vorig": "Verandering t.o.v. vorig jaar",
            "basis": "Verandering t.o.v. basisjaar"}
MAX_TOOLTIP_INDICATORS = 6


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


def map_data(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
             wijk: str | None = None) -> dict[str, Any]:
    """Everything the map script needs: geometry per level with all values, and the choices.

    With ``wijk`` only that wijk and its buurten are included.
    """
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
                                     "s": {}, "d": {}, "b": {}, "v": {}}
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
            rows = values.get(code)
            if rows is not None:
                for (thema, jaar), group in rows.groupby(["thema", "jaar"]):
                    shown = group[group["waarde"].notna()].sort_values("indicator")
                    props["v"][f"{thema}|{int(jaar)}"] = [
                        [*processed.indicator_name(ind), _num(v, 1)]
                        for ind, v in zip(shown["indicator"], shown["waarde"], strict=True)
                    ][:MAX_TOOLTIP_INDICATORS]
            features.append({"type": "Feature", "properties": props,
                             "geometry": rounded_geojson_geometry(geom)})
        geo[niveau] = {"type": "FeatureCollection", "features": features}
    start_thema, start_jaar = _start(themes, scored_themes, years, levels[0])
    return {
        "gemeente": kompas.naam, "basisjaar": kompas.basisjaar,
        "start": {"thema": start_thema, "jaar": start_jaar},
        "drempel": kompas.betekenisvolle_verandering,
        "niveaus": [[n, LEVELS[n]] for n in levels],
        "themas": [[t.code, t.naam] for t in scored_themes],
        "jaren": years,
        "maten": [[k, v] for k, v in MEASURES.items()],
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
                    height: str = "100%") -> folium.Map:
    """The wijkkompas map: one map, with level, theme, year and measure to choose."""
    fmap = base_map(tiles_url, height)
    KompasLayer(map_data(processed, levels, wijk)).add_to(fmap)
    fmap.get_root().header.add_child(Rendered('<meta name="robots" content="noindex">'),
                                     name="robots")
    return fmap
