"""Short reports for the yearly update: what was validated, and what changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wijkkompas.storage import read_manifest


def manifest_overview(data_dir: Path) -> pd.DataFrame:
    """One row per cached table, boundary set and imported file, from the manifest."""
    manifest = read_manifest(Path(data_dir) / "raw")
    rows = []
    for table, entry in manifest["cbs"].items():
        rows.append({"soort": "CBS-tabel", "naam": table, "jaar": entry["jaar"],
                     "rijen": entry["files"].get("TypedDataSet.json", {}).get("rows"),
                     "cbs_gewijzigd": entry.get("modified"), "opgehaald": entry["fetched_at"]})
    for jaar, entry in manifest["geo"].items():
        rows.append({"soort": "grenzen (PDOK)", "naam": f"wijkenbuurten_{jaar}.gpkg",
                     "jaar": int(jaar), "rijen": sum(entry["counts"].values()),
                     "cbs_gewijzigd": None, "opgehaald": entry["fetched_at"]})
    for entry in manifest["kaart"].values():
        rows.append({"soort": "wijk- en buurtkaart", "naam": entry["bestand"],
                     "jaar": entry["jaar"], "rijen": entry["rows"], "cbs_gewijzigd": None,
                     "opgehaald": entry["imported_at"]})
    return pd.DataFrame(rows, columns=["soort", "naam", "jaar", "rijen", "cbs_gewijzigd",
                                       "opgehaald"]).sort_values(["jaar", "soort", "naam"])


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


def validation_summary(data_dir: Path) -> pd.DataFrame:
    """Per year and indicator: how many areas have a value, how many are missing and why."""
    table = pd.read_parquet(Path(data_dir) / "processed" / "indicatoren.parquet")
    own = table[table["indeling"] == table["jaar"]]
    summary = (own.groupby(["jaar", "niveau", "indicator", "status"]).size()
               .unstack("status", fill_value=0).reset_index())
    for status in ("waargenomen", "berekend", "ontbreekt"):
        if status not in summary:
            summary[status] = 0
    return summary[["jaar", "niveau", "indicator", "waargenomen", "berekend", "ontbreekt"]]
