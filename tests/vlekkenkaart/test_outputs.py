"""The outputs of the vlekkenkaart, fixed: every table, the toets, the reported problems and
the data of both pages, for one set of care locations with every kind of data set and row
the reader knows (tests/fixtures/vlekkenkaart). A speed-up that changes a result fails here.

The expected files in tests/fixtures/vlekkenkaart/verwacht/ were written by the row-by-row
reader and the per-point page of commit 2df4df3, before the speed-ups of issue #15, with
two deliberate changes since: in the shared measures the capacity of "alle zonder gevoelige"
is unknown (empty) where no open category of the area knows one, as in every other row,
not 0; and the draagkracht (index, rank, and the rank in the toets) follows the carried 2015
figures of the re-allocation by the cores of the old buurten (issue #17). The
points of a page are compared as records (name, category, example, capacity, place), so the
page may hand them over in any layout.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import page_data, today_in_dutch
from tests.servers import LocatieServer
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.vlekkenkaart.stage import build_vlekkenkaart, write_outputs
from wijkkompas.vlekkenkaart.toets import run_toets
from wijkkompas.vlekkenkaart.zorglocaties import read_config, read_locations

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vlekkenkaart"
EXPECTED = FIXTURE / "verwacht"
TABLES = ("zorglocaties_maten_intern.csv", "zorglocaties_maten_gedeeld.csv",
          "zorglocaties_draagkracht.csv", "zorglocaties_controle_intern.csv", "toets.txt")
#: The Excel data set, written here (a binary file is not kept in the repository).
EXCEL = pd.DataFrame({
    "naam": ["Excel GGZ", "Excel Praktijk", None, "Excel Opvang", "Excel Dagbesteding"],
    "soort": ["ggz", "huisarts", "dagbesteding", "vrouwenopvang", "dagbesteding"],
    "capaciteit": [14, None, 3.5, 6, 2021.0],
    "x": [241500.25, 242750, 240900, 241800, None],
    "y": [486900.75, 485800, 487300, 486000, None],
})
ADDRESSES = {"Grotestraat 1 7607CM Almelo": (241960.0, 486300.0,
                                             "Grotestraat 1, 7607CM Almelo")}
TOETS = (242080.0, 486350.0, "beschermd_wonen", 10.0)


def _copy_fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in FIXTURE.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    EXCEL.to_excel(folder / "locaties.xlsx", index=False)
    return folder / "zorg.toml"


def _points(data: dict) -> list[dict]:
    """The points of a page as records, whatever layout the page uses for them."""
    points = data["punten"]
    names = [c["naam"] for c in data["categorieen"]]
    if isinstance(points, list):  # one object per point
        return [{"naam": p["n"], "categorie": p["c"], "voorbeeld": bool(p["v"]),
                 "capaciteit": p["k"], "ll": p["ll"]} for p in points]
    return [{"naam": n, "categorie": names[ci], "voorbeeld": bool(v), "capaciteit": k,
             "ll": ll}
            for n, ci, v, k, ll in zip(points["n"], points["ci"], points["v"], points["k"],
                                       points["ll"], strict=True)]


def _digest(geometry: dict) -> str:
    """A geometry as the sha256 of its JSON: kept short in the expected files."""
    text = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _page(path: Path) -> dict:
    """The data of a page, its points as records and its polygons as digests."""
    data = page_data(path.read_text(encoding="utf-8"))
    data["punten"] = _points(data)
    for layer in ("vlekken", "buurten"):
        for feature in data[layer]["features"]:
            feature["geometry"] = _digest(feature["geometry"])
    return data


def write_fixture_outputs(processed, root: Path) -> tuple[Path, list[str]]:
    """The vlekkenkaart of the fixture written to ``root / "uit"``, and its reported
    problems (with the input folder as ``<invoer>``)."""
    config = read_config(_copy_fixture(root / "invoer"))
    server = LocatieServer(ADDRESSES)
    server.start()
    try:
        vk = build_vlekkenkaart(processed, config, Geocoder(server.url, root / "raw"))
    finally:
        server.stop()
    x, y, categorie, capaciteit = TOETS
    toets = run_toets(processed, vk.located, config, x, y, categorie, capaciteit)
    write_outputs(processed, vk, root / "uit", toets, say=lambda _: None)
    problems = [p.replace(str(root / "invoer"), "<invoer>") for p in vk.locations.problems]
    return root / "uit", problems


@pytest.fixture(scope="module")
def written(processed, tmp_path_factory):
    return write_fixture_outputs(processed, tmp_path_factory.mktemp("uitvoer"))


@pytest.mark.parametrize("name", TABLES)
def test_tables_are_the_expected_ones(written, name):
    folder, _ = written
    assert (folder / name).read_text(encoding="utf-8") == \
        (EXPECTED / name).read_text(encoding="utf-8")


def test_reported_problems_are_the_expected_ones(written):
    _, problems = written
    assert problems == (EXPECTED / "meldingen.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("page, expected", [("vlekkenkaart_gedeeld.html", "pagina_gedeeld.json"),
                                            ("toets_intern.html", "pagina_intern.json")])
def test_page_data_is_the_expected_one(written, page, expected):
    folder, _ = written
    want = json.loads((EXPECTED / expected).read_text(encoding="utf-8"))
    got = _page(folder / page)
    # The sources of the locations with their dates, and the day the page was made.
    today = today_in_dutch()
    assert got.pop("gemaakt") == today
    assert got.pop("bronnen") == [
        "eigen registratie, peildatum 1 januari 2024", "opvang (Nederlandse getallen), "
        "peildatum 2023", "huisartsen (GeoJSON), peildatum 2024", "Excel, peildatum 2024",
        f"proef (bestand van {today})"]  # no peildatum: the date of the (copied) file
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key] == want[key], key


BAD_ROWS = """naam,categorie,capaciteit,x,y,lon,lat
Goed,ggz,3,241947,486382,,
Onbekend,tandarts,3,241947,486382,,
Tekst,ggz,veel,241947,486382,,
Twee fouten,ggz,1.5.3,24x,486382,,
Negatief,ggz,-2,241947,486382,,
Omgedraaid,ggz,1,,,52.35,6.66
Komma,ggz,"1,5",241947,486382,,
Leeg,,,241947,486382,,
Oneindig,ggz,1,241947,486382,1e999,
"""


def test_every_problem_of_a_file_is_named_with_its_row(tmp_path, processed):
    """One message for data sets with problems of every kind, in file order, each with its
    row: the text the reader gave before the speed-up (and must give after it)."""
    (tmp_path / "fout.csv").write_text(BAD_ROWS, encoding="utf-8")
    (tmp_path / "nl.csv").write_text("naam;capaciteit;x;y\nGoed;12;241947;486382\n"
                                     "Punt;12.5;241947;486382\n", encoding="utf-8")
    (tmp_path / "zorg.toml").write_text(
        '[categorie.ggz]\nnaam = "GGZ"\n[[dataset]]\nbestand = "fout.csv"\n'
        'categorie_kolom = "categorie"\n[[dataset]]\nbestand = "nl.csv"\ncategorie = "ggz"\n',
        encoding="utf-8")
    config = read_config(tmp_path / "zorg.toml")
    with pytest.raises(WijkkompasError) as info:
        read_locations(config, processed.boundaries("gemeente"))
    path, toml = tmp_path / "fout.csv", tmp_path / "zorg.toml"
    assert str(info.value) == "Zorglocaties afgekeurd: " + "; ".join([
        f"{path} regel 3: onbekende categorie 'tandarts' (bekend: ggz); voeg hem toe aan "
        f"{toml}",
        f"{path} regel 4: geen getal: 'veel' in kolom capaciteit",
        f"{path} regel 5: geen getal: '1.5.3' in kolom capaciteit",
        f"{path} regel 5: geen getal: '24x' in kolom x",
        f"{path} regel 6: een capaciteit kan niet negatief zijn (-2) in kolom capaciteit",
        # Since #26 the lon/lat as given, not what they project to.
        f"{path} regel 7: coördinaten (lon, lat) (52.35, 6.66) liggen niet in Nederland; RD "
        "(x, y in meters) of WGS84 (lon, lat) verwisseld?",
        f"{path} regel 8: '1,5' past niet bij de getalnotatie van dit bestand (decimaalpunt, "
        "komma tussen duizendtallen) in kolom capaciteit",
        f"{path} regel 9: onbekende categorie '' (bekend: ggz); voeg hem toe aan {toml}",
        f"{path} regel 10: geen getal: '1e999' in kolom lon",
        f"{tmp_path / 'nl.csv'} regel 3: '12.5' past niet bij de getalnotatie van dit bestand "
        "(decimaalkomma, punt tussen duizendtallen) in kolom capaciteit",
    ]) + "."


# pyogrio reads a property of text and numbers as text, and says so.
@pytest.mark.filterwarnings("ignore:Could not parse column 'capaciteit' as JSON")
def test_problems_in_geojson_and_excel_name_object_and_row(tmp_path, processed):
    """Numbers that GeoJSON and Excel hand over as numbers, and text among them: the same
    messages as the row-by-row reader gave, with the object (GeoJSON) or row number."""
    features = [({"naam": "Tekst", "capaciteit": "veel"}, [6.6625, 52.3563]),
                ({"naam": "Negatief", "capaciteit": -3}, [6.6625, 52.3563]),
                ({"naam": "Goed", "capaciteit": 12}, [6.6625, 52.3563]),
                ({"naam": "Ver weg", "capaciteit": 1.5}, [-60.0, 10.0])]
    (tmp_path / "punten.geojson").write_text(json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": p, "geometry": {"type": "Point",
                                                               "coordinates": c}}
            for p, c in features]}), encoding="utf-8")
    pd.DataFrame({"naam": ["Goed", 7, "Oneindig", "Waar"],
                  "capaciteit": [2, 3, "1e999", True],
                  "x": [241947, 241947, 241947, 241947],
                  "y": [486382, 486382, 486382, 486382]}).to_excel(tmp_path / "lijst.xlsx",
                                                                   index=False)
    (tmp_path / "zorg.toml").write_text(
        '[categorie.ggz]\nnaam = "GGZ"\n[[dataset]]\nbestand = "punten.geojson"\n'
        'categorie = "ggz"\n[[dataset]]\nbestand = "lijst.xlsx"\ncategorie = "ggz"\n',
        encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        read_locations(read_config(tmp_path / "zorg.toml"), processed.boundaries("gemeente"))
    geojson, excel = tmp_path / "punten.geojson", tmp_path / "lijst.xlsx"
    assert str(info.value) == "Zorglocaties afgekeurd: " + "; ".join([
        f"{geojson} object 1: geen getal: 'veel' in kolom capaciteit",
        f"{geojson} object 2: een capaciteit kan niet negatief zijn (-3) in kolom capaciteit",
        f"{geojson} object 4: coördinaten (-8062585.260903606, -1510381.2803347674) liggen "
        "niet in Nederland; RD (x, y in meters) of WGS84 (lon, lat) verwisseld?",
        f"{excel} regel 4: geen getal: '1e999' in kolom capaciteit",
        f"{excel} regel 5: geen getal: 'True' in kolom capaciteit",
    ]) + "."
