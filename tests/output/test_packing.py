"""The compact map data of the pages (wijkkompas.output.packing, templates/packing.js): the
page's own script unpacks exactly the numbers Python computed, and a gemeente page with
eight years of data stays within 300 kB."""

from __future__ import annotations

import json
import math

import pytest

from tests.browser import opened
from wijkkompas.cli import main
from wijkkompas.kompas.results import load_processed
from wijkkompas.output.export import run_export
from wijkkompas.output.maps import _share, area_data, map_data
from wijkkompas.output.packing import (
    ALPHABET,
    pack_column,
    pack_level,
    pack_numbers,
    unpack_column,
    unpack_level,
    unpack_numbers,
)
from wijkkompas.web.leaflet import script_safe_json

COLUMNS = [
    [None, 0, 1, 44, 45, 2024, 2025, 91124, 91125, 10**12, -(10**12)],
    [102.145, -18.525, None, 0.001, -0.0, 0.0, 99.999, 100.0, 150.5],
    [34.2, 216.2, 0.3, 284, None, float("nan"), -0.0, -0.1, 3500],
    [None, None, None],
    [],
    [-0.0],
    [7],
]


def same(got, want) -> bool:
    """Equal as numbers and in the sign of zero; None only where None."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if got is None or got != want:
        return False
    return want != 0 or math.copysign(1, got) == math.copysign(1, want)


@pytest.mark.parametrize("values", COLUMNS)
def test_a_packed_column_unpacks_to_the_same_numbers(values):
    packed = pack_numbers(values)
    assert set(packed) <= set(ALPHABET) and len(ALPHABET) == 90
    # Nothing in it is escaped in the page: the string is written as it is.
    assert script_safe_json(packed) == json.dumps(packed)
    unpacked = unpack_numbers(packed)
    assert len(unpacked) == len(values)
    assert all(same(g, w) for g, w in zip(unpacked, values, strict=True)), (values, unpacked)


def test_a_column_with_a_fourth_decimal_is_refused():
    with pytest.raises(ValueError):
        pack_numbers([1.0, 2.0001])


def test_packed_columns_are_shorter_than_json():
    scores = [102.145, 134.001, None, 134.496, 124.47, 127.596, 106.094, 112.806, 123.276]
    values = [34.2, 216.2, 513.2, 0.3, 62.8, 132.7, 40.9, 284, 156.3, 245.8, 153.2]
    for column in (scores, values):
        assert len(script_safe_json(pack_numbers(column))) < 0.6 * len(script_safe_json(column))


def _equal(got, want, where="") -> None:
    """``got`` (decoded) is ``want`` (the source): the same structure, numbers the same."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), where
        for key in want:
            _equal(got[key], want[key], f"{where}/{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for at, (g, w) in enumerate(zip(got, want, strict=True)):
            _equal(g, w, f"{where}/{at}")
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        assert same(got, want), (where, got, want)
    else:
        assert got == want, (where, got, want)


def test_the_packed_levels_unpack_to_area_data(processed):
    areas = area_data(processed)
    themas = [t[0] for t in map_data(processed, areas=areas)["themas"]]
    for niveau, level in areas["geo"].items():
        packed = pack_level(level, themas, processed.years)
        unpacked = unpack_level(packed, themas, processed.years)
        _equal(unpacked, level, niveau)
        assert list(unpacked["v"]) == list(level["v"])


def test_the_page_unpacks_the_numbers_python_computed(processed, browser, tmp_path):
    """The gemeente page's own script (packing.js) gives back every score, change, reason
    and indicator value of every area as area_data computed them: same order, same numbers,
    -0 and missing included."""
    written = run_export(processed, tmp_path / "export", say=lambda _: None)
    page_file = next(p for p in written if p.stem.endswith(processed.gemeente))
    source = _share(area_data(processed), None)["geo"]
    with opened(browser, page_file) as page:
        # -0 survives Playwright's transfer; checked here as well, in the page itself.
        decoded, negative_zeros = page.page.evaluate("""() => {
            const geo = window.wijkkompas.geo;
            let zeros = 0;
            for (const level of Object.values(geo)) {
                for (const field of ['s', 'd', 'b', 'v']) {
                    for (const column of Object.values(level[field])) {
                        const numbers = field === 'v' ? column.flatMap(e => e[1]) : column;
                        zeros += numbers.filter(x => Object.is(x, -0)).length;
                    }
                }
            }
            return [geo, zeros];
        }""")
        assert page.errors == []
    _equal(decoded, source)
    for niveau, level in source.items():  # the first indicator of a year is the first shown
        assert list(decoded[niveau]["v"]) == list(level["v"])
    expected_zeros = sum(
        1 for level in source.values() for field in ("s", "d", "b", "v")
        for column in level[field].values()
        for x in (column if field != "v" else [x for _, values in column for x in values])
        if x == 0 and isinstance(x, float) and math.copysign(1, x) < 0)
    assert negative_zeros == expected_zeros
    assert any(level["v"] for level in source.values())


@pytest.fixture(scope="module")
def eight_years(shared, tmp_path_factory):
    """A gemeente of the synthetic national cache (10 wijken, 42 buurten, every indicator
    of the KWB tables) with eight years of figures and boundaries, built and exported."""
    from benchmarks.national_cache import generate

    data = tmp_path_factory.mktemp("acht_jaar") / "data"
    generate(data / "raw", years=8, gemeenten=1, boundaries=True)
    assert main(["build", "--data-dir", str(data), "--gemeente", "GM0001"]) == 0
    assert main(["export", "--data-dir", str(data), "--gemeente", "GM0001",
                 "--out", str(data / "export")]) == 0
    return load_processed(data, gemeente="GM0001"), data / "export"


def test_a_gemeente_page_with_eight_years_stays_within_300_kb(eight_years):
    processed, export = eight_years
    assert len(processed.years) == 8
    page_file = export / "wijkkompas_GM0001.html"
    size = page_file.stat().st_size
    assert size <= 300_000, size
    for wijk_page in export.glob("wijkkompas_WK*.html"):
        assert wijk_page.stat().st_size <= 300_000, wijk_page.name


@pytest.mark.parametrize("values", [[1.0, 2.0001], [1e300, 2.5], [2.0**53, 1], [-(2.0**60), 0]])
def test_a_column_that_cannot_be_packed_exactly_stays_a_list(values):
    """More than three decimals, or numbers the script's doubles cannot sum exactly (never
    from the tables; possible from a user's file): the column is written as it is."""
    with pytest.raises(ValueError):
        pack_numbers(values)
    assert pack_column(values) == values
    assert unpack_column(pack_column(values)) == values


def test_the_page_reads_a_column_left_as_a_list(processed, browser, tmp_path):
    """A column with a value too large to pack reaches the page's script unchanged."""
    areas = area_data(processed)
    level = areas["geo"]["wijk"]
    key = next(iter(level["v"]))
    label, values = level["v"][key][0]
    level["v"][key][0] = [label, [1e20, *values[1:]]]
    themas = [t[0] for t in map_data(processed, areas=areas)["themas"]]
    packed = pack_level(level, themas, processed.years)
    thema = key.split("|")[0]
    at = processed.years.index(int(key.split("|")[1]))
    column = next(entry for entry in packed["v"] if entry[0] == thema)[1][at][0][1]
    assert column == [1e20, *values[1:]]
    from tests.output.test_templates_browser import _page

    data = {**map_data(processed, areas=areas), "geo": {"wijk": packed}}
    data["niveaus"] = [["wijk", "Wijken"]]
    path = _page(tmp_path, ["escape.js", "packing.js", "kompas_map.js"], "kompas_map.css",
                 f"wijkkompasKaart(map, {script_safe_json(data)});")
    with opened(browser, path) as page:
        got = page.page.evaluate("k => window.wijkkompas.geo.wijk.v[k][0][1]", key)
        assert page.errors == []
    assert got == [1e20, *values[1:]]
