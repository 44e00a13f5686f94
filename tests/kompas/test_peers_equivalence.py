"""The vergelijkbare wijken of every gemeente in one pass are the same as one gemeente at a
time (issue #30).

The reference (tests/kompas/reference_peers.py) is the peers step as ``_write_peers`` did it
before: per gemeente its wijken, its feature year, its own searches and positions, the
tables put together. The fixture is one table of many gemeenten with two kompassen (Almelo's
and the basis-set: other indicators left out and placed): wijken of every stedelijkheid
class, class 1 too small (widened), wijken lacking a feature (searched on fewer), lacking
too many, lacking a density or missing in the feature year; wijken with equal features in
many gemeenten (ties at the k-th place, settled by code); a gemeente whose latest shared
year is an earlier one, with too few candidates anywhere and one whose only candidates are
its own; a gemeente without any density (no feature year) and one without wijken; areas
without a name. Compared are the files written (Parquet and CSV, byte for byte) and the
lines said.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers import indicator_rows
from tests.kompas import reference_peers
from wijkkompas.kompas.definition import builtin_path, for_gemeente, load_kompas
from wijkkompas.kompas.peers import FEATURES, PeerSource, gemeente_peers, positions, write_peers
from wijkkompas.kompas.stage import _write_peers

YEARS = (2020, 2021, 2022)
#: Address densities of each stedelijkheid class: class 1 is rare.
DENSITIES = {1: (2600.0, 4000.0), 2: (1500.0, 2400.0), 3: (1000.0, 1450.0),
             4: (500.0, 950.0), 5: (50.0, 450.0)}
SCORED = ("woz", "bijstand_per_1000", "lbm_soc", "voelt_zich_veilig", "inkomen_per_inwoner")


def _features(rng: np.random.Generator, klasse: int) -> dict[str, float]:
    low, high = DENSITIES[klasse]
    values = {"adressendichtheid": rng.uniform(low, high), "inwoners": rng.uniform(500, 9000),
              "gem_hh_grootte": round(rng.uniform(1.6, 2.8), 1)}
    for f in FEATURES:
        values.setdefault(f.indicator, round(rng.uniform(5, 60), 0))
    return values


def _table(rng: np.random.Generator) -> pd.DataFrame:
    rows = []

    def add(code, niveau, jaar, indicator, waarde, named=True, indeling=None):
        rows.append((code, f"naam {code}" if named else None, niveau, jaar,
                     jaar if indeling is None else indeling, indicator, waarde))

    twin = _features(rng, 4)  # one wijk of many gemeenten: equal features, equal distances
    gemeenten = [f"GM09{n:02d}" for n in range(1, 15)] + ["GM0141"]
    for g, gemeente in enumerate(gemeenten):
        add(gemeente, "gemeente", 2022, "woz", 250.0, named=g % 4 != 1)
        for w in range(2 + g % 5):
            code = f"WK{gemeente[2:]}{w:02d}"
            klasse = 1 if (g, w) in {(0, 0), (0, 1), (3, 2)} else 2 + (g + w) % 4
            features = dict(twin) if w == 1 and g >= 2 else _features(rng, klasse)
            named = (g + w) % 6 != 3  # some wijken without a name
            for jaar in (2021, 2022):
                for name, value in features.items():
                    if (g, w, name) == (4, 0, "inwoners"):
                        continue  # searched on fewer features
                    if (g, w) == (5, 1) and name not in ("adressendichtheid", "inwoners"):
                        continue  # too few features
                    if (g, w, name, jaar) == (6, 0, "adressendichtheid", 2022):
                        continue  # no class in the feature year
                    if (g, w, jaar) == (7, 2, 2022):
                        continue  # not in the feature year
                    add(code, "wijk", jaar, name, value * (1 + 0.01 * (jaar - 2021)),
                        named=named)
                for name in SCORED:
                    draw = rng.random()
                    value = np.nan if draw < 0.1 else 30.0 if draw < 0.3 else rng.uniform(10, 50)
                    add(code, "wijk", jaar, name, value, named=named)
                    # On another indeling: not placed.
                    add(code, "wijk", jaar, name, value + 1, named=named, indeling=2023)
    # GM0916 and GM0917 share only 2020: GM0917's wijken lack most features (no candidates),
    # so GM0916's only candidates are its own and GM0917's wijken have too few features.
    for gemeente, count, full in (("GM0916", 3, True), ("GM0917", 2, False)):
        for w in range(count):
            code = f"WK{gemeente[2:]}{w:02d}"
            for name, value in _features(rng, 3 + w % 2).items():
                if full or name in ("adressendichtheid", "inwoners"):
                    add(code, "wijk", 2020, name, value)
            add(code, "wijk", 2020, "woz", rng.uniform(100, 300))
    # GM0918: wijken with features but no density (no feature year); GM0919: no wijken.
    for w in range(2):
        for name, value in _features(rng, 5).items():
            if name != "adressendichtheid":
                add(f"WK0918{w:02d}", "wijk", 2022, name, value)
    add("GM0919", "gemeente", 2022, "woz", 200.0)
    return indicator_rows(rows)


def _kompassen(codes):
    basis = load_kompas(builtin_path("basis"))
    return {code: for_gemeente(load_kompas(gemeente="GM0141"), code, "Almelo")
            if code == "GM0141" else for_gemeente(basis, code, None) for code in codes}


def _files(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _compare(tmp_path, table: pd.DataFrame, given: pd.DataFrame, codes: list[str]
             ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Both ways, each into a folder of its own; the same files and lines. Returns the
    reference's tables and lines."""
    kompassen = _kompassen(codes)
    said_old: list[str] = []
    peers, placed = reference_peers.write_peers(table, kompassen, said_old.append)
    (tmp_path / "old").mkdir()
    write_peers(peers, placed, tmp_path / "old")
    said_new: list[str] = []
    (tmp_path / "new").mkdir()
    _write_peers(given, type("Result", (), {"kompassen": kompassen})(), tmp_path / "new",
                 said_new.append)
    assert said_new == said_old
    old, new = _files(tmp_path / "old"), _files(tmp_path / "new")
    assert new.keys() == old.keys()
    for name, content in old.items():
        assert new[name] == content, name
    return peers, placed, said_old


