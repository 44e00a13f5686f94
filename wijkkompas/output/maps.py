"""The interactive wijkkompas map: one folium map with a choice of level, theme, year and
measure (score, or change against the previous year or the base year).

Every area's geometry is stored once, with all its scores, classes and main indicator
values as properties; a small script restyles the areas when a choice changes. Leaflet
itself is inlined from an installed package (``django-js-lib-leaflet``), so the map works
without a network; only the PDOK base map (BRT-Achtergrondkaart, grijs) needs one, and
without it the areas, labels, legend and choices still work. Every text from data is
escaped before it reaches the page.
"""

from __future__ import annotations

import math
from typing import Any

import folium
import pandas as pd
from branca.element import Element
from jinja2 import Template

from wijkkompas.gebied import wijk_of
from wijkkompas.kompas.classes import ALL_CHANGE_CLASSES, ALL_CLASSES
from wijkkompas.output.leaflet import (
    JS_ESCAPE,
    LEAFLET_HEADER,
    PDOK_TILES,
    InlineLeafletLayer,
    base_map,
)
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
        "klassen": [[c.code, c.label, None if math.isinf(c.lower) or math.isnan(c.lower)
                     else c.lower, c.colour] for c in ALL_CLASSES],
        "veranderklassen": [[c.code, c.label, None if math.isinf(c.lower) or
                             math.isnan(c.lower) else c.lower, c.colour]
                            for c in ALL_CHANGE_CLASSES],
        "geo": geo,
    }


