"""CBS tables of the Kerncijfers wijken en buurten (KWB): which table holds which year (the
catalogue), and downloading one table for one gemeente into the raw cache, as cbsodata
saves it.

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
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbsodata
import requests

from wijkkompas.errors import NotPublished, WijkkompasError
from wijkkompas.fetch.cbs_client import call_cbs, cbs_session
from wijkkompas.fetch.changes import TableChanges, compare_datasets, write_changes
from wijkkompas.manifest import files_intact
from wijkkompas.settings import Settings
from wijkkompas.storage import file_stamp, follow_umask, no_interrupt, now_stamp, sha256_file
from wijkkompas.tabular import shown

log = logging.getLogger(__name__)

#: Table ids as CBS publishes them; used when the catalogue does not list a year.
KNOWN_TABLES: dict[int, str] = {
    2015: "83220NED",
    2016: "83487NED",
    2017: "83765NED",
    2018: "84286NED",
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
}

TITLE = "Kerncijfers wijken en buurten"
_TITLE_RE = re.compile(r"^Kerncijfers wijken en buurten (\d{4})$", re.ASCII)


#: CBS's form of a table id: five digits and three letters (85984NED, 47018NED, 37230ned).
TABLE_ID_RE = re.compile(r"\d{5}[A-Za-z]{3}", re.ASCII)
#: The name of a collection in a table's service document (TypedDataSet, WijkenEnBuurten).
COLLECTION_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)


def checked_table_id(value: object, where: str) -> str:
    """``value`` as a CBS table id, or one Dutch line naming ``where`` it came from.

    A table id becomes a folder name in ``data/raw``; it is checked where it enters, so that
    an answer such as ``../../tmp/x`` never becomes a path.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not TABLE_ID_RE.fullmatch(text):
        raise WijkkompasError(
            f"{where} noemt als tabelnummer '{shown(value)}', geen CBS-tabelnummer (vijf cijfers "
            "en drie letters, zoals 85984NED). Er is niets opgehaald; controleer de instelling "
            "van de dienst (cbs_url of politie_url)."
        )
    return text


@dataclass(frozen=True)
class TableRef:
    jaar: int
    table_id: str
    bron: str  # "catalogus" or "ingebouwde lijst"

    def __post_init__(self) -> None:
        # The second line of defence: every ref, from wherever it came, names a table id.
        checked_table_id(self.table_id, f"de {self.bron}")


def catalogue_rows(settings: Settings, title: str, catalogue: str) -> list[dict] | None:
    """The tables of the catalogue at ``settings.cbs_url`` whose title contains ``title``
    (``catalogue`` names it in messages).

    A catalogue that cannot be reached raises; one that answers with an error or with an
    answer that cannot be read gives None, so that the caller uses its built-in ids.
    """
    with cbs_session(settings, catalogue) as (point, counter):
        def ask() -> list[dict]:
            return cbsodata.get_table_list(
                select=["Identifier", "Title", "Modified"],
                filters=f"substringof('{title}',Title)",
                catalog_url=point.catalog_url,
                **point.request_kwargs,
            )

        try:
            return call_cbs(ask, settings, f"de {catalogue}", counter)
        except WijkkompasError as exc:
            if isinstance(exc.__cause__, requests.ConnectionError | requests.Timeout):
                raise
            log.warning("%s niet bruikbaar (%s); de ingebouwde tabellijst wordt gebruikt.",
                        catalogue, exc)
            return None


def search_catalogue(settings: Settings) -> dict[int, str]:
    """Ask the CBS catalogue for the KWB tables; returns {year: table id}.

    A catalogue that cannot be reached raises; one that answers with an error or an
    answer that cannot be read gives an empty result, so the built-in list is used.
    """
    rows = catalogue_rows(settings, TITLE, "CBS-catalogus")
    if rows is None:
        return {}
    found: dict[int, str] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        match = _TITLE_RE.match(str(row.get("Title", "")).strip())
        if match:
            found[int(match.group(1))] = checked_table_id(
                row.get("Identifier"), f"De CBS-catalogus ({settings.cbs_url}) bij "
                f"'{TITLE} {match.group(1)}'")
    return found


