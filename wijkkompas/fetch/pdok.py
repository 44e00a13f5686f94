"""Wijk and buurt boundaries from PDOK (CBS wijk- en buurtkaart) into ``data/raw/geo``.

PDOK serves the wijk- en buurtkaart of each year as an OGC API Features service,
``{pdok_url}/{pdok_pad}`` with ``pdok_pad`` = ``cbs/wijken-en-buurten-{jaar}/ogc/v1`` by
default, collections ``wijken`` and ``buurten``, GeoJSON pages linked with ``rel=next``.
Coordinates are asked for and kept in EPSG:28992 (RD New). Each year becomes one
GeoPackage ``wijkenbuurten_<jaar>.gpkg`` with layers ``wijken`` and ``buurten``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import requests
from tqdm.auto import tqdm

from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.fetch.http import with_retries
from wijkkompas.gebied import RD, check_code, within_rd_bounds
from wijkkompas.settings import Settings
from wijkkompas.storage import atomic_path, file_stamp, files_intact, now_stamp, sha256_file

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
LAYERS = ("wijken", "buurten")
CODE_FIELD = {"wijken": "wijkcode", "buurten": "buurtcode"}
PAGE_SIZE = 1000


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


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        return status is None or status >= 500 or status == 429
    return isinstance(exc, requests.RequestException | ValueError)


def _get_page(session: requests.Session, url: str, params: dict[str, Any] | None,
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

    return with_retries(get, retries=settings.retries, backoff=settings.backoff,
                        transient=_transient)


def _explain(exc: BaseException, settings: Settings, jaar: int, layer: str, url: str) -> str:
    attempts = settings.retries + 1
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        if status == 404:
            return (f"PDOK-laag '{layer}' van de wijk- en buurtkaart {jaar} niet gevonden "
                    f"(HTTP 404 op {url}). Bestaat de kaart van dat jaar bij PDOK? Controleer "
                    "anders de instellingen pdok_url/pdok_pad (WIJKKOMPAS_PDOK_URL).")
        return (f"PDOK gaf een fout (HTTP {status}) voor laag '{layer}' {jaar} na {attempts} "
                f"pogingen ({url}). Probeer het later opnieuw.")
    if isinstance(exc, requests.Timeout):
        return (f"PDOK antwoordde niet binnen {settings.timeout:g} s voor laag '{layer}' {jaar} "
                f"na {attempts} pogingen ({url}). Probeer het later opnieuw.")
    if isinstance(exc, requests.RequestException):
        return (f"PDOK is niet bereikbaar op {settings.pdok_url} (laag '{layer}' {jaar}, "
                f"{attempts} pogingen). Controleer de verbinding of WIJKKOMPAS_PDOK_URL.")
    return (f"PDOK stuurde een onvolledig of ongeldig antwoord voor laag '{layer}' {jaar} "
            f"({url}): geen leesbare GeoJSON. Probeer het later opnieuw.")


def _next_link(page: dict[str, Any]) -> str | None:
    for link in page.get("links", []) or []:
        if link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def download_layer(settings: Settings, jaar: int, layer: str, gemeente: str,
                   session: requests.Session) -> list[dict[str, Any]]:
    """All features of one layer for the gemeente, following the ``next`` links."""
    url: str | None = collection_url(settings, jaar, layer)
    params: dict[str, Any] | None = {
        "f": "json", "gemeentecode": gemeente, "crs": RD_URI, "limit": PAGE_SIZE,
    }
    features: list[dict[str, Any]] = []
    with tqdm(desc=f"PDOK {layer} {jaar}", unit=" pagina's", disable=None, leave=False) as bar:
        while url:
            try:
                page = _get_page(session, url, params, settings)
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status == 400 and params and "gemeentecode" in params:
                    # A service that cannot filter on gemeentecode: fetch all, filter here.
                    params = {k: v for k, v in params.items() if k != "gemeentecode"}
                    continue
                raise WijkkompasError(_explain(exc, settings, jaar, layer, url)) from exc
            except (requests.RequestException, ValueError) as exc:
                raise WijkkompasError(_explain(exc, settings, jaar, layer, url)) from exc
            if not isinstance(page.get("features"), list):
                raise WijkkompasError(
                    f"PDOK-antwoord voor laag '{layer}' {jaar} is geen GeoJSON FeatureCollection "
                    f"({url}). Controleer pdok_url en pdok_pad."
                )
            features.extend(page["features"])
            bar.update(1)
            url, params = _next_link(page), None
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
        raise WijkkompasError(f"PDOK-laag '{layer}' {jaar}: {capped(bad)}. Controleer pdok_url "
                              "en pdok_pad.")


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
                     previous: dict[str, Any] | None, *, refresh: bool = False) -> GeoResult:
    """Fetch the wijken and buurten of one year unless the cache holds them already."""
    geo_dir = raw_dir / "geo"
    if not refresh and is_cached(previous, geo_dir, gemeente):
        assert previous is not None
        return GeoResult(jaar, "actueel", previous["counts"], previous)

    frames = {}
    with requests.Session() as session:
        session.trust_env = True
        for layer in LAYERS:
            features = download_layer(settings, jaar, layer, gemeente, session)
            frame = gpd.GeoDataFrame.from_features(features, crs=RD)
            _check_rd(frame, jaar, layer)
            frames[layer] = frame

    target = geo_dir / geo_name(jaar)
    if target.is_file():
        stamp = file_stamp((previous or {}).get("fetched_at") or now_stamp())
        keep = raw_dir / "archive" / "geo" / stamp / target.name
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, keep)
    with atomic_path(target) as tmp:
        for layer, frame in frames.items():
            frame.to_file(tmp, layer=layer, driver="GPKG")
    status = "ververst" if previous else "opgehaald"
    fetched_at = now_stamp()
    entry = {
        "jaar": jaar,
        "gemeente": gemeente,
        "fetched_at": fetched_at,
        "bron": settings.pdok_url,
        "counts": {layer: len(frame) for layer, frame in frames.items()},
        "files": {target.name: {"sha256": sha256_file(target)}},
    }
    return GeoResult(jaar, status, entry["counts"], entry)
