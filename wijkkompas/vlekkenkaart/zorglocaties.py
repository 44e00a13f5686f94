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
import shapely
from pydantic import AfterValidator, Field, model_validator
from pyproj import Transformer

from wijkkompas.errors import WijkkompasError, capped, file_problem, library_detail, library_reason
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.gebied import RD, RD_X, RD_Y
from wijkkompas.schema import Schema
from wijkkompas.tabular import (
    MISSING,
    NumberError,
    parse_number,
    parse_series,
    read_table,
    shown,
    text_of,
)
from wijkkompas.tomlfile import read_toml_schema

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
STATUS_OK = "opgenomen"
#: The word that marks invented example data (in a source name or a location's name).
VOORBEELD = "VOORBEELD"
_MISSING = MISSING | {"-"}
#: The smallest ``minimum_aantal``: counts of sensitive categories from 1 to 4 are never shared.
PRIVACY_FLOOR = 5


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
    voorbeeld: bool = False
    peildatum: str | None = None  # when the data describe ("2014", "1 januari 2024")


@dataclass
class CareConfig:
    path: Path
    categories: dict[str, Category]
    datasets: list[Dataset]
    bandbreedte_m: float = 400.0
    stralen_m: tuple[int, ...] = (250, 500, 1000)
    minimum_aantal: int = 5
    voorbeeld_meetellen: bool = False


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
    peildatum: Text | None = None
    voorbeeld: bool = False
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
    #: Below the privacy floor a shared count could point at a few people: refused.
    minimum_aantal: Annotated[int, Field(ge=PRIVACY_FLOOR)] = PRIVACY_FLOOR
    voorbeeld_meetellen: bool = False
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
    spec = read_toml_schema(path, CareSchema, "configuratie van zorglocaties")
    categories = {code: Category(code, item.naam, item.gevoelig)
                  for code, item in spec.categorie.items()}
    datasets = []
    for item in spec.dataset:
        bestand = Path(item.bestand)
        if not bestand.is_absolute():
            bestand = path.parent / bestand
        columns = item.model_dump(exclude={"bestand", "bron", "categorie", "voorbeeld",
                                           "peildatum"},
                                  exclude_none=True)
        bron = item.bron or bestand.name
        # Invented example data are marked in the configuration, or by their source's name.
        example = item.voorbeeld or VOORBEELD in bron
        datasets.append(Dataset(bestand, bron, item.categorie, columns, example,
                                item.peildatum))
    return CareConfig(path, categories, datasets, spec.bandbreedte_m, tuple(spec.stralen_m),
                      spec.minimum_aantal, spec.voorbeeld_meetellen)


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
        raise WijkkompasError(f"Kan zorglocaties uit {path} niet lezen ({library_reason(exc)}). "
                              "Is het een onbeschadigd GeoJSON-bestand of GeoPackage?",
                              library_detail(exc)) from None
    kinds = frame.geometry.geom_type
    wrong = kinds.notna() & (kinds != "Point")
    if wrong.any():
        listed = capped(f"object {int(i) + 1} is een {kinds[i]}" for i in kinds[wrong].index)
        raise WijkkompasError(f"{path}: zorglocaties moeten punten zijn, maar {listed}. Lever "
                              "de locaties als punten of met x/y-kolommen.")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    points = frame.geometry.to_crs(RD).to_numpy()
    frame = pd.DataFrame(frame.drop(columns="geometry"))
    # NaN for a missing or empty geometry.
    frame["_x"] = shapely.get_x(points)
    frame["_y"] = shapely.get_y(points)
    return frame


def _read(dataset: Dataset) -> tuple[pd.DataFrame, str]:
    """The rows of one data set and the decimal mark of its numbers."""
    path = dataset.bestand
    problem = file_problem(path)
    if problem is not None:
        raise WijkkompasError(f"Zorglocaties: bestand {path} {problem}. Controleer "
                              "'bestand' in de configuratie.")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".gpkg"):
        return _read_points(path), "."
    if suffix in (".csv", ".xlsx"):
        table = read_table(path)
        return table.frame, table.decimal
    raise WijkkompasError(f"{path}: gebruik CSV, Excel (.xlsx) of GeoJSON voor zorglocaties.")


