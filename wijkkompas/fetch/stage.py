"""The fetch stage: KWB tables from CBS, registered crime (Politie 47018NED) from CBS's
dataderden host and boundaries from PDOK into ``data/raw``.

A second run with a current cache makes no request at all: the manifest tells which
table holds each year, and the files are checked against their recorded checksums.

Boundaries of a year in ``grenzen_jaren`` come from PDOK's per-year service; those of
every other year from PDOK's CBS Gebiedsindelingen (``pdok_gebiedsindelingen_pad``, for
1995-2015 ``pdok_gebiedsindelingen_historisch_pad``), else from PDOK's historical wijk- en
buurtkaart service (``pdok_historisch_pad``), unless the buurt boundaries of that year were
imported (``wijkkompas import``). A route set to "" is switched off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wijkkompas.errors import NotPublished, WijkkompasError, capped
from wijkkompas.fetch.cbs import (
    FetchResult,
    TableRef,
    TableSource,
    fetch_table,
    find_tables,
    national_filter,
)
from wijkkompas.fetch.cbs import is_cached as table_cached
from wijkkompas.fetch.gebiedsindelingen import gebiedsindelingen_layers
from wijkkompas.fetch.http import PagingError, is_transient, status_of
from wijkkompas.fetch.kaart_import import GEO_SUFFIXES
from wijkkompas.fetch.pdok import (
    LAYERS,
    SOURCE_NAME,
    GeoResult,
    LayerSource,
    fetch_boundaries,
    gebiedsindelingen_path,
)
from wijkkompas.fetch.pdok_collections import historical_layers
from wijkkompas.fetch.politie import cached_indeling, fetch_politie
from wijkkompas.manifest import read_manifest, write_manifest
from wijkkompas.settings import Settings, check_gemeente, parse_years


@dataclass(frozen=True)
class Missing:
    """A part of a fetch that the services do not hold (yet): what, why, how to fill it."""

    what: str  # "CBS 2021", "Politie", "grenzen 2019"
    reason: str  # the service's answer, as one Dutch line
    fill: str  # the command(s) that fill it


@dataclass
class FetchReport:
    tables: list[FetchResult] = field(default_factory=list)
    boundaries: list[GeoResult] = field(default_factory=list)
    politie: FetchResult | None = None
    missing: list[Missing] = field(default_factory=list)

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


def permanent(exc: WijkkompasError) -> bool:
    """A miss that fetching again soon will not mend: :class:`NotPublished`, or an HTTP 404
    behind the error. Timeouts, connection errors and 5xx after the retries are not."""
    if isinstance(exc, NotPublished):
        return True
    cause = exc.__cause__
    return cause is not None and status_of(cause) == 404


def _transient(exc: WijkkompasError) -> bool:
    cause = exc.__cause__
    return cause is not None and (is_transient(cause) or isinstance(cause, PagingError))


def run_fetch(
    raw_dir: Path,
    settings: Settings,
    gemeente: str | Sequence[str],
    years: list[int],
    *,
    refresh: bool = False,
    keep_going: bool = False,
    say: Callable[[str], None] = print,
) -> FetchReport:
    """Fetch every year's KWB table and boundaries that the cache does not hold yet.

    ``gemeente``: one code or several; several are fetched with ONE request per CBS table
    (one filter with every code) and recorded as one entry whose ``gemeente`` lists them
    ("GM0141,GM0153").

    Each source and year is fetched on its own. With ``keep_going`` (``wijkkompas run``) a
    permanent miss (:func:`permanent`: a year not in the catalogue, HTTP 404, a boundary
    year no service holds) is recorded in ``report.missing`` and the rest is fetched; without
    it, it stops the fetch as any other error. A transient fault always stops the fetch;
    a rerun goes on where it stopped.
    """
    codes = [gemeente] if isinstance(gemeente, str) else list(gemeente)
    gemeente = ",".join(check_gemeente(code) for code in codes)
    raw_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(raw_dir)
    report = FetchReport()
    data = raw_dir.parent

    refs = {} if refresh else _cached_refs(years, manifest, raw_dir, gemeente)
    wanted = [year for year in years if year not in refs]
    if wanted:
        unknown: list[tuple[int, NotPublished]] = []
        refs.update({ref.jaar: ref for ref in find_tables(
            wanted, settings, unknown if keep_going else None)})
        for year, error in unknown:
            report.missing.append(Missing(f"CBS {year}", str(error), _fill_cbs(year, data)))

    # The wijken of the whole country too (vergelijkbare wijken), in the same request.
    national = (TableSource(filters=national_filter(gemeente), manifest={"landelijk": True})
                if settings.vergelijk_landelijk else None)
    per_year = set(parse_years(settings.grenzen_jaren))
    imported = imported_boundary_years(manifest)
    todo = ([f"CBS {y}" for y in years] + ["Politie"]
            + [f"grenzen {y}" for y in years if y not in imported or y in per_year])
    done: list[str] = []

    def store(section: str, key: str) -> Callable[[dict], None]:
        def put(entry: dict) -> None:
            manifest.setdefault(section, {})[key] = entry
            write_manifest(raw_dir, manifest)
        return put

    def missed(what: str, exc: WijkkompasError, fill: str) -> None:
        if not (keep_going and permanent(exc)):
            raise exc
        report.missing.append(Missing(what, str(exc), fill))
        done.append(what)
        say(f"{what}: ontbreekt ({exc})")

    try:
        for year in years:
            if year not in refs:
                done.append(f"CBS {year}")
                continue
            ref = refs[year]
            try:
                result = fetch_table(ref, gemeente, raw_dir, settings,
                                     manifest["cbs"].get(ref.table_id), refresh=refresh,
                                     store=store("cbs", ref.table_id), source=national)
            except WijkkompasError as exc:
                missed(f"CBS {year}", exc, _fill_cbs(year, data))
                continue
            report.tables.append(result)
            done.append(f"CBS {year}")
            say(report.lines()[-1])

        try:
            report.politie = fetch_politie(gemeente, raw_dir, settings, manifest,
                                           refresh=refresh, store=store)
            done.append("Politie")
            say(report.lines()[-1])
        except WijkkompasError as exc:
            missed("Politie", exc, f"later opnieuw 'wijkkompas fetch --data-dir {data}'")

        have = {t.ref.jaar for t in report.tables}
        for year in years:
            if year in imported and year not in per_year:
                say(f"Grenzen {year}: uit de import ({imported[year]}), niet opgehaald.")
        boundary_years = [y for y in years if y in per_year or y not in imported]
        # The Politie table gives every year in its own (newest) buurt indeling: the build
        # links its counts to inhabitants of the same buurten, which the boundaries of that
        # indeling show (the same boundaries as a fetched year's, or not).
        politie_year = (cached_indeling(raw_dir, report.politie.manifest_entry)
                        if report.politie is not None else None)
        if (politie_year is not None and politie_year not in years
                and politie_year in per_year and years and politie_year > max(years)):
            say(f"Grenzen {politie_year}: ook opgehaald, voor de misdrijven per 1.000 inwoners "
                f"(de Politie-tabel staat in de buurtindeling van {politie_year}).")
            boundary_years.append(politie_year)
            have.add(politie_year)
            todo.append(f"grenzen {politie_year}")
        left = [y for y in boundary_years
                if y not in per_year and not _routes(settings, y, gemeente)]
        if left:
            say(f"Geen grenzen opgehaald voor {', '.join(map(str, left))}: niet in "
                f"grenzen_jaren ({settings.grenzen_jaren}) en de andere PDOK-diensten staan "
                "uit (pdok_gebiedsindelingen_pad, pdok_historisch_pad); importeer de wijk- "
                "en buurtkaart van die jaren.")
            done.extend(f"grenzen {y}" for y in left)
        boundary_years = [y for y in boundary_years if y not in left]
        for year in boundary_years:
            if keep_going and year not in have:
                done.append(f"grenzen {year}")  # no figures of that year: nothing to map
                continue
            try:
                result = _fetch_year_boundaries(year, gemeente, raw_dir, settings, manifest,
                                                per_year, refresh, store("geo", str(year)))
            except WijkkompasError as exc:
                missed(f"grenzen {year}", exc, _fill_geo(year, data))
                continue
            report.boundaries.append(result)
            done.append(f"grenzen {year}")
            say(report.lines()[-1])
    except WijkkompasError as exc:
        if len(todo) < 2:
            raise
        raise type(exc)(f"{exc} {_progress(done, todo, refresh)}", exc.detail) from exc
    return report


def _fetch_year_boundaries(year: int, gemeente: str, raw_dir: Path, settings: Settings,
                           manifest: dict, per_year: set[int], refresh: bool,
                           store: Callable[[dict], None]) -> GeoResult:
    """One year's boundaries by the first route that holds them: the per-year service
    (``grenzen_jaren``), PDOK Gebiedsindelingen, the historical wijken-en-buurten service
    when it answers with a layout we recognise. A route that does not hold the year
    (:class:`NotPublished`) passes it on; when none holds it, the first route's answer is
    raised with the others' after it. A transient fault stops at once."""
    previous = manifest["geo"].get(str(year))
    routes: list[tuple[str, LayerSource | None]] = []
    if year in per_year:
        routes.append(("PDOK per jaar", None))
    routes.extend(_routes(settings, year, gemeente))
    failed: list[str] = []
    for number, (name, source) in enumerate(routes, start=1):
        try:
            return fetch_boundaries(year, gemeente, raw_dir, settings, previous,
                                    refresh=refresh, source=source, store=store)
        except WijkkompasError as exc:
            last = number == len(routes)
            if _transient(exc) or not (isinstance(exc, NotPublished) or last):
                raise
            failed.append(str(exc) if not failed else f"{name}: {exc}")
            if not last:
                continue
            also = f" (Ook geprobeerd: {' '.join(failed[1:])})" if len(failed) > 1 else ""
            raise NotPublished(f"{failed[0]}{also}") from exc
    raise NotPublished(f"Geen PDOK-dienst voor de grenzen van {year} ingesteld.")


