"""Wijk and buurt boundaries of a year outside ``grenzen_jaren`` from PDOK's CBS
Gebiedsindelingen.

PDOK serves CBS's area divisions as OGC API Features (GoKoala):
``{pdok_url}/cbs/gebiedsindelingen/ogc/v1`` from 2016 and
``{pdok_url}/cbs/gebiedsindelingen-historisch/ogc/v1`` for 1995-2015. Each has one
collection per level and kind for every year (``gemeente_gegeneraliseerd``,
``wijk_gegeneraliseerd``, ``buurt_gegeneraliseerd``, ...), features with ``statcode``,
``statnaam``, ``jaarcode``, ``jrstatcode`` and ``rubriek``. A year is chosen with the
queryable ``jaarcode`` where the collection offers it (read from ``/queryables`` first), else
with OGC ``datetime`` (1 July of the year); the gemeente with ``bbox`` and then by code.

The features are turned into the wijk- en buurtkaart's attributes (``buurtcode``,
``buurtnaam``, ``wijkcode``, ``gemeentecode``; ``wijkcode``, ``wijknaam``, ...), so the
build reads them as any other year's. They are generalised (cartographic) outlines: see
docs/methode.md for what that means for "same area" and re-allocation.
"""

from __future__ import annotations

from typing import Any

import requests

from wijkkompas.errors import NotPublished
from wijkkompas.fetch.pdok import (
    LAYERS,
    LayerSource,
    describe,
    download_layer,
    gebiedsindelingen_path,
    year_filter,
)
from wijkkompas.settings import Settings

SOURCE_NAME = "PDOK Gebiedsindelingen"
#: The generalised collection of each layer.
COLLECTIONS = {"wijken": "wijk_gegeneraliseerd", "buurten": "buurt_gegeneraliseerd"}


def service_url(settings: Settings, jaar: int) -> str:
    """The Gebiedsindelingen service that holds ``jaar`` ("" when switched off)."""
    path = gebiedsindelingen_path(settings, jaar)
    return f"{settings.pdok_url.rstrip('/')}/{path}" if path else ""


def _as_kaart(layer: str, jaar: int) -> Any:
    """A Gebiedsindelingen feature with the wijk- en buurtkaart's attributes added."""

    def convert(feature: dict[str, Any]) -> dict[str, Any]:
        props = dict(feature.get("properties") or {})
        code = str(props.get("statcode", "")).strip()
        naam = props.get("statnaam")
        if layer == "buurten":
            props.update(buurtcode=code, buurtnaam=naam, wijkcode="WK" + code[2:8])
        else:
            props.update(wijkcode=code, wijknaam=naam)
        props["gemeentecode"] = "GM" + code[2:6]
        return {**feature, "properties": props}

    return convert


def _of_year(feature: dict[str, Any], jaar: int) -> bool:
    value = (feature.get("properties") or {}).get("jaarcode")
    return value is None or str(value).strip()[:4] == str(jaar)


def gebiedsindelingen_layers(settings: Settings, jaar: int, gemeente: str) -> LayerSource:
    """The download of the wijken and buurten of ``jaar`` from PDOK Gebiedsindelingen.

    Raises :class:`NotPublished` when the service, a collection or the year is not there
    (the caller then tries the next route); transient faults stop as everywhere.
    """
    base = service_url(settings, jaar)

    def download(session: requests.Session) -> tuple[dict[str, list[dict[str, Any]]],
                                                     dict[str, Any]]:
        layers: dict[str, list[dict[str, Any]]] = {}
        chosen: dict[str, str] = {}
        for layer in LAYERS:
            name = COLLECTIONS[layer]
            collection = describe(settings, session, base, name, jaar)
            if collection is None:
                raise NotPublished(
                    f"PDOK Gebiedsindelingen ({base}) heeft geen collectie '{name}'.")
            choose = year_filter(collection, jaar)
            if choose is None:
                raise NotPublished(
                    f"Collectie '{name}' van PDOK Gebiedsindelingen ({base}) heeft geen "
                    f"jaarcode en geen tijdvak om {jaar} te kiezen.")
            features = download_layer(settings, jaar, layer, gemeente, session,
                                      url=collection.items_url, extra=choose,
                                      code_field="statcode", convert=_as_kaart(layer, jaar))
            layers[layer] = [f for f in features if _of_year(f, jaar)]
            if not layers[layer]:
                raise NotPublished(
                    f"PDOK Gebiedsindelingen ({base}) gaf geen {layer} van {gemeente} in "
                    f"{jaar}.")
            chosen[layer] = "jaarcode" if "jaarcode" in choose else "datetime"
        details = {"grenzenbron": SOURCE_NAME, "dienst": base,
                   "collecties": dict(COLLECTIONS), "jaarkeuze": chosen}
        return layers, details

    return download
