"""Each gemeente's export reads only its own share of a data folder of several gemeenten,
and renders its pages in several processes: the pages and scores are those of the whole
tables, byte for byte.

The folder holds two invented gemeenten (wijk- en buurtkaart 2015, imported; GM0998's
buurten also as 2023) and the KWB table of 2024 with Nederland, Almelo and GM0998
(fetched from a loopback CBS server with the real cbsodata client): GM0997 has no figures
of 2023 while GM0998 has, so what the pages say about the whole table (which indicators
have a source in a year) differs from what GM0997's own rows and Nederland's say.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from tests.fixtures.gemeenten import NAMES, kwb_table, write_levels
from tests.servers import CbsServer
from wijkkompas.cli import main
from wijkkompas.fetch.cbs import TableRef, fetch_table
from wijkkompas.kompas.results import Processed, ReadOnce, load_processed
from wijkkompas.manifest import read_manifest, write_manifest
from wijkkompas.output.export import gemeente_page, wijk_page
from wijkkompas.processed import KOMPAS_TABLES, ProcessedPaths, read_tables
from wijkkompas.settings import Settings

GEMEENTEN = ",".join(NAMES)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aandeel")
    data = folder / "data"
    for code in NAMES:
        for path in write_levels(folder, code):
            assert main(["import", str(path), "--jaar", "2015", "--data-dir", str(data)]) == 0
    # Figures of 2023 for GM0998 alone (its 2015 buurten again): no one else has them.
    buurten = write_levels(folder, "GM0998")[0]
    assert main(["import", str(buurten), "--jaar", "2023", "--data-dir", str(data)]) == 0
    server = CbsServer([kwb_table()], page_size=100).start()
    try:
        raw = data / "raw"
        manifest = read_manifest(raw)
        settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
        fetch_table(TableRef(2024, "85984NED", "test"), "GM0998", raw, settings, None,
                    store=lambda entry: manifest["cbs"].update({"85984NED": entry}))
        write_manifest(raw, manifest)
    finally:
        server.stop()
    assert main(["build", "--data-dir", str(data), "--gemeente", GEMEENTEN,
                 "--indeling", "2015"]) == 0
    return data


def whole(data, gemeente: str) -> Processed:
    """The data of ``gemeente`` as the export loaded it before it read shares: the whole
    indicator table, and every kompas table read whole and then cut to the gemeente."""
    own = load_processed(data, gemeente=gemeente)
    table, _, _ = read_tables(data)
    paths = ProcessedPaths.of(data)
    frames = {}
    for name, kind in KOMPAS_TABLES:
        path = paths.kompas_table(name, kind)
        frame = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(
            path, dtype={"gebiedscode": str, "reden": str})
        frame = frame[frame["gemeente"] == gemeente].drop(columns="gemeente")
        if name == "kompas_scores":
            frame = frame.drop(columns="basisjaar", errors="ignore")
        frames[name] = frame.reset_index(drop=True)
    frames["kompas_referentie"]["reden"] = frames["kompas_referentie"]["reden"].fillna("")
    result = dataclasses.replace(own.result, frame=frames["kompas_referentie"],
                                 indicators=frames["kompas_indicatorscores"],
                                 themes=frames["kompas_scores"],
                                 sensitivity=frames["kompas_gevoeligheid"])
    return dataclasses.replace(own, table=table, result=result, facts=None)


def pages(processed: Processed) -> dict[str, str]:
    themes = processed.result.themes
    wijken = sorted(themes.loc[themes["niveau"] == "wijk", "gebiedscode"].unique())
    return {processed.gemeente: gemeente_page(processed),
            **{code: wijk_page(processed, code) for code in wijken}}


def test_each_gemeentes_share_makes_the_pages_of_the_whole_tables(data):
    folder = ReadOnce(data)
    for gemeente in NAMES:
        before = whole(data, gemeente)
        alone = load_processed(data, gemeente=gemeente)
        shared = load_processed(data, gemeente=gemeente, folder=folder)
        # Only the gemeente's rows and Nederland's are read of the indicator table.
        for loaded in (alone, shared):
            codes = set(loaded.table["gebiedscode"])
            assert codes and all(c == "NL00" or c[2:6] == gemeente[2:6] for c in codes)
            assert len(loaded.table) < len(before.table)
        assert "NL00" in set(alone.table["gebiedscode"])
        pd.testing.assert_frame_equal(alone.table, shared.table)
        for name in ("frame", "indicators", "themes", "sensitivity"):
            expected = getattr(before.result, name)
            pd.testing.assert_frame_equal(getattr(alone.result, name), expected)
            pd.testing.assert_frame_equal(getattr(shared.result, name), expected)
        expected = pages(before)
        assert len(expected) == 5  # the gemeente and its four wijken
        assert pages(alone) == expected
        assert pages(shared) == expected


@pytest.mark.parametrize("batch", [1, 7, 1_000_000])
def test_a_gemeentes_rows_read_in_batches_are_those_of_the_whole_table(data, batch,
                                                                          monkeypatch):
    """The indicator table is read a batch at a time (memory holds one batch, not the
    national table): in batches of one row, of a few rows (batches without any row of the
    gemeente, each batch its own codes) and all at once, a gemeente gets the rows of the
    whole table, in its order, and the facts of the whole table."""
    import wijkkompas.processed as processed

    monkeypatch.setattr(processed, "READ_BATCH_ROWS", batch)
    table, _, _ = read_tables(data)
    paths = ProcessedPaths.of(data)
    for gemeente in NAMES:
        own, facts = processed.read_gemeente_table(paths, gemeente)
        codes = table["gebiedscode"]
        keep = codes.isin(["NL00", gemeente]) | codes.str[:6].isin(
            [f"WK{gemeente[2:6]}", f"BU{gemeente[2:6]}"])
        pd.testing.assert_frame_equal(own, table[keep].reset_index(drop=True),
                                      check_exact=True)
        assert facts == processed.TableFacts.of(table)
        assert any(jaar == 2023 for _, jaar in facts.measured)  # GM0998's, for GM0997 too


def test_the_boundaries_are_read_once_for_the_gemeenten_of_a_folder(data):
    """The gemeenten of a folder read once share one reading of each layer of grenzen.gpkg
    (reading the national file again for every gemeente was a large part of a national
    export); each takes the same areas as when it reads the file alone."""
    folder = ReadOnce(data)
    read = {}
    for gemeente in NAMES:
        shared = load_processed(data, gemeente=gemeente, folder=folder)
        alone = load_processed(data, gemeente=gemeente)
        for niveau in ("wijk", "buurt"):
            mine = shared.boundaries(niveau)
            assert len(mine) and all(c[2:6] == gemeente[2:6] for c in mine["gebiedscode"])
            pd.testing.assert_frame_equal(mine, alone.boundaries(niveau))
        assert len(folder.layers) == 2  # wijken and buurten of the target indeling
        for key, layer in folder.layers.items():
            assert read.setdefault(key, layer) is layer  # not read again


def test_the_missing_reasons_speak_of_the_whole_table(data):
    """GM0997 has no figures of 2023, GM0998 has: its page says that the area has none,
    not that no source has (as its own rows and Nederland's alone would say)."""
    processed = load_processed(data, gemeente="GM0997")
    page = wijk_page(processed, "WK099700", jaar=2023)
    assert "geen cijfer voor dit gebied in 2023" in page  # bijstand: GM0998 has them
    assert "geen bron met dit cijfer voor 2023" in page  # WOZ: no one has them
    assert "geen bron met cijfers voor dit thema in 2023" not in page


def test_one_or_two_workers_write_the_same_files(data, tmp_path, capsys):
    said = {}
    for werkers in ("1", "2"):
        out = tmp_path / werkers
        capsys.readouterr()
        assert main(["export", "--data-dir", str(data), "--gemeente", GEMEENTEN,
                     "--out", str(out), "--werkers", werkers]) == 0
        said[werkers] = capsys.readouterr().out.replace(str(out), "UIT")
        # One gemeente: its pages side by side in the workers.
        assert main(["export", "--data-dir", str(data), "--gemeente", "GM0997",
                     "--out", str(out / "een"), "--werkers", werkers]) == 0
    first, second = tmp_path / "1", tmp_path / "2"
    names = sorted(p.relative_to(first) for p in first.rglob("*.html"))
    assert len(names) == 15 and names == sorted(p.relative_to(second)
                                                for p in second.rglob("*.html"))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert said["1"] == said["2"]
    assert said["1"].index("GM0998") < said["1"].index("GM0997")  # in the order asked


@pytest.mark.parametrize("value", ["0", "-1", "twee", "1.5", ""])
def test_werkers_is_a_whole_number_of_one_or_more(data, value, capsys):
    with pytest.raises(SystemExit) as info:
        main(["export", "--data-dir", str(data), "--werkers", value])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fout: ongeldige waarde voor --werkers: {value!r} (geef een "
                          "geheel getal van 1 of meer")
    assert len(err.splitlines()) == 1


def _ctrl_c_in_worker() -> tuple[bool, bool]:
    """(Ctrl-C ignored, Ctrl-C blocked) in the process that runs this."""
    import signal

    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN, blocked


def test_ctrl_c_belongs_to_the_parent_of_the_pool():
    """The export's workers ignore Ctrl-C (no traceback of their own), and the parent, which
    forks them with Ctrl-C held back, has it back afterwards: a Ctrl-C during the export
    stops it with the one Dutch line (tests/test_reliability.py shows that line)."""
    import signal

    from wijkkompas.output.export import worker_pool

    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a suite started in the background
    pool = worker_pool(2, 3)
    assert pool is not None
    try:
        assert pool.submit(_ctrl_c_in_worker).result() == (True, False)
    finally:
        pool.shutdown()
    assert signal.getsignal(signal.SIGINT) == before
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert worker_pool(1, 3) is None and worker_pool(4, 1) is None
