"""Read the raw cache into one wide frame per source: an area per row, a variable per column.

Columns: ``gebiedscode, gebiedsnaam, niveau, jaar, bron`` and one float column per
catalogue variable the source has. Variables a source gives as a percentage of their
basis (``P_65_EO_JR``, ``Koopwoningen_47`` in %) are turned into counts
(percentage x basis / 100), so that shares can be recomputed and aggregated exactly.

Registered crime (Politie 47018NED) is one frame per year, every year in the table's own
buurt indeling (2024 for the release of August 2024), with a count column per crime group
of ``misdrijven.csv``. ``SourceFrame.indeling`` says which indeling a frame's codes belong
to when it is not the frame's year.
"""

from __future__ import annotations

import math
import mmap
import os
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wijkkompas.catalogue import (
    Resolution,
    crime_groups,
    politie_indeling,
    resolve_kaart,
    resolve_odata,
    variables,
)
from wijkkompas.errors import WijkkompasError, capped, library_detail, library_reason
from wijkkompas.gebied import CODE_RE, level_of

BASE_COLUMNS = ("gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron")
_NAME_COLUMNS = {"buurt": ("BU_NAAM", "buurtnaam"), "wijk": ("WK_NAAM", "wijknaam"),
                 "gemeente": ("GM_NAAM", "gemeentenaam", "gemeentena")}


@dataclass
class SourceFrame:
    bron: str
    jaar: int
    frame: pd.DataFrame
    resolution: Resolution | None = None
    #: The year of the area indeling the codes belong to, when it is not ``jaar``.
    indeling: int | None = None

    @property
    def indeling_jaar(self) -> int:
        return self.jaar if self.indeling is None else self.indeling


def _to_counts(columns: pd.DataFrame | MutableMapping[str, Any], percent: set[str],
               rows: int) -> None:
    """Each percentage in ``percent`` turned into a count with its basis (from the
    catalogue), in place; without its basis it becomes unknown. ``columns`` is a frame or
    the float arrays of a frame still to be made, of ``rows`` rows."""
    catalogue = variables()
    for name in percent:
        basis = catalogue[name].basis
        if basis in columns:
            columns[name] = columns[name] * columns[basis] / 100.0
        else:
            columns[name] = np.full(rows, np.nan)


def _load_json(path: Path) -> Any:
    """A raw JSON file, parsed with orjson (strict UTF-8 and JSON, several times faster
    than the standard library on CBS's large TypedDataSet files)."""
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise WijkkompasError(
            f"Kan {path} niet lezen ({library_reason(exc)}). Haal de tabel opnieuw op met "
            "'wijkkompas fetch --refresh'.", library_detail(exc)) from None


@cache
def _row_decoder(keys: tuple[str, ...]) -> msgspec.json.Decoder:
    """A decoder of a JSON array of objects that keeps only ``keys`` of each object (absent:
    None); the other fields are skipped without making Python objects of them."""
    fields = {f"k{i}": key for i, key in enumerate(keys)}
    row = msgspec.defstruct("Row", [(name, Any, None) for name in fields], rename=fields,
                            gc=False)
    return msgspec.json.Decoder(list[row])


def _load_columns(path: Path, keys: list[str]) -> dict[str, Sequence[Any]]:
    """The values of ``keys`` in every row of a TypedDataSet, column by column.

    Decoding only the columns the catalogue uses is about twice as fast as parsing every
    field of CBS's wide tables (128 topics of which the catalogue uses about 40). The file
    is decoded from a memory map (no copy of its bytes), and the rows are turned into
    columns in one transposition (``zip`` of the rows as tuples).
    """
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                rows = _row_decoder(tuple(keys)).decode(b"")
            else:
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                    rows = _row_decoder(tuple(keys)).decode(view)
    except msgspec.ValidationError:
        raise WijkkompasError(f"{path} is geen lijst van rijen; haal de tabel opnieuw op "
                              "met 'wijkkompas fetch --refresh'.") from None
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        raise WijkkompasError(
            f"Kan {path} niet lezen ({library_reason(exc)}). Haal de tabel opnieuw op met "
            "'wijkkompas fetch --refresh'.", library_detail(exc)) from None
    if not rows:
        return {key: [] for key in keys}
    columns = zip(*map(msgspec.structs.astuple, rows), strict=True)
    return dict(zip(keys, columns, strict=True))


class _Region(msgspec.Struct, gc=False):
    """An entry of WijkenEnBuurten.json: only its key and title are read."""

    Key: Any
    Title: Any = ""


