"""Privacy of the shared vlekkenkaart: no sensitive location as a point or in the density, and
no suppressed count that a reader can work out from the published counts and totals."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.browser import TILE_HOST, opened
from tests.helpers import page_data, zorg_toml
from wijkkompas.gebied import RD
from wijkkompas.vlekkenkaart.stage import (
    SUPPRESSED,
    build_vlekkenkaart,
    map_payload,
    write_outputs,
)
from wijkkompas.vlekkenkaart.suppression import CountTree
from wijkkompas.vlekkenkaart.zorglocaties import read_config

MINIMUM = 5
#: The largest value the brute force tries for a suppressed count.
CAP = 40

CONFIG = zorg_toml({"opvang": ("Maatschappelijke opvang", True),
                    "beschermd": ("Beschermd wonen", True),
                    "vrouwenopvang": ("Vrouwenopvang", True),
                    "huisarts": ("Huisartsenpraktijk", False)},
                   bandbreedte_m=300, minimum_aantal=MINIMUM)

# Locations per category and buurt (2021 indeling of Almelo).
PLACES = {
    # One location in the whole gemeente: 1 in its buurt, its wijk and the gemeente.
    "opvang": {"BU01411500": 1},
    # Three in the gemeente, in two wijken.
    "beschermd": {"BU01411000": 2, "BU01411300": 1},
    # Twenty, the gemeente and three wijken published; two small ones in De Riet (1 + 1 + 5)
    # and one in Wierdense Hoek (1 + 6) that the wijk totals would give away.
    "vrouwenopvang": {"BU01411100": 1, "BU01411101": 1, "BU01411102": 5, "BU01411200": 6,
                      "BU01411400": 1, "BU01411401": 6},
    "huisarts": {"BU01411600": 1, "BU01411700": 2},
}
SENSITIVE = ("opvang", "beschermd", "vrouwenopvang")


def _rows(processed, places) -> str:
    """The locations as a CSV in the standard format, each inside its buurt."""
    buurten = processed.boundaries("buurt").to_crs(RD).set_index("gebiedscode").geometry
    lines = ["naam,categorie,capaciteit,x,y,adres,postcode,plaats"]
    for categorie, counts in places.items():
        for code, n in counts.items():
            shape = buurten[code]
            centre = shape.representative_point()
            for i in range(n):
                x, y = round(centre.x + 3 * i, 1), round(centre.y, 1)
                assert shape.contains(type(centre)(x, y)), (code, i)
                lines.append(f"{categorie} {code} {i},{categorie},{2 + i},{x},{y},,,")
    return "\n".join(lines) + "\n"


def _vlekkenkaart(processed, folder, places):
    folder.mkdir(parents=True)
    (folder / "locaties.csv").write_text(_rows(processed, places), encoding="utf-8")
    (folder / "zorg.toml").write_text(CONFIG, encoding="utf-8")
    return build_vlekkenkaart(processed, read_config(folder / "zorg.toml"))


@pytest.fixture(scope="module")
def published(processed, tmp_path_factory):
    """The shared outputs of PLACES, and of the same without any sensitive location."""
    root = tmp_path_factory.mktemp("privacy")
    vk = _vlekkenkaart(processed, root / "alle", PLACES)
    write_outputs(processed, vk, root / "alle" / "uit", say=lambda _: None)
    open_only = {c: p for c, p in PLACES.items() if c not in SENSITIVE}
    vk_open = _vlekkenkaart(processed, root / "open", open_only)
    write_outputs(processed, vk_open, root / "open" / "uit", say=lambda _: None)
    return vk, vk_open, root / "alle" / "uit", root / "open" / "uit"


def _shared_csv(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "zorglocaties_maten_gedeeld.csv", dtype={"aantal": str})


# --------------------------------------------------------------------------- brute force


def _groups(cells: dict[str, int | None]) -> list[tuple[str, list[str]]]:
    """Each sum a reader sees: (parent, children); gemeente = its wijken, wijk = its buurten."""
    gemeente = next(c for c in cells if c.startswith("GM"))
    wijken = sorted(c for c in cells if c.startswith("WK"))
    groups = [(gemeente, wijken)]
    for wijk in wijken:
        groups.append((wijk, sorted(c for c in cells if c.startswith("BU" + wijk[2:]))))
    return groups


def _solve_group(parent, children, domains):
    """Every assignment of the group's counts from their domains with parent = sum of the
    children: the hidden children are tried, the parent (or, where the parent is known,
    the last hidden child) follows from the sum."""
    hidden = [c for c in children if len(domains[c]) > 1]
    known = sum(next(iter(domains[c])) for c in children if c not in hidden)
    parent_hidden = len(domains[parent]) > 1
    last = hidden[-1] if hidden and not parent_hidden else None
    tried = [c for c in hidden if c != last]
    values = {c: set() for c in [*hidden, *([parent] if parent_hidden else [])]}
    for choice in itertools.product(*(sorted(domains[c]) for c in tried)):
        current = dict(zip(tried, choice, strict=True))
        if last is not None:
            current[last] = next(iter(domains[parent])) - known - sum(choice)
            if current[last] not in domains[last]:
                continue
        elif parent_hidden:
            current[parent] = known + sum(choice)
            if current[parent] not in domains[parent]:
                continue
        elif known + sum(choice) != next(iter(domains[parent])):
            continue
        for c, v in current.items():
            values[c].add(v)
    return values


def recover(cells: dict[str, int | None], cap: int = CAP) -> dict[str, set[int]]:
    """What a reader can know of each suppressed count (None): every value from 1 to ``cap``
    that fits all published counts and all sums, found by trying them, group by group,
    until nothing changes. Zeros are published, so a suppressed count is at least 1.

    With ``cap`` above every true count, a count that can take two values shows two."""
    domains = {c: {n} if n is not None else set(range(1, cap + 1)) for c, n in cells.items()}
    changed = True
    while changed:
        changed = False
        for parent, children in _groups(cells):
            for code, values in _solve_group(parent, children, domains).items():
                if values != domains[code]:
                    domains[code] = values
                    changed = True
    return {c: domains[c] for c, n in cells.items() if n is None}


def _readable(cells: dict[str, int | None], cap: int = CAP) -> dict[str, set[int]]:
    return {c: v for c, v in recover(cells, cap).items() if len(v) <= 1}


def test_brute_force_reads_back_what_small_suppression_alone_leaves():
    # The old shared CSV: gemeente 1 published, the buurt "minder dan 5", zeros elsewhere.
    cells = {"GM0141": 1, "WK014115": None, "WK014110": 0, "BU01411500": None,
             "BU01411501": 0, "BU01411000": 0}
    assert _readable(cells) == {"WK014115": {1}, "BU01411500": {1}}
    # Two small counts in a published wijk of 7 beside a published 5: both exactly 1.
    cells = {"GM0141": 7, "WK014111": 7, "BU01411100": None, "BU01411101": None,
             "BU01411102": 5}
    assert _readable(cells) == {"BU01411100": {1}, "BU01411101": {1}}


def test_no_suppressed_count_can_be_worked_out_from_the_shared_csv(published):
    vk, _, folder, _ = published
    shared = _shared_csv(folder)
    for categorie in SENSITIVE:
        rows = shared[shared.categorie == categorie]
        cells = {c: None if a == SUPPRESSED else int(a)
                 for c, a in zip(rows.gebiedscode, rows.aantal, strict=True)}
        hidden = [c for c, n in cells.items() if n is None]
        assert hidden, categorie
        for code, values in recover(cells).items():
            assert len(values) > 1, (categorie, code, values)
            # The truth is among what the reader cannot tell apart.
            truth = vk.measures[(vk.measures.gebiedscode == code)
                                & (vk.measures.categorie == categorie)].aantal.iloc[0]
            assert truth in values


def test_small_counts_are_suppressed_at_every_level(published):
    vk, _, folder, _ = published
    shared = _shared_csv(folder).set_index(["gebiedscode", "categorie"])
    internal = vk.measures.set_index(["gebiedscode", "categorie"])
    for categorie in SENSITIVE:
        rows = internal.xs(categorie, level="categorie")
        for code, n in rows.aantal.items():
            row = shared.loc[(code, categorie)]
            if 0 < n < MINIMUM:
                assert row.aantal == SUPPRESSED, (code, categorie, n)
            if row.aantal == SUPPRESSED:
                assert n > 0, (code, categorie)  # a zero is never hidden
                assert row[["per_1000", "locatiequotient", "capaciteit"]].isna().all()
            else:
                assert int(row.aantal) == n
    # The one opvang location: its buurt, its wijk and the gemeente (1 each) are hidden.
    for code in ("BU01411500", "WK014115", "GM0141"):
        assert shared.loc[(code, "opvang"), "aantal"] == SUPPRESSED
    # Three beschermd wonen in the gemeente is under 5 too.
    assert shared.loc[("GM0141", "beschermd"), "aantal"] == SUPPRESSED
    # Where the gemeente's count is hidden, every location quotient (an area's rate over
    # the gemeente's) is too: else a published count and its quotient give the gemeente's.
    for categorie in ("opvang", "beschermd"):
        assert shared.xs(categorie, level="categorie").locatiequotient.isna().all()
    # Open categories are published as they are.
    assert shared.loc[("BU01411700", "huisarts"), "aantal"] == "2"
    assert shared.loc[("GM0141", "alle zonder gevoelige"), "aantal"] == "3"


def test_complementary_suppression_of_the_vrouwenopvang(published):
    _, _, folder, _ = published
    shared = _shared_csv(folder)
    rows = shared[(shared.categorie == "vrouwenopvang") & (shared.aantal != "0")]
    assert dict(zip(rows.gebiedscode, rows.aantal, strict=True)) == {
        "BU01411100": SUPPRESSED, "BU01411101": SUPPRESSED,
        "BU01411102": SUPPRESSED,  # the 5 beside two ones: else 7 - 5 = 1 + 1
        "BU01411200": "6",
        "BU01411400": SUPPRESSED, "BU01411401": SUPPRESSED,  # the 6 beside a one: 7 - 6
        "WK014111": "7", "WK014112": "6", "WK014114": "7", "GM0141": "20"}
    gemeente = shared[(shared.categorie == "vrouwenopvang") & (shared.gebiedscode == "GM0141")]
    assert gemeente.locatiequotient.iloc[0] == 1.0


@pytest.mark.parametrize("counts, hidden", [
    # gemeente 1, one buurt: everything on its path is hidden, the zeros are not
    ({"BU1": 1, "BU2": 0, "BU3": 0}, {"GM", "WK1", "BU1"}),
    # gemeente 3 in two wijken: all small
    ({"BU1": 2, "BU2": 0, "BU3": 1}, {"GM", "WK1", "WK2", "BU1", "BU3"}),
    # one small buurt in a big wijk: the next smallest of the wijk (6) goes with it
    ({"BU1": 3, "BU2": 6, "BU3": 9}, {"BU1", "BU2"}),
    # one small buurt alone in its wijk of 4, beside a wijk of 9 in a single buurt: hiding
    # that wijk would not do (its buurt says 9), so the gemeente total goes (13 - 9 = 4)
    ({"BU1": 4, "BU2": 0, "BU3": 9}, {"GM", "WK1", "BU1"}),
    # the protecting neighbour is found whichever way the codes sort
    ({"BU1": 6, "BU2": 3, "BU3": 9}, {"BU1", "BU2"}),
    # 5 is not under the minimum: nothing to hide
    ({"BU1": 5, "BU2": 0, "BU3": 6}, set()),
])
def test_suppression_by_hand(counts, hidden):
    tree = _tree(counts)
    assert tree.suppress(MINIMUM) == hidden


def test_locations_outside_every_buurt_count_for_the_gemeente_only():
    # The gemeente has 2 locations that lie in no buurt: a reader cannot tell how many, so
    # the wijk of 7 minus its published buurt of 6 still pins the small one.
    cells = {"GM": 9, "WK1": 7, "BU1": 1, "BU2": 6}
    tree = CountTree(cells, {"GM": None, "WK1": "GM", "BU1": "WK1", "BU2": "WK1"})
    assert tree.rest == {"GM": 2, "WK1": 0}
    assert tree.suppress(MINIMUM) == {"BU1", "BU2"}
    assert tree.ranges({"BU1", "BU2"})["BU1"] == (1, 6)


def test_a_gemeente_of_one_wijk_hides_up_to_the_root_by_hand():
    # One wijk of 8 locations, 3 in its only buurt and 5 in no buurt (a known remainder).
    # The buurt's 3 is hidden; the wijk's 8 minus the 5 would give it away, and the wijk is
    # the buurt's only neighbour: hidden too. Then the gemeente's 8 (its only wijk) gives the
    # wijk: hidden as well. Nothing published is left to work anything out from.
    cells = {"GM": 8, "WK1": 8, "BU1": 3}
    tree = CountTree(cells, {"GM": None, "WK1": "GM", "BU1": "WK1"})
    assert tree.rest == {"GM": 0, "WK1": 5}
    assert tree.suppress(MINIMUM) == {"GM", "WK1", "BU1"}
    assert tree.determined({"GM", "WK1", "BU1"}) == []


def test_when_no_single_neighbour_helps_the_smallest_is_hidden_by_hand():
    # A tree one level deeper than gemeente-wijk-buurt (CountTree takes any depth): A = 8
    # holds B = 8, B holds C = 7 and D = 1, C holds E = 7. D's 1 is hidden and B - C gives
    # it away. Hiding C alone does not help (C = E), nor does hiding B alone (B = A): the
    # rule then hides the smallest of them, C (7, not B's 8). C is then given by E: E is
    # hidden too, and C + D = 8 leaves both open.
    cells = {"A": 8, "B": 8, "C": 7, "D": 1, "E": 7}
    tree = CountTree(cells, {"A": None, "B": "A", "C": "B", "D": "B", "E": "C"})
    assert tree.determined({"D", "C"}) == ["C", "D"]
    assert tree.determined({"D", "B"}) == ["B", "D"]
    assert tree.suppress(MINIMUM) == {"C", "D", "E"}
    assert tree.determined({"C", "D", "E"}) == []


@pytest.mark.parametrize("cells, parents, problem", [
    ({"GM": 1, "GX": 1}, {"GM": None, "GX": None}, "one root expected"),
    ({"A": 1, "B": 1}, {"A": "B", "B": "A"}, "one root expected"),
    ({"GM": 3, "WK1": 4}, {"GM": None, "WK1": "GM"}, "children add up to more"),
])
def test_a_tree_that_does_not_add_up_is_refused(cells, parents, problem):
    with pytest.raises(ValueError, match=problem):
        CountTree(cells, parents)


def _tree(counts: dict[str, int], wijk_of: dict[str, str] | None = None) -> CountTree:
    """GM > WK1 (BU1, BU2), WK2 (BU3, ...) by default."""
    wijk_of = wijk_of or {"BU1": "WK1", "BU2": "WK1", "BU3": "WK2"}
    wijken = sorted(set(wijk_of.values()))
    totals = {w: sum(n for b, n in counts.items() if wijk_of[b] == w) for w in wijken}
    cells = {"GM": sum(counts.values()), **totals, **counts}
    parents = {"GM": None, **{w: "GM" for w in wijken}, **wijk_of}
    return CountTree(cells, parents)


@st.composite
def _trees(draw):
    wijken = draw(st.integers(1, 3))
    wijk_of = {}
    counts = {}
    for w in range(wijken):
        for b in range(draw(st.integers(1, 3))):
            code = f"BU{w}{b}"
            wijk_of[code] = f"WK{w}"
            counts[code] = draw(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8]))
    return counts, wijk_of


@settings(max_examples=120, deadline=None)
@given(_trees())
def test_no_suppressed_count_can_be_worked_out_in_any_small_tree(tree_spec):
    counts, wijk_of = tree_spec
    tree = _tree(counts, wijk_of)
    hidden = tree.suppress(MINIMUM)
    assert {c for c, n in tree.counts.items() if 0 < n < MINIMUM} <= hidden
    assert all(tree.counts[c] > 0 for c in hidden)
    assert _readable(_cbs_codes(tree, hidden), cap=max(tree.counts.values()) + 1) == {}


def _cbs_codes(tree: CountTree, hidden: set[str]) -> dict[str, int | None]:
    """The tree's counts under CBS-like codes (GM0141, WK01411w, BU01411wbb)."""
    out = {}
    for code, n in tree.counts.items():
        if code == "GM":
            new = "GM0141"
        elif code.startswith("WK"):
            new = f"WK01411{code[2:]}"
        else:
            new = f"BU01411{code[2]}0{code[3]}"
        out[new] = None if code in hidden else n
    return out


