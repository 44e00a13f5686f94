"""Every notebook runs top to bottom with papermill, on the real data in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from tests.helpers import almelo_files

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXAMPLE = Path(__file__).resolve().parents[1] / "voorbeelden" / "lokale_indicatoren.toml"


def _run(name: str, out_dir: Path, **parameters) -> dict:
    output = out_dir / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(output), parameters=parameters,
                               cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False)
    return json.loads(output.read_text())


def _outputs(book: dict) -> str:
    texts = []
    for cell in book["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
            texts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def updated(shared, tmp_path_factory):
    data = tmp_path_factory.mktemp("nb") / "data"
    imports = [[str(path), jaar] for path, jaar in almelo_files(shared)]
    book = _run("01_jaarlijkse_update.ipynb", data.parent, data_dir=str(data), ophalen=False,
                importbestanden=imports, lokaal=str(EXAMPLE))
    return data, book


def test_01_yearly_update_on_real_data(updated):
    data, book = updated
    assert (data / "processed" / "indicatoren.parquet").is_file()
    assert (data / "processed" / "kompas_scores.parquet").is_file()
    text = _outputs(book)
    assert "68 buurten" in text and "71 buurten" in text
    assert "Indicatortabel:" in text


def test_02_maps(updated):
    data, _ = updated
    out = data / "kaarten"
    _run("02_wijkkompas_kaarten.ipynb", data.parent, data_dir=str(data), uitvoer_dir=str(out),
         thema="werk_inkomen")
    names = sorted(p.name for p in out.iterdir())
    assert "werk_inkomen_2015_wijken.png" in names and "werk_inkomen_2015_buurten.pdf" in names
    assert "werk_inkomen_2015_verandering_wijken.pdf" in names
    assert "werk_inkomen_2015_verandering_buurten.png" in names


def test_03_wijkprofiel(updated):
    data, _ = updated
    out = data / "profielen"
    book = _run("03_wijkprofiel.ipynb", data.parent, data_dir=str(data), uitvoer_dir=str(out),
                wijk="WK014115", jaar=2021)
    assert (out / "kompas_WK014115_2021.png").is_file()
    assert (out / "kompas_WK014115_2021.svg").is_file()
    assert (out / "wijkkompas_WK014115.html").stat().st_size > 100_000
    text = _outputs(book)
    assert "Meldingen openbare ruimte" in text  # the example's local indicator
    assert "Vertrouwen in de toekomst van de wijk" in text  # gebied-specifiek


def test_01_fetches_from_cbs_and_pdok(env, tmp_path):
    data = tmp_path / "data"
    book = _run("01_jaarlijkse_update.ipynb", tmp_path, data_dir=str(data), jaren="2024")
    assert (data / "raw" / "cbs" / "85984NED" / "TypedDataSet.json").is_file()
    assert "85984NED" in _outputs(book)


def test_notebooks_are_stored_without_outputs_and_with_parameters():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = json.loads(path.read_text())
        code = [c for c in book["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path.name
        assert "parameters" in code[0]["metadata"].get("tags", []), path.name


def test_04_vlekkenkaart(updated):
    data, _ = updated
    out = data / "vlekkenkaart"
    book = _run("04_vlekkenkaart.ipynb", data.parent, data_dir=str(data), uitvoer_dir=str(out))
    assert (out / "vlekkenkaart_gedeeld.html").is_file()
    assert (out / "toets.txt").read_text().startswith("Voorgestelde locatie: Beschermd wonen")
    assert "buiten de gemeente" in _outputs(book)
