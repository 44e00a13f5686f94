"""The inhabitants of an area in a year, in a given buurt indeling: the noemer of rates
and the weight of averages from sources in another indeling than the KWB's.

The Politie publishes every year of 47018NED in the buurt indeling of 2024; the
Leefbaarometer every year in the indeling of its release. The KWB gives the inhabitants
of year Y in the indeling of Y. A code alone does not make them the same area: Almelo
re-used several buurt codes for other areas in 2021 (BU01411105 "Riet Zuid" became
"Bedrijventerrein Bornsestraat"). The inhabitants of area A in year Y, indeling I, are
therefore, in this order:

1. when Y = I: the row of A in Y (observed, or summed from its buurten);
2. the row of A in Y (indeling Y) when A is shown to be the same area in Y and I: by the
   boundaries (indelingen.csv says "gelijk" for A between Y and I), or, where boundaries
   of Y are not at hand, by CBS's own code: ``indelingswijziging`` = 1 (code and boundary
   unchanged against the year before) for A in every year after the earlier of Y and I
   up to the later one;
3. the figure of year Y carried onto the buurten of I by area (build/harmonise.py,
   status "berekend"), with its ``dekking``;
4. otherwise none: the rate or weight is missing, and the reason is given. A figure of
   the other area that once had the same code is never used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wijkkompas.indicatoren.rows import plain

#: Areas with fewer inhabitants get no rate per 1,000 (business parks, rural remainders):
#: a handful of crimes there would give a meaningless, unstable figure.
MIN_INWONERS = 50

COLUMNS = ["gebiedscode", "jaar", "indeling", "inwoners", "inwoners_bron", "inwoners_dekking",
           "inwoners_toelichting"]


def _ranked(long: pd.DataFrame) -> pd.DataFrame:
    rows = plain(long[(long["indicator"] == "inwoners") & long["waarde"].notna()])
    rank = (rows["status"] != "waargenomen").astype(int)
    return (rows.assign(_rank=rank, _dekking=rows["dekking"].fillna(0.0))
            .sort_values(["_rank", "_dekking", "bron"], ascending=[True, False, True],
                         kind="stable"))


def _same_area(code: str, jaar: int, indeling: int, verdicts: dict[tuple[str, int, int], str],
               changes: dict[tuple[str, int], float]) -> tuple[bool, str]:
    oordeel = verdicts.get((code, indeling, jaar))
    if oordeel is not None:
        if oordeel == "gelijk":
            return True, f"zelfde grenzen in {jaar} en {indeling}"
        return False, f"{code} is in {jaar} een ander gebied dan in {indeling} ({oordeel})"
    low, high = sorted((jaar, indeling))
    years = range(low + 1, high + 1)
    if all(changes.get((code, year)) == 1 for year in years):
        return True, f"volgens CBS ongewijzigd van {low} tot {high}"
    return False, (f"niet aangetoond dat {code} in {jaar} hetzelfde gebied is als in "
                   f"{indeling} (geen grenzen van {jaar} en geen CBS-indelingscode 1 voor "
                   f"{low + 1}-{high})")


def inhabitants(long: pd.DataFrame, verdicts: pd.DataFrame, need: pd.DataFrame) -> pd.DataFrame:
    """For each (gebiedscode, jaar, indeling) of ``need``: the inhabitants and where from.

    ``verdicts`` is the table of indelingen.csv (gebiedscode, indeling, oordeel,
    vergeleken_met). Returns ``COLUMNS``; ``inwoners`` is NaN where no figure of the same
    area exists, and ``inwoners_toelichting`` says why.
    """
    keys = plain(need[["gebiedscode", "jaar", "indeling"]]).drop_duplicates().reset_index(
        drop=True)
    keys = keys.astype({"jaar": "int64", "indeling": "int64"})
    ranked = _ranked(long)
    by_indeling = ranked.drop_duplicates(["gebiedscode", "jaar", "indeling"]).set_index(
        ["gebiedscode", "jaar", "indeling"])
    # Only the three columns needed: on a national table a copy of whole rows is large.
    observed = long.loc[long["indeling"] == long["jaar"],
                        ["gebiedscode", "jaar", "indelingswijziging"]]
    observed = plain(observed.dropna(subset=["indelingswijziging"]))
    changes = (observed.drop_duplicates(["gebiedscode", "jaar"])
               .set_index(["gebiedscode", "jaar"])["indelingswijziging"].to_dict())
    verdict_map = {(str(r.gebiedscode), int(r.indeling), int(r.vergeleken_met)): str(r.oordeel)
                   for r in verdicts.itertuples()} if len(verdicts) else {}
    found = []
    for code, jaar, indeling in keys.itertuples(index=False):
        jaar, indeling = int(jaar), int(indeling)
        own = (code, jaar, jaar)
        carried = (code, jaar, indeling)
        if jaar == indeling:
            why = "zelfde jaar en indeling"
            same = True
        else:
            same, why = _same_area(code, jaar, indeling, verdict_map, changes)
        if same and own in by_indeling.index:
            row = by_indeling.loc[own]
        elif jaar != indeling and carried in by_indeling.index:
            row = by_indeling.loc[carried]
            why = f"{why}; omgerekend naar de buurten van {indeling} naar oppervlakte"
        else:
            if same:
                why = f"geen inwoners van {code} in {jaar} bekend"
            found.append((code, jaar, indeling, np.nan, None, np.nan, why))
            continue
        found.append((code, jaar, indeling, float(row["waarde"]), str(row["bron"]),
                      float(row["dekking"]) if pd.notna(row["dekking"]) else np.nan, why))
    out = pd.DataFrame(found, columns=COLUMNS)
    return out[COLUMNS]
