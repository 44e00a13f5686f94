"""Leaflet pages that work offline: Leaflet inlined from an installed package
(``django-js-lib-leaflet``), data handed to the page only as script-safe JSON, and the PDOK
BRT-Achtergrondkaart (grijs) as the one thing that needs a network.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import folium
from branca.element import MacroElement

PDOK_TILES = ("https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
              "{z}/{x}/{y}.png")
PDOK_ATTRIBUTION = ('Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a> '
                    '(BRT-Achtergrondkaart) | Cijfers: CBS, gemeente')
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS from the installed package."""
    folder = resources.files("js_lib_leaflet").joinpath("static", "js_lib_leaflet")
    js = folder.joinpath("leaflet.js").read_text(encoding="utf-8")
    css = folder.joinpath("leaflet.css").read_text(encoding="utf-8")
    return js, css


def script_safe_json(value: Any) -> str:
    """JSON that cannot close the <script> it stands in, whatever text the data holds."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


#: Leaflet inline in the page header, for every layer template of this project.
LEAFLET_HEADER = """
<style>{{ this.leaflet_css }}</style>
<script>{{ this.leaflet_js }}</script>
"""
#: esc(): text from data into HTML, always through textContent.
JS_ESCAPE = """
  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text === null || text === undefined ? "" : String(text);
    return div.innerHTML;
  }
"""

class InlineLeafletLayer(MacroElement):
    """A layer script with its data as safe JSON, and Leaflet inlined in the page header."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = type(self).__name__
        self.data_json = script_safe_json(payload)
        self.leaflet_js, self.leaflet_css = leaflet_assets()


class OfflineMap(folium.Map):
    """A folium map that loads nothing from a CDN; Leaflet comes inline with the layer."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


def base_map(tiles_url: str = PDOK_TILES, height: str = "100%") -> folium.Map:
    """An offline folium map with the PDOK BRT-Achtergrondkaart (grijs) as base layer."""
    fmap = OfflineMap(location=[52.35, 6.66], zoom_start=12, tiles=None, height=height,
                      control_scale=True)
    if tiles_url:
        folium.TileLayer(tiles=tiles_url, attr=PDOK_ATTRIBUTION, name="BRT-Achtergrondkaart",
                         max_zoom=19, overlay=False, control=False).add_to(fmap)
    return fmap
