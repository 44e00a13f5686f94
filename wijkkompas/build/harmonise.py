"""Comparability across years when buurten are redrawn.

Almelo got a new buurt indeling in 2021, and some codes were reused for other areas
(BU01411105 was "Riet Zuid" in 2015 and is "Bedrijventerrein Bornsestraat" in 2021), so a
code alone does not make two years comparable. :func:`compare_indelingen` tells per area
whether code and boundary are the same; :func:`carry_over` carries a year's buurt values
onto another year's buurten by areal weighting, as computed ("berekend") values, never as
observed ones.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkkompas.build.aggregate import MIN_DEKKING
from wijkkompas.build.catalogue import factor_table
from wijkkompas.build.indicators import INTERNAL

#: Two areas with the same code count as the same area when their overlap (intersection
#: over union) is at least this. Boundaries published at different generalisation levels
#: differ a little even where nothing changed.
SAME_AREA_IOU = 0.9
#: Share of a new buurt's area whose old value must be known to carry a count onto it.
COUNT_DEKKING = 0.99


def compare_indelingen(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per area of ``new``: its code, the overlap with the same code in ``old`` and a verdict.

    verdict: "gelijk" (same code and boundary: directly comparable), "grens gewijzigd"
    (same code, other area: not comparable) or "nieuw" (code not in ``old``).
    """
    old_geoms = old.set_index("gebiedscode").geometry
    rows = []
    for code, geom in zip(new["gebiedscode"], new.geometry, strict=True):
        if code not in old_geoms.index:
            rows.append((code, np.nan, "nieuw"))
            continue
        other = old_geoms.loc[code]
        union = geom.union(other).area
        iou = geom.intersection(other).area / union if union > 0 else 0.0
        rows.append((code, iou, "gelijk" if iou >= SAME_AREA_IOU else "grens gewijzigd"))
    return pd.DataFrame(rows, columns=["gebiedscode", "overlap", "oordeel"])


def areal_weights(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of each source area that lies in each target area (columns bron, doel, w)."""
    src = source[["gebiedscode", "geometry"]].rename(columns={"gebiedscode": "bron_code"})
    dst = target[["gebiedscode", "geometry"]].rename(columns={"gebiedscode": "doel_code"})
    src = src.assign(bron_area=src.geometry.area)
    pieces = gpd.overlay(src, dst, how="intersection", keep_geom_type=True)
    pieces["piece_area"] = pieces.geometry.area
    # Normalised per source area, so that nothing is lost in slivers where two years'
    # boundaries, generalised differently, do not quite meet.
    pieces["w"] = pieces["piece_area"] / pieces.groupby("bron_code")["piece_area"].transform("sum")
    return pd.DataFrame(pieces[["bron_code", "doel_code", "w", "piece_area"]])


def carry_over(long: pd.DataFrame, source: gpd.GeoDataFrame, target: gpd.GeoDataFrame,
               target_year: int, factors: dict[str, float | None] | None = None) -> pd.DataFrame:
    """Carry buurt rows of one year onto the buurten of ``target_year`` by area.

    Tellers and noemers are spread in proportion to the share of each old buurt's area that
    falls in the new buurt, then the value is recomputed. ``dekking`` is the share of the
    new buurt's overlap with old buurten whose value is known; a count needs
    ``COUNT_DEKKING`` of it, a share or average ``MIN_DEKKING``, else it is missing.
    The rows get ``indeling`` = ``target_year`` and status "berekend".
    """
    rows = long[long["niveau"] == "buurt"]
    if rows.empty:
        return pd.DataFrame(columns=INTERNAL)
    weights = areal_weights(source, target)
    factors = factors or factor_table()
    data = rows.merge(weights, left_on="gebiedscode", right_on="bron_code")
    is_count = data["indicator"].map(lambda i: factors[i] is None)
    known = data["teller"].notna() & (is_count | data["noemer"].notna())
    data["t"] = (data["teller"] * data["w"]).where(known)
    data["n"] = (data["noemer"] * data["w"]).where(known)
    data["n_all"] = data["noemer"] * data["w"]
    data["known_area"] = data["piece_area"].where(known, 0.0)
    keys = ["doel_code", "jaar", "indicator", "bron_id"]
    out = data.groupby(keys, sort=False).agg(teller=("t", "sum"), noemer=("n", "sum"),
                                             noemer_all=("n_all", "sum"),
                                             noemer_parts=("n_all", "count"),
                                             parts=("n_all", "size"),
                                             known_area=("known_area", "sum"),
                                             area=("piece_area", "sum")).reset_index()
    out["dekking"] = out["known_area"] / out["area"]
    is_count = out["indicator"].map(lambda i: factors[i] is None)
    factor = out["indicator"].map(lambda i: factors[i] or 1.0)
    count_ok = is_count & (out["dekking"] >= COUNT_DEKKING)
    ratio_ok = ~is_count & (out["dekking"] >= MIN_DEKKING) & (out["noemer"] > 0)
    rate = factor * out["teller"] / out["noemer"].where(out["noemer"] > 0)
    out["waarde"] = np.where(count_ok, out["teller"], np.where(ratio_ok, rate, np.nan))
    out["teller"] = out["teller"].where(count_ok | ratio_ok)
    # As in aggregation: a missing share keeps the noemer of all its parts when known.
    all_known = out["noemer_parts"] == out["parts"]
    out["noemer"] = out["noemer"].where(ratio_ok, out["noemer_all"].where(~is_count & all_known))
    out["status"] = np.where(out["waarde"].notna(), "berekend", "ontbreekt")
    names = target.set_index("gebiedscode")["gebiedsnaam"]
    out = out.rename(columns={"doel_code": "gebiedscode"})
    out["gebiedsnaam"] = out["gebiedscode"].map(names)
    out["niveau"] = "buurt"
    out["indeling"] = target_year
    out["indelingswijziging"] = np.nan
    out["bron_id"] = out["bron_id"] + f" (omgerekend naar indeling {target_year})"
    out["bron"] = out["bron_id"]
    return out[INTERNAL]
