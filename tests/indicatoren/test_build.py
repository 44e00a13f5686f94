"""The build stage on the real Almelo data in ../shared/data and on small hand-made files."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from tests.helpers import import_almelo, snapshot
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.indicatoren.stage import run_build
from wijkkompas.kompas.stage import run_kompas


def _import(data, path, jaar):
    assert main(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0


@pytest.fixture(scope="module")
def almelo(shared, tmp_path_factory):
    """Both real years imported (statistics and boundaries) and built once."""
    data = tmp_path_factory.mktemp("almelo")
    import_almelo(data, shared)
    result = run_build(data, say=lambda _: None, csv=True)
    run_kompas(data, say=lambda _: None)
    return data, result.table


def _value(table, code, jaar, indicator, indeling=None):
    rows = table[(table.gebiedscode == code) & (table.jaar == jaar)
                 & (table.indicator == indicator)
                 & (table.indeling == (indeling or jaar))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_2015_buurten_add_up_to_what_cbs_publishes_for_the_gemeente(almelo, shared):
    _, table = almelo
    cbs = pd.read_csv(shared / "cbs" / "kwb2015_nl_gemeenten_wijkbuurtkaart.csv")
    published = cbs.set_index("GM_CODE").loc["GM0141"]
    parts = 68
    # Buurt counts are rounded to 5 by CBS, so a sum may be off by 2.5 per buurt.
    inwoners = _value(table, "GM0141", 2015, "inwoners")
    assert inwoners.status == "berekend"
    assert abs(inwoners.waarde - published.AANT_INW) <= 2.5 * parts
    assert abs(_value(table, "GM0141", 2015, "huishoudens").waarde - published.AANTAL_HH) \
        <= 2.5 * parts
    # Percentages: CBS publishes whole numbers, for buurten and for the gemeente.
    for indicator, column in [("aandeel_0_14", "P_00_14_JR"), ("aandeel_65plus", "P_65_EO_JR"),
                              ("aandeel_eenpersoonshh", "P_EENP_HH"),
                              ("aandeel_hh_met_kinderen", "P_HH_M_K"),
                              ("aandeel_migratie_niet_westers", "P_N_W_AL")]:
        assert abs(_value(table, "GM0141", 2015, indicator).waarde - published[column]) <= 1.0
    assert _value(table, "GM0141", 2015, "bevolkingsdichtheid").waarde == \
        pytest.approx(published.BEV_DICHTH, rel=0.01)
    assert _value(table, "GM0141", 2015, "gem_hh_grootte").waarde == \
        pytest.approx(published.GEM_HH_GR, abs=0.06)
    # Benefit counts are rounded to 10 per buurt: 5 per buurt on the rate per 1,000.
    for indicator, column in [("bijstand_per_1000", "WWB_UITTOT"), ("ao_per_1000", "AO_UIT_TOT"),
                              ("ww_per_1000", "WW_UIT_TOT")]:
        expected = 1000 * published[column] / published.AANT_INW
        tolerance = 1000 * 5 * parts / published.AANT_INW
        row = _value(table, "GM0141", 2015, indicator)
        assert abs(row.waarde - expected) <= tolerance
        assert 0.99 <= row.dekking <= 1.0  # three small buurten are secret


def test_wijken_are_sums_of_their_buurten(almelo):
    _, table = almelo
    buurten = table[(table.niveau == "buurt") & (table.jaar == 2015) & (table.indeling == 2015)
                    & (table.indicator == "inwoners")]
    wijken = table[(table.niveau == "wijk") & (table.jaar == 2015) & (table.indeling == 2015)
                   & (table.indicator == "inwoners")].set_index("gebiedscode")
    sums = buurten.groupby(buurten.gebiedscode.str[2:8].radd("WK"))["waarde"].sum()
    assert sorted(wijken.index) == [f"WK0141{n}" for n in range(10, 22)]
    assert (wijken.loc[sums.index, "waarde"] == sums).all()
    assert wijken.loc["WK014115", "gebiedsnaam"] == "Wijk 15 Nieuwstraat-Kwartier"


def test_missing_stays_missing(almelo):
    _, table = almelo
    # BU01411806 has secret benefit counts in 2015: missing, never zero.
    row = _value(table, "BU01411806", 2015, "bijstand_per_1000")
    assert row.status == "ontbreekt" and pd.isna(row.waarde)
    assert not ((table.status == "ontbreekt") & table.waarde.notna()).any()
    assert not ((table.status != "ontbreekt") & table.waarde.isna()).any()


def test_2015_buurten_carried_onto_the_2021_indeling(almelo):
    data, table = almelo
    carried = table[(table.jaar == 2015) & (table.indeling == 2021)]
    assert set(carried.status) <= {"berekend", "ontbreekt"}
    inw = carried[(carried.indicator == "inwoners") & (carried.niveau == "buurt")]
    assert len(inw) == 71
    total_2015 = _value(table, "GM0141", 2015, "inwoners").waarde
    assert inw.waarde.sum() == pytest.approx(total_2015)
    # The gemeente on the 2021 indeling has the same total as on its own.
    assert _value(table, "GM0141", 2015, "inwoners", indeling=2021).waarde == \
        pytest.approx(total_2015)
    # Shares carried by area stay within 0-100.
    share = carried[carried.indicator == "aandeel_65plus"].waarde.dropna()
    assert share.between(0, 100).all()

    verdicts = pd.read_csv(data / "processed" / "indelingen.csv")
    by_code = verdicts[verdicts.vergeleken_met == 2015].set_index("gebiedscode")
    # A reused code is not the same area: Riet Zuid became Bedrijventerrein Bornsestraat.
    assert by_code.loc["BU01411105", "oordeel"] == "grens gewijzigd"
    assert by_code.loc["BU01411203", "oordeel"] == "nieuw"
    # Binnenstad Noord kept its code, but only 81 % of the 2015 and 2021 areas overlap
    # (intersection over union), under the 90 % that counts as the same area.
    assert by_code.loc["BU01411000", "oordeel"] == "grens gewijzigd"
    assert by_code.loc["BU01411000", "overlap"] == pytest.approx(0.806, abs=0.001)


def test_indelingswijziging_is_carried(almelo):
    _, table = almelo
    row = _value(table, "BU01411000", 2021, "inwoners")
    assert row.indelingswijziging == 3  # the new buurt indeling of 2021
    assert row.status == "waargenomen" and row.gebiedsnaam == "Binnenstad Noord"


def test_processed_outputs(almelo):
    data, table = almelo
    out = data / "processed"
    parquet = pd.read_parquet(out / "indicatoren.parquet")
    assert list(parquet.columns)[:11] == ["gebiedscode", "gebiedsnaam", "niveau", "jaar",
                                          "indeling", "indicator", "waarde", "teller", "noemer",
                                          "bron", "status"]
    assert len(parquet) == len(table)
    csv = pd.read_csv(out / "indicatoren.csv")  # asked for with csv=True
    assert len(csv) == len(table)
    assert out / "indicatoren.csv" in run_build(data, say=lambda _: None, csv=True).outputs
    layers = {name for name, _ in __import__("pyogrio").list_layers(out / "grenzen.gpkg")}
    assert {"buurten_2015", "wijken_2015", "gemeente_2015", "buurten_2021", "wijken_2021",
            "gemeente_2021"} <= layers
    buurten = gpd.read_file(out / "grenzen.gpkg", layer="buurten_2021")
    assert buurten.crs.to_epsg() == 28992 and len(buurten) == 71
    definitions = pd.read_csv(out / "indicatoren_definities.csv")
    assert {"indicator", "naam", "eenheid", "bron", "soort"} <= set(definitions.columns)


# --------------------------------------------------------------------------- hand-made


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


HAND = """BU_CODE,BU_NAAM,AANT_INW,P_65_EO_JR,AANTAL_HH,P_EENP_HH,WWB_UITTOT,OPP_LAND
BU09990100,Noord,100,10,50,40,10,20
BU09990101,Zuid,300,30,100,70,-99999999,10
BU09990200,Oost,600,20,250,20,30,70
"""


def test_hand_computed_aggregation(tmp_path):
    data = tmp_path / "data"
    _import(data, _write(tmp_path / "hand.csv", HAND), 2020)
    table = run_build(data, say=lambda _: None).table

    def value(code, indicator):
        return _value(table, code, 2020, indicator)

    assert value("WK099901", "inwoners").waarde == 400
    # (10% of 100 + 30% of 300) / 400 = 25 %
    assert value("WK099901", "aandeel_65plus").waarde == pytest.approx(25.0)
    # (0.4*50 + 0.7*100) / 150 = 60 %
    assert value("WK099901", "aandeel_eenpersoonshh").waarde == pytest.approx(60.0)
    # Zuid's bijstand is secret: 100 of 400 inhabitants known is too little coverage.
    wijk = value("WK099901", "bijstand_per_1000")
    assert wijk.status == "ontbreekt" and wijk.dekking == pytest.approx(0.25)
    # For the gemeente: (10 + 30) per (100 + 600) known of 1000 inhabitants: 70 % coverage.
    assert value("GM0999", "bijstand_per_1000").status == "ontbreekt"
    # 1000 inhabitants on 100 ha of land: 1000 per km²
    assert value("GM0999", "bevolkingsdichtheid").waarde == pytest.approx(1000.0)
    assert value("GM0999", "aandeel_65plus").waarde == pytest.approx((10 + 90 + 120) / 10)
    assert value("BU09990101", "bijstand_per_1000").status == "ontbreekt"


def test_a_missing_count_makes_the_sum_missing(tmp_path):
    text = HAND.replace("BU09990101,Zuid,300", "BU09990101,Zuid,.")
    data = tmp_path / "data"
    _import(data, _write(tmp_path / "hand.csv", text), 2020)
    table = run_build(data, say=lambda _: None).table
    row = _value(table, "WK099901", 2020, "inwoners")
    assert row.status == "ontbreekt" and pd.isna(row.waarde)
    assert _value(table, "WK099902", 2020, "inwoners").waarde == 600


def test_indicator_csv_only_when_asked(tmp_path, shared):
    data = tmp_path / "data"
    _import(data, shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021)
    result = run_build(data, say=lambda _: None)
    out = data / "processed"
    assert (out / "indicatoren.parquet").is_file()
    assert not (out / "indicatoren.csv").exists()
    assert out / "indicatoren.csv" not in result.outputs
    # The small side tables stay CSV for Excel.
    assert (out / "indicatoren_definities.csv").is_file()
    # The large score tables too (#30): Parquet always, CSV only with --csv.
    large = ["kompas_scores", "kompas_indicatorscores"]
    assert main(["build", "--data-dir", str(data)]) == 0
    assert all((out / f"{name}.parquet").is_file() for name in large)
    assert not any((out / f"{name}.csv").exists() for name in large)
    assert (out / "kompas_referentie.csv").is_file() and (out / "kompas_gevoeligheid.csv").is_file()
    assert main(["build", "--csv", "--data-dir", str(data)]) == 0
    csv = pd.read_csv(out / "indicatoren.csv")
    assert len(csv) == len(pd.read_parquet(out / "indicatoren.parquet")) == len(result.table)
    for name in large:
        assert len(pd.read_csv(out / f"{name}.csv")) == len(pd.read_parquet(
            out / f"{name}.parquet")) > 0
    assert main(["build", "--data-dir", str(data)]) == 0
    assert not (out / "indicatoren.csv").exists()  # a build without --csv leaves none behind
    assert not any((out / f"{name}.csv").exists() for name in large)


def test_build_without_input_says_what_to_do(tmp_path):
    with pytest.raises(WijkkompasError, match="wijkkompas fetch"):
        run_build(tmp_path, say=lambda _: None)


def test_build_from_fetched_cbs_tables(settings, tmp_path):
    from wijkkompas.fetch.stage import run_fetch

    run_fetch(tmp_path / "raw", settings, "GM0141", [2023, 2024], say=lambda _: None)
    table = run_build(tmp_path, say=lambda _: None).table
    # CBS publishes wijk and gemeente rows itself: those are observed, not computed.
    row = _value(table, "WK014110", 2024, "inwoners", indeling=2024)
    assert row.status == "waargenomen" and row.waarde == 6100
    assert row.bron == "CBS 85984NED"
    assert _value(table, "GM0141", 2024, "inwoners", indeling=2024).waarde == 74000
    # Key numbers moved between the years (HuishoudensTotaal_28 vs _29, WOZ _35 vs _39).
    assert _value(table, "GM0141", 2023, "huishoudens", indeling=2023).waarde == 33200
    assert _value(table, "GM0141", 2024, "woz", indeling=2024).waarde == 251
    woz = _value(table, "BU01411001", 2024, "woz", indeling=2024)
    assert woz.status == "ontbreekt"
    report = pd.read_csv(tmp_path / "processed" / "rapport_variabelen.csv")
    linked = report[(report.tabel == "85984NED") & (report.status == "gekoppeld")]
    assert linked.set_index("variabele").loc["geboren_buiten_europa", "sleutel"] == \
        "BuitenEuropa_19"


def test_ambiguous_key_is_reported_not_guessed(shared):
    from wijkkompas.catalogue import resolve_odata

    props = json.loads((shared / "odata" / "85984NED" / "DataProperties.json").read_text())
    twin = dict(next(p for p in props if p["Key"] == "AantalInwoners_5"))
    twin.update(ID=999, Key="AantalInwoners_200")
    with pytest.raises(WijkkompasError, match="'inwoners' past op meer dan één sleutel: "
                       "AantalInwoners_5 .*AantalInwoners_200"):
        resolve_odata("85984NED", [*props, twin])


# --------------------------------------------------------------------------- local data


@pytest.fixture
def almelo_2021(shared, tmp_path):
    data = tmp_path / "data"
    _import(data, shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015)
    _import(data, shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021)
    return data


def test_example_local_file_builds(almelo_2021):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "voorbeelden" / "lokale_indicatoren.toml"
    table = run_build(almelo_2021, example, say=lambda _: None).table
    row = _value(table, "WK014115", 2021, "meldingen_openbare_ruimte")
    assert row.waarde == pytest.approx(74.8) and row.teller == 243
    assert row.status == "waargenomen" and "VOORBEELD" in row.bron
    # The survey covers two of Almelo's twelve wijken: too little to stand for the gemeente,
    # so (213 + 124) / (300 + 200) is not passed off as Almelo's figure.
    gemeente = _value(table, "GM0141", 2021, "voelt_zich_veilig")
    assert gemeente.status == "ontbreekt" and pd.isna(gemeente.waarde)
    assert gemeente.dekking == pytest.approx(2 / 12)
    assert _value(table, "BU01411500", 2021, "voelt_zich_veilig").status == "ontbreekt"
    definitions = pd.read_csv(almelo_2021 / "processed" / "indicatoren_definities.csv")
    soort = definitions.set_index("indicator")["soort"]
    assert soort["voelt_zich_veilig"] == "subjectief" and soort["inwoners"] == "objectief"


LOCAL_DEFS = """bestanden = ["cijfers.csv"]
[indicator.meldingen]
naam = "Meldingen"
eenheid = "per 1.000 inwoners"
bron = "test"
soort = "objectief"
berekening = "per_1000"
"""


@pytest.mark.parametrize("row, problem", [
    ("BU01419999,2021,meldingen,5,,", "regel 2, kolom gebiedscode: onbekende gebiedscode "
                                      "BU01419999"),
    ("BU01411106,2021,meldingen,5,,", "regel 2, kolom gebiedscode: BU01411106 hoort bij de "
                                      "indeling van 2015, niet bij die van 2021"),
    ("BU01411000,2021,meldingen,veel,,", "regel 2, kolom waarde: geen getal: 'veel'"),
    ("BU01411000,2021,meldingen,5,,\nBU01411000,2021,meldingen,6,,",
     "regel 3, kolom gebiedscode: dubbele rij: BU01411000, 2021, meldingen staat ook op regel 2"),
    ("BU01411000,2021,klachten,5,,", "regel 2, kolom indicator: onbekende indicator 'klachten'"),
    ("BU01411000,1850,meldingen,5,,", "regel 2, kolom jaar: onmogelijk jaar '1850'"),
    ("BU0141,2021,meldingen,5,,", "regel 2, kolom gebiedscode: ongeldige code 'BU0141'"),
    ("BU01411000,2021,meldingen,50,1,10", "regel 2, kolom waarde: 50 past niet bij teller/noemer"),
])
def test_bad_local_rows_are_reported_and_nothing_is_built(almelo_2021, row, problem):
    defs = _write(almelo_2021 / "lokaal.toml", LOCAL_DEFS)
    _write(almelo_2021 / "cijfers.csv", "gebiedscode,jaar,indicator,waarde,teller,noemer\n"
           + row + "\n")
    before = snapshot(almelo_2021 / "processed")
    with pytest.raises(WijkkompasError, match="Lokale indicatoren afgekeurd") as info:
        run_build(almelo_2021, defs, say=lambda _: None)
    assert problem in str(info.value)
    assert "cijfers.csv" in str(info.value)
    report_path = almelo_2021 / "rapporten" / "rapport_lokaal.csv"
    assert str(report_path) in str(info.value)
    assert snapshot(almelo_2021 / "processed") == before
    report = pd.read_csv(report_path)
    assert list(report.columns) == ["bestand", "regel", "kolom", "probleem"]


def test_missing_local_column(almelo_2021):
    defs = _write(almelo_2021 / "lokaal.toml", LOCAL_DEFS)
    _write(almelo_2021 / "cijfers.csv", "gebiedscode,jaar,waarde\nBU01411000,2021,5\n")
    with pytest.raises(WijkkompasError, match="kolom indicator: verplichte kolom ontbreekt"):
        run_build(almelo_2021, defs, say=lambda _: None)


def test_local_excel_file(almelo_2021):
    defs = _write(almelo_2021 / "lokaal.toml", LOCAL_DEFS.replace("cijfers.csv", "cijfers.xlsx"))
    pd.DataFrame({"gebiedscode": ["WK014110"], "jaar": [2021], "indicator": ["meldingen"],
                  "waarde": [12.5], "teller": [80], "noemer": [6400]}).to_excel(
        almelo_2021 / "cijfers.xlsx", index=False)
    table = run_build(almelo_2021, defs, say=lambda _: None).table
    assert _value(table, "WK014110", 2021, "meldingen").waarde == 12.5


@pytest.mark.parametrize("text, match", [
    (LOCAL_DEFS.replace('"objectief"', '"gevoel"'),
     "indicator.meldingen.soort: moet 'objectief' of 'subjectief' zijn"),
    (LOCAL_DEFS.replace('"per_1000"', '"per_100"'), "berekening 'per_100' is onbekend"),
    (LOCAL_DEFS.replace("[indicator.meldingen]", "[indicator.inwoners]"), "al een CBS-indicator"),
    (LOCAL_DEFS.replace('naam = "Meldingen"\n', ""), "'indicator.meldingen.naam' ontbreekt"),
])
def test_bad_local_definitions(almelo_2021, text, match):
    defs = _write(almelo_2021 / "lokaal.toml", text)
    with pytest.raises(WijkkompasError, match=match):
        run_build(almelo_2021, defs, say=lambda _: None)


def test_data_dictionary_lists_every_indicator():
    from pathlib import Path

    from wijkkompas.catalogue import indicators, variables

    text = (Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md").read_text()
    for name in [*indicators(), *variables()]:
        assert f"`{name}`" in text, f"{name} ontbreekt in docs/data-dictionary.md"


def test_almelo_kompas_scores_from_real_data(almelo):
    from wijkkompas.kompas.scores import explain

    data, _ = almelo
    out = data / "processed"
    themes = pd.read_parquet(out / "kompas_scores.parquet")
    totaal = themes[themes.deel == "totaal"].set_index(["gebiedscode", "jaar", "thema"])
    # The frame is 2015 (the base year): the gemeente scores 100 there.
    assert totaal.loc[("GM0141", 2015, "werk_inkomen"), "score"] == pytest.approx(100)
    nsk = totaal.loc[("WK014115", 2015, "werk_inkomen")]
    assert nsk.dekking == 1.0 and nsk.klasse_label == "veel ongunstiger dan gemiddeld"
    # 2021's wijk- en buurtkaart has no benefit figures: no score, shown as "geen data".
    assert np.isnan(totaal.loc[("WK014115", 2021, "werk_inkomen"), "score"])
    assert totaal.loc[("WK014115", 2021, "werk_inkomen"), "klasse_label"] == "geen data"

    result = run_kompas(data, say=lambda _: None)
    chain = explain(result, "WK014115", 2015, "werk_inkomen")
    parts = chain.iloc[:-1]
    assert set(parts.indicator) == {"bijstand_per_1000", "ww_per_1000", "ao_per_1000"}
    assert chain.iloc[-1].score == pytest.approx(parts.score.mean())
    assert chain.iloc[-1].score == pytest.approx(nsk.score)
    reference = pd.read_csv(out / "kompas_referentie.csv").set_index("indicator")
    assert reference.loc["bijstand_per_1000", "referentiejaar"] == 2015
    sensitivity = pd.read_csv(out / "kompas_gevoeligheid.csv")
    assert set(sensitivity.gebiedscode) >= {"WK014110", "WK014115"}


def _worked_example_in_the_document() -> tuple[dict[str, tuple[float, ...]], float]:
    """The table and theme score of docs/methode.md's "Rekenvoorbeeld", as printed."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "methode.md").read_text()
    section = text.split("\n## Rekenvoorbeeld: Nieuwstraatkwartier", 1)[1].split("\n## ", 1)[0]
    names = {"AO-uitkeringen": "ao_per_1000", "bijstand": "bijstand_per_1000",
             "WW-uitkeringen": "ww_per_1000"}

    def number(cell: str) -> float:
        return float(cell.strip().replace(".", "").replace(",", "."))

    table = {}
    for line in section.splitlines():
        cells = line.strip("|").split("|")
        name = next((code for start, code in names.items() if cells[0].strip().startswith(start)),
                    None)
        if line.startswith("|") and name:
            table[name] = (number(cells[2]), number(cells[3]), number(cells[4]),
                           number(cells[5].rsplit("=", 1)[1]))
    theme = re.search(r"Themascore: .* = \*\*(\d+,\d)\*\*", section)
    return table, number(theme.group(1))


