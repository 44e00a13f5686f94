"""The fetch stage against loopback servers that speak CBS's OData v3 and PDOK's OGC API."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import cbsodata
import cbsodata.cbsodata3
import geopandas as gpd
import pytest
import requests

from tests.helpers import snapshot
from tests.servers import Fault
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.cbs import gemeente_filter
from wijkkompas.fetch.cbs_client import call_cbs, cbs_session
from wijkkompas.fetch.stage import run_fetch


def fetch(settings, raw, years=(2023, 2024), gemeente="GM0141", refresh=False):
    return run_fetch(raw, settings, gemeente, list(years), refresh=refresh, say=lambda _: None)


def test_filter_selects_gemeente_wijken_and_buurten_with_padded_key():
    assert gemeente_filter("GM0141") == (
        "(WijkenEnBuurten eq 'GM0141    ') or substringof('WK0141',WijkenEnBuurten) "
        "or substringof('BU0141',WijkenEnBuurten)"
    )


def test_fetch_fills_raw_cache_as_cbsodata_saves_it(settings, tmp_path, cbs_server):
    raw = tmp_path / "raw"
    report = fetch(settings, raw)

    assert [t.status for t in report.tables] == ["opgehaald", "opgehaald"]
    table = raw / "cbs" / "85984NED"
    names = sorted(p.name for p in table.iterdir())
    assert names == ["CategoryGroups.json", "DataProperties.json", "TableInfos.json",
                     "TypedDataSet.json", "WijkenEnBuurten.json"]
    rows = json.loads((table / "TypedDataSet.json").read_text())
    codes = [row["WijkenEnBuurten"] for row in rows]
    # Only Almelo's rows, the keys padded as CBS sends them; Enschede is left out.
    assert codes == ["GM0141    ", "WK014110  ", "WK014115  ", "BU01411000", "BU01411001",
                     "BU01411500"]
    # The dataset was served in pages of four: the nextLink chain was followed.
    assert any("TypedDataSet/?$format=json&$skip=4" in r for r in cbs_server.requests)
    # DataProperties are CBS's real metadata of 85984NED, unchanged.
    props = json.loads((table / "DataProperties.json").read_text())
    assert len(props) == 172 and props[0]["Key"] == "WijkenEnBuurten"
    # A secret value stays null, never zero.
    by_code = {row["WijkenEnBuurten"].strip(): row for row in rows}
    assert by_code["BU01411500"]["Mannen_6"] is None

    manifest = json.loads((raw / "manifest.json").read_text())
    entry = manifest["cbs"]["85984NED"]
    assert entry["jaar"] == 2024 and entry["gemeente"] == "GM0141"
    assert entry["modified"] == "2025-03-27T02:00:00"
    assert entry["gevonden_via"] == "catalogus"
    assert entry["files"]["TypedDataSet.json"]["rows"] == 6
    assert len(entry["files"]["TypedDataSet.json"]["sha256"]) == 64
    assert manifest["cbs"]["85618NED"]["files"]["TypedDataSet.json"]["rows"] == 3


def test_boundaries_are_kept_in_rd_new(settings, tmp_path):
    raw = tmp_path / "raw"
    fetch(settings, raw, years=[2024])
    gpkg = raw / "geo" / "wijkenbuurten_2024.gpkg"
    buurten = gpd.read_file(gpkg, layer="buurten")
    wijken = gpd.read_file(gpkg, layer="wijken")
    assert buurten.crs.to_epsg() == 28992
    assert len(buurten) == 71 and len(wijken) == 12
    assert set(buurten["gemeentecode"]) == {"GM0141"}
    # The area of the 71 buurten is Almelo's 6941 ha (the CBS figure OPP_TOT).
    assert buurten.area.sum() / 10_000 == pytest.approx(6941, abs=2)
    manifest = json.loads((raw / "manifest.json").read_text())
    assert manifest["geo"]["2024"]["counts"] == {"wijken": 12, "buurten": 71}


def test_second_run_makes_no_request(settings, tmp_path, cbs_server, pdok_server):
    raw = tmp_path / "raw"
    fetch(settings, raw)
    before = snapshot(raw)
    cbs_server.requests.clear()
    pdok_server.requests.clear()

    report = fetch(settings, raw)

    assert cbs_server.requests == [] and pdok_server.requests == []
    assert {t.status for t in report.tables} == {"actueel"}
    assert {g.status for g in report.boundaries} == {"actueel"}
    assert snapshot(raw) == before


def test_damaged_cache_file_is_fetched_again(settings, tmp_path, cbs_server):
    raw = tmp_path / "raw"
    fetch(settings, raw, years=[2024])
    dataset = raw / "cbs" / "85984NED" / "TypedDataSet.json"
    good = dataset.read_bytes()
    dataset.write_text("[]")
    cbs_server.requests.clear()
    report = fetch(settings, raw, years=[2024])
    # The cache held the table, though damaged: it is replaced ("ververst"), and the damaged
    # version is kept in the archive like any earlier version.
    result = report.tables[0]
    assert result.status == "ververst" and result.rows == 6
    assert sum("TypedDataSet" in r for r in cbs_server.requests) == 2  # two pages of four
    assert dataset.read_bytes() == good
    assert (result.archived / "TypedDataSet.json").read_text() == "[]"
    manifest = json.loads((raw / "manifest.json").read_text())
    entry = manifest["cbs"]["85984NED"]["files"]["TypedDataSet.json"]
    assert entry["rows"] == 6
    assert entry["sha256"] == __import__("hashlib").sha256(good).hexdigest()
    # Repaired, the cache is current again: a third run asks nothing.
    cbs_server.requests.clear()
    assert fetch(settings, raw, years=[2024]).tables[0].status == "actueel"
    assert cbs_server.requests == []


def test_refresh_reports_changes_and_keeps_earlier_version(settings, tmp_path, cbs_server):
    raw = tmp_path / "raw"
    fetch(settings, raw, years=[2024])
    old = (raw / "cbs" / "85984NED" / "TypedDataSet.json").read_bytes()
    table = cbs_server.tables["85984ned"]
    table.rows[0]["AantalInwoners_5"] = 74100  # corrected
    table.rows[4]["GemiddeldeWOZWaardeVanWoningen_39"] = 205.0  # delivered later
    table.rows[1]["HuishoudensTotaal_29"] = None  # withdrawn

    report = fetch(settings, raw, years=[2024], refresh=True)

    result = report.tables[0]
    assert result.status == "ververst"
    changes = {(c.gebiedscode, c.variabele): (c.soort, c.oud, c.nieuw)
               for c in result.changes.changes}
    assert changes == {
        ("GM0141", "AantalInwoners_5"): ("gewijzigd", 74000, 74100),
        ("BU01411001", "GemiddeldeWOZWaardeVanWoningen_39"): ("toegevoegd", None, 205.0),
        ("WK014110", "HuishoudensTotaal_29"): ("verwijderd", 3900, None),
    }
    csv_lines = result.changes.path.read_text().splitlines()
    assert csv_lines[0] == "tabel,gebiedscode,variabele,soort,oud,nieuw"
    assert "85984NED,GM0141,AantalInwoners_5,gewijzigd,74000,74100" in csv_lines
    # The earlier raw version is kept, byte for byte.
    assert (result.archived / "TypedDataSet.json").read_bytes() == old
    assert result.archived.parent == raw / "archive" / "cbs" / "85984NED"


def test_refresh_without_changes_says_so(settings, tmp_path):
    raw = tmp_path / "raw"
    fetch(settings, raw, years=[2024])
    report = fetch(settings, raw, years=[2024], refresh=True)
    assert report.tables[0].changes.changes == []
    assert "0 waarden toegevoegd, 0 gewijzigd, 0 verwijderd" in report.lines()[0]


def test_catalogue_without_the_year_falls_back_to_builtin_list(settings, tmp_path, cbs_server):
    # A mirror whose catalogue does not list the table still serves it.
    cbs_server.faults.append(Fault("/ODataCatalog/", "status", status=404))
    raw = tmp_path / "raw"
    report = fetch(settings, raw, years=[2024])
    assert report.tables[0].ref.table_id == "85984NED"
    assert report.tables[0].ref.bron == "ingebouwde lijst"


def test_transient_server_error_is_retried(settings, tmp_path, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet", "status", status=503, times=2))
    report = fetch(settings, tmp_path / "raw", years=[2024])
    assert report.tables[0].status == "opgehaald"
    assert sum("TypedDataSet" in r for r in cbs_server.requests) >= 3


def test_cbs_pages_are_counted_by_a_session_hook(settings, tmp_path, cbs_server):
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    cbs_server.faults.append(Fault("TypedDataSet", "status", status=503, times=1))
    with cbs_session(settings, "CBS test") as (point, counter):
        assert (root.level, root.handlers) == before  # the root logger is left alone
        call_cbs(lambda: cbsodata.download_data(
            "85984NED", dir=str(tmp_path), filters=gemeente_filter("GM0141"),
            catalog_url=point.catalog_url, **point.request_kwargs), settings, "tabel", counter)
    # Every answered page is counted; the one 503 answer is not a page.
    assert counter.pages == len(cbs_server.requests) - 1
    assert sum("TypedDataSet" in r for r in cbs_server.requests) == 3  # 503, then two pages
    assert counter.last_url == cbs_server.url + cbs_server.requests[-1]
    assert cbsodata.cbsodata3.Session is requests.Session  # restored after the session


def test_loopback_is_reached_directly_when_a_proxy_is_set(settings, tmp_path, monkeypatch):
    # Port 9 on loopback answers nothing: were the proxy used, the fetch would fail.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    report = fetch(settings, tmp_path / "raw", years=[2024])
    assert report.tables[0].rows == 6


# --------------------------------------------------------------------------- faults


def _geo_state(raw):
    manifest = json.loads((raw / "manifest.json").read_text())
    return snapshot(raw / "geo"), manifest["geo"]


def _fails(settings, raw, match, geo_only=False, **kwargs):
    """Run a fetch that must fail; the cache (for PDOK faults: its boundaries) is unchanged.

    A PDOK fault comes after the CBS tables of the run were stored; those stay, complete.
    """
    state = _geo_state if geo_only else snapshot
    before = state(raw)
    with pytest.raises(WijkkompasError, match=match) as info:
        fetch(settings, raw, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert state(raw) == before, "a failed fetch must leave the cache as it was"
    assert not (raw / ".staging").exists() or not any((raw / ".staging").iterdir())
    return message


@pytest.fixture
def cached(settings, tmp_path):
    """A cache that already holds 2024, so a failing refresh has something to lose."""
    raw = tmp_path / "raw"
    fetch(settings, raw, years=[2024])
    return raw


def test_cbs_unreachable(settings, cached):

    dead = settings.changed(cbs_url="http://127.0.0.1:9")
    message = _fails(dead, cached, r"CBS was onbereikbaar voor .*, of de verbinding brak af .*"
                     r"\(127\.0\.0\.1:9/",
                     years=[2024], refresh=True)
    assert "WIJKKOMPAS_CBS_URL" in message


def test_cbs_timing_out(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet", "hang", seconds=2.5))
    message = _fails(settings, cached, "geen antwoord binnen 1 s", years=[2024], refresh=True)
    assert "na 3 pogingen" in message


def test_cbs_server_error(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet", "status", status=500))
    cbs_server.requests.clear()
    message = _fails(settings, cached, r"HTTP 500", years=[2024], refresh=True)
    assert "tabel 85984NED (2024)" in message
    assert "na 3 pogingen" in message
    assert sum("TypedDataSet" in r for r in cbs_server.requests) == 3  # one try and two retries


def test_truncated_json(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("DataProperties", "truncate"))
    _fails(settings, cached, "onvolledig of ongeldig antwoord", years=[2024], refresh=True)


def test_paging_chain_breaking_midway(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet/?$format=json&$skip=4", "status", status=502))
    message = _fails(settings, cached, r"halverwege de reeks pagina's \(odata.nextLink\)",
                     years=[2024], refresh=True)
    assert "skip=4" in message


def test_paging_chain_dropped_connection(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet/?$format=json&$skip=4", "drop"))
    message = _fails(settings, cached, "CBS", years=[2024], refresh=True)
    assert message.startswith(
        "CBS was onbereikbaar voor tabel 85984NED (2024), of de verbinding brak af "
        "halverwege de reeks pagina's (odata.nextLink) na 3 pogingen "
        f"({settings.cbs_url[7:]}/ODataFeed/OData/85984NED/TypedDataSet/?$skip=4). ")
    assert "WIJKKOMPAS_CBS_URL" in message and "\n" not in message
    assert message.endswith("Draai hem opnieuw om alles te verversen.")


def test_a_page_dropped_midway_is_asked_again_not_the_whole_series(settings, cached,
                                                                   cbs_server):
    """#26: "na 3 pogingen" while 3 x the whole series was sent; now the failing page is
    tried again by itself: the first page once, the second three times."""
    cbs_server.faults.append(Fault("TypedDataSet/?$format=json&$skip=4", "drop"))
    cbs_server.requests.clear()
    message = _fails(settings, cached, "CBS", years=[2024], refresh=True)
    assert "na 3 pogingen" in message
    pages = [r for r in cbs_server.requests if "TypedDataSet" in r]
    assert len(pages) == 4, pages
    assert sum("skip=4" in r for r in pages) == 3


def test_a_page_that_fails_once_costs_one_request_more(settings, cached, cbs_server):
    cbs_server.faults.append(Fault("TypedDataSet/?$format=json&$skip=4", "drop", times=1))
    cbs_server.requests.clear()
    fetch(settings, cached, years=[2024], refresh=True)
    assert sum("TypedDataSet" in r for r in cbs_server.requests) == 3  # 1, 2 (dropped), 2


def test_unknown_gemeente(settings, cached):
    message = _fails(settings, cached, "Gemeentecode GM9999 komt niet voor in CBS-tabel 85984NED",
                     years=[2024], gemeente="GM9999")
    assert "GM0141" in message


def test_malformed_gemeente_code_makes_no_request(settings, cached, cbs_server):
    cbs_server.requests.clear()
    _fails(settings, cached, "Ongeldige gemeentecode 'Almelo'", years=[2024], gemeente="Almelo")
    assert cbs_server.requests == []


def test_year_with_no_table(settings, cached):
    _fails(settings, cached, "Geen CBS-tabel 'Kerncijfers wijken en buurten 2031'",
           years=[2031])


def test_year_whose_table_the_server_lacks(settings, cached):
    # 2022 is in the built-in list (85318NED) but the server does not have it.
    _fails(settings, cached, r"CBS kent tabel 85318NED \(2022\) niet",
           years=[2022])


def test_missing_pdok_layer(settings, cached, pdok_server):
    del pdok_server.layers[(2023, "wijken")]
    message = _fails(settings, cached, r"PDOK kent laag 'wijken' van de "
                     r"wijk- en buurtkaart 2023 niet \(HTTP 404", years=[2023], geo_only=True)
    assert "WIJKKOMPAS_PDOK_URL" in message


def test_pdok_truncated_answer(settings, cached, pdok_server):
    pdok_server.faults.append(Fault("buurten", "truncate"))
    _fails(settings, cached, "PDOK .* onvolledig of ongeldig antwoord", years=[2024],
           refresh=True, geo_only=True)


def test_pdok_unreachable(settings, cached):

    dead = settings.changed(pdok_url="http://127.0.0.1:9")
    _fails(dead, cached, r"PDOK was onbereikbaar voor .* \(127\.0\.0\.1:9/", years=[2024],
           refresh=True, geo_only=True)


def test_pdok_is_asked_only_what_gokoala_accepts(settings, tmp_path, pdok_server):
    """PDOK (GoKoala) answers 400 to a parameter it does not know, such as gemeentecode on a
    collection without that queryable: the gemeente is chosen by bbox and then by code, so
    Borne's buurt in the same bbox and Enschede's outside it are never stored."""
    import requests as http

    from tests.servers import KNOWN_PARAMS

    refused = http.get(f"{pdok_server.url}/cbs/wijken-en-buurten-2024/ogc/v1/collections/"
                       "buurten/items?gemeentecode=GM0141", timeout=5)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "unknown query parameter(s) found: gemeentecode"
    pdok_server.requests.clear()
    fetch(settings, tmp_path / "raw", years=[2024])
    buurten = gpd.read_file(tmp_path / "raw" / "geo" / "wijkenbuurten_2024.gpkg", layer="buurten")
    assert len(buurten) == 71 and set(buurten["gemeentecode"]) == {"GM0141"}
    items = [r for r in pdok_server.requests if "/items" in r]
    assert items
    for request in items:
        query = parse_qs(urlsplit(request).query)
        assert set(query) <= KNOWN_PARAMS, request
    assert all("bbox=" in r for r in items if "/buurten/" in r or "/wijken/" in r)


def test_boundaries_only_for_the_years_pdok_serves(settings, tmp_path, pdok_server):

    # With PDOK's other services switched off, only the per-year services are asked.
    report = fetch(settings.changed(grenzen_jaren="2024-2030", pdok_historisch_pad="",
                           pdok_gebiedsindelingen_pad=""), tmp_path / "raw")
    assert [t.ref.jaar for t in report.tables] == [2023, 2024]
    assert [g.jaar for g in report.boundaries] == [2024]
    assert not any("wijken-en-buurten-2023" in r for r in pdok_server.requests)


def test_every_request_names_wijkkompas_and_its_version(settings, tmp_path, cbs_server,
                                                       politie_server, pdok_server):
    """CBS, the Politie host and PDOK see who asks: one User-Agent for every request,
    also for the pages cbsodata prepares itself."""
    from wijkkompas import __version__

    fetch(settings, tmp_path / "raw", years=[2024])
    agents = cbs_server.agents + politie_server.agents + pdok_server.agents
    assert len(agents) > 10
    assert {a.split(" ")[0] for a in agents} == {f"wijkkompas/{__version__}"}
