"""Several gemeenten in one data folder: ONE request per CBS table (one OData filter with
every code), against the loopback CBS server and the real cbsodata client."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.gemeenten import kwb_table
from tests.servers import CbsServer
from wijkkompas.fetch.cbs import TableRef, fetch_table, gemeente_filter
from wijkkompas.settings import Settings


@pytest.fixture
def server():
    server = CbsServer([kwb_table()], page_size=100).start()
    yield server
    server.stop()


def test_filter_of_two_gemeenten_is_one_expression():
    assert gemeente_filter("GM0998,GM0997") == (
        "(WijkenEnBuurten eq 'GM0998    ') or substringof('WK0998',WijkenEnBuurten) "
        "or substringof('BU0998',WijkenEnBuurten) or "
        "(WijkenEnBuurten eq 'GM0997    ') or substringof('WK0997',WijkenEnBuurten) "
        "or substringof('BU0997',WijkenEnBuurten)")


def test_two_gemeenten_one_request_per_table(server, tmp_path):
    settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
    raw = tmp_path / "raw"
    result = fetch_table(TableRef(2024, "85984NED", "test"), "GM0998,GM0997", raw, settings,
                         None)
    # One request for the data of both gemeenten; the other collections once each (the
    # metadata of 85984NED is long enough for a second page of DataProperties).
    collections = [r.split("?")[0].rstrip("/").rsplit("/", 1)[-1] for r in server.requests]
    assert sorted(collections) == sorted(["85984NED", "TableInfos", "TypedDataSet",
                                          "DataProperties", "DataProperties", "CategoryGroups",
                                          "WijkenEnBuurten"])
    dataset = next(r for r in server.requests if "/TypedDataSet" in r)
    assert "GM0998" in dataset and "GM0997" in dataset
    rows = json.loads((raw / "cbs" / "85984NED" / "TypedDataSet.json").read_text())
    codes = [row["WijkenEnBuurten"].strip() for row in rows]
    assert [c for c in codes if c != "NL00"] == [
        "GM0998", "WK099800", "WK099801", "BU09980000", "GM0997", "WK099700", "BU09970000"]
    assert result.manifest_entry["gemeente"] == "GM0998,GM0997"
