"""Aggregation buurt -> wijk -> gemeente on small hand-made tables, every figure by hand.

Fast unit tests of build/aggregate.py (also the test selection of its mutation run, see
tools/mutation.py): no files, no real data, one made-up gemeente GM0999 with wijk
WK099901 (buurten 01, 02, 03) and wijk WK099902 (buurt 01).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wijkkompas.indicatoren.aggregate import (
    MIN_DEKKING,
    _positions,
    aggregate,
    complete_levels,
    expected_parts,
    publishes_every_parent,
)
from wijkkompas.indicatoren.rows import INTERNAL

#: inwoners is a count; aandeel a share (x 100); per_1000 a rate (x 1000); verhouding x 1.
FACTORS: dict[str, float | None] = {"inwoners": None, "aandeel": 100.0, "per_1000": 1000.0,
                                    "verhouding": 1.0, "woningen": None, "banen": None}
NAN = math.nan


def _rows(*rows: tuple, niveau: str = "buurt", jaar: int = 2020, bron: str = "kwb") -> pd.DataFrame:
    """Rows (gebiedscode, indicator, teller, noemer) of one source, year and indeling."""
    out = []
    for code, indicator, teller, noemer in rows:
        factor = FACTORS[indicator]
        waarde = teller if factor is None else (
            factor * teller / noemer if noemer and not math.isnan(teller) else NAN)
        out.append({"gebiedscode": code, "gebiedsnaam": f"naam {code}", "niveau": niveau,
                    "jaar": jaar, "indeling": jaar, "indicator": indicator, "waarde": waarde,
                    "teller": teller, "noemer": noemer, "bron": bron, "status": "gepubliceerd",
                    "indelingswijziging": NAN, "dekking": NAN, "bron_id": bron})
    return pd.DataFrame(out, columns=INTERNAL)


def _one(table: pd.DataFrame, code: str, indicator: str) -> pd.Series:
    rows = table[(table["gebiedscode"] == code) & (table["indicator"] == indicator)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_min_dekking_is_what_the_data_dictionary_says():
    text = (Path(__file__).parents[2] / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    found = re.search(r"samen ten minste (\d+) % van de noemer dekken", text)
    assert found and int(found.group(1)) == 90
    assert MIN_DEKKING == 0.9


def test_expected_parts_counts_buurten_per_wijk_and_wijken_per_gemeente():
    areas = {2020: {"GM0999", "WK099901", "WK099902", "BU09990101", "BU09990102",
                    "BU09990103", "BU09990201"},
             2021: {"WK099901", "BU09990101"}}
    got = expected_parts(areas)
    assert list(got.columns) == ["parent", "indeling", "kind", "verwacht"]
    assert sorted(map(tuple, got.itertuples(index=False))) == [
        ("GM0999", 2020, "WK", 2), ("GM0999", 2021, "WK", 1),
        ("WK099901", 2020, "BU", 3), ("WK099901", 2021, "BU", 1), ("WK099902", 2020, "BU", 1)]
    assert all(isinstance(n, int) for n in got["verwacht"])
    assert list(got.index) == list(range(5))  # one table, numbered afresh


def test_counts_are_summed_and_every_column_of_the_sum_is_set():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", 300.0, NAN),
                 ("BU09990201", "inwoners", 600.0, NAN))
    out = aggregate(rows, "wijk", FACTORS)
    assert list(out.columns) == INTERNAL
    assert list(out["gebiedscode"]) == ["WK099901", "WK099902"]
    assert list(out["waarde"]) == [400.0, 600.0]
    assert list(out["teller"]) == [400.0, 600.0]
    assert out["noemer"].isna().all()
    assert list(out["status"]) == ["berekend", "berekend"]
    assert list(out["dekking"]) == [1.0, 1.0]
    assert list(out["niveau"]) == ["wijk", "wijk"]
    assert list(out["bron"]) == ["kwb", "kwb"] and list(out["bron_id"]) == ["kwb", "kwb"]
    assert out["gebiedsnaam"].isna().all() and out["indelingswijziging"].isna().all()
    assert list(out["jaar"]) == [2020, 2020] and list(out["indeling"]) == [2020, 2020]
    gemeente = aggregate(out.assign(niveau="wijk"), "gemeente", FACTORS)
    assert list(gemeente["gebiedscode"]) == ["GM0999"]
    assert list(gemeente["waarde"]) == [1000.0]
    assert list(gemeente["niveau"]) == ["gemeente"]


def test_a_missing_count_makes_the_sum_missing_never_smaller():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", NAN, NAN),
                 ("BU09990103", "inwoners", 300.0, NAN))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "inwoners")
    assert math.isnan(row["waarde"]) and math.isnan(row["teller"])
    assert row["status"] == "ontbreekt"
    assert row["dekking"] == pytest.approx(2 / 3)
    assert math.isnan(row["noemer"])


def test_shares_rates_and_ratios_are_recomputed_from_tellers_and_noemers():
    rows = _rows(("BU09990101", "aandeel", 10.0, 100.0), ("BU09990102", "aandeel", 90.0, 300.0),
                 ("BU09990101", "per_1000", 3.0, 100.0), ("BU09990102", "per_1000", 5.0, 300.0),
                 ("BU09990101", "verhouding", 30.0, 20.0),
                 ("BU09990102", "verhouding", 50.0, 60.0))
    out = aggregate(rows, "wijk", FACTORS)
    share = _one(out, "WK099901", "aandeel")
    # (10 + 90) / (100 + 300) x 100 = 25 %, not the mean of 10 % and 30 %
    assert share["waarde"] == pytest.approx(25.0)
    assert (share["teller"], share["noemer"], share["dekking"]) == (100.0, 400.0, 1.0)
    assert share["status"] == "berekend"
    # (3 + 5) per 400 inhabitants = 20 per 1000
    assert _one(out, "WK099901", "per_1000")["waarde"] == pytest.approx(20.0)
    # (30 + 50) / (20 + 60) = 1
    assert _one(out, "WK099901", "verhouding")["waarde"] == pytest.approx(1.0)


@pytest.mark.parametrize("known, expected", [
    # 810 of 900 inhabitants known: exactly 90 %, enough; 10 per 810 = 12.345... %
    ((90.0, 810.0), 100 * 100 / 810),
    # 800 of 900: 88.9 %, too little
    ((100.0, 800.0), None),
])
def test_a_share_needs_ninety_percent_of_its_noemer(known, expected):
    missing, present = known
    rows = _rows(("BU09990101", "aandeel", NAN, missing),
                 ("BU09990102", "aandeel", 100.0, present))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "aandeel")
    assert row["dekking"] == pytest.approx(present / 900)
    if expected is None:
        assert math.isnan(row["waarde"]) and math.isnan(row["teller"])
        assert row["status"] == "ontbreekt"
        # every noemer is known: the sum of all of them stays, for the level above
        assert row["noemer"] == 900.0
    else:
        assert row["waarde"] == pytest.approx(expected)
        assert (row["teller"], row["noemer"]) == (100.0, present)
        assert row["status"] == "berekend"


def test_an_unknown_noemer_measures_coverage_by_parts():
    # Buurt 01 has neither teller nor noemer: one of three parts missing is 2/3 < 90 %.
    rows = _rows(("BU09990101", "aandeel", NAN, NAN), ("BU09990102", "aandeel", 20.0, 100.0),
                 ("BU09990103", "aandeel", 30.0, 100.0))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "aandeel")
    assert row["dekking"] == pytest.approx(2 / 3)
    assert row["status"] == "ontbreekt"
    # not every noemer known: no noemer at all (a higher level must not weigh it)
    assert math.isnan(row["noemer"]) and math.isnan(row["waarde"])


def test_a_teller_without_noemer_is_not_used():
    # A share's part with a teller but no noemer cannot be weighed: it is not used.
    rows = _rows(("BU09990101", "aandeel", 5.0, NAN), ("BU09990102", "aandeel", 20.0, 100.0),
                 ("BU09990103", "aandeel", 30.0, 100.0))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "aandeel")
    assert row["dekking"] == pytest.approx(2 / 3)
    assert row["status"] == "ontbreekt" and math.isnan(row["teller"])


def test_a_zero_noemer_gives_no_value():
    rows = _rows(("BU09990101", "aandeel", 0.0, 0.0), ("BU09990102", "aandeel", 0.0, 0.0))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "aandeel")
    assert math.isnan(row["waarde"]) and row["status"] == "ontbreekt"
    assert math.isnan(row["teller"])  # a teller is kept only beside its value
    # no noemer to weigh by: coverage by parts, both known
    assert row["dekking"] == 1.0
    assert row["noemer"] == 0.0


def test_a_teller_over_a_zero_noemer_gives_no_value():
    # Rounded figures that do not agree: 3 of a noemer of 0. No value (not infinity), and
    # the teller goes with it; the noemer of 0 is kept, as for 0 of 0.
    rows = _rows(("BU09990101", "aandeel", 3.0, 0.0), ("BU09990102", "aandeel", 0.0, 0.0))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "aandeel")
    assert math.isnan(row["waarde"]) and row["status"] == "ontbreekt"
    assert math.isnan(row["teller"])
    assert row["noemer"] == 0.0


def test_expected_parts_that_sent_no_row_count_as_missing():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", 300.0, NAN),
                 ("BU09990101", "aandeel", 10.0, 100.0), ("BU09990102", "aandeel", 90.0, 300.0),
                 ("BU09990201", "inwoners", 600.0, NAN))
    expected = pd.DataFrame([("WK099901", 2020, "BU", 3), ("WK099902", 2020, "BU", 1),
                             ("GM0999", 2020, "WK", 5)],
                            columns=["parent", "indeling", "kind", "verwacht"])
    out = aggregate(rows, "wijk", FACTORS, expected)
    # WK099901 has three buurten; a source with two of them does not speak for the wijk
    count = _one(out, "WK099901", "inwoners")
    assert math.isnan(count["waarde"]) and count["dekking"] == pytest.approx(2 / 3)
    share = _one(out, "WK099901", "aandeel")
    assert math.isnan(share["waarde"]) and share["dekking"] == pytest.approx(2 / 3)
    assert math.isnan(share["noemer"])  # the third buurt's noemer is unknown
    assert _one(out, "WK099902", "inwoners")["waarde"] == 600.0
    # fewer expected than present (an older list): the rows present count
    fewer = expected.assign(verwacht=1)
    assert _one(aggregate(rows, "wijk", FACTORS, fewer), "WK099901", "inwoners")["waarde"] == 400
    # the gemeente row of the list (kind WK) says nothing about buurten
    other = expected[expected["kind"] == "WK"]
    assert _one(aggregate(rows, "wijk", FACTORS, other), "WK099901", "inwoners")["waarde"] == 400


def test_no_rows_give_an_empty_table_with_every_column():
    out = aggregate(_rows(), "wijk", FACTORS)
    assert out.empty and list(out.columns) == INTERNAL


def _published(table: pd.DataFrame) -> list[tuple]:
    return [(r.gebiedscode, r.niveau, r.indicator, r.bron_id, r.status,
             None if pd.isna(r.waarde) else r.waarde) for r in table.itertuples()]


def test_complete_levels_adds_wijken_and_gemeente_from_buurten():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", 300.0, NAN),
                 ("BU09990201", "inwoners", 600.0, NAN))
    out = complete_levels(rows, FACTORS)
    assert list(out.columns) == INTERNAL
    assert _published(out)[3:] == [
        ("WK099901", "wijk", "inwoners", "kwb", "berekend", 400.0),
        ("WK099902", "wijk", "inwoners", "kwb", "berekend", 600.0),
        ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 1000.0)]
    assert _published(out)[:3] == _published(rows)


def test_published_rows_win_and_computed_wijken_count_for_the_gemeente():
    buurten = _rows(("BU09990101", "inwoners", 100.0, NAN),
                    ("BU09990102", "inwoners", 300.0, NAN),
                    ("BU09990201", "inwoners", 600.0, NAN),
                    ("BU09990101", "aandeel", 10.0, 100.0))
    # The source published WK099901's inwoners (999, not the 400 of its buurten), not its
    # aandeel, and not WK099902 or the gemeente.
    wijk = _rows(("WK099901", "inwoners", 999.0, NAN), niveau="wijk")
    out = complete_levels(pd.concat([buurten, wijk], ignore_index=True), FACTORS)
    assert _published(out)[:5] == _published(buurten) + _published(wijk)
    assert sorted(_published(out)[5:]) == [
        ("GM0999", "gemeente", "aandeel", "kwb", "berekend", 10.0),
        ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 1599.0),
        ("WK099901", "wijk", "aandeel", "kwb", "berekend", 10.0),
        ("WK099902", "wijk", "inwoners", "kwb", "berekend", 600.0)]


def test_a_wijk_of_another_source_does_not_stand_in():
    buurten = _rows(("BU09990101", "inwoners", 100.0, NAN),
                    ("BU09990102", "inwoners", 300.0, NAN))
    other = _rows(("WK099901", "inwoners", 999.0, NAN), niveau="wijk", bron="lokaal")
    other_year = _rows(("WK099901", "inwoners", 999.0, NAN), niveau="wijk", jaar=2021)
    out = complete_levels(pd.concat([buurten, other, other_year], ignore_index=True), FACTORS)
    computed = out[out["status"] == "berekend"]
    assert sorted(zip(computed["jaar"], _published(computed), strict=True)) == [
        (2020, ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 400.0)),
        (2020, ("GM0999", "gemeente", "inwoners", "lokaal", "berekend", 999.0)),
        (2020, ("WK099901", "wijk", "inwoners", "kwb", "berekend", 400.0)),
        (2021, ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 999.0))]


def test_complete_levels_keeps_nederland_and_leaves_other_levels_out():
    rows = pd.concat([
        _rows(("BU09990101", "inwoners", 100.0, NAN)),
        _rows(("NL00", "inwoners", 17_000_000.0, NAN), niveau="land"),
        _rows(("PV99", "inwoners", 1_000_000.0, NAN), niveau="provincie"),
    ], ignore_index=True)
    out = complete_levels(rows, FACTORS)
    assert list(out["gebiedscode"]) == ["BU09990101", "NL00", "WK099901", "GM0999"]
    assert list(out.index) == [0, 1, 2, 3]


def test_a_table_with_every_parent_published_comes_back_as_it_was():
    rows = pd.concat([
        _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990101", "aandeel", 1.0, 10.0)),
        _rows(("WK099901", "inwoners", 100.0, NAN), ("WK099901", "aandeel", 1.0, 10.0),
              niveau="wijk"),
        _rows(("GM0999", "inwoners", 100.0, NAN), ("GM0999", "aandeel", 1.0, 10.0),
              niveau="gemeente"),
    ], ignore_index=True)
    out = complete_levels(rows, FACTORS)
    assert out is rows
    extra = complete_levels(rows.assign(extra=1), FACTORS)
    assert list(extra.columns) == INTERNAL
    pd.testing.assert_frame_equal(extra, rows)


def test_complete_levels_with_only_wijken_or_only_a_gemeente():
    wijken = _rows(("WK099901", "inwoners", 400.0, NAN), ("WK099902", "inwoners", 600.0, NAN),
                   niveau="wijk")
    out = complete_levels(wijken, FACTORS)
    assert _published(out)[2:] == [("GM0999", "gemeente", "inwoners", "kwb", "berekend",
                                    1000.0)]
    gemeente = _rows(("GM0999", "inwoners", 1000.0, NAN), niveau="gemeente")
    assert _published(complete_levels(gemeente, FACTORS)) == _published(gemeente)
    assert np.array_equal(complete_levels(gemeente, FACTORS)["waarde"], [1000.0])


def test_one_part_with_its_expected_siblings():
    # A single buurt row of a wijk that has two: the sum is missing, not the one buurt.
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN))
    expected = pd.DataFrame([("WK099901", 2020, "BU", 2)],
                            columns=["parent", "indeling", "kind", "verwacht"])
    row = _one(aggregate(rows, "wijk", FACTORS, expected), "WK099901", "inwoners")
    assert math.isnan(row["waarde"]) and row["dekking"] == 0.5


def test_parents_published_for_some_indicators_only_are_computed_for_the_rest():
    # Three wijken and three counts: WK099901 and WK099902 published all three (six of the
    # nine pairs), WK099903 none. WK099903's three are computed from its buurt.
    names = ("inwoners", "woningen", "banen")
    buurten = _rows(*[(f"BU0999{w:02d}01", name, 10.0 * w, NAN) for w in (1, 2, 3)
                      for name in names])
    wijken = _rows(*[(f"WK0999{w:02d}", name, 10.0 * w, NAN) for w in (1, 2) for name in names],
                   niveau="wijk")
    out = complete_levels(pd.concat([buurten, wijken], ignore_index=True), FACTORS)
    computed = out.iloc[len(buurten) + len(wijken):]
    assert sorted(_published(computed)) == sorted(
        [("WK099903", "wijk", name, "kwb", "berekend", 30.0) for name in names]
        + [("GM0999", "gemeente", name, "kwb", "berekend", 60.0) for name in names])


def test_a_published_neighbour_does_not_stand_in_for_a_wijk():
    # The source published WK099902 (which has no buurt here), not WK099901.
    buurt = _rows(("BU09990101", "inwoners", 100.0, NAN))
    wijk = _rows(("WK099902", "inwoners", 600.0, NAN), niveau="wijk")
    out = complete_levels(pd.concat([buurt, wijk], ignore_index=True), FACTORS)
    assert _published(out)[2:] == [("WK099901", "wijk", "inwoners", "kwb", "berekend", 100.0),
                                    ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 700.0)]


def test_a_noemer_of_one_or_less_still_divides():
    # A ratio over 0.5 + 0.5 = 1 (hectares, say): (2 + 1) / 1 = 3.
    rows = _rows(("BU09990101", "verhouding", 2.0, 0.5), ("BU09990102", "verhouding", 1.0, 0.5))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "verhouding")
    assert (row["waarde"], row["noemer"], row["status"]) == (3.0, 1.0, "berekend")


def test_coverage_by_noemer_when_the_noemers_add_up_to_one_or_less():
    # 0.9 of a noemer of 1.0 known: 90 % coverage (by parts it would be one of two).
    rows = _rows(("BU09990101", "verhouding", NAN, 0.1), ("BU09990102", "verhouding", 1.0, 0.9))
    row = _one(aggregate(rows, "wijk", FACTORS), "WK099901", "verhouding")
    assert row["dekking"] == pytest.approx(0.9)
    assert row["waarde"] == pytest.approx(1 / 0.9) and row["status"] == "berekend"


def test_sums_come_in_the_order_of_their_first_part():
    rows = _rows(("BU09990201", "inwoners", 600.0, NAN), ("BU09990101", "inwoners", 100.0, NAN),
                 ("BU09990102", "inwoners", 300.0, NAN))
    out = aggregate(rows, "wijk", FACTORS)
    assert list(zip(out["gebiedscode"], out["waarde"], strict=True)) == [
        ("WK099902", 600.0), ("WK099901", 400.0)]


def test_rows_without_a_source_id_are_summed_too():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", 300.0, NAN))
    rows["bron_id"] = None
    out = aggregate(rows, "wijk", FACTORS)
    assert list(out["waarde"]) == [400.0] and out["bron_id"].isna().all()


def test_three_wijken_two_published():
    # One indicator, three wijken with a buurt each; WK099901 and WK099902 published.
    buurten = _rows(*[(f"BU0999{w:02d}01", "inwoners", 10.0 * w, NAN) for w in (1, 2, 3)])
    wijken = _rows(*[(f"WK0999{w:02d}", "inwoners", 10.0 * w, NAN) for w in (1, 2)],
                   niveau="wijk")
    out = complete_levels(pd.concat([buurten, wijken], ignore_index=True), FACTORS)
    assert _published(out)[5:] == [("WK099903", "wijk", "inwoners", "kwb", "berekend", 30.0),
                                   ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 60.0)]


def test_every_source_and_year_is_completed_after_one_that_needs_nothing():
    # kwb 2020 published its wijk and gemeente; lokaal 2020 and kwb 2021 published buurten
    # only. The two after the first are both completed, wijken first, each level in the
    # order its parts came.
    rows = pd.concat([
        _rows(("BU09990101", "inwoners", 100.0, NAN)),
        _rows(("WK099901", "inwoners", 100.0, NAN), niveau="wijk"),
        _rows(("GM0999", "inwoners", 100.0, NAN), niveau="gemeente"),
        _rows(("BU09990101", "inwoners", 7.0, NAN), bron="lokaal"),
        _rows(("BU09990101", "inwoners", 120.0, NAN), jaar=2021),
    ], ignore_index=True)
    out = complete_levels(rows, FACTORS)
    computed = out.iloc[len(rows):]
    assert list(zip(computed["jaar"], _published(computed), strict=True)) == [
        (2020, ("WK099901", "wijk", "inwoners", "lokaal", "berekend", 7.0)),
        (2021, ("WK099901", "wijk", "inwoners", "kwb", "berekend", 120.0)),
        (2020, ("GM0999", "gemeente", "inwoners", "lokaal", "berekend", 7.0)),
        (2021, ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 120.0))]


def test_columns_in_another_order_come_back_in_the_internal_order():
    rows = _rows(("BU09990101", "inwoners", 100.0, NAN))
    rows = pd.concat([rows, rows.assign(gebiedscode="WK099901", niveau="wijk"),
                      rows.assign(gebiedscode="GM0999", niveau="gemeente")], ignore_index=True)
    shuffled = rows[["bron_id", *INTERNAL[:-1]]]
    out = complete_levels(shuffled, FACTORS)
    assert list(out.columns) == INTERNAL
    pd.testing.assert_frame_equal(out, rows)


def test_publishes_every_parent_needs_the_wijk_of_every_buurt_and_the_gemeente_of_every_wijk():
    whole = pd.Series(["BU09990101", "BU09990102", "WK099901", "GM0999"])
    assert publishes_every_parent(whole) is True
    assert publishes_every_parent(pd.concat([whole, whole])) is True  # twice is no gap
    # A buurt without its wijk, or a wijk without its gemeente: not every parent.
    assert publishes_every_parent(pd.Series(["BU09990101", "WK099902", "GM0999"])) is False
    assert publishes_every_parent(pd.Series(["BU09990101", "WK099901"])) is False
    # A gemeente (or a wijk) alone needs nothing above it here; the codes may be categories.
    assert publishes_every_parent(pd.Series(["GM0999"])) is True
    assert publishes_every_parent(pd.Series(["WK099901", "GM0999"], dtype="category")) is True
    # Nederland's row (a CBS table has one) is no buurt or wijk: it needs no parent.
    assert publishes_every_parent(pd.Series(["NL00", "GM0999", "WK099901", "BU09990101"])) \
        is True
    # No areas at all: nothing to complete.
    assert publishes_every_parent(pd.Series([], dtype="str")) is True


def test_positions_of_a_categorical_column_are_those_of_its_text():
    values = ["wijk", "buurt", "wijk", "gemeente", "buurt", "buurt"]
    # Categories in another order than the rows, one of them unused, one value missing.
    column = pd.Series([*values, None], dtype=pd.CategoricalDtype(
        ["land", "gemeente", "wijk", "buurt"]))
    got = _positions(column)
    assert {k: v.tolist() for k, v in got.items()} == {
        "gemeente": [3], "wijk": [0, 2], "buurt": [1, 4, 5]}
    # The last category unused, and only the first used: the counts still reach every
    # category.
    last = _positions(pd.Series(["land", "land"], dtype=pd.CategoricalDtype(
        ["land", "gemeente", "wijk", "buurt"])))
    assert {k: v.tolist() for k, v in last.items()} == {"land": [0, 1]}
    plain_ = _positions(pd.Series(values, dtype=object))
    assert {k: v.tolist() for k, v in plain_.items()} == {
        "wijk": [0, 2], "buurt": [1, 4, 5], "gemeente": [3]}


def test_complete_levels_the_same_with_niveau_as_a_category():
    buurten = _rows(("BU09990101", "inwoners", 100.0, NAN), ("BU09990102", "inwoners", 300.0, NAN),
                    ("BU09990201", "inwoners", 600.0, NAN))
    wijk = _rows(("WK099901", "inwoners", 999.0, NAN), niveau="wijk")
    rows = pd.concat([buurten, wijk], ignore_index=True)
    as_text = complete_levels(rows, FACTORS)
    as_category = complete_levels(rows.astype({"niveau": pd.CategoricalDtype(
        ["land", "gemeente", "wijk", "buurt"])}), FACTORS)
    assert _published(as_category) == _published(as_text) == [
        *_published(rows),
        ("WK099902", "wijk", "inwoners", "kwb", "berekend", 600.0),
        ("GM0999", "gemeente", "inwoners", "kwb", "berekend", 1599.0)]


def test_sources_that_publish_every_parent_are_not_looked_at():
    # "cbs" published no wijk or gemeente rows here: were it looked at, they would be added.
    # Declared complete, its rows are kept as they are and only "lokaal" is completed.
    cbs = _rows(("BU09990101", "inwoners", 100.0, NAN), bron="cbs")
    lokaal = _rows(("BU09990101", "woningen", 40.0, NAN), ("BU09990102", "woningen", 60.0, NAN),
                   bron="lokaal")
    rows = pd.concat([cbs, lokaal], ignore_index=True)
    out = complete_levels(rows, FACTORS, complete={"cbs"})
    assert _published(out) == [
        *_published(rows),
        ("WK099901", "wijk", "woningen", "lokaal", "berekend", 100.0),
        ("GM0999", "gemeente", "woningen", "lokaal", "berekend", 100.0)]
    as_category = complete_levels(rows.astype({"niveau": "category"}), FACTORS,
                                  complete=["cbs"])
    assert _published(as_category) == _published(out)
    # Every source complete: nothing is added, and the table itself comes back.
    only_cbs = complete_levels(cbs, FACTORS, complete={"cbs"})
    assert only_cbs is cbs
    assert _published(complete_levels(rows, FACTORS, complete={"cbs", "lokaal"})) == \
        _published(rows)


def test_expected_parts_of_no_areas_is_an_empty_table():
    got = expected_parts({})
    assert got.empty and list(got.columns) == ["parent", "indeling", "kind", "verwacht"]