_COLUMNS = ["naam", "categorie", "capaciteit", "x", "y", "adres", "bron", "bestand", "regel",
            "herkomst", "status", "voorbeeld", "_waar"]
_NUMBERS = ("capaciteit", "x", "y", "lon", "lat")


def _texts(frame: pd.DataFrame, column: str) -> pd.Series:
    """:func:`text_of` of every cell of ``column``; empty where the column is absent."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    if pd.api.types.is_string_dtype(values) and \
            pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.str.strip().fillna("").astype(object)
    return values.map(text_of).astype(object)


def _numbers(frame: pd.DataFrame, column: str, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_number` for a whole column: the numbers (NaN where missing) and a mask
    of the cells that are not numbers. An absent column is missing throughout."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan), np.zeros(len(frame), dtype=bool)
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        bad = np.isinf(numbers)
        numbers[bad] = np.nan
        return numbers, bad
    numbers, bad = parse_series(values, decimal, missing=_MISSING)
    return numbers.to_numpy(dtype="float64", copy=True), bad.to_numpy(dtype=bool)


def _reason(value: object, decimal: str) -> str:
    """Why a cell is not a number, in the words of :func:`parse_number`."""
    try:
        _number(value, decimal)
    except NumberError as exc:
        return exc.reason
    raise AssertionError(f"{value!r} is a number")  # the column check and the cell disagree


def _number(value: object, decimal: str) -> float | None:
    return parse_number(value, decimal, missing=_MISSING)


def _read_dataset(dataset: Dataset, config: CareConfig, to_rd: Transformer,
                  geocoder: Geocoder | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one data set (columns ``_COLUMNS``) and its problems in file order.

    Every check runs on whole columns; only the rows with a problem are gone through one by
    one to name it, and only the rows without coordinates are looked up (PDOK
    Locatieserver), in file order. A row with an unknown category is named for that alone;
    one with a cell that is no number for every such cell; a negative capacity only when its
    numbers are numbers; coordinates outside the Netherlands only when nothing else is wrong.
    """
    frame, decimal = _read(dataset)
    col = dataset.kolommen
    name = str(dataset.bestand)
    points = "_x" in frame.columns
    line_offset = 1 if points else 2  # feature number, or CSV line
    word = "object" if points else "regel"
    lines = np.asarray(frame.index, dtype=np.int64) + line_offset
    rows = len(frame)
    if dataset.categorie:
        category = pd.Series(dataset.categorie, index=frame.index, dtype=object)
    else:
        category = _texts(frame, col.get("categorie_kolom", "categorie"))
    unknown = ~category.isin(list(config.categories)).to_numpy(dtype=bool)
    numbers: dict[str, np.ndarray] = {}
    wrong: dict[str, np.ndarray] = {}
    for key in _NUMBERS:
        if key != "capaciteit" and points:
            numbers[key], wrong[key] = np.full(rows, np.nan), np.zeros(rows, dtype=bool)
        else:
            numbers[key], wrong[key] = _numbers(frame, col.get(key, key), decimal)
    no_number = np.logical_or.reduce([wrong[key] for key in _NUMBERS]) & ~unknown
    with np.errstate(invalid="ignore"):
        negative = ~unknown & ~no_number & (numbers["capaciteit"] < 0)
    refused = unknown | no_number | negative
    messages: dict[int, list[str]] = {}
    for i in np.flatnonzero(refused):
        where = f"{name} {word} {lines[i]}"
        if unknown[i]:
            text = [f"{where}: onbekende categorie '{shown(category.iat[i])}' (bekend: "
                    f"{', '.join(config.categories)}); voeg hem toe aan {config.path}"]
        elif no_number[i]:
            text = [f"{where}: {_reason(frame[col.get(key, key)].iat[i], decimal)} in kolom "
                    f"{col.get(key, key)}" for key in _NUMBERS if wrong[key][i]]
        else:
            text = [f"{where}: een capaciteit kan niet negatief zijn "
                    f"({float(numbers['capaciteit'][i]):g}) in kolom "
                    f"{col.get('capaciteit', 'capaciteit')}"]
        messages[int(i)] = text
    given = np.full((rows, 2), np.nan)  # lon/lat as given, where they were projected
    if points:
        x = frame["_x"].to_numpy(dtype="float64", copy=True)
        y = frame["_y"].to_numpy(dtype="float64", copy=True)
    else:
        x, y = numbers["x"], numbers["y"]
        lon, lat = numbers["lon"], numbers["lat"]
        project = ~refused & np.isnan(x) & ~np.isnan(lon) & ~np.isnan(lat)
        if project.any():
            x[project], y[project] = to_rd.transform(lon[project], lat[project])
            given[project] = np.column_stack([lon[project], lat[project]])
    address = (_texts(frame, col.get("adres", "adres")) + " "
               + _texts(frame, col.get("postcode", "postcode")) + " "
               + _texts(frame, col.get("plaats", "plaats"))).str.strip().to_numpy(dtype=object)
    status = np.full(rows, STATUS_OK, dtype=object)
    herkomst = np.full(rows, "bestand", dtype=object)
    for i in np.flatnonzero(~refused & (np.isnan(x) | np.isnan(y))):
        if address[i] and geocoder is not None:
            place = geocoder.locate(address[i])
            if place.found:
                x[i], y[i], herkomst[i] = place.x, place.y, "adres (PDOK Locatieserver)"
            else:
                status[i] = "adres niet gevonden"
        else:
            status[i] = "geen coördinaten"
    with np.errstate(invalid="ignore"):
        in_nl = (RD_X[0] <= x) & (x <= RD_X[1]) & (RD_Y[0] <= y) & (y <= RD_Y[1])
    for i in np.flatnonzero(~refused & (status == STATUS_OK) & ~in_nl):
        shown_x, shown_y = (x[i], y[i]) if np.isnan(given[i, 0]) else given[i]
        kind = "" if np.isnan(given[i, 0]) else " (lon, lat)"
        messages[int(i)] = [f"{name} {word} {lines[i]}: coördinaten{kind} ({float(shown_x)}, "
                            f"{float(shown_y)}) liggen niet in Nederland; RD (x, y in meters) "
                            "of WGS84 (lon, lat) verwisseld?"]
    if messages:
        return pd.DataFrame(columns=_COLUMNS), [m for i in sorted(messages)
                                                 for m in messages[i]]
    names = _texts(frame, col.get("naam", "naam"))
    table = pd.DataFrame({
        "naam": names.where(names != "", "(zonder naam)").to_numpy(dtype=object),
        "categorie": category.to_numpy(dtype=object),
        "capaciteit": numbers["capaciteit"], "x": x, "y": y, "adres": address,
        "bron": dataset.bron, "bestand": dataset.bestand.name, "regel": lines,
        "herkomst": herkomst, "status": status,
        "voorbeeld": dataset.voorbeeld | names.str.contains(VOORBEELD, regex=False)
        .to_numpy(dtype=bool),
        "_waar": [f"{name} {word} {line}" for line in lines],
    }, columns=_COLUMNS, index=pd.RangeIndex(rows))
    return table, []


