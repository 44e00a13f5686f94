"""The measures of the vlekkenkaart (vlekkenkaart/vlekken.py) on a made-up gemeente of four
square buurten, every figure worked out by hand.

Fast unit tests (also the test selection of the module's mutation run, tools/mutation.py):
no real data, no browser; one small grenzen.gpkg in a temporary folder. Gemeente GM0999,
wijk WK099901 with buurten BU09990101 (west) and BU09990102 (east), wijk WK099902 with
buurten BU09990201 (further east) and BU09990202 (no figures). Each buurt is a square of
1 km in RD, side by side from x = 200 000.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from wijkkompas.gebied import RD
from wijkkompas.indicatoren.rows import COLUMNS
from wijkkompas.processed import Tables
from wijkkompas.vlekkenkaart.vlekken import (
    ALL,
    DRAAGKRACHT,
    Density,
    area_inhabitants,
    area_measures,
    assign_areas,
    contour_levels,
    density,
    draagkracht,
    vlekken,
)

BUURTEN = ["BU09990101", "BU09990102", "BU09990201", "BU09990202"]
X0, Y0 = 200_000.0, 480_000.0


def _square(number: int):
    return box(X0 + 1000 * number, Y0, X0 + 1000 * (number + 1), Y0 + 1000)


def _rows(values: list[tuple[str, int, int, str, float | None]]) -> pd.DataFrame:
    """Rows (gebiedscode, jaar, indeling, indicator, waarde) of the indicator table."""
    out = []
    for code, jaar, indeling, indicator, waarde in values:
        niveau = {"GM": "gemeente", "WK": "wijk", "BU": "buurt"}[code[:2]]
        out.append({"gebiedscode": code, "gebiedsnaam": code, "niveau": niveau, "jaar": jaar,
                    "indeling": indeling, "indicator": indicator,
                    "waarde": np.nan if waarde is None else float(waarde), "teller": np.nan,
                    "noemer": np.nan, "bron": "test", "status": "waargenomen",
                    "indelingswijziging": 1.0, "dekking": 1.0})
    return pd.DataFrame(out, columns=COLUMNS)


@pytest.fixture(scope="module")
def grenzen(tmp_path_factory):
    """A data folder with processed/grenzen.gpkg (buurten and wijken of 2020), written once:
    the layers are only read."""
    folder = tmp_path_factory.mktemp("vlekken")
    (folder / "processed").mkdir()
    path = folder / "processed" / "grenzen.gpkg"
    # A buurt of another gemeente in the same layer is not the gemeente's.
    buurten = gpd.GeoDataFrame({"gebiedscode": [*BUURTEN, "BU09980101"]},
                               geometry=[*(_square(n) for n in range(4)), _square(-1)], crs=RD)
    wijken = gpd.GeoDataFrame({"gebiedscode": ["WK099901", "WK099902"]},
                              geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000),
                                        box(X0 + 2000, Y0, X0 + 4000, Y0 + 1000)], crs=RD)
    buurten.to_file(path, layer="buurten_2020", driver="GPKG")
    wijken.to_file(path, layer="wijken_2020", driver="GPKG")
    return folder


def _processed(folder, rows: pd.DataFrame, target: int | None = 2020) -> Tables:
    """The tables of a build as the vlekkenkaart reads them (no kompas)."""
    empty = pd.DataFrame()
    return Tables(folder, rows, empty, empty, target, "GM0999", "Testgemeente")


def test_draagkracht_rank_worked_out_by_hand(grenzen):
    # Two indicators of DRAAGKRACHT (higher = less draagkracht), latest year 2020:
    #   aandeel_eenpersoonshh 0, 2, 2, 4: mean 2, sd sqrt(2): z = -sqrt2, 0, 0, sqrt2
    #   bijstand_per_1000 10, 10, 30, 30: mean 20, sd 10:      z = -1, -1, 1, 1
    # draagkracht = -(mean z): (1 + sqrt2)/2, 1/2, -1/2, -(1 + sqrt2)/2 for the four buurten
    # in order; rank 1 is the least draagkracht, the last buurt.
    e, b = "aandeel_eenpersoonshh", "bijstand_per_1000"
    assert e in DRAAGKRACHT and b in DRAAGKRACHT
    values = [(code, 2020, 2020, indicator, v)
              for indicator, row in ((e, (0, 2, 2, 4)), (b, (10, 10, 30, 30)))
              for code, v in zip(BUURTEN, row, strict=True)]
    # Not used: an older year, another indeling, a wijk, an indicator outside DRAAGKRACHT,
    # an indicator with one value per buurt the same (sd 0) and one with only two buurten.
    values += [("BU09990101", 2019, 2020, e, 100), ("BU09990101", 2020, 2021, e, 100),
               ("BU09990101", 2020, 2019, e, 100),
               *[(c, 2020, 2020, "woningen", v) for c, v in zip(BUURTEN, (9, 1, 5, 7),
                                                               strict=True)],
               ("WK099901", 2020, 2020, e, 100), ("BU09990101", 2020, 2020, "inwoners", 5),
               *[(c, 2020, 2020, "aandeel_corporatiewoningen", 7) for c in BUURTEN],
               ("BU09990101", 2020, 2020, "aandeel_hh_laag_inkomen", 1),
               ("BU09990102", 2020, 2020, "aandeel_hh_laag_inkomen", 9)]
    out = draagkracht(_processed(grenzen, _rows(values)))
    assert list(out.columns) == ["gebiedscode", "draagkracht", "indicatoren", "rang", "gebruikt"]
    got = out.set_index("gebiedscode")
    r2 = math.sqrt(2)
    expected = {"BU09990101": (1 + r2) / 2, "BU09990102": 0.5, "BU09990201": -0.5,
                "BU09990202": -(1 + r2) / 2}
    assert list(got.index) == BUURTEN
    for code, value in expected.items():
        assert got.loc[code, "draagkracht"] == pytest.approx(value)
    # Rank 1 = the least draagkracht: the buurt with the most eenpersoonshuishoudens and
    # bijstand. The most draagkracht (BU09990101) is rank 4.
    assert got["rang"].to_dict() == {"BU09990202": 1.0, "BU09990201": 2.0, "BU09990102": 3.0,
                                     "BU09990101": 4.0}
    assert got["indicatoren"].tolist() == [2, 2, 2, 2]
    assert set(got["gebruikt"]) == {f"{e} (2020), {b} (2020)"}


def test_draagkracht_ties_missing_buurten_and_the_latest_year(grenzen):
    # Only bijstand, latest year 2021 (2020 ignored): 10, 10, 40 for three buurten, the
    # fourth has no figure in 2021. Mean 20, sd sqrt(200): draagkracht 10/sd, 10/sd, -20/sd.
    # The two equal buurten share rank 2 (the lowest of their ranks).
    b = "bijstand_per_1000"
    values = [("BU09990101", 2021, 2020, b, 10), ("BU09990102", 2021, 2020, b, 10),
              ("BU09990201", 2021, 2020, b, 40),
              ("BU09990101", 2020, 2020, b, 90), ("BU09990202", 2020, 2020, b, 90)]
    out = draagkracht(_processed(grenzen, _rows(values))).set_index("gebiedscode")
    sd = math.sqrt(200)
    assert out.loc["BU09990101", "draagkracht"] == pytest.approx(10 / sd)
    assert out.loc["BU09990102", "draagkracht"] == pytest.approx(10 / sd)
    assert out.loc["BU09990201", "draagkracht"] == pytest.approx(-20 / sd)
    assert math.isnan(out.loc["BU09990202", "draagkracht"])
    assert out.loc["BU09990201", "rang"] == 1.0
    assert out.loc["BU09990101", "rang"] == out.loc["BU09990102", "rang"] == 2.0
    assert math.isnan(out.loc["BU09990202", "rang"])
    assert out["indicatoren"].tolist() == [1, 1, 1, 0]
    assert set(out["gebruikt"]) == {f"{b} (2021)"}


def test_draagkracht_without_usable_indicators(grenzen):
    values = [(c, 2020, 2020, "bijstand_per_1000", 5) for c in BUURTEN]  # sd 0
    out = draagkracht(_processed(grenzen, _rows(values)))
    assert list(out["gebiedscode"]) == BUURTEN
    assert out["draagkracht"].isna().all() and out["rang"].isna().all()
    assert out["indicatoren"].tolist() == [0, 0, 0, 0] and set(out["gebruikt"]) == {""}
    # Without a target indeling the latest indeling in the table is used.
    values = [(c, 2020, 2021, "bijstand_per_1000", v) for c, v in zip(BUURTEN, (1, 2, 3, 4),
                                                                     strict=True)]
    out = draagkracht(_processed(grenzen, _rows(values), target=None))
    assert out["rang"].tolist() == [4.0, 3.0, 2.0, 1.0]


def test_inhabitants_of_the_latest_year_on_the_target_indeling(grenzen):
    values = [("BU09990101", 2019, 2020, "inwoners", 100), ("BU09990101", 2021, 2020,
                                                            "inwoners", 120),
              ("BU09990101", 2020, 2020, "inwoners", 110), ("BU09990102", 2022, 2020,
                                                            "inwoners", None),
              ("BU09990102", 2020, 2020, "inwoners", 50), ("BU09990102", 2021, 2021,
                                                           "inwoners", 999),
              ("WK099901", 2021, 2020, "inwoners", 170),
              ("BU09990101", 2022, 2020, "bijstand_per_1000", 7),
              ("BU09990201", 2021, 2020, "woningen", 40)]
    processed = _processed(grenzen, _rows(values))
    assert area_inhabitants(processed, "buurt").to_dict() == {"BU09990101": 120.0,
                                                        "BU09990102": 50.0}
    assert area_inhabitants(processed, "wijk").to_dict() == {"WK099901": 170.0}
    # No target: the latest indeling (2021), where only BU09990102 has a figure.
    untargeted = _processed(grenzen, _rows(values), target=None)
    assert area_inhabitants(untargeted, "buurt").to_dict() == {"BU09990102": 999.0}


def _located(grenzen, rows=None):
    processed = _processed(grenzen, _rows(rows or []))
    # Two in the west buurt, one in BU09990201, one outside every buurt of the gemeente.
    points = [(X0 + 500, Y0 + 500, "huisarts", 10), (X0 + 400, Y0 + 200, "huisarts", None),
              (X0 + 2500, Y0 + 500, "apotheek", 4), (X0 + 9000, Y0 + 500, "huisarts", 6)]
    locations = gpd.GeoDataFrame(
        {"categorie": [p[2] for p in points], "capaciteit": [p[3] for p in points]},
        geometry=[Point(p[0], p[1]) for p in points], crs=RD)
    return processed, assign_areas(locations, processed)


def test_assign_areas_gives_buurt_and_wijk_or_none(grenzen):
    _, located = _located(grenzen)
    assert located["buurt"].tolist()[:3] == ["BU09990101", "BU09990101", "BU09990201"]
    assert pd.isna(located["buurt"].iloc[3])
    assert located["wijk"].tolist() == ["WK099901", "WK099901", "WK099902", None]
    assert list(located.index) == [0, 1, 2, 3]


def test_area_measures_by_hand(grenzen):
    rows = [("BU09990101", 2020, 2020, "inwoners", 2000), ("BU09990201", 2020, 2020,
                                                           "inwoners", 500),
            ("BU09990102", 2020, 2020, "inwoners", 0), ("BU09990202", 2020, 2020, "inwoners", 1),
            ("WK099901", 2020, 2020, "inwoners", 2500), ("GM0999", 2020, 2020, "inwoners",
                                                         4000)]
    processed, located = _located(grenzen, rows)
    out = area_measures(located, processed, ["huisarts", "apotheek"])
    assert list(out.columns) == ["gebiedscode", "niveau", "categorie", "aantal", "capaciteit",
                                 "inwoners", "per_1000", "locatiequotient"]
    # 4 buurten + 2 wijken + 1 gemeente, each for huisarts, apotheek and alle.
    assert len(out) == 3 * 7 and list(out.index) == list(range(21))
    got = out.set_index(["gebiedscode", "categorie"])
    # Gemeente: 3 huisartsen (one outside every buurt), 1 apotheek; capacity sums the known.
    assert got.loc[("GM0999", "huisarts"), "aantal"] == 3
    assert got.loc[("GM0999", "huisarts"), "capaciteit"] == 16.0
    assert got.loc[("GM0999", ALL), "aantal"] == 4
    assert got.loc[("GM0999", "huisarts"), "per_1000"] == pytest.approx(0.75)
    assert got.loc[("GM0999", "huisarts"), "locatiequotient"] == pytest.approx(1.0)
    # BU09990101: 2 huisartsen on 2000 area_inhabitants: 1 per 1000, quotient 1/0.75.
    assert got.loc[("BU09990101", "huisarts"), "aantal"] == 2
    assert got.loc[("BU09990101", "huisarts"), "capaciteit"] == 10.0
    assert got.loc[("BU09990101", "huisarts"), "per_1000"] == pytest.approx(1.0)
    assert got.loc[("BU09990101", "huisarts"), "locatiequotient"] == pytest.approx(4 / 3)
    # No location: count 0, capacity unknown; apotheek in the gemeente 1/4000 = 0.25.
    assert got.loc[("BU09990101", "apotheek"), "aantal"] == 0
    assert math.isnan(got.loc[("BU09990101", "apotheek"), "capaciteit"])
    assert got.loc[("BU09990101", "apotheek"), "per_1000"] == 0.0
    assert got.loc[("BU09990201", "apotheek"), "per_1000"] == pytest.approx(2.0)
    assert got.loc[("BU09990201", "apotheek"), "locatiequotient"] == pytest.approx(8.0)
    # One inhabitant is enough for a rate; 0 area_inhabitants or none known: no rate and no
    # quotient.
    assert got.loc[("BU09990202", "huisarts"), "per_1000"] == 0.0
    assert got.loc[("BU09990202", "huisarts"), "locatiequotient"] == 0.0
    for code in ("BU09990102", "WK099902"):
        assert math.isnan(got.loc[(code, "huisarts"), "per_1000"])
        assert math.isnan(got.loc[(code, "huisarts"), "locatiequotient"])
    assert got.loc[("WK099901", ALL), "aantal"] == 2
    assert got.loc[("WK099902", ALL), "aantal"] == 1
    assert got.loc[("WK099901", "huisarts"), "per_1000"] == pytest.approx(0.8)
    assert out["aantal"].dtype == "int64" and out["capaciteit"].dtype == "float64"


def test_area_measures_with_a_category_the_gemeente_lacks(grenzen):
    rows = [("GM0999", 2020, 2020, "inwoners", 4000)]
    processed, located = _located(grenzen, rows)
    out = area_measures(located, processed, ["huisarts", "apotheek", "tandarts"])
    got = out.set_index(["gebiedscode", "categorie"])
    assert got.loc[("GM0999", "tandarts"), "per_1000"] == 0.0
    # A reference of 0 gives no quotient, not a division by zero.
    assert math.isnan(got.loc[("GM0999", "tandarts"), "locatiequotient"])
    assert got.loc[("GM0999", "huisarts"), "locatiequotient"] == pytest.approx(1.0)


def test_density_of_one_point_by_hand():
    # One point on a cell centre: the peak is 1 / (2 pi h^2) per m², times 1e6 per km².
    surface = density(np.array([[1000.0, 2000.0]]), (1000.0, 2000.0, 1000.0, 2000.0),
                      bandwidth=100.0, cell=50.0)
    assert surface.xs[0] == 1000.0 - 400.0 and surface.ys[0] == 2000.0 - 400.0
    assert len(surface.xs) == len(surface.ys) == 17  # -400 .. +400 in steps of 50
    assert surface.values.shape == (17, 17)
    peak = 1e6 / (2 * math.pi * 100.0 ** 2)
    assert surface.values.max() == pytest.approx(peak)
    assert surface.values[8, 8] == pytest.approx(peak)
    # One cell (50 m) east: exp(-50² / (2 x 100²)) of the peak; y is the first axis.
    assert surface.values[8, 9] == pytest.approx(peak * math.exp(-0.125))
    assert surface.values[9, 8] == pytest.approx(peak * math.exp(-0.125))
    assert surface.values[8, 12] == pytest.approx(peak * math.exp(-200.0 ** 2 / 20000.0))
    assert (surface.bandwidth, surface.cell) == (100.0, 50.0)
    # Four bandwidths each way hold almost all: the integral is about one location.
    assert surface.total() == pytest.approx(1.0, abs=1e-3)


def test_density_adds_points_over_chunks(monkeypatch):
    import wijkkompas.vlekkenkaart.vlekken as module

    points = np.array([[0.0, 0.0], [200.0, 0.0], [0.0, 300.0]])
    whole = density(points, (0.0, 0.0, 200.0, 300.0), bandwidth=80.0)
    assert whole.cell == 50.0 and set(np.diff(whole.xs)) == {50.0}  # the default cell
    monkeypatch.setattr(module, "_CHUNK", 2)
    chunked = density(points, (0.0, 0.0, 200.0, 300.0), bandwidth=80.0)
    np.testing.assert_allclose(chunked.values, whole.values)
    assert whole.total() == pytest.approx(3.0, rel=1e-3)
    one = density(points[:1], (0.0, 0.0, 200.0, 300.0), bandwidth=80.0)
    two = density(points[1:], (0.0, 0.0, 200.0, 300.0), bandwidth=80.0)
    np.testing.assert_allclose(whole.values, one.values + two.values)


def test_contour_levels_are_fractions_of_the_peak():
    surface = Density(np.arange(3.0), np.arange(2.0), np.array([[0.0, 8.0, 2.0],
                                                               [1.0, 4.0, 0.0]]), 1.0, 1.0)
    assert contour_levels(surface) == [0.8, 2.0, 4.0, 6.0]
    assert contour_levels(surface, n=2) == [0.8, 2.0]
    # A low peak (one location with a wide bandwidth: under 1 per km²) still makes vlekken.
    low = Density(np.arange(3.0), np.arange(2.0), np.array([[0.0, 0.5, 0.0],
                                                           [0.0, 0.25, 0.0]]), 1.0, 1.0)
    assert contour_levels(low) == [0.05, 0.125, 0.25, 0.375]
    flat = Density(np.arange(3.0), np.arange(2.0), np.zeros((2, 3)), 1.0, 1.0)
    assert contour_levels(flat) == []
    empty = vlekken(flat)
    assert empty.empty and list(empty.columns) == ["niveau", "dichtheid_vanaf", "geometry"]
    assert empty.crs == RD


def test_vlekken_nest_and_are_numbered_from_the_outside():
    surface = density(np.array([[0.0, 0.0]]), (0.0, 0.0, 0.0, 0.0), bandwidth=200.0,
                      cell=5.0)
    peak = surface.values.max()
    out = vlekken(surface)
    assert out.crs == RD
    assert out["niveau"].tolist() == [1, 2, 3, 4]
    assert out["dichtheid_vanaf"].tolist() == pytest.approx([peak * f for f in
                                                             (0.1, 0.25, 0.5, 0.75)])
    # Each vlek holds the next; around one point they are discs of radius
    # h * sqrt(-2 ln f): on a grid of 5 m the contour's radius is within 0.1 m of it (the
    # polygons are taken as they are, not shrunk or grown).
    for outer, inner in zip(out.geometry[:-1], out.geometry[1:], strict=True):
        assert outer.buffer(1e-6).contains(inner)
    for shape, f in zip(out.geometry, (0.1, 0.25, 0.5, 0.75), strict=True):
        radius = 200.0 * math.sqrt(-2 * math.log(f))
        assert math.sqrt(shape.area / math.pi) == pytest.approx(radius, abs=0.1)
        assert shape.centroid.distance(Point(0, 0)) < 0.1
    # Given levels are used as they are.
    two = vlekken(surface, [peak * 0.5, peak * 0.9])
    assert two["niveau"].tolist() == [1, 2]
    assert two.geometry[0].area > two.geometry[1].area > 0


def test_a_capacity_is_unknown_where_no_location_has_one(grenzen):
    processed = _processed(grenzen, _rows([("GM0999", 2020, 2020, "inwoners", 4000)]))
    locations = gpd.GeoDataFrame(
        {"categorie": ["apotheek", "apotheek"], "capaciteit": [None, 3]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 2500, Y0 + 500)], crs=RD)
    out = area_measures(assign_areas(locations, processed), processed, ["apotheek"])
    got = out.set_index(["gebiedscode", "categorie"])
    assert got.loc[("BU09990101", "apotheek"), "aantal"] == 1
    assert math.isnan(got.loc[("BU09990101", "apotheek"), "capaciteit"])  # unknown, not 0
    assert got.loc[("BU09990201", "apotheek"), "capaciteit"] == 3.0
    assert got.loc[("GM0999", "apotheek"), "capaciteit"] == 3.0


def test_a_triangular_vlek_is_kept():
    # Four cell centres 1 m apart with 1 location/km² in the north-east one only: the area
    # at or above half the peak is the corner triangle cut off between (0.5, 1) and
    # (1, 0.5), three corners and the closing point. Its area is 0.5 x 0.5 / 2 = 0.125 m².
    surface = Density(np.array([0.0, 1.0]), np.array([0.0, 1.0]),
                      np.array([[0.0, 0.0], [0.0, 1.0]]), bandwidth=1.0, cell=1.0)
    out = vlekken(surface, [0.5])
    assert out["niveau"].tolist() == [1]
    shape = out.geometry.iloc[0]
    assert shape.area == pytest.approx(0.125)
    assert len(shape.exterior.coords) == 4