def _routes(settings: Settings, year: int, gemeente: str) -> list[tuple[str, LayerSource]]:
    """The routes switched on for a year outside ``grenzen_jaren``, in order."""
    routes: list[tuple[str, LayerSource]] = []
    if gebiedsindelingen_path(settings, year):
        routes.append(("PDOK Gebiedsindelingen",
                       gebiedsindelingen_layers(settings, year, gemeente)))
    if settings.pdok_historisch_pad.strip("/ "):
        routes.append(("de historische wijk- en buurtkaart",
                       historical_layers(settings, year, gemeente)))
    return routes


def _fill_cbs(year: int, data: Path) -> str:
    return (f"later opnieuw 'wijkkompas fetch --jaren {year} --data-dir {data}', of de wijk- en "
            f"buurtkaart van {year} importeren: 'wijkkompas import BESTAND --jaar {year} "
            f"--data-dir {data}'")


def _fill_geo(year: int, data: Path) -> str:
    return (f"de wijk- en buurtkaart van {year} (met grenzen) importeren: 'wijkkompas import "
            f"BESTAND --jaar {year} --data-dir {data}'")


def _progress(done: list[str], todo: list[str], refresh: bool) -> str:
    """Which parts of a multi-year fetch are in the cache and which are not."""
    left = [item for item in todo if item not in done]
    stored = capped(done, 4, ", ") if done else "niets"
    again = ("Draai hem opnieuw om alles te verversen." if refresh
             else "Dezelfde opdracht gaat later verder waar hij stopte.")
    return f"Opgehaald: {stored}; nog niet: {capped(left, 4, ', ')}. {again}"