ALL = ["GM0903", "GM0141", *[f"GM09{n:02d}" for n in range(1, 20) if n != 3]]


def _as_categories(table: pd.DataFrame) -> pd.DataFrame:
    """The text columns as categoricals whose categories are not in text order (as the
    build hands its table to the kompas stage)."""
    out = table.copy()
    for column in ("gebiedscode", "gebiedsnaam", "niveau", "indicator", "bron", "status"):
        values = out[column].astype(str).where(out[column].notna())
        out[column] = pd.Categorical(values, categories=sorted(set(values.dropna()),
                                                               reverse=True))
    return out


@pytest.mark.parametrize("text", ["str", "categorical"])
@pytest.mark.parametrize("codes", [ALL, ["GM0141"], ["GM0916"], ["GM0918", "GM0919"],
                                   ["GM0917", "GM0905", "GM0906"]],
                         ids=["all", "almelo", "own-only", "none", "some"])
def test_all_gemeenten_at_once_equal_one_at_a_time(tmp_path, codes, text):
    table = _table(np.random.default_rng(30))
    given = _as_categories(table) if text == "categorical" else table
    peers, placed, said_old = _compare(tmp_path, table, given, codes)
    if codes is ALL:
        # The fixture exercises what it says it does.
        reasons = set(peers["reden"])
        assert {"", "te weinig kenmerken (2 van 11, nodig 8)",
                "omgevingsadressendichtheid ontbreekt: geen stedelijkheidsklasse",
                "geen kenmerken van deze wijk in dit jaar",
                "minder dan 10 wijken van andere gemeenten met alle kenmerken in alle klassen",
                } <= reasons, reasons
        assert set(peers["klassen"]) >= {"1-2", "1-3", "2-4", "4", "5"}
        assert (peers["kenmerken"] == "10 van 11").any()
        assert set(peers["jaar"].dropna()) == {2020, 2022}
        assert any(line.startswith("Geen vergelijkbare wijken voor GM0919: geen wijken")
                   for line in said_old)
        assert any(line.startswith("Geen vergelijkbare wijken voor GM0918: geen wijken van "
                                   "andere") for line in said_old)
        twins = peers[peers["vergelijkbare_wijk"].astype(str).str.endswith("01")
                      & (peers["afstand"] == 0)]
        assert twins.groupby("wijk").size().max() == 10  # more equal than k
        assert peers["wijknaam"].isna().any() and peers["naam"].isna().any()
        assert (peers["gemeentenaam"] == peers["gemeente"]).any()
        assert placed["gelijk_aan"].gt(0).any() and placed["mediaan"].isna().any()


@pytest.mark.parametrize("without", ["every name", "gemeente names"])
def test_without_names_the_same(tmp_path, without):
    """Without any name (or without names of gemeenten) the name columns have other types;
    still the same as one gemeente at a time."""
    table = _table(np.random.default_rng(30))
    if without == "every name":
        table["gebiedsnaam"] = None
    else:
        table.loc[table["niveau"] == "gemeente", "gebiedsnaam"] = None
    peers, _, _ = _compare(tmp_path, table, table, ALL)
    assert peers["naam"].isna().all() == (without == "every name")


def test_one_gemeente_and_positions_of_any_peers_the_same():
    """``gemeente_peers`` (now the one pass for one gemeente) and ``positions`` (of any peers
    table) give what they gave."""
    table = _table(np.random.default_rng(30))
    kompassen = _kompassen(["GM0141", "GM0905", "GM0916", "GM0918"])
    source = PeerSource(table)
    for code, kompas in kompassen.items():
        new, jaar = gemeente_peers(source, kompas, code)
        old, old_jaar = reference_peers.gemeente_peers(table, kompas, code)
        assert jaar == old_jaar
        pd.testing.assert_frame_equal(new, old, check_exact=True)
        scored = [name for name, ind in kompas.indicators.items() if ind.scored]
        pd.testing.assert_frame_equal(positions(source, new, scored),
                                      reference_peers.positions(table, old, scored),
                                      check_exact=True)
