"""Compared with before: the comparison per indicator, the words of a change, the summary
lines and the signal list, on small tables with every number worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wijkkompas.output.profile import change_text, change_word, compare
from wijkkompas.output.summary import _indicator_line, _theme_lines, decline_signals

THRESHOLD = 5.0  # betekenisvolle_verandering of Almelo
POINTS_PER_SD = 20.0


def _rows(*rows):
    return pd.DataFrame(rows, columns=["indicator", "jaar", "indeling", "waarde", "score",
                                       "vergelijkbaar", "bron"])


ROWS = _rows(
    # Scored, hoger is slechter: 40 -> 50 per 1.000, score 90 -> 80.
    ("bijstand", 2015, 2015, 40.0, 90.0, 1.0, "kaart 2015"),
    ("bijstand", 2021, 2021, 50.0, 80.0, 1.0, "kaart 2021"),
    # Context, spread 4: +1,8 is at least 4 / 4 = 1,0: duidelijk hoger.
    ("aandeel_65plus", 2015, 2015, 13.6, np.nan, 1.0, "kaart 2015"),
    ("aandeel_65plus", 2021, 2021, 15.4, np.nan, 1.0, "kaart 2021"),
    # Context, spread 10: +1,8 is less than 10 / 4 = 2,5: ongeveer gelijk.
    ("aandeel_0_14", 2015, 2015, 20.0, np.nan, 1.0, "kaart 2015"),
    ("aandeel_0_14", 2021, 2021, 21.8, np.nan, 1.0, "kaart 2021"),
    # Another area in 2015 (own indeling, boundary changed, nothing carried): not compared.
    ("meldingen", 2015, 2015, 60.0, 95.0, np.nan, "gemeente"),
    ("meldingen", 2021, 2021, 20.0, 120.0, 1.0, "gemeente"),
    # 2015 carried onto the 2021 indeling: compared, and marked by its indeling.
    ("inwoners", 2015, 2021, 456.0, np.nan, 1.0, "kaart 2015 (omgerekend)"),
    ("inwoners", 2021, 2021, 470.0, np.nan, 1.0, "kaart 2021"),
    # Only 2015: the newest value up to 2021 is that of 2015, with nothing before it.
    ("ww", 2015, 2015, 30.0, 100.0, 1.0, "kaart 2015"),
    ("ww", 2021, 2021, np.nan, np.nan, 1.0, "kaart 2021"),
)
RICHTING = {"bijstand": -1, "meldingen": -1, "ww": -1, "aandeel_65plus": 0, "aandeel_0_14": 0,
            "inwoners": 0}
SPREADS = {"aandeel_65plus": 4.0, "aandeel_0_14": 10.0, "bijstand": 20.0}


def _compared(jaar=2021):
    return compare(ROWS, jaar, RICHTING, SPREADS, THRESHOLD, POINTS_PER_SD).set_index(
        "indicator")


def test_scored_indicator_change_by_its_score():
    row = _compared().loc["bijstand"]
    assert (row.jaar_nieuwste, row.waarde_nieuwste, row.jaar_eerder, row.waarde_eerder) == \
        (2021, 50.0, 2015, 40.0)
    assert row.verschil == 10.0 and row.verschil_score == -10.0
    assert row.stap == pytest.approx(-0.5)  # -10 points / 20 points per spread
    assert row.klasse == -1.0  # -10 <= -5: verslechterd
    assert row.bron_nieuwste == "kaart 2021"


def test_context_change_by_a_quarter_of_its_spread():
    compared = _compared()
    older = compared.loc["aandeel_65plus"]
    assert older.verschil == pytest.approx(1.8)
    assert older.stap == pytest.approx(0.45)  # 1,8 / 4
    assert older.klasse == 1.0  # 0,45 spread = 9 points >= 5
    young = compared.loc["aandeel_0_14"]
    assert young.stap == pytest.approx(0.18)  # 1,8 / 10 = 3,6 points < 5
    assert young.klasse == 0.0
    # No spread: the change is stated, never classed.
    assert np.isnan(compared.loc["inwoners", "klasse"])
    assert compared.loc["inwoners", "verschil"] == 14.0


def test_only_the_same_area_is_compared():
    compared = _compared()
    meldingen = compared.loc["meldingen"]
    assert np.isnan(meldingen.jaar_eerder) and np.isnan(meldingen.verschil)
    assert meldingen.ander_gebied == 2015
    inwoners = compared.loc["inwoners"]
    assert (inwoners.jaar_eerder, inwoners.indeling_eerder) == (2015, 2021)


def test_newest_value_up_to_the_year():
    compared = _compared()
    ww = compared.loc["ww"]
    assert (ww.jaar_nieuwste, ww.waarde_nieuwste, ww.score_nieuwste) == (2015, 30.0, 100.0)
    assert np.isnan(ww.jaar_eerder)
    in_2015 = _compared(2015)
    assert set(in_2015["jaar_nieuwste"]) == {2015}
    assert in_2015["jaar_eerder"].isna().all()


def test_change_text_and_words():
    assert change_text(15.405 - 13.615, "% van de inwoners") == "+1,8 procentpunt"
    assert change_text(-5.0, "% van de huishoudens") == "-5,0 procentpunt"
    assert change_text(-0.04, "personen") == "0,0 personen"  # never "-0,0"
    assert change_text(10.0, "aantal") == "+10"
    assert change_text(-164.0, "inwoners per km² land") == "-164 inwoners per km² land"
    assert change_text(40.0, "per 1.000 inwoners") == "+40,0 per 1.000 inwoners"
    assert change_text(np.nan, "aantal") == ""
    assert change_word(-1.0, -1, True) == "verslechterd"
    assert change_word(1.0, 0, True) == "duidelijk hoger (context)"
    assert change_word(0.0, 0, True) == "ongeveer gelijk (context)"
    assert change_word(np.nan, 0, True) == "niet beoordeeld (context)"
    assert change_word(np.nan, 1, False) == ""


def _overview(*rows):
    frame = pd.DataFrame(rows, columns=["thema", "thema_naam", "jaar", "score", "vorige",
                                        "verandering_vorige", "verandering_basisjaar",
                                        "afglijden"])
    frame["klasse"] = np.sign(frame["verandering_vorige"]).where(
        frame["verandering_vorige"].abs() >= THRESHOLD, 0.0).where(
        frame["verandering_vorige"].notna())
    frame["klasse_basisjaar"] = np.sign(frame["verandering_basisjaar"]).where(
        frame["verandering_basisjaar"].abs() >= THRESHOLD, 0.0).where(
        frame["verandering_basisjaar"].notna())
    return frame


def test_theme_lines_only_a_first_measurement():
    overview = _overview(
        ("werk", "Werk en inkomen", 2015, 66.0, np.nan, np.nan, 0.0, False),
        ("veilig", "Veiligheid", np.nan, np.nan, np.nan, np.nan, np.nan, False))
    assert _theme_lines(overview, 2021, 2015) == [
        "Nieuwste themascores: 2015 voor Werk en inkomen; nog nooit een score voor "
        "Veiligheid. In 2021 heeft geen thema een score.",
        "Er is nog geen eerdere themascore om mee te vergelijken: 2015 is de eerste meting."]


def test_theme_lines_since_the_previous_measurement_and_the_base_year():
    # 2015 -> 2019 -> 2023: Leefomgeving 100 -> 96 -> 104 (+8 since 2019, +4 since 2015);
    # Veiligheid 110 -> 104 -> 97 (-7, -13), afglijden; Wonen 98 -> 99 -> 101 (+2, +3).
    overview = _overview(
        ("leef", "Leefomgeving", 2023, 104.0, 2019, 8.0, 4.0, False),
        ("veilig", "Veiligheid", 2023, 97.0, 2019, -7.0, -13.0, True),
        ("wonen", "Wonen", 2023, 101.0, 2019, 2.0, 3.0, False))
    assert _theme_lines(overview, 2023, 2015) == [
        "Nieuwste themascores: 2023 voor alle thema's.",
        "Sinds de vorige meting verbeterd: Leefomgeving (+8 punten, 2019-2023); "
        "verslechterd: Veiligheid (-7 punten, 2019-2023); gelijk gebleven: Wonen.",
        "Sinds het basisjaar 2015: Veiligheid verslechterd (-13 punten).",
        "Afglijden (meerdere metingen achter elkaar gedaald): Veiligheid."]


def test_indicator_line_names_the_largest_steps_with_units():
    comparison = _compared().reset_index()
    labels = {"bijstand": ("Personen met bijstand", "per 1.000 inwoners"),
              "aandeel_65plus": ("Inwoners 65 jaar of ouder", "% van de inwoners"),
              "aandeel_0_14": ("Inwoners 0 tot 15 jaar", "% van de inwoners"),
              "meldingen": ("Meldingen", "per 1.000 inwoners"), "inwoners": ("Inwoners", "aantal"),
              "ww": ("WW", "per 1.000 inwoners")}
    # Steps: bijstand -0,5 (verslechterd), 65+ +0,45 (duidelijk hoger); 0-14 is not
    # meaningful, inwoners has no spread, meldingen and ww nothing to compare.
    assert _indicator_line(comparison, labels, {"bijstand"}) == (
        "Het meest veranderd: Personen met bijstand: van 40,0 naar 50,0 per 1.000 inwoners "
        "(2015-2021: +10,0 per 1.000 inwoners) (omgerekend, schatting); Inwoners 65 jaar of "
        "ouder: van 13,6 naar 15,4 % van de inwoners (2015-2021: +1,8 procentpunt).")
    assert _indicator_line(comparison[comparison["indicator"] == "aandeel_0_14"], labels,
                           set()) == "Geen indicator veranderde duidelijk sinds de vorige meting."


def _themes(*rows):
    return pd.DataFrame(rows, columns=["gebiedscode", "gebiedsnaam", "niveau", "jaar", "thema",
                                       "deel", "score", "verandering_vorig_jaar", "afglijden"])


def test_signals_largest_decline_first_with_the_numbers():
    themes = _themes(
        ("WK014110", "Binnenstad", "wijk", 2015, "leef", "totaal", 100.0, np.nan, False),
        ("WK014110", "Binnenstad", "wijk", 2021, "leef", "totaal", 88.0, -12.0, False),
        ("WK014111", "De Riet", "wijk", 2015, "leef", "totaal", 100.0, np.nan, False),
        ("WK014111", "De Riet", "wijk", 2021, "leef", "totaal", 96.0, -4.0, False),  # < 5
        ("BU01411000", "Centrum", "buurt", 2015, "leef", "totaal", 90.0, np.nan, False),
        ("BU01411000", "Centrum", "buurt", 2021, "leef", "totaal", 70.0, -20.0, False),
        # Objectief only: not a total, never a signal.
        ("WK014112", "Noord", "wijk", 2021, "leef", "objectief", 50.0, -30.0, False),
        # Afglijden with a small last step: a signal, after the larger declines.
        ("WK014113", "Sluitersveld", "wijk", 2021, "veilig", "totaal", 93.0, -3.0, True),
        # A decline in 2019, then a rise: the newest change counts, no signal.
        ("WK014114", "Wierdense Hoek", "wijk", 2019, "leef", "totaal", 90.0, -10.0, False),
        ("WK014114", "Wierdense Hoek", "wijk", 2021, "leef", "totaal", 95.0, 5.0, False))
    found = decline_signals(themes, THRESHOLD, {"leef": "Leefomgeving", "veilig": "Veiligheid"},
                            {("BU01411000", 2015): 2021})
    assert found.drop(columns="gebiedscode").values.tolist() == [
        ["Centrum", "buurt", "Leefomgeving", 2021, "2015", "70", "-20", "verslechterd",
         "2015 omgerekend naar de indeling van 2021 (schatting)"],
        ["Binnenstad", "wijk", "Leefomgeving", 2021, "2015", "88", "-12", "verslechterd", ""],
        ["Sluitersveld", "wijk", "Veiligheid", 2021, "", "93", "-3", "afglijden", ""]]
    calm = themes[themes["gebiedscode"].isin(["WK014111", "WK014114"])]
    empty = decline_signals(calm, THRESHOLD, {}, {})
    assert empty.empty and "Omrekening" not in empty.columns
