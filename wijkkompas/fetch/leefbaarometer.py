"""Import of the Leefbaarometer 3.0: liveability scores per buurt, from its open data CSV.

The open data of a measurement (``open-data-leefbaarometer-meting-2024.zip``) hold
``Leefbaarometer-scores buurten 2002-2024.csv``: one row per buurt and year, columns
``bu_code, jaar, lbm`` (total score) and the five dimensions as deviations from the
national mean: ``won`` (woningvoorraad), ``fys`` (fysieke omgeving), ``vrz``
(voorzieningen), ``soc`` (sociale samenhang) and ``onv`` (overlast en onveiligheid).
Every year of a release is given on the buurten of that release (the 2024 release on
those of 2024), which is the ``indeling`` the rows get.

The file is read as every CSV is (``tabular``: encoding, separator, numbers), with one
difference: a score is a small number without thousands separators, so the file may write
it with a decimal comma or a decimal point under either separator. The file's cells say
which; a file that uses both is refused, since there one of them could separate thousands
(``0,012`` is 12 to a reader that takes the point for the decimal mark).
:func:`read_file` checks every row and reports the bad ones with their line numbers;
:func:`import_file` copies the file unchanged into ``data/raw/leefbaarometer/<indeling>/``
and writes its manifest entry (with ``files``, checked by ``manifest.verify_raw``) in the
same step. The build's part is ``indicatoren/leefbaarometer.py``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from wijkkompas.errors import WijkkompasError, capped, file_problem, os_reason
from wijkkompas.gebied import code_problem
from wijkkompas.manifest import MANIFEST_NAME
from wijkkompas.storage import json_bytes, now_stamp, write_files_atomic
from wijkkompas.tabular import NumberError, parse_number, read_text, shown, sniff_separator

#: Column of the open data file -> variable (and indicator) of the catalogue.
COLUMNS = {"lbm": "lbm_totaal", "won": "lbm_won", "fys": "lbm_fys", "vrz": "lbm_vrz",
           "soc": "lbm_soc", "onv": "lbm_onv"}
REQUIRED = ("bu_code", "jaar", *COLUMNS)
FOLDER = "leefbaarometer"
RAW_NAME = "leefbaarometer_buurten.csv"
BRON = "Leefbaarometer 3.0"
#: Bad rows named in the message; all of them are counted.
SHOWN = 5
#: Only an empty cell is a missing score ('.' is not, unlike in CBS files).
_EMPTY = frozenset({""})
_DECIMAL_NAME = {",": "decimaalkomma", ".": "decimaalpunt"}


@dataclass
class LbmTable:
    frame: pd.DataFrame  # bu_code, jaar, and the variables of COLUMNS
    separator: str
    missing: int  # empty cells, read as missing


def _rows(text: str, separator: str,
          problems: list[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """The rows after the header, each with the line it starts on; blank rows skipped. A
    row the csv module cannot read ends the file with a problem."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    next(reader, None)
    try:
        for fields in reader:
            if fields and any(f.strip() for f in fields):
                yield reader.line_num, fields
    except csv.Error as exc:
        problems.append((reader.line_num, f"onleesbaar ({exc})"))


def _header(text: str, separator: str, path: Path) -> list[str]:
    try:
        columns = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator), None)
    except csv.Error:
        columns = None
    if not columns:
        raise WijkkompasError(f"{path} is leeg; verwacht de Leefbaarometer-buurtscores met "
                              f"kolommen {', '.join(REQUIRED)}.")
    columns = [c.strip().lower() for c in columns]
    missing_columns = [c for c in REQUIRED if c not in columns]
    if missing_columns:
        raise WijkkompasError(
            f"{path}: kolom(men) {', '.join(missing_columns)} ontbreken; is dit wel het "
            "bestand 'Leefbaarometer-scores buurten' (kolommen bu_code, jaar, lbm, won, fys, "
            "vrz, soc, onv)?")
    return columns


def _decimal_mark(rows: list[tuple[int, list[str]]], where: dict[str, int], path: Path) -> str:
    """The decimal mark the scores of the file use: "," or "." (',' when no score has one).

    Only scores with one mark that read as numbers with it count (a cell with both marks,
    or no number, is a bad row); a file whose scores use both marks is refused."""
    first: dict[str, tuple[int, str, str]] = {}
    for line, fields in rows:
        for column in COLUMNS:
            cell = fields[where[column]]
            marks = [mark for mark in ",." if mark in cell]
            if len(marks) == 1 and marks[0] not in first and _reads(cell, marks[0]):
                first[marks[0]] = (line, column, cell.strip())
        if len(first) == 2:
            found = [f"een {_DECIMAL_NAME[mark]} (regel {line}, {column} '{shown(cell)}')"
                     for mark, (line, column, cell) in sorted(first.items())]
            raise WijkkompasError(
                f"{path}: scores met {found[0]} en met {found[1]}; zo is niet zeker welk "
                "teken decimalen scheidt en welk duizendtallen. Gebruik in het hele bestand "
                "één decimaalteken; er is niets geïmporteerd.")
    return next(iter(first), ",")


def _reads(cell: str, decimal: str) -> bool:
    try:
        parse_number(cell, decimal, missing=_EMPTY)
    except NumberError:
        return False
    return True


