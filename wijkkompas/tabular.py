"""Reading tables (CSV, Excel) for every reader, and one strict parser for numbers.

A CSV file's separator is read from its header line (``;``, tab or ``,``); its decimal
mark follows from it: a semicolon file is Dutch (decimal comma, a point between
thousands), a comma file uses the decimal point (a comma between thousands), a tab file
is Dutch when one of its cells has a decimal comma. A number that does not fit the file's
notation is refused, never guessed: in a Dutch file ``2.160`` is 2160 and ``1,234.5`` is an
error; ``12.5`` there is an error too, not 125.

Missing stays missing: an empty cell and CBS's ``.`` are read as ``None`` (NaN in frames),
never as zero.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wijkkompas.errors import (
    WijkkompasError,
    capped,
    file_problem,
    library_detail,
    library_reason,
    os_reason,
)

#: Cell texts that mean "no value".
MISSING = frozenset({"", "."})
SEPARATORS = (";", "\t", ",")

# A number in each notation: optional sign, digits (grouped by thousands or not),
# optional decimals. Nothing else: no exponent, no spaces, no currency, no nan/inf.
# ASCII digits only: \d would also accept other scripts' digits.
_NOTATION = {
    ",": re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?"),
    ".": re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"),
}
_THOUSANDS = {",": ".", ".": ","}
_LOOKS_DECIMAL_COMMA = re.compile(r"^[+-]?[0-9][0-9.]*,[0-9]+$")
_NOTATION_NAME = {",": "decimaalkomma, punt tussen duizendtallen",
                  ".": "decimaalpunt, komma tussen duizendtallen"}


class NumberError(WijkkompasError):
    """A cell that should hold a number does not; ``reason`` is the Dutch explanation
    without the place, so readers that collect problems can name the place themselves."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.reason = reason


def parse_number(value: object, decimal: str = ",", where: str = "",
                 missing: frozenset[str] = MISSING) -> float | None:
    """The number in ``value`` (a cell), ``None`` when it is missing.

    ``decimal`` is the file's decimal mark ("," or "."); the other mark may only separate
    groups of three digits. Numbers already read as numbers (Excel cells) pass as they
    are; NaN is missing. Anything else raises :class:`NumberError` naming ``where``.
    """
    if decimal not in _NOTATION:
        raise ValueError(f"decimal must be ',' or '.', not {decimal!r}")
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberError(f"geen getal: '{value}'", where)  # True/False, not 1/0
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise NumberError(f"geen eindig getal: '{shown(value)}'", where)
        return number
    text = str(value).strip()
    if text in missing:
        return None
    if not _NOTATION[decimal].fullmatch(text):
        other = "," if decimal == "." else "."
        if _NOTATION[other].fullmatch(text):
            reason = (f"'{shown(text)}' past niet bij de getalnotatie van dit bestand "
                      f"({_NOTATION_NAME[decimal]})")
        else:
            reason = f"geen getal: '{shown(text)}'"
        raise NumberError(reason, where)
    number = float(text.replace(_THOUSANDS[decimal], "").replace(decimal, "."))
    if math.isinf(number):
        raise NumberError(f"geen eindig getal: '{shown(text)}'", where)
    return number


def shown(value: object) -> str:
    """A cell as it may appear in a one-line message: line breaks as spaces, at most 40
    characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def parse_series(values: pd.Series, decimal: str = ",",
                 missing: frozenset[str] = MISSING) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_number` for a whole column at once: the numbers (NaN where missing or
    wrong) and a mask of the cells that are not numbers in the file's notation."""
    if decimal not in _NOTATION:
        raise ValueError(f"decimal must be ',' or '.', not {decimal!r}")
    if values.empty:
        return (pd.Series(dtype="float64", index=values.index),
                pd.Series(dtype=bool, index=values.index))
    is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
    text = values[is_text].astype("string").str.strip()
    ok = text.str.fullmatch(_NOTATION[decimal].pattern).fillna(False).astype(bool)
    plain = text.where(ok).str.replace(_THOUSANDS[decimal], "", regex=False)
    numbers = pd.Series(float("nan"), index=values.index, dtype="float64")
    numbers[text.index] = pd.to_numeric(plain.str.replace(decimal, ".", regex=False),
                                        errors="coerce").astype("float64")
    huge = numbers.isin([math.inf, -math.inf])
    numbers[huge] = float("nan")
    bad = pd.Series(False, index=values.index)
    bad[text.index] = (~ok & ~text.isin(missing)).astype(bool)
    bad[huge] = True
    others = values[~is_text & values.notna()]
    for index, value in others.items():
        try:
            number = parse_number(value, decimal)
        except NumberError:
            bad[index] = True
            continue
        numbers[index] = float("nan") if number is None else number
    return numbers, bad


