"""Import of wijk- en buurtkaart attribute files: the real 2015 and 2021 Almelo files."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from tests.helpers import snapshot
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.kaart_import import import_kaart, read_kaart
from wijkkompas.manifest import read_manifest

SECRET = -99999999


def test_2015_csv_secret_values_are_missing(shared):
    path = shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv"
    raw = pd.read_csv(path)
    table = read_kaart(path)

    assert table.niveau == "buurt" and table.code_column == "BU_CODE"
    assert table.stijl.startswith("2015")
    assert len(table.frame) == 68
    # Every secret value, and only those, became missing; no column lost a real number.
    for column in raw.columns:
        secret = raw[column] == SECRET
        if pd.api.types.is_numeric_dtype(raw[column]):
            assert table.frame[column].isna().sum() == secret.sum() + raw[column].isna().sum()
    assert table.missing_counts["WWB_UITTOT"] == 3
    row = table.frame.set_index("BU_CODE").loc["BU01411000"]
    assert row["AANT_INW"] == 2160 and row["GEM_HH_GR"] == pytest.approx(1.6)
    assert (table.frame.select_dtypes("number") == SECRET).sum().sum() == 0


def test_2021_csv_in_shapefile_names(shared):
    path = shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"
    table = read_kaart(path)
    assert table.niveau == "buurt" and table.code_column == "buurtcode"
    assert table.stijl.startswith("shapefile")
    assert len(table.frame) == 71
    assert table.missing_counts["percenta14"] == 15
    assert table.frame["aantal_inw"].sum() > 70000
    assert set(table.frame["indelingsw"].dropna()) == {3}


def _kaart_2021(shared) -> gpd.GeoDataFrame:
    stats = pd.read_csv(shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv")
    geo = gpd.read_file(shared / "geo" / "almelo_buurten_2021_epsg28992.geojson")
    return geo[["buurtcode", "geometry"]].merge(stats, on="buurtcode")


def test_2021_shapefile_with_sidecars(shared, tmp_path):
    shp = tmp_path / "buurt_2021.shp"
    _kaart_2021(shared).to_file(shp)
    raw = tmp_path / "raw"
    manifest = read_manifest(raw)
    table = import_kaart(shp, 2021, raw, manifest)

    assert table.niveau == "buurt" and len(table.frame) == 71
    assert table.frame["percenta14"].isna().sum() == 15
    copied = sorted(p.name for p in (raw / "kaart" / "2021").iterdir())
    assert {"buurt_2021.shp", "buurt_2021.shx", "buurt_2021.dbf", "buurt_2021.prj"} <= set(copied)
    assert (raw / "kaart" / "2021" / "buurt_2021.dbf").read_bytes() == \
        shp.with_suffix(".dbf").read_bytes()
    entry = manifest["kaart"]["2021/buurt_2021.shp"]
    assert entry["rows"] == 71 and entry["niveau"] == "buurt"
    assert entry["ontbrekend"]["percenta14"] == 15


def test_geopackage_with_full_pdok_names(shared, tmp_path):
    frame = _kaart_2021(shared).rename(columns={"aantal_inw": "aantal_inwoners",
                                                "gemeenteco": "gemeentecode"})
    gpkg = tmp_path / "wijkenbuurten_2021.gpkg"
    frame.to_file(gpkg, layer="buurten", driver="GPKG")
    table = read_kaart(gpkg)
    assert table.stijl.startswith("PDOK")
    assert table.frame["aantal_inwoners"].sum() == frame["aantal_inwoners"].sum()


def test_semicolon_csv_with_decimal_comma_and_dots(tmp_path):
    path = tmp_path / "kaart.csv"
    path.write_text("WK_CODE;WK_NAAM;AANT_INW;GEM_HH_GR\n"
                    "WK014110;Binnenstad;6100;1,6\n"
                    "WK014111;De Riet;.;-99999999\n", encoding="utf-8")
    table = read_kaart(path)
    assert table.niveau == "wijk"
    assert table.frame["GEM_HH_GR"].tolist()[0] == pytest.approx(1.6)
    assert table.frame["AANT_INW"].isna().tolist() == [False, True]
    assert table.frame["GEM_HH_GR"].isna().tolist() == [False, True]


def test_cli_import_writes_manifest(shared, tmp_path, capsys):
    from wijkkompas.cli import main

    path = shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv"
    assert main(["import", str(path), "--jaar", "2015", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "68 buurten (2015" in out
    manifest = json.loads((tmp_path / "raw" / "manifest.json").read_text())
    entry = manifest["kaart"]["2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv"]
    assert entry["rows"] == 68 and entry["codekolom"] == "BU_CODE"
    assert (tmp_path / "raw" / "kaart" / "2015" / path.name).read_bytes() == path.read_bytes()


def test_import_from_config_list(shared, tmp_path, capsys):
    from wijkkompas.cli import main

    config = tmp_path / "wijkkompas.toml"
    config.write_text(
        "[[import]]\n"
        f"bestand = '{shared / 'cbs' / 'kwb2015_almelo_buurten_wijkbuurtkaart.csv'}'\n"
        "jaar = 2015\n"
        "[[import]]\n"
        f"bestand = '{shared / 'cbs' / 'kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv'}'\n"
        "jaar = 2021\n", encoding="utf-8")
    code = main(["import", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert code == 0
    manifest = read_manifest(tmp_path / "data" / "raw")
    assert sorted(manifest["kaart"]) == [
        "2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv",
        "2021/kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv",
    ]


# --------------------------------------------------------------------------- bad input


def _bad(path, jaar, raw, match):
    before = snapshot(raw)
    with pytest.raises(WijkkompasError, match=match) as info:
        import_kaart(path, jaar, raw, read_manifest(raw))
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert snapshot(raw) == before
    return str(info.value)


def test_unreadable_geopackage(tmp_path):
    path = tmp_path / "kapot.gpkg"
    path.write_bytes(b"dit is geen geopackage" * 20)
    _bad(path, 2021, tmp_path / "raw", "Kan .* niet lezen")


def test_unknown_file_type(tmp_path):
    path = tmp_path / "kaart.xlsx"
    path.write_bytes(b"PK")
    _bad(path, 2021, tmp_path / "raw", "onbekend bestandstype '.xlsx'")


def test_missing_file(tmp_path):
    _bad(tmp_path / "weg.csv", 2021, tmp_path / "raw", "bestaat niet")


def test_no_code_column(tmp_path):
    path = tmp_path / "kaart.csv"
    path.write_text("naam,inwoners\nBinnenstad,6100\n", encoding="utf-8")
    _bad(path, 2021, tmp_path / "raw", "geen kolom met gebiedscodes")


def test_bad_and_duplicate_codes_are_named_by_line(tmp_path):
    path = tmp_path / "kaart.csv"
    path.write_text("buurtcode,aantal_inw\nBU01411000,10\nBU0141100,20\nBU01411000,30\n",
                    encoding="utf-8")
    message = _bad(path, 2021, tmp_path / "raw", "regel 3: ongeldige buurtcode 'BU0141100'")
    assert "buurtcode BU01411000 komt meer dan eens voor (regels 2, 4)" in message


def test_year_disagrees_with_file(shared, tmp_path):
    path = shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"
    _bad(path, 2020, tmp_path / "raw", r"de kolom 'jaar' zegt \[2021\], maar --jaar is 2020")


def test_empty_file(tmp_path):
    path = tmp_path / "leeg.csv"
    path.write_text("buurtcode,aantal_inw\n", encoding="utf-8")
    _bad(path, 2021, tmp_path / "raw", "bevat geen rijen")


# --------------------------------------------------------------------------- import_all


def test_import_all_stores_each_file_with_its_manifest_entry(shared, tmp_path, monkeypatch):
    from wijkkompas.fetch import kaart_import

    lines = []
    raw = tmp_path / "raw"
    stored = []
    real = kaart_import.atomic_paths
    monkeypatch.setattr(kaart_import, "atomic_paths", lambda targets: stored.append(
        [str(t.relative_to(raw)) for t in targets]) or real(targets))
    files = [(shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
             (str(shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"), "2021")]
    tables = kaart_import.import_all(files, raw, say=lines.append)

    assert [len(t.frame) for t in tables] == [68, 71]
    # Each file is put in place together with the manifest that records it.
    assert stored == [["kaart/2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv", "manifest.json"],
                      ["kaart/2021/kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv",
                       "manifest.json"]]
    assert sorted(read_manifest(raw)["kaart"]) == [
        "2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv",
        "2021/kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv",
    ]
    assert len(lines) == 2
    assert lines[0].startswith(f"{files[0][0]}: 68 buurten (2015, kolommen: 2015")
    assert lines[1].startswith(f"{files[1][0]}: 71 buurten (2021, kolommen: shapefile")


def test_import_all_stores_nothing_when_one_file_is_refused(shared, tmp_path):
    from wijkkompas.fetch.kaart_import import import_all

    raw = tmp_path / "raw"
    import_all([(shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015)], raw,
               say=lambda _: None)
    before = snapshot(raw)
    bad = tmp_path / "leeg.csv"
    bad.write_text("", encoding="utf-8")
    with pytest.raises(WijkkompasError, match=str(bad)):
        import_all([(shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
                    (bad, 2021)], raw, say=lambda _: None)
    assert snapshot(raw) == before


def test_import_all_refuses_a_pair_without_a_year(tmp_path):
    from wijkkompas.fetch.kaart_import import import_all

    with pytest.raises(WijkkompasError, match=r"^Ongeldig importbestand \['buurt\.csv'\]: geef "
                       "een bestand en een jaar"):
        import_all([["buurt.csv"]], tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
def test_dutch_csv_reads_thousands_points_as_thousands(tmp_path):
    path = tmp_path / "kaart.csv"
    path.write_text("BU_CODE;BU_NAAM;AANT_INW;GEM_HH_GR;WOZ\n"
                    "BU01411000;Binnenstad-Noord;2.160;1,6;1.234,5\n"
                    "BU01411001;Binnenstad-Zuid;1475;.;-99999997\n"
                    "BU01411002;Binnenstad-Oost;x;2;3\n", encoding="utf-8")
    frame = read_kaart(path).frame
    assert frame["AANT_INW"].tolist()[:2] == [2160, 1475] and pd.isna(frame["AANT_INW"][2])
    assert frame["GEM_HH_GR"].tolist()[0] == 1.6 and pd.isna(frame["GEM_HH_GR"][1])
    assert frame["WOZ"].tolist()[0] == 1234.5 and pd.isna(frame["WOZ"][1])
    assert frame["BU_NAAM"].tolist() == ["Binnenstad-Noord", "Binnenstad-Zuid", "Binnenstad-Oost"]


@pytest.mark.parametrize("cell, problem", [
    ("twee duizend", "regel 3, kolom AANT_INW: geen getal: 'twee duizend'"),
    ("1,234.5", "regel 3, kolom AANT_INW: '1,234.5' past niet bij de getalnotatie van dit "
                "bestand (decimaalkomma, punt tussen duizendtallen)"),
])
def test_a_word_in_a_number_column_is_refused_with_line_and_column(tmp_path, cell, problem):
    path = tmp_path / "kaart.csv"
    path.write_text("BU_CODE;AANT_INW\nBU01411000;2.160\nBU01411001;" + cell + "\n"
                    "BU01411002;1.475\n", encoding="utf-8")
    message = _bad(path, 2021, tmp_path / "raw", "geen getal|past niet")
    assert message == f"{path}: {problem}. Verbeter het bestand en importeer opnieuw."


def test_long_lists_of_problems_are_capped(tmp_path):
    path = tmp_path / "kaart.csv"
    rows = ["BU01411000,1"] * 25 + [f"BU0141{n:03d},1" for n in range(12)]
    path.write_text("buurtcode,aantal_inw\n" + "\n".join(rows) + "\n", encoding="utf-8")
    message = _bad(path, 2021, tmp_path / "raw", "ongeldige buurtcode")
    # As many problems as fit in about 160 characters, the rest counted (#26: the line
    # stays short).
    bad = "; ".join(f"regel {n}: ongeldige buurtcode 'BU0141{n - 27:03d}' in kolom buurtcode"
                    for n in range(27, 29))
    assert message == f"{path}: {bad} (en nog 11). Verbeter het bestand en importeer opnieuw."
    path.write_text("buurtcode,aantal_inw\n" + "\n".join(rows[:25]) + "\n", encoding="utf-8")
    message = _bad(path, 2021, tmp_path / "raw", "komt meer dan eens voor")
    assert message == (f"{path}: buurtcode BU01411000 komt meer dan eens voor (regels 2, 3, 4, 5 "
                       "(en nog 21)). Verbeter het bestand en importeer opnieuw.")


def test_a_file_mixing_gemeenten_is_refused_with_lines(tmp_path):
    path = tmp_path / "kaart.csv"
    path.write_text("buurtcode,aantal_inw\nBU01411000,10\nBU01530000,20\nBU01411001,30\n"
                    "BU01530001,40\nBU01411002,5\n", encoding="utf-8")
    message = _bad(path, 2021, tmp_path / "raw", "gemeenten")
    assert message == (f"{path}: gebieden van 2 gemeenten (GM0141 (3), GM0153 (2)); een import "
                       "bevat de wijken of buurten van één gemeente. Niet in GM0141: regels 3, 5. "
                       "Filter het bestand op uw gemeente en importeer opnieuw.")


def test_the_national_file_is_refused_not_imported(shared, tmp_path):
    path = shared / "cbs" / "kwb2015_nl_gemeenten_wijkbuurtkaart.csv"
    message = _bad(path, 2015, tmp_path / "raw", "gebieden van 393 gemeenten")
    # Three gemeenten named, the rest counted; no row numbers of 392 gemeenten (#26).
    assert "(GM0003 (1), GM0005 (1), GM0007 (1) (en nog 390))" in message
    assert "regels" not in message and len(message) - len(str(path)) < 240


def test_a_second_gemeente_shares_the_cache(shared, tmp_path):
    """Several gemeenten in one data folder (--gemeente GM0141,GM0153): each file holds one
    gemeente (a mixed file is refused, see above), the folder may hold several."""
    raw = tmp_path / "raw"
    manifest = read_manifest(raw)
    import_kaart(shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015, raw,
                 manifest)
    other = tmp_path / "enschede.csv"
    other.write_text("WK_CODE,AANT_INW\nWK015300,20000\n", encoding="utf-8")
    import_kaart(other, 2015, raw, manifest)
    assert {key: entry["gemeente"] for key, entry in manifest["kaart"].items()} == {
        "2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv": "GM0141",
        "2015/enschede.csv": "GM0153"}


# --------------------------------------------------------------------------- geometry, CRS


def _rd_features(shared, count: int = 3) -> dict:
    """The first buurten of the real 2021 RD file, as GeoJSON text to change by hand."""
    path = shared / "geo" / "almelo_buurten_2021_epsg28992.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = data["features"][:count]
    for feature in data["features"]:
        feature["properties"] = {"buurtcode": feature["properties"]["buurtcode"]}
    return data


def _outer_ring(feature: dict) -> list:
    geometry = feature["geometry"]
    return (geometry["coordinates"][0][0] if geometry["type"] == "MultiPolygon"
            else geometry["coordinates"][0])


def _write_geojson(tmp_path, data: dict):
    path = tmp_path / "buurten.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_real_rd_geojson_with_crs_is_imported(shared, tmp_path):
    path = _write_geojson(tmp_path, _rd_features(shared))
    assert "crs" in json.loads(path.read_text())
    raw = tmp_path / "raw"
    table = import_kaart(path, 2021, raw, read_manifest(raw))
    assert len(table.frame) == 3 and table.gemeente == "GM0141"


@pytest.mark.parametrize("change, problem", [
    (lambda ring: ring.pop(), "object 2: een ring is niet gesloten of heeft minder dan 4 punten"),
    (lambda ring: ring.__delitem__(slice(2, None)),
     "object 2: een ring is niet gesloten of heeft minder dan 4 punten"),
])
def test_broken_rings_are_named_by_feature(shared, tmp_path, change, problem):
    data = _rd_features(shared)
    change(_outer_ring(data["features"][1]))
    path = _write_geojson(tmp_path, data)
    message = _bad(path, 2021, tmp_path / "raw", "ring")
    assert message == (f"{path}: {problem}. Herstel de geometrie (bijvoorbeeld in QGIS) en "
                       "importeer opnieuw.")


def test_null_geometry_is_named(shared, tmp_path):
    data = _rd_features(shared)
    data["features"][2]["geometry"] = None
    path = _write_geojson(tmp_path, data)
    message = _bad(path, 2021, tmp_path / "raw", "geen geometrie")
    assert message.startswith(f"{path}: object 3: geen geometrie. ")


def test_rd_coordinates_without_crs_are_refused(shared, tmp_path):
    data = _rd_features(shared)
    del data["crs"]
    path = _write_geojson(tmp_path, data)
    message = _bad(path, 2021, tmp_path / "raw", "lijken RD")
    assert message == (
        f"{path}: het bestand zegt EPSG:4326 (lengte- en breedtegraden), maar de coördinaten "
        "lijken RD (EPSG:28992); een GeoJSON zonder 'crs' geldt als WGS84. Geef het juiste "
        "coördinatenstelsel op (voor RD: \"crs\" EPSG:28992) en importeer opnieuw.")


def test_wgs84_coordinates_labelled_rd_are_refused(shared, tmp_path):
    wgs = json.loads((shared / "geo" / "almelo_buurten_2021.geojson").read_text())
    data = _rd_features(shared)
    by_code = {f["properties"]["buurtcode"]: f["geometry"] for f in wgs["features"]}
    for feature in data["features"]:
        feature["geometry"] = by_code[feature["properties"]["buurtcode"]]
    path = _write_geojson(tmp_path, data)  # keeps the RD crs member
    message = _bad(path, 2021, tmp_path / "raw", "zegt RD")
    assert message == (
        f"{path}: het bestand zegt RD (EPSG:28992), maar de coördinaten liggen niet in "
        "Nederland in RD; de coördinaten lijken lengte- en breedtegraden (WGS84). Sla het op "
        "met het juiste coördinatenstelsel en importeer opnieuw.")


def test_shapefile_without_dbf_or_prj(shared, tmp_path):
    shp = tmp_path / "buurt_2021.shp"
    _kaart_2021(shared).to_file(shp)
    shp.with_suffix(".prj").unlink()
    message = _bad(shp, 2021, tmp_path / "raw", "coördinatenstelsel")
    assert message == (f"{shp}: het bestand zegt niet in welk coördinatenstelsel het staat (de "
                       "coördinaten lijken RD, EPSG:28992). Voeg het .prj-bestand toe of sla "
                       "het bestand opnieuw op met het coördinatenstelsel.")
    shp.with_suffix(".dbf").unlink()
    message = _bad(shp, 2021, tmp_path / "raw", "dbf")
    assert message == (f"{shp}: het .dbf-bestand met de kenmerken ontbreekt naast het "
                       ".shp-bestand. Zet .shp, .shx, .dbf en .prj samen in één map en "
                       "importeer opnieuw.")


def test_text_in_a_geojson_number_column_is_named_by_feature(shared, tmp_path):
    data = _rd_features(shared)
    for number, feature in enumerate(data["features"]):
        feature["properties"]["aantal_inw"] = ["2160", "twee duizend", "1475.0"][number]
    path = _write_geojson(tmp_path, data)
    message = _bad(path, 2021, tmp_path / "raw", "geen getal")
    assert message == (f"{path}: object 2, kolom aantal_inw: geen getal: 'twee duizend'. "
                       "Verbeter het bestand en importeer opnieuw.")
    data["features"][1]["properties"]["aantal_inw"] = None
    table = read_kaart(_write_geojson(tmp_path, data))
    assert table.frame["aantal_inw"].tolist()[::2] == [2160, 1475]
    assert pd.isna(table.frame["aantal_inw"][1])


def _geojson(path, codes):
    """A GeoJSON in WGS84 of small squares near Almelo, one buurt per code."""
    features = [{"type": "Feature", "properties": {"buurtcode": code, "aantal_inw": 10},
                 "geometry": {"type": "Polygon", "coordinates": [[
                     [6.60 + i / 100, 52.35], [6.605 + i / 100, 52.35],
                     [6.605 + i / 100, 52.355], [6.60 + i / 100, 52.35]]]}}
                for i, code in enumerate(codes)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("codes, part", [
    (["BU01411000", "BU01530000", "BU01411001", "BU01530001", "BU01411002"],
     "Niet in GM0141: objecten 2, 4."),
    (["BU01411000", "BU01411001", "BU01411000"],
     "buurtcode BU01411000 komt meer dan eens voor (objecten 1, 3)"),
])
def test_the_features_of_a_geo_file_are_named_in_dutch(tmp_path, codes, part):
    """The plural of "object" was made with an s: "objects"."""
    path = _geojson(tmp_path / "buurten.geojson", codes)
    message = _bad(path, 2021, tmp_path / "raw", None)
    assert part in message and "objects" not in message


def test_a_geo_file_without_features_is_told_in_dutch(tmp_path):
    """numpy's "zero-size array to reduction operation fmin which has no identity" was the
    reason given."""
    path = _geojson(tmp_path / "leeg.geojson", [])
    message = _bad(path, 2021, tmp_path / "raw", None)
    assert message == f"{path} bevat geen rijen. Controleer het bestand."


def test_a_file_of_other_areas_for_a_year_already_imported_is_refused(shared, tmp_path):
    """The 2015 buurten imported with --jaar 2021 beside the 2021 buurten were both kept in
    raw/kaart/2021 and mixed in one build (#26)."""
    from wijkkompas.cli import main
    from wijkkompas.fetch.kaart_import import import_all

    raw = tmp_path / "raw"
    csv_2021 = shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"
    geo_2021 = shared / "geo" / "almelo_buurten_2021_epsg28992.geojson"
    csv_2015 = shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv"
    # Attributes beside boundaries of the same buurten: both kept.
    import_all([(csv_2021, 2021), (geo_2021, 2021)], raw, say=lambda _: None)
    before = snapshot(raw)
    with pytest.raises(WijkkompasError) as info:
        import_all([(csv_2015, 2021)], raw, say=lambda _: None)
    assert str(info.value) == (
        f"{csv_2015}: andere buurten dan almelo_buurten_2021_epsg28992.geojson (ook "
        "2021): 11 codes verschillen, zoals BU01411106. Klopt --jaar? Zo ja, vervang het "
        "eerdere bestand met --vervang.")
    assert snapshot(raw) == before
    # The same file again replaces itself, as before.
    import_all([(csv_2021, 2021)], raw, say=lambda _: None)
    assert sorted(read_manifest(raw)["kaart"]) == [
        "2021/almelo_buurten_2021_epsg28992.geojson",
        "2021/kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"]
    # Asked for, the other file replaces every file of that year, gemeente and level.
    assert main(["import", str(csv_2015), "--jaar", "2021", "--vervang", "--data-dir",
                 str(tmp_path)]) == 0
    assert sorted(read_manifest(raw)["kaart"]) == ["2021/kwb2015_almelo_buurten_wijkbuurtkaart.csv"]
    assert sorted(p.name for p in (raw / "kaart" / "2021").iterdir()) == [csv_2015.name]


def test_two_files_of_other_areas_in_one_import_are_refused(shared, tmp_path):
    from wijkkompas.fetch.kaart_import import import_all

    raw = tmp_path / "raw"
    with pytest.raises(WijkkompasError, match="andere buurten dan kwb2021_almelo_buurten_pdok"):
        import_all([(shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv", 2021),
                    (shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2021)], raw,
                   say=lambda _: None)
    assert not (raw / "kaart").exists()
