"""One build of the real Almelo data for the vlekkenkaart tests, and the headless Chromium."""

from __future__ import annotations

import pytest

from tests.helpers import import_almelo
from tests.output.browser import chromium
from wijkkompas.build.stage import run_build
from wijkkompas.output.processed import load_processed


@pytest.fixture(scope="package")
def processed(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("vlek") / "data"
    import_almelo(data, shared)
    run_build(data, say=lambda _: None)
    return load_processed(data)


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running
