"""A first run without CBS: ``wijkkompas run`` says how to go on in its one error line, and
``run --zonder-ophalen`` builds and exports from what is already in the data folder."""

from __future__ import annotations

from tests.helpers import import_almelo, run_cli, snapshot
from tests.servers import Fault


def test_offline_run_says_how_to_go_on_and_builds_from_the_cache(env, cbs_server, pdok_server,
                                                                  shared, tmp_path):
    import_almelo(tmp_path / "d", shared)
    raw = snapshot(tmp_path / "d" / "raw")
    cbs_server.faults.append(Fault("", "drop"))  # every connection to CBS is cut

    failed = run_cli(["run", "--jaren", "2024", "--data-dir", "d"], env, tmp_path)
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    line = lines[0]
    assert line.startswith("fout: CBS")
    assert "niet bereikbaar" in line
    assert ("Zonder CBS verder: download de bestanden van de CBS wijk- en buurtkaart (cbs.nl), "
            "importeer ze met 'wijkkompas import BESTAND --jaar JJJJ --data-dir d' en draai dan "
            "'wijkkompas run --zonder-ophalen --data-dir d'") in line
    assert cbs_server.requests  # it did try
    assert snapshot(tmp_path / "d" / "raw") == raw
    assert not (tmp_path / "d" / "processed" / "indicatoren.parquet").exists()

    cbs_server.requests.clear()
    pdok_server.requests.clear()
    done = run_cli(["run", "--zonder-ophalen", "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Ophalen overgeslagen (--zonder-ophalen): bouwen uit d/raw\n")
    assert cbs_server.requests == [] and pdok_server.requests == []
    assert snapshot(tmp_path / "d" / "raw") == raw
    assert (tmp_path / "d" / "processed" / "indicatoren.parquet").is_file()
    export = tmp_path / "d" / "processed" / "export"
    assert (export / "wijkkompas_GM0141.html").is_file()
    assert (export / "wijkkompas_WK014115.html").is_file()
