"""The headless Chromium shared by the browser tests of the output stage."""

from __future__ import annotations

import pytest

from tests.output.browser import chromium


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running
