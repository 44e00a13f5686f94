"""The fetch stage: KWB tables from CBS, registered crime (Politie 47018NED) from CBS's
dataderden host and boundaries from PDOK into ``data/raw``.

A second run with a current cache makes no request at all: the manifest tells which
table holds each year, and the files are checked against their recorded checksums.

Boundaries of a year in ``grenzen_jaren`` come from PDOK's per-year service; those of
every other year from PDOK's historical service (``pdok_historisch_pad``), unless the
buurt boundaries of that year were imported (``wijkkompas import``) or the historical
service is switched off (``pdok_historisch_pad = ""``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.cbs import (
    FetchResult,
    TableRef,
    TableSource,
    fetch_table,
    find_tables,
    national_filter,
)
from wijkkompas.fetch.cbs import is_cached as table_cached
from wijkkompas.fetch.kaart_import import GEO_SUFFIXES
from wijkkompas.fetch.pdok import LAYERS, SOURCE_NAME, GeoResult, fetch_boundaries
from wijkkompas.fetch.pdok_collections import historical_layers
from wijkkompas.fetch.politie import fetch_politie
from wijkkompas.manifest import read_manifest, write_manifest
from wijkkompas.settings import Settings, check_gemeente, parse_years


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
            source = g.manifest_entry.get("grenzenbron", SOURCE_NAME)
            out.append(f"PDOK wijk- en buurtkaart {g.jaar}: {g.status}, {counts} "
                       f"(bron: {source})")
        return out


def imported_boundary_years(manifest: dict) -> dict[int, str]:
    """Years whose buurt boundaries were imported (``wijkkompas import``), with the file."""
    found = {}
    for entry in manifest["kaart"].values():
        if (entry.get("niveau") == "buurt"
                and Path(entry["bestand"]).suffix.lower() in GEO_SUFFIXES):
            found[int(entry["jaar"])] = entry["bestand"]
    return found


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
    gemeente: str | Sequence[str],
    years: list[int],
    *,
    refresh: bool = False,
    say: Callable[[str], None] = print,
) -> FetchReport:
    """Fetch every year's KWB table and boundaries that the cache does not hold yet.

    ``gemeente``: one code or several; several are fetched with ONE request per CBS table
    (one filter with every code) and recorded as one entry whose ``gemeente`` lists them
    ("GM0141,GM0153").
    """
    codes = [gemeente] if isinstance(gemeente, str) else list(gemeente)
    gemeente = ",".join(check_gemeente(code) for code in codes)
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(raw_dir)
    report = FetchReport()

    refs = {} if refresh else _cached_refs(years, manifest, raw_dir, gemeente)
    missing = [year for year in years if year not in refs]
    if missing:
        refs.update({ref.jaar: ref for ref in find_tables(missing, settings)})

    # The wijken of the whole country too (vergelijkbare wijken), in the same request.
    national = (TableSource(filters=national_filter(gemeente), manifest={"landelijk": True})
                if settings.vergelijk_landelijk else None)
    per_year = set(parse_years(settings.grenzen_jaren))
    imported = imported_boundary_years(manifest)
    historisch = bool(settings.pdok_historisch_pad.strip("/ "))
    boundary_years = [y for y in years if y in per_year or (historisch and y not in imported)]
    todo = ([f"CBS {y}" for y in years] + ["Politie"]
            + [f"grenzen {y}" for y in boundary_years])
    done: list[str] = []

    def store(section: str, key: str) -> Callable[[dict], None]:
        def put(entry: dict) -> None:
            manifest.setdefault(section, {})[key] = entry
            write_manifest(raw_dir, manifest)
        return put

    try:
        for year in years:
            ref = refs[year]
            result = fetch_table(ref, gemeente, raw_dir, settings,
                                 manifest["cbs"].get(ref.table_id), refresh=refresh,
                                 store=store("cbs", ref.table_id), source=national)
            report.tables.append(result)
            done.append(f"CBS {year}")
            say(report.lines()[-1])

        report.politie = fetch_politie(gemeente, raw_dir, settings, manifest, refresh=refresh,
                                       store=store)
        done.append("Politie")
        say(report.lines()[-1])

        for year in years:
            if year in imported and year not in per_year:
                say(f"Grenzen {year}: uit de import ({imported[year]}), niet opgehaald.")
        left = [y for y in years if y not in boundary_years and y not in imported]
        if left:
            say(f"Geen grenzen opgehaald voor {', '.join(map(str, left))}: niet in "
                f"grenzen_jaren ({settings.grenzen_jaren}) en de historische dienst staat uit "
                "(pdok_historisch_pad); importeer de wijk- en buurtkaart van die jaren.")
        for year in boundary_years:
            source = None if year in per_year else historical_layers(settings, year, gemeente)
            result = fetch_boundaries(year, gemeente, raw_dir, settings,
                                      manifest["geo"].get(str(year)), refresh=refresh,
                                      source=source, store=store("geo", str(year)))
            report.boundaries.append(result)
            done.append(f"grenzen {year}")
            say(report.lines()[-1])
    except WijkkompasError as exc:
        if len(todo) < 2:
            raise
        raise WijkkompasError(f"{exc} {_progress(done, todo, refresh)}") from exc
    return report


def _progress(done: list[str], todo: list[str], refresh: bool) -> str:
    """Which parts of a multi-year fetch are in the cache and which are not."""
    left = [item for item in todo if item not in done]
    stored = ", ".join(done) if done else "niets"
    again = ("Draai dezelfde opdracht opnieuw om alles te verversen." if refresh
             else "Draai dezelfde opdracht opnieuw: hij gaat verder waar hij stopte.")
    return f"Wel in de cache: {stored}; niet: {', '.join(left)}. {again}"
