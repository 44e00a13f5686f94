"""Geometry for the web: simplified without gaps or overlaps, in WGS84, rounded.

Neighbouring buurten share their borders. Simplifying each polygon on its own opens gaps
and overlaps between them; shapely's coverage simplification simplifies the shared edges
once, so the buurten still fit together. Coordinates are then rounded to 5 decimals
(about 1 m), well below what a screen shows at the zoom of a wijk.

Pages of the export carry their areas compactly (:func:`delta_rings`): the same rounded
coordinates as whole numbers of 10^-5 degree, each point as its step from the one before.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from wijkkompas.gebied import RD, WGS84

DECIMALS = 5
TOLERANCE_M = 8.0


def web_geometry(frame: gpd.GeoDataFrame, tolerance: float = TOLERANCE_M) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with coverage-simplified geometry in WGS84, rounded."""
    rd = frame.to_crs(RD) if frame.crs is not None and frame.crs.to_epsg() != 28992 else frame
    geoms = shapely.make_valid(rd.geometry.to_numpy())
    simple = shapely.coverage_simplify(geoms, tolerance, simplify_boundary=True)
    out = gpd.GeoDataFrame(rd.drop(columns="geometry"), geometry=list(simple), crs=RD)
    out = out.to_crs(WGS84)
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 10 ** -DECIMALS)
    return out


def rounded_geojson_geometry(geom: shapely.Geometry) -> dict:
    """GeoJSON of one geometry with coordinates rounded to ``DECIMALS``."""
    mapping = shapely.geometry.mapping(geom)

    def walk(coords: object) -> object:
        if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
            return [round(float(c), DECIMALS) for c in coords]
        return [walk(c) for c in coords]  # type: ignore[union-attr]

    return {"type": mapping["type"], "coordinates": walk(mapping["coordinates"])}


def delta_rings(geom: shapely.Geometry) -> list[list[list[int]]]:
    """The polygons of ``geom`` for a page: per polygon its rings (exterior first), each
    ring one flat list ``[x0, y0, dx1, dy1, ...]`` of whole 10^-5 degrees (longitude,
    latitude): the first point itself, every later point as its step from the previous
    one. Decoded by summing and dividing by 10^5, which gives the coordinates of
    :func:`rounded_geojson_geometry` exactly. Parts that are not polygons (points or
    lines left by ``make_valid``) are left out."""
    polygons = [p for p in shapely.get_parts(geom)
                if isinstance(p, shapely.Polygon) and not p.is_empty]
    out = []
    for polygon in polygons:
        rings = []
        for ring in (polygon.exterior, *polygon.interiors):
            whole = np.rint(shapely.get_coordinates(ring) * 10 ** DECIMALS).astype(np.int64)
            steps = np.diff(whole, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
            rings.append(steps.ravel().tolist())
        out.append(rings)
    return out
