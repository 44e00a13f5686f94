"""Registered crime per 1,000 inhabitants, from the Politie's counts (47018NED).

The counts are in the indicator table already, per crime group of ``misdrijven.csv``:
published per buurt, wijk and gemeente, and for a wijk the table has no row of, summed
from its buurten (build/aggregate.py). Each rate divides a count by the inhabitants of the
same area, in the same year and the same buurt indeling (build/inwoners.py).

Each rate row keeps the count (``teller``) and the inhabitants (``noemer``). A rate is
missing, with the reason in ``bron``, when the count is missing, when no inhabitants of
the same area are known, or when the area has fewer than ``MIN_INWONERS`` inhabitants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wijkkompas.catalogue import crime_groups, indicators
from wijkkompas.indicatoren.inwoners import MIN_INWONERS, inhabitants
from wijkkompas.indicatoren.rows import INTERNAL, plain


def crime_rate_indicators() -> dict[str, str]:
    """Per rate indicator (per 1,000 inhabitants) the count indicator it divides."""
    groups = crime_groups()
    return {ind.indicator: ind.teller for ind in indicators().values()
            if ind.berekening == "per_1000" and ind.teller in groups}


def crime_rates(long: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """The rate rows of every crime count in ``long``."""
    rates = crime_rate_indicators()
    counts = plain(long[long["indicator"].isin(set(rates.values()))])
    if counts.empty:
        return pd.DataFrame(columns=INTERNAL)
    inw = inhabitants(long, verdicts, counts)
    data = counts.astype({"jaar": "int64", "indeling": "int64"}).merge(
        inw, on=["gebiedscode", "jaar", "indeling"], how="left")
    small = data["inwoners"] < MIN_INWONERS
    usable = data["waarde"].notna() & data["inwoners"].notna() & ~small
    waarde = (1000.0 * data["waarde"] / data["inwoners"]).where(usable)
    why = np.select(
        [data["waarde"].isna(), data["inwoners"].isna(), small],
        ["geen cijfer: het aantal misdrijven ontbreekt",
         "geen cijfer: " + data["inwoners_toelichting"].fillna("geen inwoners bekend"),
         "geen cijfer per 1.000 inwoners: minder dan "
         f"{MIN_INWONERS} inwoners ("
         + data["inwoners"].map(lambda v: f"{v:.0f}" if pd.notna(v) else "") + ")"],
        default="inwoners: " + data["inwoners_bron"].fillna("") + " ("
        + data["inwoners_toelichting"].fillna("") + ")",
    )
    out = pd.DataFrame({
        "gebiedscode": data["gebiedscode"],
        "gebiedsnaam": data["gebiedsnaam"],
        "niveau": data["niveau"],
        "jaar": data["jaar"],
        "indeling": data["indeling"],
        "waarde": waarde,
        "teller": data["waarde"],
        "noemer": data["inwoners"],
        "bron": data["bron"] + "; " + pd.Series(why, index=data.index),
        "status": np.where(waarde.notna(), "berekend", "ontbreekt"),
        "indelingswijziging": np.nan,
        "dekking": data["inwoners_dekking"].where(waarde.notna()),
        "bron_id": data["bron_id"],
    })
    by_count = {count: rate for rate, count in rates.items()}
    out["indicator"] = data["indicator"].map(by_count)
    return out[INTERNAL]


def missing_rates_line(table: pd.DataFrame) -> str | None:
    """One Dutch line naming the years with inhabitants (a fetched or imported year) whose
    crime counts got no rate per 1,000 inhabitants at all, and why; None when there are
    none."""
    rows = table[table["indicator"].isin(set(crime_rate_indicators()))]
    counted = rows[rows["teller"].notna()]
    if counted.empty:
        return None
    with_rate = set(rows.loc[rows["waarde"].notna(), "jaar"])
    inhabited = set(table.loc[(table["indicator"] == "inwoners") & table["waarde"].notna(),
                              "jaar"])
    missing = sorted(int(y) for y in set(counted["jaar"]) & inhabited - with_rate)
    if not missing:
        return None
    indeling = int(counted["indeling"].max())
    first = counted[counted["jaar"] == missing[0]]
    reasons = first["bron"].astype(str).str.split("; geen cijfer: ", n=1).str[1].dropna()
    example = f" (bijvoorbeeld: {reasons.iloc[0]})" if len(reasons) else ""
    years = ", ".join(map(str, missing))
    return (f"Geen misdrijven per 1.000 inwoners voor {years}: de Politie-tabel staat in de "
            f"buurtindeling van {indeling} en van die jaren zijn geen inwoners van dezelfde "
            f"buurten bekend{example}. Haal ook de grenzen of kerncijfers van {indeling} op "
            f"('wijkkompas fetch --jaren {indeling}') en bouw opnieuw.")
