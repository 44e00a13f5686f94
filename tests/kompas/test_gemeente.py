"""Any gemeente with one command: the gemeente setting, the built-in basis-set that Almelo's
kompas extends, and scores written once by build and read back by every later step."""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib

import pandas as pd
import pytest

from tests.fixtures.gemeenten import NAMES, buurten_geojson, write_levels
from tests.helpers import snapshot
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.kompas import scores
from wijkkompas.kompas.definition import builtin_path, default_path, load_kompas
from wijkkompas.kompas.results import load_processed

GM = "GM0998"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gemeenten")
    return {code: write_levels(folder, code) for code in NAMES}


def _imported(files, data, *codes):
    for code in codes:
        for path in files[code]:
            assert main(["import", str(path), "--jaar", "2015", "--data-dir", str(data)]) == 0


def test_basis_set_is_gemeente_neutral_and_from_the_catalogue():
    raw = tomllib.loads(builtin_path("basis").read_text(encoding="utf-8"))
    assert "gemeente" not in raw and "naam" not in raw and "basis" not in raw
    catalogue = {row["indicator"] for row in csv.DictReader(
        (builtin_path("basis").parent / "indicatoren.csv").open(encoding="utf-8"))}
    assert set(raw["indicator"]) <= catalogue
    assert all("gebieden" not in spec for spec in raw["indicator"].values())
    kinds = {code for code in raw["indicator"] if code.startswith("misdrijven_")}
    assert {"misdrijven_woninginbraak_per_1000", "misdrijven_geweld_per_1000"} <= kinds
    assert {"lbm_onv", "lbm_won", "lbm_fys"} <= set(raw["indicator"])
    assert default_path("GM0153") == builtin_path("basis")
    assert default_path("GM0141") == builtin_path("almelo")


def test_almelo_extends_the_basis_set():
    basis, almelo = load_kompas(builtin_path("basis")), load_kompas(gemeente="GM0141")
    assert set(basis.indicators) < set(almelo.indicators)
    added = set(almelo.indicators) - set(basis.indicators)
    assert added == {"voelt_zich_veilig", "meldingen_openbare_ruimte", "energielabel_a_c",
                     "vertrouwen_toekomst_wijk", "bewonersinitiatieven", "leegstand_winkels"}
    assert all(almelo.indicators[c] == basis.indicators[c] for c in basis.indicators)
    assert (almelo.gemeente, almelo.naam, almelo.basisjaar) == ("GM0141", "Almelo", 2015)
    raw = tomllib.loads(builtin_path("almelo").read_text(encoding="utf-8"))
    assert raw["basis"] == "basis" and "thema" not in raw


