"""Wijk and buurt boundaries from PDOK (CBS wijk- en buurtkaart) into ``data/raw/geo``.

PDOK serves the wijk- en buurtkaart of each year as an OGC API Features service,
``{pdok_url}/{pdok_pad}`` with ``pdok_pad`` = ``cbs/wijken-en-buurten-{jaar}/ogc/v1`` by
default, collections ``wijken`` and ``buurten``, GeoJSON pages linked with ``rel=next``.
Coordinates are asked for and kept in EPSG:28992 (RD New). Each year becomes one
GeoPackage ``wijkenbuurten_<jaar>.gpkg`` with layers ``wijken`` and ``buurten``.
Years outside the per-year services come from PDOK's historical service: its collections
are found by ``pdok_collections`` and fetched with the same :func:`download_layer`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import requests
from tqdm.auto import tqdm

from wijkkompas.errors import LIST_CHARS, NotPublished, WijkkompasError, capped
from wijkkompas.fetch.http import (
    PageGuard,
    PagingError,
    Service,
    explain,
    explain_detail,
    new_session,
    status_of,
    with_retries,
)
from wijkkompas.gebied import (
    RD,
    check_code,
    geojson_shapes,
    shape_problems,
    within_rd_bounds,
)
from wijkkompas.manifest import files_intact
from wijkkompas.settings import Settings
from wijkkompas.storage import atomic_path, file_stamp, no_interrupt, now_stamp, sha256_file

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
LAYERS = ("wijken", "buurten")
#: The area code property of each layer.
CODE_FIELD = {"wijken": "wijkcode", "buurten": "buurtcode"}
PAGE_SIZE = 1000
#: Where the per-year services' boundaries come from, as recorded in the manifest.
SOURCE_NAME = "PDOK per jaar"
#: A download of one year's layers: features per layer, and what to add to the manifest entry.
LayerSource = Callable[[requests.Session], tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]]


@dataclass
class GeoResult:
    jaar: int
    status: str  # "opgehaald", "ververst", "actueel"
    counts: dict[str, int]
    manifest_entry: dict[str, Any]


def geo_name(jaar: int) -> str:
    return f"wijkenbuurten_{jaar}.gpkg"


def collection_url(settings: Settings, jaar: int, layer: str) -> str:
    path = settings.pdok_pad.format(jaar=jaar).strip("/")
    return f"{settings.pdok_url.rstrip('/')}/{path}/collections/{layer}/items"


def service(settings: Settings, jaar: int) -> Service:
    """PDOK as the error messages name it."""
    return Service(
        name="PDOK",
        url=settings.pdok_url,
        setting="WIJKKOMPAS_PDOK_URL",
        not_found=(f"Bestaat de wijk- en buurtkaart {jaar} bij PDOK? Controleer anders de "
                   "instellingen pdok_url/pdok_pad (WIJKKOMPAS_PDOK_URL)."),
        next_link="rel=next",
        page_marker="cursor=",
    )


def get_page(session: requests.Session, url: str, params: dict[str, Any] | None,
              settings: Settings) -> dict[str, Any]:
    def get() -> dict[str, Any]:
        response = session.get(url, params=params, timeout=settings.timeout)
        response.raise_for_status()
        crs = response.headers.get("Content-Crs", "")
        if crs and "28992" not in crs:
            raise WijkkompasError(
                f"PDOK leverde {url} in {crs} in plaats van EPSG:28992; controleer pdok_url."
            )
        return json.loads(response.content)

    return with_retries(get, retries=settings.retries, backoff=settings.backoff)


def _next_link(page: Any) -> str | None:
    links = page.get("links") if isinstance(page, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def _explain(exc: BaseException, settings: Settings, jaar: int, layer: str, url: str) -> str:
    what = f"laag '{layer}' van de wijk- en buurtkaart {jaar}"
    return explain(exc, service(settings, jaar), what, timeout=settings.timeout,
                   attempts=settings.retries + 1, url=url)


def _download_pages(settings: Settings, jaar: int, layer: str, session: requests.Session,
                    guard: PageGuard, url: str | None,
                    params: dict[str, Any] | None) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    while url:
        try:
            page = get_page(session, url, params, settings)
            link = _next_link(page)
            guard.follow(guard.last_url, link)
        except (requests.RequestException, ValueError, PagingError) as exc:
            error = NotPublished if status_of(exc) == 404 else WijkkompasError
            raise error(_explain(exc, settings, jaar, layer, url),
                        explain_detail(exc, url)) from exc
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            raise WijkkompasError(
                f"PDOK-antwoord voor laag '{layer}' {jaar} is geen GeoJSON FeatureCollection "
                f"({url}). Controleer pdok_url en pdok_pad."
            )
        features.extend(page["features"])
        # The next page's URL carries every parameter and GoKoala's opaque cursor.
        url, params = link, None
    return features


@dataclass(frozen=True)
class Collection:
    """What a client must know of a GoKoala collection before asking for its items."""

    items_url: str
    #: The properties it may filter on (GoKoala answers 400 to any other parameter).
    queryables: frozenset[str]
    #: It has a temporal extent, so ``datetime`` selects a year.
    temporal: bool


def describe(settings: Settings, session: requests.Session, base: str, collection: str,
             jaar: int = 0) -> Collection | None:
    """The collection ``collection`` of the service at ``base``, or None when the service or
    the collection does not exist there (HTTP 404)."""
    own = f"{base}/collections/{collection}"
    try:
        document = get_page(session, own, {"f": "json"}, settings)
    except requests.HTTPError as exc:
        if status_of(exc) == 404:
            return None
        raise WijkkompasError(_explain(exc, settings, jaar, collection, own),
                              explain_detail(exc, own)) from exc
    except (requests.RequestException, ValueError) as exc:
        raise WijkkompasError(_explain(exc, settings, jaar, collection, own),
                              explain_detail(exc, own)) from exc
    try:
        schema = get_page(session, f"{own}/queryables", {"f": "json"}, settings)
    except (requests.HTTPError, ValueError):
        schema = {}  # a collection without queryables: nothing to filter on
    except requests.RequestException as exc:
        raise WijkkompasError(_explain(exc, settings, jaar, collection, own),
                              explain_detail(exc, own)) from exc
    properties = schema.get("properties") if isinstance(schema, dict) else None
    names = frozenset(str(k) for k in properties) if isinstance(properties, dict) else frozenset()
    temporal = (document.get("extent") or {}).get("temporal") if isinstance(document, dict) \
        else None
    return Collection(f"{own}/items", names, bool(temporal))


def year_filter(collection: Collection, jaar: int,
                prop: str = "jaarcode") -> dict[str, Any] | None:
    """The parameters that choose ``jaar`` in a multi-year collection: the queryable
    ``prop`` if configured, else OGC ``datetime`` (mid-year) on a collection with a temporal
    extent; None when it offers neither."""
    if prop in collection.queryables:
        return {prop: jaar}
    if collection.temporal:
        return {"datetime": f"{jaar}-07-01T00:00:00Z"}
    return None


#: Where a gemeente lies (RD bbox), per service, year and gemeente: asked once per run.
_BBOXES: dict[tuple[str, int, str], tuple[float, float, float, float]] = {}
#: Metres added around a gemeente's bbox: boundaries move a little between years.
BBOX_MARGIN = 1000.0


def _gemeente_sources(settings: Settings, jaar: int) -> list[tuple[str, str, str, bool]]:
    """Where a gemeente's outline may be found: (service, collection, code property, the
    collection holds several years), best first."""
    from wijkkompas.settings import parse_years

    root = settings.pdok_url.rstrip("/")
    out = []
    gebieden = gebiedsindelingen_path(settings, jaar)
    if gebieden:
        out.append((f"{root}/{gebieden}", "gemeente_gegeneraliseerd", "statcode", True))
    per_year = sorted(set(parse_years(settings.grenzen_jaren)), reverse=True)
    for year in ([jaar] if jaar in per_year else []) + [y for y in per_year if y != jaar]:
        path = settings.pdok_pad.format(jaar=year).strip("/")
        out.append((f"{root}/{path}", "gemeenten", "gemeentecode", False))
    return out


def gebiedsindelingen_path(settings: Settings, jaar: int) -> str:
    """The path of PDOK's CBS Gebiedsindelingen service that holds ``jaar`` ("" when off):
    ``pdok_gebiedsindelingen_historisch_pad`` for 1995-2015, else
    ``pdok_gebiedsindelingen_pad``."""
    path = (settings.pdok_gebiedsindelingen_historisch_pad if jaar <= HISTORICAL_LAST
            else settings.pdok_gebiedsindelingen_pad)
    return path.strip("/ ")


#: The last year of PDOK's ``cbs/gebiedsindelingen-historisch`` (1995-2015).
HISTORICAL_LAST = 2015


def gemeente_bbox(settings: Settings, session: requests.Session, jaar: int,
                  gemeente: str) -> tuple[float, float, float, float]:
    """The gemeente's extent in RD New (with a margin), from a small collection of gemeente
    outlines: PDOK Gebiedsindelingen's ``gemeente_gegeneraliseerd`` of that year, else a
    per-year service's ``gemeenten``. Filtered on the code only where that is a queryable;
    the outline itself is used for nothing else."""
    key = (settings.pdok_url, jaar, gemeente)
    if key in _BBOXES:
        return _BBOXES[key]
    tried = []
    for base, name, prop, several in _gemeente_sources(settings, jaar):
        collection = describe(settings, session, base, name, jaar)
        if collection is None:
            tried.append(f"{base}/collections/{name}")
            continue
        params: dict[str, Any] = {"f": "json", "crs": RD_URI, "limit": PAGE_SIZE}
        if prop in collection.queryables:
            params[prop] = gemeente
        if several:
            params.update(year_filter(collection, jaar) or {})
        features = _paged(settings, jaar, name, session, collection.items_url, params)
        own = [f for f in features if str((f.get("properties") or {}).get(prop, "")).strip()
               == gemeente]
        if own:
            frame = gpd.GeoDataFrame.from_features(own, crs=RD)
            _check_rd(frame, jaar, name)
            minx, miny, maxx, maxy = frame.total_bounds
            _BBOXES[key] = (minx - BBOX_MARGIN, miny - BBOX_MARGIN, maxx + BBOX_MARGIN,
                            maxy + BBOX_MARGIN)
            return _BBOXES[key]
        tried.append(f"{base}/collections/{name}")
    raise NotPublished(
        f"PDOK kent de ligging van gemeente {gemeente} in {jaar} niet (gezocht in: "
        f"{capped(tried, 3)}). Controleer de gemeentecode, pdok_url en pdok_pad, of importeer "
        f"de wijk- en buurtkaart van {jaar} (wijkkompas import)."
    )


def _paged(settings: Settings, jaar: int, layer: str, session: requests.Session, url: str,
           params: dict[str, Any]) -> list[dict[str, Any]]:
    with tqdm(desc=f"PDOK {layer} {jaar}", unit=" pagina's", disable=None, leave=False) as bar:
        guard = PageGuard(bar, max_pages=settings.max_paginas, max_mb=settings.max_mb)
        session.hooks["response"].append(guard.on_response)
        try:
            return _download_pages(settings, jaar, layer, session, guard, url, params)
        finally:
            session.hooks["response"].remove(guard.on_response)


def download_layer(settings: Settings, jaar: int, layer: str, gemeente: str,
                   session: requests.Session, *, url: str | None = None,
                   extra: dict[str, Any] | None = None, code_field: str | None = None,
                   convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                   ) -> list[dict[str, Any]]:
    """All features of one layer for the gemeente, following the ``next`` links.

    ``url`` is the items URL (default: the per-year service's); ``extra`` adds query
    parameters, e.g. a year property; only what GoKoala accepts is sent: the gemeente is
    chosen by ``bbox`` (RD New, ``bbox-crs``) and by ``gemeentecode`` only where that is a
    queryable, then here by the code prefix (``code_field``, default the layer's), so that a
    neighbouring gemeente's areas are never kept. ``convert`` turns each kept feature into
    the wijk- en buurtkaart's attributes before the codes are checked.
    """
    if "," in gemeente:  # several gemeenten (one fetch): each gemeente's features in turn
        return [feature for code in gemeente.split(",")
                for feature in download_layer(settings, jaar, layer, code, session, url=url,
                                              extra=extra, code_field=code_field,
                                              convert=convert)]
    url = url or collection_url(settings, jaar, layer)
    base = url.rsplit("/collections/", 1)[0]
    collection = describe(settings, session, base, url.rsplit("/", 2)[-2], jaar)
    if collection is None:
        raise NotPublished(_explain(_NotFound(url), settings, jaar, layer, url))
    box = gemeente_bbox(settings, session, jaar, gemeente)
    # A property filter only where the collection has that queryable: GoKoala answers 400
    # to any other parameter (the caller then keeps the year's features itself).
    allowed = collection.queryables | {"datetime"}
    params: dict[str, Any] = {
        "f": "json", "crs": RD_URI, "limit": PAGE_SIZE,
        "bbox": ",".join(f"{v:.0f}" for v in box), "bbox-crs": RD_URI,
        **{k: v for k, v in (extra or {}).items() if k in allowed},
    }
    if "gemeentecode" in collection.queryables:
        params["gemeentecode"] = gemeente
    features = _paged(settings, jaar, layer, session, collection.items_url, params)
    field = code_field or CODE_FIELD[layer]
    prefix = {"wijken": "WK", "buurten": "BU"}[layer] + gemeente[2:]
    own = [f for f in features
           if str((f.get("properties") or {}).get(field, "")).strip().startswith(prefix)]
    if convert is not None:
        own = [convert(f) for f in own]
    if not own:
        raise NotPublished(
            f"PDOK leverde geen {layer} voor gemeente {gemeente} in de wijk- en buurtkaart {jaar}. "
            "Controleer de gemeentecode en het jaar."
        )
    _check_codes(own, layer, jaar)
    return own


class _NotFound(requests.HTTPError):
    """A collection the service does not have, told as PDOK's own 404 would be."""

    def __init__(self, url: str) -> None:
        response = requests.Response()
        response.status_code, response.url = 404, url
        super().__init__(f"404 {url}", response=response)


def _check_codes(features: list[dict[str, Any]], layer: str, jaar: int) -> None:
    """Every feature's wijk- or buurtcode has CBS's form, before anything is written."""
    niveau = {"wijken": "wijk", "buurten": "buurt"}[layer]
    field = CODE_FIELD[layer]
    bad = []
    for number, feature in enumerate(features, start=1):
        try:
            check_code(feature["properties"].get(field), niveau, f"object {number}")
        except WijkkompasError as exc:
            bad.append(str(exc))
    if bad:
        raise WijkkompasError(f"PDOK-laag '{layer}' {jaar}: {capped(bad)}. Controleer de "
                              "PDOK-instellingen (pdok_url, pdok_pad, pdok_historisch_pad) of "
                              "importeer de wijk- en buurtkaart van dat jaar (wijkkompas import).")


def _check_shapes(features: list[dict[str, Any]], jaar: int, layer: str) -> None:
    """Every feature a valid area (see :func:`wijkkompas.gebied.shape_problem`), before
    shapely is asked to make a frame of them."""
    problems = shape_problems(geojson_shapes(f.get("geometry") for f in features))
    if problems:
        raise WijkkompasError(f"PDOK-laag '{layer}' {jaar}: {capped(problems, chars=LIST_CHARS)}. "
                              "Niets is "
                              "opgeslagen; probeer het later opnieuw of controleer pdok_url.")


def _check_rd(frame: gpd.GeoDataFrame, jaar: int, layer: str) -> None:
    if not within_rd_bounds(*frame.total_bounds):
        raise WijkkompasError(
            f"De coördinaten van PDOK-laag '{layer}' {jaar} liggen niet in EPSG:28992 (RD New); "
            "de dienst negeerde waarschijnlijk de crs-parameter. Controleer pdok_url."
        )


def is_cached(entry: dict[str, Any] | None, geo_dir: Path, gemeente: str) -> bool:
    if not entry or entry.get("gemeente") != gemeente:
        return False
    return files_intact(geo_dir, entry.get("files", {}))


def fetch_boundaries(jaar: int, gemeente: str, raw_dir: Path, settings: Settings,
                     previous: dict[str, Any] | None, *, refresh: bool = False,
                     source: LayerSource | None = None,
                     store: Callable[[dict[str, Any]], None] | None = None) -> GeoResult:
    """Fetch the wijken and buurten of one year unless the cache holds them already.

    ``source`` downloads the layers from elsewhere than the per-year service (the
    historical service, ``pdok_collections.historical_layers``). ``store`` records the new
    manifest entry, right after the file is put in place and with Ctrl-C held back, so that
    the file and its entry are stored together.
    """
    geo_dir = raw_dir / "geo"
    if not refresh and is_cached(previous, geo_dir, gemeente):
        assert previous is not None
        return GeoResult(jaar, "actueel", previous["counts"], previous)

    frames = {}
    with new_session() as session:
        if source is None:
            downloaded = {layer: download_layer(settings, jaar, layer, gemeente, session)
                          for layer in LAYERS}
            details: dict[str, Any] = {"grenzenbron": SOURCE_NAME}
        else:
            downloaded, details = source(session)
        for layer, features in downloaded.items():
            _check_shapes(features, jaar, layer)
            frame = gpd.GeoDataFrame.from_features(features, crs=RD)
            _check_rd(frame, jaar, layer)
            frames[layer] = frame

    target = geo_dir / geo_name(jaar)
    if target.is_file():
        stamp = file_stamp((previous or {}).get("fetched_at") or now_stamp())
        keep = raw_dir / "archive" / "geo" / stamp / target.name
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, keep)
    status = "ververst" if previous else "opgehaald"
    with no_interrupt():
        with atomic_path(target) as tmp:
            for layer, frame in frames.items():
                frame.to_file(tmp, layer=layer, driver="GPKG")
            entry = {
                "jaar": jaar,
                "gemeente": gemeente,
                "fetched_at": now_stamp(),
                "bron": settings.pdok_url,
                "counts": {layer: len(frame) for layer, frame in frames.items()},
                "files": {target.name: {"sha256": sha256_file(tmp)}},
                **details,
            }
        if store is not None:
            store(entry)
    return GeoResult(jaar, status, entry["counts"], entry)
