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
