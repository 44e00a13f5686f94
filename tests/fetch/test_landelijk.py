"""The wijken of the whole country for the vergelijkbare wijken (``fetch --landelijk``,
setting ``vergelijk_landelijk``): in the same one request per KWB table, into the same cache
and manifest, against the loopback CBS server and the real cbsodata client."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.gemeenten import kwb_table
from tests.servers import CbsServer
from wijkkompas.cli import build_parser
from wijkkompas.fetch.cbs import TableRef, TableSource, fetch_table, national_filter
from wijkkompas.settings import Settings, load_settings

NATIONAL = TableSource(filters=national_filter("GM0998"), manifest={"landelijk": True})


@pytest.fixture
def server():
    server = CbsServer([kwb_table()], page_size=100).start()
    yield server
    server.stop()


def _datasets(server) -> int:
    return sum("/TypedDataSet" in r for r in server.requests)


def _codes(raw) -> list[str]:
    rows = json.loads((raw / "cbs" / "85984NED" / "TypedDataSet.json").read_text())
    return [row["WijkenEnBuurten"].strip() for row in rows]


def test_every_wijk_and_gemeente_of_the_country_in_one_request(server, tmp_path):
    settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
    raw = tmp_path / "raw"
    ref = TableRef(2024, "85984NED", "test")
    result = fetch_table(ref, "GM0998", raw, settings, None, source=NATIONAL)
    assert _datasets(server) == 1
    # The gemeente's own buurten, every gemeente and wijk, Nederland; no other buurt.
    assert _codes(raw) == ["NL00", "GM0141", "GM0998", "WK099800", "WK099801", "BU09980000",
                           "GM0997", "WK099700"]
    entry = result.manifest_entry
    assert entry["gemeente"] == "GM0998" and entry["landelijk"] is True
    # Cached: no second request.
    again = fetch_table(ref, "GM0998", raw, settings, entry, source=NATIONAL)
    assert again.status == "actueel" and _datasets(server) == 1


def test_a_cache_of_the_gemeente_alone_is_fetched_again_nationally(server, tmp_path):
    settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
    raw = tmp_path / "raw"
    ref = TableRef(2024, "85984NED", "test")
    own = fetch_table(ref, "GM0998", raw, settings, None)
    assert "WK099700" not in _codes(raw) and "landelijk" not in own.manifest_entry
    national = fetch_table(ref, "GM0998", raw, settings, own.manifest_entry, source=NATIONAL)
    assert national.status == "ververst" and _datasets(server) == 2
    assert "WK099700" in _codes(raw)
    # The national cache also serves a fetch of the gemeente alone.
    alone = fetch_table(ref, "GM0998", raw, settings, national.manifest_entry)
    assert alone.status == "actueel" and _datasets(server) == 2


def test_setting_option_and_environment(tmp_path):
    assert Settings().vergelijk_landelijk is False
    config = tmp_path / "wijkkompas.toml"
    config.write_text("vergelijk_landelijk = true\n", encoding="utf-8")
    assert load_settings(config, env={}).vergelijk_landelijk is True
    assert load_settings(None, env={"WIJKKOMPAS_VERGELIJK_LANDELIJK": "1"}).vergelijk_landelijk
    args = build_parser().parse_args(["fetch", "--landelijk"])
    assert args.landelijk is True
    assert build_parser().parse_args(["run", "--landelijk"]).landelijk is True


def test_run_fetch_with_the_setting(settings, tmp_path, cbs_server):

    from wijkkompas.fetch.stage import run_fetch

    raw = tmp_path / "raw"
    run_fetch(raw, settings.changed(vergelijk_landelijk=True), "GM0141", [2024],
              say=lambda _: None)
    # One request (its pages follow the server's nextLink).
    assert sum("/TypedDataSet" in r and "skip" not in r for r in cbs_server.requests) == 1
    codes = _codes(raw)
    # Almelo's rows and Enschede's gemeente and wijk, not Enschede's buurt.
    assert {"GM0141", "WK014110", "BU01411000", "GM0153", "WK015300"} <= set(codes)
    assert "BU01530000" not in codes
    manifest = json.loads((raw / "manifest.json").read_text())
    assert manifest["cbs"]["85984NED"]["landelijk"] is True


def test_national_rows_give_every_wijk_its_peers_from_the_rest_of_the_country(tmp_path):
    import pandas as pd

    from tests.fixtures.gemeenten import national_kwb_table
    from wijkkompas.cli import main
    from wijkkompas.manifest import read_manifest, write_manifest

    server = CbsServer([national_kwb_table()], page_size=100).start()
    try:
        settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
        raw = tmp_path / "data" / "raw"
        source = TableSource(filters=national_filter("GM0141"), manifest={"landelijk": True})
        result = fetch_table(TableRef(2024, "85984NED", "test"), "GM0141", raw, settings,
                             None, source=source)
    finally:
        server.stop()
    manifest = read_manifest(raw)
    manifest["cbs"]["85984NED"] = result.manifest_entry
    write_manifest(raw, manifest)
    # Other gemeenten's buurten are not fetched.
    assert "BU01530000" not in _codes(raw) and "BU01410000" in _codes(raw)
    assert main(["build", "--data-dir", str(tmp_path / "data")]) == 0
    peers = pd.read_parquet(tmp_path / "data" / "processed" / "vergelijkbare_wijken.parquet")
    assert sorted(peers["wijk"].unique()) == ["WK014100", "WK014101", "WK014102"]
    assert (peers.groupby("wijk")["rang"].max() == 10).all()
    assert set(peers["gemeentenaam"]) == {"Enschede", "Hengelo", "Deventer"}
    assert (peers["kenmerken"] == "10 van 10").all() and (peers["jaar"] == 2024).all()
    placed = pd.read_parquet(tmp_path / "data" / "processed"
                             / "vergelijkbare_wijken_positie.parquet")
    assert set(placed["indicator"]) == {"bijstand_per_1000"}
    assert (placed["met_cijfer"] == 10).all()
