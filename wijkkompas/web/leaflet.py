"""Leaflet pages that work offline: Leaflet inlined from an installed package
(``django-js-lib-leaflet``), data handed to the page only as script-safe JSON, and the PDOK
BRT-Achtergrondkaart (grijs) as the one thing that needs a network.

No text from data is ever template source. branca's ``MacroElement.render`` wraps what a
macro rendered in a new ``Element``, which compiles it again as a Jinja template; a name
like ``{{ 7*7 }}`` in the data would then run. Every element of this project renders
through :class:`SafeRender` instead, which keeps rendered text as text. The templates
themselves are package files (``templates/`` beside the module that uses them: this
package's own, the pages' in ``output/``, the vlekkenkaart's in ``vlekkenkaart/``), rendered
by one autoescaping Jinja environment per package with data only as variables.
"""

from __future__ import annotations

import copy
import json
import re
from collections import OrderedDict
from functools import cache
from importlib import resources
from typing import Any

import folium
import jinja2
from branca.element import Element, Figure, MacroElement
from markupsafe import Markup

PDOK_TILES = ("https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
              "{z}/{x}/{y}.png")
PDOK_ATTRIBUTION = ('Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a> '
                    '(BRT-Achtergrondkaart) | Cijfers: CBS, gemeente')

#: The package whose ``templates/`` folder holds the shared templates and scripts.
WEB = "wijkkompas.web"


@cache
def environment(package: str = WEB) -> jinja2.Environment:
    """The one Jinja environment of ``package``'s ``templates/``: autoescaped, strict."""
    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def template(name: str, package: str = WEB) -> jinja2.Template:
    """A template of ``package``'s ``templates/`` (default this package's), from its one
    autoescaping environment."""
    return environment(package).get_template(name)


@cache
def asset(name: str, package: str = WEB) -> str:
    """The text of a JavaScript or CSS file of ``package``'s ``templates/``."""
    return resources.files(package).joinpath("templates", name).read_text(encoding="utf-8")


@cache
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


class Rendered(Element):
    """Text that is already rendered: shown as it is, never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Rendered"
        self.text = str(text)

    def render(self, **kwargs: Any) -> str:
        return self.text


class SafeRender:
    """Mixin for folium/branca elements: render the header, html and script macros of the
    element's own (fixed) template once, and hand the result on as :class:`Rendered` text,
    where branca would compile it a second time."""

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()  # type: ignore[attr-defined]
        if not isinstance(figure, Figure):
            raise TypeError("Een kaartelement kan alleen binnen een Figure getoond worden.")
        module = self._template.module  # type: ignore[attr-defined]
        for part in ("header", "html", "script"):
            macro = getattr(module, part, None)
            if macro is not None:
                getattr(figure, part).add_child(Rendered(macro(self, kwargs)),
                                                name=self.get_name())  # type: ignore[attr-defined]
        for child in list(self._children.values()):  # type: ignore[attr-defined]
            child.render(**kwargs)


class InlineLeafletLayer(SafeRender, MacroElement):
    """A map layer: its CSS and JavaScript (package files of ``templates/``) inlined in the
    page header, Leaflet once per page, and one call ``entry(map, data)`` with the data as
    script-safe JSON. Subclasses name the package whose ``templates/`` holds their files,
    the files and the entry function."""

    package = WEB
    css_file = ""
    js_files: tuple[str, ...] = ()
    entry = ""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = type(self).__name__
        self._template = template("layer.html")
        # Safe by construction (see script_safe_json), so not escaped again as HTML.
        self.data_json = Markup(script_safe_json(payload))

    @property
    def css(self) -> Markup:
        return Markup(asset(self.css_file, self.package))

    @property
    def scripts(self) -> list[Markup]:
        return [Markup(asset("escape.js")),
                *(Markup(asset(name, self.package)) for name in self.js_files)]

    @property
    def map_name(self) -> Markup:
        return Markup(self._parent.get_name()) if self._parent is not None else Markup("")

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if isinstance(figure, Figure):
            js, css = leaflet_assets()
            # Leaflet once per page, whatever the number of layers.
            header = template("leaflet.html").render(js=Markup(js), css=Markup(css))
            figure.header.add_child(Rendered(header), name="leaflet")
        super().render(**kwargs)


#: The viewport of every page: as wide as the screen, and pinch-zoom allowed (folium's own
#: says ``maximum-scale=1.0, user-scalable=no``, which locks a reader out of zooming).
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


class OfflineMap(SafeRender, folium.Map):
    """A folium map that loads nothing from a CDN; Leaflet comes inline with the layer. Its
    page allows pinch-zoom (:data:`VIEWPORT`)."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def render(self, **kwargs: Any) -> None:
        super().render(**kwargs)
        header = self.get_root().header._children[self.get_name()]
        header.text = re.sub(r"<meta name=\"viewport\"[^>]*>", VIEWPORT, header.text)


class BaseTiles(SafeRender, folium.TileLayer):
    """The base map tiles, rendered without a second compilation."""

    def render(self, **kwargs: Any) -> None:
        super().render(**kwargs)
        self.get_root().script.add_child(
            Rendered(f"{self.get_name()}.addTo({self._parent.get_name()});"),
            name=self.get_name() + "_add")


def base_map(tiles_url: str = PDOK_TILES, height: str = "100%") -> folium.Map:
    """An offline folium map with the PDOK BRT-Achtergrondkaart (grijs) as base layer."""
    fmap = OfflineMap(location=[52.35, 6.66], zoom_start=12, tiles=None, height=height,
                      control_scale=True)
    if tiles_url:
        # A copy of the layer made once: folium looks every tile URL up in the whole
        # catalogue of xyzservices first (4 ms, as long as the rest of the map).
        tiles = copy.copy(_base_tiles(tiles_url))
        tiles._children = OrderedDict()
        tiles._parent = None
        tiles.add_to(fmap)
    return fmap


@cache
def _base_tiles(tiles_url: str) -> BaseTiles:
    """The base layer of ``tiles_url``, made once per process; each map adds a copy."""
    return BaseTiles(tiles=tiles_url, attr=PDOK_ATTRIBUTION, name="BRT-Achtergrondkaart",
                     max_zoom=19, overlay=False, control=False)


def _number_elements(root: Element) -> None:
    """Give every element of the page its number in the tree as its id instead of a random
    one (branca's default): the same data makes the same bytes, in any process."""
    todo, number = [root], 0
    while todo:
        element = todo.pop(0)
        number += 1
        element._id = f"{number:032x}"
        todo.extend(element._children.values())


def map_parts(fmap: folium.Map) -> dict[str, Markup]:
    """The rendered header, body and script of a map, for a page template of its own (which
    declares the character set itself, first in its head)."""
    figure = fmap.get_root()
    figure.header._children.pop("meta_http", None)
    _number_elements(figure)
    for child in list(figure._children.values()):
        child.render()
    return {part: Markup(getattr(figure, part).render())
            for part in ("header", "html", "script")}
