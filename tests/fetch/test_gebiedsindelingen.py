"""Boundaries of years outside grenzen_jaren from PDOK's CBS Gebiedsindelingen, served by a
loopback GoKoala (tests/servers.py) as PDOK serves it: one collection per level for every
year, features with statcode, statnaam, jaarcode, jrstatcode and rubriek, neighbouring
gemeenten in the same collection, 400 for any parameter it does not know, cursor pages.
The historical wijken-en-buurten service is absent (HTTP 404)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pytest

from tests.fixtures.geo import almelo_2015_layers, almelo_layers, as_gebiedsindelingen
from tests.fixtures.kwb import table_2023, table_2024
from tests.fixtures.politie import table_47018
from tests.servers import KNOWN_PARAMS, CbsServer, OgcApiServer, OgcCollection
from wijkkompas.errors import NotPublished
from wijkkompas.fetch.stage import run_fetch
from wijkkompas.settings import Settings

GEBIEDEN = "/cbs/gebiedsindelingen/ogc/v1"
YEARS = (2016, 2017, 2018, 2019, 2020, 2021, 2022)


def _level(year: int, layer: str) -> list[dict]:
    if year < 2021:
        features = almelo_2015_layers()[layer]
        if layer != "gemeenten":
            features = features + almelo_layers([2021])[(2021, layer)][-2:]  # the neighbours
        return features
    return almelo_layers([year])[(year, layer)]


def _gemeenten(year: int) -> list[dict]:
    return almelo_layers([2021])[(2021, "gemeenten")]


def gebiedsindelingen(*, datetime_only: bool = False) -> list[OgcCollection]:
    """gemeente_, wijk_ and buurt_gegeneraliseerd holding 2016-2022 (and other kinds)."""
    kinds = {"gemeente_gegeneraliseerd": _gemeenten,
             "wijk_gegeneraliseerd": lambda y: _level(y, "wijken"),
             "buurt_gegeneraliseerd": lambda y: _level(y, "buurten")}
    collections = [OgcCollection("provincie_gegeneraliseerd", "Provincies", [], years=YEARS,
                                 year_property="jaarcode")]
    for name, make in kinds.items():
        features = [f for year in YEARS for f in as_gebiedsindelingen(make(year), year)]
        collections.append(OgcCollection(name, name.replace("_", " ").capitalize(), features,
                                         years=YEARS, year_property="jaarcode",
                                         datetime_only=datetime_only))
    return collections


def per_year() -> dict[str, list[OgcCollection]]:
    services = {}
    for year in (2023, 2024):
        layers = almelo_layers([year])
        services[f"/cbs/wijken-en-buurten-{year}/ogc/v1"] = [
            OgcCollection(layer, layer.capitalize(), layers[(year, layer)])
            for layer in ("gemeenten", "wijken", "buurten")]
    return services


@pytest.fixture
def cbs():
    from tests.fetch.test_grenzen_historisch import _kwb_table

    server = CbsServer([_kwb_table(2022), table_2023(), table_2024(), table_47018()],
                       page_size=50).start()
    yield server
    server.stop()


def _start(**kwargs) -> OgcApiServer:
    return OgcApiServer({**per_year(), GEBIEDEN: gebiedsindelingen(**kwargs)},
                        page_size=30).start()


def _settings(cbs_server, pdok_server) -> Settings:
    return Settings(cbs_url=cbs_server.url, politie_url=cbs_server.url,
                    pdok_url=pdok_server.url, timeout=1.0, retries=1, backoff=0.0)


def _items(server: OgcApiServer) -> list[tuple[str, dict[str, str]]]:
    out = []
    for request in server.requests:
        url = urlsplit(request)
        if url.path.endswith("/items"):
            out.append((url.path, {k: v[0] for k, v in parse_qs(url.query).items()}))
    return out


@pytest.mark.parametrize("datetime_only", [False, True])
def test_a_year_outside_grenzen_jaren_comes_from_gebiedsindelingen(cbs, tmp_path, datetime_only):
    pdok = _start(datetime_only=datetime_only)
    try:
        raw = tmp_path / "raw"
        lines: list[str] = []
        report = run_fetch(raw, _settings(cbs, pdok), "GM0141", [2022, 2023], say=lines.append)
    finally:
        pdok.stop()
    # 2024 too: the Politie table's indeling, for the crime rates.
    assert [g.jaar for g in report.boundaries] == [2022, 2023, 2024]
    entry = json.loads((raw / "manifest.json").read_text())["geo"]["2022"]
    assert entry["grenzenbron"] == "PDOK Gebiedsindelingen"
    assert entry["dienst"] == f"{pdok.url}{GEBIEDEN}"
    assert entry["counts"] == {"wijken": 12, "buurten": 71}
    expected = "datetime" if datetime_only else "jaarcode"
    assert entry["jaarkeuze"] == {"wijken": expected, "buurten": expected}
    assert ("PDOK wijk- en buurtkaart 2022: opgehaald, 12 wijken, 71 buurten (bron: PDOK "
            "Gebiedsindelingen)") in lines

    # The year's 71 buurten of Almelo and nothing of Borne, whose buurt lies in the same bbox.
    buurten = gpd.read_file(raw / "geo" / "wijkenbuurten_2022.gpkg", layer="buurten")
    assert len(buurten) == 71 and buurten.crs.to_epsg() == 28992
    assert buurten["buurtcode"].str.startswith("BU0141").all()
    assert set(buurten["gemeentecode"]) == {"GM0141"}
    assert set(buurten["jaarcode"]) == {2022}
    assert (buurten["wijkcode"] == "WK" + buurten["buurtcode"].str[2:8]).all()
    wijken = gpd.read_file(raw / "geo" / "wijkenbuurten_2022.gpkg", layer="wijken")
    assert len(wijken) == 12 and wijken["wijkcode"].str.startswith("WK0141").all()

    items = _items(pdok)
    # Every request is one GoKoala accepts: its own parameters and the queryables only.
    for path, query in items:
        assert set(query) <= KNOWN_PARAMS | {"jaarcode"}, (path, query)
        assert query.get("crs") == "http://www.opengis.net/def/crs/EPSG/0/28992"
    buurt_pages = [q for p, q in items
                   if p == f"{GEBIEDEN}/collections/buurt_gegeneraliseerd/items"]
    # 71 buurten of Almelo and Borne's one within the bbox: three pages of 30 by cursor.
    assert len(buurt_pages) == 3
    assert "cursor" not in buurt_pages[0] and all("cursor" in q for q in buurt_pages[1:])
    assert all(q["bbox-crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
               for q in buurt_pages)
    if datetime_only:
        assert all(q["datetime"] == "2022-07-01T00:00:00Z" for q in buurt_pages)
    else:
        assert all(q["jaarcode"] == "2022" for q in buurt_pages)
    # Gebiedsindelingen's /queryables was read before filtering on it.
    assert f"{GEBIEDEN}/collections/buurt_gegeneraliseerd/queryables?f=json" in pdok.requests
    # The per-year service of 2023 was asked without any filter it does not have.
    per_year_pages = [q for p, q in items if p.startswith("/cbs/wijken-en-buurten-2023/")]
    assert per_year_pages and all("gemeentecode" not in q for q in per_year_pages)
    # The historical wijken-en-buurten service was never needed.
    assert not any("wijken-en-buurten-historisch" in r for r in pdok.requests)


def test_a_year_no_service_holds_is_a_permanent_miss(cbs, tmp_path):
    """2014 is neither in CBS's catalogue nor in the built-in list: the fetch stops with it;
    a run (keep_going) records it, fetches the rest and fetches no boundaries of 2014."""
    from wijkkompas.fetch.cbs import KNOWN_TABLES

    pdok = _start()
    try:
        settings = _settings(cbs, pdok)
        with pytest.raises(NotPublished, match="2014"):
            run_fetch(tmp_path / "a", settings, "GM0141", [2014])
        assert 2014 not in KNOWN_TABLES
        report = run_fetch(tmp_path / "b", settings, "GM0141", [2014, 2023], keep_going=True,
                           say=lambda _: None)
    finally:
        pdok.stop()
    assert [m.what for m in report.missing] == ["CBS 2014"]
    assert [t.ref.jaar for t in report.tables] == [2023]
    assert [g.jaar for g in report.boundaries] == [2023, 2024]
    assert "wijkkompas import BESTAND --jaar 2014" in report.missing[0].fill


def test_boundaries_no_service_holds_are_recorded(cbs, tmp_path):
    """A CBS table of 2019 but no service with the boundaries of 2019."""
    from tests.fetch.test_grenzen_historisch import _kwb_table

    server = CbsServer([_kwb_table(2019), table_2023(), table_47018()], page_size=50).start()
    pdok = OgcApiServer(per_year(), page_size=30).start()  # no Gebiedsindelingen at all
    try:
        settings = _settings(server, pdok)
        report = run_fetch(tmp_path / "raw", settings, "GM0141", [2019, 2023], keep_going=True,
                           say=lambda _: None)
    finally:
        pdok.stop()
        server.stop()
    assert [t.ref.jaar for t in report.tables] == [2019, 2023]
    assert [m.what for m in report.missing] == ["grenzen 2019"]
    reason = report.missing[0].reason
    assert "Gebiedsindelingen" in reason and "historische" in reason
    assert "wijkkompas import BESTAND --jaar 2019" in report.missing[0].fill
    assert [g.jaar for g in report.boundaries] == [2023, 2024]


def test_a_per_year_service_that_is_not_there_yet_falls_back_to_gebiedsindelingen(cbs, tmp_path):
    """grenzen_jaren names 2022, but PDOK has no wijken-en-buurten-2022 (HTTP 404): the year
    comes from Gebiedsindelingen, which holds it."""

    pdok = _start()
    try:
        settings = _settings(cbs, pdok).changed(grenzen_jaren="2022-2030")
        report = run_fetch(tmp_path / "raw", settings, "GM0141", [2022], say=lambda _: None)
    finally:
        pdok.stop()
    assert report.boundaries[0].jaar == 2022
    assert report.boundaries[0].manifest_entry["grenzenbron"] == "PDOK Gebiedsindelingen"
    assert report.boundaries[0].counts == {"wijken": 12, "buurten": 71}
    assert any(r.startswith("/cbs/wijken-en-buurten-2022/") for r in pdok.requests)


def test_the_summary_of_a_run_names_what_is_missing():
    from wijkkompas.fetch.stage import Missing
    from wijkkompas.pipeline import RunResult

    assert RunResult().summary() == []
    one = RunResult([Missing("grenzen 2019", "geen dienst", "importeer X")], "wijkkompas run")
    assert one.summary() == [
        "Niet compleet: grenzen 2019 ontbreekt; wat er wel is, is gebouwd en geëxporteerd.",
        "- grenzen 2019: importeer X.",
        "Of draai later dezelfde opdracht opnieuw: wijkkompas run"]
