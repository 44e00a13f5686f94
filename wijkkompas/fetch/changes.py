"""What changed in a KWB table between the cached version and a fresh download.

CBS delivers each year's figures in several moments, so a refresh mostly fills values that
were empty ("toegevoegd"); sometimes a value is corrected ("gewijzigd") or withdrawn
("verwijderd"). Values are compared per region (``WijkenEnBuurten``) and variable.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wijkkompas.storage import write_bytes_atomic

IGNORED = {"ID", "WijkenEnBuurten"}


@dataclass
class Change:
    gebiedscode: str
    variabele: str
    oud: Any
    nieuw: Any

    @property
    def soort(self) -> str:
        if self.oud is None:
            return "toegevoegd"
        if self.nieuw is None:
            return "verwijderd"
        return "gewijzigd"


@dataclass
class TableChanges:
    table_id: str
    changes: list[Change] = field(default_factory=list)
    new_regions: list[str] = field(default_factory=list)
    gone_regions: list[str] = field(default_factory=list)
    previous_modified: str | None = None
    modified: str | None = None
    path: Path | None = None

    def count(self, soort: str) -> int:
        return sum(1 for change in self.changes if change.soort == soort)

    def summary(self) -> str:
        parts = [
            f"{self.count('toegevoegd')} waarden toegevoegd",
            f"{self.count('gewijzigd')} gewijzigd",
            f"{self.count('verwijderd')} verwijderd",
        ]
        if self.new_regions:
            parts.append(f"{len(self.new_regions)} nieuwe gebieden")
        if self.gone_regions:
            parts.append(f"{len(self.gone_regions)} gebieden verdwenen")
        return ", ".join(parts)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _by_key(rows: list[dict[str, Any]],
            dimensions: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(str(row.get(d, "")).strip() for d in dimensions): row for row in rows}


def compare_datasets(
    old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]], table_id: str,
    dimensions: tuple[str, ...] = ("WijkenEnBuurten",),
) -> TableChanges:
    """Every value that differs between two versions of a table's TypedDataSet.

    A row is identified by its ``dimensions``, the region first. In a table with more
    dimensions than the region (47018NED: crime type and period) the variable is named
    with the other dimensions' keys, for example ``GeregistreerdeMisdrijven_1 [1.1.1 2023JJ00]``.
    """
    old, new = _by_key(old_rows, dimensions), _by_key(new_rows, dimensions)
    ignored = IGNORED | set(dimensions)
    result = TableChanges(table_id)
    old_regions = {key[0] for key in old}
    new_regions = {key[0] for key in new}
    result.new_regions = sorted(new_regions - old_regions)
    result.gone_regions = sorted(old_regions - new_regions)
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, {}), new.get(key, {})
        rest = f" [{' '.join(key[1:])}]" if len(key) > 1 else ""
        for name in sorted((set(before) | set(after)) - ignored):
            a, b = _clean(before.get(name)), _clean(after.get(name))
            if a != b:
                result.changes.append(Change(key[0], name + rest, a, b))
    return result


def write_changes(changes: TableChanges, folder: Path, stamp: str) -> Path:
    """Write the changes as CSV (``<stamp>_<TableId>.csv``), atomically; returns the path."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tabel", "gebiedscode", "variabele", "soort", "oud", "nieuw"])
    for change in changes.changes:
        writer.writerow([changes.table_id, change.gebiedscode, change.variabele, change.soort,
                         "" if change.oud is None else change.oud,
                         "" if change.nieuw is None else change.nieuw])
    path = folder / f"{stamp}_{changes.table_id}.csv"
    write_bytes_atomic(path, buffer.getvalue().encode("utf-8"))
    return path