# --------------------------------------------------------------------------- density, page


def test_shared_density_leaves_sensitive_locations_out(processed, published):
    vk, vk_open, _, _ = published
    shared = map_payload(processed, vk, gedeeld=True)
    without = map_payload(processed, vk_open, gedeeld=True)
    assert shared["vlekken"] == without["vlekken"]
    assert shared["punten"] == without["punten"]
    # The internal view does use them: the comparison above can tell the difference.
    assert map_payload(processed, vk, gedeeld=False)["vlekken"] != shared["vlekken"]


def _layers(page):
    """Everything the page's map holds, read from its Leaflet layers in the browser."""
    return page.page.evaluate("""() => {
      const vk = window.vlekkenkaart, out = {markers: [], geojson: []};
      vk.map.eachLayer(layer => {
        if (layer.getLatLng) {
          const p = layer.getLatLng(); out.markers.push([p.lat, p.lng]);
        }
        if (layer.toGeoJSON && layer.feature) { out.geojson.push(layer.toGeoJSON()); }
      });
      out.vlek = vk.vlek.toGeoJSON();
      out.points = vk.points.getLayers().map(l => [l.getLatLng().lat, l.getLatLng().lng]);
      out.counts = vk.counts.toGeoJSON().features.map(f => [f.properties.c, f.properties.t]);
      return out;
    }""")