def find_tables(years: list[int], settings: Settings,
                unknown: list[tuple[int, NotPublished]] | None = None) -> list[TableRef]:
    """The KWB table of each year: from the catalogue, else from the built-in list.

    A year neither holds raises :class:`NotPublished`; with ``unknown`` it is added there
    (with its error) and the other years are still found."""
    catalogue = search_catalogue(settings)
    refs = []
    for year in years:
        if year in catalogue:
            refs.append(TableRef(year, catalogue[year], "catalogus"))
        elif year in KNOWN_TABLES:
            refs.append(TableRef(year, KNOWN_TABLES[year], "ingebouwde lijst"))
        else:
            known = sorted(set(catalogue) | set(KNOWN_TABLES))
            error = NotPublished(
                f"Geen CBS-tabel '{TITLE} {year}' gevonden, niet in de catalogus en niet in de "
                f"ingebouwde lijst. Beschikbare jaren: {known[0]}-{known[-1]}; kies die met "
                "--jaren."
            )
            if unknown is None:
                raise error
            unknown.append((year, error))
    return refs

DATASET = "TypedDataSet.json"
REGION_KEY = "WijkenEnBuurten"


@dataclass(frozen=True)
class TableSource:
    """Where a CBS-style table is cached and what is asked of it.

    The default is a KWB table. Other tables in the same OData format (the Politie's
    47018NED on CBS's dataderden host) give their own folder, filter and dimensions.
    """

    folder: str = "cbs"
    label: str = "CBS"
    kind: str = "tabel Kerncijfers wijken en buurten"
    what: str = ""  # how messages name the table; default "tabel <id> (<jaar>)"
    filters: str = ""  # OData $filter; default: the gemeente's regions
    dimensions: tuple[str, ...] = ("WijkenEnBuurten",)  # what identifies a row
    manifest: dict[str, Any] = field(default_factory=dict)  # extra fields of its entry


@dataclass
class FetchResult:
    ref: TableRef
    status: str  # "opgehaald", "ververst", "actueel"
    rows: int
    manifest_entry: dict[str, Any]
    changes: TableChanges | None = None
    archived: Path | None = None


#: Nederland's region code in the KWB tables.
NATIONAL = "NL00"


def gemeente_codes(gemeente: str) -> list[str]:
    """The codes of a gemeente key: one code, or several joined by commas
    ('GM0141,GM0153'), as the manifest records what one fetch holds."""
    return [code for code in gemeente.split(",") if code]


def gemeente_filter(gemeente: str, national: bool = False) -> str:
    """ONE OData filter for every gemeente of ``gemeente`` (one code, or several joined by
    commas), their wijken and their buurten: one request per table, however many gemeenten.

    CBS pads region keys to ten characters ('GM0141    '); wijk and buurt codes start with
    WK or BU followed by the four digits of the gemeente, which ``substringof`` finds.
    ``national`` adds Nederland's row (NL00), the reference beside every wijk and gemeente.
    """
    parts = [f"({REGION_KEY} eq '{NATIONAL:<10}')"] if national else []
    for code in gemeente_codes(gemeente):
        digits = code[2:]
        parts.append(f"({REGION_KEY} eq '{code:<10}') or substringof('WK{digits}',{REGION_KEY}) "
                     f"or substringof('BU{digits}',{REGION_KEY})")
    return " or ".join(parts)


def national_filter(gemeente: str) -> str:
    """The filter of :func:`gemeente_filter` (the gemeenten, their wijken and buurten, and
    Nederland) and also every gemeente and wijk of the country: the rows the vergelijkbare
    wijken are found among (``vergelijk_landelijk``), still one request per table."""
    return (f"{gemeente_filter(gemeente, national=True)} or substringof('GM',{REGION_KEY}) "
            f"or substringof('WK',{REGION_KEY})")


