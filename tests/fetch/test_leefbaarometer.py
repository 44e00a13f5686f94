"""Reading and importing the Leefbaarometer buurt file (fetch/leefbaarometer.py): both
separators, both decimal marks, bad rows by line, and a file whose decimal mark is not
certain. Weighting the scores in the build: tests/indicatoren/test_veiligheid.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.fixtures.leefbaarometer import SEMICOLON, comma_variant
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.leefbaarometer import read_file


def _file(tmp_path, text, name="lbm.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_both_separators_and_both_decimal_marks_read_the_same(tmp_path):
    """What the files of leefbaarometer.nl may hold: ';' or ',' between fields, a decimal
    comma or point, in every combination."""
    variants = {
        "Leefbaarometer-scores buurten 2002-2024.csv": SEMICOLON,
        "komma.csv": comma_variant(SEMICOLON),
        "punt.csv": SEMICOLON.replace(",", ".").replace(";", ","),
        "puntkomma_punt.csv": SEMICOLON.replace(",", "."),
    }
    tables = [read_file(_file(tmp_path, text, name)) for name, text in variants.items()]
    assert [t.separator for t in tables] == [";", ",", ",", ";"]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table.frame, tables[0].frame)
    frame = tables[0].frame.set_index(["bu_code", "jaar"])
    assert frame.loc[("BU01412000", 2024), "lbm_fys"] == -0.034
    assert frame.loc[("BU01412000", 2024), "lbm_totaal"] == 4.21
    assert np.isnan(frame.loc[("BU01412109", 2024), "lbm_onv"])
    assert tables[0].missing == 1


@pytest.mark.parametrize("text", [
    # ',' between fields, a quoted decimal comma on one line and a decimal point on another:
    # '0,012' could be 12 with the point as decimal mark.
    comma_variant(SEMICOLON).replace('"4,30"', "4.30"),
    # ';' between fields, decimal commas, and one score with a point.
    SEMICOLON.replace("0,101", "0.101"),
])
def test_a_file_with_both_decimal_marks_is_refused(tmp_path, text):
    path = _file(tmp_path, text)
    with pytest.raises(WijkkompasError) as info:
        read_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: scores met een decimaalkomma (regel 2, lbm '4,21') "
                              "en met een decimaalpunt (regel ")
    assert "één decimaalteken" in message and "\n" not in message


@pytest.mark.parametrize("cell", ["4.2e1", "4,2E-1", "1.234,5", "1,234.5", "1.234.567", "4.",
                                  ".5", "inf", "٤,٢"])
def test_a_score_that_is_no_plain_number_is_refused(tmp_path, cell):
    """No exponent (the reader's own pattern accepted one), no thousands separator, no
    digits of other scripts."""
    path = _file(tmp_path, SEMICOLON.replace(";0,012;", f";{cell};"))
    with pytest.raises(WijkkompasError, match=f"regel 2: won '{cell}' is geen getal"):
        read_file(path)


def test_a_point_is_no_missing_score(tmp_path):
    """CBS writes '.' for a missing value; the Leefbaarometer leaves the cell empty."""
    with pytest.raises(WijkkompasError, match="regel 2: won '.' is geen getal"):
        read_file(_file(tmp_path, SEMICOLON.replace(";0,012;", ";.;")))


BAD = """bu_code;jaar;lbm;won;fys;vrz;soc;onv
BU01412000;2024;4,21;0,012;-0,034;0,101;0,020;0,05
BU0141200;2024;4,05;-0,020;0,015;-0,200;0,011;-0,02
BU01412100;24;4,30;0,030;0,040;-0,150;0,090;0,10

BU01412109;2024;4,28;0,025;abc;-0,300;0,080;
BU01412000;2024;4,21;0,012;-0,034;0,101;0,020;0,05
BU01412001;2024;4,05;-0,020
BU01412001;2024;1.234,5;0;0;0;0;0
"""


def test_bad_leefbaarometer_rows_are_reported_by_line(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    path = _file(tmp_path, BAD)
    assert main(["import", str(path), "--bron", "leefbaarometer", "--data-dir", str(data)]) == 1
    message = capsys.readouterr().err.strip()
    assert "\n" not in message
    assert message.startswith(f"fout: {path}: 6 foute rij(en): ")
    assert "regel 3: bu_code 'BU0141200' is geen buurtcode (BU + 8 cijfers)" in message
    assert "regel 4: jaar '24' is geen geldig jaar" in message
    assert "regel 6: fys 'abc' is geen getal" in message
    assert "regel 7: BU01412000 2024 staat ook op regel 2" in message
    assert "regel 8: 4 velden in plaats van 8" in message
    assert "(en nog 1)" in message
    assert list((data / "raw").iterdir()) == []


def test_leefbaarometer_without_its_columns_is_refused(tmp_path):
    path = _file(tmp_path, "buurtcode;jaar;score\nBU01412000;2024;4,2\n")
    with pytest.raises(WijkkompasError, match="kolom\\(men\\) bu_code, lbm, won, fys, vrz, "
                       "soc, onv ontbreken"):
        read_file(path)


def test_a_manifest_entry_naming_another_folder_is_refused(tmp_path):
    """The key of a Leefbaarometer entry becomes a folder name: only a year."""
    from wijkkompas.manifest import read_manifest

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "manifest.json").write_text(
        '{"leefbaarometer": {"../../elders": {"indeling": 2024, "gemeente": "GM0141"}}}',
        encoding="utf-8")
    with pytest.raises(WijkkompasError, match="klopt niet"):
        read_manifest(raw)
