"""One retry and error policy for the web services: CBS, PDOK and the PDOK Locatieserver.

Transient failures (timeouts, connection errors, HTTP 429 and 5xx) are tried again with
exponential backoff, or after the wait a ``Retry-After`` header asks for (capped at
:data:`MAX_RETRY_AFTER` seconds). Everything else fails at once. :func:`explain` turns
what finally failed into one Dutch line that names the service, the request and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import sleep
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from tqdm.auto import tqdm

from wijkkompas import __version__

T = TypeVar("T")
S = TypeVar("S", bound=requests.Session)

#: How every request names the program, so that a service's operators can see who asks.
USER_AGENT = f"wijkkompas/{__version__} (+python-requests/{requests.__version__})"


def new_session(kind: type[S] = requests.Session) -> S:  # type: ignore[assignment]
    """The one way a session to a web service is made: with the User-Agent of wijkkompas
    and the proxy settings of the environment."""
    session = kind()
    session.headers["User-Agent"] = USER_AGENT
    session.trust_env = True
    return session


#: The longest wait a ``Retry-After`` header can ask for, in seconds.
MAX_RETRY_AFTER = 60.0

_CONNECTION_ERRORS = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class Service:
    """A web service as the messages name it."""

    name: str  # "CBS", "PDOK", "De PDOK Locatieserver"
    url: str  # the configured endpoint
    setting: str  # the environment variable that sets ``url``
    not_found: str  # what to check when the service answers HTTP 404
    next_link: str = ""  # how the service links to its next page, e.g. "odata.nextLink"
    page_marker: str = ""  # what a follow-up page URL holds, e.g. "$skip="
    alternative: str = ""  # a way around the service, added to every message


class PagingError(Exception):
    """A series of pages that would not end: a repeated next link or a limit reached."""

    def __init__(self, kind: str, url: str, limit: float = 0) -> None:
        super().__init__(f"{kind}: {url}")
        self.kind = kind  # "herhaald", "paginas" or "bytes"
        self.url = url
        self.limit = limit


def _chain(exc: BaseException) -> list[BaseException]:
    """The error and the errors it was raised from (cbsodata wraps requests' errors)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def response_of(exc: BaseException) -> requests.Response | None:
    """The HTTP response behind an error, if there was one."""
    for err in _chain(exc):
        response = getattr(err, "response", None)
        if isinstance(response, requests.Response):
            return response
    return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an error, if any."""
    response = response_of(exc)
    return None if response is None else response.status_code


def url_of(exc: BaseException) -> str:
    """The URL of the request that failed, if the error knows it."""
    for err in _chain(exc):
        if isinstance(err, PagingError):
            return err.url
        request = getattr(err, "request", None)
        if request is not None and getattr(request, "url", None):
            return str(request.url)
    response = response_of(exc)
    return "" if response is None else str(response.url)


def is_transient(exc: BaseException) -> bool:
    """Timeouts, connection errors, HTTP 429 and 5xx are worth another try; nothing else."""
    status = status_of(exc)
    if status is not None and isinstance(exc, requests.RequestException):
        return status == 429 or status >= 500
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate does not get better by asking again
    return isinstance(exc, (requests.Timeout, *_CONNECTION_ERRORS))


def retry_after(exc: BaseException) -> float | None:
    """The wait in seconds a ``Retry-After`` header asks for (seconds or an HTTP date).

    The wait is capped at :data:`MAX_RETRY_AFTER`; an unreadable header counts as absent.
    """
    response = response_of(exc)
    value = None if response is None else response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def wait_before_retry(exc: BaseException, attempt: int, backoff: float) -> float:
    """Seconds to wait before the retry after failed attempt number ``attempt`` (from 0)."""
    asked = retry_after(exc)
    return backoff * (2**attempt) if asked is None else asked


def with_retries(call: Callable[[], T], *, retries: int, backoff: float) -> T:
    """Run ``call``; when it raises a transient error, wait and try again.

    ``retries`` is the number of extra attempts; the waits are backoff, 2*backoff,
    4*backoff..., or what the server's ``Retry-After`` asks for. The last error is raised
    as it is when all attempts fail or when an error is not transient.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - decided by ``is_transient``
            if attempt >= retries or not is_transient(exc):
                raise
            sleep(wait_before_retry(exc, attempt, backoff))
            attempt += 1


def _normal_url(link: str) -> str:
    """A URL as requests would send it, so that two spellings of one page compare equal."""
    try:
        return str(requests.Request("GET", link).prepare().url)
    except (requests.RequestException, ValueError):
        return link


class PageGuard:
    """A requests response hook that counts the pages of one fetch and stops runaway series.

    Register :meth:`on_response` as a ``response`` hook of a session. It shows each page on
    the progress bar, raises :class:`PagingError` when the fetch passes ``max_pages`` pages
    or ``max_mb`` megabytes, and with ``next_link`` (which reads the next page's URL from a
    decoded page) also when a page links to a page this attempt already received.
    ``last_url`` is the URL of the last answer, whatever its status.
    """

    def __init__(self, bar: tqdm | None = None, *, max_pages: int, max_mb: float,
                 next_link: Callable[[Any], str | None] | None = None,
                 marker: bytes = b"") -> None:
        self.bar = bar
        self.max_pages, self.max_mb = max_pages, max_mb
        self.next_link, self.marker = next_link, marker
        self.pages = 0
        self.received = 0  # bytes
        self.last_url = ""
        self.seen: set[str] = set()

    def new_attempt(self) -> None:
        """Forget the pages seen: a retry starts the series again from its first page."""
        self.seen.clear()

    def _check_bytes(self, extra: int, url: str) -> None:
        if self.received + extra > self.max_mb * 1_000_000:
            raise PagingError("bytes", url, self.max_mb)

    def on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        url = str(response.url)
        self.last_url = url
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit():
            self._check_bytes(int(declared), url)  # refused before the body is read
        body = response.content
        self._check_bytes(len(body), url)
        self.received += len(body)
        if not response.ok:
            return
        self.pages += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.pages > self.max_pages:
            raise PagingError("paginas", url, self.max_pages)
        if self.next_link is not None and (not self.marker or self.marker in body):
            try:
                page = json.loads(body)
            except ValueError:
                return  # the client reports what it cannot read
            self.follow(url, self.next_link(page))

    def follow(self, url: str, link: str | None) -> None:
        """Note that page ``url`` links to ``link``; refuse a link to a page seen before."""
        self.seen.add(_normal_url(url))
        if link and _normal_url(link) in self.seen:
            raise PagingError("herhaald", link)


#: The query keys that say which page of a series a request asked for; a message keeps
#: them (with a short value), every other query value is left out.
_PAGE_KEYS = frozenset({"$skip", "skip", "offset", "startindex", "page", "cursor"})
_PAGE_VALUE = 24


def shown_url(url: str) -> str:
    """A URL as a message shows it: host and path, without the scheme and without the
    query (CBS's filter of a gemeente's areas alone is some 200 characters), except the
    page of a series (``$skip=4``, a short ``cursor``). The whole URL goes in the detail
    (``--uitgebreid``)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url if len(url) <= 80 else url[:77] + "..."
    page = [(key, value) for key, value in parse_qsl(parts.query)
            if key.lower() in _PAGE_KEYS and len(value) <= _PAGE_VALUE]
    return f"{parts.netloc}{parts.path}" + (f"?{urlencode(page, safe='$')}" if page else "")


def explain_detail(exc: BaseException, url: str = "") -> str:
    """What :func:`explain` leaves out of its line, for ``--uitgebreid``: the whole URL
    and what the library said."""
    whole = url_of(exc) or url
    said = f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
    return f"{whole} ({said})" if whole else said


def _tries(exc: BaseException, attempts: int) -> str:
    if not is_transient(exc):
        return ""
    return f" na {attempts} poging{'en' if attempts != 1 else ''}"


def explain(exc: BaseException, service: Service, what: str, *, timeout: float,
            attempts: int, url: str = "") -> str:
    """One Dutch line for a request to ``service`` that failed in the end.

    ``what`` names the request ("tabel 85984NED (2024)"), ``attempts`` is the number of
    attempts a transient error had and ``url`` is used when the error does not tell its URL.
    """
    whole = url_of(exc) or url or service.url
    where = shown_url(whole)
    head = f"{service.name} gaf geen bruikbaar antwoord bij {what}"
    tries = _tries(exc, attempts)
    paging = ""
    if service.page_marker and service.page_marker in whole:
        paging = f" halverwege de reeks pagina's ({service.next_link})"
    extra = f" {service.alternative}" if service.alternative else ""
    status = status_of(exc)
    if isinstance(exc, PagingError):
        last = shown_url(exc.url)
        if exc.kind == "herhaald":
            text = (f"{head}: de volgende pagina ({service.next_link}) verwijst naar een pagina "
                    f"die al is opgehaald ({last}), zodat het ophalen nooit zou eindigen. "
                    f"Het ophalen is gestopt; de cache is niet gewijzigd. Controleer de "
                    f"instelling {service.setting}.")
        elif exc.kind == "paginas":
            text = (f"{head}: meer dan {exc.limit:g} pagina's (laatste: {last}). Het ophalen "
                    f"is gestopt; de cache is niet gewijzigd. Verhoog max_paginas "
                    f"(WIJKKOMPAS_MAX_PAGINAS) als dit klopt, of controleer {service.setting}.")
        else:
            text = (f"{head}: meer dan {exc.limit:g} MB (laatste: {last}). Het ophalen is "
                    f"gestopt; de cache is niet gewijzigd. Verhoog max_mb (WIJKKOMPAS_MAX_MB) "
                    f"als dit klopt, of controleer {service.setting}.")
    elif status == 404:
        text = (f"{service.name} kent {what} niet (HTTP 404 op {where}). "
                f"{service.not_found}")
    elif status == 429:
        text = (f"{head}: te veel verzoeken (HTTP 429){tries}, op {where}. Wacht enkele "
                "minuten en probeer het opnieuw.")
    elif status is not None and status >= 500:
        text = (f"{service.name} gaf een serverfout (HTTP {status}) bij {what}{paging}{tries} "
                f"({where}). Probeer het later opnieuw.")
    elif status is not None:
        text = (f"{head}: HTTP {status}{paging}, op {where}. Controleer de instelling "
                f"{service.setting}.")
    elif isinstance(exc, requests.Timeout):
        text = (f"{head}: geen antwoord binnen {timeout:g} s{tries} ({where}). Probeer het "
                "later opnieuw of verhoog WIJKKOMPAS_TIMEOUT.")
    elif isinstance(exc, requests.exceptions.SSLError):
        text = (f"{head}: de beveiligde verbinding (TLS) mislukte ({where}). Controleer of "
                f"{service.setting} klopt (https of http) en de certificaten van deze computer.")
    elif isinstance(exc, _CONNECTION_ERRORS):
        text = (f"{service.name} was onbereikbaar voor {what}, of de verbinding brak "
                f"af{paging}{tries} ({where}). Controleer het netwerk of {service.setting}.")
    elif isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | KeyError | TypeError):
        text = (f"{head}: onvolledig of ongeldig antwoord{paging} ({where}). Probeer het "
                "later opnieuw.")
    else:
        text = (f"{head}: het verzoek mislukte ({type(exc).__name__}, {where}). Controleer "
                f"de instelling {service.setting}.")
    return text + extra
