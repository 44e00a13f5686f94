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

from wijkkompas.errors import LIST_CHARS, WijkkompasError, capped
from wijkkompas.fetch.http import PageGuard, PagingError, Service, explain, with_retries
from wijkkompas.gebied import (
    RD,
    check_code,
    geojson_shapes,
    shape_problems,
    within_rd_bounds,
)
from wijkkompas.settings import Settings
from wijkkompas.storage import (
    atomic_path,
    file_stamp,
    files_intact,
    no_interrupt,
    now_stamp,
    sha256_file,
)

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
        page_marker="offset=",
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
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 400 and params and "gemeentecode" in params:
                # A service that cannot filter on gemeentecode: fetch all, filter here.
                params = {k: v for k, v in params.items() if k != "gemeentecode"}
                continue
            raise WijkkompasError(_explain(exc, settings, jaar, layer, url)) from exc
        except (requests.RequestException, ValueError, PagingError) as exc:
            raise WijkkompasError(_explain(exc, settings, jaar, layer, url)) from exc
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            raise WijkkompasError(
                f"PDOK-antwoord voor laag '{layer}' {jaar} is geen GeoJSON FeatureCollection "
                f"({url}). Controleer pdok_url en pdok_pad."
            )
        features.extend(page["features"])
        url, params = link, None
    return features


def download_layer(settings: Settings, jaar: int, layer: str, gemeente: str,
                   session: requests.Session, *, url: str | None = None,
                   extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """All features of one layer for the gemeente, following the ``next`` links.

    ``url`` is the items URL (default: the per-year service's); ``extra`` adds query
    parameters to the first request, e.g. a year property.
    """
    if "," in gemeente:  # several gemeenten (one fetch): each gemeente's features in turn
        return [feature for code in gemeente.split(",")
                for feature in download_layer(settings, jaar, layer, code, session, url=url,
                                              extra=extra)]
    url = url or collection_url(settings, jaar, layer)
    params: dict[str, Any] | None = {
        "f": "json", "gemeentecode": gemeente, "crs": RD_URI, "limit": PAGE_SIZE,
        **(extra or {}),
    }
    with tqdm(desc=f"PDOK {layer} {jaar}", unit=" pagina's", disable=None, leave=False) as bar:
        guard = PageGuard(bar, max_pages=settings.max_paginas, max_mb=settings.max_mb)
        session.hooks["response"].append(guard.on_response)
        try:
            features = _download_pages(settings, jaar, layer, session, guard, url, params)
        finally:
            session.hooks["response"].remove(guard.on_response)
    own = [f for f in features if (f.get("properties") or {}).get("gemeentecode") == gemeente]
    if not own:
        raise WijkkompasError(
            f"PDOK leverde geen {layer} voor gemeente {gemeente} in de wijk- en buurtkaart {jaar}. "
            "Controleer de gemeentecode en het jaar."
        )
    _check_codes(own, layer, jaar)
    return own


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
    with requests.Session() as session:
        session.trust_env = True
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
