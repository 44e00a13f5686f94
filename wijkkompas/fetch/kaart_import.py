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
import re
import shutil
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS, Transformer

from wijkkompas.errors import (
    LIST_CHARS,
    WijkkompasError,
    capped,
    file_problem,
    library_detail,
    library_reason,
)
from wijkkompas.gebied import CODE_PATTERNS, RD, shape_problems, within_rd_bounds
from wijkkompas.manifest import MANIFEST_NAME, read_manifest
from wijkkompas.settings import ImportSpec
from wijkkompas.storage import atomic_paths, json_bytes, now_stamp, sha256_file
from wijkkompas.tabular import NumberError, Table, parse_number, parse_series, read_csv_table

#: CBS codes for secret, not available or not applicable values in the wijk- en buurtkaart;
#: as text also '.' (not available) and 'x' (secret, as in StatLine downloads).
SECRECY_VALUES = (-99999999, -99999998, -99999997, -99999995)
MISSING_TEXT = frozenset({"", ".", "x", "-99999999", "-99999998", "-99999997", "-99999995"})

#: The Netherlands in longitude and latitude (WGS84), with a margin.
_NL_LON = (3.0, 7.6)
_NL_LAT = (50.6, 53.8)
#: The Dutch plural of each level, for messages.
PLURAL = {"buurt": "buurten", "wijk": "wijken", "gemeente": "gemeenten"}
GEO_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qmd", ".sbn", ".sbx")

