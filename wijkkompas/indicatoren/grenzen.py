"""Wijk and buurt boundaries per year, from the raw cache, in EPSG:28992.

Sources, in order of preference per year: the PDOK download
(``data/raw/geo/wijkenbuurten_<jaar>.gpkg``) and imported wijk- en buurtkaart files that
carry geometry (``data/raw/kaart/<jaar>/``). Wijken and the gemeente are dissolved from
the buurten when no layer of their own is there (CBS wijken are unions of buurten).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from wijkkompas.gebied import RD, parent_code
from wijkkompas.storage import atomic_path

if TYPE_CHECKING:
    import geopandas as gpd

# geopandas, pyogrio and the fetch modules (with requests) are imported only where
# boundaries are read or written: a build of CBS tables alone reads none of them.

_CODE = {"buurt": ("buurtcode", "BU_CODE"), "wijk": ("wijkcode", "WK_CODE"),
         "gemeente": ("gemeentecode", "GM_CODE", "gemeenteco")}
_NAME = {"buurt": ("buurtnaam", "BU_NAAM"), "wijk": ("wijknaam", "WK_NAAM"),
         "gemeente": ("gemeentenaam", "GM_NAAM", "gemeentena")}


@dataclass
class Boundaries:
    jaar: int
    buurten: gpd.GeoDataFrame | None  # gebiedscode, gebiedsnaam, geometry
    wijken: gpd.GeoDataFrame | None
    bron: str


def _standard(frame: gpd.GeoDataFrame, niveau: str) -> gpd.GeoDataFrame | None:
    code = next((c for c in _CODE[niveau] if c in frame.columns), None)
    if code is None or frame.geometry is None:
        return None
    name = next((c for c in _NAME[niveau] if c in frame.columns), None)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    import geopandas as gpd

    out = gpd.GeoDataFrame({
        "gebiedscode": frame[code].astype(str).str.strip(),
        "gebiedsnaam": frame[name].astype(object).where(frame[name].notna(), None)
        if name else None,
    }, geometry=frame.geometry.to_crs(RD).make_valid(), crs=RD)
    return out


def dissolve(areas: gpd.GeoDataFrame, niveau: str) -> gpd.GeoDataFrame:
    """Wijken ("wijk") or the gemeente ("gemeente") as unions of smaller areas."""
    key = parent_code(areas["gebiedscode"], niveau)
    merged = areas.assign(gebiedscode=key).dissolve(by="gebiedscode", as_index=False)
    return merged[["gebiedscode", "geometry"]].assign(gebiedsnaam=None)


def _read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    import geopandas as gpd
    import pyogrio

    frames = {}
    for layer, _kind in pyogrio.list_layers(path):
        frames[layer] = gpd.read_file(path, layer=layer)
    return frames


def _joined(old: gpd.GeoDataFrame | None,
            new: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The areas of two files of one year (several gemeenten in one data folder); an area in
    both is taken from the later file."""
    if old is None or new is None:
        return new if new is not None else old
    both = pd.concat([old, new], ignore_index=True)
    both = both.drop_duplicates("gebiedscode", keep="last").reset_index(drop=True)
    import geopandas as gpd

    return gpd.GeoDataFrame(both, geometry="geometry", crs=new.crs)


def load_boundaries(raw_dir: Path) -> dict[int, Boundaries]:
    """Every year's boundaries the raw cache holds."""
    found: dict[int, Boundaries] = {}
    kaart_root = raw_dir / "kaart"
    if kaart_root.is_dir():
        from wijkkompas.fetch.kaart_import import GEO_SUFFIXES

        for folder in sorted(kaart_root.iterdir()):
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() not in GEO_SUFFIXES or not folder.name.isdigit():
                    continue
                jaar = int(folder.name)
                for frame in _read_layers(path).values():
                    buurten = _standard(frame, "buurt")
                    wijken = None if buurten is not None else _standard(frame, "wijk")
                    old = found.get(jaar) or Boundaries(jaar, None, None, f"kaart {path.name}")
                    found[jaar] = Boundaries(jaar, _joined(old.buurten, buurten),
                                             _joined(old.wijken, wijken), old.bron)
    geo_root = raw_dir / "geo"
    if geo_root.is_dir():
        from wijkkompas.fetch.pdok import geo_name

        for path in sorted(geo_root.glob("wijkenbuurten_*.gpkg")):
            jaar = int(path.stem.split("_")[1])
            layers = _read_layers(path)
            buurten = _standard(layers["buurten"], "buurt") if "buurten" in layers else None
            wijken = _standard(layers["wijken"], "wijk") if "wijken" in layers else None
            found[jaar] = Boundaries(jaar, buurten, wijken, f"PDOK {geo_name(jaar)}")
    return found


def write_boundaries(found: dict[int, Boundaries], target: Path) -> None:
    """All years in one GeoPackage, layers buurten_<jaar>, wijken_<jaar>, gemeente_<jaar>."""
    with atomic_path(target) as tmp:
        written = False
        for jaar, item in sorted(found.items()):
            layers = {"buurten": item.buurten, "wijken": item.wijken}
            if item.wijken is None and item.buurten is not None:
                layers["wijken"] = dissolve(item.buurten, "wijk")
            smallest = item.buurten if item.buurten is not None else layers["wijken"]
            if smallest is not None:
                layers["gemeente"] = dissolve(smallest, "gemeente")
            for name, frame in layers.items():
                if frame is not None and len(frame):
                    frame.to_file(tmp, layer=f"{name}_{jaar}", driver="GPKG")
                    written = True
        if not written:
            import geopandas as gpd

            gpd.GeoDataFrame({"gebiedscode": []}, geometry=[], crs=RD).to_file(
                tmp, layer="leeg", driver="GPKG")
