"""Addresses to coordinates through the PDOK Locatieserver, with a cache on disk.

The endpoint is a setting (``locatieserver_url``, ``WIJKKOMPAS_LOCATIESERVER_URL``); the
default is PDOK's free-text search. Every answer, found or not found, is kept in
``data/raw/geocodeer_cache.json``, so a second run asks nothing and an address that was not
found is reported again, never silently dropped. An answer outside the Netherlands (the RD
New extent) is refused and never cached.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from wijkkompas.errors import WijkkompasError, first_line
from wijkkompas.fetch.http import Service, explain, explain_detail, new_session, with_retries
from wijkkompas.gebied import within_rd_bounds
from wijkkompas.storage import write_json_atomic
from wijkkompas.tabular import shown

CACHE_NAME = "geocodeer_cache.json"
_POINT = re.compile(r"POINT\(\s*([-\d.]+)\s+([-\d.]+)\s*\)", re.ASCII)


@dataclass(frozen=True)
class Place:
    query: str
    found: bool
    x: float | None = None  # EPSG:28992
    y: float | None = None
    label: str = ""


class Geocoder:
    def __init__(self, url: str, cache_dir: Path, timeout: float = 30.0, retries: int = 2,
                 backoff: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.path = Path(cache_dir) / CACHE_NAME
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.cache: dict[str, dict[str, Any]] = self._read_cache()
        self.service = Service(
            name="De PDOK Locatieserver",
            url=self.url,
            setting="WIJKKOMPAS_LOCATIESERVER_URL",
            not_found="Controleer de instelling WIJKKOMPAS_LOCATIESERVER_URL.",
            alternative="Of geef coördinaten: --toets x,y.",
        )

    def _read_cache(self) -> dict[str, dict[str, Any]]:
        """The answers kept on disk; a damaged cache is reported, never half-used."""
        if not self.path.is_file():
            return {}
        try:
            cache = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            reason = first_line(exc)
            raise WijkkompasError(
                f"De geocodeercache {self.path} is onleesbaar ({reason}). Verwijder het "
                "bestand; de adressen worden dan opnieuw opgezocht.") from None
        fine = isinstance(cache, dict) and all(
            isinstance(hit, dict) and (hit.get("niet_gevonden") is True or (
                isinstance(hit.get("x"), int | float) and isinstance(hit.get("y"), int | float)))
            for hit in cache.values())
        if not fine:
            raise WijkkompasError(
                f"De geocodeercache {self.path} heeft niet de verwachte vorm (per adres x en y "
                "of niet_gevonden). Verwijder het bestand; de adressen worden dan opnieuw "
                "opgezocht.")
        return cache

    def _ask(self, query: str) -> dict[str, Any]:
        params = {"q": query, "fq": "type:adres", "rows": 1,
                  "fl": "weergavenaam,centroide_rd,score"}
        proxies = requests.utils.get_environ_proxies(self.url)

        def get() -> dict[str, Any]:
            with new_session() as session:
                response = session.get(f"{self.url}/free", params=params,
                                       timeout=self.timeout, proxies=proxies)
                response.raise_for_status()
                return response.json()

        try:
            return with_retries(get, retries=self.retries, backoff=self.backoff)
        except (requests.RequestException, ValueError) as exc:
            raise WijkkompasError(explain(
                exc, self.service, f"adres '{shown(query)}'", timeout=self.timeout,
                attempts=self.retries + 1), explain_detail(exc)) from exc

    def locate(self, query: str) -> Place:
        query = " ".join(query.split())
        if query not in self.cache:
            answer = self._ask(query)
            docs = (answer.get("response") or {}).get("docs") or []
            match = _POINT.match(str(docs[0].get("centroide_rd", ""))) if docs else None
            if match:
                try:
                    x, y = float(match.group(1)), float(match.group(2))
                except ValueError:
                    x = y = float("nan")
                label = str(docs[0].get("weergavenaam", ""))
                _check_inside(query, x, y, self.url)
                self.cache[query] = {"x": x, "y": y, "label": label}
            else:
                self.cache[query] = {"niet_gevonden": True}
            write_json_atomic(self.path, self.cache)
        hit = self.cache[query]
        if hit.get("niet_gevonden"):
            return Place(query, False)
        _check_inside(query, hit["x"], hit["y"], self.path)
        return Place(query, True, hit["x"], hit["y"], hit.get("label", ""))


def _check_inside(query: str, x: float, y: float, source: object) -> None:
    """Refuse a point that does not lie in the Netherlands (RD New extent)."""
    if not within_rd_bounds(x, y, x, y):
        raise WijkkompasError(
            f"Adres '{query}': {source} gaf de locatie ({x:g}, {y:g}), buiten Nederland "
            "(RD New); die is niet gebruikt en niet bewaard. Controleer het adres of "
            "WIJKKOMPAS_LOCATIESERVER_URL, of geef de locatie met coördinaten op."
        )
