"""A synthetic raw cache of national size in CBS's format, shared by the benchmarks.

Every gemeente gets its share of the wijken and every wijk its share of the buurten (the
national proportion: 345 gemeenten, about 3,500 wijken and 14,500 buurten per year, spread
evenly), the tables have Nederland's NL00 row, and on request every year gets synthetic
boundaries (``raw/geo/wijkenbuurten_<jaar>.gpkg``: each buurt a square, each wijk the union
of its buurten, the gemeenten side by side on a grid in RD New), so that ``wijkkompas
build`` and ``wijkkompas export`` can run on the whole country. Values are random (seeded:
the same cache every time), about 5 % null as CBS's secrecy does. The manifest holds the
checksums a fetch records, so the build checks every raw file as after a real fetch.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_PROPS = ROOT.parent / "shared" / "data" / "odata" / "85984NED" / "DataProperties.json"
GEMEENTEN, WIJKEN, BUURTEN = 345, 3500, 14500
LAST_YEAR = 2024
#: The side of one buurt's square and of one gemeente's cell on the grid (metres, RD New).
BUURT_SIDE, GEMEENTE_SIDE, GRID_COLUMNS = 500.0, 12_000.0, 20
ORIGIN = (10_000.0, 300_000.0)


def _spread(total: int, parts: int) -> list[int]:
    """``total`` items over ``parts`` as evenly as whole numbers allow (the first get one
    more), at least one each."""
    base, extra = divmod(max(total, parts), parts)
    return [base + (1 if at < extra else 0) for at in range(parts)]


def areas(gemeenten: int = GEMEENTEN) -> list[tuple[str, str]]:
    """(code, kind) of every area: NL00, then per gemeente its code, wijken and buurten."""
    n_wijken = _spread(WIJKEN * gemeenten // GEMEENTEN, gemeenten)
    n_buurten = _spread(BUURTEN * gemeenten // GEMEENTEN, sum(n_wijken))
    found = [("NL00", "Land")]
    wijk_at = 0
    for g, count in enumerate(n_wijken):
        gm = f"{g + 1:04d}"
        found.append(("GM" + gm, "Gemeente"))
        for w in range(min(count, 99)):
            found.append((f"WK{gm}{w:02d}", "Wijk"))
            found += [(f"BU{gm}{w:02d}{b:02d}", "Buurt")
                      for b in range(min(n_buurten[wijk_at], 99))]
            wijk_at += 1
    return found


def generate(raw: Path, years: int, gemeenten: int = GEMEENTEN,
             boundaries: bool = False) -> None:
    """``years`` KWB tables (2024 backwards) for ``gemeenten`` gemeenten; with
    ``boundaries`` also every year's synthetic wijk and buurt boundaries."""
    props = json.loads(SHARED_PROPS.read_text(encoding="utf-8"))
    topics = [p for p in props if p.get("Type") == "Topic"]
    rng = random.Random(141)
    manifest: dict = {"cbs": {}, "geo": {}, "kaart": {}}
    found = areas(gemeenten)
    first = LAST_YEAR - years + 1
    for year in range(first, LAST_YEAR + 1):
        table = f"9{year}NED"
        folder = raw / "cbs" / table
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for number, (code, kind) in enumerate(found):
            row = {"ID": number, "WijkenEnBuurten": f"{code:<10}"}
            for topic in topics:
                key, unit = topic["Key"], topic.get("Unit", "")
                if key.startswith("Indelingswijziging"):
                    row[key] = f"{'1':<10}"  # CBS's code as text: 1 = unchanged
                elif topic.get("Datatype") == "String":
                    row[key] = f"{kind:<10}" if key.startswith("SoortRegio") else f"{code:<10}"
                elif rng.random() < 0.05:
                    row[key] = None  # secret
                elif unit == "%":
                    row[key] = round(rng.uniform(0, 100))
                elif unit == "aantal":
                    row[key] = rng.randrange(0, 5000, 5)
                else:
                    row[key] = round(rng.uniform(0, 400), 1)
            rows.append(row)
        (folder / "TypedDataSet.json").write_text(json.dumps(rows, indent=2))
        (folder / "DataProperties.json").write_text(json.dumps(props, indent=2))
        regions = [{"Key": f"{c:<10}", "Title": c, "Description": "", "CategoryGroupID": None}
                   for c, _ in found]
        (folder / "WijkenEnBuurten.json").write_text(json.dumps(regions, indent=2))
        (folder / "TableInfos.json").write_text(json.dumps([{"Identifier": table}]))
        # The checksums and row counts a fetch records: the build checks every file.
        counts = {"TypedDataSet.json": len(rows), "DataProperties.json": len(props),
                  "WijkenEnBuurten.json": len(regions), "TableInfos.json": 1}
        files = {name: {"sha256": _sha256(folder / name), "rows": n}
                 for name, n in sorted(counts.items())}
        manifest["cbs"][table] = {"table_id": table, "jaar": year, "gemeente": "NL",
                                  "gevonden_via": "benchmark",
                                  "fetched_at": "2024-01-01T00:00:00+00:00", "files": files}
    if boundaries:
        layers = boundary_layers(found)
        for year in range(first, LAST_YEAR + 1):
            manifest["geo"][str(year)] = write_boundaries(raw / "geo", year, layers)
    (raw / "manifest.json").write_text(json.dumps(manifest))