def test_shared_page_in_the_browser_holds_no_sensitive_location(published, browser):
    vk, _, folder, folder_open = published
    sensitive = vk.located[vk.located.categorie.isin(SENSITIVE)].to_crs("EPSG:4326")
    spots = list(zip(sensitive.geometry.y, sensitive.geometry.x, strict=True))
    assert len(spots) == sum(sum(PLACES[c].values()) for c in SENSITIVE) == 24
    with opened(browser, folder / "vlekkenkaart_gedeeld.html",
                "window.vlekkenkaart !== undefined") as page:
        layers = _layers(page)
        assert page.errors == [] and page.dialogs == []
        assert all(u.startswith(TILE_HOST) for u in page.requests)
    with opened(browser, folder_open / "vlekkenkaart_gedeeld.html",
                "window.vlekkenkaart !== undefined") as page:
        layers_open = _layers(page)
    # Every marker on the map is an open location, and none lies near a sensitive one.
    assert len(layers["points"]) == 3 and sorted(layers["markers"]) == sorted(layers["points"])
    for lat, lon in layers["markers"]:
        for s_lat, s_lon in spots:
            assert abs(lat - s_lat) > 1e-4 or abs(lon - s_lon) > 1.5e-4
    # The density on the page is the one of the open locations alone.
    assert layers["vlek"] == layers_open["vlek"] and layers["vlek"]["features"]
    # Each buurt's counts on the page are those of the shared CSV, suppressed alike.
    shared = _shared_csv(folder).set_index(["gebiedscode", "categorie"]).aantal
    names = {"Maatschappelijke opvang": "opvang", "Beschermd wonen": "beschermd",
             "Vrouwenopvang": "vrouwenopvang", "Huisartsenpraktijk": "huisarts"}
    seen = 0
    for code, counts in layers["counts"]:
        for name, value in counts:
            if name in names:
                assert str(value) == shared[(code, names[name])], (code, name)
                seen += 1
    assert seen == sum(len(p) for p in PLACES.values())
    # The data object of the page says the same as its layers.
    data = page_data((folder / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8"))
    assert data["punten"]["ll"] == layers["points"]
    assert data["gedeeld"] is True
