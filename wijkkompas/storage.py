"""Atomic writes, checksums, table writing and the manifest of the raw cache
(``data/raw/manifest.json``)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import AfterValidator, ConfigDict, Field

from wijkkompas.errors import WijkkompasError
from wijkkompas.schema import Schema, parse_schema

MANIFEST_NAME = "manifest.json"


def now_stamp() -> str:
    """The current UTC time as ISO 8601 text, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def file_stamp(iso: str) -> str:
    """An ISO time made safe for a folder name: 2024-05-01T10:00:00+00:00 -> 20240501T100000Z."""
    return iso.replace("-", "").replace(":", "").replace("+0000", "Z")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` at once.

    On an error the temporary file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                                    dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(target: Path, value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_bytes_atomic(target, text.encode("utf-8"))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV (UTF-8, comma, point decimals), without its index."""
    return frame.to_csv(index=False).encode("utf-8")


def write_table(table: pd.DataFrame, parquet: Path, csv: Path) -> None:
    """A table as Parquet and as CSV (UTF-8, comma, point decimals), each atomically."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(parquet) as tmp:
        pq.write_table(arrow, tmp)
    with atomic_path(csv) as tmp:
        pacsv.write_csv(arrow, tmp)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain_name(name: str) -> str:
    if not name or name != Path(name).name or name.startswith("."):
        raise ValueError(f"'{name}' is geen gewone bestandsnaam")
    return name


class _Entry(Schema):
    model_config = ConfigDict(extra="allow")


# What the readers of the manifest rely on; entries may hold more.
class _CbsEntry(_Entry):
    table_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]+$")]
    jaar: int
    gevonden_via: str
    fetched_at: str
    files: dict[str, dict[str, Any]]


class _GeoEntry(_Entry):
    counts: dict[str, int]
    fetched_at: str


class _KaartEntry(_Entry):
    jaar: int
    bestand: Annotated[str, AfterValidator(_plain_name)]
    rows: int
    imported_at: str


class _Manifest(Schema):
    model_config = ConfigDict(extra="allow")
    cbs: dict[Annotated[str, Field(pattern=r"^[0-9A-Za-z]+$")], _CbsEntry] = {}
    geo: dict[Annotated[str, Field(pattern=r"^\d{4}$")], _GeoEntry] = {}
    kaart: dict[str, _KaartEntry] = {}


def read_manifest(raw_dir: Path) -> dict[str, Any]:
    """The manifest of the raw cache; an empty one when there is none yet."""
    path = raw_dir / MANIFEST_NAME
    if not path.exists():
        return {"cbs": {}, "geo": {}, "kaart": {}}
    hint = ("Herstel het uit een back-up of verwijder het; haal daarna opnieuw op en "
            "importeer opnieuw.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WijkkompasError(f"Het manifest {path} is onleesbaar ({exc}). {hint}") from None
    parse_schema(_Manifest, manifest, f"Het manifest {path} klopt niet", hint)
    for section in ("cbs", "geo", "kaart"):
        manifest.setdefault(section, {})
    return manifest


def write_manifest(raw_dir: Path, manifest: dict[str, Any]) -> None:
    write_json_atomic(raw_dir / MANIFEST_NAME, manifest)


def files_intact(folder: Path, files: dict[str, dict[str, Any]]) -> bool:
    """True when every listed file exists in ``folder`` with its recorded checksum."""
    for name, info in files.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != info.get("sha256"):
            return False
    return True
