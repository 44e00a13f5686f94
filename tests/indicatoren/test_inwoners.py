"""The inhabitants of an area in a year and indeling (build/inwoners.py) and the crime rates
per 1,000 inhabitants (build/veiligheid.py), on small hand-made tables, every figure by hand.

Fast unit tests (also the test selection of both modules' mutation runs, tools/mutation.py):
no files, no real data. Made-up buurten of gemeente GM0999.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wijkkompas.indicatoren.inwoners import COLUMNS, MIN_INWONERS, inhabitants
from wijkkompas.indicatoren.rows import INTERNAL
from wijkkompas.indicatoren.veiligheid import (
    crime_rate_indicators,
    crime_rates,
    missing_rates_line,
)

NAN = math.nan
VERDICT_COLUMNS = ["gebiedscode", "indeling", "oordeel", "vergeleken_met"]


def _row(code: str, jaar: int, indeling: int, indicator: str, waarde: float | None, *,
         status: str = "waargenomen", bron: str = "kwb", dekking: float = NAN,
         wijziging: float = NAN) -> dict:
    return {"gebiedscode": code, "gebiedsnaam": f"naam {code}",
            "niveau": {"GM": "gemeente", "WK": "wijk", "BU": "buurt"}[code[:2]],
            "jaar": jaar, "indeling": indeling, "indicator": indicator,
            "waarde": NAN if waarde is None else float(waarde), "teller": NAN, "noemer": NAN,
            "bron": bron, "status": status, "indelingswijziging": wijziging,
            "dekking": dekking, "bron_id": bron}


def _long(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=INTERNAL)


def _need(*keys: tuple[str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(keys, columns=["gebiedscode", "jaar", "indeling"])


def _verdicts(*rows: tuple[str, int, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def _found(out: pd.DataFrame) -> dict[tuple[str, int, int], tuple]:
    return {(r.gebiedscode, r.jaar, r.indeling): (
        None if pd.isna(r.inwoners) else r.inwoners,
        None if pd.isna(r.inwoners_bron) else r.inwoners_bron,
        None if pd.isna(r.inwoners_dekking) else r.inwoners_dekking, r.inwoners_toelichting)
        for r in out.itertuples()}


# BU09990101: the same area in 2022 and 2024 by its boundaries; 1000 in 2024, 800 in 2022.
# BU09990102: another area in 2022 than in 2024 ("gewijzigd"): only the figure carried onto
#             the buurten of 2024 by area counts (700, dekking 0.95).
# BU09990103: no boundaries of 2021 or 2020; CBS's indelingswijziging is 1 in 2022, 2023 and
#             2024, not known in 2021.
# BU09990104: no inhabitants at all.
LONG = _long(
    _row("BU09990101", 2024, 2024, "inwoners", 1000, wijziging=1),
    _row("BU09990101", 2022, 2022, "inwoners", 800, wijziging=1),
    _row("BU09990102", 2022, 2022, "inwoners", 300),
    _row("BU09990102", 2022, 2024, "inwoners", 700, status="berekend", bron="omgerekend",
         dekking=0.95),
    _row("BU09990103", 2021, 2021, "inwoners", 400, wijziging=0),
    _row("BU09990103", 2020, 2020, "inwoners", 390),
    _row("BU09990103", 2022, 2022, "inwoners", 410, wijziging=1),
    _row("BU09990103", 2023, 2023, "inwoners", 420, wijziging=1),
    _row("BU09990103", 2024, 2024, "inwoners", 430, wijziging=1),
    _row("BU09990104", 2024, 2024, "woningen", 50),
    _row("BU09990104", 2024, 2024, "inwoners", None),
)
VERDICTS = _verdicts(("BU09990101", 2024, "gelijk", 2022),
                     ("BU09990102", 2024, "gewijzigd", 2022))


def test_inhabitants_in_the_order_of_the_module():
    need = _need(("BU09990101", 2024, 2024), ("BU09990101", 2022, 2024),
                 ("BU09990102", 2022, 2024), ("BU09990103", 2021, 2024),
                 ("BU09990103", 2020, 2024), ("BU09990103", 2024, 2021),
                 ("BU09990104", 2024, 2024), ("BU09990101", 2024, 2024))
    out = inhabitants(LONG, VERDICTS, need)
    assert list(out.columns) == COLUMNS
    assert list(out.index) == list(range(7))  # the repeated key once
    assert _found(out) == {
        ("BU09990101", 2024, 2024): (1000.0, "kwb", None, "zelfde jaar en indeling"),
        ("BU09990101", 2022, 2024): (800.0, "kwb", None, "zelfde grenzen in 2022 en 2024"),
        ("BU09990102", 2022, 2024): (
            700.0, "omgerekend", 0.95,
            "BU09990102 is in 2022 een ander gebied dan in 2024 (gewijzigd); omgerekend naar "
            "de buurten van 2024 naar oppervlakte"),
        ("BU09990103", 2021, 2024): (400.0, "kwb", None,
                                     "volgens CBS ongewijzigd van 2021 tot 2024"),
        ("BU09990103", 2020, 2024): (
            None, None, None,
            "niet aangetoond dat BU09990103 in 2020 hetzelfde gebied is als in 2024 (geen "
            "grenzen van 2020 en geen CBS-indelingscode 1 voor 2021-2024)"),
        # A later year on an earlier indeling: the same rule, the years the other way.
        ("BU09990103", 2024, 2021): (430.0, "kwb", None,
                                     "volgens CBS ongewijzigd van 2021 tot 2024"),
        ("BU09990104", 2024, 2024): (None, None, None,
                                     "geen inwoners van BU09990104 in 2024 bekend"),
    }
    assert out["jaar"].dtype == "int64" and out["indeling"].dtype == "int64"


def test_a_figure_of_another_area_with_the_same_code_is_never_used():
    # 2022 on 2024 without a carried figure: the own 2022 figure (of another area) is not
    # used, and the reason is the verdict.
    long = LONG[~((LONG["gebiedscode"] == "BU09990102") & (LONG["indeling"] == 2024))]
    out = inhabitants(long, VERDICTS, _need(("BU09990102", 2022, 2024)))
    assert _found(out) == {("BU09990102", 2022, 2024): (
        None, None, None, "BU09990102 is in 2022 een ander gebied dan in 2024 (gewijzigd)")}


def test_the_same_area_without_its_own_figure_takes_the_carried_one():
    long = _long(_row("BU09990101", 2022, 2024, "inwoners", 650, status="berekend",
                      bron="omgerekend", dekking=1.0))
    out = inhabitants(long, VERDICTS, _need(("BU09990101", 2022, 2024)))
    assert _found(out) == {("BU09990101", 2022, 2024): (
        650.0, "omgerekend", 1.0, "zelfde grenzen in 2022 en 2024; omgerekend naar de buurten "
        "van 2024 naar oppervlakte")}


def test_boundaries_outweigh_cbs_codes_and_no_verdicts_at_all():
    # CBS says unchanged 2023-2024, but the boundaries say "gewijzigd": not the same area.
    long = _long(_row("BU09990105", 2024, 2024, "inwoners", 100, wijziging=1),
                 _row("BU09990105", 2023, 2023, "inwoners", 90, wijziging=1))
    verdicts = _verdicts(("BU09990105", 2024, "gewijzigd", 2023))
    out = inhabitants(long, verdicts, _need(("BU09990105", 2023, 2024)))
    assert _found(out)[("BU09990105", 2023, 2024)][0] is None
    # Without any verdicts, CBS's code decides: unchanged in 2024 against 2023.
    out = inhabitants(long, _verdicts(), _need(("BU09990105", 2023, 2024)))
    assert _found(out)[("BU09990105", 2023, 2024)] == (
        90.0, "kwb", None, "volgens CBS ongewijzigd van 2023 tot 2024")
    # A code of 0 or none in a year between, or one only on a carried row: not shown.
    for wijziging in (0, NAN):
        changed = long.assign(indelingswijziging=[wijziging, 1])
        out = inhabitants(changed, _verdicts(), _need(("BU09990105", 2023, 2024)))
        assert _found(out)[("BU09990105", 2023, 2024)][0] is None
    carried = _long(*long.to_dict("records"),
                    _row("BU09990105", 2024, 2023, "inwoners", 80, status="berekend",
                         wijziging=1, dekking=1.0))
    carried.loc[0, "indelingswijziging"] = NAN
    out = inhabitants(carried, _verdicts(), _need(("BU09990105", 2023, 2024)))
    assert _found(out)[("BU09990105", 2023, 2024)][0] is None


def test_an_observed_figure_goes_first_then_coverage_then_the_source():
    code = "BU09990106"
    rows = [_row(code, 2024, 2024, "inwoners", 1, status="berekend", bron="a", dekking=1.0),
            _row(code, 2024, 2024, "inwoners", 2, bron="z"),
            _row(code, 2024, 2024, "inwoners", 3, bron="b")]
    out = inhabitants(_long(*rows), _verdicts(), _need((code, 2024, 2024)))
    assert _found(out)[(code, 2024, 2024)][:2] == (3.0, "b")  # observed, then by source
    rows = [_row(code, 2024, 2024, "inwoners", 1, status="berekend", bron="a", dekking=0.91),
            _row(code, 2024, 2024, "inwoners", 2, status="berekend", bron="b", dekking=0.99),
            _row(code, 2024, 2024, "inwoners", 4, status="berekend", bron="c"),
            _row(code, 2024, 2024, "inwoners", None, bron="d")]
    out = inhabitants(_long(*rows), _verdicts(), _need((code, 2024, 2024)))
    assert _found(out)[(code, 2024, 2024)] == (2.0, "b", 0.99, "zelfde jaar en indeling")


def test_inhabitants_read_categorical_columns_as_text():
    long = LONG.astype({"gebiedscode": "category", "indicator": "category",
                        "status": "category", "bron": "category"})
    need = _need(("BU09990101", 2022, 2024), ("BU09990102", 2022, 2024)).astype(
        {"gebiedscode": "category"})
    out = inhabitants(long, VERDICTS, need)
    assert [r[0] for r in _found(out).values()] == [800.0, 700.0]


def _counts(*values: tuple[str, int, int, str, float | None]) -> list[dict]:
    return [_row(code, jaar, indeling, indicator, v, bron="politie")
            for code, jaar, indeling, indicator, v in values]


def test_crime_rates_per_1000_inhabitants_by_hand():
    rates = crime_rate_indicators()
    assert rates["misdrijven_totaal_per_1000"] == "misdrijven_totaal"
    assert rates["misdrijven_geweld_per_1000"] == "misdrijven_geweld"
    assert all(rate.endswith("_per_1000") for rate in rates)
    long = _long(
        *LONG.to_dict("records"),
        *_counts(("BU09990101", 2024, 2024, "misdrijven_totaal", 25),  # 25 / 1000
                 ("BU09990101", 2022, 2024, "misdrijven_geweld", 4),  # 4 / 800
                 ("BU09990102", 2022, 2024, "misdrijven_totaal", 14),  # 14 / 700 (carried)
                 ("BU09990103", 2020, 2024, "misdrijven_totaal", 3),  # no inhabitants
                 ("BU09990101", 2024, 2024, "misdrijven_fiets", None),  # no count
                 ("BU09990107", 2024, 2024, "misdrijven_totaal", 2)),  # 49 inhabitants
        _row("BU09990107", 2024, 2024, "inwoners", MIN_INWONERS - 1),
        _row("BU09990108", 2024, 2024, "inwoners", MIN_INWONERS),
        *_counts(("BU09990108", 2024, 2024, "misdrijven_totaal", 1)))  # 1 / 50
    out = crime_rates(long, VERDICTS)
    assert list(out.columns) == INTERNAL
    got = {(r.gebiedscode, r.jaar, r.indicator): r for r in out.itertuples()}
    assert len(got) == len(out) == 7
    one = got[("BU09990101", 2024, "misdrijven_totaal_per_1000")]
    assert (one.waarde, one.teller, one.noemer, one.status) == (25.0, 25.0, 1000.0, "berekend")
    assert one.bron == "politie; inwoners: kwb (zelfde jaar en indeling)"
    assert (one.gebiedsnaam, one.niveau, one.indeling, one.bron_id) == (
        "naam BU09990101", "buurt", 2024, "politie")
    assert math.isnan(one.indelingswijziging) and math.isnan(one.dekking)
    geweld = got[("BU09990101", 2022, "misdrijven_geweld_per_1000")]
    assert geweld.waarde == pytest.approx(5.0) and geweld.noemer == 800.0
    carried = got[("BU09990102", 2022, "misdrijven_totaal_per_1000")]
    assert carried.waarde == pytest.approx(20.0) and carried.dekking == 0.95
    assert carried.bron.startswith("politie; inwoners: omgerekend (BU09990102 is in 2022 ")
    unknown = got[("BU09990103", 2020, "misdrijven_totaal_per_1000")]
    assert math.isnan(unknown.waarde) and unknown.status == "ontbreekt"
    assert unknown.teller == 3.0 and math.isnan(unknown.noemer) and math.isnan(unknown.dekking)
    assert unknown.bron == ("politie; geen cijfer: niet aangetoond dat BU09990103 in 2020 "
                            "hetzelfde gebied is als in 2024 (geen grenzen van 2020 en geen "
                            "CBS-indelingscode 1 voor 2021-2024)")
    nocount = got[("BU09990101", 2024, "misdrijven_fiets_per_1000")]
    assert math.isnan(nocount.waarde) and nocount.status == "ontbreekt"
    assert nocount.bron == "politie; geen cijfer: het aantal misdrijven ontbreekt"
    assert math.isnan(nocount.dekking) and nocount.noemer == 1000.0
    small = got[("BU09990107", 2024, "misdrijven_totaal_per_1000")]
    assert math.isnan(small.waarde) and small.noemer == MIN_INWONERS - 1
    assert small.bron == (f"politie; geen cijfer per 1.000 inwoners: minder dan {MIN_INWONERS} "
                          f"inwoners ({MIN_INWONERS - 1})")
    enough = got[("BU09990108", 2024, "misdrijven_totaal_per_1000")]
    assert enough.waarde == pytest.approx(1000 / MIN_INWONERS)
    assert MIN_INWONERS == 50


def test_crime_rates_without_inhabitants_row_and_without_counts():
    # A count of an area without any inhabitants row: the reason names that.
    long = _long(*_counts(("BU09990109", 2024, 2024, "misdrijven_totaal", 5)))
    out = crime_rates(long, _verdicts())
    assert out["bron"].tolist() == ["politie; geen cijfer: geen inwoners van BU09990109 in 2024 "
                                    "bekend"]
    assert out["status"].tolist() == ["ontbreekt"]
    # No crime counts: an empty table with every column.
    empty = crime_rates(LONG, VERDICTS)
    assert empty.empty and list(empty.columns) == INTERNAL
    assert np.isnan(crime_rates(long, _verdicts())["waarde"]).all()


def test_a_later_year_on_an_earlier_indeling_takes_the_carried_figure():
    # 2024 on the indeling of 2022, not shown to be the same area: the figure of 2024
    # carried onto the buurten of 2022 (55), not none.
    code = "BU09990110"
    long = _long(_row(code, 2024, 2024, "inwoners", 60),
                 _row(code, 2024, 2022, "inwoners", 55, status="berekend", bron="omgerekend",
                      dekking=0.92))
    out = inhabitants(long, _verdicts(), _need((code, 2024, 2022)))
    assert _found(out) == {(code, 2024, 2022): (
        55.0, "omgerekend", 0.92,
        f"niet aangetoond dat {code} in 2024 hetzelfde gebied is als in 2022 (geen grenzen "
        "van 2024 en geen CBS-indelingscode 1 voor 2023-2024); omgerekend naar de buurten van "
        "2022 naar oppervlakte")}


def test_cbs_codes_only_from_rows_on_their_own_indeling():
    # A carried row onto a later indeling (2024 on 2025) with a code 1 says nothing about
    # BU09990105 in 2024 on its own indeling: 2023 is not shown to be the same area as 2024.
    code = "BU09990105"
    long = _long(_row(code, 2024, 2024, "inwoners", 100),
                 _row(code, 2023, 2023, "inwoners", 90),
                 _row(code, 2024, 2025, "inwoners", 80, status="berekend", wijziging=1,
                      dekking=1.0))
    out = inhabitants(long, _verdicts(), _need((code, 2023, 2024)))
    assert _found(out)[(code, 2023, 2024)][0] is None


def test_an_unknown_coverage_ranks_as_zero():
    # Two computed figures, one with coverage 0 and one with none known: equal (0), so the
    # source decides ("a" before "b").
    code = "BU09990111"
    rows = [_row(code, 2024, 2024, "inwoners", 1, status="berekend", bron="b", dekking=0.0),
            _row(code, 2024, 2024, "inwoners", 2, status="berekend", bron="a")]
    out = inhabitants(_long(*rows), _verdicts(), _need((code, 2024, 2024)))
    assert _found(out)[(code, 2024, 2024)][:2] == (2.0, "a")


def test_missing_rates_line_by_hand():
    """The one line after a build naming the years with inhabitants whose crime counts got
    no rate at all, with the reason of the first such year; None when there is nothing to
    say."""
    def rows(*values: tuple) -> pd.DataFrame:
        return pd.DataFrame(values, columns=["indicator", "jaar", "teller", "waarde",
                                             "indeling", "bron"])

    rate = "misdrijven_totaal_per_1000"
    table = rows(
        (rate, 2018, 1.0, np.nan, 2024, "politie; geen cijfer: reden 2018"),  # no inhabitants
        # The reason is all after the first marker; the first row's reason is the example.
        (rate, 2019, 2.0, np.nan, 2024, "politie; geen cijfer: reden 2019; geen cijfer: a"),
        (rate, 2019, 1.0, np.nan, 2024, "politie; geen cijfer: andere reden 2019"),
        (rate, 2020, 3.0, np.nan, 2024, "politie; geen cijfer: reden 2020"),
        (rate, 2022, 4.0, 5.0, 2024, "politie; inwoners: kwb"),
        (rate, 2023, np.nan, np.nan, 2024, "politie; geen cijfer: het aantal ontbreekt"),
        ("inwoners", 2018, np.nan, np.nan, 2018, "kwb"),
        ("inwoners", 2019, np.nan, 800.0, 2019, "kwb"),
        ("inwoners", 2020, np.nan, 900.0, 2020, "kwb"),
        ("inwoners", 2022, np.nan, 1000.0, 2022, "kwb"),
        ("inwoners", 2023, np.nan, 1000.0, 2023, "kwb"),
        # Other figures of 2018 say nothing about its inhabitants.
        ("aantal_woningen", 2018, np.nan, 400.0, 2018, "kwb"),
        ("woz", 2018, np.nan, 200.0, 2018, "kwb"))
    assert missing_rates_line(table) == (
        "Geen misdrijven per 1.000 inwoners voor 2019, 2020: de Politie-tabel staat in de "
        "buurtindeling van 2024 en van die jaren zijn geen inwoners van dezelfde buurten "
        "bekend (bijvoorbeeld: reden 2019; geen cijfer: a). Haal ook de grenzen of "
        "kerncijfers van 2024 op ('wijkkompas fetch --jaren 2024') en bouw opnieuw.")
    # The first missing year without a stated reason: no example.
    plain = table.copy()
    plain.loc[[1, 2], "bron"] = "politie"
    assert missing_rates_line(plain).endswith(
        "geen inwoners van dezelfde buurten bekend. Haal ook de grenzen of kerncijfers van "
        "2024 op ('wijkkompas fetch --jaren 2024') en bouw opnieuw.")
    # Nothing to say: every counted year with inhabitants has a rate, no counts, no table.
    assert missing_rates_line(table[table["jaar"].isin([2018, 2022, 2023])]) is None
    assert missing_rates_line(table[table["indicator"] == rate]) is None  # no inhabitants
    assert missing_rates_line(table.assign(teller=np.nan)) is None
    assert missing_rates_line(table[table["indicator"] == "inwoners"]) is None
    assert missing_rates_line(table.iloc[0:0]) is None
