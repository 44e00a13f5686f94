"""Which CBS table holds the Kerncijfers wijken en buurten (KWB) of which year."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import cbsodata
import requests

from wijkkompas.cbs_client import call_cbs, cbs_session
from wijkkompas.errors import WijkkompasError
from wijkkompas.settings import Settings

log = logging.getLogger(__name__)

#: Table ids as CBS publishes them; used when the catalogue does not list a year.
KNOWN_TABLES: dict[int, str] = {
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
_TITLE_RE = re.compile(r"^Kerncijfers wijken en buurten (\d{4})$")


@dataclass(frozen=True)
class TableRef:
    jaar: int
    table_id: str
    bron: str  # "catalogus" or "ingebouwde lijst"


def search_catalogue(settings: Settings) -> dict[int, str]:
    """Ask the CBS catalogue for the KWB tables; returns {year: table id}.

    A catalogue that cannot be reached raises; one that answers with an error or an
    answer that cannot be read gives an empty result, so the built-in list is used.
    """
    with cbs_session(settings, "CBS-catalogus") as (point, counter):
        def ask() -> list[dict]:
            return cbsodata.get_table_list(
                select=["Identifier", "Title", "Modified"],
                filters=f"substringof('{TITLE}',Title)",
                catalog_url=point.catalog_url,
                **point.request_kwargs,
            )

        try:
            rows = call_cbs(ask, settings, "het zoeken in de CBS-catalogus", counter)
        except WijkkompasError as exc:
            cause = exc.__cause__
            if isinstance(cause, requests.ConnectionError | requests.Timeout):
                raise
            log.warning("CBS-catalogus niet bruikbaar (%s); de ingebouwde tabellijst wordt "
                        "gebruikt.", exc)
            return {}
    found: dict[int, str] = {}
    for row in rows:
        match = _TITLE_RE.match(str(row.get("Title", "")).strip())
        if match and row.get("Identifier"):
            found[int(match.group(1))] = str(row["Identifier"]).strip()
    return found


def find_tables(years: list[int], settings: Settings) -> list[TableRef]:
    """The KWB table of each year: from the catalogue, else from the built-in list."""
    catalogue = search_catalogue(settings)
    refs = []
    for year in years:
        if year in catalogue:
            refs.append(TableRef(year, catalogue[year], "catalogus"))
        elif year in KNOWN_TABLES:
            refs.append(TableRef(year, KNOWN_TABLES[year], "ingebouwde lijst"))
        else:
            known = sorted(set(catalogue) | set(KNOWN_TABLES))
            raise WijkkompasError(
                f"Geen CBS-tabel '{TITLE} {year}' gevonden, niet in de catalogus en niet in de "
                f"ingebouwde lijst. Beschikbare jaren: {known[0]}-{known[-1]}; kies die met "
                "--jaren."
            )
    return refs