def read_locations(config: CareConfig, gemeente: gpd.GeoDataFrame,
                   geocoder: Geocoder | None = None) -> CareLocations:
    """Every location of every data set, checked, in RD, with a status per row.

    Unknown categories and numbers that are not numbers stop the reading with a list of
    every such problem. Missing coordinates, addresses not found, points outside the
    gemeente and duplicates are kept with their status and listed in ``problems``.
    Each data set is checked a column at a time (see :func:`_read_dataset`).
    """
    to_rd = Transformer.from_crs("EPSG:4326", RD, always_xy=True)
    boundary = gemeente.to_crs(RD).union_all()
    frames, errors, notes = [], [], []
    for dataset in config.datasets:
        frame, problems = _read_dataset(dataset, config, to_rd, geocoder)
        frames.append(frame)
        errors += problems
    if errors:
        raise WijkkompasError(f"Zorglocaties afgekeurd: {capped(errors)}.")
    filled = [f for f in frames if len(f)]
    table = (pd.concat(filled, ignore_index=True) if filled
             else pd.DataFrame(columns=_COLUMNS))
    table["voorbeeld"] = table["voorbeeld"].astype(bool)
    located = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["x"], table["y"]),
                               crs=RD)
    known = (located["status"] == STATUS_OK).to_numpy(dtype=bool)
    shapely.prepare(boundary)
    inside = shapely.contains_xy(boundary, located["x"].to_numpy(dtype="float64"),
                                 located["y"].to_numpy(dtype="float64"))
    outside = known & ~inside
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
