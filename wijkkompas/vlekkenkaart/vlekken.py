"""Measures of the vlekkenkaart: counts per area, per 1,000 inhabitants, location
quotients, the density surface ("vlekken") and the draagkracht of buurten.

The density is a Gaussian kernel density with a bandwidth in metres, computed in
EPSG:28992 on a regular grid; in locations per km², it integrates to the number of
locations (up to what falls outside the grid). The "vlekken" are its contours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from shapely.geometry import Polygon
from shapely.ops import unary_union

from wijkkompas.gebied import RD, wijk_of
from wijkkompas.processed import Tables

ALL = "alle"
#: Indicators of a buurt's draagkracht; higher values mean less draagkracht.
DRAAGKRACHT = ("aandeel_eenpersoonshh", "bijstand_per_1000", "aandeel_hh_laag_inkomen",
               "aandeel_corporatiewoningen", "aandeel_hh_sociaal_minimum")


def area_inhabitants(processed: Tables, niveau: str) -> pd.Series:
    """Inhabitants per area of ``niveau`` on the target indeling, in the latest year known."""
    table = processed.table
    target = processed.target or int(table["indeling"].max())
    rows = table[(table["indicator"] == "inwoners") & (table["niveau"] == niveau)
                 & (table["indeling"] == target) & table["waarde"].notna()]
    latest = rows.sort_values("jaar").drop_duplicates("gebiedscode", keep="last")
    return latest.set_index("gebiedscode")["waarde"]


def assign_areas(locations: gpd.GeoDataFrame, processed: Tables) -> gpd.GeoDataFrame:
    """Add the buurt and wijk each location lies in (target indeling)."""
    buurten = processed.boundaries("buurt")[["gebiedscode", "geometry"]].to_crs(RD)
    joined = gpd.sjoin(locations, buurten.rename(columns={"gebiedscode": "buurt"}),
                       how="left", predicate="within").drop(columns="index_right")
    joined = joined[~joined.index.duplicated(keep="first")]
    # The wijk of each buurt once, not once per location; None outside every buurt.
    wijken = {code: wijk_of(code) for code in joined["buurt"].dropna().unique()}
    joined["wijk"] = pd.Series([wijken.get(c) if isinstance(c, str) else None
                                for c in joined["buurt"]], index=joined.index, dtype=object)
    return joined


def area_measures(located: gpd.GeoDataFrame, processed: Tables,
                  categories: list[str]) -> pd.DataFrame:
    """Per area (buurt, wijk, gemeente) and category (and ``alle``): count, capacity,
    count per 1,000 inhabitants and location quotient against the gemeente.

    Locations outside every buurt count for the gemeente only; a capacity is unknown (NaN)
    where no location of the area and category has one."""
    gemeente = processed.gemeente
    order = [*categories, ALL]
    capacity = pd.to_numeric(located["capaciteit"], errors="coerce").astype("float64")
    category = located["categorie"].astype(object)
    frames = []
    for niveau in ("buurt", "wijk", "gemeente"):
        people = area_inhabitants(processed, niveau)
        if niveau == "gemeente":
            areas = pd.Index([gemeente])
            key = pd.Series(gemeente, index=located.index, dtype=object)
        else:
            areas = pd.Index(sorted(set(processed.boundaries(niveau)["gebiedscode"])))
            key = located[niveau].astype(object)
        # One grouping per level: by category and area, plus all categories per area.
        parts = pd.DataFrame({"categorie": pd.concat([category, pd.Series(
            ALL, index=located.index, dtype=object)], ignore_index=True),
            "gebied": pd.concat([key, key], ignore_index=True),
            "capaciteit": pd.concat([capacity, capacity], ignore_index=True)})
        grouped = parts.groupby(["categorie", "gebied"], dropna=True)["capaciteit"]
        grid = pd.MultiIndex.from_product([order, areas])
        counts = grouped.size().reindex(grid, fill_value=0)
        sums = grouped.sum(min_count=1).reindex(grid)
        frames.append(pd.DataFrame({
            "gebiedscode": np.tile(areas.to_numpy(dtype=object), len(order)),
            "niveau": niveau,
            "categorie": np.repeat(np.array(order, dtype=object), len(areas)),
            "aantal": counts.to_numpy(dtype="int64"),
            "capaciteit": sums.to_numpy(dtype="float64"),
            "inwoners": np.tile(people.reindex(areas).to_numpy(dtype="float64"),
                                len(order))}))
    out = pd.concat(frames, ignore_index=True)
    inw = out["inwoners"].where(out["inwoners"] > 0)
    out["per_1000"] = 1000 * out["aantal"] / inw
    base = out[out["niveau"] == "gemeente"].set_index("categorie")["per_1000"]
    reference = out["categorie"].map(base)
    out["locatiequotient"] = out["per_1000"] / reference.where(reference > 0)
    return out


#: Points per matrix product in :func:`density`.
_CHUNK = 2048


@dataclass
class Density:
    xs: np.ndarray  # cell centres, metres (RD)
    ys: np.ndarray
    values: np.ndarray  # locations per km², shape (len(ys), len(xs))
    bandwidth: float
    cell: float

    def total(self) -> float:
        """The integral over the grid: about the number of locations."""
        return float(self.values.sum() * (self.cell / 1000) ** 2)


def density(points: np.ndarray, bounds: tuple[float, float, float, float],
            bandwidth: float, cell: float = 50.0) -> Density:
    """Gaussian kernel density of ``points`` (n x 2, RD metres) on a grid over ``bounds``
    widened by four bandwidths, in locations per km²."""
    minx, miny, maxx, maxy = bounds
    pad = 4 * bandwidth
    xs = np.arange(minx - pad, maxx + pad + cell, cell)
    ys = np.arange(miny - pad, maxy + pad + cell, cell)
    values = np.zeros((len(ys), len(xs)))
    norm = 1.0 / (2 * np.pi * bandwidth ** 2)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    # The Gaussian kernel separates into x and y: the grid is one matrix product of the
    # points' y-profiles and x-profiles, taken in chunks to bound the memory.
    for start in range(0, len(points), _CHUNK):
        chunk = points[start:start + _CHUNK]
        gx = np.exp(-((xs[None, :] - chunk[:, :1]) ** 2) / (2 * bandwidth ** 2))
        gy = np.exp(-((ys[None, :] - chunk[:, 1:]) ** 2) / (2 * bandwidth ** 2))
        values += gy.T @ gx
    return Density(xs, ys, values * norm * 1e6, bandwidth, cell)


def contour_levels(surface: Density, n: int = 4) -> list[float]:
    """Contour levels as fractions of the peak, so that one location makes a vlek too."""
    peak = float(surface.values.max())
    if peak <= 0:
        return []
    return [peak * f for f in (0.1, 0.25, 0.5, 0.75)][:n]


def vlekken(surface: Density, levels: list[float] | None = None) -> gpd.GeoDataFrame:
    """The contours of the density as polygons (RD): per level, the area where the density is
    at least that level (so the vlekken nest, the darkest in the middle)."""
    levels = levels or contour_levels(surface)
    if not levels:
        return gpd.GeoDataFrame({"niveau": [], "dichtheid_vanaf": []}, geometry=[], crs=RD)
    # Contours only: a Figure of its own, outside pyplot, so no backend and nothing shown.
    ax = Figure().add_subplot()
    filled = ax.contourf(surface.xs, surface.ys, surface.values,
                         levels=[*levels, float(surface.values.max()) * 1.001])
    bands = []
    for level, path in zip(levels, filled.get_paths(), strict=False):
        rings = [Polygon(r) for r in path.to_polygons(closed_only=True) if len(r) >= 4]
        shape = (reduce(lambda a, b: a.symmetric_difference(b), rings).buffer(0) if rings
                 else Polygon())
        bands.append((level, shape))
    # Each vlek is everything at or above its level, so the vlekken nest.
    rows = []
    for number in range(len(bands)):
        shape = unary_union([s for _, s in bands[number:] if not s.is_empty])
        if not shape.is_empty:
            rows.append({"niveau": number + 1, "dichtheid_vanaf": bands[number][0],
                         "geometry": shape})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=RD)


def draagkracht(processed: Tables) -> pd.DataFrame:
    """Per buurt an index of draagkracht from the indicator base, with its rank.

    Each available indicator of ``DRAAGKRACHT`` (latest year with values, target indeling)
    is standardised across the buurten; the index is minus their mean, so that a higher
    index means more draagkracht. ``rang`` 1 is the buurt with the least draagkracht.
    """
    table = processed.table
    target = processed.target or int(table["indeling"].max())
    rows = table[(table["niveau"] == "buurt") & (table["indeling"] == target)
                 & table["indicator"].isin(DRAAGKRACHT) & table["waarde"].notna()]
    used = []
    columns = {}
    for indicator, group in rows.groupby("indicator"):
        jaar = int(group["jaar"].max())
        values = group[group["jaar"] == jaar].set_index("gebiedscode")["waarde"]
        if len(values) < 3 or values.std(ddof=0) == 0:
            continue
        columns[indicator] = (values - values.mean()) / values.std(ddof=0)
        used.append(f"{indicator} ({jaar})")
    codes = processed.boundaries("buurt")["gebiedscode"]
    if not columns:
        return pd.DataFrame({"gebiedscode": codes, "draagkracht": np.nan, "rang": np.nan,
                             "indicatoren": 0, "gebruikt": ""})
    z = pd.DataFrame(columns).reindex(codes)
    out = pd.DataFrame({"gebiedscode": codes.to_numpy(),
                        "draagkracht": (-z.mean(axis=1)).to_numpy(),
                        "indicatoren": z.notna().sum(axis=1).to_numpy()})
    out["rang"] = out["draagkracht"].rank(method="min")
    out["gebruikt"] = ", ".join(used)
    return out
