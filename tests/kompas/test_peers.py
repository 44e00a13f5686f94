"""Vergelijkbare wijken (kompas/peers.py): the nearest wijken of other gemeenten, worked out
by hand on a small case, missing features, a stedelijkheid class with fewer than k wijken,
and where a wijk stands among its peers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wijkkompas.kompas.peers import find_peers, positions, stedelijkheid


def _density(log_value: float) -> float:
    """The address density whose log10(1 + x) is ``log_value``."""
    return 10 ** log_value - 1


#: Five wijken of three gemeenten, all of stedelijkheid class 4 (500-1000 addresses per km²).
#: Two features: the address density (compared as log10(1 + x)) and the share of 65+.
SMALL = pd.DataFrame(
    {"adressendichtheid": [_density(3.0), _density(2.8), _density(3.0), _density(2.8),
                           _density(2.9)],
     "aandeel_65plus": [20.0, 20.0, 30.0, 24.0, 26.0]},
    index=pd.Index(["WK000101", "WK000102", "WK000201", "WK000202", "WK000301"]))


def test_nearest_wijken_worked_out_by_hand():
    # log density 3.0, 2.8, 3.0, 2.8, 2.9: mean 2.9, variance (4 x 0.01) / 5 = 0.008.
    # 65+ 20, 20, 30, 24, 26: mean 24, variance (16 + 16 + 36 + 0 + 4) / 5 = 14.4.
    # Each feature is its own group, weight 1. From WK000101 (log 3.0, 65+ 20):
    #   WK000301: (0.1² / 0.008) + (6² / 14.4) = 1.25 + 2.5   = 3.75      -> 1.9365
    #   WK000202: (0.2² / 0.008) + (4² / 14.4) = 5 + 1.1111   = 55 / 9    -> 2.4721
    #   WK000201: 0                + (10² / 14.4)              = 125 / 18  -> 2.6352
    # WK000102 lies in the wijk's own gemeente and is never a peer (though it is nearer
    # than WK000201: 0.2² / 0.008 = 5).
    result = find_peers(SMALL, ["WK000101"], k=2)
    peers = result.peers
    assert list(peers["vergelijkbare_wijk"]) == ["WK000301", "WK000202"]
    assert list(peers["gemeente"]) == ["GM0003", "GM0002"]
    assert list(peers["rang"]) == [1, 2]
    assert peers["afstand"].to_numpy() == pytest.approx([math.sqrt(3.75), math.sqrt(55 / 9)],
                                                        abs=1e-9)
    assert result.wijken.loc[0, "klassen"] == "4" and result.wijken.loc[0, "reden"] == ""
    # With k = 3 the third is WK000201.
    three = find_peers(SMALL, ["WK000101"], k=3).peers
    assert list(three["vergelijkbare_wijk"]) == ["WK000301", "WK000202", "WK000201"]
    assert three["afstand"].iloc[2] == pytest.approx(math.sqrt(125 / 18), abs=1e-9)


def test_every_wijk_of_the_table_at_once():
    result = find_peers(SMALL, list(SMALL.index), k=1)
    got = dict(zip(result.peers["wijk"], result.peers["vergelijkbare_wijk"], strict=True))
    # Squared distances (log density difference² / 0.008 + 65+ difference² / 14.4):
    # WK000102 (2.8, 20): WK000202 16/14.4 = 1.11; WK000301 1.25 + 36/14.4 = 3.75.
    # WK000201 (3.0, 30): WK000301 1.25 + 16/14.4 = 2.36; WK000101 100/14.4 = 6.94.
    # WK000202 (2.8, 24): WK000102 16/14.4 = 1.11; WK000301 1.25 + 4/14.4 = 1.53.
    # WK000301 (2.9, 26): WK000202 1.25 + 4/14.4 = 1.53; WK000201 1.25 + 16/14.4 = 2.36.
    assert got == {"WK000101": "WK000301", "WK000102": "WK000202", "WK000201": "WK000301",
                   "WK000202": "WK000102", "WK000301": "WK000202"}
    assert set(result.peers["gemeente"]) <= {"GM0001", "GM0002", "GM0003"}
    for row in result.peers.itertuples():
        assert row.wijk[2:6] != row.vergelijkbare_wijk[2:6]


def test_stedelijkheid_classes_are_cbs_bounds():
    density = pd.Series([2500, 2499.9, 1500, 1000, 999, 500, 499, np.nan])
    assert list(stedelijkheid(density).astype(object).where(density.notna(), None)) == [
        1, 2, 2, 3, 4, 4, 5, None]


def test_missing_features_are_explicit():
    features = SMALL.assign(aandeel_0_14=[15.0, 16.0, 17.0, 14.0, 18.0])
    features.loc["WK000401"] = [_density(2.85), np.nan, np.nan]  # only the density
    features.loc["WK000501"] = [np.nan, 22.0, 15.0]  # no density: no class
    features.loc["WK000601"] = [_density(2.95), 25.0, np.nan]  # a candidate without 0-14
    features.loc["WK000101", "aandeel_0_14"] = np.nan  # the wijk itself lacks one
    result = find_peers(features, ["WK000101", "WK000401", "WK000501", "WK009999"], k=3)
    why = result.wijken.set_index("wijk")["reden"]
    assert why["WK000401"] == "te weinig kenmerken (1 van 3, nodig 2)"
    assert why["WK000501"] == "omgevingsadressendichtheid ontbreekt: geen stedelijkheidsklasse"
    assert why["WK009999"] == "geen kenmerken van deze wijk in dit jaar"
    assert why["WK000101"] == ""
    assert result.wijken.set_index("wijk").loc["WK000101", "kenmerken"] == "2 van 3"
    peers = result.peers
    assert set(peers["wijk"]) == {"WK000101"}
    # Candidates need every feature: WK000401, WK000501 and WK000601 are never peers.
    assert not set(peers["vergelijkbare_wijk"]) & {"WK000401", "WK000501", "WK000601"}
    assert len(peers) == 3


def test_a_feature_most_wijken_lack_is_not_used():
    features = SMALL.assign(aandeel_koopwoningen=[60.0, np.nan, np.nan, np.nan, 40.0])
    result = find_peers(features, ["WK000101"], k=2)
    assert result.used == ["adressendichtheid", "aandeel_65plus"]
    assert list(result.peers["vergelijkbare_wijk"]) == ["WK000301", "WK000202"]


def test_scored_features_are_left_out():
    result = find_peers(SMALL, ["WK000101"], k=2, leave_out={"aandeel_65plus"})
    assert result.used == ["adressendichtheid"]
    # On the density alone: WK000201 has the same density (distance 0), WK000301 is next.
    assert list(result.peers["vergelijkbare_wijk"]) == ["WK000201", "WK000301"]
    assert result.peers["afstand"].iloc[0] == 0


def test_class_with_fewer_than_k_wijken_is_widened_to_its_neighbours():
    codes, density, old = [], [], []
    # Class 3 (1000-1500): only the wijk asked for. Classes 2 and 4: three wijken each of
    # another gemeente; class 1 and 5: five each.
    for number, (value, count) in enumerate([(3000.0, 5), (2000.0, 3), (1200.0, 0),
                                             (700.0, 3), (300.0, 5)]):
        for i in range(count):
            codes.append(f"WK00{number + 2}{i:03d}")
            density.append(value + 10 * i)
            old.append(10.0 + i)
    codes.append("WK000101")
    density.append(1200.0)
    old.append(12.0)
    features = pd.DataFrame({"adressendichtheid": density, "aandeel_65plus": old},
                            index=codes)
    result = find_peers(features, ["WK000101", "WK002000"], k=4)
    wijken = result.wijken.set_index("wijk")
    assert wijken.loc["WK000101", "klasse"] == 3
    assert wijken.loc["WK000101", "klassen"] == "2-4"  # one step each side: 6 wijken
    classes = stedelijkheid(features.loc[result.peers.loc[
        result.peers["wijk"] == "WK000101", "vergelijkbare_wijk"], "adressendichtheid"])
    assert set(classes) <= {2, 3, 4} and len(classes) == 4
    # Class 1 holds five wijken of its own gemeente only (GM0020): widened to 1-2, and as
    # that holds only three of other gemeenten, to 1-3 (3 has only WK000101).
    assert wijken.loc["WK002000", "klassen"] == "1-3"
    assert wijken.loc["WK002000", "reden"] == ""
    assert len(result.peers[result.peers["wijk"] == "WK002000"]) == 4


def test_fewer_than_k_anywhere_says_so():
    result = find_peers(SMALL, ["WK000101"], k=10)
    assert len(result.peers) == 3
    assert result.wijken.loc[0, "klassen"] == "1-5"
    assert result.wijken.loc[0, "reden"] == (
        "minder dan 10 wijken van andere gemeenten met alle kenmerken in alle klassen")


def test_position_among_peers_and_their_median():
    peers = pd.DataFrame({"wijk": ["WK000101"] * 4,
                          "vergelijkbare_wijk": ["WK000201", "WK000202", "WK000301",
                                                 "WK000302"]})

    def row(code: str, jaar: int, waarde: float | None) -> dict:
        return {"gebiedscode": code, "gebiedsnaam": code, "niveau": "wijk", "jaar": jaar,
                "indeling": jaar, "indicator": "bijstand_per_1000", "waarde": waarde}

    table = pd.DataFrame([
        row("WK000101", 2021, 40.0), row("WK000201", 2021, 30.0),
        row("WK000202", 2021, 40.0), row("WK000301", 2021, 50.0),
        row("WK000302", 2021, None),  # missing stays missing: not counted
        row("WK000101", 2020, 10.0),  # no peer has 2020
        {**row("WK000201", 2021, 99.0), "indeling": 2022},  # another indeling: not used
    ])
    got = positions(table, peers, ["bijstand_per_1000"]).set_index("jaar")
    assert got.loc[2021, ["met_cijfer", "hoger_dan", "lager_dan", "gelijk_aan"]].tolist() == [
        3, 1, 1, 1]
    assert got.loc[2021, "mediaan"] == 40.0
    assert got.loc[2020, "met_cijfer"] == 0 and pd.isna(got.loc[2020, "mediaan"])
    # An even number of peers with a value: the mean of the middle two.
    even = pd.concat([table, pd.DataFrame([row("WK000302", 2021, 45.0)])], ignore_index=True)
    got = positions(even, peers, ["bijstand_per_1000"]).set_index("jaar")
    assert got.loc[2021, ["met_cijfer", "hoger_dan", "lager_dan", "gelijk_aan"]].tolist() == [
        4, 1, 2, 1]
    assert got.loc[2021, "mediaan"] == 42.5
    # A wijk without peers is placed among none.
    alone = positions(table, pd.DataFrame({"wijk": ["WK000101"],
                                           "vergelijkbare_wijk": [None]}), ["bijstand_per_1000"])
    assert alone["met_cijfer"].tolist() == [0, 0] and alone["mediaan"].isna().all()
