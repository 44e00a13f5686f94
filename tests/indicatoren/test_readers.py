"""Readers of the raw cache, of processed/ and of the geocode cache: damaged or wrong input
is one Dutch line naming the file and what to do; nothing is written."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.helpers import snapshot
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import CACHE_NAME, Geocoder
from wijkkompas.indicatoren.stage import run_build
from wijkkompas.kompas.stage import run_kompas

MANIFEST_HINT = ("Herstel het uit een back-up of verwijder het; haal daarna opnieuw op en "
                 "importeer opnieuw.")


@pytest.fixture(scope="module")
def built(shared, tmp_path_factory):
    """A data folder with the real 2015 Almelo files imported and built."""
    data = tmp_path_factory.mktemp("readers") / "data"
    for path, jaar in ((shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
                       (shared / "geo" / "almelo_buurten_2015_simplified.geojson", 2015),
                       (shared / "geo" / "almelo_wijken_2015_simplified.geojson", 2015)):
        assert main(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0
    run_build(data, say=lambda _: None)
    run_kompas(data, say=lambda _: None)
    return data


def _copy(built, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built, data)
    return data


def _one_line(capsys, argv, data) -> str:
    before = snapshot(data)
    capsys.readouterr()
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("fout: ")
    assert snapshot(data) == before
    return captured.err[len("fout: "):-1]


@pytest.mark.parametrize("change, line", [
    (lambda m: [], "verwacht een tabel met sleutels, niet []"),
    (lambda m: {**m, "kaart": {k: {x: y for x, y in v.items()
                                   if x != "bestand" or not k.endswith(".csv")}
                               for k, v in m["kaart"].items()}},
     "'kaart.2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv.bestand' ontbreekt"),
    (lambda m: {**m, "kaart": {k: {**v, "bestand": "../../../geheim.csv"}
                               for k, v in m["kaart"].items() if k.endswith(".csv")}},
     "kaart.2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv.bestand: '../../../geheim.csv' is "
     "geen gewone bestandsnaam"),
    (lambda m: {**m, "geo": {"2024": {"fetched_at": "2024-05-01T10:00:00+00:00"}}},
     "'geo.2024.counts' ontbreekt"),
    (lambda m: {**m, "cbs": {"../85984NED": {}}},
     "cbs.../85984NED: '../85984NED' heeft niet de verwachte vorm ^[0-9A-Za-z]+$; "
     "'cbs.../85984NED.table_id' ontbreekt; 'cbs.../85984NED.jaar' ontbreekt; "
     "'cbs.../85984NED.gevonden_via' ontbreekt; 'cbs.../85984NED.fetched_at' ontbreekt; "
     "'cbs.../85984NED.files' ontbreekt"),
])
def test_wrong_manifest_is_refused_before_building(built, tmp_path, capsys, change, line):
    data = _copy(built, tmp_path)
    path = data / "raw" / "manifest.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))), encoding="utf-8")
    message = _one_line(capsys, ["build", "--data-dir", str(data)], data)
    assert message == f"Het manifest {path} klopt niet: {line}. {MANIFEST_HINT}"


def _truncate(path):
    path.write_bytes(path.read_bytes()[:2000])


@pytest.mark.parametrize("name, damage, start", [
    ("indicatoren.parquet", lambda p: p.write_bytes(b"PAR1 kapot"), "is beschadigd of onleesbaar"),
    ("bouwinfo.json", lambda p: p.unlink(), "ontbreekt."),
    ("bouwinfo.json", lambda p: p.write_text("{doelindeling", encoding="utf-8"),
     "is beschadigd of onleesbaar"),
    ("grenzen.gpkg", _truncate, "is beschadigd of onleesbaar"),
    ("indelingen.csv", lambda p: p.unlink(), "ontbreekt."),
])
def test_damaged_processed_files_say_build_again(built, tmp_path, capsys, name, damage, start):
    data = _copy(built, tmp_path)
    path = data / "processed" / name
    damage(path)
    message = _one_line(capsys, ["export", "--data-dir", str(data)], data)
    assert message.startswith(f"{path} {start}")
    assert message.endswith("Bouw opnieuw met 'wijkkompas build'.")


@pytest.mark.parametrize("text, start", [
    ("{kapot", "is onleesbaar (Expecting property name enclosed in double quotes"),
    ('{"Grotestraat 1": {"x": "ver"}}', "heeft niet de verwachte vorm"),
    ("[]", "heeft niet de verwachte vorm"),
])
def test_damaged_geocode_cache_is_a_message(tmp_path, text, start):
    path = tmp_path / CACHE_NAME
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        Geocoder("http://127.0.0.1:9", tmp_path)
    message = str(info.value)
    assert message.startswith(f"De geocodeercache {path} {start}") and "\n" not in message
    assert message.endswith("Verwijder het bestand; de adressen worden dan opnieuw opgezocht.")
    assert path.read_text(encoding="utf-8") == text and len(list(tmp_path.iterdir())) == 1


# --------------------------------------------------------------------------- local figures

LOCAL = """bestanden = ["cijfers.csv"]
[indicator.meldingen]
naam = "Meldingen"
eenheid = "aantal"
bron = "test"
soort = "objectief"
berekening = "aantal"
[indicator.veilig]
naam = "Voelt zich veilig"
eenheid = "%"
bron = "test"
soort = "subjectief"
berekening = "aandeel"
[indicator.wmo]
naam = "Wmo per 1.000"
eenheid = "per 1.000 inwoners"
bron = "test"
soort = "objectief"
berekening = "per_1000"
"""
AREAS = {2021: {"GM0141", "WK014110", "BU01411000", "BU01411001"}}


def _local(tmp_path, rows: str, name: str = "cijfers.csv", header: str | None = None):
    from wijkkompas.indicatoren.lokaal import load_local, read_definitions

    defs = tmp_path / "lokaal.toml"
    defs.write_text(LOCAL.replace("cijfers.csv", name), encoding="utf-8")
    head = header or "gebiedscode,jaar,indicator,waarde,teller,noemer"
    (tmp_path / name).write_text(head + "\n" + rows, encoding="utf-8")
    return load_local(read_definitions(defs), AREAS)


@pytest.mark.parametrize("row, problem", [
    ("BU01411000,2021,meldingen,-3,,", "kolom waarde: een aantal kan niet negatief zijn (-3)"),
    ("BU01411000,2021,wmo,-0.5,,", "kolom waarde: een aantal per 1.000 kan niet negatief zijn "
                                   "(-0.5)"),
    ("BU01411000,2021,veilig,101,,", "kolom waarde: een aandeel ligt tussen 0 en 100, niet 101"),
    ("BU01411000,2021,veilig,-1,,", "kolom waarde: een aandeel ligt tussen 0 en 100, niet -1"),
    ("BU01411000,2021,veilig,100,30,20", "kolom teller: teller 30 is groter dan noemer 20"),
    ("BU01411000,2021,veilig,50,-10,20", "kolom teller: een teller kan niet negatief zijn "
                                          "(-10)"),
    ("BU01531000,2021,meldingen,3,,", "kolom gebiedscode: BU01531000 ligt niet in gemeente "
                                      "GM0141; dit bestand hoort alleen cijfers van GM0141 te "
                                      "bevatten"),
    ("BU01411000,2021,meldingen,twee duizend,,", "kolom waarde: geen getal: 'twee duizend'"),
])
def test_impossible_local_values_are_refused(tmp_path, row, problem):
    frame, problems = _local(tmp_path, row + "\n")
    assert [str(p) for p in problems] == [f"{tmp_path / 'cijfers.csv'} regel 2, {problem}"]
    assert frame.empty


def test_a_refused_value_is_never_stored_while_others_are_kept_apart(tmp_path):
    rows = "BU01411000,2021,meldingen,3,,\nBU01411001,2021,meldingen,-3,,\n"
    frame, problems = _local(tmp_path, rows)
    assert [p.regel for p in problems] == [3]
    assert frame["gebiedscode"].tolist() == ["BU01411000"]  # the build stops on any problem


def test_dutch_local_file_with_thousands(tmp_path):
    rows = "BU01411000;2021;meldingen;2.160;;\nWK014110;2021;veilig;62,5;1.250;2.000\n"
    frame, problems = _local(tmp_path, rows,
                             header="gebiedscode;jaar;indicator;waarde;teller;noemer")
    assert problems == []
    values = frame.set_index("gebiedscode")
    assert values.loc["BU01411000", "waarde"] == 2160.0
    assert values.loc["BU01411000", "teller"] == 2160.0  # a count is its own teller
    assert values.loc["WK014110", ["waarde", "teller", "noemer"]].tolist() == [62.5, 1250.0,
                                                                              2000.0]
    assert pd.isna(values.loc["BU01411000", "noemer"])


def test_missing_local_value_stays_missing(tmp_path):
    frame, problems = _local(tmp_path, "BU01411000,2021,meldingen,,,\nBU01411001,2021,"
                                       "meldingen,.,,\n")
    assert problems == []
    assert frame["waarde"].isna().all() and set(frame["status"]) == {"ontbreekt"}


def test_local_excel_with_text_in_a_number_column(tmp_path):
    from wijkkompas.indicatoren.lokaal import load_local, read_definitions

    defs = tmp_path / "lokaal.toml"
    defs.write_text(LOCAL.replace("cijfers.csv", "cijfers.xlsx"), encoding="utf-8")
    pd.DataFrame({"gebiedscode": ["BU01411000", "BU01411001"], "jaar": [2021, 2021],
                  "indicator": ["meldingen", "meldingen"],
                  "waarde": [12, "twee duizend"]}).to_excel(tmp_path / "cijfers.xlsx",
                                                            index=False)
    _, problems = load_local(read_definitions(defs), AREAS)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'cijfers.xlsx'} regel 3, kolom waarde: geen getal: 'twee duizend'"]


@pytest.mark.parametrize("text, line", [
    ('indicator = "abc"\n', "indicator: moet een tabel met sleutels zijn (nu: 'abc')"),
    ("bestanden = 5\n", "bestanden: moet een lijst [...] zijn, elk element een tekst tussen "
                        "aanhalingstekens (nu: 5)"),
    ('[indicator."Meldingen!"]\nnaam = "x"\neenheid = ""\nbron = "x"\nsoort = "objectief"\n'
     'berekening = "aantal"\n', "indicator.Meldingen!: 'Meldingen!' is geen geldige "
                                "indicatornaam: gebruik kleine letters, cijfers en _ "
                                "(bijvoorbeeld meldingen_per_1000)"),
])
def test_bad_local_definitions_are_one_line(built, tmp_path, capsys, text, line):
    defs = tmp_path / "lokaal.toml"
    defs.write_text(text, encoding="utf-8")
    data = _copy(built, tmp_path)
    message = _one_line(capsys, ["build", "--data-dir", str(data), "--lokaal", str(defs)], data)
    assert message == f"{defs}: {line}."


# --------------------------------------------------------------------------- CBS and PDOK codes


def _cbs_folder(tmp_path, change):
    from tests.fixtures.kwb import table_2024

    table = table_2024()
    rows = [dict(r) for r in table.rows]
    change(rows)
    folder = tmp_path / "cbs" / "85984NED"
    folder.mkdir(parents=True)
    (folder / "DataProperties.json").write_text(json.dumps(table.data_properties))
    (folder / "TypedDataSet.json").write_text(json.dumps(rows))
    return folder


@pytest.mark.parametrize("change, problem", [
    (lambda rows: rows[3].update(WijkenEnBuurten="BU014110  "),
     "rij 4: ongeldige gebiedscode 'BU014110' (verwacht GM####, WK######, BU######## of NL00)"),
    (lambda rows: rows[1].update(WijkenEnBuurten=None),
     "rij 2: ongeldige gebiedscode None (verwacht GM####, WK######, BU######## of NL00)"),
    (lambda rows: rows[2].update(AantalInwoners_5="veel"),
     "rij 3, AantalInwoners_5: geen getal: 'veel'"),
])
def test_cbs_rows_with_wrong_codes_or_values_are_refused(tmp_path, change, problem):
    from wijkkompas.indicatoren.sources import read_cbs_table

    folder = _cbs_folder(tmp_path, change)
    with pytest.raises(WijkkompasError) as info:
        read_cbs_table(folder, "85984NED", 2024)
    assert str(info.value) == (f"{folder / 'TypedDataSet.json'}: {problem}. Haal de tabel "
                               "opnieuw op met 'wijkkompas fetch --refresh'.")


def test_cbs_rows_read_as_they_are(tmp_path):
    from wijkkompas.indicatoren.sources import read_cbs_table

    frame = read_cbs_table(_cbs_folder(tmp_path, lambda rows: None), "85984NED", 2024).frame
    values = frame.set_index("gebiedscode")
    assert values.loc["BU01411000", "inwoners"] == 2300
    assert pd.isna(values.loc["BU01411500", "huishoudens"])  # None stays missing


def test_pdok_features_with_a_wrong_code_are_not_written(settings, pdok_server, tmp_path):
    from wijkkompas.fetch.pdok import fetch_boundaries

    pdok_server.layers[(2024, "buurten")][5]["properties"]["buurtcode"] = "BU0141XX00"
    raw = tmp_path / "raw"
    with pytest.raises(WijkkompasError) as info:
        fetch_boundaries(2024, "GM0141", raw, settings, None)
    assert str(info.value) == ("PDOK-laag 'buurten' 2024: object 6: ongeldige buurtcode "
                               "'BU0141XX00' (verwacht BU en acht cijfers). Controleer de "
                               "PDOK-instellingen (pdok_url, pdok_pad, pdok_historisch_pad) of "
                               "importeer de wijk- en buurtkaart van dat jaar (wijkkompas import).")
    assert snapshot(raw) == {}


def test_kaart_column_of_text_where_numbers_belong_is_refused(tmp_path):
    from wijkkompas.indicatoren.sources import read_kaart_source

    path = tmp_path / "kaart.csv"
    path.write_text("BU_CODE;AANT_INW\nBU01411000;veel\nBU01411001;weinig\nBU01411002;2.160\n",
                    encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        read_kaart_source(path, 2015)
    assert str(info.value) == (f"{path}: kolom AANT_INW bevat tekst waar getallen horen. "
                               "Verbeter het bestand en importeer het opnieuw.")


def test_a_cell_with_a_line_break_stays_on_one_line(tmp_path):
    frame, problems = _local(tmp_path, '"BU0141\n1000",2021,"melding\nen",5,,\n')
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'cijfers.csv'} regel 2, kolom gebiedscode: ongeldige code 'BU0141 1000' "
        "(verwacht GM####, WK###### of BU########)",
        f"{tmp_path / 'cijfers.csv'} regel 2, kolom indicator: onbekende indicator 'melding en'; "
        f"definieer hem in {tmp_path / 'lokaal.toml'}"]


def test_local_columns_differing_only_in_capitals_are_refused(tmp_path):
    with pytest.raises(WijkkompasError) as info:
        _local(tmp_path, "BU01411000,2021,meldingen,5,6\n",
               header="gebiedscode,jaar,indicator,waarde,Waarde")
    assert str(info.value) == (f"{tmp_path / 'cijfers.csv'}: de kopregel noemt kolom waarde "
                               "meer dan eens (hoofdletters tellen niet). Geef elke kolom een "
                               "eigen naam.")


@pytest.mark.parametrize("text, problem", [
    ('{"WijkenEnBuurten": "GM0141    "}',
     "is geen lijst van rijen; haal de tabel opnieuw op met 'wijkkompas fetch --refresh'."),
    ('[{"WijkenEnBuurten": "GM0141    "}, ["GM0141"]]',
     "is geen lijst van rijen; haal de tabel opnieuw op met 'wijkkompas fetch --refresh'."),
    ('[{"WijkenEnBuurten": "GM0141    ", "AantalInwoners_5": 12', "niet lezen ("),
    ("", "niet lezen ("),
])
def test_a_damaged_cbs_dataset_is_one_line(tmp_path, text, problem):
    from wijkkompas.indicatoren.sources import read_cbs_table

    folder = _cbs_folder(tmp_path, lambda rows: None)
    (folder / "TypedDataSet.json").write_text(text)
    with pytest.raises(WijkkompasError) as info:
        read_cbs_table(folder, "85984NED", 2024)
    message = str(info.value)
    assert "\n" not in message
    if problem.startswith("niet lezen"):
        assert message.startswith(f"Kan {folder / 'TypedDataSet.json'} niet lezen (")
        assert message.endswith("Haal de tabel opnieuw op met 'wijkkompas fetch --refresh'.")
    else:
        assert message == f"{folder / 'TypedDataSet.json'} {problem}"


def test_cbs_columns_of_padded_text_mixed_numbers_and_booleans(tmp_path):
    """Only columns of JSON numbers and nulls take the fast path; text with numbers in it
    (CBS pads codes), a mix of integers and decimals, and true/false are read as before."""
    from wijkkompas.indicatoren.sources import read_cbs_table

    def change(rows):
        for number, row in enumerate(rows):
            row["AantalInwoners_5"] = f"{100 + number:<10}"  # text holding a number
            row["HuishoudensTotaal_29"] = [7, 7.5, None][number % 3]
        rows[0]["AantalInwoners_5"] = "          "  # blank text: missing

    frame = read_cbs_table(_cbs_folder(tmp_path, change), "85984NED", 2024).frame
    assert pd.isna(frame["inwoners"].iloc[0])
    assert frame["inwoners"].iloc[1:4].tolist() == [101.0, 102.0, 103.0]
    assert frame["huishoudens"].iloc[:2].tolist() == [7.0, 7.5]
    assert pd.isna(frame["huishoudens"].iloc[2])
    assert frame["inwoners"].dtype == frame["huishoudens"].dtype == "float64"

    def booleans(rows):
        for number, row in enumerate(rows):
            row["AantalInwoners_5"] = number % 2 == 0

    frame = read_cbs_table(_cbs_folder(tmp_path / "b", booleans), "85984NED", 2024).frame
    assert frame["inwoners"].iloc[:2].tolist() == [1.0, 0.0]


def test_cbs_region_titles_as_before(tmp_path):
    """Names come from WijkenEnBuurten.json (key and title, padded, other fields ignored);
    a title that is absent, null or blank is a missing name (never "" or "None"); a
    damaged file is the one-line message of any raw file."""
    from wijkkompas.indicatoren.sources import read_cbs_table

    folder = _cbs_folder(tmp_path, lambda rows: None)
    regions = folder / "WijkenEnBuurten.json"
    regions.write_text(json.dumps([
        {"Key": "GM0141    ", "Title": "Almelo  ", "Description": "x", "CategoryGroupID": 1},
        {"Key": "WK014110  "}, {"Key": "WK014115", "Title": None},
        {"Key": "BU01411000", "Title": "   "}, {"Key": "GM0153", "Title": "Enschede"}]))
    names = read_cbs_table(folder, "85984NED", 2024).frame.set_index("gebiedscode")
    assert names.loc["GM0141", "gebiedsnaam"] == "Almelo"
    assert names.loc["GM0153", "gebiedsnaam"] == "Enschede"
    for code in ("WK014110", "WK014115", "BU01411000"):
        assert pd.isna(names.loc[code, "gebiedsnaam"]), code
    regions.write_text('[{"Key": "GM0141", ')
    with pytest.raises(WijkkompasError) as info:
        read_cbs_table(folder, "85984NED", 2024)
    assert str(info.value).startswith(f"Kan {regions} niet lezen (")
