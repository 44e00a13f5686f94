"""Veiligheid from real sources: registered crime (Politie 47018NED) per 1,000 inhabitants of
the same area and indeling, and the Leefbaarometer; the KWB catalogue against real metadata.

The crime table is fetched with the real cbsodata client from a loopback host serving its
real metadata (tests/fixtures/politie.py), the KWB tables and boundaries likewise; the
rates are then checked by hand.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from tests.fixtures.kwb import SHARED
from tests.fixtures.leefbaarometer import SEMICOLON
from tests.helpers import almelo_files
from wijkkompas.catalogue import KWB_BRON, indicators, resolve_odata
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.stage import run_fetch
from wijkkompas.indicatoren.stage import run_build


def _add_kwb_rows(table, rows):
    """Add areas to a served KWB table: (code, name, kind, inhabitants, indelingswijziging)."""
    template = next(r for r in table.rows if r["WijkenEnBuurten"].strip().startswith("BU"))
    for code, name, kind, inwoners, change in rows:
        row = {key: None for key in template}
        row.update({"ID": len(table.rows), "WijkenEnBuurten": f"{code:<10}",
                    "Gemeentenaam_1": f"{'Almelo':<40}", "SoortRegio_2": f"{kind:<10}",
                    "Codering_3": f"{code:<10}",
                    "IndelingswijzigingGemeenteWijkBuurt_4": f"{change:<10}",
                    "AantalInwoners_5": inwoners})
        table.rows.append(row)
        table.regions.append({"Key": f"{code:<10}", "Title": name, "Description": "",
                              "CategoryGroupID": None})


def _row(table, code, jaar, indicator, indeling=2024):
    rows = table[(table.gebiedscode == code) & (table.jaar == jaar)
                 & (table.indicator == indicator) & (table.indeling == indeling)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture
def built(settings, cbs_server, tmp_path):
    """KWB 2023 and 2024, boundaries 2023 and 2024 (the same), 47018NED: fetched and built."""
    _add_kwb_rows(cbs_server.tables["85618ned"], [
        ("WK014121", "Wijk 21 Bornerbroek", "Wijk", 1950, "1"),
        ("BU01412100", "Bornerbroek Kern", "Buurt", 1150, "1"),
        ("BU01412109", "Verspreide huizen wijk 21", "Buurt", 40, "1"),
    ])
    data = tmp_path / "data"
    run_fetch(data / "raw", settings, "GM0141", [2023, 2024], say=lambda _: None)
    return run_build(data, say=lambda _: None).table


def test_a_politie_file_changed_after_fetching_is_refused(settings, cbs_server, tmp_path):
    """The Politie table's files are checked against their checksums like CBS's."""
    data = tmp_path / "data"
    run_fetch(data / "raw", settings, "GM0141", [2024], say=lambda _: None)
    [changed] = (data / "raw" / "politie").glob("*/TypedDataSet.json")
    changed.write_bytes(changed.read_bytes() + b"\n")  # still valid JSON
    with pytest.raises(WijkkompasError) as info:
        run_build(data, say=lambda _: None)
    assert str(info.value) == (
        f"Bronbestand {changed} is gewijzigd na het ophalen; er is niets gebouwd. Zet het "
        "origineel terug of haal de tabel opnieuw op met 'wijkkompas fetch --refresh'.")
    # Which checksums differ is for --uitgebreid (#26: the line stays short).
    assert info.value.detail.endswith(f" in {data / 'raw' / 'manifest.json'}")
    assert not (data / "processed").exists()


def test_rates_per_1000_inhabitants_by_hand(built):
    table = built
    # Binnenstad Noord 2023: 2280 inhabitants (KWB 2023), the same area in 2023 and 2024.
    total = _row(table, "BU01411000", 2023, "misdrijven_totaal_per_1000")
    assert total.waarde == pytest.approx(1000 * 180 / 2280)
    assert (total.teller, total.noemer, total.status) == (180, 2280, "berekend")
    assert total.dekking == 1.0
    assert "zelfde grenzen in 2023 en 2024" in total.bron
    assert total.bron.startswith("Politie 47018NED; inwoners: CBS 85618NED")
    assert _row(table, "BU01411000", 2023, "misdrijven_woninginbraak_per_1000").waarde == \
        pytest.approx(1000 * 6 / 2280)
    # Geweld: 1.4.2-1.4.7 = 0 + 1 + 9 + 14 + 2 + 1.
    geweld = _row(table, "BU01411000", 2023, "misdrijven_geweld_per_1000")
    assert geweld.teller == 27 and geweld.waarde == pytest.approx(1000 * 27 / 2280)
    assert _row(table, "BU01411000", 2023, "misdrijven_fiets_per_1000").waarde == \
        pytest.approx(1000 * 30 / 2280)
    assert _row(table, "BU01411000", 2023, "misdrijven_overlast_per_1000").waarde == \
        pytest.approx(1000 * (4 + 3) / 2280)
    # 3.6.4 is blank: vernieling en openbare orde is missing, not 20.
    vernieling = _row(table, "BU01411000", 2023, "misdrijven_vernieling")
    assert np.isnan(vernieling.waarde) and vernieling.status == "ontbreekt"
    rate = _row(table, "BU01411000", 2023, "misdrijven_vernieling_per_1000")
    assert np.isnan(rate.waarde) and rate.status == "ontbreekt"
    assert "het aantal misdrijven ontbreekt" in rate.bron

    # The gemeente: its own row of 47018NED; CBS's code says unchanged from 2023 to 2024.
    gemeente = _row(table, "GM0141", 2023, "misdrijven_totaal_per_1000")
    assert gemeente.waarde == pytest.approx(1000 * 4100 / 73500)
    assert "volgens CBS ongewijzigd van 2023 tot 2024" in gemeente.bron
    assert _row(table, "GM0141", 2023, "misdrijven_vernieling_per_1000").waarde == \
        pytest.approx(1000 * (400 + 60) / 73500)


def test_wijk_without_row_sums_its_buurten_and_small_buurt_gets_no_rate(built):
    table = built
    count = _row(table, "WK014121", 2023, "misdrijven_totaal")
    assert count.waarde == 40 + 12 and count.status == "berekend"
    rate = _row(table, "WK014121", 2023, "misdrijven_totaal_per_1000")
    assert rate.waarde == pytest.approx(1000 * 52 / 1950)
    # 40 inhabitants: the count is shown, the rate is not, and the row says why.
    small = _row(table, "BU01412109", 2023, "misdrijven_totaal_per_1000")
    assert np.isnan(small.waarde) and small.status == "ontbreekt"
    assert (small.teller, small.noemer) == (12, 40)
    assert "minder dan 50 inwoners (40)" in small.bron
    assert _row(table, "BU01412109", 2023, "misdrijven_totaal").waarde == 12
    # 2015: no inhabitants of that year at all.
    old = _row(table, "BU01411105", 2015, "misdrijven_totaal_per_1000")
    assert np.isnan(old.waarde) and old.teller == 30
    # The counts keep the table's indeling (2024) for every year.
    crime = table[table.indicator.str.startswith("misdrijven")]
    assert set(crime.indeling) == {2024}
    assert set(crime.jaar) == {2015, 2023}


def test_definitions_name_the_politie_as_source(built, tmp_path):
    definitions = pd.read_csv(tmp_path / "data" / "processed" / "indicatoren_definities.csv")
    row = definitions.set_index("indicator").loc["misdrijven_geweld_per_1000"]
    assert (row.bron, row.eenheid, row.noemer) == ("Politie 47018NED", "per 1.000 inwoners",
                                                   "inwoners")
    assert definitions.set_index("indicator").loc["woz", "bron"] == KWB_BRON


def test_reused_buurt_code_never_joins_the_old_areas_inhabitants(settings, shared, tmp_path):
    """BU01411105 was "Riet Zuid" (785 inhabitants) in 2015; in the indeling of 2024, in
    which 47018NED gives every year, it is "Bedrijventerrein Bornsestraat"."""
    data = tmp_path / "data"
    for path, jaar in almelo_files(shared)[:3]:  # the real 2015 statistics and boundaries
        assert main(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0
    run_fetch(data / "raw", settings, "GM0141", [2024], say=lambda _: None)
    result = run_build(data, say=lambda _: None)
    table = result.table
    assert result.target_indeling == 2024

    old = _row(table, "BU01411105", 2015, "inwoners", indeling=2015)
    assert (old.waarde, old.gebiedsnaam) == (785, "Riet Zuid")
    verdicts = pd.read_csv(data / "processed" / "indelingen.csv")
    verdict = verdicts[(verdicts.gebiedscode == "BU01411105") & (verdicts.vergeleken_met == 2015)]
    assert verdict.oordeel.tolist() == ["grens gewijzigd"]

    rate = _row(table, "BU01411105", 2015, "misdrijven_totaal_per_1000")
    assert rate.teller == 30
    assert rate.noemer != 785
    # Only the 2015 figures carried onto the 2024 area by overlap may serve.
    carried = _row(table, "BU01411105", 2015, "inwoners", indeling=2024)
    assert carried.status == "berekend" and carried.noemer != 785
    assert rate.noemer == carried.waarde
    assert "BU01411105 is in 2015 een ander gebied dan in 2024 (grens gewijzigd)" in rate.bron
    assert "omgerekend naar de buurten van 2024 naar oppervlakte" in rate.bron
    # The business park got a small share of Riet Zuid's inhabitants (about 88), not 785.
    assert 50 <= carried.waarde < 150
    assert rate.waarde == pytest.approx(1000 * 30 / carried.waarde)
    assert rate.dekking == carried.dekking


def test_without_boundaries_cbs_change_codes_decide(settings, cbs_server, tmp_path):
    """No boundaries of 2023: the KWB code 1 for 2024 says the buurt did not change; a code
    3 (boundary changed) means the 2023 inhabitants are not used."""
    # Boundaries of 2024 only: no Gebiedsindelingen and no historical service either.
    only_2024 = settings.changed(grenzen_jaren="2024", pdok_historisch_pad="",
                        pdok_gebiedsindelingen_pad="")
    data = tmp_path / "data"
    run_fetch(data / "raw", only_2024, "GM0141", [2023, 2024], say=lambda _: None)
    table = run_build(data, say=lambda _: None).table
    rate = _row(table, "BU01411000", 2023, "misdrijven_totaal_per_1000")
    assert rate.waarde == pytest.approx(1000 * 180 / 2280)
    assert "volgens CBS ongewijzigd van 2023 tot 2024" in rate.bron

    served = cbs_server.tables["85984ned"]
    for row in served.rows:
        if row["WijkenEnBuurten"] == "BU01411000":
            row["IndelingswijzigingGemeenteWijkBuurt_4"] = f"{'3':<10}"
    run_fetch(data / "raw", only_2024, "GM0141", [2023, 2024], refresh=True,
              say=lambda _: None)
    table = run_build(data, say=lambda _: None).table
    rate = _row(table, "BU01411000", 2023, "misdrijven_totaal_per_1000")
    assert np.isnan(rate.waarde) and rate.teller == 180 and np.isnan(rate.noemer)
    assert "niet aangetoond dat BU01411000 in 2023 hetzelfde gebied is als in 2024" in rate.bron


DISCONTINUED = {"aandeel_migratie_westers", "aandeel_migratie_niet_westers"}


@pytest.mark.parametrize("table_id, path", [
    ("85618NED", "odata/85618NED/DataProperties.json"),
    ("85984NED", "odata/85984NED/DataProperties_release_2024-09.json"),
    ("85984NED", "odata/85984NED/DataProperties.json"),
])
def test_catalogue_resolves_every_kwb_indicator_in_real_metadata(table_id, path):
    """Key numbers move between years and releases; the stems and groups still find them.
    Only the migration background (westers/niet-westers), which CBS no longer publishes
    from 2022 on, is absent."""
    props = json.loads((SHARED / path).read_text(encoding="utf-8"))
    resolution = resolve_odata(table_id, props)
    unresolved = {ind.indicator for ind in indicators().values() if ind.bron == KWB_BRON
                  and not all(v in resolution.keys for v in filter(None, (ind.teller,
                                                                          ind.noemer)))}
    assert unresolved == DISCONTINUED
    topics = {p["Key"] for p in props if p.get("Type") == "Topic"}
    assert set(resolution.keys.values()) <= topics


def test_the_two_2024_releases_number_the_same_variable_differently():
    keys = []
    for name in ("DataProperties_release_2024-09.json", "DataProperties.json"):
        props = json.loads((SHARED / "odata" / "85984NED" / name).read_text(encoding="utf-8"))
        keys.append(resolve_odata("85984NED", props).keys)
    assert keys[0]["woz"] == "GemiddeldeWOZWaardeVanWoningen_36"
    assert keys[0]["woz"] != keys[1]["woz"]


# --------------------------------------------------------------------------- Leefbaarometer

@pytest.fixture
def lbm_built(settings, cbs_server, tmp_path):
    """KWB 2024 with the four buurten of wijken 20 and 21, boundaries 2024, and the
    Leefbaarometer imported with the command line."""
    _add_kwb_rows(cbs_server.tables["85984ned"], [
        ("BU01412000", "Aadorp West", "Buurt", 410, "1"),
        ("BU01412001", "Aadorp Oost", "Buurt", 1125, "1"),
        ("BU01412100", "Bornerbroek Kern", "Buurt", 1155, "1"),
        ("BU01412109", "Verspreide huizen wijk 21", "Buurt", 815, "1"),
    ])
    data = tmp_path / "data"
    run_fetch(data / "raw", settings, "GM0141", [2024], say=lambda _: None)
    path = tmp_path / "Leefbaarometer-scores buurten 2002-2024.csv"
    path.write_text(SEMICOLON, encoding="utf-8")
    assert main(["import", str(path), "--bron", "leefbaarometer", "--data-dir", str(data)]) == 0
    return data, run_build(data, say=lambda _: None).table


def test_leefbaarometer_import_keeps_the_file_and_records_it(lbm_built, tmp_path):
    data, _ = lbm_built
    stored = data / "raw" / "leefbaarometer" / "2024" / "leefbaarometer_buurten.csv"
    assert stored.read_text(encoding="utf-8") == SEMICOLON
    entry = json.loads((data / "raw" / "manifest.json").read_text())["leefbaarometer"]["2024"]
    assert (entry["indeling"], entry["gemeente"], entry["jaren"], entry["rijen"]) == \
        (2024, "GM0141", [2022, 2024], 6)
    assert entry["origineel"] == "Leefbaarometer-scores buurten 2002-2024.csv"
    assert entry["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert entry["files"] == {"leefbaarometer_buurten.csv": {"sha256": entry["sha256"]}}


def test_a_leefbaarometer_file_changed_after_import_is_refused_by_the_build(lbm_built):
    """Its manifest entry lacked ``files``, so verify_raw skipped it (#27)."""
    data, _ = lbm_built
    stored = data / "raw" / "leefbaarometer" / "2024" / "leefbaarometer_buurten.csv"
    stored.write_text(SEMICOLON.replace("4,21", "9,99"), encoding="utf-8")
    with pytest.raises(WijkkompasError, match=(
            r"^Bronbestand .*leefbaarometer_buurten\.csv is gewijzigd na de import; "
            r".*importeer het bestand opnieuw met 'wijkkompas import BESTAND "
            r"--bron leefbaarometer'\.$")):
        run_build(data, say=lambda _: None)


def test_refused_leefbaarometer_leaves_raw_as_it_was(lbm_built, tmp_path):
    data, _ = lbm_built
    before = {p: p.read_bytes() for p in (data / "raw").rglob("*") if p.is_file()}
    other = tmp_path / "andere_gemeente.csv"
    other.write_text(SEMICOLON.replace("BU0141", "BU0153"), encoding="utf-8")
    assert main(["import", str(other), "--bron", "leefbaarometer", "--data-dir",
                 str(data)]) != 0
    assert {p: p.read_bytes() for p in (data / "raw").rglob("*") if p.is_file()} == before


def test_leefbaarometer_wijk_values_are_weighted_by_inhabitants(lbm_built):
    _, table = lbm_built
    buurt = _row(table, "BU01412000", 2024, "lbm_onv")
    assert (buurt.waarde, buurt.status, buurt.noemer) == (0.05, "waargenomen", 410)
    assert buurt.bron == "Leefbaarometer 3.0 (buurtindeling 2024)"
    wijk = _row(table, "WK014120", 2024, "lbm_onv")
    assert wijk.waarde == pytest.approx((0.05 * 410 - 0.02 * 1125) / (410 + 1125))
    assert wijk.status == "berekend" and wijk.dekking == 1.0
    assert wijk.bron == "Leefbaarometer 3.0 (buurtindeling 2024), buurten gewogen met hun inwoners"
    assert _row(table, "WK014120", 2024, "lbm_fys").waarde == \
        pytest.approx((-0.034 * 410 + 0.015 * 1125) / 1535)
    # Wijk 21: the buurt with 815 of its 1970 inhabitants has no onv score: too little.
    missing = _row(table, "WK014121", 2024, "lbm_onv")
    assert np.isnan(missing.waarde) and missing.status == "ontbreekt"
    assert _row(table, "WK014121", 2024, "lbm_totaal").waarde == \
        pytest.approx((4.30 * 1155 + 4.28 * 815) / 1970)
    # 2022: the buurt score is there, but no inhabitants of 2022 to weigh a wijk with.
    assert _row(table, "BU01412000", 2022, "lbm_soc").waarde == 0.015
    assert np.isnan(_row(table, "WK014120", 2022, "lbm_soc").waarde)
    # Only the gemeente's own buurten are taken from the national file.
    lbm = table[table.indicator.str.startswith("lbm")]
    assert set(lbm[lbm.niveau == "buurt"].gebiedscode) == {
        "BU01412000", "BU01412001", "BU01412100", "BU01412109"}


# --------------------------------------------------------------------------- the kompas


def test_almelo_kompas_scores_veiligheid_from_registered_crime(settings, cbs_server,
                                                               politie_server, tmp_path):
    from tests.fixtures.politie import rows
    from wijkkompas.kompas.definition import load_kompas
    from wijkkompas.kompas.stage import run_kompas

    kompas = load_kompas()
    veiligheid = {i.indicator: (i.richting, i.soort) for i in kompas.indicators.values()
                  if i.thema == "veiligheid"}
    assert veiligheid["misdrijven_woninginbraak_per_1000"] == (-1, "objectief")
    assert veiligheid["misdrijven_geweld_per_1000"] == (-1, "objectief")
    assert veiligheid["lbm_onv"] == (1, "objectief")
    assert veiligheid["voelt_zich_veilig"] == (1, "subjectief")
    assert veiligheid["misdrijven_totaal_per_1000"] == (0, "objectief")

    # Three wijken with their own rows in 47018NED and inhabitants in the KWB of 2023.
    served = politie_server.tables["47018ned"]
    served.rows += rows([("WK014110", 2023, {"1.1.1": 12}), ("WK014111", 2023, {"1.1.1": 20}),
                         ("WK014112", 2023, {"1.1.1": 4})])
    _add_kwb_rows(cbs_server.tables["85618ned"], [
        ("WK014111", "Wijk 11 De Riet", "Wijk", 4000, "1"),
        ("WK014112", "Wijk 12 Noorderkwartier", "Wijk", 8000, "1"),
    ])
    data = tmp_path / "data"
    run_fetch(data / "raw", settings, "GM0141", [2023, 2024], say=lambda _: None)
    run_build(data, say=lambda _: None)
    run_kompas(data, say=lambda _: None)

    out = data / "processed"
    frame = pd.read_csv(out / "kompas_referentie.csv").set_index("indicator")
    reference = frame.loc["misdrijven_woninginbraak_per_1000"]
    rates = [1000 * 12 / 6000, 1000 * 20 / 4000, 1000 * 4 / 8000]
    assert reference.referentiejaar == 2023
    assert reference.referentiewaarde == pytest.approx(1000 * 95 / 73500)
    assert reference.spreiding == pytest.approx(float(np.std(rates)))
    themes = pd.read_parquet(out / "kompas_scores.parquet")
    de_riet = themes[(themes.gebiedscode == "WK014111") & (themes.jaar == 2023)
                     & (themes.thema == "veiligheid")].set_index("deel")
    expected = 100 - 20 * (rates[1] - 1000 * 95 / 73500) / float(np.std(rates))
    assert de_riet.loc["objectief", "score"] == pytest.approx(expected)
    assert de_riet.loc["totaal", "score"] == pytest.approx(expected)
