"""The one table reader and the strict Dutch/English number parser."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wijkkompas.errors import WijkkompasError, capped
from wijkkompas.tabular import NumberError, parse_number, parse_series, read_table


def _format(value: int, decimals: str, decimal: str, grouped: bool) -> str:
    """A number written by hand in one notation: 1234567 and '5' -> '1.234.567,5'."""
    digits = str(abs(value))
    if grouped:
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = ("." if decimal == "," else ",").join(groups)
    text = ("-" if value < 0 else "") + digits
    return f"{text}{decimal}{decimals}" if decimals else text


@given(st.integers(-10**12, 10**12), st.text("0123456789", max_size=6),
       st.sampled_from([",", "."]), st.booleans())
def test_round_trip_of_formatted_numbers(value, decimals, decimal, grouped):
    text = _format(value, decimals, decimal, grouped)
    expected = float(f"{value}.{decimals}" if decimals else value)
    if value == 0 and text.startswith("-"):
        expected = -0.0
    assert parse_number(text, decimal) == expected
    numbers, bad = parse_series(pd.Series([text]), decimal)
    assert not bad[0] and numbers[0] == expected


@given(st.one_of(st.text(max_size=20), st.text("0123456789.,-", max_size=15),
                 st.text("0123456789", min_size=300, max_size=400), st.floats(),
                 st.integers(-10**400, 10**400), st.booleans(), st.none()),
       st.sampled_from([",", "."]))
def test_no_input_raises_anything_but_a_clear_error(value, decimal):
    try:
        result = parse_number(value, decimal, where="f.csv regel 2, kolom x")
    except WijkkompasError as exc:
        assert str(exc).startswith("f.csv regel 2, kolom x: ") and "\n" not in str(exc)
        assert len(str(exc)) < 200
        result = "fout"
    else:
        assert result is None or (isinstance(result, float) and math.isfinite(result))
    # The column parser agrees with the cell parser on every value.
    numbers, bad = parse_series(pd.Series([value], dtype=object), decimal)
    if result == "fout":
        assert bad[0] and math.isnan(numbers[0])
    elif result is None:
        assert not bad[0] and math.isnan(numbers[0])
    else:
        assert not bad[0] and numbers[0] == result


@pytest.mark.parametrize("text, decimal, expected", [
    ("2.160", ",", 2160.0),
    ("1.234,5", ",", 1234.5),
    ("1,6", ",", 1.6),
    ("-0,25", ",", -0.25),
    ("1,234.5", ".", 1234.5),
    ("2.16", ".", 2.16),
    ("", ",", None),
    (".", ",", None),
    ("  7 ", ".", 7.0),
])
def test_numbers_in_each_notation(text, decimal, expected):
    assert parse_number(text, decimal) == expected


@pytest.mark.parametrize("text, decimal, reason", [
    ("1,234.5", ",", "'1,234.5' past niet bij de getalnotatie van dit bestand (decimaalkomma"),
    ("12.5", ",", "'12.5' past niet bij de getalnotatie van dit bestand (decimaalkomma"),
    ("1.5", ",", "'1.5' past niet bij de getalnotatie"),
    ("1.234,5", ".", "'1.234,5' past niet bij de getalnotatie van dit bestand (decimaalpunt"),
    ("twee duizend", ",", "geen getal: 'twee duizend'"),
    ("12.34.5", ",", "geen getal: '12.34.5'"),
    ("1e5", ".", "geen getal: '1e5'"),
    ("nan", ".", "geen getal: 'nan'"),
    ("€ 5", ",", "geen getal: '€ 5'"),
    ("١٢٣", ",", "geen getal: '١٢٣'"),
])
def test_wrong_numbers_are_refused_never_misread(text, decimal, reason):
    with pytest.raises(NumberError) as info:
        parse_number(text, decimal, where="cijfers.csv regel 4, kolom waarde")
    assert str(info.value).startswith(f"cijfers.csv regel 4, kolom waarde: {reason}")
    assert info.value.reason.startswith(reason) and "\n" not in str(info.value)


def test_separator_and_decimal_mark_are_recognised(tmp_path):
    dutch = tmp_path / "nl.csv"
    dutch.write_text("code;inwoners;grootte\nWK014110;2.160;1,6\n", encoding="utf-8")
    english = tmp_path / "en.csv"
    english.write_text('code,inwoners,grootte\nWK014110,"2,160",1.6\n', encoding="utf-8")
    tabs = tmp_path / "tab.csv"
    tabs.write_text("code\tinwoners\tgrootte\nWK014110\t2160\t1,6\n", encoding="cp1252")
    for path, decimal in ((dutch, ","), (english, "."), (tabs, ",")):
        table = read_table(path)
        assert table.decimal == decimal, path.name
        assert list(table.frame.columns) == ["code", "inwoners", "grootte"]
        assert table.number(0, "inwoners") == 2160.0
        assert table.number(0, "grootte") == 1.6


def test_windows_encoding_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("naam;aantal\nCafé Ré;3\n".encode("cp1252"))
    assert read_table(path).frame.loc[0, "naam"] == "Café Ré"


def test_excel_cells_keep_their_numbers(tmp_path):
    path = tmp_path / "cijfers.xlsx"
    pd.DataFrame({"code": ["WK014110", "WK014111"], "waarde": [12.5, None],
                  "tekst": ["1.234,5", "x"]}).to_excel(path, index=False)
    table = read_table(path)
    assert table.number(0, "waarde") == 12.5 and table.number(1, "waarde") is None
    assert table.number(0, "tekst") == 1234.5
    with pytest.raises(WijkkompasError, match=r"cijfers.xlsx rij 3, kolom tekst: geen getal: 'x'"):
        table.number(1, "tekst")


@pytest.mark.parametrize("name, content, message", [
    ("nep.xlsx", b"gebiedscode,waarde\n", "is geen geldig Excel-bestand (.xlsx)"),
    ("oud.xls", b"", "alleen Excel-bestanden in .xlsx-formaat"),
    ("cijfers.txt", b"a,b\n", "onbekend bestandstype '.txt'; gebruik .csv of .xlsx"),
    ("leeg.csv", b"", "is leeg; verwacht een kopregel met kolomnamen"),
    ("scheef.csv", b"a,b\n1,2\n1,2,3\n", "is geen geldige CSV"),
    ("verschoven.csv", b"a,b\n1,2,3\n", ": een regel heeft meer cellen dan de kopregel "
                                         "kolommen"),
    ("dubbel.csv", b"waarde;waarde ;x\n1;2;3\n", ": de kopregel noemt kolom waarde meer dan "
                                                 "eens"),
])
def test_unreadable_tables_give_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(WijkkompasError) as info:
        read_table(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_capped_lists_ten_then_counts_the_rest():
    assert capped(range(3)) == "0; 1; 2"
    assert capped(range(10)) == "; ".join(map(str, range(10)))
    assert capped(range(268985)) == "; ".join(map(str, range(10))) + " (en nog 268975)"
    assert capped(["a", "b", "c"], limit=2, sep=", ") == "a, b (en nog 1)"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from([".csv", ".xlsx"]))
def test_any_file_is_read_or_refused_with_one_line(tmp_path, content, suffix):
    path = tmp_path / f"bestand{suffix}"
    path.write_bytes(content)
    try:
        table = read_table(path)
    except WijkkompasError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert table.decimal in (",", ".")
        for column in table.frame.columns:
            for index in table.frame.index:
                try:
                    table.number(index, column)
                except WijkkompasError as exc:
                    assert str(exc).startswith(f"{path} ")
