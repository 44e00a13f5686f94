"""Which collection of PDOK's historical wijk- en buurtkaart service holds a year.

PDOK publishes the wijk- en buurtkaart of the years before its per-year OGC APIs in one
OGC API Features service, ``{pdok_url}/{pdok_historisch_pad}`` (default
``cbs/wijken-en-buurten-historisch/ogc/v1``). How that service splits the years is read
from its own ``/collections`` document at run time, never assumed:

- one collection per level and year: the collection's id (or else its title) names the
  level ("wijk"/"buurt") and the year, e.g. ``buurten_2019``; or
- one collection per level for several years, with a year property: the property is taken
  from ``/collections/{id}/queryables`` (JSON Schema) or else from the properties of its
  first item (``jaar``, ``jaarcode``), and the years it holds from the collection's
  temporal extent or the queryable's ``enum``/``minimum``/``maximum`` when the service
  gives them.

A year the service does not hold, or a collection list whose shape is not that of OGC API
Features, stops the fetch with one Dutch line that names what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import requests

from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.pdok import LAYERS, RD_URI, LayerSource, download_layer, get_page
from wijkkompas.settings import Settings

#: Names a year property of a multi-year collection may have, in order of preference.
YEAR_PROPERTIES = ("jaar", "jaarcode", "year")
SOURCE_NAME = "PDOK historisch"

#: The word that names a level in a collection's id or title, per layer.
_LEVEL_WORD = {"wijken": "wijk", "buurten": "buurt"}
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)", re.ASCII)
#: A collection id is used in a URL path: letters, digits and ``_ . -`` only.
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"

COLLECTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["collections"],
    "properties": {
        "collections": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID_PATTERN},
                    "title": {"type": "string"},
                    "links": {"type": "array", "items": {
                        "type": "object", "required": ["href"],
                        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}},
                    }},
                    "crs": {"type": "array", "items": {"type": "string"}},
                    "extent": {"type": "object", "properties": {
                        "temporal": {"type": "object", "properties": {
                            "interval": {"type": "array", "items": {"type": "array"}},
                        }},
                    }},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class YearCollection:
    """Where one layer of one year lies in the historical service."""

    layer: str  # "wijken" or "buurten"
    collection: str  # the collection id
    items_url: str
    jaar: int
    year_property: str | None  # None when the collection holds this year only


@dataclass(frozen=True)
class _Candidate:
    collection: str
    title: str
    years: tuple[int, ...]  # from the id/title (one year) or the temporal extent
    named_year: bool  # the id or title names the year: one collection per year
    crs: tuple[str, ...]


def service_url(settings: Settings) -> str:
    """The landing page of the historical service."""
    path = settings.pdok_historisch_pad.strip("/")
    return f"{settings.pdok_url.rstrip('/')}/{path}"


def _level(text: str) -> str | None:
    """"wijken" or "buurten" when the text names exactly one of the two levels."""
    lowered = text.lower()
    found = [layer for layer, word in _LEVEL_WORD.items() if word in lowered]
    return found[0] if len(found) == 1 else None


def _interval_years(collection: dict[str, Any]) -> tuple[int, ...]:
    """The years a collection's temporal extent covers (empty when it gives none)."""
    temporal = (collection.get("extent") or {}).get("temporal") or {}
    years: set[int] = set()
    for interval in temporal.get("interval") or []:
        if len(interval) != 2 or not all(isinstance(v, str) for v in interval):
            continue
        ends = [_YEAR_RE.match(v) for v in interval]
        if all(ends):
            first, last = (int(m.group(1)) for m in ends if m)
            years.update(range(first, last + 1))
    return tuple(sorted(years))