def test_a_change_to_the_basis_reaches_the_extension(tmp_path):
    text = builtin_path("basis").read_text(encoding="utf-8")
    basis = tmp_path / "basis.toml"
    basis.write_text(text.replace("[indicator.woz]\n", "[indicator.woz]\ngewicht = 3\n"),
                     encoding="utf-8")
    own = tmp_path / "eigen.toml"
    own.write_text('basis = "basis.toml"\ngemeente = "GM0998"\nbasisjaar = 2016\n\n'
                   '[indicator.gasverbruik]\ngewicht = 2\n', encoding="utf-8")
    kompas = load_kompas(own)
    assert kompas.indicators["woz"].gewicht == 3 and kompas.indicators["gasverbruik"].gewicht == 2
    assert kompas.basisjaar == 2016 and kompas.gemeente == "GM0998"
    assert kompas.basis_sha256 == hashlib.sha256(basis.read_bytes()).hexdigest()
    own.write_text('basis = "basis.toml"\n\n[indicator.woz]\ngewicht = "zwaar"\n',
                   encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        load_kompas(own)
    assert str(info.value) == (f"{own}: indicator.woz.gewicht: moet een getal groter dan 0 "
                               "zijn (nu: 'zwaar').")


def test_gemeente_without_kompas_gets_the_basis_set_and_its_own_name(files, tmp_path, capsys):
    data = tmp_path / "data"
    _imported(files, data, GM)
    assert main(["build", "--data-dir", str(data), "--gemeente", GM]) == 0
    info = json.loads((data / "processed" / "bouwinfo.json").read_text(encoding="utf-8"))
    basis = builtin_path("basis")
    assert info["kompas"] == [{"gemeente": GM, "naam": NAMES[GM], "pad": str(basis),
                               "sha256": hashlib.sha256(basis.read_bytes()).hexdigest(),
                               "basis_pad": "", "basis_sha256": "", "basisjaar": 2015}]
    capsys.readouterr()
    assert main(["export", "--data-dir", str(data), "--gemeente", GM]) == 0
    out = capsys.readouterr().out
    assert f"Exporteren: {NAMES[GM]} ({GM})" in out
    pages = sorted(p.name for p in (data / "processed" / "export").iterdir())
    assert pages == [f"wijkkompas_{GM}.html"] + [f"wijkkompas_WK0998{w:02d}.html"
                                                 for w in range(4)]
    for page in pages:
        html = (data / "processed" / "export" / page).read_text(encoding="utf-8")
        assert NAMES[GM] in html and "Almelo" not in html, page
    scored = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    assert set(scored["gemeente"]) == {GM}
    assert scored.loc[(scored["niveau"] == "wijk") & (scored["deel"] == "totaal"),
                      "score"].notna().sum() > 0


def test_kompas_of_another_gemeente_is_refused(files, tmp_path, capsys):
    data = tmp_path / "data"
    _imported(files, data, GM)
    before = snapshot(data)
    capsys.readouterr()
    almelo = default_path("GM0141")
    assert main(["build", "--data-dir", str(data), "--gemeente", GM,
                 "--kompas", str(almelo)]) == 1
    assert capsys.readouterr().err == (
        f"fout: {almelo}: deze kompasdefinitie is van gemeente GM0141, maar de gemeente is "
        f"{GM}. Geef --gemeente GM0141, of een kompas voor {GM} (zonder --kompas: de "
        "basis-set).\n")
    assert snapshot(data) == before


def _custom(tmp_path, name, weight):
    path = tmp_path / name
    path.write_text(f'basis = "basis"\ngemeente = "{GM}"\n\n[indicator.bijstand_per_1000]\n'
                    f'gewicht = {weight}\n', encoding="utf-8")
    return path


def test_export_uses_the_scores_of_the_build_and_refuses_another_kompas(
        files, tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    _imported(files, data, GM)
    kompas_a, kompas_b = _custom(tmp_path, "a.toml", 4), _custom(tmp_path, "b.toml", 0.5)
    assert main(["build", "--data-dir", str(data), "--gemeente", GM,
                 "--kompas", str(kompas_a)]) == 0
    written = pd.read_parquet(data / "processed" / "kompas_scores.parquet")

    def no_scoring(*args, **kwargs):
        raise AssertionError("scores.score called after the build")

    monkeypatch.setattr(scores, "score", no_scoring)
    processed = load_processed(data)
    assert processed.kompas.path == str(kompas_a)
    assert processed.kompas.indicators["bijstand_per_1000"].gewicht == 4
    # The written table also states the frame year beside each score.
    assert set(written["basisjaar"]) == {processed.kompas.basisjaar}
    pd.testing.assert_frame_equal(processed.result.themes, written.drop(
        columns=["gemeente", "basisjaar"]).reset_index(drop=True))
    before = snapshot(data)
    capsys.readouterr()
    assert main(["export", "--data-dir", str(data), "--gemeente", GM,
                 "--kompas", str(kompas_b)]) == 1
    assert capsys.readouterr().err == (
        f"fout: De scores in {data / 'processed'} zijn gemaakt met kompasdefinitie "
        f"{kompas_a}, niet met {kompas_b}. Bouw opnieuw met 'wijkkompas build --kompas "
        f"{kompas_b}', of laat --kompas weg.\n")
    assert snapshot(data) == before
    assert main(["export", "--data-dir", str(data), "--gemeente", GM,
                 "--kompas", str(kompas_a)]) == 0


def test_two_gemeenten_in_one_data_folder(files, tmp_path, capsys):
    data = tmp_path / "data"
    _imported(files, data, "GM0998", "GM0997")
    assert main(["build", "--data-dir", str(data), "--gemeente", "GM0998,GM0997"]) == 0
    capsys.readouterr()
    assert main(["export", "--data-dir", str(data), "--gemeente", "GM0998,GM0997"]) == 0
    out = capsys.readouterr().out
    assert "Exporteren: Veldhoven aan de Dinkel (GM0998)" in out
    assert "Exporteren: Oosterbroek (GM0997)" in out
    export = data / "processed" / "export"
    assert sorted(p.name for p in export.iterdir()) == sorted(
        [f"wijkkompas_{gm}.html" for gm in NAMES]
        + [f"wijkkompas_WK{gm[2:]}{w:02d}.html" for gm in NAMES for w in range(4)])
    for gm, naam in NAMES.items():
        html = (export / f"wijkkompas_{gm}.html").read_text(encoding="utf-8")
        other = next(n for g, n in NAMES.items() if g != gm)
        assert naam in html and other not in html and "Almelo" not in html
    # Each gemeente on its own frame: 100 = that gemeente's own value, spread of its wijken.
    frame = pd.read_csv(data / "processed" / "kompas_referentie.csv")
    table = pd.read_parquet(data / "processed" / "indicatoren.parquet")
    for gm in NAMES:
        row = frame[(frame["gemeente"] == gm) & (frame["indicator"] == "bijstand_per_1000")]
        own = table[(table["gebiedscode"] == gm) & (table["indicator"] == "bijstand_per_1000")
                    & (table["jaar"] == 2015)]
        wijken = table[(table["niveau"] == "wijk") & (table["gebiedscode"].str[2:6] == gm[2:])
                       & (table["indicator"] == "bijstand_per_1000") & (table["jaar"] == 2015)]
        assert len(row) == 1 and len(own) == 1 and len(wijken) == 4
        assert row["referentiewaarde"].iloc[0] == pytest.approx(own["waarde"].iloc[0])
        assert row["spreiding"].iloc[0] == pytest.approx(wijken["waarde"].std(ddof=0))
    for gm in NAMES:
        processed = load_processed(data, gemeente=gm)
        assert processed.kompas.gemeente == gm and processed.kompas.naam == NAMES[gm]
        assert set(processed.result.themes["gebiedscode"].str[2:6]) == {gm[2:]}


def test_without_figures_in_the_base_year_the_scores_count_from_the_first_year(
        files, tmp_path, capsys):
    """The basis-set's base year is 2015, but a gemeente that fetched 2017-2024 has no 2015:
    its scores count from its first year with figures, and every page says so."""
    data = tmp_path / "data"
    later = buurten_geojson(GM)
    for feature in later["features"]:
        if feature["properties"]["WK_CODE"] == "WK099800":
            feature["properties"]["WWB_UITTOT"] += 30  # more bijstand in wijk 1 in 2018
    changed = tmp_path / "buurt_2018.geojson"
    changed.write_text(json.dumps(later), encoding="utf-8")
    for path in files[GM]:
        assert main(["import", str(path), "--jaar", "2017", "--data-dir", str(data)]) == 0
        second = changed if path.name.startswith("buurt_") else path
        assert main(["import", str(second), "--jaar", "2018", "--data-dir", str(data)]) == 0
    imported = capsys.readouterr().out
    assert ": 1 gemeente (2017, kolommen:" in imported and ": 4 wijken (2018, " in imported
    assert main(["build", "--data-dir", str(data), "--gemeente", GM]) == 0
    out = capsys.readouterr().out
    naam = NAMES[GM]
    assert f"({GM}): " in out and "(basisjaar 2017; kompasdefinitie" in out
    assert (f"Let op: {naam} ({GM}) heeft geen cijfers in het basisjaar 2015 van het kompas; "
            f"de scores tellen vanaf 2017, het eerste jaar met cijfers (100 = {naam} in "
            "2017). Haal de cijfers van 2015 op of importeer ze, of kies een basisjaar in een "
            "eigen kompasbestand.\n") in out
    info = json.loads((data / "processed" / "bouwinfo.json").read_text(encoding="utf-8"))
    assert info["kompas"][0]["basisjaar"] == 2017
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    work = themes[(themes["gebiedscode"] == "WK099800") & (themes["thema"] == "werk_inkomen")
                  & (themes["deel"] == "totaal")].set_index("jaar")
    assert work.loc[2017, "verandering_basisjaar"] == 0.0
    assert work.loc[2018, "score"] < work.loc[2017, "score"]
    assert work.loc[2018, "verandering_basisjaar"] == pytest.approx(
        work.loc[2018, "score"] - work.loc[2017, "score"])
    assert work.loc[2018, "verandering_basisjaar"] < -1
    processed = load_processed(data)
    assert processed.kompas.basisjaar == 2017
    assert main(["export", "--data-dir", str(data), "--gemeente", GM]) == 0
    page = (data / "processed" / "export" / "wijkkompas_WK099800.html").read_text(
        encoding="utf-8")
    assert f"het gemiddelde van {naam} in 2017" in page and " in 2015" not in page


def test_a_damaged_base_year_in_bouwinfo_asks_for_a_rebuild(files, tmp_path, capsys):
    data = tmp_path / "data"
    _imported(files, data, GM)
    assert main(["build", "--data-dir", str(data), "--gemeente", GM]) == 0
    info_path = data / "processed" / "bouwinfo.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["kompas"][0]["basisjaar"] = "2015; rm -rf /"
    info_path.write_text(json.dumps(info), encoding="utf-8")
    before = snapshot(data)
    capsys.readouterr()
    assert main(["export", "--data-dir", str(data), "--gemeente", GM]) == 1
    assert capsys.readouterr().err == (
        f"fout: {info_path} is beschadigd of onleesbaar (basisjaar '2015; rm -rf /' is geen "
        "jaar). Bouw opnieuw met 'wijkkompas build'.\n")
    assert snapshot(data) == before


def test_building_one_gemeente_keeps_the_others_results(files, tmp_path, capsys):
    """A data folder with two gemeenten: ``build --gemeente GM0997`` scores GM0997 and keeps
    GM0998's scores (again with the kompas that made them), so both can still be exported."""
    data = tmp_path / "data"
    _imported(files, data, "GM0998", "GM0997")
    assert main(["build", "--data-dir", str(data), "--gemeente", "GM0998"]) == 0
    before = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    capsys.readouterr()
    assert main(["build", "--data-dir", str(data), "--gemeente", "GM0997"]) == 0
    out = capsys.readouterr().out
    assert "De kompasscores van Veldhoven aan de Dinkel (GM0998) blijven" in out
    scores_after = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    assert set(scores_after["gemeente"]) == {"GM0998", "GM0997"}
    kept = scores_after[scores_after["gemeente"] == "GM0998"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before.reset_index(drop=True), check_dtype=False)
    assert main(["export", "--data-dir", str(data), "--gemeente", "GM0998,GM0997"]) == 0
    export = data / "processed" / "export"
    assert {"wijkkompas_GM0998.html", "wijkkompas_GM0997.html"} <= {
        p.name for p in export.iterdir()}
