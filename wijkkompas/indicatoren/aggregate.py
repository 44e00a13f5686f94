"""Aggregation buurt -> wijk -> gemeente, recomputed from tellers and noemers.

- Counts (berekening ``aantal``) are summed; when a part is missing (secret) the sum is
  missing too, because a count cannot be estimated honestly.
- Shares, rates, ratios, densities and averages are recomputed as
  factor x sum(teller) / sum(noemer) over the parts where both are known, provided those
  parts carry at least ``MIN_DEKKING`` of the noemer (or, where a noemer is unknown, of the
  parts); below that the result is missing. ``dekking`` records the share used.

A CBS code holds its parents: BU01411000 lies in wijk WK014110 and gemeente GM0141.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from wijkkompas.catalogue import factor_table
from wijkkompas.gebied import parent_code
from wijkkompas.indicatoren.rows import INTERNAL, stack

MIN_DEKKING = 0.9


def expected_parts(areas: dict[int, set[str]]) -> pd.DataFrame:
    """Per indeling year and parent area, how many buurten and wijken it has (a frame of
    arrays per year and level: no Python loop over the areas)."""
    columns = ["parent", "indeling", "kind", "verwacht"]
    parts = []
    for indeling, codes in areas.items():
        series = pd.Series(np.fromiter(codes, dtype=object, count=len(codes)), dtype="str")
        for level, niveau in (("BU", "wijk"), ("WK", "gemeente")):
            counts = parent_code(series[series.str.startswith(level)], niveau).value_counts()
            parts.append(pd.DataFrame({"parent": counts.index.astype("str"),
                                       "indeling": indeling, "kind": level,
                                       "verwacht": counts.to_numpy(dtype=np.int64)}))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).astype({"kind": "str"})[columns]


def recompute(out: pd.DataFrame, factors: dict[str, float | None], count_complete: pd.Series,
              ratio_covered: pd.Series, noemer_all_known: pd.Series) -> pd.DataFrame:
    """Value, teller, noemer and status of summed rows, from their tellers and noemers.

    ``out`` has per row the ``indicator``, the summed ``teller`` and ``noemer`` of the parts
    whose value is known, and ``noemer_all``, the summed noemer of all parts. A count keeps
    its sum only where ``count_complete``; any other indicator is recomputed as
    factor x teller / noemer where ``ratio_covered`` and the noemer is positive. Else the
    value is missing, and a missing share keeps the noemer of all its parts where
    ``noemer_all_known``, so that a higher level can still weigh how much of its noemer is
    unknown. Shared by aggregation to wijk and gemeente and by re-allocation to another
    indeling.
    """
    out = out.copy()
    is_count = out["indicator"].map(lambda i: factors[i] is None).astype(bool)
    factor = out["indicator"].map(factors).astype("float64")  # NaN for a count
    teller = out["teller"].astype("float64")
    noemer = out["noemer"].astype("float64")
    ratio_ok = ratio_covered.astype(bool) & (noemer > 0)
    # A count is its sum; anything else factor x teller / noemer, kept where ratio_ok only
    # (a noemer of 0 gives inf or NaN, and ratio_ok excludes it).
    summed = teller.where(count_complete.astype(bool))
    rate = (factor * teller / noemer).where(ratio_ok)
    out["waarde"] = summed.where(is_count, rate)
    out["teller"] = out["teller"].where(out["waarde"].notna())
    kept_all = out["noemer_all"].where(noemer_all_known.astype(bool))
    out["noemer"] = noemer.where(ratio_ok, kept_all).mask(is_count)
    out["status"] = np.where(out["waarde"].notna(), "berekend", "ontbreekt")
    return out


def aggregate(long: pd.DataFrame, niveau: str,
              factors: dict[str, float | None] | None = None,
              expected: pd.DataFrame | None = None) -> pd.DataFrame:
    """Aggregate rows of one level to ``niveau`` ("wijk" or "gemeente").

    ``factors`` gives per indicator its factor, or None for a count (default: the CBS
    indicator catalogue). ``expected`` (from :func:`expected_parts`) says how many parts
    each parent has, so that a source covering only some of them (local figures for two
    wijken) is not taken for the whole.
    """
    if long.empty:
        return pd.DataFrame(columns=INTERNAL)
    factors = factors or factor_table()
    data = long[["gebiedscode", "jaar", "indeling", "indicator", "bron_id", "teller",
                 "noemer"]].copy()
    data["parent"] = parent_code(data["gebiedscode"], niveau)
    data["is_count"] = data["indicator"].map(lambda i: factors[i] is None).astype(bool)
    data["used"] = data["teller"].notna() & (data["is_count"] | data["noemer"].notna())
    data["t_used"] = data["teller"].where(data["used"])
    data["n_used"] = data["noemer"].where(data["used"])
    data["n_known"] = data["noemer"].notna()

    keys = ["parent", "jaar", "indeling", "indicator", "bron_id"]
    grouped = data.groupby(keys, sort=False, dropna=False, observed=True)
    out = grouped.agg(
        parts=("teller", "size"),
        used=("used", "sum"),
        n_known=("n_known", "sum"),
        teller=("t_used", "sum"),
        noemer=("n_used", "sum"),
        noemer_all=("noemer", "sum"),
    ).reset_index()
    if expected is not None and len(expected):
        # Parents of buurten are wijk codes and parents of wijken gemeente codes: joined on
        # the parent, only the expected counts of this level's parents match.
        known = expected[["parent", "indeling", "verwacht"]]
        out = out.merge(known, on=["parent", "indeling"], how="left")
        out["parts"] = np.fmax(out["parts"], out["verwacht"]).astype(int)  # fmax skips NaN
    is_count = out["indicator"].map(lambda i: factors[i] is None).astype(bool)
    by_parts = out["used"] / out["parts"]
    # Noemers are never negative: noemer_all is 0 only when noemer is 0 too, and 0/0 is NaN.
    by_noemer = (out["noemer"] / out["noemer_all"]).fillna(by_parts)
    out["dekking"] = np.where(is_count | (out["n_known"] < out["parts"]), by_parts, by_noemer)
    out = recompute(out, factors, count_complete=out["used"] == out["parts"],
                    ratio_covered=out["dekking"] >= MIN_DEKKING,
                    noemer_all_known=out["n_known"] >= out["parts"])
    out = out.rename(columns={"parent": "gebiedscode"})
    out["bron"] = out["bron_id"]
    out["gebiedsnaam"] = pd.NA
    out["niveau"] = niveau
    out["indelingswijziging"] = np.nan
    return out[INTERNAL]


#: The columns that say which area, indicator and source a row is: enough to find the
#: unpublished parents without copying whole rows.
_KEYS = ["gebiedscode", "indicator", "bron_id", "jaar", "indeling"]
_NO_ROWS = np.array([], dtype=np.intp)


def _unpublished(parts: pd.DataFrame, published: pd.DataFrame, niveau: str) -> np.ndarray:
    """Positions (in ``parts``) of the parts whose parent area the same source did not
    publish for that indicator, in the order of their source groups.

    Works per source, year and indeling; a source that published every parent for every
    indicator (a CBS table) is skipped whole, without looking at its rows one by one.
    Both frames need only the columns ``_KEYS``.
    """
    if parts.empty:
        return _NO_ROWS
    if published.empty:
        return np.arange(len(parts))
    coarse = ["bron_id", "jaar", "indeling"]
    published_groups = published.groupby(coarse, observed=True).indices  # a lookup table
    keep = []
    for key, index in parts.groupby(coarse, sort=False, observed=True).indices.items():
        if key not in published_groups:
            keep.append(index)
            continue
        group = parts.iloc[index]
        have = published.iloc[published_groups[key]][["gebiedscode", "indicator"]]
        codes = pd.Series(group["gebiedscode"].unique())
        parents = set(parent_code(codes, niveau))
        indicators_ = set(group["indicator"].unique())
        pairs = have[have["gebiedscode"].isin(parents) & have["indicator"].isin(indicators_)]
        if len(pairs.drop_duplicates()) == len(parents) * len(indicators_):
            continue  # every parent published for every indicator
        group = group.assign(_parent=parent_code(group["gebiedscode"], niveau))
        merged = group.merge(have.drop_duplicates().rename(columns={"gebiedscode": "_parent"}),
                             on=["_parent", "indicator"], how="left", indicator=True)
        keep.append(index[(merged["_merge"] == "left_only").to_numpy()])
    return np.concatenate(keep) if keep else _NO_ROWS


def publishes_every_parent(codes: pd.Series) -> bool:
    """True when the areas ``codes`` include the wijk of every buurt and the gemeente of
    every wijk among them: a source with a row per area and indicator (a CBS table) then
    needs no level completion."""
    codes = pd.Series(codes.astype(str).unique())
    have = set(codes.to_numpy(dtype=object))
    for level, niveau in (("BU", "wijk"), ("WK", "gemeente")):
        parents = parent_code(codes[codes.str[:2] == level], niveau)
        if not set(parents.to_numpy(dtype=object)) <= have:
            return False
    return True


def _positions(column: pd.Series) -> dict[str, np.ndarray]:
    """Per value of ``column`` the positions of its rows, in order (from the codes of a
    categorical: one stable sort of small integers)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.groupby(column).indices
    codes = column.cat.codes.to_numpy()
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes + 1, minlength=len(column.cat.categories) + 1)
    bounds = np.cumsum(counts)
    return {value: order[bounds[i]:bounds[i + 1]]
            for i, value in enumerate(column.cat.categories) if counts[i + 1]}