def _get(session: requests.Session, url: str, settings: Settings, what: str,
         params: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return get_page(session, url, {"f": "json", **(params or {})}, settings)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise WijkkompasError(
            f"De historische PDOK-dienst gaf HTTP {status} op {what} ({url}). Controleer "
            "pdok_url en pdok_historisch_pad, of probeer het later opnieuw."
        ) from exc
    except requests.RequestException as exc:
        raise WijkkompasError(
            f"De historische PDOK-dienst is niet bereikbaar op {url} ({what}, "
            f"{settings.retries + 1} pogingen). Controleer de verbinding of WIJKKOMPAS_PDOK_URL."
        ) from exc
    except ValueError as exc:
        raise WijkkompasError(
            f"De historische PDOK-dienst stuurde geen leesbare JSON voor {what} ({url}). "
            "Probeer het later opnieuw."
        ) from exc


def read_collections(settings: Settings, session: requests.Session) -> list[dict[str, Any]]:
    """The ``collections`` of the historical service, checked against OGC API Features."""
    url = f"{service_url(settings)}/collections"
    document = _get(session, url, settings, "de collectielijst")
    try:
        jsonschema.validate(document, COLLECTIONS_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "het document"
        keys = (", ".join(sorted(document)) if isinstance(document, dict)
                else f"geen object maar {type(document).__name__}")
        raise WijkkompasError(
            f"De collectielijst van de historische PDOK-dienst ({url}) heeft een onverwachte "
            f"vorm: {where} klopt niet (verwacht {exc.validator} = {exc.validator_value!r}); "
            f"gevonden velden: {keys}. Controleer pdok_historisch_pad of importeer de wijk- en "
            "buurtkaart (wijkkompas import)."
        ) from None
    return list(document["collections"])


def _candidates(collections: list[dict[str, Any]]) -> dict[str, list[_Candidate]]:
    """Per layer, the collections that hold wijken or buurten."""
    found: dict[str, list[_Candidate]] = {layer: [] for layer in LAYERS}
    for item in collections:
        ident, title = item["id"], str(item.get("title") or "")
        layer = _level(ident) or _level(title)
        if layer is None:
            continue
        named = set(_YEAR_RE.findall(ident)) or set(_YEAR_RE.findall(title))
        if len(named) == 1:
            years, is_named = (int(named.pop()),), True
        else:
            years, is_named = _interval_years(item), False
        found[layer].append(_Candidate(ident, title, years, is_named,
                                       tuple(item.get("crs") or ())))
    return found


def _years_text(years: set[int]) -> str:
    return ", ".join(map(str, sorted(years))) if years else "geen"


def _year_property(settings: Settings, session: requests.Session, base: str,
                   candidate: _Candidate) -> tuple[str | None, tuple[int, ...]]:
    """The year property of a multi-year collection and the years it names, if any."""
    url = f"{base}/collections/{candidate.collection}/queryables"
    try:
        schema = get_page(session, url, {"f": "json"}, settings)
    except (requests.RequestException, ValueError):
        schema = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(properties, dict):
        names = {str(k).lower(): k for k in properties}
        for wanted in YEAR_PROPERTIES:
            if wanted in names:
                spec = properties[names[wanted]]
                spec = spec if isinstance(spec, dict) else {}
                return str(names[wanted]), _schema_years(spec)
    sample = _get(session, f"{base}/collections/{candidate.collection}/items", settings,
                  f"een voorbeeld uit collectie '{candidate.collection}'",
                  {"limit": 1, "crs": RD_URI})
    features = sample.get("features") if isinstance(sample, dict) else None
    props = (features[0].get("properties") or {}) if features else {}
    names = {str(k).lower(): k for k in props}
    for wanted in YEAR_PROPERTIES:
        if wanted in names:
            return str(names[wanted]), ()
    return None, ()


def _schema_years(spec: dict[str, Any]) -> tuple[int, ...]:
    values = spec.get("enum")
    if isinstance(values, list):
        return tuple(sorted({int(str(v)[:4]) for v in values if _YEAR_RE.match(str(v))}))
    low, high = spec.get("minimum"), spec.get("maximum")
    if isinstance(low, int) and isinstance(high, int) and low <= high:
        return tuple(range(low, high + 1))
    return ()


def find_year_collection(settings: Settings, session: requests.Session, jaar: int,
                         collections: list[dict[str, Any]]) -> dict[str, YearCollection]:
    """Per layer (wijken, buurten) the collection and, if needed, the property for ``jaar``."""
    base = service_url(settings)
    candidates = _candidates(collections)
    if not any(candidates.values()):
        ids = ", ".join(item["id"] for item in collections[:20]) or "geen"
        raise WijkkompasError(
            f"De historische PDOK-dienst ({base}) heeft geen collecties met wijken of buurten "
            f"(gevonden collecties: {ids}). Controleer pdok_historisch_pad of importeer de "
            f"wijk- en buurtkaart van {jaar} (wijkkompas import)."
        )
    found = {}
    for layer in LAYERS:
        named = [c for c in candidates[layer] if c.named_year and jaar in c.years]
        general = [c for c in candidates[layer] if not c.named_year]
        if len(named) > 1:
            raise WijkkompasError(
                f"De historische PDOK-dienst ({base}) heeft meer dan één collectie {layer} "
                f"van {jaar}: {', '.join(c.collection for c in named)}. Kies met "
                "grenzen_jaren/pdok_pad een eenduidige bron of importeer de wijk- en buurtkaart."
            )
        choice, prop = (named[0], None) if named else (None, None)
        if choice is None and len(general) == 1:
            prop, years = _year_property(settings, session, base, general[0])
            held = set(general[0].years) | set(years)
            if prop is None and (not held or jaar in held):
                raise WijkkompasError(
                    f"Collectie '{general[0].collection}' van de historische PDOK-dienst "
                    f"({base}) noemt geen jaar in naam of titel en heeft geen eigenschap "
                    f"{', '.join(YEAR_PROPERTIES)} om {jaar} te kiezen. Importeer de wijk- en "
                    f"buurtkaart van {jaar} (wijkkompas import)."
                )
            if prop is not None and (not held or jaar in held):
                choice = general[0]
        if choice is None:
            held = {y for c in candidates[layer] for y in c.years}
            names = ", ".join(c.collection for c in candidates[layer]) or "geen"
            raise WijkkompasError(
                f"De historische PDOK-dienst ({base}) heeft geen {layer} van {jaar}: gevonden "
                f"jaren {_years_text(held)} (collecties: {names}). Importeer de wijk- en "
                f"buurtkaart van {jaar} (wijkkompas import) of kies andere jaren."
            )
        if choice.crs and not any("28992" in crs for crs in choice.crs):
            raise WijkkompasError(
                f"Collectie '{choice.collection}' van de historische PDOK-dienst biedt geen "
                f"EPSG:28992 aan (wel: {', '.join(choice.crs)}). Controleer pdok_historisch_pad."
            )
        found[layer] = YearCollection(layer, choice.collection,
                                      f"{base}/collections/{choice.collection}/items", jaar, prop)
    return found


def _of_year(feature: dict[str, Any], prop: str, jaar: int) -> bool:
    value = (feature.get("properties") or {}).get(prop)
    return value is not None and str(value).strip()[:4] == str(jaar)


def historical_layers(settings: Settings, jaar: int, gemeente: str) -> LayerSource:
    """The download of the wijken and buurten of ``jaar`` from the historical service.

    Uses ``pdok.download_layer`` (the same paging, CRS and fault handling as the per-year
    services); what was chosen goes into the manifest entry.
    """

    def download(session: requests.Session) -> tuple[dict[str, list[dict[str, Any]]],
                                                     dict[str, Any]]:
        collections = read_collections(settings, session)
        where = find_year_collection(settings, session, jaar, collections)
        layers = {}
        for layer in LAYERS:
            spot = where[layer]
            extra = {spot.year_property: jaar} if spot.year_property else None
            features = download_layer(settings, jaar, layer, gemeente, session,
                                      url=spot.items_url, extra=extra)
            if spot.year_property:
                features = [f for f in features if _of_year(f, spot.year_property, jaar)]
                if not features:
                    raise WijkkompasError(
                        f"Collectie '{spot.collection}' van de historische PDOK-dienst gaf "
                        f"geen {layer} van {gemeente} met {spot.year_property} = {jaar}. "
                        f"Importeer de wijk- en buurtkaart van {jaar} (wijkkompas import)."
                    )
            layers[layer] = features
        details = {
            "grenzenbron": SOURCE_NAME,
            "dienst": service_url(settings),
            "collecties": {layer: spot.collection for layer, spot in where.items()},
            "jaareigenschap": {layer: spot.year_property for layer, spot in where.items()
                               if spot.year_property},
        }
        return layers, details

    return download
