"""Download one KWB table for one gemeente into the raw cache, as cbsodata saves it.

Layout under ``data/raw``::

    cbs/<TableId>/TableInfos.json, DataProperties.json, CategoryGroups.json,
                  TypedDataSet.json (only the gemeente's rows), WijkenEnBuurten.json
    archive/cbs/<TableId>/<fetch time>/   the version a ``--refresh`` replaced
    changes/<fetch time>_<TableId>.csv    what that refresh added, changed or removed

A table is downloaded into a staging folder first and checked; only then does it replace
the cached version, so an error leaves the cache as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbsodata

from wijkkompas.cbs_catalog import TableRef
from wijkkompas.cbs_changes import TableChanges, compare_datasets, write_changes
from wijkkompas.cbs_client import call_cbs, cbs_session
from wijkkompas.errors import WijkkompasError
from wijkkompas.settings import Settings
from wijkkompas.storage import file_stamp, files_intact, now_stamp, sha256_file

DATASET = "TypedDataSet.json"
REGION_KEY = "WijkenEnBuurten"


@dataclass
class FetchResult:
    ref: TableRef
    status: str  # "opgehaald", "ververst", "actueel"
    rows: int
    manifest_entry: dict[str, Any]
    changes: TableChanges | None = None
    archived: Path | None = None
    notes: list[str] = field(default_factory=list)


def gemeente_filter(gemeente: str) -> str:
    """The OData filter for the gemeente, its wijken and its buurten.

    CBS pads region keys to ten characters ('GM0141    '); wijk and buurt codes start with
    WK or BU followed by the four digits of the gemeente, which ``substringof`` finds.
    """
    digits = gemeente[2:]
    return (
        f"({REGION_KEY} eq '{gemeente:<10}') or substringof('WK{digits}',{REGION_KEY}) "
        f"or substringof('BU{digits}',{REGION_KEY})"
    )


def is_cached(entry: dict[str, Any] | None, raw_dir: Path, gemeente: str) -> bool:
    if not entry or entry.get("gemeente") != gemeente:
        return False
    return files_intact(raw_dir / "cbs" / entry["table_id"], entry.get("files", {}))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_download(staging: Path, ref: TableRef, gemeente: str) -> list[dict[str, Any]]:
    """Check the staged download: the dataset is there and holds the gemeente's own row."""
    dataset_path = staging / DATASET
    if not dataset_path.is_file():
        raise WijkkompasError(
            f"CBS-tabel {ref.table_id} ({ref.jaar}) heeft geen TypedDataSet; is het wel een "
            "tabel Kerncijfers wijken en buurten?"
        )
    rows = _load(dataset_path)
    codes = {str(row.get(REGION_KEY, "")).strip() for row in rows}
    if gemeente not in codes:
        raise WijkkompasError(
            f"Gemeentecode {gemeente} komt niet voor in CBS-tabel {ref.table_id} ({ref.jaar}). "
            "Controleer de code (bijvoorbeeld GM0141 voor Almelo) en of de gemeente in dat jaar "
            "bestond."
        )
    return rows


def _describe(staging: Path) -> dict[str, dict[str, Any]]:
    files = {}
    for path in sorted(staging.glob("*.json")):
        value = _load(path)
        files[path.name] = {
            "sha256": sha256_file(path),
            "rows": len(value) if isinstance(value, list) else None,
        }
    return files


def fetch_table(
    ref: TableRef,
    gemeente: str,
    raw_dir: Path,
    settings: Settings,
    previous: dict[str, Any] | None,
    *,
    refresh: bool = False,
) -> FetchResult:
    """Fetch one table unless the cache already holds it; with ``refresh`` always fetch."""
    if not refresh and is_cached(previous, raw_dir, gemeente):
        assert previous is not None
        rows = previous["files"][DATASET]["rows"]
        return FetchResult(ref, "actueel", rows, previous)

    target = raw_dir / "cbs" / ref.table_id
    staging_root = raw_dir / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{ref.table_id}-", dir=staging_root))
    try:
        def download() -> None:
            for stale in staging.iterdir():
                stale.unlink()
            cbsodata.download_data(
                ref.table_id,
                dir=str(staging),
                # cbsodata 1.3 saves the TypedDataSet when typed is False (it removes the
                # named set from its list); the typed set has numbers and null for missing.
                typed=False,
                filters=gemeente_filter(gemeente),
                catalog_url=point.catalog_url,
                **point.request_kwargs,
            )

        what = f"tabel {ref.table_id} ({ref.jaar})"
        with cbs_session(settings, f"CBS {ref.table_id} ({ref.jaar})") as (point, counter):
            call_cbs(download, settings, what, counter)
        rows = _check_download(staging, ref, gemeente)
        infos_path = staging / "TableInfos.json"
        infos = _load(infos_path) if infos_path.is_file() else []
        fetched_at = now_stamp()
        entry = {
            "table_id": ref.table_id,
            "jaar": ref.jaar,
            "gemeente": gemeente,
            "gevonden_via": ref.bron,
            "modified": infos[0].get("Modified") if infos else None,
            "fetched_at": fetched_at,
            "bron": settings.cbs_url,
            "files": _describe(staging),
        }

        changes = None
        archived = None
        if target.exists():
            old_dataset = target / DATASET
            if old_dataset.is_file():
                changes = compare_datasets(_load(old_dataset), rows, ref.table_id)
            old_stamp = (previous or {}).get("fetched_at") or now_stamp()
            archived = raw_dir / "archive" / "cbs" / ref.table_id / file_stamp(old_stamp)
            archived.parent.mkdir(parents=True, exist_ok=True)
            if archived.exists():
                shutil.rmtree(archived)
            os.replace(target, archived)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
        if changes is not None:
            changes.previous_modified = (previous or {}).get("modified")
            changes.modified = entry["modified"]
            changes.path = write_changes(changes, raw_dir / "changes", file_stamp(fetched_at))
        status = "ververst" if archived else "opgehaald"
        return FetchResult(ref, status, len(rows), entry, changes, archived)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
        if staging_root.is_dir() and not any(staging_root.iterdir()):
            staging_root.rmdir()
