"""Registered crime per wijk and buurt: the Politie's table 47018NED on CBS's dataderden host.

"Geregistreerde misdrijven; soort misdrijf, wijk, buurt, jaarcijfers" is published for the
Politie in CBS's *dataderden* catalogue, with the same OData v3 paths as CBS's own tables,
so the real ``cbsodata`` client fetches it like a KWB table (``fetch/cbs.py``), pointed at
the setting ``politie_url``. Only the gemeente's regions and the crime types of
``wijkkompas/data/misdrijven.csv`` are asked for; every period comes along.

Layout under ``data/raw``::

    politie/<TableId>/TableInfos.json, DataProperties.json, SoortMisdrijf.json,
                      WijkenEnBuurten.json, Perioden.json, CategoryGroups.json,
                      TypedDataSet.json (the gemeente's rows of the chosen crime types)
    archive/politie/<TableId>/<fetch time>/   the version a ``--refresh`` replaced
    changes/<fetch time>_<TableId>.csv        what that refresh changed

The manifest keeps the entry under ``politie``, with the filter it was fetched with: a
changed list of crime types fetches the table again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from wijkkompas.catalogue import crime_codes, politie_indeling
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.cbs import (
    REGION_KEY,
    FetchResult,
    TableRef,
    TableSource,
    catalogue_rows,
    checked_table_id,
    fetch_table,
    gemeente_filter,
    is_cached,
)
from wijkkompas.settings import Settings

TABLE_ID = "47018NED"
TITLE = "Geregistreerde misdrijven; soort misdrijf, wijk, buurt, jaarcijfers"
CRIME_KEY = "SoortMisdrijf"
FOLDER = "politie"


def at_politie(settings: Settings) -> Settings:
    """The settings with the CBS endpoint replaced by the dataderden endpoint."""
    return settings.model_copy(update={"cbs_url": settings.politie_url})


def _politie_message(exc: WijkkompasError) -> WijkkompasError:
    """The CBS client's message, naming the Politie setting instead of the CBS one."""
    text = str(exc).replace("WIJKKOMPAS_CBS_URL", "WIJKKOMPAS_POLITIE_URL")
    if text.startswith("CBS "):
        text = "CBS-dataderden " + text[len("CBS "):]
    return WijkkompasError(text, exc.detail)


def crime_filter(gemeente: str, codes: list[str] | None = None) -> str:
    """The OData filter: the gemeente's regions and the crime types, keys padded to 6."""
    codes = crime_codes() if codes is None else codes
    kinds = " or ".join(f"({CRIME_KEY} eq '{code:<6}')" for code in codes)
    return f"({gemeente_filter(gemeente)}) and ({kinds})"


def find_table(settings: Settings) -> TableRef:
    """47018NED's current id from the dataderden catalogue by its title; else the known id.

    A catalogue that cannot be reached raises; one that answers with an error, or lists no
    table of that title, leaves the known id. A catalogue that lists the title more than once
    gives the id of the row modified last (its ``Modified``), never an older table.
    """
    try:
        rows = catalogue_rows(at_politie(settings), TITLE, "CBS-dataderden-catalogus") or []
    except WijkkompasError as exc:
        raise _politie_message(exc) from exc.__cause__
    # The id becomes a folder name: it is checked as it enters, and refused if it is not
    # CBS's form (five digits, three letters).
    where = f"De CBS-dataderden-catalogus ({settings.politie_url}) bij '{TITLE}'"
    found = sorted((str(r.get("Modified") or ""), checked_table_id(r.get("Identifier"), where))
                   for r in rows if isinstance(r, dict)
                   and str(r.get("Title", "")).strip() == TITLE)
    if found:
        return TableRef(0, found[-1][1], "catalogus")
    return TableRef(0, TABLE_ID, "ingebouwde lijst")


def fetch_politie(
    gemeente: str,
    raw_dir: Path,
    settings: Settings,
    manifest: dict[str, Any],
    *,
    refresh: bool = False,
    store: Callable[[str, str], Callable[[dict[str, Any]], None]] | None = None,
) -> FetchResult:
    """Fetch 47018NED for the gemeente into ``data/raw/politie`` unless the cache holds it.

    Updates ``manifest["politie"]``; ``store(section, key)`` gives the function that records
    the entry together with the stored table (see ``fetch_table``), else the caller writes
    the manifest.
    """
    section = manifest.setdefault(FOLDER, {})
    filters = crime_filter(gemeente)
    if not refresh:
        for entry in section.values():
            if (entry.get("filter") == filters
                    and is_cached(entry, raw_dir, gemeente, FOLDER)):
                ref = TableRef(0, entry["table_id"], entry["gevonden_via"])
                return FetchResult(ref, "actueel", entry["files"]["TypedDataSet.json"]["rows"],
                                   entry)
    ref = find_table(settings)
    source = TableSource(
        folder=FOLDER, label="Politie", kind=f"tabel '{TITLE}'",
        what=f"tabel {ref.table_id} (Politie, geregistreerde misdrijven)",
        filters=filters, dimensions=(REGION_KEY, CRIME_KEY, "Perioden"),
        manifest={"filter": filters, "titel": TITLE, "bron": settings.politie_url},
    )
    record = store(FOLDER, ref.table_id) if store is not None else None

    def put(entry: dict[str, Any]) -> None:
        entry.pop("jaar", None)  # the table holds every year
        section[ref.table_id] = entry
        if record is not None:
            record(entry)

    try:
        return fetch_table(ref, gemeente, raw_dir, at_politie(settings),
                           section.get(ref.table_id), refresh=True, source=source, store=put)
    except WijkkompasError as exc:
        raise _politie_message(exc) from exc.__cause__


def cached_indeling(raw_dir: Path, entry: dict[str, Any]) -> int | None:
    """The buurt indeling of a fetched 47018NED (None when its metadata do not say)."""
    import json

    folder = raw_dir / FOLDER / str(entry.get("table_id", ""))
    try:
        props = json.loads((folder / "DataProperties.json").read_text(encoding="utf-8"))
        infos_path = folder / "TableInfos.json"
        infos = (json.loads(infos_path.read_text(encoding="utf-8"))
                 if infos_path.is_file() else [])
        return politie_indeling(props, infos, folder)
    except (OSError, ValueError, WijkkompasError):
        return None
