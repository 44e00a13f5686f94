"""Care locations (zorglocaties) for the vlekkenkaart: configuration, reading, checking.

A configuration file (TOML) names the categories and the data sets; new categories and
data sets are added there, not in code. A data set is a CSV, Excel or GeoJSON file with a
location per row: name, category (per row, or one for the whole file), capacity (optional),
and coordinates (RD ``x``/``y`` or WGS84 ``lon``/``lat``, or the geometry of a GeoJSON
point) or an address to look up. Column names are set per data set. See
``voorbeelden/zorglocaties.toml`` and docs/vlekkenkaart.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pydantic import AfterValidator, Field, model_validator
from pyproj import Transformer

from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.gebied import RD, RD_X, RD_Y, within_rd_bounds
from wijkkompas.schema import Schema, parse_schema
from wijkkompas.tabular import (
    MISSING,
    NumberError,
    parse_number,
    parse_series,
    read_table,
    shown,
    text_of,
)
from wijkkompas.tomlfile import read_toml

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
STATUS_OK = "opgenomen"
_MISSING = MISSING | {"-"}


@dataclass(frozen=True)
class Category:
    code: str
    naam: str
    gevoelig: bool


@dataclass(frozen=True)
class Dataset:
    bestand: Path
    bron: str
    categorie: str | None
    kolommen: dict[str, str]


@dataclass
class CareConfig:
    path: Path
    categories: dict[str, Category]
    datasets: list[Dataset]
    bandbreedte_m: float = 400.0
    stralen_m: tuple[int, ...] = (250, 500, 1000)
    minimum_aantal: int = 5


def _category_name(code: str) -> str:
    if not _NAME_RE.match(code):
        raise ValueError(f"'{code}' is geen geldige categorienaam: gebruik kleine letters, "
                         "cijfers en _ (bijvoorbeeld beschermd_wonen)")
    return code


Text = Annotated[str, Field(min_length=1)]


class CategorySchema(Schema):
    naam: Text
    gevoelig: bool = False


class DatasetSchema(Schema):
    bestand: Text
    bron: Text | None = None
    categorie: Text | None = None
    categorie_kolom: Text | None = None
    naam: Text | None = None
    capaciteit: Text | None = None
    x: Text | None = None
    y: Text | None = None
    lon: Text | None = None
    lat: Text | None = None
    adres: Text | None = None
    postcode: Text | None = None
    plaats: Text | None = None


class CareSchema(Schema):
    """The configuration of care locations (see ``voorbeelden/zorglocaties.toml``)."""

    bandbreedte_m: Annotated[float, Field(gt=0)] = 400.0
    stralen_m: Annotated[list[Annotated[int, Field(gt=0)]], Field(min_length=1)] = [
        250, 500, 1000]
    minimum_aantal: Annotated[int, Field(ge=1)] = 5
    categorie: Annotated[dict[Annotated[str, AfterValidator(_category_name)], CategorySchema],
                         Field(min_length=1)]
    dataset: list[DatasetSchema] = []

    @model_validator(mode="after")
    def _known_categories(self) -> CareSchema:
        for number, spec in enumerate(self.dataset, start=1):
            if spec.categorie is not None and spec.categorie not in self.categorie:
                raise ValueError(f"dataset[{number}].categorie: categorie '{spec.categorie}' "
                                 "staat niet bij de [categorie.*]")
        return self


def read_config(path: Path) -> CareConfig:
    """Read and check the configuration of categories and data sets."""
    path = Path(path)
    raw = read_toml(path, "configuratie van zorglocaties")
    spec = parse_schema(CareSchema, raw, str(path))
    categories = {code: Category(code, item.naam, item.gevoelig)
                  for code, item in spec.categorie.items()}
    datasets = []
    for item in spec.dataset:
        bestand = Path(item.bestand)
        if not bestand.is_absolute():
            bestand = path.parent / bestand
        columns = item.model_dump(exclude={"bestand", "bron", "categorie"}, exclude_none=True)
        datasets.append(Dataset(bestand, item.bron or bestand.name, item.categorie, columns))
    return CareConfig(path, categories, datasets, spec.bandbreedte_m, tuple(spec.stralen_m),
                      spec.minimum_aantal)


@dataclass
class CareLocations:
    """The locations of all data sets, each with its status, and the problems found."""

    rows: gpd.GeoDataFrame  # every row read, with status and (where known) RD geometry
    problems: list[str] = field(default_factory=list)

    @property
    def included(self) -> gpd.GeoDataFrame:
        return self.rows[self.rows["status"] == STATUS_OK]


def _read_points(path: Path) -> pd.DataFrame:
    try:
        frame = gpd.read_file(path)
    except (OSError, ValueError, pyogrio.errors.DataSourceError,
            pyogrio.errors.DataLayerError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WijkkompasError(f"Kan zorglocaties uit {path} niet lezen ({first}). Is het een "
                              "onbeschadigd GeoJSON-bestand of GeoPackage?") from None
    kinds = frame.geometry.geom_type
    wrong = kinds.notna() & (kinds != "Point")
    if wrong.any():
        listed = capped(f"object {int(i) + 1} is een {kinds[i]}" for i in kinds[wrong].index)
        raise WijkkompasError(f"{path}: zorglocaties moeten punten zijn, maar {listed}. Lever "
                              "de locaties als punten of met x/y-kolommen.")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    points = frame.geometry.to_crs(RD)
    frame = pd.DataFrame(frame.drop(columns="geometry"))
    frame["_x"] = [p.x if p is not None and not p.is_empty else np.nan for p in points]
    frame["_y"] = [p.y if p is not None and not p.is_empty else np.nan for p in points]
    return frame


def _read(dataset: Dataset) -> tuple[pd.DataFrame, str]:
    """The rows of one data set and the decimal mark of its numbers."""
    path = dataset.bestand
    if not path.is_file():
        raise WijkkompasError(f"Zorglocaties: bestand {path} bestaat niet. Controleer "
                              "'bestand' in de configuratie.")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg"):
        return _read_points(path), "."
    if suffix in (".csv", ".xlsx"):
        table = read_table(path)
        return table.frame, table.decimal
    raise WijkkompasError(f"{path}: gebruik CSV, Excel (.xlsx) of GeoJSON voor zorglocaties.")


def _number(value: object, decimal: str) -> float | None:
    return parse_number(value, decimal, missing=_MISSING)


_COLUMNS = ["naam", "categorie", "capaciteit", "x", "y", "adres", "bron", "bestand", "regel",
            "herkomst", "status", "_waar"]


def _texts(frame: pd.DataFrame, column: str) -> pd.Series:
    """``text_of`` of every cell of ``column``; empty text where the column is absent."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].map(text_of).astype(object)


