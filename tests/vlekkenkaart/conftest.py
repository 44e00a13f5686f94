"""The real Almelo data, imported and built once for the vlekkenkaart tests."""

from __future__ import annotations

import pytest

from tests.helpers import import_almelo
from wijkkompas.build.stage import run_build
from wijkkompas.kompas.stage import run_kompas
from wijkkompas.output.processed import load_processed


@pytest.fixture(scope="package")
def processed(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("vlek") / "data"
    import_almelo(data, shared)
    run_build(data, say=lambda _: None)
    run_kompas(data, say=lambda _: None)
    return load_processed(data)