def is_cached(entry: dict[str, Any] | None, raw_dir: Path, gemeente: str,
              folder: str = "cbs", landelijk: bool = False) -> bool:
    """The cache holds the table for ``gemeente`` (with the rows of the whole country when
    ``landelijk`` asks for them) and its files are whole."""
    if not entry or entry.get("gemeente") != gemeente:
        return False
    if landelijk and not entry.get("landelijk"):
        return False
    return files_intact(raw_dir / folder / entry["table_id"], entry.get("files", {}))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_download(staging: Path, what: str, gemeente: str,
                    kind: str = "tabel Kerncijfers wijken en buurten") -> list[dict[str, Any]]:
    """Check the staged download: the dataset is there and holds the gemeente's own row."""
    dataset_path = staging / DATASET
    if not dataset_path.is_file():
        raise WijkkompasError(
            f"CBS-{what} heeft geen TypedDataSet; is het wel een {kind}?"
        )
    rows = _load(dataset_path)
    codes = {str(row.get(REGION_KEY, "")).strip() for row in rows}
    absent = [code for code in gemeente_codes(gemeente) if code not in codes]
    if absent:
        raise WijkkompasError(
            f"Gemeentecode {', '.join(absent)} komt niet voor in CBS-{what}. "
            "Controleer de code (bijvoorbeeld GM0141 voor Almelo) en of de gemeente in dat jaar "
            "bestond."
        )
    return rows


def _save_collections(collections: object, staging: Path, what: str) -> None:
    """Write each collection of a downloaded table as ``<name>.json``, as cbsodata would,
    once every name is a plain collection name: a name from the answer never climbs out
    of the staging folder."""
    if not isinstance(collections, dict):
        raise WijkkompasError(f"{what} gaf een onleesbaar antwoord (geen lijst van "
                              "collecties). Probeer het later opnieuw.")
    bad = [name for name in collections
           if not (isinstance(name, str) and COLLECTION_RE.fullmatch(name))]
    if bad:
        raise WijkkompasError(
            f"{what} noemt een collectie '{shown(bad[0])}', geen geldige naam (letters, cijfers "
            "en _). Er is niets opgeslagen; controleer cbs_url of politie_url."
        )
    for name, value in collections.items():
        with open(staging / f"{name}.json", "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2)


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
    source: TableSource | None = None,
    store: Callable[[dict[str, Any]], None] | None = None,
) -> FetchResult:
    """Fetch one table unless the cache already holds it; with ``refresh`` always fetch.

    ``source`` says where the table lives and what to ask of it; the default is a KWB
    table: ``data/raw/cbs``, the gemeente's regions, every column. ``store`` records the new
    manifest entry; it is called right after the table is put in place, with Ctrl-C held
    back, so that the table and its entry are stored together.
    """
    source = source or TableSource()
    if not refresh and is_cached(previous, raw_dir, gemeente, source.folder,
                                 bool(source.manifest.get("landelijk"))):
        assert previous is not None
        rows = previous["files"][DATASET]["rows"]
        return FetchResult(ref, "actueel", rows, previous)

    target = raw_dir / source.folder / ref.table_id
    staging_root = raw_dir / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{ref.table_id}-", dir=staging_root))
    follow_umask(staging)
    try:
        def download() -> dict[str, Any]:
            # Nothing is saved by cbsodata itself: it would name each file after a
            # collection name from the table's answer. The names are checked first (below).
            return cbsodata.download_data(
                ref.table_id,
                dir=None,
                # cbsodata 1.3 gives the TypedDataSet when typed is False (it removes the
                # named set from its list); the typed set has numbers and null for missing.
                typed=False,
                filters=source.filters or gemeente_filter(gemeente, national=True),
                catalog_url=point.catalog_url,
                **point.request_kwargs,
            )

        what = source.what or f"tabel {ref.table_id} ({ref.jaar})"
        bar = (f"{source.label} {ref.table_id}" if source.what
               else f"CBS {ref.table_id} ({ref.jaar})")
        with cbs_session(settings, bar) as (point, counter):
            collections = call_cbs(download, settings, what, counter)
        _save_collections(collections, staging, f"CBS-{what}")
        rows = _check_download(staging, what, gemeente, source.kind)
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
            **source.manifest,
        }

        changes = None
        archived = None
        old_dataset = target / DATASET
        if old_dataset.is_file():
            changes = compare_datasets(_load(old_dataset), rows, ref.table_id,
                                       source.dimensions)
        with no_interrupt():
            if target.exists():
                old_stamp = (previous or {}).get("fetched_at") or now_stamp()
                archived = (raw_dir / "archive" / source.folder / ref.table_id
                            / file_stamp(old_stamp))
                archived.parent.mkdir(parents=True, exist_ok=True)
                if archived.exists():
                    shutil.rmtree(archived)
                os.replace(target, archived)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging, target)
            if store is not None:
                store(entry)
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
