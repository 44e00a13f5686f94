"""Shared test set-up: loopback servers for CBS and PDOK, and the path to ../shared/data."""

from __future__ import annotations

import os

# cbsodata reads proxy settings when it is imported; loopback must always be reached
# directly, whatever proxy the machine has configured.
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), "127.0.0.1", "localhost"]))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# No test depends on time: hypothesis's default 200 ms deadline per example fails on a
# loaded 2-core machine (two full suites side by side), so no example is ever timed.
hypothesis_settings.register_profile("wijkkompas", deadline=None)
hypothesis_settings.load_profile("wijkkompas")

from tests.fixtures.geo import almelo_layers  # noqa: E402
from tests.fixtures.kwb import SHARED, table_2023, table_2024  # noqa: E402
from tests.fixtures.politie import table_47018  # noqa: E402
from tests.servers import CbsServer, PdokServer  # noqa: E402
from wijkkompas.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} ontbreekt: de tests lezen de echte data uit ../shared/data")
    return SHARED


@pytest.fixture(scope="session")
def almelo_built(shared, tmp_path_factory) -> Path:
    """The real Almelo files of ../shared/data imported, built and scored once for the whole
    run (as ``wijkkompas build`` does): a data folder only to read. A test that changes
    files works on a copy (``shutil.copytree``)."""
    from tests.helpers import import_almelo
    from wijkkompas.kompas.stage import build_and_score

    data = tmp_path_factory.mktemp("almelo") / "data"
    import_almelo(data, shared)
    build_and_score(data, say=lambda _: None)
    return data


@pytest.fixture(scope="session")
def processed(almelo_built):
    """The built Almelo data loaded for reading."""
    from wijkkompas.kompas.results import load_processed

    return load_processed(almelo_built)


@pytest.fixture
def cbs_server():
    server = CbsServer([table_2024(), table_2023()], page_size=4).start()
    yield server
    server.stop()


@pytest.fixture
def politie_server():
    """CBS's dataderden host with the Politie table 47018NED, in pages of seven rows."""
    server = CbsServer([table_47018()], page_size=7).start()
    yield server
    server.stop()


@pytest.fixture
def pdok_server():
    server = PdokServer(almelo_layers([2023, 2024]), page_size=30).start()
    yield server
    server.stop()


@pytest.fixture
def settings(cbs_server, politie_server, pdok_server) -> Settings:
    return Settings(cbs_url=cbs_server.url, politie_url=politie_server.url,
                    pdok_url=pdok_server.url, timeout=1.0, retries=2, backoff=0.0)


@pytest.fixture
def env(cbs_server, politie_server, pdok_server, monkeypatch) -> dict[str, str]:
    """Environment for the command line, pointing at the loopback servers."""
    values = {"WIJKKOMPAS_CBS_URL": cbs_server.url, "WIJKKOMPAS_POLITIE_URL": politie_server.url,
              "WIJKKOMPAS_PDOK_URL": pdok_server.url,
              "WIJKKOMPAS_TIMEOUT": "1", "WIJKKOMPAS_RETRIES": "2", "WIJKKOMPAS_BACKOFF": "0"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (see tests/browser.py)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()
