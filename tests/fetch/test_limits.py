"""Limits of a fetch (#11): a next link that repeats a page, too many pages, too many bytes."""

from __future__ import annotations

import re

import pytest
import requests

from tests.helpers import snapshot
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.pdok import download_layer, fetch_boundaries
from wijkkompas.fetch.stage import run_fetch


def fetch(settings, raw, refresh=True):
    return run_fetch(raw, settings, "GM0141", [2024], refresh=refresh, say=lambda _: None)


@pytest.fixture
def cached(settings, tmp_path):
    """A cache that already holds 2024, so a failing refresh has something to lose."""
    raw = tmp_path / "raw"
    fetch(settings, raw, refresh=False)
    return raw


def fails(settings, raw, match):
    before = snapshot(raw)
    with pytest.raises(WijkkompasError, match=match) as info:
        fetch(settings, raw)
    assert "\n" not in str(info.value)
    assert snapshot(raw) == before, "a stopped fetch must leave the cache as it was"
    return str(info.value)


def _shown(url: str, request: str) -> str:
    """A request as a message names it: host and path, and the page ($skip) only (#26)."""
    path, _, query = request.partition("?")
    skip = re.search(r"\$skip=\d+", query, flags=re.ASCII)
    return f"{url.removeprefix('http://')}{path}" + (f"?{skip.group()}" if skip else "")


def test_cbs_next_link_to_itself_is_stopped_at_once(settings, cached, cbs_server):
    cbs_server.self_links.add("TypedDataSet")
    cbs_server.requests.clear()
    message = fails(settings, cached, r"^CBS gaf geen bruikbaar "
                    r"antwoord bij tabel 85984NED \(2024\): de volgende pagina \(odata\.nextLink\) "
                    r"verwijst naar een pagina die al is opgehaald")
    assert "de cache is niet gewijzigd" in message
    # The first page's link to itself is refused before it is asked for again, and a
    # stopped series is not retried.
    assert sum("TypedDataSet" in r for r in cbs_server.requests) == 1


def test_cbs_next_link_to_itself_names_the_page(settings, cached, cbs_server):
    cbs_server.self_links.add("DataProperties")
    cbs_server.requests.clear()
    message = fails(settings, cached, "verwijst naar een pagina die al is opgehaald")
    assert f"({cbs_server.url[7:]}/ODataFeed/odata/85984NED/DataProperties" in message
    assert sum("DataProperties" in r for r in cbs_server.requests) == 1


def test_pdok_next_link_to_itself_is_stopped_at_once(settings, cached, pdok_server):
    pdok_server.self_link = True
    pdok_server.requests.clear()
    before = snapshot(cached / "geo")
    with pytest.raises(WijkkompasError) as info:
        fetch_boundaries(2024, "GM0141", cached, settings, None, refresh=True)
    message = str(info.value)
    assert message.startswith(
        "PDOK gaf geen bruikbaar antwoord bij laag 'wijken' van de wijk- "
        "en buurtkaart 2024: de volgende pagina (rel=next) verwijst naar een pagina die al is "
        "opgehaald")
    # The first page of wijken, and no more (the gemeente's outline was found before).
    items = [r for r in pdok_server.requests if "/items" in r]
    assert len(items) == 1 and "/collections/wijken/items" in items[0]
    assert snapshot(cached / "geo") == before


def test_pdok_next_link_back_to_an_earlier_page(settings, pdok_server):
    # Buurten come in pages starting at features 0, 30 and 60; the last links back to 30.
    pdok_server.loop_to = 30
    with requests.Session() as session, pytest.raises(
        WijkkompasError, match=r"laag 'buurten' .*: de volgende pagina \(rel=next\) verwijst "
        r"naar een pagina die al is opgehaald \(.*cursor=Hg%7C"):
        download_layer(settings, 2024, "buurten", "GM0141", session)
    pages = [r for r in pdok_server.requests if "collections/buurten/items" in r]
    assert len(pages) == 3
    assert "cursor=" not in pages[0] and all("cursor=" in r for r in pages[1:])


def test_too_many_cbs_pages(settings, cached, cbs_server):
    # DataProperties alone is 43 pages of four rows.
    cbs_server.requests.clear()
    message = fails(settings.changed(max_paginas=20), cached, r"meer dan 20 pagina's")
    assert "max_paginas (WIJKKOMPAS_MAX_PAGINAS)" in message
    # The catalogue is one page, the table stops at its 21st, and nothing is retried.
    assert len(cbs_server.requests) == 1 + 21
    assert f"(laatste: {_shown(cbs_server.url, cbs_server.requests[-1])})" in message


def test_too_many_pdok_pages(settings, cached, pdok_server):
    # 71 buurten in pages of 30 are three pages; wijken fit in one.
    pdok_server.requests.clear()
    with pytest.raises(WijkkompasError, match=r"laag 'buurten' .*: meer dan 2 pagina's"):
        fetch_boundaries(2024, "GM0141", cached, settings.changed(max_paginas=2), None,
                         refresh=True)
    assert sum("collections/buurten/items" in r for r in pdok_server.requests) == 3


def test_too_many_bytes(settings, cached, cbs_server):
    cbs_server.requests.clear()
    message = fails(settings.changed(max_mb=0.002), cached, r"meer dan 0\.002 MB")
    assert "max_mb (WIJKKOMPAS_MAX_MB)" in message
    assert f"(laatste: {_shown(cbs_server.url, cbs_server.requests[-1])})" in message


def test_within_the_limits_nothing_changes(settings, tmp_path):
    report = fetch(settings.changed(max_paginas=60, max_mb=1), tmp_path / "raw", refresh=False)
    assert report.tables[0].rows == 6
    assert report.boundaries[0].counts == {"wijken": 12, "buurten": 71}
