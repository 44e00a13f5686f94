"""A first run without CBS: ``wijkkompas run`` says how to go on in its one error line, and
``run --zonder-ophalen`` builds and exports from what is already in the data folder."""

from __future__ import annotations

import re

import pandas as pd
import pytest

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
    assert line.startswith("fout: CBS was onbereikbaar")
    assert line.endswith("Zonder internet: 'wijkkompas import' van de wijk- en buurtkaart, dan "
                         "'wijkkompas run --zonder-ophalen --data-dir d'.")
    assert len(line) <= 300, len(line)
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


def test_a_run_finishes_with_what_cbs_has_and_names_the_rest(env, politie_server, pdok_server,
                                                              tmp_path, monkeypatch):
    """CBS holds 2023 and 2024 only: 2021 and 2022 answer 404. The run builds and exports the
    pages of 2023-2024, names 2021 and 2022 as missing with the commands to fill them, and
    exits non-zero so that a scheduled run notices."""
    from tests.helpers import page_data
    from tests.servers import CbsServer
    from wijkkompas.pipeline import EXIT_INCOMPLETE

    cbs = CbsServer([_kwb(2023, "85618NED"), _kwb(2024, "85984NED")], page_size=50).start()
    monkeypatch.setitem(env, "WIJKKOMPAS_CBS_URL", cbs.url)
    try:
        done = run_cli(["run", "--jaren", "2021-2024", "--data-dir", "d"], env, tmp_path)
    finally:
        cbs.stop()
    assert done.returncode == EXIT_INCOMPLETE, done.stderr
    out = done.stdout
    assert "Niet compleet: CBS 2021, CBS 2022 ontbreken; wat er wel is, is gebouwd en " \
           "geëxporteerd." in out
    assert ("- CBS 2021: later opnieuw 'wijkkompas fetch --jaren 2021 --data-dir d', of de "
            "wijk- en buurtkaart van 2021 importeren: 'wijkkompas import BESTAND --jaar 2021 "
            "--data-dir d'.") in out
    assert "Of draai later dezelfde opdracht opnieuw: wijkkompas run --jaren 2021-2024 " \
           "--gemeente GM0141 --data-dir d" in out
    assert any(r.startswith("/ODataFeed/odata/85039NED") for r in cbs.requests)  # 2021 asked
    # Nothing of 2021 and 2022 was asked of PDOK: there are no figures to map.
    assert not any("2021" in r or "2022" in r for r in pdok_server.requests)
    processed = tmp_path / "d" / "processed"
    table = pd.read_parquet(processed / "indicatoren.parquet")
    kwb = table[table["bron"].str.match(r"CBS \d")]
    assert sorted(kwb["jaar"].unique()) == [2023, 2024]
    scores = pd.read_parquet(processed / "kompas_scores.parquet")
    assert sorted(scores.dropna(subset=["score"])["jaar"].unique()) == [2023, 2024]
    export = processed / "export"
    assert sorted(p.name for p in export.glob("*.html")) == [
        "wijkkompas_GM0141.html", "wijkkompas_WK014110.html", "wijkkompas_WK014111.html",
        "wijkkompas_WK014115.html", "wijkkompas_WK014121.html"]
    data = page_data((export / "wijkkompas_GM0141.html").read_text(encoding="utf-8"))
    assert {2023, 2024} <= set(data["jaren"]) and not {2021, 2022} & set(data["jaren"])


def _kwb(year: int, table_id: str):
    """A KWB table with CBS's metadata of 85984NED: Almelo and four wijken whose WOZ values
    differ (so the kompas has a frame: the gemeente's value and the spread between wijken)."""
    from tests.fixtures.kwb import _regions, _rows, table_2024
    from tests.servers import CbsTable

    rise = (year - 2015) * 10
    areas = [("GM0141", "Almelo", "Gemeente", 72000, 36000, 32000, 180 + rise)]
    areas += [(f"WK0141{n}", f"Wijk {n}", "Wijk", 5000 + 100 * i, 2500, 2200, 150 + 20 * i + rise)
              for i, n in enumerate((10, 11, 15, 21))]
    template = table_2024()
    infos = [{**template.table_infos[0], "Title": f"Kerncijfers wijken en buurten {year}",
              "ShortTitle": f"Kerncijfers wijken en buurten {year}", "Identifier": table_id,
              "Period": str(year)}]
    topics = [p["Key"] for p in template.data_properties if p.get("Type") == "Topic"]
    keys = {"naam": "Gemeentenaam_1", "soort": "SoortRegio_2", "code": "Codering_3",
            "indeling": "IndelingswijzigingGemeenteWijkBuurt_4", "inwoners": "AantalInwoners_5",
            "mannen": "Mannen_6", "vrouwen": "Vrouwen_7", "huishoudens": "HuishoudensTotaal_29",
            "woz": "GemiddeldeWOZWaardeVanWoningen_39"}
    rows = _rows(areas, keys, topics)
    for row in rows:
        row["Woningvoorraad_35"] = row["HuishoudensTotaal_29"]
    return CbsTable(table_id, infos, template.data_properties, _regions(areas), rows,
                    template.category_groups)


@pytest.mark.parametrize("with_2015", [True, False])
def test_a_default_run_starts_at_the_basisjaar_and_states_the_real_frame_year(
        env, pdok_server, politie_server, tmp_path, monkeypatch, with_2015):
    """By default the years start at the kompas's basisjaar (2015 for Almelo). A CBS that
    has 2015 gives the frame "100 = Almelo in 2015"; one that has nothing before 2023 gives
    "100 = Almelo in 2023" on every page, never 2015."""
    from tests.servers import CbsServer

    tables = [_kwb(2023, "85618NED"), _kwb(2024, "85984NED")]
    if with_2015:
        tables.append(_kwb(2015, "83220NED"))
    cbs = CbsServer(tables, page_size=50).start()
    monkeypatch.setitem(env, "WIJKKOMPAS_CBS_URL", cbs.url)
    try:
        done = run_cli(["run", "--data-dir", "d"], env, tmp_path)
    finally:
        cbs.stop()
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("Ophalen voor GM0141, jaren 2015-2024, naar d/raw\n")
    first = 2016 if with_2015 else 2015
    assert f"Niet compleet: CBS {first}, " in done.stdout
    frame = 2015 if with_2015 else 2023
    pages = sorted((tmp_path / "d" / "processed" / "export").glob("wijkkompas_*.html"))
    assert len(pages) == 5
    for path in pages:
        text = path.read_text(encoding="utf-8")
        # The explanation and the map's data on every page, the kompas chart on a wijk's
        # (in its three layouts: wide, narrow and print).
        stated = re.findall(r"gemiddelde van Almelo in (\d{4})|100 = Almelo in (\d{4})|"
                            r'"basisjaar":(\d{4})', text)
        years = {int(y) for match in stated for y in match if y}
        assert years == {frame}, path.name
        assert len(stated) == (2 if path.name == "wijkkompas_GM0141.html" else 5), path.name
    reference = pd.read_csv(tmp_path / "d" / "processed" / "kompas_referentie.csv")
    assert set(reference["referentiejaar"].dropna()) == {frame}
    scores = pd.read_parquet(tmp_path / "d" / "processed" / "kompas_scores.parquet")
    assert set(scores["basisjaar"]) == {frame}
