"""Nederland (NL00) and the gemeente beside every wijk value: fetched with the KWB table
(loopback CBS server, real cbsodata), in the profile table and on the exported wijk page
(real headless Chromium)."""

from __future__ import annotations

import pytest

from tests.browser import opened
from tests.fixtures.gemeenten import KWB_AREAS, kwb_table, write_levels
from tests.servers import CbsServer
from wijkkompas.cli import main
from wijkkompas.fetch.cbs import TableRef, fetch_table
from wijkkompas.kompas.results import load_processed
from wijkkompas.manifest import read_manifest, write_manifest
from wijkkompas.output.profile import profile_table
from wijkkompas.settings import Settings
from wijkkompas.web.numbers import nl_number

GM, WIJK = "GM0998", "WK099800"
FIGURES = {code: (inwoners, woz) for code, _kind, inwoners, _hh, woz in KWB_AREAS}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("referentie")
    data = folder / "data"
    for path in write_levels(folder, GM):
        assert main(["import", str(path), "--jaar", "2015", "--data-dir", str(data)]) == 0
    server = CbsServer([kwb_table()], page_size=100).start()
    try:
        raw = data / "raw"
        manifest = read_manifest(raw)
        settings = Settings(cbs_url=server.url, timeout=1.0, retries=0, backoff=0.0)
        fetch_table(TableRef(2024, "85984NED", "test"), GM, raw, settings, None,
                    store=lambda entry: manifest["cbs"].update({"85984NED": entry}))
        write_manifest(raw, manifest)
    finally:
        server.stop()
    assert main(["build", "--data-dir", str(data), "--gemeente", GM]) == 0
    assert main(["export", "--data-dir", str(data), "--gemeente", GM, "--wijk", WIJK]) == 0
    return data


def _woz(code: str) -> str:
    # Without decimals, as CBS publishes it (DataProperties: Decimals 0) and as the
    # earlier and newest values in the same row show it; "205,0" beside "205" was wrong.
    return f"{nl_number(FIGURES[code][1], 0)} x 1.000 euro"


def test_profile_has_the_gemeente_and_nederland_beside_the_wijk(data):
    profile = profile_table(load_processed(data), WIJK, 2024).set_index("indicator")
    woz = profile.loc["Gemiddelde WOZ-waarde van woningen"]
    assert (woz["waarde"], woz["gemeente"], woz["jaar gemeente"], woz["Nederland"],
            woz["jaar Nederland"]) == (_woz(WIJK), _woz(GM), "2024", _woz("NL00"), "2024")
    # One formatter for the values of a row: the newest value reads as the value does.
    assert woz["nieuwste"] == f"{woz['waarde']} (2024)"
    inwoners = profile.loc["Aantal inwoners"]
    assert inwoners["Nederland"] == nl_number(FIGURES["NL00"][0], 0)
    # A figure only the 2015 wijk- en buurtkaart has: the gemeente's value of 2015, no
    # Nederland value (the kaart holds no NL00 row), never zero.
    bijstand = profile.loc["Personen met bijstand"]
    assert bijstand["jaar gemeente"] == "2015" and bijstand["Nederland"] == "geen data"
    assert bijstand["jaar Nederland"] == ""


def test_wijk_page_shows_the_nederland_value(data, browser, tmp_path):
    # The export opens on the latest scored year (2015 here); the Nederland figures of the
    # fixture are of 2024, so the page of 2024 is the one that shows them.
    from wijkkompas.output.export import wijk_page

    processed = load_processed(data)
    page_path = tmp_path / f"wijkkompas_{WIJK}_2024.html"
    page_path.write_text(wijk_page(processed, WIJK, jaar=2024), encoding="utf-8")
    with opened(browser, page_path) as page:
        rows = page.page.eval_on_selector_all(
            "table", "ts => ts.map(t => [...t.rows].map(r => [...r.cells].map("
                     "c => c.innerText.trim())))")
        table = next(t for t in rows if t and "Nederland" in t[0])
        header = table[0]
        woz = next(r for r in table if any("WOZ-waarde" in cell for cell in r))
        assert woz[header.index("Nederland")] == _woz("NL00")
        assert woz[header.index("Jaar Nederland")] == "2024"
        assert woz[header.index("Gemeente")] == _woz(GM)
        assert page.errors == []
