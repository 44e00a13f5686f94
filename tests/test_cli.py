"""The installed ``wijkkompas`` command, run as a user would, against the loopback servers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.helpers import page_data, run_cli
from wijkkompas.cli import build_parser, main


def test_fetch_then_nothing_to_do(env, tmp_path, cbs_server, pdok_server):
    done = run_cli(["fetch", "--jaren", "2024", "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CBS 85984NED (2024): opgehaald, 6 rijen" in done.stdout
    assert "PDOK wijk- en buurtkaart 2024: opgehaald, 12 wijken, 71 buurten" in done.stdout
    assert (tmp_path / "d" / "raw" / "cbs" / "85984NED" / "TypedDataSet.json").is_file()

    cbs_server.requests.clear()
    pdok_server.requests.clear()
    again = run_cli(["run", "--jaren", "2024", "--data-dir", "d"], env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "CBS 85984NED (2024): actueel" in again.stdout
    assert cbs_server.requests == [] and pdok_server.requests == []


def test_config_file_in_working_directory(env, tmp_path):
    (tmp_path / "wijkkompas.toml").write_text('jaren = "2023"\n', encoding="utf-8")
    done = run_cli(["fetch", "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "d" / "raw" / "manifest.json").read_text())
    assert list(manifest["cbs"]) == ["85618NED"]


@pytest.mark.parametrize("args, message", [
    (["fetch", "--jaren", "2024", "--gemeente", "GM9999"], "Gemeentecode GM9999 komt niet voor"),
    (["fetch", "--jaren", "1850"], "Geen CBS-tabel 'Kerncijfers wijken en buurten 1850'"),
    (["fetch", "--jaren", "twintig"], "Ongeldige jaren 'twintig'"),
    (["import", "geen.csv", "--jaar", "2021"], "Importbestand geen.csv bestaat niet"),
    (["import", "geen.csv"], "Geef bij een importbestand het jaar op"),
])
def test_errors_are_one_dutch_line_and_a_non_zero_exit(env, tmp_path, args, message):
    done = run_cli([*args, "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("fout: ") and message in lines[0]
    assert len(lines[0]) <= 300, lines[0]  # #26: short enough to read


@pytest.mark.parametrize("args, message", [
    (["run", "--zonder-ophalen", "--jaren", "2030"], "--jaren gaat over het ophalen, en "
     "--zonder-ophalen haalt niets op: de build neemt alles wat al in d/raw staat. Laat --jaren "
     "of --zonder-ophalen weg."),
    (["run", "--zonder-ophalen", "--jaren", "2024-2015"], "Laat --jaren of --zonder-ophalen weg."),
    (["run", "--zonder-ophalen", "--refresh"], "Laat --refresh of --zonder-ophalen weg."),
    (["run", "--zonder-ophalen", "--landelijk"], "--landelijk gaat over het ophalen"),
    (["vlekkenkaart", "--zorglocaties", "zorg.toml", "--toets", "241000,486000", "--adres",
      "Grotestraat 1, Almelo", "--categorie", "opvang"],
     "Geef de voorgestelde locatie met --toets x,y of met --adres, niet met allebei."),
])
def test_options_that_would_be_ignored_are_refused(env, tmp_path, args, message):
    """They were silently ignored: a run without fetching that was given years, and an
    address beside coordinates (#26)."""
    (tmp_path / "d").mkdir()
    (tmp_path / "zorg.toml").write_text('[categorie.opvang]\nnaam = "Opvang"\n',
                                        encoding="utf-8")
    done = run_cli([*args, "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fout: ") and message in lines[0], lines
    assert len(lines[0]) <= 300, lines[0]
    assert not (tmp_path / "d" / "processed").exists()


@pytest.mark.parametrize("future", [False, True])
def test_a_year_cbs_cannot_have_is_refused_before_going_online(env, tmp_path, cbs_server,
                                                                pdok_server, future):
    """``fetch --jaren 1990`` asked the CBS catalogue first (#26); so would next year."""
    from datetime import date

    this_year = date.today().year
    years, year = (f"2023-{this_year + 3}", this_year + 1) if future else ("1990", 1990)
    done = run_cli(["fetch", "--jaren", years, "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"fout: Geen CBS-tabel 'Kerncijfers wijken en buurten {year}': die zijn er van 1995 tot "
        f"en met dit jaar ({this_year}). Kies jaren daartussen met --jaren (of 'jaren' "
        "in wijkkompas.toml)."]
    assert cbs_server.requests == [] and pdok_server.requests == []


def test_build_and_run(env, tmp_path, shared):
    kaart = shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"
    imported = run_cli(["import", str(kaart), "--jaar", "2021", "--data-dir", "d"], env, tmp_path)
    assert imported.returncode == 0, imported.stderr
    built = run_cli(["build", "--data-dir", "d"], env, tmp_path)
    assert built.returncode == 0, built.stderr
    assert "Indicatortabel:" in built.stdout
    table = pd.read_parquet(tmp_path / "d" / "processed" / "indicatoren.parquet")
    assert set(table.jaar) == {2021}
    inwoners = table[table.indicator == "inwoners"]
    assert inwoners.groupby("niveau").size().to_dict() == {"buurt": 71, "wijk": 12,
                                                           "gemeente": 1}
    expected = pd.read_csv(kaart)["aantal_inw"].sum()
    assert inwoners[inwoners.niveau == "gemeente"].waarde.tolist() == [expected]

    # run = fetch + build: the fetched 2024 table joins the imported 2021 figures.
    done = run_cli(["run", "--jaren", "2024", "--data-dir", "d"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CBS 85984NED (2024): opgehaald" in done.stdout
    assert "Politie 47018NED (geregistreerde misdrijven): opgehaald, 34 rijen" in done.stdout
    # The Politie table brings its own years (2015 and 2023 in the test fixture).
    assert "jaren 2015, 2021, 2023, 2024" in done.stdout
    page = (tmp_path / "d" / "processed" / "export" / "wijkkompas_GM0141.html").read_text(
        encoding="utf-8")
    data = page_data(page)
    assert data["gemeente"] == "Almelo" and data["jaren"] == [2015, 2021, 2023, 2024]
    wijken = data["geo"]["wijk"]["c"]
    assert sorted(wijken) == [f"WK0141{n}" for n in range(10, 22)]
    assert "Vlekkenkaart overgeslagen: geen 'zorglocaties' in de configuratie." in done.stdout


def test_usage_errors_and_help_are_dutch(env, tmp_path):
    wrong = run_cli(["fetch", "--jaren"], env, tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("fout: ") and "wijkkompas fetch --help" in wrong.stderr
    no_wijk = run_cli(["export", "--wijk", "WK14", "--data-dir", "d"], env, tmp_path)
    assert no_wijk.returncode == 2
    assert no_wijk.stderr.startswith("fout: ongeldige waarde voor --wijk: 'WK14' (geef een "
                                     "wijkcode: WK en zes cijfers, bijvoorbeeld WK014115)")
    helped = run_cli(["build", "--help"], env, tmp_path)
    assert helped.returncode == 0
    assert helped.stdout.startswith("gebruik: wijkkompas build") and "opties:" in helped.stdout


ENGLISH = ("usage", "options:", "optional arguments", "positional arguments", "show this help",
           "invalid", "expected", "argument ", "required", "unrecognized", "choose from")


@pytest.mark.parametrize("step", [[], ["fetch"], ["import"], ["build"], ["export"],
                                  ["vlekkenkaart"], ["run"]])
def test_every_help_is_dutch(step, capsys):
    with pytest.raises(SystemExit) as done:
        main([*step, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(" ".join(["gebruik: wijkkompas", *step]))
    assert "\nopties:\n  -h, --help" in out and "toon deze hulp en stop" in out
    assert not [word for word in ENGLISH if word in out.lower()]


@pytest.mark.parametrize("args, message", [
    (["vlekkenkaart", "--capaciteit", "abc"],
     "fout: ongeldige waarde voor --capaciteit: 'abc' (geef een getal groter dan 0) "
     "(zie 'wijkkompas vlekkenkaart --help')"),
    (["vlekkenkaart", "--capaciteit", "-10"],
     "fout: ongeldige waarde voor --capaciteit: '-10' (geef een getal groter dan 0) "
     "(zie 'wijkkompas vlekkenkaart --help')"),
    (["vlekkenkaart", "--capaciteit", "nan"],
     "fout: ongeldige waarde voor --capaciteit: 'nan' (geef een getal groter dan 0) "
     "(zie 'wijkkompas vlekkenkaart --help')"),
    (["build", "--indeling", "21"],
     "fout: ongeldige waarde voor --indeling: '21' (geef een jaartal, bijvoorbeeld 2021) "
     "(zie 'wijkkompas build --help')"),
    (["fetch", "--refresh=ja"],
     "fout: --refresh neemt geen waarde (zie 'wijkkompas fetch --help')"),
    (["ophalen"], "fout: ongeldige keuze voor stap: 'ophalen' (kies uit 'fetch', 'import', "
                  "'build', 'export', 'vlekkenkaart', 'run') (zie 'wijkkompas --help')"),
    ([], "fout: dit ontbreekt: stap (zie 'wijkkompas --help')"),
    (["fetch", "--snel"], "fout: onbekende argumenten: --snel (zie 'wijkkompas --help')"),
])
def test_usage_errors_are_one_dutch_line(args, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 2
    assert capsys.readouterr().err == message + "\n"


def test_bad_number_from_the_installed_command(env, tmp_path):
    done = run_cli(["vlekkenkaart", "--capaciteit", "tien"], env, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("fout: ongeldige waarde voor --capaciteit: 'tien' (geef een getal "
                           "groter dan 0) (zie 'wijkkompas vlekkenkaart --help')\n")


def test_positive_capacity_is_read_as_a_number():
    args = build_parser().parse_args(["vlekkenkaart", "--capaciteit", "12,5"])
    assert args.capaciteit == 12.5


def test_a_wijk_known_only_from_a_buurt_file_is_named_by_code_and_the_page_says_why(
        env, tmp_path, shared):
    """With only a buurt file imported the wijken have no name; the page said nothing about
    where names come from (#26)."""
    kaart = shared / "cbs" / "kwb2021_almelo_buurten_pdok_wijkbuurtkaart.csv"
    grenzen = shared / "geo" / "almelo_buurten_2021_epsg28992.geojson"
    for args in (["import", str(kaart), "--jaar", "2021"], ["import", str(grenzen), "--jaar",
                                                            "2021"], ["build"],
                 ["export", "--wijk", "WK014110"]):
        done = run_cli([*args, "--data-dir", "d"], env, tmp_path)
        assert done.returncode == 0, done.stderr
    html = (tmp_path / "d" / "processed" / "export" / "wijkkompas_WK014110.html").read_text(
        encoding="utf-8")
    assert "<title>Wijkkompas WK014110, gemeente Almelo, 2021</title>" in html
    assert ("Deze wijk heeft in de gegevens geen naam en staat onder haar code. De namen van "
            "wijken komen uit de CBS-kerncijfers (wijkkompas fetch) of uit het wijkenbestand van "
            "de wijk- en buurtkaart (wijkkompas import); een buurtbestand alleen geeft ze "
            "niet.") in html
