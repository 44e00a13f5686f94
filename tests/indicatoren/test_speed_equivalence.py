"""The fast build gives the same indicator table as the build before the speed-ups.

The reference (tests/indicatoren/reference_build.py) is the code the speed-ups replaced: JSON
read with the standard library, the CBS reader with its row-by-row code check, indicators
computed per indicator with the status from Python strings, and level completion through
three level copies. The fixture has every kind of input the build knows: CBS tables
fetched with cbsodata from the loopback server (publishing their own wijken and gemeente),
the Politie table, wijk- en buurtkaart files of 2015 and 2021 with only buurten (so that
wijken and the gemeente are aggregated), their boundaries (so that 2015 is carried onto
the 2021 indeling) and local indicators of some wijken.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import import_almelo
from tests.indicatoren import reference_build
from wijkkompas.indicatoren import sources, stage
from wijkkompas.indicatoren.lokaal import read_definitions

EXAMPLE = Path(__file__).resolve().parents[2] / "voorbeelden" / "lokale_indicatoren.toml"


@pytest.fixture(scope="module")
def raw(tmp_path_factory, shared):
    from tests.conftest import CbsServer, PdokServer, almelo_layers, table_2023, table_2024
    from tests.fixtures.politie import table_47018
    from wijkkompas.fetch.stage import run_fetch
    from wijkkompas.settings import Settings

    data = tmp_path_factory.mktemp("gelijk")
    servers = [CbsServer([table_2024(), table_2023()], page_size=50).start(),
               CbsServer([table_47018()], page_size=50).start(),
               PdokServer(almelo_layers([2023, 2024]), page_size=50).start()]
    try:
        settings = Settings(cbs_url=servers[0].url, politie_url=servers[1].url,
                            pdok_url=servers[2].url, timeout=5.0, retries=2, backoff=0.0)
        run_fetch(data / "raw", settings, "GM0141", [2023, 2024], say=lambda _: None)
    finally:
        for server in servers:
            server.stop()
    import_almelo(data, shared)
    return data / "raw"


def _reference(monkeypatch):
    """Put the pre-speed-up functions where the build stage looks them up."""
    monkeypatch.setattr(sources, "_load_json", reference_build._load_json)
    monkeypatch.setattr(stage, "read_cbs_table", reference_build.read_cbs_table)
    monkeypatch.setattr(stage, "compute_rows", reference_build.compute_rows)
    monkeypatch.setattr(stage, "complete_levels", reference_build.complete_levels)
    monkeypatch.setattr(stage, "_joined", reference_build._joined)
    monkeypatch.setattr(stage, "_fill_names", reference_build._fill_names)
    monkeypatch.setattr(stage, "sort_rows", reference_build.sort_rows)


@pytest.mark.parametrize("target", [None, 2021])
def test_fast_build_equals_the_reference(raw, monkeypatch, target):
    local = read_definitions(EXAMPLE)
    fast, fast_side = stage.build_table(raw, local, target)
    with monkeypatch.context() as patch:
        _reference(patch)
        assert stage.compute_rows is reference_build.compute_rows
        slow, slow_side = stage.build_table(raw, local, target)
    assert stage.compute_rows is not reference_build.compute_rows
    # The fixture exercises what the speed-ups touch.
    assert set(slow["status"]) == {"waargenomen", "berekend", "ontbreekt"}
    assert {"CBS 85984NED", "CBS 85618NED"} <= set(slow["bron"])
    assert slow["bron"].str.startswith("CBS wijk- en buurtkaart 2015").any()
    assert slow["bron"].str.startswith("Politie").any()
    assert (slow["indeling"] != slow["jaar"]).any()
    assert len(slow) > 3_000
    # Rows in the same order, every value, status and bron the same. Two kinds of dtype
    # differ on purpose: the text columns are categorical now while the reference has
    # text (compared as text), and the reference's nullable Float64 indelingswijziging
    # (from parsing CBS's code text) is a plain float64 with NaN now, like every other
    # number column.
    assert list(fast.columns) == list(slow.columns)
    text = [c for c in fast.columns if isinstance(fast[c].dtype, pd.CategoricalDtype)]
    assert text == ["gebiedscode", "gebiedsnaam", "niveau", "indicator", "bron", "status"]
    assert not any(isinstance(t, pd.CategoricalDtype) for t in slow.dtypes)
    fast = fast.astype({c: slow[c].dtype for c in text})
    assert (fast.dtypes.drop("indelingswijziging") == slow.dtypes.drop("indelingswijziging")).all()
    assert fast["indelingswijziging"].dtype == "float64"
    pd.testing.assert_frame_equal(fast, slow, check_exact=True, check_dtype=False)
    for name in ("verdicts", "report", "herindeling", "definitions"):
        pd.testing.assert_frame_equal(fast_side[name], slow_side[name], check_exact=True)
    assert fast_side["target"] == slow_side["target"]


def test_parquet_reads_back_as_the_table(raw, monkeypatch, tmp_path):
    """The written indicator table, read back, is the table in memory with text columns,
    also when it is written in several row groups and without statistics on text."""
    import pyarrow.parquet as pq

    from wijkkompas import storage

    monkeypatch.setattr(storage, "CHUNK_ROWS", 1000)
    result = stage.run_build(raw.parent, EXAMPLE, 2021, say=lambda _: None,
                             out_dir=tmp_path / "uit")
    table = result.table
    assert len(table) > 3 * storage.CHUNK_ROWS
    path = tmp_path / "uit" / "indicatoren.parquet"
    back = pd.read_parquet(path)
    text = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    assert text and all(back[c].dtype == "str" for c in text)
    expected = table.astype(dict.fromkeys(text, "str"))
    pd.testing.assert_frame_equal(back, expected, check_exact=True)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == -(-len(table) // storage.CHUNK_ROWS)
    columns = meta.row_group(0)
    stats = {columns.column(i).path_in_schema: columns.column(i).is_stats_set
             for i in range(columns.num_columns)}
    assert stats == {c: c not in text for c in table.columns}


FINAL_ORDER = ["indicator", "jaar", "indeling", "niveau", "gebiedscode", "bron"]


@pytest.fixture(scope="module")
def cbs_only(raw, tmp_path_factory):
    """The fixture's CBS tables alone, as a national build has them: nothing to complete,
    carry or add, so the rows are joined in their final order."""
    import json

    folder = tmp_path_factory.mktemp("alleen_cbs") / "raw"
    manifest = json.loads((raw / "manifest.json").read_text(encoding="utf-8"))
    (folder / "cbs").mkdir(parents=True)
    for entry in manifest["cbs"].values():
        (folder / "cbs" / entry["table_id"]).symlink_to(raw / "cbs" / entry["table_id"])
    (folder / "manifest.json").write_text(json.dumps({"cbs": manifest["cbs"]}),
                                          encoding="utf-8")
    return folder


def test_cbs_only_build_equals_the_reference(cbs_only, monkeypatch):
    fast, _ = stage.build_table(cbs_only)
    with monkeypatch.context() as patch:
        _reference(patch)
        slow, _ = stage.build_table(cbs_only)
    assert set(slow["bron"]) == {"CBS 85984NED", "CBS 85618NED"}
    assert set(slow["niveau"]) == {"gemeente", "wijk", "buurt"}
    text = [c for c in fast.columns if isinstance(fast[c].dtype, pd.CategoricalDtype)]
    pd.testing.assert_frame_equal(fast.astype({c: slow[c].dtype for c in text}), slow,
                                  check_exact=True, check_dtype=False)


def test_cbs_rows_are_joined_in_the_final_order(cbs_only):
    """``stack`` lays the rows of CBS tables out in the final order, so that the final
    sort moves nothing; the same rows sorted by the reference are the same table."""
    from wijkkompas.indicatoren.rows import compute_rows, sort_rows, stack

    read = stage.read_sources(cbs_only)
    # Tables in the reverse order and areas shuffled: the order is made, not inherited.
    for source in read:
        source.frame = source.frame.sample(frac=1.0, random_state=141).reset_index(drop=True)
    rows = stack([compute_rows(s.frame, s.indeling) for s in reversed(read)])
    assert set(rows["bron"]) == {"CBS 85984NED", "CBS 85618NED"} and len(rows) > 100
    plain = rows.astype({c: "str" for c in rows.columns
                         if isinstance(rows[c].dtype, pd.CategoricalDtype)})
    pd.testing.assert_frame_equal(plain, reference_build.sort_rows(plain, FINAL_ORDER),
                                  check_exact=True)
    again = sort_rows(rows.copy(), FINAL_ORDER)
    pd.testing.assert_frame_equal(again, rows, check_exact=True)


def test_cbs_only_build_reads_no_boundaries(cbs_only, tmp_path):
    """A build of CBS tables alone handles no boundaries and fetches nothing: in a fresh
    interpreter it imports none of the readers of kaart files and PDOK boundaries until it
    writes the empty grenzen.gpkg (one empty layer, as before), nor the fetch client."""
    import subprocess
    import sys

    import geopandas as gpd
    import pyogrio

    out = tmp_path / "uit"
    code = ("import sys\nfrom pathlib import Path\nfrom wijkkompas.indicatoren import stage\n"
            "table, side = stage.build_table(Path(sys.argv[1]) / 'raw')\n"
            "print(sorted(m for m in ('geopandas', 'pyogrio', 'wijkkompas.fetch.kaart_import', "
            "'wijkkompas.fetch.pdok', 'wijkkompas.fetch.cbs', 'cbsodata', 'requests') "
            "if m in sys.modules))\n"
            "stage.run_build(Path(sys.argv[1]), say=lambda _: None, out_dir=Path(sys.argv[2]))")
    done = subprocess.run([sys.executable, "-c", code, str(cbs_only.parent), str(out)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    path = out / "grenzen.gpkg"
    assert [list(layer) for layer in pyogrio.list_layers(path)] == [["leeg", "Unknown"]]
    empty = gpd.read_file(path, layer="leeg")
    assert len(empty) == 0 and list(empty.columns) == ["gebiedscode", "geometry"]
    assert empty.crs.to_epsg() == 28992


@pytest.mark.parametrize("block", [3, 4, 1 << 16])
def test_sort_rows_equals_the_reference_sort(monkeypatch, block):
    """``sort_rows`` orders as the reference (pandas' stable sort of the text), also when a
    table is out of order only across the border of two blocks it checks, or in order."""
    import numpy as np

    from wijkkompas.indicatoren import rows as row_module

    monkeypatch.setattr(row_module, "_BLOCK", block)
    rng = np.random.default_rng(15)
    codes = np.array(["BU01", "GM01", "WK01", "BU02", None], dtype=object)
    rows = 40
    plain = pd.DataFrame({"indicator": rng.choice(["b", "a", "c"], rows),
                          "jaar": rng.integers(2019, 2024, rows),
                          "gebiedscode": rng.choice(codes, rows),
                          "waarde": rng.random(rows)})
    by = ["indicator", "jaar", "gebiedscode"]
    expected = reference_build.sort_rows(plain, by)
    swapped = expected.copy()
    swapped.iloc[[3, 4]] = swapped.iloc[[4, 3]].to_numpy()  # out of order at row 4 only
    for table in (plain, expected, swapped):
        fast = table.astype({"indicator": "category", "gebiedscode": "category"})
        result = row_module.sort_rows(fast, by)
        want = reference_build.sort_rows(table, by)
        pd.testing.assert_frame_equal(result.astype({"indicator": "str", "gebiedscode": "str"}),
                                      want.astype({"indicator": "str", "gebiedscode": "str"}),
                                      check_exact=True, check_dtype=False)


def test_the_build_asks_numpy_for_small_pages_unless_told(cbs_only, monkeypatch, tmp_path):
    """While building, numpy's arrays get no transparent huge pages (the kernel's
    compaction for them cost a national build half a second); afterwards numpy's setting
    is as it was, and a NUMPY_MADVISE_HUGEPAGE the user set is left alone."""
    switch = pytest.importorskip("numpy._core.multiarray")._set_madvise_hugepage  # numpy 2

    seen = []
    real = stage.build_table

    def build_table(*args, **kwargs):
        current = switch(False)
        switch(current)
        seen.append(current)
        return real(*args, **kwargs)

    monkeypatch.setattr(stage, "build_table", build_table)
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    before = switch(True)
    try:
        stage.run_build(cbs_only.parent, say=lambda _: None, out_dir=tmp_path / "a")
        assert seen == [False]
        assert switch(True) is True  # restored
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        stage.run_build(cbs_only.parent, say=lambda _: None, out_dir=tmp_path / "b")
        assert seen == [False, True]
    finally:
        switch(before)