# (level, candidate column names), most detailed level first.
_CODE_COLUMNS = (
    ("buurt", ("BU_CODE", "buurtcode")),
    ("wijk", ("WK_CODE", "wijkcode")),
    ("gemeente", ("GM_CODE", "gemeentecode", "gemeenteco")),
)
_LEVEL_ORDER = {"buurt": 0, "wijk": 1, "gemeente": 2}
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
    gemeente: str = ""

    @property
    def missing_counts(self) -> dict[str, int]:
        counts = self.frame.isna().sum()
        return {str(k): int(v) for k, v in counts.items() if v}


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV attribute file with numeric columns as numbers and missing values as NA."""
    table = read_csv_table(path)
    return _typed(table.frame, table, path)


def _typed(frame: pd.DataFrame, table: Table, path: Path) -> pd.DataFrame:
    """Text columns typed: a column is numeric when most of its filled cells are numbers in
    the file's notation; a cell in such a column that is not a number is an error naming
    row and column, never a silent gap. Columns of mostly text (names, codes) stay text."""
    columns, problems = {}, []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            columns[name] = column.mask(column.isin(SECRECY_VALUES))
            continue
        text = column.astype("string").str.strip()
        numbers, bad = parse_series(column.astype(object).where(column.notna(), None),
                                    table.decimal, MISSING_TEXT)
        filled = int((text.notna() & ~text.isin(MISSING_TEXT)).sum())
        if filled and int(bad.sum()) * 2 < filled:
            for index in bad[bad].index:
                try:
                    parse_number(column[index], table.decimal, missing=MISSING_TEXT)
                except NumberError as exc:
                    problems.append(f"{table.row_label(index)}, kolom {name}: {exc.reason}")
            numbers = numbers.mask(numbers.isin(SECRECY_VALUES))
            whole = numbers.dropna()
            columns[name] = numbers.astype("Int64") if (whole % 1 == 0).all() else numbers
        else:
            columns[name] = text.mask(text.isin(MISSING_TEXT))
    if problems:
        raise WijkkompasError(f"{path}: {capped(problems)}. Verbeter het bestand en importeer "
                              "opnieuw.")
    return pd.DataFrame(columns, index=frame.index)


def _read_geo(path: Path) -> pd.DataFrame:
    """The attributes of a geo file; text columns that hold numbers are typed as in a CSV
    with decimal point (GeoJSON's notation)."""
    frame = pyogrio.read_dataframe(path, read_geometry=False)
    return _typed(frame, Table(path, frame, ".", row_word="object", first_row=1), path)


def _check_geo(path: Path) -> None:
    """Geometry and coordinate system of a geo file, checked before anything is imported.

    Every feature needs a valid area (Polygon or MultiPolygon, rings closed with at least 4
    points, no self-intersection; see :func:`wijkkompas.gebied.shape_problem`); the file
    must say its coordinate system, and its coordinates must lie in the Netherlands in that
    system (RD labelled WGS84, or the other way round, is refused).
    """
    if path.suffix.lower() == ".shp" and not any(
            path.with_suffix(s).is_file() for s in (".dbf", ".DBF")):
        raise WijkkompasError(
            f"{path}: het .dbf-bestand met de kenmerken ontbreekt naast het .shp-bestand. "
            "Zet .shp, .shx, .dbf en .prj samen in één map en importeer opnieuw.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's note on unclosed rings
        meta, _, wkb, _ = pyogrio.raw.read(path, columns=[])
    if meta.get("geometry_type") is None or wkb is None:
        return  # a table without geometry: only its attributes are imported
    if len(wkb) == 0:
        raise WijkkompasError(f"{path} bevat geen rijen. Controleer het bestand.")
    shapes = shapely.from_wkb(wkb, on_invalid="ignore")
    # A feature without geometry is empty; one whose rings cannot be made is None.
    shapes[[raw is None for raw in wkb]] = shapely.GeometryCollection()
    problems = shape_problems(shapes)
    if problems:
        raise WijkkompasError(f"{path}: {capped(problems, chars=LIST_CHARS)}. Herstel de "
                              "geometrie (bijvoorbeeld "
                              "in QGIS) en importeer opnieuw.")
    _check_crs(path, meta.get("crs"), shapely.total_bounds(shapes))


def _check_crs(path: Path, crs: str | None, bounds: Sequence[float]) -> None:
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    in_rd = within_rd_bounds(minx, miny, maxx, maxy)
    in_degrees = _NL_LON[0] <= minx and maxx <= _NL_LON[1] and \
        _NL_LAT[0] <= miny and maxy <= _NL_LAT[1]
    said = CRS.from_user_input(crs) if crs else None
    if said is None:
        guess = " (de coördinaten lijken RD, EPSG:28992)" if in_rd else ""
        raise WijkkompasError(
            f"{path}: het bestand zegt niet in welk coördinatenstelsel het staat{guess}. Voeg "
            "het .prj-bestand toe of sla het bestand opnieuw op met het coördinatenstelsel.")
    if said.equals(CRS.from_user_input(RD)):
        if not in_rd:
            hint = (" de coördinaten lijken lengte- en breedtegraden (WGS84)" if in_degrees
                    else "")
            raise WijkkompasError(
                f"{path}: het bestand zegt RD (EPSG:28992), maar de coördinaten liggen niet in "
                f"Nederland in RD;{hint or ' controleer het coördinatenstelsel'}. Sla het op met "
                "het juiste coördinatenstelsel en importeer opnieuw.")
        return
    if said.is_geographic and not in_degrees:
        kind = path.suffix.lower()
        reason = " maar de coördinaten liggen niet in Nederland"
        if in_rd:
            reason = " maar de coördinaten lijken RD (EPSG:28992)"
            if kind in (".geojson", ".json"):
                reason += "; een GeoJSON zonder 'crs' geldt als WGS84"
        fix = {".shp": "Vervang het .prj-bestand door dat van het juiste coördinatenstelsel "
                       "(voor RD: EPSG:28992)",
               ".gpkg": "Sla de GeoPackage opnieuw op met het juiste coördinatenstelsel (voor "
                        "RD: EPSG:28992)"}.get(
            kind, "Geef het juiste coördinatenstelsel op (voor RD: \"crs\" EPSG:28992)")
        raise WijkkompasError(
            f"{path}: het bestand zegt {said.to_string()} (lengte- en breedtegraden),{reason}. "
            f"{fix} en importeer opnieuw.")
    if not said.is_geographic:
        to_rd = Transformer.from_crs(said, RD, always_xy=True)
        box = to_rd.transform_bounds(minx, miny, maxx, maxy)
        if not within_rd_bounds(*box):
            raise WijkkompasError(
                f"{path}: in {said.to_string()} liggen de coördinaten niet in Nederland. "
                "Controleer het coördinatenstelsel en importeer opnieuw.")


@dataclass(frozen=True)
class _Range:
    """What a column of the wijk- en buurtkaart may hold."""

    naam: str
    low: float
    high: float | None
    whole: bool  # a count of people, households, cars: no fractions


@cache
def _ranges() -> dict[str, _Range]:
    """Per kaart column of the variable catalogue (``variabelen.csv``) its range: counts
    and averages at least 0 (a count of ``aantal`` whole), percentages 0 to 100."""
    ranges = {}
    with resources.files("wijkkompas.data").joinpath("variabelen.csv").open(
            encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["soort"] == "code":
                continue
            for column in filter(None, row["kaart"].split("|")):
                ranges[column] = _Range(row["naam"].lower(), 0.0, None,
                                        row["eenheid"] == "aantal")
            for column in filter(None, row["kaart_procent"].split("|")):
                ranges[column] = _Range(f"percentage {row['naam'].lower()}", 0.0, 100.0, False)
    return ranges


def _row_words(path: Path) -> tuple[str, str, int]:
    """How a message names the rows of ``path``: a CSV row by its line (the header is line
    1), a feature of a geo file by its number; singular, Dutch plural, first number."""
    if path.suffix.lower() == ".csv":
        return "regel", "regels", 2
    return "object", "objecten", 1


def _check_ranges(frame: pd.DataFrame, path: Path) -> None:
    """Every known statistic within its range (see :func:`_ranges`): a negative count, a
    share above 100 or a fractional number of inhabitants is refused, never imported."""
    word, _, offset = _row_words(path)
    problems = []
    for column, allowed in _ranges().items():
        if column not in frame.columns or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].astype("float64")
        low = values < allowed.low
        high = values > allowed.high if allowed.high is not None else low & False
        fraction = (values % 1 != 0) & values.notna() if allowed.whole else low & False
        for index in values.index[(low | high | fraction).fillna(False)]:
            value = float(values[index])
            if low[index] or high[index]:
                limit = (f"tussen {allowed.low:g} en {allowed.high:g}"
                         if allowed.high is not None else f"minstens {allowed.low:g}")
                reason = f"{allowed.naam} {value:g} kan niet: moet {limit} zijn"
            else:
                reason = (f"{allowed.naam} {value:g} is geen geheel aantal (in een CSV met "
                          "komma's is de punt het decimaalteken: schrijf 2160, niet 2.160)")
            problems.append(f"{word} {int(index) + offset}, kolom {column}: {reason}")
    if problems:
        raise WijkkompasError(f"{path}: {capped(problems)}. Verbeter het bestand en importeer "
                              "opnieuw.")


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
    # A file of buurten whose code column was renamed must not pass as a file of wijken
    # (its wijkcodes would repeat): its name column gives it away.
    for lower, names in (("buurt", ("BU_NAAM", "buurtnaam")), ("wijk", ("WK_NAAM", "wijknaam"))):
        seen = [n for n in names if n in frame.columns]
        if seen and _LEVEL_ORDER[niveau] > _LEVEL_ORDER[lower]:
            codes = " of ".join(dict(_CODE_COLUMNS)[lower])
            raise WijkkompasError(
                f"{path}: het bestand heeft een kolom {seen[0]} maar geen kolom met "
                f"{lower}codes ({codes}). Geef de kolom met {lower}codes haar oorspronkelijke "
                "naam en importeer opnieuw.")
    stijl = next((label for label, marker in _STYLES if marker in frame.columns), "onbekend")
    return niveau, name, stijl


def _validate(frame: pd.DataFrame, path: Path, niveau: str, column: str) -> None:
    codes = frame[column].astype("string").str.strip()
    problems = []
    pattern = CODE_PATTERNS[niveau]
    word, words, offset = _row_words(path)
    for index, code in codes.items():
        if pd.isna(code) or not re.fullmatch(pattern, str(code)):
            problems.append(
                f"{word} {int(index) + offset}: ongeldige {niveau}code {code!r} in kolom {column}"
            )
    duplicated = codes[codes.duplicated(keep=False) & codes.notna()]
    for code in sorted(set(duplicated)):
        where = capped((int(i) + offset for i in duplicated[duplicated == code].index), 4, ", ")
        problems.append(f"{niveau}code {code} komt meer dan eens voor ({words} {where})")
    if problems:
        hint = ""
        if len(duplicated) and niveau != "buurt":
            hint = (f" Is dit een bestand van buurten of wijken zonder de kolom met hun codes? "
                    f"Dan is {column} niet de eigen code van elke rij.")
        # With the hint, the list takes less room: the line stays short.
        room = LIST_CHARS // 2 if hint else LIST_CHARS
        raise WijkkompasError(f"{path}: {capped(problems, chars=room)}. Verbeter het "
                              f"bestand en importeer opnieuw.{hint}")
    frame[column] = codes


def read_kaart(path: Path) -> KaartTable:
    """Read one attribute file of the wijk- en buurtkaart, with missing values as NA."""
    path = Path(path)
    problem = file_problem(path)
    if problem is not None:
        raise WijkkompasError(f"Importbestand {path} {problem}. Controleer het pad.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix in GEO_SUFFIXES:
            _check_geo(path)
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
            f"Kan {path} niet lezen ({library_reason(exc)}). Is het een onbeschadigd CSV-, "
            "shapefile-, GeoPackage- of GeoJSON-bestand van de CBS wijk- en buurtkaart?",
            library_detail(exc)) from None
    if frame.empty:
        raise WijkkompasError(f"{path} bevat geen rijen. Controleer het bestand.")
    niveau, column, stijl = _recognise(frame, path)
    _validate(frame, path, niveau, column)
    _check_ranges(frame, path)
    gemeente = _one_gemeente(frame[column], path)
    return KaartTable(path, frame, niveau, column, stijl, gemeente)


def _one_gemeente(codes: pd.Series, path: Path) -> str:
    """The one gemeente all codes lie in; a file with codes of several is refused."""
    gemeenten = "GM" + codes.astype(str).str[2:6]
    counts = gemeenten.value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    main = str(counts.index[0])
    _, words, offset = _row_words(path)
    others = capped((int(i) + offset for i in gemeenten[gemeenten != main].index), 3, ", ")
    listed = capped((f"{g} ({n})" for g, n in counts.items()), 3, ", ")
    # Of two gemeenten the rows of the smaller say where to look; of many, the list does.
    where = f" Niet in {main}: {words} {others}." if len(counts) == 2 else ""
    raise WijkkompasError(
        f"{path}: gebieden van {len(counts)} gemeenten ({listed}); een import bevat de wijken "
        f"of buurten van één gemeente.{where} Filter het bestand op uw gemeente en importeer "
        "opnieuw."
    )


def _parts(path: Path) -> list[Path]:
    if path.suffix.lower() != ".shp":
        return [path]
    return [p for p in (path.with_suffix(s) for s in SHAPEFILE_PARTS) if p.is_file()]


def _check_import(path: Path, jaar: int, manifest: dict[str, Any]) -> KaartTable:
    """Read and check one file to import, without storing anything.

    A file holds the areas of one gemeente (a file that mixes gemeenten is refused when it is
    read); files of other gemeenten may share the data folder (``--gemeente GM0141,GM0153``).
    """
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
                  manifest: dict[str, Any], drop: Sequence[str] = ()) -> None:
    """Copy a checked file unchanged into the raw cache and record it in ``manifest``.

    The copies and the manifest are written beside their places first and then put in
    place together (``storage.atomic_paths``), so that a file and its entry are stored
    together. The entries ``drop`` (keys of ``manifest["kaart"]``: files this one replaces)
    leave the manifest in the same write; their files are removed after.
    """
    parts = _parts(Path(path))
    folder = raw_dir / "kaart" / str(jaar)
    key = f"{jaar}/{Path(path).name}"
    gone = [manifest["kaart"][old] for old in drop if old in manifest["kaart"]]
    kept = {k: v for k, v in manifest["kaart"].items() if k not in drop}
    with atomic_paths([folder / part.name for part in parts]
                      + [raw_dir / MANIFEST_NAME]) as staged:
        for part, tmp in zip(parts, staged, strict=False):
            shutil.copyfile(part, tmp)
        entry = {
            "jaar": jaar,
            "bestand": Path(path).name,
            "bron": str(Path(path).resolve()),
            "imported_at": now_stamp(),
            "niveau": table.niveau,
            "gemeente": table.gemeente,
            "codekolom": table.code_column,
            "kolomstijl": table.stijl,
            "rows": len(table.frame),
            "ontbrekend": table.missing_counts,
            "files": {part.name: {"sha256": sha256_file(tmp)}
                      for part, tmp in zip(parts, staged, strict=False)},
        }
        staged[-1].write_bytes(json_bytes({**manifest, "kaart": {**kept, key: entry}}))
    for old in drop:
        manifest["kaart"].pop(old, None)
    manifest["kaart"][key] = entry
    names = {part.name for part in parts}
    for old in gone:  # no longer in the manifest: the build does not read them
        for name in old.get("files", {}):
            if name not in names and Path(name).name == name:
                (folder / name).unlink(missing_ok=True)


def _codes(table: KaartTable) -> set[str]:
    return set(table.frame[table.code_column].astype(str))


def _alike(table: KaartTable, other: KaartTable) -> bool:
    return (table.gemeente, table.niveau) == (other.gemeente, other.niveau)


def _imported_alike(table: KaartTable, path: Path, jaar: int, raw_dir: Path,
                    manifest: dict[str, Any]) -> list[tuple[str, KaartTable]]:
    """The files imported before for ``jaar`` under another name that hold the same
    gemeente and level as ``table``, by their manifest key, as they are stored in raw/."""
    found = []
    for key, entry in manifest.get("kaart", {}).items():
        name = entry.get("bestand")
        if entry.get("jaar") != jaar or not isinstance(name, str) or name == Path(path).name \
                or entry.get("niveau") != table.niveau:
            continue
        stored = raw_dir / "kaart" / str(jaar) / name
        try:
            other = read_kaart(stored)
        except WijkkompasError:
            continue  # a changed or missing raw file is the build's to report
        if _alike(table, other):
            found.append((key, other))
    return found


def _check_same_areas(table: KaartTable, path: Path, jaar: int,
                      others: Iterable[KaartTable]) -> None:
    """Two files of one year, gemeente and level (attributes beside boundaries) hold the
    same areas; another file of that year (the 2015 file imported with --jaar 2021) would
    mix two indelingen in one build."""
    for other in others:
        differ = sorted(_codes(table) ^ _codes(other))
        if differ:
            raise WijkkompasError(
                f"{path}: andere {PLURAL[table.niveau]} dan {Path(other.path).name} (ook "
                f"{jaar}): {len(differ)} codes verschillen, zoals {differ[0]}. Klopt --jaar? "
                "Zo ja, vervang het eerdere bestand met --vervang.")


def import_kaart(path: Path, jaar: int, raw_dir: Path, manifest: dict[str, Any],
                 replace: bool = False) -> KaartTable:
    """Check the file, then copy it unchanged into the raw cache and record it. With
    ``replace`` the files imported before for the same year, gemeente and level go."""
    table = _check_import(path, jaar, manifest)
    earlier = _imported_alike(table, path, jaar, raw_dir, manifest)
    if not replace:
        _check_same_areas(table, path, jaar, [other for _, other in earlier])
    _store_import(table, path, jaar, raw_dir, manifest, [key for key, _ in earlier])
    return table


def _spec(item: ImportSpec | tuple[str | Path, int]) -> ImportSpec:
    if isinstance(item, ImportSpec):
        return item
    try:
        path, jaar = item
        # Not validated here: _check_import checks the year with a line naming the file.
        return ImportSpec.model_construct(bestand=Path(path), jaar=int(jaar))
    except (TypeError, ValueError):
        raise WijkkompasError(
            f"Ongeldig importbestand {item!r}: geef een bestand en een jaar, bijvoorbeeld "
            "['buurt_2021.csv', 2021]."
        ) from None


def import_all(specs: Iterable[ImportSpec | tuple[str | Path, int]], raw_dir: Path, *,
               say: Callable[[str], None] = print, replace: bool = False) -> list[KaartTable]:
    """Import wijk- en buurtkaart files: all are checked first, then copied and recorded.

    ``specs`` are :class:`ImportSpec` items (the config's ``[[import]]``) or (path, year)
    pairs. The manifest is read once; when any file is refused, nothing is copied and
    ``raw_dir`` stays as it was. Each file is stored together with its manifest entry. ``say``
    gets one line per imported file.

    A file of the same year, gemeente and level as a file imported before (or earlier in
    this import) under another name must hold the same areas; with ``replace`` the files
    imported before for that year, gemeente and level are replaced instead (a file of the
    same name always replaces its earlier copy).
    """
    jobs = [_spec(item) for item in specs]
    if not jobs:
        return []
    manifest = read_manifest(raw_dir)
    checked: list[tuple[ImportSpec, KaartTable]] = []
    dropped: list[list[str]] = []
    for spec in jobs:
        table = _check_import(spec.bestand, spec.jaar, manifest)
        earlier = _imported_alike(table, spec.bestand, spec.jaar, raw_dir, manifest)
        batch = [other for done, other in checked if done.jaar == spec.jaar
                 and _alike(table, other) and Path(done.bestand).name != Path(spec.bestand).name]
        _check_same_areas(table, spec.bestand, spec.jaar,
                          batch + ([] if replace else [other for _, other in earlier]))
        checked.append((spec, table))
        dropped.append([key for key, _ in earlier] if replace else [])
    raw_dir.mkdir(parents=True, exist_ok=True)
    for (spec, table), drop in zip(checked, dropped, strict=True):
        _store_import(table, spec.bestand, spec.jaar, raw_dir, manifest, drop)
    for spec, table in checked:
        missing = sum(table.missing_counts.values())
        count = len(table.frame)
        areas = table.niveau if count == 1 else PLURAL[table.niveau]
        say(f"{spec.bestand}: {count} {areas} ({spec.jaar}, kolommen: "
            f"{table.stijl}); {missing} ontbrekende waarden (geheim of niet beschikbaar) als "
            "leeg gelezen.")
    return [table for _, table in checked]
