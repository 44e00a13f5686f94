"""Fetching the Politie table 47018NED with the real cbsodata client from a loopback host
that speaks CBS's OData v3 format, with the table's real metadata."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.helpers import snapshot
from tests.servers import Fault
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.politie import crime_filter
from wijkkompas.fetch.stage import run_fetch


def fetch(settings, raw, refresh=False):
    return run_fetch(raw, settings, "GM0141", [2023], refresh=refresh, say=lambda _: None)


def test_filter_names_the_gemeente_and_the_padded_crime_types():
    text = crime_filter("GM0141", ["1.1.1", "2.6.10"])
    assert text == (
        "((WijkenEnBuurten eq 'GM0141    ') or substringof('WK0141',WijkenEnBuurten) "
        "or substringof('BU0141',WijkenEnBuurten)) and ((SoortMisdrijf eq '1.1.1 ') "
        "or (SoortMisdrijf eq '2.6.10'))"
    )


def test_fetch_stores_the_gemeentes_crime_rows_as_cbsodata_saves_them(settings, tmp_path,
                                                                     politie_server):
    raw = tmp_path / "raw"
    report = fetch(settings, raw)

    assert report.politie.status == "opgehaald"
    assert report.politie.ref.table_id == "47018NED"
    assert report.politie.ref.bron == "catalogus"
    assert "Politie 47018NED (geregistreerde misdrijven): opgehaald, 34 rijen" in report.lines()
    folder = raw / "politie" / "47018NED"
    assert sorted(p.name for p in folder.iterdir()) == [
        "CategoryGroups.json", "DataProperties.json", "Perioden.json", "SoortMisdrijf.json",
        "TableInfos.json", "TypedDataSet.json", "WijkenEnBuurten.json"]
    rows = json.loads((folder / "TypedDataSet.json").read_text())
    assert len(rows) == 34
    # Only Almelo (no NL00) and only the crime types of misdrijven.csv (no 2.5.2).
    assert {r["WijkenEnBuurten"] for r in rows} == {
        "GM0141    ", "BU01411000", "BU01412100", "BU01412109", "BU01411105"}
    assert "2.5.2 " not in {r["SoortMisdrijf"] for r in rows}
    assert {r["Perioden"] for r in rows} == {"2015JJ00", "2023JJ00"}
    # A blank cell stays null.
    blank = [r for r in rows if r["WijkenEnBuurten"] == "BU01411000"
             and r["SoortMisdrijf"] == "3.6.4 "]
    assert blank[0]["GeregistreerdeMisdrijven_1"] is None
    # Served in pages of seven: the nextLink chain (with the filter) was followed.
    pages = [r for r in politie_server.requests if "TypedDataSet" in r]
    assert len(pages) == 5 and "$skip=28" in pages[-1]
    # The GeoDetail dimension and the dimension tables are CBS's metadata, unchanged.
    props = json.loads((folder / "DataProperties.json").read_text())
    assert props[1]["Type"] == "GeoDetail" and props[1]["Key"] == "WijkenEnBuurten"
    assert len(json.loads((folder / "SoortMisdrijf.json").read_text())) == 59

    entry = json.loads((raw / "manifest.json").read_text())["politie"]["47018NED"]
    assert entry["gemeente"] == "GM0141" and entry["modified"] == "2024-08-15T02:00:00"
    assert entry["filter"] == crime_filter("GM0141")
    assert entry["bron"] == politie_server.url
    assert entry["files"]["TypedDataSet.json"]["rows"] == 34


def test_second_run_asks_nothing(settings, tmp_path, politie_server):
    raw = tmp_path / "raw"
    fetch(settings, raw)
    before = snapshot(raw)
    politie_server.requests.clear()
    report = fetch(settings, raw)
    assert report.politie.status == "actueel"
    assert politie_server.requests == []
    assert snapshot(raw) == before


def test_refresh_reports_changes_per_area_crime_type_and_year(settings, tmp_path,
                                                              politie_server):
    raw = tmp_path / "raw"
    fetch(settings, raw)
    table = politie_server.tables["47018ned"]
    for row in table.rows:
        if row["WijkenEnBuurten"] == "BU01411000" and row["SoortMisdrijf"] == "3.6.4 ":
            row["GeregistreerdeMisdrijven_1"] = 5  # delivered later
        if row["WijkenEnBuurten"] == "GM0141    " and row["SoortMisdrijf"] == "0.0.0 ":
            row["GeregistreerdeMisdrijven_1"] = 4104  # corrected

    report = fetch(settings, raw, refresh=True)

    result = report.politie
    assert result.status == "ververst"
    changes = {(c.gebiedscode, c.variabele): (c.soort, c.oud, c.nieuw)
               for c in result.changes.changes}
    assert changes == {
        ("BU01411000", "GeregistreerdeMisdrijven_1 [3.6.4 2023JJ00]"): ("toegevoegd", None, 5),
        ("GM0141", "GeregistreerdeMisdrijven_1 [0.0.0 2023JJ00]"): ("gewijzigd", 4100, 4104),
    }
    assert result.archived.parent == raw / "archive" / "politie" / "47018NED"
    assert result.changes.path.name.endswith("_47018NED.csv")


def test_catalogue_without_the_table_falls_back_to_47018NED(settings, tmp_path,
                                                             politie_server):
    politie_server.faults.append(Fault("/ODataCatalog/", "status", status=404))
    report = fetch(settings, tmp_path / "raw")
    assert report.politie.ref.table_id == "47018NED"
    assert report.politie.ref.bron == "ingebouwde lijst"


def test_unreachable_host_names_the_politie_setting(settings, tmp_path):
    raw = tmp_path / "raw"
    fetch(settings, raw)
    # The KWB tables refresh fine; only the dataderden host is gone. The KWB tables fetched
    # before the failure are stored, so compare the politie part only.
    dead = settings.changed(politie_url="http://127.0.0.1:9")
    before = snapshot(raw / "politie")
    expected = (r"^CBS-dataderden was onbereikbaar voor de CBS-dataderden-catalogus, of de "
                r"verbinding brak af na \d pogingen \(127\.0\.0\.1:9/")
    with pytest.raises(WijkkompasError, match=expected) as info:
        fetch(dead, raw, refresh=True)
    assert "WIJKKOMPAS_POLITIE_URL" in str(info.value)
    assert snapshot(raw / "politie") == before


def test_paging_chain_breaking_midway_leaves_the_cache(settings, tmp_path, politie_server):
    raw = tmp_path / "raw"
    fetch(settings, raw)
    politie_server.faults.append(Fault("$skip=14", "status", status=502))
    before = snapshot(raw / "politie")
    expected = (r"serverfout \(HTTP 502\) bij tabel 47018NED \(Politie, geregistreerde "
                r"misdrijven\) halverwege de reeks pagina's \(odata\.nextLink\)")
    with pytest.raises(WijkkompasError, match=expected) as info:
        fetch(settings, raw, refresh=True)
    assert "tabel 47018NED (Politie, geregistreerde misdrijven)" in str(info.value)
    assert snapshot(raw / "politie") == before
    assert not (raw / ".staging").exists()


def test_server_error_is_retried(settings, tmp_path, politie_server):
    politie_server.faults.append(Fault("TypedDataSet", "status", status=503, times=2))
    report = fetch(settings, tmp_path / "raw")
    assert report.politie.status == "opgehaald" and report.politie.rows == 34


def test_politie_url_setting_from_config_and_environment(tmp_path):
    from wijkkompas.settings import DEFAULT_POLITIE_URL, load_settings

    assert load_settings(env={}).politie_url == DEFAULT_POLITIE_URL == "https://dataderden.cbs.nl"
    config = tmp_path / "wijkkompas.toml"
    config.write_text('politie_url = "http://spiegel.example/dataderden"\n', encoding="utf-8")
    assert load_settings(config, env={}).politie_url == "http://spiegel.example/dataderden"
    env = {"WIJKKOMPAS_POLITIE_URL": "http://127.0.0.1:8080"}
    assert load_settings(config, env=env).politie_url == "http://127.0.0.1:8080"


def test_catalogue_id_that_is_no_table_id_is_refused(settings, tmp_path, politie_server):
    # The id from the web service would become a folder name: it is refused as it enters,
    # never silently replaced by another table.
    politie_server.tables["47018ned"].table_infos[0]["Identifier"] = "../../47018NED"
    with pytest.raises(WijkkompasError, match=r"^De CBS-dataderden-catalogus .* noemt als "
                       r"tabelnummer '\.\./\.\./47018NED', geen CBS-tabelnummer"):
        fetch(settings, tmp_path / "raw")
    assert not (tmp_path / "raw" / "politie").exists()
    assert not [p for p in tmp_path.iterdir() if p.name != "raw"]


def test_catalogue_listing_the_title_twice_gives_the_newest_table(settings, tmp_path,
                                                                   politie_server):
    # An older table of the same title, modified in 2019, listed after the current one
    # (modified 2024-08-15): the newest by Modified wins, whatever the order of the rows.
    current = politie_server.tables["47018ned"]
    info = {**current.table_infos[0], "Identifier": "47013NED",
            "Modified": "2019-03-01T02:00:00"}
    politie_server.tables["47013ned"] = replace(current, table_id="47013NED",
                                                table_infos=[info])
    report = fetch(settings, tmp_path / "raw")
    assert (report.politie.ref.table_id, report.politie.ref.bron) == ("47018NED", "catalogus")
    assert "Politie 47018NED (geregistreerde misdrijven): opgehaald, 34 rijen" in report.lines()
    assert sorted(p.name for p in (tmp_path / "raw" / "politie").iterdir()) == ["47018NED"]
def _rates(data):
    from wijkkompas.indicatoren.stage import run_build
    from wijkkompas.indicatoren.veiligheid import crime_rate_indicators

    lines: list[str] = []
    result = run_build(data, say=lines.append)
    table = result.table
    rates = table[table.indicator.isin(set(crime_rate_indicators())) & (table.jaar == 2023)]
    return rates, lines


def test_a_fetch_of_2023_alone_gets_what_the_crime_rates_need(settings, tmp_path):
    """47018NED gives every year in the buurt indeling of 2024. Fetched with 2023 alone, the
    fetch adds the boundaries of 2024, so the build sees that 2023's buurten are 2024's and
    divides 2023's counts by 2023's inhabitants."""
    data = tmp_path / "data"
    lines: list[str] = []
    run_fetch(data / "raw", settings, "GM0141", [2023], say=lines.append)
    assert ("Grenzen 2024: ook opgehaald, voor de misdrijven per 1.000 inwoners (de "
            "Politie-tabel staat in de buurtindeling van 2024).") in lines
    geo = json.loads((data / "raw" / "manifest.json").read_text())["geo"]
    assert sorted(geo) == ["2023", "2024"]
    rates, build_lines = _rates(data)
    assert rates.waarde.notna().any()
    assert not any(line.startswith("Geen misdrijven per 1.000 inwoners") for line in build_lines)


def test_the_build_says_in_one_line_which_crime_rates_are_missing(settings, tmp_path):
    """Without the boundaries of the Politie table's indeling (grenzen_jaren stops at 2023)
    the 2023 rates cannot be made: the build says so in one line, with what to fetch."""
    data = tmp_path / "data"
    run_fetch(data / "raw", settings.changed(grenzen_jaren="2023"), "GM0141", [2023],
              say=lambda _: None)
    rates, lines = _rates(data)
    assert rates.waarde.isna().all() and rates.teller.notna().any()
    said = [line for line in lines if line.startswith("Geen misdrijven per 1.000 inwoners")]
    assert len(said) == 1
    assert said[0].startswith("Geen misdrijven per 1.000 inwoners voor 2023: de Politie-tabel "
                              "staat in de buurtindeling van 2024 en van die jaren zijn geen "
                              "inwoners van dezelfde buurten bekend (bijvoorbeeld: ")
    assert said[0].endswith("Haal ook de grenzen of kerncijfers van 2024 op ('wijkkompas "
                            "fetch --jaren 2024') en bouw opnieuw.")
