"""Boundaries for every year: PDOK's per-year services and its historical service.

Loopback OGC API Features servers (tests/servers.py:OgcApiServer) serve the real Almelo
geometry of ../shared/data: the 2015 buurt indeling (68 buurten) for 2017-2020 and the
2021 indeling (71 buurten) from 2021 on. The historical service is offered in the two
shapes PDOK could use: one collection per year, or one collection with a year property.
"""

from __future__ import annotations

import json
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pytest

from tests.fixtures.geo import almelo_2015_layers, almelo_layers
from tests.fixtures.kwb import SHARED, _regions, _rows, table_2023, table_2024
from tests.fixtures.politie import table_47018
from tests.helpers import snapshot
from tests.servers import CRS84, CbsServer, CbsTable, Fault, OgcApiServer, OgcCollection
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.cbs import KNOWN_TABLES
from wijkkompas.fetch.stage import run_fetch
from wijkkompas.settings import Settings, load_settings

HISTORISCH = "/cbs/wijken-en-buurten-historisch/ogc/v1"
YEARS = list(range(2017, 2025))
OLD_INDELING = range(2017, 2021)  # Almelo's buurten as in 2015; redrawn in 2021


def _kwb_table(year: int) -> CbsTable:
    """A KWB table of ``year`` in 2023's format: the gemeente and all its buurten, with the
    real inhabitant counts of the wijk- en buurtkaart of that indeling (2015 or 2021)."""
    if year in OLD_INDELING:
        kaart = pd.read_csv(SHARED / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv")
        buurten = list(zip(kaart.BU_CODE, kaart.BU_NAAM, kaart.AANT_INW, strict=True))
    else:
        kaart = pd.read_csv(SHARED / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv")
        buurten = list(zip(kaart.buurtcode, kaart.buurtnaam, kaart.aantal_inw, strict=True))
    areas = [("GM0141", "Almelo", "Gemeente", int(sum(n for *_, n in buurten)), None, None,
              None)]
    areas += [(code, name, "Buurt", int(n), None, None, None) for code, name, n in buurten]
    template = table_2023()
    table_id = KNOWN_TABLES[year]
    infos = [{**template.table_infos[0], "Title": f"Kerncijfers wijken en buurten {year}",
              "ShortTitle": f"Kerncijfers wijken en buurten {year}", "Identifier": table_id,
              "Period": str(year)}]
    topics = [p["Key"] for p in template.data_properties if p["Type"] == "Topic"]
    keys = {"naam": "Gemeentenaam_1", "soort": "SoortRegio_2", "code": "Codering_3",
            "indeling": "IndelingswijzigingGemeenteWijkBuurt_4",
            "inwoners": "AantalInwoners_5", "mannen": "Mannen_6", "vrouwen": "Vrouwen_7",
            "huishoudens": "HuishoudensTotaal_28", "woz": "GemiddeldeWOZWaardeVanWoningen_35"}
    return CbsTable(table_id, infos, template.data_properties, _regions(areas),
                    _rows(areas, keys, topics))


def _geometry(year: int) -> dict[str, list[dict]]:
    if year in OLD_INDELING:
        return almelo_2015_layers()
    layers = almelo_layers([year])
    return {"wijken": layers[(year, "wijken")], "buurten": layers[(year, "buurten")]}


def per_year_collections(years: list[int]) -> dict[str, list[OgcCollection]]:
    """PDOK's per-year services: cbs/wijken-en-buurten-<jaar>/ogc/v1, collections wijken and
    buurten (and gemeenten)."""
    services = {}
    for year in years:
        geo = _geometry(year)
        services[f"/cbs/wijken-en-buurten-{year}/ogc/v1"] = [
            OgcCollection("gemeenten", "Gemeenten", almelo_layers([year])[(year, "gemeenten")]),
            OgcCollection("wijken", "Wijken", geo["wijken"]),
            OgcCollection("buurten", "Buurten", geo["buurten"]),
        ]
    return services


def named_collections(years: list[int]) -> list[OgcCollection]:
    """A historical service with one collection per level and year, e.g. buurten_2019."""
    collections = []
    for year in years:
        geo = _geometry(year)
        collections += [
            OgcCollection(f"gemeenten_{year}", f"Gemeenten {year}", [], years=(year,)),
            OgcCollection(f"wijken_{year}", f"Wijken {year}", geo["wijken"], years=(year,)),
            OgcCollection(f"buurten_{year}", f"Buurten {year}", geo["buurten"], years=(year,)),
        ]
    return collections


def property_collections(years: list[int]) -> list[OgcCollection]:
    """A historical service with one collection per level holding all years, selected with
    the queryable ``jaarcode``."""
    features: dict[str, list[dict]] = {"wijken": [], "buurten": []}
    for year in years:
        for layer, items in _geometry(year).items():
            features[layer] += [{**f, "properties": {**f["properties"], "jaarcode": year}}
                                for f in items]
    return [OgcCollection(layer, f"CBS {layer} historisch", items, years=tuple(years),
                          year_property="jaarcode") for layer, items in features.items()]


@pytest.fixture(scope="module")
def kwb_tables():
    return [_kwb_table(year) for year in range(2017, 2023)] + [table_2023(), table_2024()]


@pytest.fixture
def cbs(kwb_tables):
    # The Politie table is served by the same loopback host (politie_url points there too).
    server = CbsServer([*kwb_tables, table_47018()], page_size=50).start()
    yield server
    server.stop()


def _start(historisch: list[OgcCollection]) -> OgcApiServer:
    services = {**per_year_collections([2023, 2024]), HISTORISCH: historisch}
    return OgcApiServer(services, page_size=30).start()


@pytest.fixture
def pdok():
    server = _start(named_collections(list(range(2017, 2023))))
    yield server
    server.stop()


def _settings(cbs_server, pdok_server) -> Settings:
    return Settings(cbs_url=cbs_server.url, politie_url=cbs_server.url,
                    pdok_url=pdok_server.url, timeout=1.0, retries=2, backoff=0.0)


def fetch(settings, raw, years, refresh=False):
    lines: list[str] = []
    report = run_fetch(raw, settings, "GM0141", list(years), refresh=refresh, say=lines.append)
    return report, lines


def _manifest(raw):
    return json.loads((raw / "manifest.json").read_text())


# --------------------------------------------------------------------------- end to end


def test_every_year_gets_boundaries_and_the_build_compares_across_2021(cbs, pdok, tmp_path):
    from wijkkompas.fetch.report import boundary_sources, manifest_overview
    from wijkkompas.indicatoren.stage import run_build

    data = tmp_path / "data"
    raw = data / "raw"
    report, lines = fetch(_settings(cbs, pdok), raw, YEARS)

    assert [g.jaar for g in report.boundaries] == YEARS
    geo = _manifest(raw)["geo"]
    assert sorted(geo) == [str(y) for y in YEARS]
    for year in YEARS:
        entry = geo[str(year)]
        expected = "PDOK historisch" if year < 2023 else "PDOK per jaar"
        assert entry["grenzenbron"] == expected
        assert entry["counts"] == {"wijken": 12, "buurten": 68 if year in OLD_INDELING else 71}
        gpkg = raw / "geo" / f"wijkenbuurten_{year}.gpkg"
        buurten = gpd.read_file(gpkg, layer="buurten")
        assert buurten.crs.to_epsg() == 28992
        assert set(buurten["gemeentecode"]) == {"GM0141"}
    assert geo["2019"]["collecties"] == {"wijken": "wijken_2019", "buurten": "buurten_2019"}
    assert geo["2019"]["dienst"] == f"{pdok.url}{HISTORISCH}"
    assert "PDOK wijk- en buurtkaart 2019: opgehaald, 12 wijken, 68 buurten " \
           "(bron: PDOK historisch)" in lines
    assert "PDOK wijk- en buurtkaart 2024: opgehaald, 12 wijken, 71 buurten " \
           "(bron: PDOK per jaar)" in lines

    # Years before 2023 never went to a per-year service; the historical items were asked
    # for in RD New, and the 68 buurten came in pages of 30 linked by rel=next.
    assert not any(f"wijken-en-buurten-{y}/" in r for r in pdok.requests for y in range(2017, 2023))
    items = [r for r in pdok.requests
             if r.startswith(f"{HISTORISCH}/collections/buurten_2019/items")]
    assert len(items) == 3
    assert all("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F28992" in r
               for r in items)
    assert "cursor=" not in items[0] and all("cursor=" in r for r in items[1:])

    overview = manifest_overview(data)
    grenzen = overview[overview["soort"] == "grenzen"].set_index("jaar")
    assert grenzen.loc[2019, "bron"] == "PDOK historisch"
    assert grenzen.loc[2024, "bron"] == "PDOK per jaar"
    per_year = boundary_sources(data)
    assert per_year.jaar.tolist() == YEARS
    assert per_year.grenzen.tolist() == ["PDOK historisch"] * 6 + ["PDOK per jaar"] * 2
    assert per_year.bestand.tolist() == [f"wijkenbuurten_{y}.gpkg" for y in YEARS]

    result = run_build(data, say=lambda _: None)
    assert result.target_indeling == 2024
    verdicts = pd.read_csv(data / "processed" / "indelingen.csv")
    buurt_verdicts = verdicts[verdicts.gebiedscode.str.startswith("BU")]
    # Across 2021: a reused code is another area, a new code is new ...
    before = buurt_verdicts[buurt_verdicts.vergeleken_met == 2020].set_index("gebiedscode")
    assert len(before) == 71
    assert before.loc["BU01411105", "oordeel"] == "grens gewijzigd"
    assert before.loc["BU01411203", "oordeel"] == "nieuw"
    # ... while from 2021 on the real boundaries are the same.
    for year in (2021, 2022, 2023):
        after = buurt_verdicts[buurt_verdicts.vergeleken_met == year]
        assert len(after) == 71 and set(after.oordeel) == {"gelijk"}
        assert after.overlap.min() == pytest.approx(1.0)

    # The 2020 buurt figures are carried onto the 71 buurten of 2024; nothing is lost.
    table = result.table
    carried = table[(table.jaar == 2020) & (table.indeling == 2024) & (table.niveau == "buurt")
                    & (table.indicator == "inwoners")]
    kaart = pd.read_csv(SHARED / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv")
    assert len(carried) == 71 and set(carried.status) == {"berekend"}
    assert carried.waarde.sum() == pytest.approx(kaart.AANT_INW.sum())

    # A second run asks nothing of either service.
    cbs.requests.clear()
    pdok.requests.clear()
    again, _ = fetch(_settings(cbs, pdok), raw, YEARS)
    assert {g.status for g in again.boundaries} == {"actueel"}
    assert cbs.requests == [] and pdok.requests == []


@pytest.mark.parametrize("queryables", [True, False])
def test_a_service_with_a_year_property(cbs, tmp_path, queryables):
    server = _start(property_collections(list(range(2017, 2023))))
    if not queryables:
        # Without /queryables the year property is read from a first item.
        server.faults.append(Fault("/queryables", "status", status=404))
    try:
        raw = tmp_path / "raw"
        fetch(_settings(cbs, server), raw, [2019, 2021])
        geo = _manifest(raw)["geo"]
        assert geo["2019"]["counts"] == {"wijken": 12, "buurten": 68}
        assert geo["2021"]["counts"] == {"wijken": 12, "buurten": 71}
        assert geo["2019"]["collecties"] == {"wijken": "wijken", "buurten": "buurten"}
        assert geo["2019"]["jaareigenschap"] == {"wijken": "jaarcode", "buurten": "jaarcode"}
        buurten = gpd.read_file(raw / "geo" / "wijkenbuurten_2019.gpkg", layer="buurten")
        assert set(buurten["jaarcode"]) == {2019}
        assert "BU01411106" in set(buurten["buurtcode"])  # a buurt of 2015 only
        assert f"{HISTORISCH}/collections/buurten/queryables?f=json" in server.requests
        sampled = any(r.startswith(f"{HISTORISCH}/collections/buurten/items?f=json&limit=1&")
                      for r in server.requests)
        assert sampled is not queryables
        # A year filter only where jaarcode is a known queryable (GoKoala refuses others);
        # without /queryables the year's features are kept here.
        assert any("jaarcode=2019" in r for r in server.requests) is queryables
    finally:
        server.stop()


# --------------------------------------------------------------------------- faults


def _fails(settings, raw, match, years, refresh=False):
    """A fetch that must fail with one Dutch line and leave the boundaries as they were."""
    before = snapshot(raw / "geo"), _manifest(raw)["geo"]
    with pytest.raises(WijkkompasError, match=match) as info:
        fetch(settings, raw, years, refresh=refresh)
    assert "\n" not in str(info.value)
    assert (snapshot(raw / "geo"), _manifest(raw)["geo"]) == before
    return str(info.value)


@pytest.mark.parametrize("shape", ["per jaar", "jaareigenschap"])
def test_a_year_the_service_does_not_hold(cbs, tmp_path, shape):
    make = named_collections if shape == "per jaar" else property_collections
    server = _start(make([2018, 2019, 2020]))
    try:
        settings = _settings(cbs, server)
        raw = tmp_path / "raw"
        fetch(settings, raw, [2019])
        message = _fails(settings, raw, "heeft geen wijken van 2017", [2017])
        assert "gevonden jaren 2018, 2019, 2020" in message
        assert "wijkkompas import" in message
    finally:
        server.stop()


@pytest.mark.parametrize("document, match", [
    ({"collections": {"buurten_2019": {"title": "Buurten 2019"}}},
     "onverwachte vorm: collections klopt niet"),
    ({"links": [], "items": [{"id": "buurten_2019"}]}, "gevonden velden: items, links"),
    ({"collections": [{"title": "Buurten 2019"}]}, r"onverwachte vorm: collections/0 klopt niet"),
    ({"collections": [{"id": "../../buurten_2019"}]}, "onverwachte vorm: collections/0/id"),
    ({"collections": [{"id": "gebieden_2019"}, {"id": "vierkanten"}]},
     r"geen collecties met wijken of buurten \(gevonden collecties: gebieden_2019, vierkanten\)"),
])
def test_a_collection_list_that_changed_shape(cbs, pdok, tmp_path, document, match):
    settings = _settings(cbs, pdok)
    raw = tmp_path / "raw"
    fetch(settings, raw, [2019])
    pdok.documents[f"{HISTORISCH}/collections"] = document
    _fails(settings, raw, match, [2019], refresh=True)


def _refused_by(cbs, collections, tmp_path, match: str) -> list[str]:
    """Fetching 2019 into an empty cache from a historical service that holds
    ``collections`` fails with ``match``; the requests the service received."""
    server = _start(collections)
    try:
        raw = tmp_path / "raw"
        raw.mkdir()
        (raw / "manifest.json").write_text('{"cbs": {}, "geo": {}, "kaart": {}}')
        _fails(_settings(cbs, server), raw, match, [2019])
        return list(server.requests)
    finally:
        server.stop()


def test_a_multi_year_collection_without_a_year_property(cbs, tmp_path):
    collections = [replace(c, year_property=None, features=[
        {**f, "properties": {k: v for k, v in f["properties"].items() if k != "jaarcode"}}
        for f in c.features]) for c in property_collections([2019, 2020])]
    requests = _refused_by(cbs, collections, tmp_path,
                           "Collectie 'wijken' .* noemt geen jaar in naam of titel en heeft "
                           "geen eigenschap jaar, jaarcode, year om 2019 te kiezen")
    assert any(r.startswith(f"{HISTORISCH}/collections/wijken/items?f=json&limit=1&")
               for r in requests)


def test_a_collection_without_rd_new(cbs, tmp_path):
    collections = named_collections([2019])
    collections[2] = replace(collections[2], crs=(CRS84,))
    _refused_by(cbs, collections, tmp_path,
                r"Collectie 'buurten_2019' .* biedt geen EPSG:28992 aan \(wel: "
                r"http://www.opengis.net/def/crs/OGC/1.3/CRS84\)")


def test_paging_breaking_midway(cbs, pdok, tmp_path):
    settings = _settings(cbs, pdok)
    raw = tmp_path / "raw"
    fetch(settings, raw, [2019])
    # The second page of the 68 buurten fails, after the retries.
    pdok.faults.append(Fault("cursor=", "status", status=502))
    _fails(settings, raw, r"PDOK gaf een serverfout \(HTTP 502\) bij laag 'buurten' van de "
           r"wijk- en buurtkaart 2019 halverwege de reeks pagina's \(rel=next\) na 3 pogingen",
           [2019], refresh=True)


def test_an_invalid_code_from_the_service_is_refused(cbs, tmp_path):
    collections = named_collections([2019])
    bad = collections[2].features[0]
    collections[2].features[0] = {**bad, "properties": {**bad["properties"],
                                                        "buurtcode": "BU0141/../x"}}
    _refused_by(cbs, collections, tmp_path,
                r"PDOK-laag 'buurten' 2019: object 1: ongeldige buurtcode 'BU0141/\.\./x' "
                r"\(verwacht BU en acht cijfers\)\. Controleer de PDOK-instellingen")


# --------------------------------------------------------------------------- imports, settings


def test_imported_boundaries_are_not_fetched_again(cbs, pdok, tmp_path, shared):
    from wijkkompas.cli import main
    from wijkkompas.fetch.report import boundary_sources

    data = tmp_path / "data"
    path = shared / "geo" / "almelo_buurten_2015_simplified.geojson"
    assert main(["import", str(path), "--jaar", "2019", "--data-dir", str(data)]) == 0
    report, lines = fetch(_settings(cbs, pdok), data / "raw", [2019, 2020])
    assert [g.jaar for g in report.boundaries] == [2020, 2024]  # 2024: the Politie indeling
    assert "Grenzen 2019: uit de import (almelo_buurten_2015_simplified.geojson), " \
           "niet opgehaald." in lines
    assert not any("_2019" in r for r in pdok.requests)
    per_year = boundary_sources(data).set_index("jaar")
    assert per_year.loc[2019].tolist() == ["import", "almelo_buurten_2015_simplified.geojson"]
    assert per_year.loc[2020].tolist() == ["PDOK historisch", "wijkenbuurten_2020.gpkg"]


def test_historical_service_switched_off(cbs, pdok, tmp_path):
    from wijkkompas.fetch.report import boundary_sources

    settings = _settings(cbs, pdok).changed(pdok_historisch_pad="",
                       pdok_gebiedsindelingen_pad="")
    report, lines = fetch(settings, tmp_path / "data" / "raw", [2019, 2024])
    assert [g.jaar for g in report.boundaries] == [2024]
    per_year = boundary_sources(tmp_path / "data").set_index("jaar")
    assert per_year.loc[2019, "grenzen"] == "geen (importeer de wijk- en buurtkaart)"
    assert any(line.startswith("Geen grenzen opgehaald voor 2019: niet in grenzen_jaren")
               for line in lines)
    assert not any(r.startswith(HISTORISCH) for r in pdok.requests)


def test_historical_path_from_the_config_file(tmp_path):
    config = tmp_path / "wijkkompas.toml"
    config.write_text('pdok_historisch_pad = "cbs/eigen-historisch/ogc/v1"\n', encoding="utf-8")
    assert load_settings(config, env={}).pdok_historisch_pad == "cbs/eigen-historisch/ogc/v1"
    assert load_settings(None, env={}).pdok_historisch_pad == HISTORISCH.strip("/")
