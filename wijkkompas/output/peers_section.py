"""The section "Vergelijkbare wijken" of a wijk page and of notebook 03: the wijk's peers
by name and gemeente, and per scored indicator where the wijk stands among them
("hoger dan 8 van de 10 vergelijkbare wijken"), the peers' median beside the values of the
wijk, the gemeente and Nederland.

Reads what the build wrote (``kompas.peers.read_peers``); nothing is searched again. The
page renders it with its own partial, ``templates/peers_section.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from wijkkompas.kompas.peers import read_peers
from wijkkompas.kompas.results import Processed
from wijkkompas.output.profile import (
    NEDERLAND,
    RICHTING,
    indicator_label,
    shared_reference_values,
)
from wijkkompas.web.numbers import nl_number

TITLE = "Vergelijkbare wijken"
NO_FIGURE = "geen data"
CLASS_NAMES = {1: "zeer sterk stedelijk", 2: "sterk stedelijk", 3: "matig stedelijk",
               4: "weinig stedelijk", 5: "niet stedelijk"}


@dataclass
class PeersView:
    """What the section shows: a sentence on how the peers were found (or why there are
    none), the peers, and the position per scored indicator (both in Dutch, ready to show;
    empty frames when there are no peers), and which scored indicators have no figure for
    the wijk."""

    note: str
    peers: pd.DataFrame
    positions: pd.DataFrame
    #: The scored indicators without a figure for the wijk, in one sentence (or "").
    without: str = ""


def _read(processed: Processed) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    return processed.derived("peers", lambda: read_peers(processed.paths, processed.gemeente))


def _of_wijk(processed: Processed, name: str, frame: pd.DataFrame, wijk: str) -> pd.DataFrame:
    """The rows of ``frame`` (the peers or the positions) of one wijk, in the order of the
    frame; split by wijk once per loaded data."""
    def split() -> dict[str, pd.DataFrame]:
        return {str(w): part for w, part in frame.groupby("wijk", sort=False, observed=True)}

    found = processed.derived(("peers_by_wijk", name), split).get(str(wijk))
    return found if found is not None else frame.iloc[0:0]


def _value(value: float, eenheid: str) -> str:
    if value is None or pd.isna(value):
        return NO_FIGURE
    decimals = 0 if eenheid in ("aantal", "") or abs(value) >= 100 else 1
    shown = nl_number(value, decimals)
    return shown if eenheid in ("aantal", "") else f"{shown} {eenheid}"


def position_text(hoger: int, gelijk: int, met_cijfer: int, peers: int) -> str:
    """"hoger dan 8 van de 10 vergelijkbare wijken", with the equal ones and those
    without a figure named."""
    if peers == 0:
        return "geen vergelijkbare wijken"
    if met_cijfer == 0:
        return "geen cijfer bij de vergelijkbare wijken"
    text = f"hoger dan {hoger} van de {met_cijfer} vergelijkbare wijken"
    if gelijk:
        text += f", gelijk aan {gelijk}"
    if met_cijfer < peers:
        text += f" ({peers - met_cijfer} zonder cijfer)"
    return text


def _note(mine: pd.DataFrame, k_found: int) -> str:
    first = mine.iloc[0]
    if k_found == 0:
        return f"Geen vergelijkbare wijken: {first['reden'] or 'geen gegevens'}."
    klasse = int(first["klasse"])
    classes = str(first["klassen"])
    widened = "" if classes == str(klasse) else (
        f"; in die klasse lagen te weinig wijken van andere gemeenten, daarom is gezocht in "
        f"de klassen {classes.replace('-', ' tot en met ')}")
    text = (f"De {k_found} wijken van andere gemeenten die het meest op deze wijk lijken in "
            f"adressendichtheid, inwoners, leeftijdsopbouw, huishoudens en woningbezit "
            f"(kenmerken van {int(first['jaar'])}, {first['kenmerken']} kenmerken). Gezocht "
            f"binnen dezelfde stedelijkheidsklasse ({klasse}, "
            f"{CLASS_NAMES.get(klasse, '')}){widened}. Afstand 0 is gelijk; hoe kleiner, hoe "
            "meer gelijk. Niet gekeken is naar hoe goed het met de wijk gaat.")
    if first["reden"]:
        text += f" Let op: {first['reden']}."
    return text


def peers_view(processed: Processed, wijk: str, jaar: int) -> PeersView:
    """The section for ``wijk``: its peers, and per scored indicator its position among
    them in ``jaar`` or the latest earlier year with a figure for the wijk."""
    read = _read(processed)
    if read is None:
        return PeersView("Geen vergelijkbare wijken: deze gegevens zijn gebouwd met een "
                         "oudere versie. Bouw opnieuw met 'wijkkompas build'.",
                         pd.DataFrame(), pd.DataFrame())
    peers, placed = read
    mine = _of_wijk(processed, "peers", peers, wijk)
    if mine.empty:
        return PeersView("Geen vergelijkbare wijken: deze wijk staat niet in de tabel van "
                         "vergelijkbare wijken.", pd.DataFrame(), pd.DataFrame())
    named = mine.dropna(subset=["vergelijkbare_wijk"]).sort_values("rang")
    note = _note(mine, len(named))
    if named.empty:
        return PeersView(note, pd.DataFrame(), pd.DataFrame())
    listed = pd.DataFrame({
        "Rang": named["rang"].astype(int).to_numpy(),
        "Wijk": [n if isinstance(n, str) and n else c
                 for n, c in zip(named["naam"], named["vergelijkbare_wijk"], strict=True)],
        "Gemeente": named["gemeentenaam"].fillna(named["gemeente"]).to_numpy(),
        "Afstand": [nl_number(a, 2) for a in named["afstand"]],
    })
    table, missing = _positions(processed, wijk, jaar, placed, len(named))
    without = (f"Zonder cijfer voor deze wijk in {jaar} of eerder, dus zonder vergelijking: "
               f"{', '.join(missing)}.") if missing else ""
    return PeersView(note, listed, table, without)


def _positions(processed: Processed, wijk: str, jaar: int, placed: pd.DataFrame,
               peers: int) -> tuple[pd.DataFrame, list[str]]:
    """Per scored indicator with a figure for the wijk its position; and the names of those
    without a figure for the wijk."""
    rows = _of_wijk(processed, "placed", placed, wijk)
    rows = rows[rows["jaar"] <= jaar]
    latest = rows.sort_values("jaar", kind="stable").groupby("indicator").last()
    found = latest.to_dict("index")  # a row per indicator, looked up by name
    kompas = processed.kompas
    gemeente = str(kompas.gemeente)
    out: list[dict[str, Any]] = []
    missing: list[str] = []
    for name, ind in kompas.indicators.items():
        if not ind.scored or not ind.applies_to(wijk):
            continue
        naam, eenheid = indicator_label(processed, name)
        if name not in found:
            missing.append(naam)
            continue
        row = found[name]
        year = int(row["jaar"])
        own = _references(processed, gemeente, year)
        land = _references(processed, NEDERLAND, year)
        out.append({
            "Thema": kompas.theme_name(ind.thema), "Indicator": naam, "Jaar": str(year),
            "Deze wijk": _value(row["waarde"], eenheid),
            "Positie": position_text(int(row["hoger_dan"]), int(row["gelijk_aan"]),
                                     int(row["met_cijfer"]), peers),
            "Mediaan vergelijkbare wijken": _value(row["mediaan"], eenheid),
            "Gemeente": _reference(own, name, year, eenheid),
            "Nederland": _reference(land, name, year, eenheid),
            "Richting": RICHTING[ind.richting]})
    return pd.DataFrame(out), missing


def _references(processed: Processed, code: str, year: int) -> dict[str, tuple[float, int]]:
    """:func:`~wijkkompas.output.profile.reference_values` of ``code`` and ``year`` as
    (value, year) per indicator; made once per loaded data."""
    def compute() -> dict[str, tuple[float, int]]:
        values = shared_reference_values(processed, code, year)
        return {name: (value, int(jaar)) for name, value, jaar in zip(
            values.index, values["waarde"], values["jaar"], strict=True)}

    return processed.derived(("peer_references", code, int(year)), compute)


def _reference(values: dict[str, tuple[float, int]], name: str, year: int,
               eenheid: str) -> str:
    """The gemeente's or Nederland's value of ``year`` (or the latest earlier, with its
    year)."""
    if name not in values:
        return NO_FIGURE
    value, found = values[name]
    text = _value(value, eenheid)
    return text if found == year else f"{text} ({found})"


def _plain(frame: pd.DataFrame) -> dict[str, list]:
    """A frame as texts for the page template (columns, rows)."""
    return {"columns": [str(c) for c in frame.columns],
            "rows": [[str(v) for v in row] for row in frame.itertuples(index=False)]}


def peers_section(processed: Processed, wijk: str, jaar: int) -> dict[str, Any]:
    """The page section: title, id, and ``peers`` for ``templates/peers_section.html``."""
    view = peers_view(processed, wijk, jaar)
    part: dict[str, Any] = {"note": view.note, "without": view.without}
    if len(view.peers):
        part["list"] = _plain(view.peers)
    if len(view.positions):
        part["positions"] = _plain(view.positions)
    return {"title": TITLE, "id": "vergelijkbaar", "peers": part}

