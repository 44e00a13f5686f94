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


def compute(frame: pd.DataFrame) -> pd.DataFrame:
    """Long table of every indicator whose variables the wide ``frame`` has.

    Built in one go: the area columns are repeated once per indicator with a single
    ``take`` (no copy per indicator), the numbers are joined as arrays and the status is
    chosen from two strings by position.
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
    base = frame[["gebiedscode", "gebiedsnaam", "niveau", "jaar", "bron"]]
    repeat = np.tile(np.arange(rows), len(chosen))
    result = base.take(repeat).reset_index(drop=True)
    names = np.array([ind.indicator for ind in chosen], dtype=object)
    result["indicator"] = pd.array(np.repeat(names, rows), dtype="str")
    waarde = np.concatenate(waarden)
    known = ~np.isnan(waarde)
    result["waarde"] = waarde
    result["teller"] = np.concatenate(tellers)
    result["noemer"] = np.concatenate(noemers)
    if "indelingswijziging" in frame:
        result["indelingswijziging"] = frame["indelingswijziging"].take(repeat).reset_index(
            drop=True)
    else:
        result["indelingswijziging"] = np.nan
    result["bron_id"] = result["bron"]
    result["indeling"] = result["jaar"]
    status = np.array(["ontbreekt", "waargenomen"], dtype=object)[known.astype(np.intp)]
    result["status"] = pd.array(status, dtype="str")
    result["dekking"] = np.where(known, 1.0, np.nan)
    return result[INTERNAL]