def _score(cell: str, decimal: str) -> float:
    """A score in the file's notation; empty is missing; anything else raises NumberError.
    A score has no thousands separator: the mark that is not the decimal mark is refused
    (tabular would read '1.234.567' in a file with decimal commas as 1234567)."""
    if ("." if decimal == "," else ",") in cell:
        raise NumberError(cell)
    number = parse_number(cell, decimal, missing=_EMPTY)
    return math.nan if number is None else number


def read_file(path: Path) -> LbmTable:
    """Read and check a Leefbaarometer buurt CSV; every bad row is reported by line."""
    problem = file_problem(path)
    if problem is not None:
        raise WijkkompasError(f"Leefbaarometer-bestand {path} {problem}. Controleer het pad.")
    text, _ = read_text(path)
    separator = sniff_separator(text.split("\n", 1)[0])
    columns = _header(text, separator, path)
    where = {c: columns.index(c) for c in REQUIRED}
    problems: list[tuple[int, str]] = []  # (line, what is wrong)
    rows = []
    for line, fields in _rows(text, separator, problems):
        if len(fields) != len(columns):
            problems.append((line, f"{len(fields)} velden in plaats van {len(columns)}"))
        else:
            rows.append((line, fields))
    decimal = _decimal_mark(rows, where, path)
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, int], int] = {}
    this_year = date.today().year
    missing = 0
    for line, fields in rows:
        code = fields[where["bu_code"]].strip()
        bad = []
        if code_problem(code, "buurt") is not None:
            bad.append(f"bu_code '{code[:20]}' is geen buurtcode (BU + 8 cijfers)")
        jaar_text = fields[where["jaar"]].strip()
        jaar = int(jaar_text) if re.fullmatch(r"\d{4}", jaar_text, flags=re.ASCII) else None
        if jaar is None or not 2000 <= jaar <= this_year:
            bad.append(f"jaar '{jaar_text[:20]}' is geen geldig jaar")
        values = {}
        for column, variable in COLUMNS.items():
            cell = fields[where[column]]
            try:
                values[variable] = _score(cell, decimal)
            except NumberError:
                bad.append(f"{column} '{cell.strip()[:20]}' is geen getal")
        if not bad and jaar is not None:
            key = (code, jaar)
            if key in seen:
                bad.append(f"{code} {jaar} staat ook op regel {seen[key]}")
            seen.setdefault(key, line)
        if bad:
            problems.append((line, "; ".join(bad)))
            continue
        missing += sum(1 for v in values.values() if math.isnan(v))
        records.append({"bu_code": code, "jaar": jaar, **values})
    if problems:
        lines = [f"regel {line}: {what}" for line, what in sorted(problems)]
        raise WijkkompasError(
            f"{path}: {len(lines)} foute rij(en): {capped(lines, SHOWN)}. Verbeter het "
            "bestand; er is niets geïmporteerd.")
    if not records:
        raise WijkkompasError(f"{path} bevat geen buurtrijen.")
    frame = pd.DataFrame(records, columns=["bu_code", "jaar", *COLUMNS.values()])
    return LbmTable(frame, separator, missing)


def import_file(path: Path, raw_dir: Path, manifest: dict[str, Any], gemeente: str,
                indeling: int | None = None) -> tuple[LbmTable, int]:
    """Check the file, then copy it unchanged to ``raw/leefbaarometer/<indeling>/``.

    ``indeling`` is the year of the release's buurten; default the latest year in the file.
    The manifest (``leefbaarometer``) records it with the gemeente whose buurten the build
    takes from it. Nothing is written when the file is refused.
    """
    table = read_file(path)
    years = sorted(int(y) for y in table.frame["jaar"].unique())
    indeling = indeling or years[-1]
    if indeling < years[-1]:
        raise WijkkompasError(
            f"{path}: de buurtindeling {indeling} ligt voor het laatste jaar in het bestand "
            f"({years[-1]}); geef het jaar van de meting met --jaar, bijvoorbeeld {years[-1]}.")
    own = table.frame["bu_code"].str[2:6] == gemeente[2:6]
    if not own.any():
        raise WijkkompasError(f"{path}: geen enkele buurt van {gemeente}; controleer de "
                              "gemeente (instelling gemeente) en het bestand.")
    target = raw_dir / FOLDER / str(indeling) / RAW_NAME
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WijkkompasError(f"Kan {path} niet lezen: {os_reason(exc)}.") from None
    checksum = hashlib.sha256(data).hexdigest()
    manifest.setdefault(FOLDER, {})[str(indeling)] = {
        "bestand": RAW_NAME, "origineel": path.name, "indeling": indeling,
        "gemeente": gemeente, "jaren": years, "rijen": len(table.frame),
        "sha256": checksum, "imported_at": now_stamp(),
        # As every entry of the manifest: its files with their checksums (verify_raw).
        "files": {RAW_NAME: {"sha256": checksum}},
    }
    # The file and its manifest entry are put in place together (Ctrl-C held back), so
    # raw/ never holds one without the other.
    write_files_atomic({target: data, raw_dir / MANIFEST_NAME: json_bytes(manifest)})
    return table, indeling
