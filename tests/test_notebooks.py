"""Every notebook runs top to bottom with papermill, on the real data in ../shared/data, and
shows what its reader needs: figures inline, names and Dutch numbers, and a sentence where
there is nothing to show."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import papermill
import pytest

from tests.helpers import almelo_files, page_data
from wijkkompas.kompas.classes import colour
from wijkkompas.kompas.results import load_processed
from wijkkompas.output.profile import profile_table, without_figures
from wijkkompas.output.summary import page_years, summary_lines

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXAMPLE = ROOT / "voorbeelden" / "lokale_indicatoren.toml"


def _run(name: str, out_dir: Path, **parameters) -> dict:
    output = out_dir / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(output), parameters=parameters,
                               cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False)
    return json.loads(output.read_text())


def _colours(png: Path, least: int = 200) -> set[str]:
    """The colours that fill at least ``least`` pixels of an image, as #rrggbb."""
    pixels = (matplotlib.image.imread(png)[..., :3] * 255).round().astype(int).reshape(-1, 3)
    values, counts = np.unique(pixels, axis=0, return_counts=True)
    return {"#" + "".join(f"{c:02x}" for c in v) for v, n in zip(values, counts, strict=True)
            if n >= least}


def _outputs(book: dict) -> str:
    """What a reader sees as text: streams and the plain text of every displayed value."""
    texts = []
    for cell in book["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
            texts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def _cell_text(book: dict, marker: str) -> str:
    """The text outputs of the one code cell whose source holds ``marker``."""
    cells = [c for c in book["cells"] if c["cell_type"] == "code"
             and marker in "".join(c["source"])]
    assert len(cells) == 1, marker
    return _outputs({"cells": cells})


def _html_rows(book: dict, marker: str) -> list[list[str]]:
    """The body rows (index and cells, as HTML text) of the table shown by the one code cell
    whose source holds ``marker``."""
    cells = [c for c in book["cells"] if c["cell_type"] == "code"
             and marker in "".join(c["source"])]
    assert len(cells) == 1, marker
    shown = "".join("".join(out["data"]["text/html"]) for out in cells[0]["outputs"]
                    if "text/html" in out.get("data", {}))
    body = shown.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in body.split("</tr>") if "<t" in row]


def _images(book: dict) -> int:
    return sum("image/png" in out.get("data", {})
               for cell in book["cells"] for out in cell.get("outputs", []))


def _codes(data: Path) -> set[str]:
    """The indicator and theme codes of the build (those with an underscore: a plain word
    like 'inwoners' is also Dutch text)."""
    table = pd.read_parquet(data / "processed" / "indicatoren.parquet")
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    return {c for c in {*table["indicator"], *themes["thema"]} if "_" in str(c)}


def _assert_readable(text: str, data: Path) -> None:
    shown = [c for c in _codes(data) if re.search(rf"\b{re.escape(c)}\b", text)]
    assert shown == []
    assert not re.search(r"\bNaN\b|\bnan\b|<NA>", text)
    assert "Empty DataFrame" not in text