def test_worked_example_of_the_method_document(almelo):
    """docs/methode.md, "Rekenvoorbeeld": Nieuwstraatkwartier, Werk en inkomen, 2015, number
    by number as the document prints it (one decimal, the spread two)."""
    data, _ = almelo
    out = data / "processed"
    chain = pd.read_parquet(out / "kompas_indicatorscores.parquet")
    chain = chain[(chain.gebiedscode == "WK014115") & (chain.jaar == 2015)
                  & (chain.thema == "werk_inkomen")].set_index("indicator")
    # indicator: waarde wijk, gemeente 2015, spreiding wijken, score
    document = {"ao_per_1000": (123.3, 68.3, 27.61, 60.2),
                "bijstand_per_1000": (104.8, 42.8, 31.27, 60.4),
                "ww_per_1000": (40.1, 32.3, 6.67, 76.7)}
    assert _worked_example_in_the_document() == (document, 65.8)
    assert set(chain.index) == set(document)
    for indicator, (waarde, gemeente, spreiding, score) in document.items():
        row = chain.loc[indicator]
        assert (row.richting, row.referentiejaar, row.indeling) == (-1, 2015, 2015), indicator
        assert round(row.waarde, 1) == waarde, indicator
        assert round(row.referentiewaarde, 1) == gemeente, indicator
        assert round(row.spreiding, 2) == spreiding, indicator
        assert round(row.score, 1) == score, indicator
        # The document's formula, on the unrounded numbers.
        assert row.score == pytest.approx(
            100 - 20 * (row.waarde - row.referentiewaarde) / row.spreiding)
    themes = pd.read_parquet(out / "kompas_scores.parquet")
    theme = themes[(themes.gebiedscode == "WK014115") & (themes.jaar == 2015)
                   & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")].iloc[0]
    assert round(theme.score, 1) == 65.8
    assert theme.score == pytest.approx(chain.score.mean())
    assert theme.klasse_label == "veel ongunstiger dan gemiddeld"
    gemeente = themes[(themes.gebiedscode == "GM0141") & (themes.jaar == 2015)
                      & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")]
    assert gemeente.score.iloc[0] == pytest.approx(100)
    # Last of the 12 wijken with a score, whatever the weights: rang 12, band 12-12.
    sensitivity = pd.read_csv(out / "kompas_gevoeligheid.csv")
    row = sensitivity[(sensitivity.gebiedscode == "WK014115") & (sensitivity.jaar == 2015)
                      & (sensitivity.thema == "werk_inkomen")].iloc[0]
    assert (row.rang, row.rang_min, row.rang_max, row.wijken) == (12, 12, 12, 12)
    # 2021's wijk- en buurtkaart has no benefit figures: "geen score" for Werk en inkomen.
    later = themes[(themes.gebiedscode == "WK014115") & (themes.jaar == 2021)
                   & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")].iloc[0]
    assert np.isnan(later.score) and later.dekking == 0


def test_scores_follow_the_indeling_verdicts(almelo):
    """BU01411105 is "Riet Zuid" in 2015 and "Bedrijventerrein Bornsestraat" in 2021 under the
    same code. Its 2015 score on the 2021 indeling comes from the 2015 figures carried onto
    the industrial estate (hardly any inhabitants, no benefits), not from Riet Zuid's."""
    data, table = almelo
    out = data / "processed"
    verdicts = pd.read_csv(out / "indelingen.csv")
    verdict = verdicts[(verdicts.gebiedscode == "BU01411105") & (verdicts.vergeleken_met == 2015)]
    assert verdict.oordeel.tolist() == ["grens gewijzigd"]
    chain = pd.read_parquet(out / "kompas_indicatorscores.parquet")
    rows = chain[(chain.gebiedscode == "BU01411105") & (chain.jaar == 2015)
                 & (chain.thema == "werk_inkomen")].set_index("indicator")
    assert set(rows.indeling) == {2021} and (rows.vergelijkbaar == 1.0).all()
    carried = table[(table.gebiedscode == "BU01411105") & (table.jaar == 2015)
                    & (table.indeling == 2021)].set_index("indicator")
    for indicator in ("ao_per_1000", "bijstand_per_1000", "ww_per_1000"):
        assert rows.loc[indicator, "waarde"] == carried.loc[indicator, "waarde"]
    own = table[(table.gebiedscode == "BU01411105") & (table.jaar == 2015)
                & (table.indeling == 2015)].set_index("indicator")
    assert own.loc["bijstand_per_1000", "waarde"] != rows.loc["bijstand_per_1000", "waarde"]
    themes = pd.read_parquet(out / "kompas_scores.parquet")
    theme = themes[(themes.gebiedscode == "BU01411105") & (themes.jaar == 2015)
                   & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")].iloc[0]
    # Carried by where people live (by land area it was 134.2). With the verdict ignored
    # (joined on the code alone), Riet Zuid's own figures give about 64.
    assert round(theme.score, 1) == 134.4


def test_override_settles_an_ambiguous_key(shared):
    from wijkkompas.catalogue import resolve_odata

    props = json.loads((shared / "odata" / "85984NED" / "DataProperties.json").read_text())
    twin = dict(next(p for p in props if p["Key"] == "AantalInwoners_5"))
    twin.update(ID=999, Key="AantalInwoners_200")
    resolution = resolve_odata("85984NED", [*props, twin],
                               fixed={("85984NED", "inwoners"): "AantalInwoners_200"})
    assert resolution.keys["inwoners"] == "AantalInwoners_200"
    with pytest.raises(WijkkompasError, match="sleutel 'Bestaat_1' voor inwoners bestaat niet"):
        resolve_odata("85984NED", props, fixed={("85984NED", "inwoners"): "Bestaat_1"})


def test_build_and_scores_without_any_boundaries(tmp_path):
    from wijkkompas.kompas.results import load_processed

    data = tmp_path / "data"
    _import(data, _write(tmp_path / "hand.csv", HAND), 2020)
    run_build(data, say=lambda _: None)
    run_kompas(data, say=lambda _: None, gemeenten=["GM0999"])
    verdicts = pd.read_csv(data / "processed" / "indelingen.csv")
    assert list(verdicts.columns) == ["gebiedscode", "indeling", "overlap", "oordeel",
                                      "vergeleken_met"] and verdicts.empty
    processed = load_processed(data)
    assert processed.target is None
    with pytest.raises(WijkkompasError, match="Geen buurten van"):
        processed.boundaries("buurt")
