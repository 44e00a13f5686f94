"""The build as it was before the speed-ups of issue #15, kept as the reference that
tests/indicatoren/test_speed_equivalence.py compares the fast build with.

Only the functions the speed-ups replaced are here, unchanged in behaviour: reading the
raw JSON with the standard library, the CBS reader with its row-by-row code check, the
indicator computation with its status from Python strings and the level completion that
splits the table into three level copies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wijkkompas.catalogue import indicators, resolve_odata
from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.gebied import CODE_RE, level_of, parent_code
from wijkkompas.indicatoren.aggregate import aggregate
from wijkkompas.indicatoren.rows import INTERNAL, ratio
from wijkkompas.indicatoren.sources import SourceFrame, _to_counts


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WijkkompasError(
            f"Kan {path} niet lezen ({exc}). Haal de tabel opnieuw op met "
            "'wijkkompas fetch --refresh'."
        ) from None


def read_cbs_table(folder: Path, table_id: str, jaar: int) -> SourceFrame:
    """One raw KWB table (as cbsodata saved it) as a wide frame of catalogue variables."""
    props = _load_json(folder / "DataProperties.json")
    rows = _load_json(folder / "TypedDataSet.json")
    regions = folder / "WijkenEnBuurten.json"
    titles = {str(r["Key"]).strip(): str(r.get("Title", "")).strip()
              for r in (_load_json(regions) if regions.is_file() else [])}
    resolution = resolve_odata(table_id, props)
    raw = pd.DataFrame.from_records(rows, columns=["WijkenEnBuurten",
                                                   *resolution.keys.values()])
    if raw.empty or raw["WijkenEnBuurten"].isna().all():
        raise WijkkompasError(f"{folder / 'TypedDataSet.json'} bevat geen rijen met "
                              "WijkenEnBuurten; haal de tabel opnieuw op.")
    data_path = folder / "TypedDataSet.json"
    codes = raw["WijkenEnBuurten"].astype("string").str.strip()
    bad = [f"rij {int(i) + 1}: ongeldige gebiedscode {None if pd.isna(c) else str(c)!r}"
           for i, c in codes.items() if pd.isna(c) or not CODE_RE.fullmatch(str(c))]
    if bad:
        raise WijkkompasError(f"{data_path}: {capped(bad)} (verwacht GM####, WK######, "
                              "BU######## of NL00). Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    codes = codes.astype(str)
    frame = pd.DataFrame({"gebiedscode": codes, "gebiedsnaam": codes.map(titles),
                          "niveau": level_of(codes), "jaar": jaar, "bron": f"CBS {table_id}"})
    wrong = []
    for name, key in resolution.keys.items():
        column = raw[key]
        if not pd.api.types.is_numeric_dtype(column):
            column = column.astype("string").str.strip()  # e.g. the padded code '3         '
            column = column.mask(column == "")
        numbers = pd.to_numeric(column, errors="coerce")
        wrong.extend(f"rij {int(i) + 1}, {key}: geen getal: {raw.at[i, key]!r}"
                     for i in column[column.notna() & numbers.isna()].index)
        frame[name] = numbers
    if wrong:
        raise WijkkompasError(f"{data_path}: {capped(wrong)}. Haal de tabel opnieuw op met "
                              "'wijkkompas fetch --refresh'.")
    _to_counts(frame, resolution.percent, len(frame))
    return SourceFrame(f"CBS {table_id}", jaar, frame, resolution)


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Long table of every indicator whose variables the wide ``frame`` has."""
    parts = []
    base = frame[["gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron"]]
    change = frame["indelingswijziging"] if "indelingswijziging" in frame else np.nan
    for ind in indicators().values():
        if ind.teller not in frame.columns or (ind.noemer and ind.noemer not in frame.columns):
            continue
        if ind.berekening == "aantal":
            teller = frame[ind.teller].astype("float64")
            noemer = pd.Series(np.nan, index=frame.index)
            waarde = teller
        elif ind.berekening == "gemiddelde":
            waarde = frame[ind.teller].astype("float64")
            noemer = frame[ind.noemer].astype("float64")
            teller = waarde * noemer
        else:
            teller = frame[ind.teller].astype("float64")
            noemer = frame[ind.noemer].astype("float64")
            waarde = ratio(teller, noemer, ind.factor)
        part = base.copy()
        part["indicator"] = ind.indicator
        part["waarde"] = waarde
        part["teller"] = teller
        part["noemer"] = noemer
        part["indelingswijziging"] = change
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=INTERNAL)
    result = pd.concat(parts, ignore_index=True)
    result["bron_id"] = result["bron"]
    result["indeling"] = result["jaar"]
    result["status"] = np.where(result["waarde"].notna(), "waargenomen", "ontbreekt")
    result["dekking"] = np.where(result["waarde"].notna(), 1.0, np.nan)
    return result[INTERNAL]


