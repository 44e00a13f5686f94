"""Import of CBS wijk- en buurtkaart attribute files, in the forms CBS publishes them.

CBS publishes the wijk- en buurtkaart as shapefile, GeoPackage, GeoJSON or CSV. Column
names differ by year and format: ``BU_CODE``/``AANT_INW`` (2015 and earlier), full names
such as ``buurtcode``/``aantal_inwoners`` (PDOK, GeoPackage) and their 10-character
shapefile form (``gemeenteco``, ``aantal_inw``). The import recognises the area code
column, reads CBS's secrecy values (-99999999 and related codes) and ``'.'`` as missing,
copies the original file(s) unchanged to ``data/raw/kaart/<jaar>/`` and records them in
the manifest. Mapping the statistics to canonical variables is the build stage's work.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from wijkkompas.errors import WijkkompasError
from wijkkompas.gebied import CODE_PATTERNS
from wijkkompas.settings import ImportSpec
from wijkkompas.storage import (
    TEMP_MARK,
    no_interrupt,
    now_stamp,
    read_manifest,
    sha256_file,
    write_manifest,
)

#: CBS codes for secret, not available or not applicable values in the wijk- en buurtkaart.
SECRECY_VALUES = (-99999999, -99999998, -99999997, -99999995)
MISSING_TEXT = {"", ".", "-99999999", "-99999998", "-99999997", "-99999995"}

GEO_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qmd", ".sbn", ".sbx")

# (level, candidate column names), most detailed level first.
_CODE_COLUMNS = (
    ("buurt", ("BU_CODE", "buurtcode")),
    ("wijk", ("WK_CODE", "wijkcode")),
    ("gemeente", ("GM_CODE", "gemeentecode", "gemeenteco")),
)
_STYLES = (
    ("2015 en eerder (hoofdletters, AANT_INW)", "AANT_INW"),
    ("PDOK/GeoPackage (volledige namen, aantal_inwoners)", "aantal_inwoners"),
    ("shapefile (10 tekens, aantal_inw)", "aantal_inw"),
)


@dataclass
class KaartTable:
    """An imported attribute table with what was recognised about it."""

    path: Path
    frame: pd.DataFrame
    niveau: str
    code_column: str
    stijl: str

    @property
    def missing_counts(self) -> dict[str, int]:
        counts = self.frame.isna().sum()
        return {str(k): int(v) for k, v in counts.items() if v}


def _read_csv(path: Path) -> pd.DataFrame:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(8192)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    decimal = "," if sep == ";" else "."
    return frame.apply(lambda column: _typed_column(column, decimal))


def _typed_column(column: pd.Series, decimal: str) -> pd.Series:
    """Missing markers become NA; a column whose other values are all numbers becomes numeric."""
    text = column.astype("string").str.strip()
    text = text.mask(text.isin(MISSING_TEXT))
    present = text.dropna()
    as_number = present.str.replace(decimal, ".", regex=False) if decimal != "." else present
    numbers = pd.to_numeric(as_number, errors="coerce")
    if len(present) and numbers.notna().all():
        result = pd.Series(float("nan"), index=column.index, dtype="float64")
        result[present.index] = numbers.astype("float64")
        result = result.mask(result.isin(SECRECY_VALUES))
        if (result.dropna() % 1 == 0).all():
            return result.astype("Int64")
        return result
    return text


def _read_geo(path: Path) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            frame[name] = column.mask(column.isin(SECRECY_VALUES))
        else:
            text = column.astype("string").str.strip()
            frame[name] = text.mask(text.isin({"", "."}))
    return frame


def _recognise(frame: pd.DataFrame, path: Path) -> tuple[str, str, str]:
    found = [(niveau, name) for niveau, names in _CODE_COLUMNS for name in names
             if name in frame.columns]
    if not found:
        raise WijkkompasError(
            f"{path}: geen kolom met gebiedscodes gevonden (verwacht bijvoorbeeld BU_CODE, "
            "buurtcode, WK_CODE, wijkcode of GM_CODE). Is dit een attribuutbestand van de CBS "
            "wijk- en buurtkaart?"
        )
    niveau, name = found[0]
    stijl = next((label for label, marker in _STYLES if marker in frame.columns), "onbekend")
    return niveau, name, stijl


def _validate(frame: pd.DataFrame, path: Path, niveau: str, column: str) -> None:
    codes = frame[column].astype("string").str.strip()
    problems = []
    pattern = CODE_PATTERNS[niveau]
    # A CSV row is named by its line (the header is line 1), a feature by its number.
    word, offset = ("regel", 2) if path.suffix.lower() == ".csv" else ("object", 1)
    for index, code in codes.items():
        if pd.isna(code) or not re.fullmatch(pattern, str(code)):
            problems.append(
                f"{word} {int(index) + offset}: ongeldige {niveau}code {code!r} in kolom {column}"
            )
    duplicated = codes[codes.duplicated(keep=False) & codes.notna()]
    for code in sorted(set(duplicated)):
        where = ", ".join(str(int(i) + offset) for i in duplicated[duplicated == code].index)
        problems.append(f"{niveau}code {code} komt meer dan eens voor ({word}s {where})")
    if problems:
        listed = "; ".join(problems[:10])
        more = f" (en nog {len(problems) - 10})" if len(problems) > 10 else ""
        raise WijkkompasError(f"{path}: {listed}{more}. Verbeter het bestand en importeer opnieuw.")
    frame[column] = codes


def read_kaart(path: Path) -> KaartTable:
    """Read one attribute file of the wijk- en buurtkaart, with missing values as NA."""
    path = Path(path)
    if not path.is_file():
        raise WijkkompasError(f"Importbestand {path} bestaat niet. Controleer het pad.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix in GEO_SUFFIXES:
            frame = _read_geo(path)
        else:
            raise WijkkompasError(
                f"{path}: onbekend bestandstype '{suffix}'. Importeer een CSV, shapefile (.shp), "
                "GeoPackage (.gpkg) of GeoJSON van de CBS wijk- en buurtkaart."
            )
    except WijkkompasError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError,
            pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise WijkkompasError(
            f"Kan {path} niet lezen ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            "Is het een onbeschadigd CSV-, shapefile-, GeoPackage- of GeoJSON-bestand van de "
            "CBS wijk- en buurtkaart?"
        ) from None
    if frame.empty:
        raise WijkkompasError(f"{path} bevat geen rijen. Controleer het bestand.")
    niveau, column, stijl = _recognise(frame, path)
    _validate(frame, path, niveau, column)
    return KaartTable(path, frame, niveau, column, stijl)


def _parts(path: Path) -> list[Path]:
    if path.suffix.lower() != ".shp":
        return [path]
    return [p for p in (path.with_suffix(s) for s in SHAPEFILE_PARTS) if p.is_file()]


def _check_import(path: Path, jaar: int) -> KaartTable:
    """Read and check one file to import, without storing anything."""
    if not 1990 <= jaar <= 2100:
        raise WijkkompasError(
            f"Ongeldig jaar {jaar} voor {path}; gebruik bijvoorbeeld --jaar 2021."
        )
    table = read_kaart(path)
    if "jaar" in table.frame.columns:
        years = set(pd.to_numeric(table.frame["jaar"], errors="coerce").dropna().astype(int))
        if years and years != {jaar}:
            raise WijkkompasError(
                f"{path}: de kolom 'jaar' zegt {sorted(years)}, maar --jaar is {jaar}. "
                "Geef het juiste jaar op."
            )
    return table


def _store_import(table: KaartTable, path: Path, jaar: int, raw_dir: Path,
                  manifest: dict[str, Any]) -> None:
    """Copy a checked file unchanged into the raw cache and record it in ``manifest``.

    The copies are made beside their place first; then, with Ctrl-C held back, they are
    put in place and the manifest (``manifest``, updated) is written, so that a file and its
    entry are stored together.
    """
    folder = raw_dir / "kaart" / str(jaar)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for part in _parts(Path(path)):
            handle, name = tempfile.mkstemp(prefix=f".{part.name}{TEMP_MARK}", dir=folder)
            os.close(handle)
            staged.append((Path(name), folder / part.name))
            shutil.copyfile(part, name)
        files = {target.name: {"sha256": sha256_file(tmp)} for tmp, target in staged}
        with no_interrupt():
            for tmp, target in staged:
                os.replace(tmp, target)
            manifest["kaart"][f"{jaar}/{Path(path).name}"] = {
                "jaar": jaar,
                "bestand": Path(path).name,
                "bron": str(Path(path).resolve()),
                "imported_at": now_stamp(),
                "niveau": table.niveau,
                "codekolom": table.code_column,
                "kolomstijl": table.stijl,
                "rows": len(table.frame),
                "ontbrekend": table.missing_counts,
                "files": files,
            }
            write_manifest(raw_dir, manifest)
    finally:
        for tmp, _target in staged:
            if tmp.exists():
                tmp.unlink()


def import_kaart(path: Path, jaar: int, raw_dir: Path, manifest: dict[str, Any]) -> KaartTable:
    """Check the file, then copy it unchanged into the raw cache and record it."""
    table = _check_import(path, jaar)
    _store_import(table, path, jaar, raw_dir, manifest)
    return table


def _spec(item: ImportSpec | tuple[str | Path, int]) -> ImportSpec:
    if isinstance(item, ImportSpec):
        return item
    try:
        path, jaar = item
        return ImportSpec(bestand=Path(path), jaar=int(jaar))
    except (TypeError, ValueError):
        raise WijkkompasError(
            f"Ongeldig importbestand {item!r}: geef een bestand en een jaar, bijvoorbeeld "
            "['buurt_2021.csv', 2021]."
        ) from None


def import_all(specs: Iterable[ImportSpec | tuple[str | Path, int]], raw_dir: Path, *,
               say: Callable[[str], None] = print) -> list[KaartTable]:
    """Import wijk- en buurtkaart files: all are checked first, then copied and recorded.

    ``specs`` are :class:`ImportSpec` items (the config's ``[[import]]``) or (path, year)
    pairs. The manifest is read once; when any file is refused, nothing
    is copied and ``raw_dir`` stays as it was. Each file is stored together with its manifest
    entry. ``say`` gets one line per imported file.
    """
    jobs = [_spec(item) for item in specs]
    if not jobs:
        return []
    checked = [(spec, _check_import(spec.bestand, spec.jaar)) for spec in jobs]
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(raw_dir)
    for spec, table in checked:
        _store_import(table, spec.bestand, spec.jaar, raw_dir, manifest)
    for spec, table in checked:
        missing = sum(table.missing_counts.values())
        say(f"{spec.bestand}: {len(table.frame)} {table.niveau}en ({spec.jaar}, kolommen: "
            f"{table.stijl}); {missing} ontbrekende waarden (geheim of niet beschikbaar) als "
            "leeg gelezen.")
    return [table for _, table in checked]
