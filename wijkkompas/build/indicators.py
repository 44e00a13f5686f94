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

from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.build.catalogue import indicators

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


def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames (same columns) one under the other, column by column; every text column
    categorical with the sorted union of the categories.

    Empty frames are left out: they have untyped columns, and with them pandas would turn
    every column of the result into objects.
    """
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0] if frames else pd.DataFrame(columns=INTERNAL)
    columns: dict[str, Any] = {}
    for name in filled[0].columns:
        if name not in TEXT:
            columns[name] = (filled[0][name].reset_index(drop=True) if len(filled) == 1 else
                             pd.concat([f[name] for f in filled], ignore_index=True))
            continue
        values = [_as_categorical(f[name]) for f in filled]
        categories = values[0].categories
        for value in values[1:]:
            if not value.categories.equals(categories):
                categories = categories.union(value.categories)
        if not categories.is_monotonic_increasing:
            categories = categories.sort_values()
        codes = np.concatenate([_recoded(v, categories) for v in values])
        columns[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
    return pd.DataFrame(columns, copy=False)


def sort_rows(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``table`` in the stable order of the columns ``by``, as text sorts (missing last).

    Categorical columns are ordered by the rank of their categories, integer columns by
    value; the keys are combined into one integer where they fit, so that one stable
    argsort orders the table, which is then taken a column at a time.
    """
    keys, sizes = [], []
    for name in by:
        column = table[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            rank = np.empty(len(categories) + 1, dtype=np.int64)
            rank[np.argsort(categories.to_numpy(dtype=object), kind="stable")] = np.arange(
                len(categories))
            rank[-1] = len(categories)  # code -1, missing, last
            keys.append(rank[column.cat.codes.to_numpy()])
            sizes.append(len(categories) + 1)
        else:
            values = column.to_numpy(dtype=np.int64)
            low = int(values.min()) if len(values) else 0
            keys.append(values - low)
            sizes.append(int(values.max()) - low + 1 if len(values) else 1)
    if float(np.prod([float(s) for s in sizes])) < 2.0 ** 62:
        combined = np.zeros(len(table), dtype=np.int64)
        for key, size in zip(keys, sizes, strict=True):
            combined *= size
            combined += key
        order = np.argsort(combined, kind="stable")
    else:
        order = np.lexsort(keys[::-1])
    del keys
    columns = {name: table[name].array.take(order) for name in table.columns}
    return pd.DataFrame(columns, copy=False)


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Long table of every indicator whose variables the wide ``frame`` has.

    Built in one go: the area columns are categorical and repeated once per indicator
    as codes, the numbers are joined as arrays and the status is chosen by position.
    """
    chosen = [ind for ind in indicators().values()
              if ind.teller in frame.columns and (not ind.noemer or ind.noemer in frame.columns)]
    if not chosen:
        return pd.DataFrame(columns=INTERNAL)
    rows = len(frame)
    tellers, noemers, waarden = [], [], []
    for ind in chosen:
        if ind.berekening == "aantal":
            teller = frame[ind.teller].astype("float64").to_numpy()
            noemer = np.full(rows, np.nan)
            waarde = teller
        elif ind.berekening == "gemiddelde":
            waarde = frame[ind.teller].astype("float64").to_numpy()
            noemer = frame[ind.noemer].astype("float64").to_numpy()
            teller = waarde * noemer
        else:
            teller = frame[ind.teller].astype("float64").to_numpy()
            noemer = frame[ind.noemer].astype("float64").to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                waarde = ind.factor * teller / np.where(noemer > 0, noemer, np.nan)
        tellers.append(teller)
        noemers.append(noemer)
        waarden.append(waarde)
    times = len(chosen)

    def repeated(name: str) -> pd.Categorical:
        area = _as_categorical(frame[name])
        return pd.Categorical.from_codes(np.tile(area.codes, times), dtype=area.dtype)

    names = sorted({ind.indicator for ind in chosen})
    position = {name: i for i, name in enumerate(names)}
    indicator_codes = np.array([position[ind.indicator] for ind in chosen], dtype=np.int32)
    waarde = np.concatenate(waarden)
    known = ~np.isnan(waarde)
    bron = repeated("bron")
    jaar = np.tile(frame["jaar"].to_numpy(dtype=np.int64), times)
    # copy=False: every column keeps its own array (pandas would otherwise copy the
    # number columns into one block).
    return pd.DataFrame({
        "gebiedscode": repeated("gebiedscode"),
        "gebiedsnaam": repeated("gebiedsnaam"),
        "niveau": repeated("niveau"),
        "jaar": jaar,
        "indeling": jaar.copy(),
        "indicator": pd.Categorical.from_codes(np.repeat(indicator_codes, rows),
                                               categories=pd.Index(names, dtype="str")),
        "waarde": waarde,
        "teller": np.concatenate(tellers),
        "noemer": np.concatenate(noemers),
        "bron": bron,
        "status": pd.Categorical.from_codes(known.astype(np.int8),
                                            categories=pd.Index(["ontbreekt", "waargenomen"],
                                                                dtype="str")),
        "indelingswijziging": (np.tile(frame["indelingswijziging"].to_numpy(dtype="float64",
                                                                            na_value=np.nan),
                                       times)
                               if "indelingswijziging" in frame else np.full(rows * times,
                                                                               np.nan)),
        "dekking": np.where(known, 1.0, np.nan),
        "bron_id": bron,
    }, copy=False)[INTERNAL]