def _titles(path: Path) -> dict[str, str]:
    """Per area code (unpadded) its title, from a table's WijkenEnBuurten.json. An area
    whose title is absent, null or blank has no name here (missing, not "" or "None"), so
    that the build can name it from another source or year."""
    try:
        regions = msgspec.json.decode(path.read_bytes(), type=list[_Region])
    except (OSError, msgspec.DecodeError):
        # As before: orjson, whose error names the file in Dutch, and the same lookups.
        regions = [_Region(r["Key"], r.get("Title", "")) for r in _load_json(path)]
    return _named({str(r.Key).strip(): r.Title for r in regions})


def _named(titles: dict[str, Any]) -> dict[str, str]:
    """``titles`` without the areas whose title is null or blank, the others stripped."""
    stripped = {code: str(title).strip() for code, title in titles.items()
                if title is not None}
    return {code: title for code, title in stripped.items() if title}


def _numbers(values: Sequence[Any]) -> np.ndarray | None:
    """A column of JSON numbers and nulls as floats (null, a secret value, is NaN); None
    when it holds anything else (text, true/false), which the caller parses and checks."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
            or pa.types.is_null(array.type)):
        return None
    return pc.cast(array, pa.float64(), safe=False).to_numpy(zero_copy_only=False)


def read_cbs_table(folder: Path, table_id: str, jaar: int) -> SourceFrame:
    """One raw KWB table (as cbsodata saved it) as a wide frame of catalogue variables."""
    props = _load_json(folder / "DataProperties.json")
    regions = folder / "WijkenEnBuurten.json"
    titles = _titles(regions) if regions.is_file() else {}
    resolution = resolve_odata(table_id, props)
    data_path = folder / "TypedDataSet.json"
    # Column by column straight from the file: only the keys the catalogue uses.
    raw = _load_columns(data_path, list(dict.fromkeys(["WijkenEnBuurten",
                                                       *resolution.keys.values()])))
    if not raw["WijkenEnBuurten"] or all(code is None for code in raw["WijkenEnBuurten"]):
        raise WijkkompasError(f"{data_path} bevat geen rijen met "
                              "WijkenEnBuurten; haal de tabel opnieuw op.")
    codes = [None if c is None else str(c).strip() for c in raw["WijkenEnBuurten"]]
    valid = [c is not None and CODE_RE.fullmatch(c) is not None for c in codes]
    if not all(valid):
        bad = [f"rij {i + 1}: ongeldige gebiedscode {c!r}"
               for i, (c, ok) in enumerate(zip(codes, valid, strict=True)) if not ok]
        raise WijkkompasError(f"{data_path}: {capped(bad)} (verwacht GM####, WK######, "
                              "BU######## of NL00). Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    codes = pd.Series(codes, dtype="str")
    columns: dict[str, Any] = {"gebiedscode": codes, "gebiedsnaam": codes.map(titles),
                               "niveau": level_of(codes), "jaar": jaar,
                               "bron": f"CBS {table_id}"}
    wrong = []
    for name, key in resolution.keys.items():
        values = raw[key]
        numbers = _numbers(values)
        if numbers is not None:
            columns[name] = numbers
            continue
        given = pd.Series(values, dtype="object")
        if pd.api.types.is_bool_dtype(given.infer_objects()):
            columns[name] = given.to_numpy(dtype="float64")
            continue
        column = given.astype("string").str.strip()  # e.g. the padded code '3         '
        column = column.mask(column == "")
        numbers = pd.to_numeric(column, errors="coerce")
        wrong.extend(f"rij {int(i) + 1}, {key}: geen getal: {values[i]!r}"
                     for i in column[column.notna() & numbers.isna()].index)
        columns[name] = numbers.to_numpy(dtype="float64", na_value=np.nan)
    if wrong:
        raise WijkkompasError(f"{data_path}: {capped(wrong)}. Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    _to_counts(columns, resolution.percent, len(codes))
    frame = pd.DataFrame(columns)
    return SourceFrame(f"CBS {table_id}", jaar, frame, resolution)


def read_kaart_source(path: Path, jaar: int) -> SourceFrame:
    """An imported wijk- en buurtkaart attribute file as a wide frame of catalogue variables."""
    # Imported here: reading kaart files needs GDAL and pyproj, CBS tables do not.
    from wijkkompas.fetch.kaart_import import read_kaart

    table = read_kaart(path)
    data = table.frame
    keys, percent = resolve_kaart(list(data.columns))
    codes = data[table.code_column].astype("string").str.strip()
    names = next((data[c] for c in _NAME_COLUMNS[table.niveau] if c in data.columns), None)
    frame = pd.DataFrame({"gebiedscode": codes.astype(str),
                          "gebiedsnaam": names.astype("string") if names is not None else pd.NA,
                          "niveau": table.niveau, "jaar": jaar,
                          "bron": f"CBS wijk- en buurtkaart {jaar} ({Path(path).name})"})
    text = [column for column in keys.values()
            if not pd.api.types.is_numeric_dtype(data[column]) and data[column].notna().any()]
    if text:
        raise WijkkompasError(f"{path}: kolom {capped(text, sep=', ')} bevat tekst waar getallen "
                              "horen. Verbeter het bestand en importeer het opnieuw.")
    for name, column in keys.items():
        frame[name] = pd.to_numeric(data[column], errors="coerce").astype("float64").to_numpy()
    _to_counts(frame, percent, len(frame))
    return SourceFrame(frame["bron"].iloc[0], jaar, frame)


CRIME_MEASURE = "GeregistreerdeMisdrijven"
_PERIOD_RE = re.compile(r"^(\d{4})JJ00$", re.ASCII)


def read_politie_table(folder: Path, table_id: str) -> list[SourceFrame]:
    """The raw 47018NED table: per year a frame of crime-group counts, in the table's indeling.

    A group is the sum of its crime types; when one of them is blank or absent the group
    is missing, never a partial sum.
    """
    # The fetch reads the same indeling (it fetches that year's boundaries too); imported
    # here so that a build without a Politie table does not load the fetch modules.

    props = _load_json(folder / "DataProperties.json")
    infos_path = folder / "TableInfos.json"
    infos = _load_json(infos_path) if infos_path.is_file() else []
    indeling = politie_indeling(props, infos, folder)
    measure = [p["Key"] for p in props if p.get("Type") == "Topic"
               and str(p.get("Key", "")).startswith(CRIME_MEASURE)]
    if len(measure) != 1:
        raise WijkkompasError(f"{folder / 'DataProperties.json'}: geen (of meer dan één) "
                              f"onderwerp {CRIME_MEASURE}; is dit wel tabel 47018NED?")
    key = measure[0]
    known = {str(r["Key"]).strip() for r in _load_json(folder / "SoortMisdrijf.json")}
    groups = crime_groups()
    for name, codes in groups.items():
        absent = [c for c in codes if c not in known]
        if absent:
            raise WijkkompasError(
                f"{folder / 'SoortMisdrijf.json'}: soort misdrijf {', '.join(absent)} (voor "
                f"{name}) bestaat niet in tabel {table_id}; pas wijkkompas/data/misdrijven.csv "
                "aan de nieuwe codes aan."
            )
    regions = folder / "WijkenEnBuurten.json"
    titles = _named({str(r["Key"]).strip(): r.get("Title")
                     for r in (_load_json(regions) if regions.is_file() else [])})
    dataset = folder / "TypedDataSet.json"
    counts: dict[tuple[str, int], dict[str, float]] = {}
    for number, row in enumerate(_load_json(dataset)):
        code = str(row.get("WijkenEnBuurten", "")).strip()
        period = str(row.get("Perioden", "")).strip()
        crime = str(row.get("SoortMisdrijf", "")).strip()
        value = row.get(key)
        where = f"{dataset}, rij {number + 1}"
        if code == "NL00":
            continue
        if not CODE_RE.match(code):
            raise WijkkompasError(f"{where}: ongeldige gebiedscode '{code[:20]}'. Haal de "
                                  "tabel opnieuw op (wijkkompas fetch --refresh).")
        match = _PERIOD_RE.match(period)
        if not match:
            raise WijkkompasError(f"{where}: periode '{period[:20]}' is geen jaar (verwacht "
                                  "bijvoorbeeld 2023JJ00).")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or math.isnan(value) or value < 0):
            raise WijkkompasError(f"{where}: aantal misdrijven '{str(value)[:20]}' is geen "
                                  "geldig aantal. Haal de tabel opnieuw op.")
        cell = counts.setdefault((code, int(match.group(1))), {})
        cell[crime] = math.nan if value is None else float(value)
    rows = []
    for (code, year), cell in sorted(counts.items()):
        row: dict[str, Any] = {"gebiedscode": code, "jaar": year}
        for name, codes in groups.items():
            parts = [cell.get(c, math.nan) for c in codes]
            row[name] = math.nan if any(math.isnan(v) for v in parts) else sum(parts)
        rows.append(row)
    bron = f"Politie {table_id}"
    sources = []
    if not rows:
        return sources
    wide = pd.DataFrame(rows)
    for year, part in wide.groupby("jaar", sort=True):
        codes = part["gebiedscode"].reset_index(drop=True)
        frame = pd.DataFrame({"gebiedscode": codes, "gebiedsnaam": codes.map(titles),
                              "niveau": level_of(codes), "jaar": int(year), "bron": bron})
        for name in groups:
            frame[name] = part[name].astype("float64").to_numpy()
        sources.append(SourceFrame(bron, int(year), frame, indeling=indeling))
    return sources