@dataclass
class Table:
    """A table as read from a file: every cell as text (CSV) or as Excel gave it."""

    path: Path
    frame: pd.DataFrame
    decimal: str
    #: Word and offset that turn a row index into what a person finds in the file:
    #: CSV line (header is line 1) or Excel row (header is row 1).
    row_word: str = "regel"
    first_row: int = 2

    def row_label(self, index: int) -> str:
        return f"{self.row_word} {int(index) + self.first_row}"

    def number(self, index: int, column: str,
               missing: frozenset[str] = MISSING) -> float | None:
        """The number in one cell; the error names file, row and column."""
        return parse_number(self.frame.at[index, column], self.decimal,
                            f"{self.path} {self.row_label(index)}, kolom {column}", missing)


def read_text(path: Path) -> tuple[str, str]:
    """The text of a CSV file and its encoding: UTF-8 (with or without a byte order mark),
    else Windows-1252, as Excel saves "CSV (gescheiden door lijstscheidingstekens)". A file
    that cannot be read is one Dutch line."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WijkkompasError(f"Kan {path} niet lezen: {os_reason(exc)}.") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise WijkkompasError(f"{path}: de tekens zijn niet te lezen; sla het bestand op als "
                          "CSV (UTF-8).")


def sniff_separator(header: str) -> str:
    """The separator of a CSV file from its header line: the most frequent of ; tab ,."""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _sniff_decimal(sep: str, frame: pd.DataFrame) -> str:
    if sep == ";":
        return ","
    if sep == ",":
        return "."
    cells = frame.stack() if len(frame.columns) else pd.Series(dtype=str)
    return "," if cells.astype(str).str.match(_LOOKS_DECIMAL_COMMA).any() else "."


def _unique_columns(names: list[str], path: Path) -> None:
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise WijkkompasError(f"{path}: de kopregel noemt kolom {capped(twice, sep=', ')} meer "
                              "dan eens. Geef elke kolom een eigen naam.")


def read_csv_table(path: Path) -> Table:
    """A CSV file with its separator and decimal mark recognised; cells as stripped text."""
    path = Path(path)
    text, encoding = read_text(path)
    header = text.splitlines()[0] if text.strip() else ""
    sep = sniff_separator(header)
    try:
        with warnings.catch_warnings():
            # More cells in a row than names in the header: refused, never shifted.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                                encoding=encoding, index_col=False)
    except pd.errors.ParserWarning:
        raise WijkkompasError(f"{path}: een regel heeft meer cellen dan de kopregel kolommen. "
                              "Controleer het scheidingsteken en de aanhalingstekens.") from None
    except pd.errors.EmptyDataError:
        raise WijkkompasError(f"{path} is leeg; verwacht een kopregel met kolomnamen.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise WijkkompasError(f"{path} is geen geldige CSV ({library_reason(exc)}). Controleer "
                              "het scheidingsteken en de aanhalingstekens.",
                              library_detail(exc)) from None
    try:
        names = next(csv.reader([header], delimiter=sep), [])
    except csv.Error:
        names = []
    _unique_columns([n.strip() for n in names] or list(frame.columns), path)
    frame.columns = [str(c).strip() for c in frame.columns]
    _unique_columns(list(frame.columns), path)
    frame = frame.fillna("").apply(lambda column: column.str.strip())
    return Table(path, frame, _sniff_decimal(sep, frame))


def read_excel_table(path: Path) -> Table:
    """The first sheet of an Excel file (.xlsx); numbers stay numbers, empty cells None."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise WijkkompasError(f"{path}: alleen Excel-bestanden in .xlsx-formaat worden "
                              "gelezen; sla het bestand op als .xlsx of CSV.")
    try:
        frame = pd.read_excel(path, dtype=object, engine="openpyxl")
    except OSError as exc:
        raise WijkkompasError(f"Kan {path} niet lezen: {os_reason(exc)}.") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise WijkkompasError(f"{path} is geen geldig Excel-bestand (.xlsx) "
                              f"({library_reason(exc)}). Sla het opnieuw op vanuit Excel of "
                              "lever een CSV.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    _unique_columns(list(frame.columns), path)
    frame = frame.astype(object).where(frame.notna(), None)
    frame = frame.apply(lambda column: column.map(
        lambda v: v.strip() if isinstance(v, str) else v))
    return Table(path, frame, ",", row_word="rij")


def read_table(path: Path, kinds: tuple[str, ...] = (".csv", ".xlsx")) -> Table:
    """A CSV or Excel file by its suffix; another suffix is refused with what to use."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls" and ".xlsx" in kinds:
        return read_excel_table(path)
    if suffix not in kinds:
        raise WijkkompasError(f"{path}: onbekend bestandstype '{suffix}'; gebruik "
                              f"{' of '.join(kinds)}.")
    problem = file_problem(path)
    if problem is not None:
        raise WijkkompasError(f"{path} {problem}. Controleer het pad.")
    return read_excel_table(path) if suffix == ".xlsx" else read_csv_table(path)


def text_of(value: object) -> str:
    """A cell as text: None and NaN are empty, an Excel number 2021.0 is '2021'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