def compute_rows(frame: pd.DataFrame, indeling: int | None = None) -> pd.DataFrame:
    """The stage's step around ``compute``: the rows in the indeling of their codes."""
    rows = compute(frame)
    if indeling is not None:
        rows["indeling"] = indeling
    return rows


def _unpublished(parts: pd.DataFrame, published: pd.DataFrame, niveau: str) -> pd.DataFrame:
    """The parts whose parent area the same source did not publish for that indicator.

    Works per source, year and indeling; a source that published every parent for every
    indicator (a CBS table) is skipped whole, without looking at its rows one by one.
    """
    if published.empty or parts.empty:
        return parts
    coarse = ["bron_id", "jaar", "indeling"]
    published_groups = published.groupby(coarse, sort=False).indices
    keep = []
    for key, index in parts.groupby(coarse, sort=False).indices.items():
        group = parts.iloc[index]
        if key not in published_groups:
            keep.append(group)
            continue
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
        keep.append(group[(merged["_merge"] == "left_only").to_numpy()].drop(columns="_parent"))
    return pd.concat(keep, ignore_index=True) if keep else parts.iloc[0:0]


def complete_levels(long: pd.DataFrame,
                    factors: dict[str, float | None] | None = None,
                    expected: pd.DataFrame | None = None,
                    complete: object = None) -> pd.DataFrame:
    """Add wijk and gemeente rows computed from buurten where a source did not publish them.

    Published (observed) rows always win: an area is computed only when the same source
    has no row of its own for it (same year, indeling and indicator). ``complete`` (the
    fast build's hint which sources need no completion) is not used: every row is checked.
    """
    index = long.groupby("niveau", sort=False).indices
    empty = np.array([], dtype=int)
    levels = {niveau: long.iloc[index.get(niveau, empty)]
              for niveau in ("buurt", "wijk", "gemeente")}
    for source, niveau in (("buurt", "wijk"), ("wijk", "gemeente")):
        parts = _unpublished(levels[source], levels[niveau], niveau)
        if parts.empty:
            continue
        computed = aggregate(parts, niveau, factors, expected)
        levels[niveau] = pd.concat([levels[niveau], computed], ignore_index=True)
    return pd.concat(levels.values(), ignore_index=True)[INTERNAL]


# The stage's own steps as they were before the text columns became categorical: joining
# with plain concatenation, naming unnamed rows row by row, sorting with pandas.

def _joined(frames: list[pd.DataFrame], consume: bool = False) -> pd.DataFrame:
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0] if frames else pd.DataFrame(columns=INTERNAL)
    if len(filled) == 1:
        return filled[0].reset_index(drop=True)
    return pd.concat(filled, ignore_index=True)


def _fill_names(table: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    table["gebiedsnaam"] = table["gebiedsnaam"].astype("string")
    missing = table["gebiedsnaam"].isna()
    if not missing.any():
        return table
    need = table.loc[missing, ["gebiedscode", "indeling"]]
    exact = names.rename(columns={"jaar": "indeling"}).set_index(["gebiedscode", "indeling"])
    found = need.join(exact["gebiedsnaam"], on=["gebiedscode", "indeling"])["gebiedsnaam"]
    latest = names.sort_values("jaar").drop_duplicates("gebiedscode", keep="last")
    fallback = need["gebiedscode"].map(latest.set_index("gebiedscode")["gebiedsnaam"])
    table.loc[missing, "gebiedsnaam"] = found.fillna(fallback).astype("string")
    return table


def sort_rows(table: pd.DataFrame, by: list[str], consume: bool = False) -> pd.DataFrame:
    return table.sort_values(by, kind="stable").reset_index(drop=True)
