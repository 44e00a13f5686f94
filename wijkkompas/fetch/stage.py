"""The fetch stage: KWB tables from CBS, registered crime (Politie 47018NED) from CBS's
dataderden host and boundaries from PDOK into ``data/raw``.

A second run with a current cache makes no request at all: the manifest tells which
table holds each year, and the files are checked against their recorded checksums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wijkkompas.fetch.cbs import FetchResult, TableRef, fetch_table, find_tables
from wijkkompas.fetch.cbs import is_cached as table_cached
from wijkkompas.fetch.pdok import LAYERS, GeoResult, fetch_boundaries
from wijkkompas.fetch.politie import fetch_politie
from wijkkompas.settings import Settings, check_gemeente, parse_years
from wijkkompas.storage import read_manifest, write_manifest


@dataclass
class FetchReport:
    tables: list[FetchResult] = field(default_factory=list)
    boundaries: list[GeoResult] = field(default_factory=list)
    politie: FetchResult | None = None

    def lines(self) -> list[str]:
        out = []
        tables = [(t, f"CBS {t.ref.table_id} ({t.ref.jaar})") for t in self.tables]
        if self.politie is not None:
            tables.append((self.politie, f"Politie {self.politie.ref.table_id} (geregistreerde "
                                         "misdrijven)"))
        for t, name in tables:
            line = f"{name}: {t.status}, {t.rows} rijen"
            if t.changes is not None:
                line += f"; {t.changes.summary()}"
                if t.changes.path is not None:
                    line += f" (zie {t.changes.path})"
            out.append(line)
        for g in self.boundaries:
            counts = ", ".join(
                f"{g.counts[layer]} {layer}" for layer in LAYERS if layer in g.counts
            )
            out.append(f"PDOK wijk- en buurtkaart {g.jaar}: {g.status}, {counts}")
        return out


def _cached_refs(
    years: list[int], manifest: dict, raw_dir: Path, gemeente: str
) -> dict[int, TableRef]:
    refs = {}
    for entry in manifest["cbs"].values():
        if entry.get("jaar") in years and table_cached(entry, raw_dir, gemeente):
            refs[entry["jaar"]] = TableRef(entry["jaar"], entry["table_id"], entry["gevonden_via"])
    return refs


def run_fetch(
    raw_dir: Path,
    settings: Settings,
    gemeente: str,
    years: list[int],
    *,
    refresh: bool = False,
    say: Callable[[str], None] = print,
) -> FetchReport:
    """Fetch every year's KWB table and boundaries that the cache does not hold yet."""
    check_gemeente(gemeente)
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(raw_dir)
    report = FetchReport()

    refs = {} if refresh else _cached_refs(years, manifest, raw_dir, gemeente)
    missing = [year for year in years if year not in refs]
    if missing:
        refs.update({ref.jaar: ref for ref in find_tables(missing, settings)})

    for year in years:
        ref = refs[year]
        result = fetch_table(ref, gemeente, raw_dir, settings, manifest["cbs"].get(ref.table_id),
                             refresh=refresh)
        if result.status != "actueel":
            manifest["cbs"][ref.table_id] = result.manifest_entry
            write_manifest(raw_dir, manifest)
        report.tables.append(result)
        say(report.lines()[-1])

    report.politie = fetch_politie(gemeente, raw_dir, settings, manifest, refresh=refresh)
    if report.politie.status != "actueel":
        write_manifest(raw_dir, manifest)
    say(report.lines()[-1])

    boundary_years = [y for y in years if y in set(parse_years(settings.grenzen_jaren))]
    if not boundary_years:
        say(f"Geen grenzen opgehaald: geen van de jaren valt in grenzen_jaren "
            f"({settings.grenzen_jaren}); importeer de wijk- en buurtkaart van die jaren.")
    for year in boundary_years:
        result = fetch_boundaries(year, gemeente, raw_dir, settings,
                                  manifest["geo"].get(str(year)), refresh=refresh)
        if result.status != "actueel":
            manifest["geo"][str(year)] = result.manifest_entry
            write_manifest(raw_dir, manifest)
        report.boundaries.append(result)
        say(report.lines()[-1])
    return report
