"""``read_locations`` as it was before it was vectorised (issue #15), row by row: the
reference tests/vlekkenkaart/test_locations_speed.py compares the fast reader with."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.gebied import RD, within_rd_bounds
from wijkkompas.tabular import NumberError, shown, text_of
from wijkkompas.vlekkenkaart.zorglocaties import (
    STATUS_OK,
    CareConfig,
    CareLocations,
    _number,
    _read,
)


def read_locations(config: CareConfig, gemeente: gpd.GeoDataFrame,
                   geocoder: Geocoder | None = None) -> CareLocations:
    """Every location of every data set, checked, in RD, with a status per row.

    Unknown categories and numbers that are not numbers stop the reading with a list of
    every such problem. Missing coordinates, addresses not found, points outside the
    gemeente and duplicates are kept with their status and listed in ``problems``.
    """
    to_rd = Transformer.from_crs("EPSG:4326", RD, always_xy=True)
    boundary = gemeente.to_crs(RD).union_all()
    rows, errors, notes = [], [], []
    for dataset in config.datasets:
        frame, decimal = _read(dataset)
        col = dataset.kolommen
        name = str(dataset.bestand)
        line_offset = 1 if "_x" in frame.columns else 2  # feature number, or CSV line
        for index, record in frame.iterrows():
            line = int(index) + line_offset
            where = f"{name} {'object' if line_offset == 1 else 'regel'} {line}"
            category = dataset.categorie or text_of(record.get(col.get("categorie_kolom",
                                                                       "categorie")))
            if category not in config.categories:
                errors.append(f"{where}: onbekende categorie '{shown(category)}' (bekend: "
                              f"{', '.join(config.categories)}); voeg hem toe aan "
                              f"{config.path}")
                continue
            numbers: dict[str, float | None] = {}
            for key in ("capaciteit", "x", "y", "lon", "lat"):
                column = col.get(key, key)
                if key != "capaciteit" and "_x" in frame:
                    numbers[key] = None
                    continue
                try:
                    numbers[key] = _number(record.get(column), decimal)
                except NumberError as exc:
                    errors.append(f"{where}: {exc.reason} in kolom {column}")
            if len(numbers) < 5:
                continue
            if numbers["capaciteit"] is not None and numbers["capaciteit"] < 0:
                errors.append(f"{where}: een capaciteit kan niet negatief zijn "
                              f"({numbers['capaciteit']:g}) in kolom "
                              f"{col.get('capaciteit', 'capaciteit')}")
                continue
            capacity, x, y = numbers["capaciteit"], numbers["x"], numbers["y"]
            lon, lat = numbers["lon"], numbers["lat"]
            if "_x" in frame:
                x, y = record["_x"], record["_y"]
                x = None if pd.isna(x) else float(x)
                y = None if pd.isna(y) else float(y)
            elif x is None and lon is not None and lat is not None:
                x, y = to_rd.transform(lon, lat)
            address = " ".join(text_of(record.get(col.get(k, k)))
                               for k in ("adres", "postcode", "plaats")).strip()
            status, herkomst = STATUS_OK, "bestand"
            if x is None or y is None:
                if address and geocoder is not None:
                    place = geocoder.locate(address)
                    if place.found:
                        x, y, herkomst = place.x, place.y, "adres (PDOK Locatieserver)"
                    else:
                        status = "adres niet gevonden"
                else:
                    status = "geen coördinaten"
            if status == STATUS_OK and not within_rd_bounds(x, y, x, y):
                errors.append(f"{where}: coördinaten ({x}, {y}) liggen niet in Nederland; "
                              "RD (x, y in meters) of WGS84 (lon, lat) verwisseld?")
                continue
            naam = text_of(record.get(col.get("naam", "naam")))
            rows.append({"naam": naam or "(zonder naam)", "categorie": category,
                         "capaciteit": capacity, "x": x, "y": y, "adres": address,
                         "bron": dataset.bron, "bestand": dataset.bestand.name, "regel": line,
                         "herkomst": herkomst, "status": status, "_waar": where})
    if errors:
        raise WijkkompasError(f"Zorglocaties afgekeurd: {capped(errors)}.")
    table = pd.DataFrame(rows, columns=["naam", "categorie", "capaciteit", "x", "y", "adres",
                                        "bron", "bestand", "regel", "herkomst", "status",
                                        "_waar"])
    geometry = gpd.points_from_xy(table["x"], table["y"])
    located = gpd.GeoDataFrame(table, geometry=geometry, crs=RD)
    known = located["status"] == STATUS_OK
    outside = known & ~located.geometry.within(boundary)
    located.loc[outside, "status"] = "buiten de gemeente"
    keep = located["status"] == STATUS_OK
    duplicate = keep & located.duplicated(["categorie", "naam", "x", "y"], keep="first")
    located.loc[duplicate, "status"] = "dubbel"
    for status in ("geen coördinaten", "adres niet gevonden", "dubbel"):
        for where in located.loc[located["status"] == status, "_waar"]:
            notes.append(f"{where}: {status}")
    n_outside = int(outside.sum())
    if n_outside:
        notes.append(f"{n_outside} locaties liggen buiten de gemeente en tellen niet mee")
    return CareLocations(located.drop(columns="_waar"), notes)