_SCRIPT = Template("""
{% macro header(this, kwargs) %}""" + LEAFLET_HEADER + """
<style>
.wk-panel{background:#fff;padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);
 font:13px/1.4 Arial,Helvetica,sans-serif;color:#222;max-width:260px}
.wk-panel label{display:block;margin:4px 0 1px;font-weight:bold}
.wk-panel select{width:100%;font-size:13px}
.wk-legend i{display:inline-block;width:16px;height:12px;margin-right:6px;border:1px solid #555;
 vertical-align:middle}
.wk-tip table{border-collapse:collapse}.wk-tip td{padding:0 6px 0 0;vertical-align:top}
.wk-tip .wk-score{font-size:15px;font-weight:bold}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var data = {{ this.data_json }};
  var state = {niveau: data.niveaus[0][0], thema: data.start.thema,
               jaar: String(data.start.jaar), maat: "score"};""" + JS_ESCAPE + """
  function fmt(x, dec) {
    if (x === null || x === undefined) { return "geen data"; }
    return Number(x).toLocaleString("nl-NL", {minimumFractionDigits: dec,
                                             maximumFractionDigits: dec});
  }
  function scoreClass(score) {
    if (score === null || score === undefined) { return data.klassen[data.klassen.length - 1]; }
    var found = data.klassen[0];
    data.klassen.forEach(function (k) { if (k[2] !== null && score >= k[2]) { found = k; } });
    return found;
  }
  function changeClass(delta) {
    var list = data.veranderklassen;
    if (delta === null || delta === undefined) { return list[list.length - 1]; }
    var t = delta / data.drempel, code = 3;
    if (t >= 1) { code = 4; } if (t >= 2) { code = 5; }
    if (t <= -1) { code = 2; } if (t <= -2) { code = 1; }
    return list[code - 1];
  }
  function key() { return state.thema + "|" + state.jaar; }
  function measure(p) {
    var k = key();
    if (state.maat === "score") { return p.s[k]; }
    return state.maat === "vorig" ? p.d[k] : p.b[k];
  }
  function klass(p) {
    return state.maat === "score" ? scoreClass(p.s[key()]) : changeClass(measure(p));
  }
  function style(feature) {
    return {color: "#333", weight: state.niveau === "wijk" ? 1.5 : 0.8, fillOpacity: 0.75,
            fillColor: klass(feature.properties)[3]};
  }
  function themeName() {
    var name = state.thema;
    data.themas.forEach(function (t) { if (t[0] === state.thema) { name = t[1]; } });
    return name;
  }
  function tooltip(layer) {
    var p = layer.feature.properties, k = klass(p), rows = p.v[key()] || [];
    var html = '<div class="wk-tip"><b>' + esc(p.n || p.c) + '</b> (' + esc(p.c) + ')<br>' +
      esc(themeName()) + ", " + esc(state.jaar) + '<br><span class="wk-score">';
    if (state.maat === "score") {
      html += "score " + esc(fmt(p.s[key()], 0));
    } else {
      var d = measure(p);
      html += "verandering " + (d !== null && d !== undefined && d > 0 ? "+" : "") +
              esc(fmt(d, 0)) + " punten";
    }
    html += "</span><br>" + esc(k[1]);
    if (rows.length) {
      html += "<table>";
      rows.forEach(function (r) {
        html += "<tr><td>" + esc(r[0]) + "</td><td>" + esc(fmt(r[2], 1)) + " " + esc(r[1]) +
                "</td></tr>";
      });
      html += "</table>";
    }
    return html + "</div>";
  }
  var layers = {};
  data.niveaus.forEach(function (n) {
    layers[n[0]] = L.geoJSON(data.geo[n[0]], {
      style: style,
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(tooltip, {sticky: true});
      }
    });
  });
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    this._div = L.DomUtil.create("div", "wk-panel wk-legend");
    this.update();
    return this._div;
  };
  legend.update = function () {
    var list = state.maat === "score" ? data.klassen : data.veranderklassen;
    var title = state.maat === "score" ? "Score (100 = " + data.gemeente + " in " +
      data.basisjaar + ")" : "Verandering (punten)";
    var html = "<b>" + esc(title) + "</b><br>";
    list.forEach(function (k) {
      html += '<i style="background:' + k[3] + '"></i>' + esc(k[1]) + "<br>";
    });
    this._div.innerHTML = html;
  };
  var panel = L.control({position: "topright"});
  function select(id, label, options, value) {
    var html = '<label for="' + id + '">' + esc(label) + '</label><select id="' + id + '">';
    options.forEach(function (o) {
      html += '<option value="' + esc(o[0]) + '"' + (String(o[0]) === String(value) ?
        " selected" : "") + ">" + esc(o[1]) + "</option>";
    });
    return html + "</select>";
  }
  panel.onAdd = function () {
    var div = L.DomUtil.create("div", "wk-panel");
    div.innerHTML = "<b>Wijkkompas " + esc(data.gemeente) + "</b>" +
      select("wk-niveau", "Niveau", data.niveaus, state.niveau) +
      select("wk-thema", "Thema", data.themas, state.thema) +
      select("wk-jaar", "Jaar", data.jaren.map(function (j) { return [j, j]; }), state.jaar) +
      select("wk-maat", "Kaart", data.maten, state.maat);
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  function redraw() {
    Object.keys(layers).forEach(function (n) {
      if (n === state.niveau) { layers[n].addTo(map); layers[n].setStyle(style); }
      else { map.removeLayer(layers[n]); }
    });
    legend.update();
  }
  panel.addTo(map);
  legend.addTo(map);
  ["niveau", "thema", "jaar", "maat"].forEach(function (name) {
    document.getElementById("wk-" + name).addEventListener("change", function (event) {
      state[name] = event.target.value;
      redraw();
    });
  });
  redraw();
  var bounds = layers[state.niveau].getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, {padding: [10, 10]}); }
  if (window.performance && performance.mark) { performance.mark("wijkkompas-klaar"); }
  window.wijkkompas = {state: state, layers: layers, redraw: redraw, map: map};
})();
{% endmacro %}
""")


class KompasLayer(InlineLeafletLayer):
    """The areas with all their values, the choice panel and the fixed legend."""

    _template = _SCRIPT


def interactive_map(processed: Processed, levels: tuple[str, ...] = ("wijk", "buurt"),
                    wijk: str | None = None, tiles_url: str = PDOK_TILES,
                    height: str = "100%") -> folium.Map:
    """The wijkkompas map: one map, with level, theme, year and measure to choose."""
    fmap = base_map(tiles_url, height)
    KompasLayer(map_data(processed, levels, wijk)).add_to(fmap)
    fmap.get_root().header.add_child(Element('<meta name="robots" content="noindex">'))
    return fmap