def complete_levels(long: pd.DataFrame,
                    factors: dict[str, float | None] | None = None,
                    expected: pd.DataFrame | None = None,
                    complete: Collection[str] = ()) -> pd.DataFrame:
    """Add wijk and gemeente rows computed from buurten where a source did not publish them.

    Published (observed) rows always win: an area is computed only when the same source
    has no row of its own for it (same year, indeling and indicator). Nederland's rows
    (NL00, level "land") are kept as given; rows of any other level are left out. Within
    each level the rows keep their order, computed rows after published ones. When every
    source published every parent (CBS tables) the table is returned without copying it.

    ``complete``: sources (``bron_id``) known to publish every parent of their areas for
    every indicator (see ``publishes_every_parent``); their rows are not looked at.
    """
    levels = ("buurt", "wijk", "gemeente")
    inside = long["niveau"].isin((*levels, "land")).to_numpy()  # NL00 as given
    if not inside.all():
        long = long[inside].reset_index(drop=True)
    index = None
    if len(complete):
        open_rows = ~long["bron_id"].isin(list(complete)).to_numpy()
        if not open_rows.any():  # every row is of a source that needs no completion
            index = {}
        else:
            index = {level: rows[open_rows[rows]]
                     for level, rows in _positions(long["niveau"]).items()}
    if index is None:
        index = _positions(long["niveau"])
    keys = long[_KEYS]
    computed_wijken = None
    added = []
    for source, niveau in (("buurt", "wijk"), ("wijk", "gemeente")):
        own = index.get(source, _NO_ROWS)
        published = keys.iloc[index.get(niveau, _NO_ROWS)]
        if computed_wijken is None:
            rows = _unpublished(keys.iloc[own], published, niveau)
            parts = long.iloc[own[rows]] if len(rows) else None
        else:
            # Wijken computed in the first step are parts of their gemeente too.
            light = stack([keys.iloc[own], computed_wijken[_KEYS]])
            rows = _unpublished(light, published, niveau)
            parts = (stack([long.iloc[own], computed_wijken]).iloc[rows]
                     if len(rows) else None)
        if parts is None:
            continue
        computed = aggregate(parts, niveau, factors, expected)
        computed_wijken = computed  # read only by the gemeente round, after the wijken
        added.append(computed)
    if not added:
        return long if list(long.columns) == INTERNAL else long[INTERNAL]
    return stack([long[INTERNAL], *added])