def _row_problems(dataset: Dataset, frame: pd.DataFrame, decimal: str, config: CareConfig,
                  to_rd: Transformer, geocoder: Geocoder | None) -> list[str]:
    """Every problem of a data set, row by row in file order, as the messages name them.
    Only used when the column checks of :func:`_dataset_frame` found a problem."""
    errors = []
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
        x, y, lon, lat = numbers["x"], numbers["y"], numbers["lon"], numbers["lat"]
        if "_x" in frame:
            x = None if pd.isna(record["_x"]) else float(record["_x"])
            y = None if pd.isna(record["_y"]) else float(record["_y"])
        elif x is None and lon is not None and lat is not None:
            x, y = to_rd.transform(lon, lat)
        if x is None or y is None:
            address = " ".join(text_of(record.get(col.get(k, k)))
                               for k in ("adres", "postcode", "plaats")).strip()
            place = geocoder.locate(address) if address and geocoder is not None else None
            if place is None or not place.found:
                continue
            x, y = place.x, place.y
        if not within_rd_bounds(x, y, x, y):
            errors.append(f"{where}: coördinaten ({x}, {y}) liggen niet in Nederland; "
                          "RD (x, y in meters) of WGS84 (lon, lat) verwisseld?")
    return errors


def _dataset_frame(dataset: Dataset, config: CareConfig, to_rd: Transformer,
                   geocoder: Geocoder | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one data set (columns ``_COLUMNS``) and its problems, a column at a time.

    Categories, numbers and capacities are checked per column; when one is wrong the rows
    are gone through one by one to name every problem in file order. Only rows without
    coordinates are looked up one by one (PDOK Locatieserver).
    """
    frame, decimal = _read(dataset)
    col = dataset.kolommen
    name = str(dataset.bestand)
    points = "_x" in frame.columns
    line_offset = 1 if points else 2  # feature number, or CSV line
    lines = np.asarray(frame.index, dtype=np.int64) + line_offset
    word = "object" if points else "regel"
    if dataset.categorie:
        category = pd.Series(dataset.categorie, index=frame.index, dtype=object)
    else:
        category = _texts(frame, col.get("categorie_kolom", "categorie"))
    problem = ~category.isin(list(config.categories))
    numbers: dict[str, pd.Series] = {}
    for key in ("capaciteit", "x", "y", "lon", "lat"):
        column = col.get(key, key)
        if (key != "capaciteit" and points) or column not in frame.columns:
            numbers[key] = pd.Series(np.nan, index=frame.index)
            continue
        values, bad = parse_series(frame[column].astype(object), decimal, missing=_MISSING)
        numbers[key] = values
        problem |= bad
    problem |= numbers["capaciteit"] < 0
    if problem.any():
        return pd.DataFrame(columns=_COLUMNS), _row_problems(dataset, frame, decimal, config,
                                                             to_rd, geocoder)
    if points:
        x = frame["_x"].to_numpy(dtype="float64", copy=True)
        y = frame["_y"].to_numpy(dtype="float64", copy=True)
    else:
        x = numbers["x"].to_numpy(dtype="float64", copy=True)
        y = numbers["y"].to_numpy(dtype="float64", copy=True)
        lon, lat = numbers["lon"].to_numpy(), numbers["lat"].to_numpy()
        project = np.isnan(x) & ~np.isnan(lon) & ~np.isnan(lat)
        if project.any():
            x[project], y[project] = to_rd.transform(lon[project], lat[project])
    address = (_texts(frame, col.get("adres", "adres")) + " "
               + _texts(frame, col.get("postcode", "postcode")) + " "
               + _texts(frame, col.get("plaats", "plaats"))).str.strip()
    status = np.full(len(frame), STATUS_OK, dtype=object)
    herkomst = np.full(len(frame), "bestand", dtype=object)
    for i in np.flatnonzero(np.isnan(x) | np.isnan(y)):
        text = address.iat[i]
        if text and geocoder is not None:
            place = geocoder.locate(text)
            if place.found:
                x[i], y[i], herkomst[i] = place.x, place.y, "adres (PDOK Locatieserver)"
            else:
                status[i] = "adres niet gevonden"
        else:
            status[i] = "geen coördinaten"
    known = status == STATUS_OK
    outside = known & ~((RD_X[0] <= x) & (x <= RD_X[1]) & (RD_Y[0] <= y) & (y <= RD_Y[1]))
    errors = [f"{name} {word} {lines[i]}: coördinaten ({float(x[i])}, {float(y[i])}) liggen "
              "niet in Nederland; RD (x, y in meters) of WGS84 (lon, lat) verwisseld?"
              for i in np.flatnonzero(outside)]
    names = _texts(frame, col.get("naam", "naam"))
    table = pd.DataFrame({
        "naam": names.where(names != "", "(zonder naam)").to_numpy(),
        "categorie": category.to_numpy(),
        "capaciteit": numbers["capaciteit"].to_numpy(dtype="float64"),
        "x": x, "y": y, "adres": address.to_numpy(), "bron": dataset.bron,
        "bestand": dataset.bestand.name, "regel": lines, "herkomst": herkomst,
        "status": status,
        "_waar": [f"{name} {word} {line}" for line in lines],
    }, columns=_COLUMNS)
    return table, errors


def read_locations(config: CareConfig, gemeente: gpd.GeoDataFrame,
                   geocoder: Geocoder | None = None) -> CareLocations:
    """Every location of every data set, checked, in RD, with a status per row.

    Unknown categories and numbers that are not numbers stop the reading with a list of
    every such problem. Missing coordinates, addresses not found, points outside the
    gemeente and duplicates are kept with their status and listed in ``problems``.
    Each data set is read a column at a time (see :func:`_dataset_frame`).
    """
    to_rd = Transformer.from_crs("EPSG:4326", RD, always_xy=True)
    boundary = gemeente.to_crs(RD).union_all()
    frames, errors, notes = [], [], []
    for dataset in config.datasets:
        frame, problems = _dataset_frame(dataset, config, to_rd, geocoder)
        frames.append(frame)
        errors += problems
    if errors:
        raise WijkkompasError(f"Zorglocaties afgekeurd: {capped(errors)}.")
    filled = [f for f in frames if len(f)]
    table = (pd.concat(filled, ignore_index=True) if filled
             else pd.DataFrame(columns=_COLUMNS))
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
