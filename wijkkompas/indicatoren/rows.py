"""Indicators from variables: each value with the teller and noemer it was computed from.

berekening    waarde                      teller               noemer
aantal        teller                      the count            (none)
aandeel       100 x teller / noemer       count of the part    count of the whole
per_1000      1000 x teller / noemer      count                inhabitants
verhouding    teller / noemer             count                count
dichtheid     100 x teller / noemer       inhabitants          land area in ha (per km²)
gemiddelde    the average as published    average x weight     the weight (for example woningen)

Keeping teller and noemer lets every aggregation recompute the value instead of averaging
averages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.catalogue import Indicator, indicators

COLUMNS = ["gebiedscode", "gebiedsnaam", "niveau", "jaar", "indeling", "indicator", "waarde",
           "teller", "noemer", "bron", "status", "indelingswijziging", "dekking"]
#: While building, ``bron_id`` groups the rows of one source (a CBS table, a kaart file,
#: one local indicator) for aggregation; it is dropped from the output.
INTERNAL = [*COLUMNS, "bron_id"]


def ratio(teller: pd.Series, noemer: pd.Series, factor: float) -> pd.Series:
    """factor x teller / noemer, missing where either is missing or the noemer is 0."""
    safe = noemer.where(noemer > 0)
    return factor * teller / safe


#: The text columns. While building they are categorical: a national table of eight years
#: has about five million rows, and one small code per row instead of a string keeps every
#: copy, ``take``, concatenation and the final sort cheap. Their categories are kept
#: sorted, so that codes order the rows as the text does.
TEXT = ("gebiedscode", "gebiedsnaam", "niveau", "indicator", "bron", "status", "bron_id")
#: The dtype of a text column in the side steps that compute with text: ``str``, except
#: the name, which may be missing and has always been the nullable ``string`` there.
PLAIN_TEXT = {"gebiedsnaam": "string"}


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns as ordinary text (for the small side steps
    that compute with text: carried buurten, crime rates, reports)."""
    changed = {c: PLAIN_TEXT.get(c, "str") for c in frame.columns
               if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    return frame.astype(changed) if changed else frame


def _as_categorical(column: pd.Series) -> pd.Categorical:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return pd.Categorical(column.astype("str").where(column.notna()))


def _recoded(values: pd.Categorical, categories: pd.Index) -> np.ndarray:
    """The codes of ``values`` in ``categories`` (a superset of its own)."""
    if values.categories.equals(categories):
        return values.codes
    mapping = np.append(categories.get_indexer(values.categories), -1)
    return mapping[values.codes]  # code -1 (missing) takes the last entry, -1


def stack(frames: Sequence[pd.DataFrame | IndicatorRows], consume: bool = False
          ) -> pd.DataFrame:
    """The frames (same columns) one under the other, column by column; every text column
    categorical with the sorted union of the categories. With ``consume`` each column is
    taken out of the given frames once it is joined, so that a large table is not held
    twice. When every frame is an ``IndicatorRows``, ``stack_rows`` joins them instead
    (in the order of the final table, not one under the other).

    Empty frames are left out: they have untyped columns, and with them pandas would turn
    every column of the result into objects.
    """
    filled = [f for f in frames if len(f)]
    if not filled:
        first = frames[0] if frames else None
        return first if isinstance(first, pd.DataFrame) else pd.DataFrame(columns=INTERNAL)
    if all(isinstance(f, IndicatorRows) for f in filled):
        return stack_rows(filled)  # type: ignore[arg-type]
    columns: dict[str, Any] = {}
    for name in filled[0].columns:
        if name not in TEXT:
            columns[name] = (filled[0][name].reset_index(drop=True) if len(filled) == 1 else
                             pd.concat([f[name] for f in filled], ignore_index=True))
            if consume:
                for frame in filled:
                    del frame[name]
            continue
        values = [_as_categorical(f[name]) for f in filled]
        categories = _united(values)
        codes = np.concatenate([_recoded(v, categories) for v in values])
        del values
        columns[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
        if consume:
            for frame in filled:
                del frame[name]
    return pd.DataFrame(columns, copy=False)


def sort_rows(table: pd.DataFrame, by: list[str], consume: bool = False) -> pd.DataFrame:
    """``table`` in the stable order of the columns ``by``, as text sorts (missing last).
    With ``consume`` each column is taken out of ``table`` once it is sorted (``table`` is
    left empty), so that a large table is not held twice.

    Categorical columns are ordered by the rank of their categories, integer columns by
    value; the keys are combined into one integer where they fit, so that one stable
    argsort orders the table, which is then taken a column at a time. A table already in
    order (rows made in the final order, see ``stack_rows``) is recognised a block of
    rows at a time, without a full-length key, and not moved.
    """
    parts = []  # per column: its values, the rank of each value, and how many ranks
    for name in by:
        column = table[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            rank = np.empty(len(categories) + 1, dtype=np.int64)
            rank[np.argsort(categories.to_numpy(dtype=object), kind="stable")] = np.arange(
                len(categories))
            rank[-1] = len(categories)  # code -1, missing, last
            parts.append((column.cat.codes.to_numpy(), rank, len(categories) + 1))
        else:
            values = column.to_numpy(dtype=np.int64)
            low = int(values.min()) if len(values) else 0
            size = int(values.max()) - low + 1 if len(values) else 1
            parts.append((values, low, size))

    def key(values: np.ndarray, rank: np.ndarray | int) -> np.ndarray:
        if isinstance(rank, np.ndarray):
            return rank[values]
        return values - rank

    def combined(start: int, stop: int) -> np.ndarray:
        """The one-integer key of rows ``start:stop``, one column at a time."""
        out = np.zeros(stop - start, dtype=np.int64)
        for values, rank, size in parts:
            out *= size
            out += key(values[start:stop], rank)
        return out

    if float(np.prod([float(size) for _v, _r, size in parts])) >= 2.0 ** 62:
        order = np.lexsort([key(values, rank) for values, rank, _s in reversed(parts)])
        return _taken(table, order, consume)
    last, in_order = None, True
    for start in range(0, len(table), _BLOCK):
        block = combined(start, min(start + _BLOCK, len(table)))
        if (last is not None and block[0] < last) or (block[1:] < block[:-1]).any():
            in_order = False
            break
        last = block[-1]
    if in_order:
        return _taken(table, None, consume)
    whole = combined(0, len(table))
    order = np.argsort(whole, kind="stable")
    del whole
    return _taken(table, order, consume)


#: Rows whose order ``sort_rows`` checks at a time: small enough for the processor's cache.
_BLOCK = 1 << 16


def _taken(table: pd.DataFrame, order: np.ndarray | None, consume: bool
           ) -> pd.DataFrame:
    """``table``'s rows in ``order`` (None: as they are) as a new frame, a column at a time;
    with ``consume`` each column is taken out of ``table`` once it is copied."""
    columns = {}
    for name in list(table.columns):
        columns[name] = table[name].array if order is None else table[name].array.take(order)
        if consume:
            del table[name]
    return pd.DataFrame(columns, copy=False)


#: The columns of a wide frame that describe its areas (and source).
_AREA = ("gebiedscode", "gebiedsnaam", "niveau", "bron")


class IndicatorRows:
    """The long rows of every indicator a wide frame has, made one column at a time.

    ``stack`` asks for one column of every source in turn, so the rows of all sources are
    never in memory twice (once per source and once joined). ``frame()`` gives them all
    as one DataFrame. The area columns are categorical and repeated once per indicator as
    codes; the numbers are joined as arrays and the status is chosen by position.
    ``indeling``: the year of the area indeling of the codes, when it is not ``jaar``.
    """

    def __init__(self, wide: pd.DataFrame, indeling: int | None = None) -> None:
        self.wide = wide
        self.indeling = indeling
        self.chosen = [ind for ind in indicators().values() if ind.teller in wide.columns
                       and (not ind.noemer or ind.noemer in wide.columns)]
        self.columns = list(INTERNAL) if self.chosen else []
        #: The area columns as categorical, one value per area, made once.
        self._area: dict[str, pd.Categorical] = {}
        self._floats: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.wide) * len(self.chosen)

    def __delitem__(self, name: str) -> None:
        """Nothing to free: a column exists only while it is asked for."""

    def __getitem__(self, name: str) -> pd.Series:
        return pd.Series(self._column(name), name=name, copy=False)

    def frame(self) -> pd.DataFrame:
        if not self.chosen:
            return pd.DataFrame(columns=INTERNAL)
        # copy=False: every column keeps its own array (pandas would otherwise copy the
        # number columns into one block).
        return pd.DataFrame({name: self._column(name) for name in INTERNAL}, copy=False)

    def _float(self, column: str) -> np.ndarray:
        """A variable of the wide frame as floats, converted once."""
        values = self._floats.get(column)
        if values is None:
            values = self._floats[column] = self.wide[column].astype("float64").to_numpy()
        return values

    def triple(self, ind: Indicator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The teller, noemer and waarde of one chosen indicator, a value per area."""
        if ind.berekening == "aantal":
            teller = self._float(ind.teller)
            return teller, np.full(len(teller), np.nan), teller
        if ind.berekening == "gemiddelde":
            waarde, noemer = self._float(ind.teller), self._float(ind.noemer)
            return waarde * noemer, noemer, waarde
        teller, noemer = self._float(ind.teller), self._float(ind.noemer)
        with np.errstate(divide="ignore", invalid="ignore"):
            waarde = ind.factor * teller / np.where(noemer > 0, noemer, np.nan)
        return teller, noemer, waarde

    def _numbers(self, kind: str) -> np.ndarray:
        """The teller, noemer or waarde of every chosen indicator, one after the other."""
        position = ("teller", "noemer", "waarde").index(kind)
        return np.concatenate([self.triple(ind)[position] for ind in self.chosen])

    def in_area_order(self) -> IndicatorRows:
        """The same rows with the areas in the order of the final table: by level, then
        code, as text (missing last); equal areas keep their order."""
        area = {name: self.small(name) for name in _AREA}

        def rank(values: pd.Categorical) -> np.ndarray:
            codes = values.codes.astype(np.int64)
            codes[codes < 0] = len(values.categories)  # missing last
            return codes  # the categories are sorted: codes order as the text does

        order = np.lexsort((rank(area["gebiedscode"]), rank(area["niveau"])))
        if (order == np.arange(len(order))).all():
            return self
        ordered = IndicatorRows(self.wide.take(order).reset_index(drop=True), self.indeling)
        ordered._area = {name: values.take(order) for name, values in area.items()}
        return ordered

    def small(self, name: str) -> Any:
        """One value per area of a column that is the same for every indicator: the area
        columns as categorical, ``jaar``, ``indeling`` and ``indelingswijziging``."""
        wide = self.wide
        if name in ("gebiedscode", "gebiedsnaam", "niveau", "bron", "bron_id"):
            name = "bron" if name == "bron_id" else name
            if name not in self._area:
                self._area[name] = _as_categorical(wide[name])
            return self._area[name]
        if name == "jaar" or (name == "indeling" and self.indeling is None):
            return wide["jaar"].to_numpy(dtype=np.int64)
        if name == "indeling":
            return np.full(len(wide), self.indeling, dtype=np.int64)
        if name == "indelingswijziging":
            if "indelingswijziging" not in wide:
                return np.full(len(wide), np.nan)
            return wide["indelingswijziging"].to_numpy(dtype="float64", na_value=np.nan)
        raise KeyError(name)

    def _column(self, name: str) -> Any:
        rows, times = len(self.wide), len(self.chosen)
        if name in ("gebiedscode", "gebiedsnaam", "niveau", "bron", "bron_id"):
            area = self.small(name)
            return pd.Categorical.from_codes(np.tile(area.codes, times), dtype=area.dtype)
        if name in ("jaar", "indeling", "indelingswijziging"):
            return np.tile(self.small(name), times)
        if name == "indicator":
            names = sorted({ind.indicator for ind in self.chosen})
            position = {n: i for i, n in enumerate(names)}
            codes = np.array([position[ind.indicator] for ind in self.chosen], dtype=np.int32)
            return pd.Categorical.from_codes(np.repeat(codes, rows),
                                             categories=pd.Index(names, dtype="str"))
        if name in ("waarde", "teller", "noemer"):
            return self._numbers(name)
        if name == "status":
            return _status(~np.isnan(self._numbers("waarde")))
        if name == "dekking":
            return np.where(np.isnan(self._numbers("waarde")), np.nan, 1.0)
        raise KeyError(name)


def _status(known: np.ndarray) -> pd.Categorical:
    """The status of published rows: "waargenomen" where the value is ``known``, else
    "ontbreekt"."""
    return pd.Categorical.from_codes(
        known.view(np.int8), dtype=pd.CategoricalDtype(
            pd.Index(["ontbreekt", "waargenomen"], dtype="str")))


def _code_dtype(categories: int) -> type[np.signedinteger]:
    """The integer type pandas keeps the codes of that many categories in."""
    for kind in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(kind).max:
            return kind
    return np.int64


def _united(values: list[pd.Categorical]) -> pd.Index:
    """The sorted union of the categories of ``values``."""
    categories = values[0].categories
    for value in values[1:]:
        if not value.categories.equals(categories):
            categories = categories.union(value.categories)
    return categories if categories.is_monotonic_increasing else categories.sort_values()


def stack_rows(parts: Sequence[IndicatorRows]) -> pd.DataFrame:
    """The rows of several sources as one table, in the order of the final table where
    the sources allow it: by indicator, then source (year, indeling, bron), then area
    (level, code). The final sort (``sort_rows``) then finds nothing to move when no
    other rows are added, as in a build of CBS tables only.

    Every column is made once at its full length and filled block by block (an
    indicator of one source); nothing is concatenated.
    """
    parts = [part.in_area_order() for part in parts if len(part)]
    if not parts:
        return pd.DataFrame(columns=INTERNAL)

    def order(part: IndicatorRows) -> tuple[int, int, str]:
        first = part.wide.iloc[0]
        return (int(first["jaar"]), int(part.indeling or first["jaar"]), str(first["bron"]))

    parts.sort(key=order)  # stable: equal sources keep their order
    names = sorted({ind.indicator for part in parts for ind in part.chosen})
    blocks = []  # (part, indicator, start); every block is len(part.wide) rows long
    start = 0
    for name in names:
        for part in parts:
            for ind in part.chosen:
                if ind.indicator == name:
                    blocks.append((part, ind, start))
                    start += len(part.wide)
    total = start

    def spread(values: dict[int, np.ndarray], dtype: Any) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        for part, _ind, begin in blocks:
            out[begin:begin + len(part.wide)] = values[id(part)]
        return out

    columns: dict[str, Any] = {}
    for name in ("gebiedscode", "gebiedsnaam", "niveau"):
        columns[name] = _spread_text(parts, name, spread)
    for name in ("jaar", "indeling"):
        columns[name] = spread({id(p): p.small(name) for p in parts}, np.int64)
    position = {name: code for code, name in enumerate(names)}
    codes = np.empty(total, dtype=_code_dtype(len(names)))
    numbers = {kind: np.empty(total) for kind in ("waarde", "teller", "noemer")}
    for part, ind, begin in blocks:
        end = begin + len(part.wide)
        codes[begin:end] = position[ind.indicator]
        teller, noemer, waarde = part.triple(ind)
        numbers["teller"][begin:end] = teller
        numbers["noemer"][begin:end] = noemer
        numbers["waarde"][begin:end] = waarde
    columns["indicator"] = pd.Categorical.from_codes(
        codes, dtype=pd.CategoricalDtype(pd.Index(names, dtype="str")))
    columns.update(numbers)
    columns["bron"] = _spread_text(parts, "bron", spread)
    known = ~np.isnan(numbers["waarde"])
    columns["status"] = _status(known)
    columns["indelingswijziging"] = spread(
        {id(p): p.small("indelingswijziging") for p in parts}, np.float64)
    columns["dekking"] = np.where(known, 1.0, np.nan)
    del known
    columns["bron_id"] = _spread_text(parts, "bron_id", spread)
    return pd.DataFrame({name: columns[name] for name in INTERNAL}, copy=False)


def _spread_text(parts: Sequence[IndicatorRows], name: str, spread: Any) -> pd.Categorical:
    """A text column of ``stack_rows``: each source's area codes recoded into the united
    categories once, then written into every block of that source."""
    values = {id(p): p.small(name) for p in parts}
    categories = _united(list(values.values()))
    dtype = _code_dtype(len(categories))
    small = {key: _recoded(value, categories).astype(dtype, copy=False)
             for key, value in values.items()}
    return pd.Categorical.from_codes(spread(small, dtype),
                                     dtype=pd.CategoricalDtype(categories))


def compute_rows(frame: pd.DataFrame, indeling: int | None = None) -> IndicatorRows:
    """The indicator rows of the wide ``frame``, made a column at a time (see
    ``IndicatorRows``); ``indeling`` when the codes belong to another year's indeling."""
    return IndicatorRows(frame, indeling)


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Long table of every indicator whose variables the wide ``frame`` has."""
    return IndicatorRows(frame).frame()
