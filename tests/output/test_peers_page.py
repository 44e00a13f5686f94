"""Vergelijkbare wijken end to end: the kaart files of three gemeenten imported into one
data folder and built together (``build --gemeente GM0141,GM0153,GM0164``), the peers table
in processed/, and the section on Almelo's wijk pages in a real headless Chromium.

Almelo's files are the real ones of ../shared/data; the two others are made from them in
the same formats (tests/fixtures/gemeenten.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.browser import Page
from tests.fixtures.gemeenten import OTHERS, import_twente
from wijkkompas.cli import main
from wijkkompas.kompas.results import load_processed
from wijkkompas.output.export import page_name, run_export
from wijkkompas.output.peers_section import peers_view

GEMEENTEN = "GM0141,GM0153,GM0164"


@pytest.fixture(scope="module")
def twente(shared, tmp_path_factory):
    folder = tmp_path_factory.mktemp("twente")
    data = folder / "data"
    import_twente(data, shared, folder)
    assert main(["build", "--data-dir", str(data), "--gemeente", GEMEENTEN]) == 0
    return data


@pytest.fixture(scope="module")
def pages(twente, tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    processed = load_processed(twente, gemeente="GM0141")
    run_export(processed, out, say=lambda _: None)
    return processed, out


def test_peers_of_every_almelo_wijk_come_from_the_other_gemeenten(twente, capsys):
    folder = twente / "processed"
    peers = pd.read_parquet(folder / "vergelijkbare_wijken.parquet")
    from_csv = pd.read_csv(folder / "vergelijkbare_wijken.csv", dtype=str)
    assert list(from_csv.columns) == list(peers.columns)
    assert {"wijk", "vergelijkbare_wijk", "gemeente", "afstand", "rang"} <= set(peers.columns)
    almelo = peers[peers["wijk"].str.startswith("WK0141")]
    assert almelo["wijk"].nunique() == 12
    for wijk, rows in almelo.groupby("wijk"):
        assert list(rows["rang"]) == list(range(1, 11)), wijk
        assert set(rows["gemeente"]) <= set(OTHERS), wijk
        assert rows["afstand"].is_monotonic_increasing, wijk
        assert (rows["reden"] == "").all() and (rows["jaar"] == 2021).all()
    # The other gemeenten, scored in the same build, get theirs too (never their own).
    for code in OTHERS:
        own = peers[peers["wijk"].str[2:6] == code[2:6]]
        assert own["wijk"].nunique() == 12
        assert not (own["gemeente"] == code).any()
    # Named after the wijken (the invented gemeenten's names come from their wijk files).
    assert almelo["naam"].str.startswith(("Enschede ", "Hengelo ")).all()


def test_positions_count_the_peers_values_in_the_indicator_table(twente):
    folder = twente / "processed"
    peers = pd.read_parquet(folder / "vergelijkbare_wijken.parquet")
    placed = pd.read_parquet(folder / "vergelijkbare_wijken_positie.parquet")
    table = pd.read_parquet(folder / "indicatoren.parquet")
    wijk, indicator = "WK014115", "bijstand_per_1000"
    own = table[(table["niveau"] == "wijk") & (table["jaar"] == 2015)
                & (table["indeling"] == 2015) & (table["indicator"] == indicator)]
    values = own.dropna(subset=["waarde"]).set_index("gebiedscode")["waarde"]
    theirs = values.reindex(peers.loc[peers["wijk"] == wijk, "vergelijkbare_wijk"]).dropna()
    row = placed[(placed["wijk"] == wijk) & (placed["indicator"] == indicator)
                 & (placed["jaar"] == 2015)].iloc[0]
    assert row["met_cijfer"] == len(theirs) == 10
    assert row["hoger_dan"] == (theirs < values[wijk]).sum()
    assert row["lager_dan"] == (theirs > values[wijk]).sum()
    assert row["mediaan"] == pytest.approx(theirs.median())
    # Only scored indicators: composition (context) is never placed.
    assert "aandeel_65plus" not in set(placed["indicator"])


def test_the_wijk_page_names_its_peers_and_where_it_stands(pages, browser):
    processed, out = pages
    view = peers_view(processed, "WK014115", 2021)
    page = Page(browser, out / page_name("WK014115", "wijk"))
    try:
        section = page.page.locator("#wk-vergelijkbaar")
        assert section.locator("h2").inner_text() == "Vergelijkbare wijken"
        listed = page.page.eval_on_selector_all(
            "#wk-vergelijkbaar-list tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        assert len(listed) == 10
        assert [r[1] for r in listed] == list(view.peers["Wijk"])
        assert all(r[1].startswith(("Enschede ", "Hengelo ")) for r in listed)
        placed = page.page.eval_on_selector_all(
            "#wk-vergelijkbaar-positions tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        texts = {r[1]: r[4] for r in placed}
        assert texts["Personen met bijstand"].startswith("hoger dan ")
        assert texts["Personen met bijstand"].endswith(" van de 10 vergelijkbare wijken")
        header = page.page.eval_on_selector_all("#wk-vergelijkbaar-positions th",
                                                "cells => cells.map(c => c.innerText)")
        assert header[3:8] == ["Deze wijk", "Positie", "Mediaan vergelijkbare wijken",
                               "Gemeente", "Nederland"]
        # On a phone the section stays within the screen (its tables scroll on their own).
        page.page.set_viewport_size({"width": 390, "height": 800})
        box = section.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        assert page.errors == []
    finally:
        page.page.close()


def test_a_gemeente_alone_has_no_peers_and_says_why(processed):
    view = peers_view(processed, "WK014115", 2021)
    assert view.peers.empty and view.positions.empty
    assert view.note == ("Geen vergelijkbare wijken: geen wijken van andere gemeenten met "
                         "omgevingsadressendichtheid in hetzelfde jaar (importeer of haal "
                         "andere gemeenten op).")
