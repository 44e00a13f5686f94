"""Wrong configurations and data sets of care locations: one Dutch line naming the file,
never a traceback, and nothing written."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from tests.helpers import snapshot, zorg_toml
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.vlekkenkaart.zorglocaties import read_config, read_locations

CONFIG = zorg_toml(datasets=[{"bestand": "locaties.csv", "categorie": "huisarts"}],
                   bandbreedte_m=300, stralen_m=[250, 500])


@pytest.mark.parametrize("old, new, line", [
    ("bandbreedte_m = 300", 'bandbreedte_m = "breed"',
     "bandbreedte_m: moet een getal groter dan 0 zijn (nu: 'breed')"),
    ("bandbreedte_m = 300", "bandbreedte_m = 0",
     "bandbreedte_m: moet een getal groter dan 0 zijn (nu: 0)"),
    ("stralen_m = [250, 500]", 'stralen_m = "250"',
     "stralen_m: moet een lijst [...] zijn, elk element een geheel getal groter dan 0 "
     "(nu: '250')"),
    ("stralen_m = [250, 500]", "stralen_m = [250, -500]",
     "stralen_m[2]: moet een geheel getal groter dan 0 zijn (nu: -500)"),
    ('categorie = "huisarts"', "categorie = 5",
     "dataset[1].categorie: moet een tekst tussen aanhalingstekens zijn (nu: 5)"),
    ('categorie = "huisarts"', 'categorie = "tandarts"',
     "dataset[1].categorie: categorie 'tandarts' staat niet bij de [categorie.*]"),
    ('bestand = "locaties.csv"\n', "", "'dataset[1].bestand' ontbreekt"),
    ('naam = "Huisartsenpraktijk"', 'naam = "Huisartsenpraktijk"\nkleur = "rood"',
     "onbekende sleutel 'categorie.huisarts.kleur'; bekende sleutels: gevoelig, naam"),
    ('bestand = "locaties.csv"', 'bestand = "locaties.csv"\nbreedte = "lon"',
     "onbekende sleutel 'dataset[1].breedte'; bekende sleutels: adres, bestand, bron, "
     "capaciteit, categorie, categorie_kolom, lat, lon, naam, peildatum, plaats, postcode, "
     "voorbeeld, x, y"),
    (None, 'categorie = 5\n[[dataset]]\nbestand = "locaties.csv"\n',
     "categorie: moet een tabel met sleutels zijn (nu: 5)"),
])
def test_bad_configuration_is_one_line_and_nothing_is_written(tmp_path, capsys, old, new,
                                                              line):
    assert old is None or old in CONFIG
    path = tmp_path / "zorg.toml"
    path.write_text(new if old is None else CONFIG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        read_config(path)
    assert str(info.value) == f"{path}: {line}."
    data = tmp_path / "data"
    assert main(["vlekkenkaart", "--data-dir", str(data), "--zorglocaties", str(path)]) == 1
    assert capsys.readouterr().err == f"fout: {info.value}\n"
    assert snapshot(tmp_path) == {"zorg.toml": snapshot(tmp_path)["zorg.toml"]}


@pytest.fixture(scope="module")
def almelo(shared):
    return gpd.read_file(shared / "geo" / "almelo_gemeente_2021.geojson")


def _dataset(tmp_path, name: str) -> object:
    config = tmp_path / "zorg.toml"
    config.write_text(CONFIG.replace("locaties.csv", name), encoding="utf-8")
    return read_config(config)


def test_polygons_are_not_locations(tmp_path, almelo):
    polygons = almelo.copy()
    polygons["naam"] = "Heel Almelo"
    polygons.to_file(tmp_path / "vlakken.geojson")
    config = _dataset(tmp_path, "vlakken.geojson")
    before = snapshot(tmp_path)
    with pytest.raises(WijkkompasError) as info:
        read_locations(config, almelo)
    kind = almelo.geometry.iloc[0].geom_type
    assert str(info.value) == (
        f"{tmp_path / 'vlakken.geojson'}: zorglocaties moeten punten zijn, maar object 1 is "
        f"een {kind}. Lever de locaties als punten of met x/y-kolommen.")
    assert snapshot(tmp_path) == before


def test_points_in_geojson_are_read(tmp_path, almelo):
    points = gpd.GeoDataFrame({"naam": ["Praktijk"]}, geometry=[Point(6.6625, 52.3563)],
                              crs="EPSG:4326")
    points.to_file(tmp_path / "punten.geojson")
    rows = read_locations(_dataset(tmp_path, "punten.geojson"), almelo).rows
    assert rows["status"].tolist() == ["opgenomen"] and rows["naam"].tolist() == ["Praktijk"]


@pytest.mark.parametrize("name, content, message", [
    ("nep.xlsx", b"naam,x,y\nPraktijk,241947,486382\n",
     "is geen geldig Excel-bestand (.xlsx) (geen zip-archief, zoals een echt .xlsx-bestand). "
     "Sla het opnieuw op vanuit Excel of lever een CSV."),
    ("kapot.geojson", b'{"type": "FeatureCollection", "features": [',
     None),
    ("locaties.txt", b"naam\n", "gebruik CSV, Excel (.xlsx) of GeoJSON voor zorglocaties."),
])
def test_unreadable_data_sets_give_one_line(tmp_path, almelo, name, content, message):
    (tmp_path / name).write_bytes(content)
    config = _dataset(tmp_path, name)
    before = snapshot(tmp_path)
    with pytest.raises(WijkkompasError) as info:
        read_locations(config, almelo)
    text = str(info.value)
    assert "\n" not in text
    if message is None:
        assert text.startswith(f"Kan zorglocaties uit {tmp_path / name} niet lezen (")
        assert text.endswith("Is het een onbeschadigd GeoJSON-bestand of GeoPackage?")
    else:
        assert text == f"{tmp_path / name}{'' if message[0] == 'i' else ':'} {message}"
    assert snapshot(tmp_path) == before


def test_dutch_numbers_in_a_semicolon_file(tmp_path, almelo):
    (tmp_path / "locaties.csv").write_text(
        "naam;capaciteit;x;y\nPraktijk;1.250;241.947,5;486.382\n", encoding="utf-8")
    rows = read_locations(_dataset(tmp_path, "locaties.csv"), almelo).rows
    assert rows[["capaciteit", "x", "y"]].iloc[0].tolist() == [1250.0, 241947.5, 486382.0]


def test_excel_data_set_with_empty_cells(tmp_path, almelo):
    import pandas as pd

    pd.DataFrame({"naam": ["Praktijk", None], "capaciteit": [None, 12],
                  "x": [241947, 241950.5], "y": [486382, 486390],
                  "categorie": ["huisarts", None]}).to_excel(tmp_path / "locaties.xlsx",
                                                             index=False)
    config = tmp_path / "zorg.toml"
    config.write_text(CONFIG.replace("locaties.csv", "locaties.xlsx").replace(
        'categorie = "huisarts"', 'categorie_kolom = "categorie"'), encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        read_locations(read_config(config), almelo)
    assert str(info.value) == (f"Zorglocaties afgekeurd: {tmp_path / 'locaties.xlsx'} regel 3: "
                               "onbekende categorie '' (bekend: opvang, huisarts); voeg hem toe "
                               f"aan {config}.")


def test_negative_capacity_is_refused(tmp_path, almelo):
    (tmp_path / "locaties.csv").write_text("naam;capaciteit;x;y\nPraktijk;-5;241947;486382\n",
                                           encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        read_locations(_dataset(tmp_path, "locaties.csv"), almelo)
    assert str(info.value) == (f"Zorglocaties afgekeurd: {tmp_path / 'locaties.csv'} regel 2: "
                               "een capaciteit kan niet negatief zijn (-5) in kolom capaciteit.")
