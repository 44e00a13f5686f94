"""The real ``cbsodata`` client, pointed at the configured CBS endpoint.

cbsodata keeps its endpoint in module-wide options and reads proxy settings from the
environment once, when it is imported. :func:`cbs_session` sets the endpoint for the
duration of a call and passes the proxies that apply to that endpoint (honouring
``no_proxy``), so that a local mirror or a loopback test server is reached directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import cbsodata
import requests
from tqdm.auto import tqdm

from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.http import Service, explain, with_retries
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


class _DownloadCounter(logging.Handler):
    """Counts the 'Download <url>' lines cbsodata logs, one per page, on a tqdm bar.

    cbsodata logs through the root logger at INFO. While a session lasts, this handler
    stands in for the root logger's handlers and passes on to them only what they would
    have shown before, so that cbsodata's INFO lines do not flood the screen.
    """

    def __init__(self, bar: tqdm, forward: list[logging.Handler], level: int) -> None:
        super().__init__(level=logging.NOTSET)
        self.bar = bar
        self.forward = forward
        self.forward_level = level
        self.last_url = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.name == "root" and message.startswith("Download "):
            self.last_url = message[len("Download "):]
            self.bar.update(1)
        if record.levelno >= self.forward_level:
            for handler in self.forward:
                handler.handle(record)


@contextmanager
def cbs_session(
    settings: Settings, description: str
) -> Iterator[tuple[CbsEndpoint, _DownloadCounter]]:
    """Point cbsodata at the configured endpoint and show each downloaded page on a bar."""
    point = endpoint(settings)
    old_https = cbsodata.options.use_https
    root = logging.getLogger()
    old_level, old_handlers = root.level, root.handlers[:]
    bar = tqdm(desc=description, unit=" pagina's", disable=None, leave=False)
    counter = _DownloadCounter(bar, old_handlers, root.getEffectiveLevel())
    root.handlers = [counter]
    root.setLevel(min(root.getEffectiveLevel(), logging.INFO))
    cbsodata.options.use_https = point.use_https
    try:
        yield point, counter
    finally:
        cbsodata.options.use_https = old_https
        root.handlers = old_handlers
        root.setLevel(old_level)
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


def call_cbs(call: Callable[[], T], settings: Settings, what: str, counter: _DownloadCounter) -> T:
    """Run a cbsodata call with retries and turn what fails into one clear Dutch message."""
    try:
        return with_retries(call, retries=settings.retries, backoff=settings.backoff)
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise WijkkompasError(explain(exc, service(settings), what, timeout=settings.timeout,
                                      attempts=settings.retries + 1,
                                      url=counter.last_url)) from exc