def boundary_layers(found: list[tuple[str, str]]) -> dict[str, object]:
    """The buurten (squares, one row per wijk) and wijken (their unions) of
    ``found`` as GeoDataFrames in RD New, with PDOK's column names."""
    import geopandas as gpd
    import shapely

    buurten: dict[str, list] = {"buurtcode": [], "buurtnaam": [], "wijkcode": [],
                                "gemeentecode": [], "geometry": []}
    for code, kind in found:
        if kind != "Buurt":
            continue
        gm, wk = code[2:6], code[2:8]
        g = int(gm) - 1
        x0 = ORIGIN[0] + (g % GRID_COLUMNS) * GEMEENTE_SIDE
        y0 = ORIGIN[1] + (g // GRID_COLUMNS) * GEMEENTE_SIDE
        # A wijk is a row of squares, its buurten side by side.
        x, y = x0 + int(code[8:10]) * BUURT_SIDE, y0 + int(code[6:8]) * BUURT_SIDE
        buurten["buurtcode"].append(code)
        buurten["buurtnaam"].append(f"Buurt {code[2:]}")
        buurten["wijkcode"].append("WK" + wk)
        buurten["gemeentecode"].append("GM" + gm)
        buurten["geometry"].append(shapely.box(x, y, x + BUURT_SIDE, y + BUURT_SIDE))
    frame = gpd.GeoDataFrame(buurten, geometry="geometry", crs="EPSG:28992")
    wijken = frame.dissolve(by="wijkcode", as_index=False)[["wijkcode", "gemeentecode",
                                                            "geometry"]]
    wijken["wijknaam"] = [f"Wijk {c[2:]}" for c in wijken["wijkcode"]]
    return {"buurten": frame, "wijken": wijken}


def write_boundaries(folder: Path, year: int, layers: dict[str, object]) -> dict:
    """One year's GeoPackage as a fetch leaves it; its manifest entry."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"wijkenbuurten_{year}.gpkg"
    path.unlink(missing_ok=True)
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG")  # type: ignore[attr-defined]
    return {"counts": {name: len(frame) for name, frame in layers.items()},  # type: ignore[arg-type]
            "fetched_at": "2024-01-01T00:00:00+00:00",
            "files": {path.name: {"sha256": _sha256(path)}}}


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def own_cache(raw: Path, target: Path, gemeente: str) -> None:
    """The raw cache of one gemeente alone, cut from the national ``raw``: its own rows and
    Nederland's of every table, its own wijken and buurten of every year's boundaries, as
    a fetch for that gemeente leaves them (with their checksums)."""
    import geopandas as gpd
    import pyogrio

    digits = gemeente[2:6]

    def own(code: str) -> bool:
        code = code.strip()
        return code == "NL00" or (code[:2] in ("GM", "WK", "BU") and code[2:6] == digits)

    manifest = json.loads((raw / "manifest.json").read_text())
    for table, entry in manifest["cbs"].items():
        source, folder = raw / "cbs" / table, target / "cbs" / table
        folder.mkdir(parents=True, exist_ok=True)
        rows = [r for r in json.loads((source / "TypedDataSet.json").read_bytes())
                if own(r["WijkenEnBuurten"])]
        regions = [r for r in json.loads((source / "WijkenEnBuurten.json").read_bytes())
                   if own(r["Key"])]
        (folder / "TypedDataSet.json").write_text(json.dumps(rows, indent=2))
        (folder / "WijkenEnBuurten.json").write_text(json.dumps(regions, indent=2))
        for name in ("DataProperties.json", "TableInfos.json"):
            (folder / name).write_bytes((source / name).read_bytes())
        counts = {"TypedDataSet.json": len(rows), "WijkenEnBuurten.json": len(regions)}
        for name, info in entry["files"].items():
            info["sha256"] = _sha256(folder / name)
            info["rows"] = counts.get(name, info["rows"])
        entry["gemeente"] = gemeente
    for year in list(manifest["geo"]):
        path = raw / "geo" / f"wijkenbuurten_{year}.gpkg"
        layers = {}
        for name, _ in pyogrio.list_layers(path):
            frame = gpd.read_file(path, layer=name)
            layers[name] = frame[frame["gemeentecode"] == gemeente].reset_index(drop=True)
        manifest["geo"][year] = write_boundaries(target / "geo", int(year), layers)
    (target / "manifest.json").write_text(json.dumps(manifest))
