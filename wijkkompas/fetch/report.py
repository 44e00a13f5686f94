"""Short reports for the yearly update: where the raw data came from, and what changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wijkkompas.manifest import read_manifest

#: What the manifest says about where a year's boundaries come from.
PER_JAAR = "PDOK per jaar"
GEEN_GRENZEN = "geen (importeer de wijk- en buurtkaart)"
_GEO_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


def _boundary_source(entry: dict) -> str:
    # Entries written before the historical service came from the per-year service.
    return str(entry.get("grenzenbron") or PER_JAAR)


def _has_geometry(entry: dict) -> bool:
    return Path(entry["bestand"]).suffix.lower() in _GEO_SUFFIXES


#: "cbs_gewijzigd" of what does not come from a CBS table (a reader never sees "None").
NOT_CBS = "n.v.t."


def manifest_overview(data_dir: Path) -> pd.DataFrame:
    """One row per cached table, boundary set and imported file, from the manifest.

    ``bron`` says where it came from: CBS, PDOK's per-year or historical service, or an
    import (``wijkkompas import``).
    """
    manifest = read_manifest(Path(data_dir) / "raw")
    rows = []
    for table, entry in manifest["cbs"].items():
        rows.append({"soort": "CBS-tabel", "naam": table, "jaar": entry["jaar"], "bron": "CBS",
                     "rijen": entry["files"].get("TypedDataSet.json", {}).get("rows"),
                     "cbs_gewijzigd": entry.get("modified") or "onbekend",
                     "opgehaald": entry["fetched_at"]})
    for jaar, entry in manifest["geo"].items():
        rows.append({"soort": "grenzen", "naam": f"wijkenbuurten_{jaar}.gpkg",
                     "jaar": int(jaar), "bron": _boundary_source(entry),
                     "rijen": sum(entry["counts"].values()),
                     "cbs_gewijzigd": NOT_CBS, "opgehaald": entry["fetched_at"]})
    for entry in manifest["kaart"].values():
        rows.append({"soort": "wijk- en buurtkaart", "naam": entry["bestand"],
                     "jaar": entry["jaar"], "bron": "import", "rijen": entry["rows"],
                     "cbs_gewijzigd": NOT_CBS, "opgehaald": entry["imported_at"]})
    return pd.DataFrame(rows, columns=["soort", "naam", "jaar", "bron", "rijen",
                                       "cbs_gewijzigd", "opgehaald"]).sort_values(
        ["jaar", "soort", "naam"])


def boundary_sources(data_dir: Path) -> pd.DataFrame:
    """Per year in the cache: where the build takes its wijk and buurt boundaries from.

    As in the build, a PDOK download of a year goes before an imported file with geometry.
    """
    manifest = read_manifest(Path(data_dir) / "raw")
    found: dict[int, tuple[str, str]] = {}
    for entry in manifest["cbs"].values():
        found[int(entry["jaar"])] = (GEEN_GRENZEN, "")
    for entry in manifest["kaart"].values():
        if _has_geometry(entry):
            jaar = int(entry["jaar"])
            earlier = found.get(jaar, ("", ""))[1]
            found[jaar] = ("import", ", ".join(filter(None, [earlier, entry["bestand"]])))
    for jaar, entry in manifest["geo"].items():
        found[int(jaar)] = (_boundary_source(entry), f"wijkenbuurten_{jaar}.gpkg")
    rows = [{"jaar": jaar, "grenzen": bron, "bestand": bestand}
            for jaar, (bron, bestand) in sorted(found.items())]
    return pd.DataFrame(rows, columns=["jaar", "grenzen", "bestand"])


def latest_changes(data_dir: Path) -> pd.DataFrame:
    """The values the latest refresh of each table added, changed or removed."""
    folder = Path(data_dir) / "raw" / "changes"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    latest: dict[str, Path] = {}
    for path in files:
        latest[path.stem.split("_", 1)[1]] = path  # sorted by time: the last one wins
    frames = [pd.read_csv(p, dtype={"oud": str, "nieuw": str}) for p in latest.values()]
    if not frames:
        return pd.DataFrame(columns=["tabel", "gebiedscode", "variabele", "soort", "oud",
                                     "nieuw"])
    return pd.concat(frames, ignore_index=True)
