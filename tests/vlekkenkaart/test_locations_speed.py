"""The column-wise ``read_locations`` reads the same locations, statuses and problems as the
row-by-row reader it replaced (tests/vlekkenkaart/reference_locations.py), on generated
files in the formats care data sets come in."""

from __future__ import annotations

import random

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from tests.vlekkenkaart import reference_locations
from wijkkompas.errors import WijkkompasError
from wijkkompas.vlekkenkaart.zorglocaties import read_config, read_locations

CONFIG = """bandbreedte_m = 300
stralen_m = [250, 500]
[categorie.opvang]
naam = "Maatschappelijke opvang"
gevoelig = true
[categorie.huisarts]
naam = "Huisartsenpraktijk"
[[dataset]]
bestand = "locaties.csv"
categorie_kolom = "soort"
capaciteit = "bedden"
bron = "test"
[[dataset]]
bestand = "punten.geojson"
categorie = "huisarts"
"""


@pytest.fixture(scope="module")
def almelo(shared):
    return gpd.read_file(shared / "geo" / "almelo_gemeente_2021.geojson")


def _write(folder, rows: int, seed: int = 141, extra: list[str] | None = None):
    """A CSV of ``rows`` locations (decimal comma, semicolons) mixing RD and WGS84
    coordinates, rows without coordinates, points outside Almelo, duplicates and missing
    capacities, and a GeoJSON of points with one empty geometry."""
    rng = random.Random(seed)
    lines = ["naam;soort;bedden;x;y;lon;lat;adres"]
    for i in range(rows):
        kind = ("opvang", "huisarts")[i % 2]
        beds = rng.choice(["", "-", str(rng.randrange(1, 40)), f"{rng.uniform(1, 9):.1f}"
                           .replace(".", ",")])
        form = i % 7
        if form == 0:  # WGS84 only
            lon, lat = rng.uniform(6.60, 6.72), rng.uniform(52.32, 52.39)
            cells = ["", "", f"{lon:.6f}".replace(".", ","), f"{lat:.6f}".replace(".", ",")]
        elif form == 1:  # no coordinates, no geocoder
            cells = ["", "", "", ""]
        elif form == 2:  # in the Netherlands but outside Almelo
            cells = [str(rng.randrange(120000, 130000)), str(rng.randrange(480000, 490000)),
                     "", ""]
        elif form == 3:  # x without y
            cells = [str(rng.randrange(236000, 246000)), "", "", ""]
        else:  # RD in Almelo, some repeated as duplicates
            x = 241000 + (i % 50) * 10 if form == 6 else rng.randrange(236000, 246000)
            cells = [f"{x},5", "486400", "", ""]
        name = f"Locatie {i % 40 if form == 6 else i}" if i % 11 else ""
        lines.append(";".join([name, kind, beds, *cells, f"Straat {i}"]))
    lines += extra or []
    (folder / "locaties.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    points = gpd.GeoDataFrame(
        {"naam": ["Praktijk A", "Praktijk B", "Leeg"]},
        geometry=[Point(6.6625, 52.3563), Point(6.6425, 52.3663), None], crs="EPSG:4326")
    points.to_file(folder / "punten.geojson")
    config = folder / "zorg.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return read_config(config)


def test_same_locations_as_the_row_reader(tmp_path, almelo):
    config = _write(tmp_path, 3000)
    fast = read_locations(config, almelo)
    slow = reference_locations.read_locations(config, almelo)
    statuses = set(slow.rows["status"])
    assert statuses == {"opgenomen", "geen coördinaten", "buiten de gemeente", "dubbel"}
    assert len(slow.rows) == 3003
    pd.testing.assert_frame_equal(pd.DataFrame(fast.rows), pd.DataFrame(slow.rows),
                                  check_dtype=False, check_exact=True)
    assert fast.rows.geometry.to_wkb().tolist() == slow.rows.geometry.to_wkb().tolist()
    assert fast.rows.crs == slow.rows.crs
    assert fast.problems == slow.problems


@pytest.mark.parametrize("extra", [
    ["Fout;tandarts;3;241000;486400;;;Straat"],
    ["Fout;huisarts;veel;241000;486400;;;Straat", "Ook;opvang;-2;241000;486400;;;Straat"],
    ["Ver;huisarts;3;52,3;6,6;;;Straat", "Fout;tandarts;1,5;;;;;Straat"],
    ["Ver;huisarts;3;52,3;6,6;;;Straat"],
    ["Punt;huisarts;3;241000.5;486400;;;Straat"],
])
def test_same_problems_as_the_row_reader(tmp_path, almelo, extra):
    config = _write(tmp_path, 40, extra=extra)
    with pytest.raises(WijkkompasError) as slow:
        reference_locations.read_locations(config, almelo)
    with pytest.raises(WijkkompasError) as fast:
        read_locations(config, almelo)
    assert str(fast.value) == str(slow.value)
    assert str(fast.value).startswith("Zorglocaties afgekeurd: ")
