"""Loading data/processed: each boundary layer is read once and handed out as a copy."""

from __future__ import annotations

import os
import shutil

import geopandas as gpd
import pytest

from wijkkompas.errors import WijkkompasError
from wijkkompas.kompas import results as results_module
from wijkkompas.kompas.results import load_processed


@pytest.fixture(scope="module")
def data(almelo_built, tmp_path_factory):
    """A copy of the built Almelo data: these tests touch grenzen.gpkg."""
    folder = tmp_path_factory.mktemp("processed") / "data"
    shutil.copytree(almelo_built, folder)
    return folder


@pytest.fixture
def reads(monkeypatch):
    """The layers geopandas reads from a GeoPackage (the real reader does the reading)."""
    layers: list[str] = []
    real = gpd.read_file

    def read_file(path, layer=None, **kwargs):
        layers.append(layer)
        return real(path, layer=layer, **kwargs)

    monkeypatch.setattr(gpd, "read_file", read_file)
    return layers


def test_each_layer_is_read_once(data, reads):
    processed = load_processed(data)
    first = processed.boundaries("buurt")
    for _ in range(5):
        again = processed.boundaries("buurt")
        assert again.equals(first)
    processed.boundaries("wijk")
    processed.boundaries("wijk")
    target = processed.target
    assert reads == [f"buurten_{target}", f"wijken_{target}"]
    assert len(first) == 71 and set(first["gebiedscode"].str[:6]) == {"BU0141"}


def test_callers_get_copies(data, reads):
    processed = load_processed(data)
    original = processed.boundaries("wijk")
    changed = processed.boundaries("wijk")
    changed.loc[0, "gebiedscode"] = "WK999999"
    changed.loc[1, "geometry"] = None
    changed["extra"] = 1
    assert processed.boundaries("wijk").equals(original)
    assert len(reads) == 1


def test_a_rewritten_file_is_read_again(data, reads):
    processed = load_processed(data)
    processed.boundaries("gemeente")
    path = data / "processed" / "grenzen.gpkg"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    processed.boundaries("gemeente")
    assert len(reads) == 2


def test_missing_layer_is_one_dutch_line(data):
    processed = load_processed(data)
    with pytest.raises(WijkkompasError, match=r"^Geen buurten van 1999 in .*grenzen\.gpkg\. "
                       "Importeer of haal de grenzen van dat jaar op en bouw opnieuw\\.$"):
        processed.boundaries("buurt", 1999)


def test_indicator_names_are_indexed_once_per_definitions_table(data, monkeypatch):
    processed = load_processed(data)
    built = []
    real = results_module._name_index

    def name_index(definitions):
        built.append(len(definitions))
        return real(definitions)

    monkeypatch.setattr(results_module, "_name_index", name_index)
    definitions = processed.definitions
    for code, naam, eenheid in zip(definitions["indicator"], definitions["naam"],
                                   definitions["eenheid"], strict=True):
        assert processed.indicator_name(code) == (str(naam), str(eenheid))
    assert processed.indicator_name("bestaat_niet") == ("bestaat_niet", "")
    assert built == [len(definitions)]
    # Another definitions table is indexed anew.
    processed.definitions = definitions.assign(naam="Nieuwe naam")
    assert processed.indicator_name(definitions["indicator"].iloc[0])[0] == "Nieuwe naam"
    assert len(built) == 2


def test_derived_values_are_computed_once_per_tables(data):
    processed = load_processed(data)
    calls = []

    def compute():
        calls.append(1)
        return len(processed.table)

    assert processed.derived("rijen", compute) == len(processed.table)
    assert processed.derived("rijen", compute) == len(processed.table)
    assert len(calls) == 1
    # A replaced table is a new set of tables: computed again.
    processed.table = processed.table.iloc[:10]
    assert processed.derived("rijen", compute) == 10
    assert len(calls) == 2
    # Other keys are their own values.
    assert processed.derived(("ander", 1), lambda: "x") == "x"


def test_a_wijk_without_scores_is_one_line_naming_wijken_that_have_them(data):
    """Notebook 03 and the export check the wijk first: a code of another gemeente or no
    wijk code at all is refused in one Dutch line, with wijken of this gemeente as example."""
    processed = load_processed(data)
    assert processed.check_wijk("WK014115") == processed.check_wijk(" wk014115 ") == "WK014115"
    with pytest.raises(WijkkompasError) as info:
        processed.check_wijk("WK015300")
    assert str(info.value) == ("Wijk WK015300 komt niet voor in de scores van Almelo; kies "
                               "een wijkcode zoals WK014110 of WK014111.")
    with pytest.raises(WijkkompasError) as info:
        processed.check_wijk("BU01411000")
    assert str(info.value) == ("Ongeldige wijkcode 'BU01411000' (verwacht WK en zes cijfers); "
                               "kies een wijkcode zoals WK014110 of WK014111.")
    with pytest.raises(WijkkompasError, match=r"^Ongeldige wijkcode \"WK0141'; x\""):
        processed.check_wijk("WK0141'; x")


def test_a_year_or_theme_of_a_notebook_is_checked_in_one_line(data):
    processed = load_processed(data)
    assert processed.years == [2015, 2021]
    assert processed.check_year(2021) == processed.check_year("2021") == 2021
    for wrong in (2019, "twintig", 20210):
        with pytest.raises(WijkkompasError) as info:
            processed.check_year(wrong)
        assert str(info.value) == (f"Geen scores of cijfers van Almelo in jaar {str(wrong)!r}; "
                                   "kies een jaar uit 2015, 2021.")
    assert processed.check_theme("veiligheid") == "veiligheid"
    with pytest.raises(WijkkompasError) as info:
        processed.check_theme("Veiligheid")
    codes = ", ".join(t.code for t in processed.kompas.themes)
    assert str(info.value) == (f"Thema 'Veiligheid' staat niet in het kompas van Almelo; kies "
                               f"uit {codes}.")
