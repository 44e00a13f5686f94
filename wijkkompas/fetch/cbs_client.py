"""The real ``cbsodata`` client, pointed at the configured CBS endpoint.

cbsodata keeps its endpoint in module-wide options and reads proxy settings from the
environment once, when it is imported. :func:`cbs_session` sets the endpoint for the
duration of a call and passes the proxies that apply to that endpoint (honouring
``no_proxy``), so that a local mirror or a loopback test server is reached directly.

cbsodata opens a new ``requests.Session`` for every page. For the duration of a call,
:func:`cbs_session` has it open a :class:`HookedSession` instead, whose response hook (a
:class:`~wijkkompas.fetch.http.PageGuard`) counts the pages and enforces the limits.
Retries and messages follow the one policy of :mod:`wijkkompas.fetch.http`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import requests
from tqdm.auto import tqdm

from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.http import (
    PageGuard,
    PagingError,
    Service,
    explain,
    explain_detail,
    new_session,
    with_retries,
)
from wijkkompas.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class CbsEndpoint:
    url: str
    catalog_url: str
    use_https: bool
    request_kwargs: dict[str, Any]


def endpoint(settings: Settings) -> CbsEndpoint:
    """Split the configured CBS URL into what cbsodata needs."""
    parts = urlsplit(settings.cbs_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WijkkompasError(
            f"Ongeldige CBS-URL '{settings.cbs_url}': gebruik bijvoorbeeld "
            "https://opendata.cbs.nl (instelling cbs_url of WIJKKOMPAS_CBS_URL)."
        )
    proxies = requests.utils.get_environ_proxies(settings.cbs_url)
    return CbsEndpoint(
        url=settings.cbs_url.rstrip("/"),
        catalog_url=parts.netloc + parts.path,
        use_https=parts.scheme == "https",
        request_kwargs={"proxies": proxies, "timeout": settings.timeout},
    )


class HookedSession(requests.Session):
    """A session whose response hooks also run for requests prepared without it, and that
    tries a request that failed in passing again by itself.

    cbsodata prepares each request itself (``Request(...).prepare()``) and sends it with a
    new ``Session()``, so the session's hooks would not be merged in; :meth:`send` adds them.
    A transient failure (a dropped connection, HTTP 429 or 5xx) is retried here, per
    request, so that a page that fails halfway a series is asked again, not the whole
    series from its first page: "na 3 pogingen" then means three requests of that page.
    """

    retries = 0
    backoff = 0.0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # A request prepared outside the session does not take the session's headers.
        request.headers["User-Agent"] = self.headers["User-Agent"]
        for hook in self.hooks["response"]:
            if hook not in request.hooks["response"]:
                request.register_hook("response", hook)

        def once() -> requests.Response:
            response = super(HookedSession, self).send(request, **kwargs)
            if response.status_code == 429 or response.status_code >= 500:
                response.raise_for_status()  # transient: tried again by with_retries
            return response

        return with_retries(once, retries=self.retries, backoff=self.backoff)


def _next_link(page: Any) -> str | None:
    link = page.get("odata.nextLink") if isinstance(page, dict) else None
    return str(link) if link else None


@contextmanager
def cbs_session(settings: Settings, description: str) -> Iterator[tuple[CbsEndpoint, PageGuard]]:
    """Point cbsodata at the configured endpoint and count each page it receives on a bar.

    The pages are counted by a response hook on the sessions cbsodata opens, one per page;
    the hook also stops a fetch that passes the limits or follows a repeated next link.
    """
    point = endpoint(settings)
    old_https, old_session = cbsodata.options.use_https, cbsodata3.Session
    bar = tqdm(desc=description, unit=" pagina's", disable=None, leave=False)
    counter = PageGuard(bar, max_pages=settings.max_paginas, max_mb=settings.max_mb,
                        next_link=_next_link, marker=b'"odata.nextLink"')

    def session() -> requests.Session:
        opened = new_session(HookedSession)
        opened.retries, opened.backoff = settings.retries, settings.backoff
        opened.hooks["response"].append(counter.on_response)
        return opened

    cbsodata.options.use_https = point.use_https
    cbsodata3.Session = session
    try:
        yield point, counter
    finally:
        cbsodata.options.use_https = old_https
        cbsodata3.Session = old_session
        bar.close()


def service(settings: Settings) -> Service:
    """CBS as the error messages name it."""
    return Service(
        name="CBS",
        url=settings.cbs_url,
        setting="WIJKKOMPAS_CBS_URL",
        not_found="Controleer het tabelnummer en de instelling WIJKKOMPAS_CBS_URL.",
        next_link="odata.nextLink",
        page_marker="skip=",
    )


def call_cbs(call: Callable[[], T], settings: Settings, what: str, counter: PageGuard) -> T:
    """Run a cbsodata call with retries and turn what fails into one clear Dutch message."""
    def attempt() -> T:
        counter.new_attempt()
        return call()

    try:
        # Each request is retried by itself (HookedSession), never the whole call again.
        return attempt()
    # cbsodata indexes the answer as it comes: an answer of another shape ([1, 2, 3],
    # {"value": null}) surfaces as a KeyError or TypeError from inside it.
    except (requests.RequestException, ValueError, KeyError, TypeError, PagingError) as exc:
        raise WijkkompasError(explain(exc, service(settings), what, timeout=settings.timeout,
                                      attempts=settings.retries + 1, url=counter.last_url),
                              explain_detail(exc, counter.last_url)) from exc