@pytest.fixture(scope="module")
def updated(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("nb") / "data"
    imports = [[str(path), jaar] for path, jaar in almelo_files(shared)]
    book = _run("01_jaarlijkse_update.ipynb", data.parent, data_dir=str(data), ophalen=False,
                importbestanden=imports, lokaal=str(EXAMPLE))
    return data, book


def test_01_yearly_update_on_real_data(updated):
    data, book = updated
    table = pd.read_parquet(data / "processed" / "indicatoren.parquet")
    assert set(table.jaar) == {2015, 2021}
    local = table[(table.gebiedscode == "WK014115") & (table.jaar == 2021)
                  & (table.indicator == "meldingen_openbare_ruimte")]
    assert local.waarde.tolist() == [74.8]  # the example's local indicator was built in
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    nsk = themes[(themes.gebiedscode == "WK014115") & (themes.jaar == 2015)
                 & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")]
    assert round(nsk.score.iloc[0], 1) == 65.8  # docs/methode.md's worked example
    text = _outputs(book)
    assert "68 buurten" in text and "71 buurten" in text
    # The control table counts what the build counted, re-allocated values included.
    built = re.search(r"Indicatortabel: \d+ rijen, jaren [\d, ]+; (\d+) waargenomen, (\d+) "
                      r"berekend, (\d+) ontbreekt", text)
    control = re.search(r"Controle, totaal: (\d+) waargenomen, (\d+) berekend, (\d+) "
                        r"ontbreekt", text)
    assert built and control
    assert control.groups() == built.groups()
    table = pd.read_parquet(data / "processed" / "indicatoren.parquet")
    assert int(control.group(2)) == int((table["status"] == "berekend").sum()) > 0
    # Nothing changed: one sentence, no empty table under it.
    changes = _cell_text(book, "latest_changes(data)")
    assert changes.strip() == ("Geen wijzigingen gemeld: nog niet ververst, of CBS heeft niets "
                               "aangepast.")
    # The rookmelder: with theme scores of 2015 only, one sentence saying so and no table.
    assert _cell_text(book, "signalen = signals(gegevens)").strip() == (
        "Geen signalen: er zijn themascores alleen voor 2015, dus nog geen verandering om te "
        "melden.")
    assert "Empty DataFrame" not in text


def test_02_maps(updated, tmp_path):
    data, _ = updated
    out = data / "kaarten"
    book = _run("02_wijkkompas_kaarten.ipynb", tmp_path, data_dir=str(data),
                uitvoer_dir=str(out), thema="werk_inkomen")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["werk_inkomen_2015_buurten.pdf", "werk_inkomen_2015_buurten.png",
                     "werk_inkomen_2015_wijken.pdf", "werk_inkomen_2015_wijken.png"]
    # 2015 is the base year: no "change against the base year" maps, a sentence instead.
    change = _cell_text(book, 'maat="basis"')
    assert change.startswith("2015 is het basisjaar: er is nog geen verandering ten opzichte "
                             "van het basisjaar.")
    assert _images(book) == 2  # the two score maps, inline
    slide = _cell_text(book, "afglijden = ")
    assert slide.strip() == ("Geen thema is 3 keer achter elkaar gedaald. Daarvoor zijn scores "
                             "in ten minste 4 jaren nodig; er zijn scores voor: 2015.")
    text = _outputs(book)
    assert "Wijk 15 Nieuwstraat-Kwartier" in text
    _assert_readable(text, data)
    assert (out / "werk_inkomen_2015_wijken.pdf").read_bytes()[:5] == b"%PDF-"
    # The wijk map of 2015 shows every class the wijken have, in the class colours.
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    wijken = themes[(themes.niveau == "wijk") & (themes.jaar == 2015)
                    & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")]
    expected = {colour(k) for k in wijken.klasse}
    assert expected <= _colours(out / "werk_inkomen_2015_wijken.png")


def test_02_output_follows_data_dir(updated, tmp_path):
    data, _ = updated
    out = data / "processed" / "kaarten"
    before = {p.name for p in out.iterdir()} if out.exists() else set()
    book = _run("02_wijkkompas_kaarten.ipynb", tmp_path, data_dir=str(data),
                thema="werk_inkomen", gemeente="GM0141")
    # Without uitvoer_dir the maps go to DATA_DIR/processed/kaarten, and the notebook says so.
    assert f"Thema Werk en inkomen, jaar 2015; kaarten naar {out}" in _outputs(book)
    made = {"werk_inkomen_2015_buurten.pdf", "werk_inkomen_2015_buurten.png",
            "werk_inkomen_2015_wijken.pdf", "werk_inkomen_2015_wijken.png"}
    assert {p.name for p in out.iterdir()} - before <= made <= {p.name for p in out.iterdir()}
    for name in made:
        magic = b"%PDF-" if name.endswith(".pdf") else b"\x89PNG\r\n\x1a\n"
        assert (out / name).read_bytes().startswith(magic), name
    # The wijk map is the map of this data: every class the wijken have, in its colour.
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    wijken = themes[(themes.niveau == "wijk") & (themes.jaar == 2015)
                    & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")]
    assert {colour(k) for k in wijken.klasse} <= _colours(out / "werk_inkomen_2015_wijken.png")


@pytest.mark.parametrize("name", ["02_wijkkompas_kaarten.ipynb", "04_vlekkenkaart.ipynb"])
def test_a_gemeente_that_was_not_built_is_named(updated, tmp_path, name):
    data, _ = updated
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        _run(name, tmp_path, data_dir=str(data), gemeente="GM0153")
    assert caught.value.evalue == (
        f"Geen kompasscores voor gemeente GM0153 in {data / 'processed'} (gescoord: GM0141). "
        "Bouw met 'wijkkompas build --gemeente GM0153'.")


def test_03_wijkprofiel(updated, tmp_path):
    data, _ = updated
    out = data / "profielen"
    # No year given: the notebook shows what the wijk page shows, the newest year with
    # figures (2021), and the compass of the latest year with theme scores (2015 here).
    book = _run("03_wijkprofiel.ipynb", tmp_path, data_dir=str(data), uitvoer_dir=str(out),
                wijk="WK014115")
    assert _cell_text(book, "jaar, kompasjaar = page_years(").strip().splitlines()[-1] == (
        "Wijk WK014115, jaar 2021; in 2021 heeft geen thema een score, het kompas toont 2015")
    assert (out / "kompas_WK014115_2015.png").is_file()
    assert (out / "kompas_WK014115_2015.svg").is_file()
    assert (out / "wijkkompas_WK014115.html").stat().st_size > 100_000
    assert _images(book) >= 1  # the kompas, inline
    page = page_data((out / "wijkkompas_WK014115.html").read_text(encoding="utf-8"))
    assert page["geo"]["wijk"]["c"] == ["WK014115"]
    text = _outputs(book)
    assert "Meldingen openbare ruimte" in text  # the example's local indicator
    assert "Vertrouwen in de toekomst van de wijk" in text  # gebied-specifiek
    # As on the wijk page: indicators without a value now or before are listed apart.
    processed = load_processed(data)
    profile = profile_table(processed, "WK014115", 2021)
    empty = without_figures(profile)
    assert 0 < empty.sum() < len(profile)
    shown_rows = _html_rows(book, "zonder_cijfer = without_figures(tabel)")
    missing_rows = _html_rows(book, "tabel.loc[zonder_cijfer")
    assert len(shown_rows) == (~empty).sum() and len(missing_rows) == empty.sum()
    # Every column is shown, the earlier value and the change in the middle too (pandas
    # would fold the middle columns of a wide table into "...").
    assert all(len(row) == len(profile.columns) + 1 for row in shown_rows)
    assert [r[1:3] for r in missing_rows] == [[html.escape(t), html.escape(i)] for t, i in zip(
        profile.loc[empty, "thema"], profile.loc[empty, "indicator"], strict=True)]
    assert all(r[3] for r in missing_rows)  # every one with its reason
    _assert_specific(book, profile, empty)
    # Almelo alone in the data folder: the section says why there are no peers.
    assert _cell_text(book, "peers_view(gegevens").strip() == (
        "Geen vergelijkbare wijken: geen wijken van andere gemeenten met "
        "omgevingsadressendichtheid in hetzelfde jaar (importeer of haal andere gemeenten op).")
    # In het kort: the summary lines of the package, as on the wijk page.
    said = _cell_text(book, "for regel in summary_lines(").strip().splitlines()
    assert said == [f"- {line}" for line in summary_lines(processed, "WK014115", 2021)]
    assert 3 <= len(said) <= 5
    explanation = _cell_text(book, "def leesbaar")
    assert "Werk en inkomen, 2015: score " in explanation
    assert "Themascore Werk en inkomen" in explanation and "lager is beter" in explanation
    assert "Personen met bijstand" in explanation
    assert not re.search(r"\b(19|20)\d\d\.0\b", explanation)  # years as integers
    assert not re.search(r"-1\.0\b|\b1\.0\b", explanation)  # directions as words
    _assert_readable(text, data)


#: What notebook 03 says instead of an empty table of gebied-specifieke indicatoren.
NO_SPECIFIC = "Het kompas heeft geen gebied-specifieke indicatoren voor deze wijk."
NO_SPECIFIC_FIGURES = ("De gebied-specifieke indicatoren van deze wijk hebben geen cijfer; ze "
                       "staan onder 'Zonder cijfer'.")


def _assert_specific(book: dict, profile: pd.DataFrame, empty: pd.Series) -> None:
    """Notebook 03 shows the gebied-specifieke indicatoren with a figure as a table, or one
    sentence when the wijk has none, or none with a figure."""
    specific = profile["gebied-specifiek"] == "ja"
    marker = 'specifiek = tabel["gebied-specifiek"] == "ja"'
    if (specific & ~empty).any():
        rows = _html_rows(book, marker)
        assert [r[2] for r in rows] == [html.escape(i) for i in
                                        profile.loc[specific & ~empty, "indicator"]]
    else:
        said = NO_SPECIFIC if not specific.any() else NO_SPECIFIC_FIGURES
        assert _cell_text(book, marker).strip() == said


def test_03_a_wijk_without_gebied_specifieke_indicatoren(updated, tmp_path):
    """A sentence, not an empty table, for a wijk the kompas gives no gebied-specifieke
    indicatoren (WK014111: the example's are in WK014110 and WK014115)."""
    data, _ = updated
    book = _run("03_wijkprofiel.ipynb", tmp_path, data_dir=str(data),
                uitvoer_dir=str(tmp_path / "uit"), wijk="WK014111", jaar=2021)
    profile = profile_table(load_processed(data), "WK014111", 2021)
    assert not (profile["gebied-specifiek"] == "ja").any()
    _assert_specific(book, profile, without_figures(profile))
    assert NO_SPECIFIC in _outputs(book)


@pytest.mark.parametrize("name, parameters, line", [
    ("03_wijkprofiel.ipynb", {"wijk": "WK015300"},
     "Wijk WK015300 komt niet voor in de scores van Almelo; kies een wijkcode zoals WK014110 "
     "of WK014111."),
    ("03_wijkprofiel.ipynb", {"jaar": 2019},
     "Geen scores of cijfers van Almelo in jaar '2019'; kies een jaar uit 2015, 2021."),
    ("02_wijkkompas_kaarten.ipynb", {"thema": "inkomen"},
     "Thema 'inkomen' staat niet in het kompas van Almelo; kies uit "),
    ("02_wijkkompas_kaarten.ipynb", {"jaar": 2019},
     "Geen scores of cijfers van Almelo in jaar '2019'; kies een jaar uit 2015, 2021."),
])
def test_a_wrong_parameter_stops_at_the_top(updated, tmp_path, name, parameters, line):
    """A wijk, year or theme the data do not have is one Dutch line from the first code
    cell, not an empty profile ("geen data" everywhere) or a KeyError further on."""
    data, _ = updated
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        _run(name, tmp_path, data_dir=str(data), **parameters)
    # The first code cell after the parameters, before anything is drawn.
    assert "gegevens = load_processed(" in caught.value.source
    assert caught.value.evalue.startswith(line)


def test_readme_papermill_command_from_the_repository_root(updated, tmp_path):
    """The command of the README, run as written, from the root of a checkout whose data/
    has been built."""
    data, _ = updated
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"`(papermill notebooks/03_wijkprofiel\.ipynb [^`]+)`", readme).group(1)
    assert command == "papermill notebooks/03_wijkprofiel.ipynb uit.ipynb -p wijk WK014110"
    repo = tmp_path / "repo"
    shutil.copytree(NOTEBOOKS, repo / "notebooks")
    (repo / "data").symlink_to(data, target_is_directory=True)
    args = shlex.split(command)
    exe = shutil.which(args[0])
    assert exe, "papermill is not installed (pip install -e '.[dev]')"
    done = subprocess.run([exe, *args[1:]], cwd=repo, capture_output=True, text=True,
                          timeout=600, env={**os.environ})
    assert done.returncode == 0, done.stderr[-2000:]
    book = json.loads((repo / "uit.ipynb").read_text(encoding="utf-8"))
    assert _images(book) >= 1
    # Output folders follow data_dir; the years are the wijk page's: the newest with figures
    # for the tables, the latest with theme scores for the compass.
    processed = load_processed(data)
    jaar, kompasjaar = page_years(processed, "WK014110")
    profile = profile_table(processed, "WK014110", jaar)
    _assert_specific(book, profile, without_figures(profile))
    profiles = data / "processed" / "wijkprofielen"
    assert sorted(p.name for p in profiles.glob("*WK014110*")) == [
        f"kompas_WK014110_{kompasjaar}.png", f"kompas_WK014110_{kompasjaar}.svg",
        "wijkkompas_WK014110.html"]


def test_01_fetches_from_cbs_and_pdok(env, tmp_path):
    data = tmp_path / "data"
    book = _run("01_jaarlijkse_update.ipynb", tmp_path, data_dir=str(data), jaren="2024")
    assert (data / "raw" / "cbs" / "85984NED" / "TypedDataSet.json").is_file()
    text = _outputs(book)
    assert "85984NED" in text
    # The progress bars work in Jupyter: no warning that ipywidgets is missing.
    assert "IProgress" not in text and "TqdmWarning" not in text


def test_notebooks_are_stored_without_outputs_and_with_parameters():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = json.loads(path.read_text())
        code = [c for c in book["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path.name
        assert "parameters" in code[0]["metadata"].get("tags", []), path.name


def test_04_vlekkenkaart(updated, tmp_path):
    data, _ = updated
    out = data / "vlekkenkaart"
    book = _run("04_vlekkenkaart.ipynb", tmp_path, data_dir=str(data), uitvoer_dir=str(out))
    assert (out / "vlekkenkaart_gedeeld.html").is_file()
    shared = page_data((out / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8"))
    assert shared["gedeeld"] is True
    names = set(shared["punten"]["n"])
    assert not {n for n in names if "Beschermd wonen" in n or "opvang" in n.lower()}
    assert (out / "toets.txt").read_text().startswith("Voorgestelde locatie: Beschermd wonen")
    text = _outputs(book)
    assert "buiten de gemeente" in text
    assert "12 VOORBEELD-locaties (verzonnen): op de kaart gemarkeerd, tellen niet mee." in text
    wijken = _cell_text(book, "per_wijk = ")
    assert "Wijk 10 Binnenstad" in wijken and "Verpleging, verzorging en thuiszorg" in wijken
    assert not re.search(r"\bWK\d{6}\b", wijken)  # names, not codes
    assert not re.search(r"\bNaN\b", wijken)
    _assert_no_python_words(text)


def _assert_no_python_words(text: str) -> None:
    """No Python or pandas word a reader does not need: "None", "dtype: int64"."""
    assert not re.search(r"\bNone\b", text), text[text.find("None") - 200:][:400]
    assert "dtype:" not in text


def test_01_shows_no_python_words(updated):
    _, book = updated
    _assert_no_python_words(_outputs(book))


def test_01_without_internet_is_one_line_naming_ophalen_false(tmp_path, monkeypatch):
    """With ophalen = True (the default) and CBS out of reach, notebook 01 stops with one
    Dutch line that says to set ophalen = False, not with the traceback of the network
    library."""
    monkeypatch.setenv("WIJKKOMPAS_CBS_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("WIJKKOMPAS_RETRIES", "0")
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        _run("01_jaarlijkse_update.ipynb", tmp_path, data_dir=str(tmp_path / "data"),
             jaren="2024")
    error = caught.value
    assert "run_fetch(" in error.source
    shown = "\n".join(error.traceback)
    assert "zet ophalen = False" in shown
    assert "urllib3" not in shown and "Traceback" not in shown
    assert len(shown.splitlines()) <= 3, shown
