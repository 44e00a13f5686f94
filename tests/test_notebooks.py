"""Every notebook runs top to bottom with papermill, on the real data in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import papermill
import pytest

from tests.helpers import almelo_files, page_data
from wijkkompas.kompas.classes import colour

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXAMPLE = Path(__file__).resolve().parents[1] / "voorbeelden" / "lokale_indicatoren.toml"


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
    assert "Indicatortabel:" in text


def test_02_maps(updated):
    data, _ = updated
    out = data / "kaarten"
    _run("02_wijkkompas_kaarten.ipynb", data.parent, data_dir=str(data), uitvoer_dir=str(out),
         thema="werk_inkomen")
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"werk_inkomen_2015_{kind}{niveau}.{ext}"
                           for kind in ("", "verandering_") for niveau in ("wijken", "buurten")
                           for ext in ("png", "pdf"))
    for name in names:
        if name.endswith(".pdf"):
            assert (out / name).read_bytes()[:5] == b"%PDF-", name
    # The wijk map of 2015 shows every class the wijken have, in the class colours.
    themes = pd.read_parquet(data / "processed" / "kompas_scores.parquet")
    wijken = themes[(themes.niveau == "wijk") & (themes.jaar == 2015)
                    & (themes.thema == "werk_inkomen") & (themes.deel == "totaal")]
    expected = {colour(k) for k in wijken.klasse}
    assert len(expected) == 6  # all five classes and "geen data"
    shown = _colours(out / "werk_inkomen_2015_wijken.png")
    assert expected <= shown
    # 2015 is the base year: its change map has no score colour, only "gelijk gebleven".
    change = _colours(out / "werk_inkomen_2015_verandering_wijken.png")
    assert "#f7f7f7" in change and not ({colour(k) for k in (1, 2, 4, 5)} & change)


def test_03_wijkprofiel(updated):
    data, _ = updated
    out = data / "profielen"
    book = _run("03_wijkprofiel.ipynb", data.parent, data_dir=str(data), uitvoer_dir=str(out),
                wijk="WK014115", jaar=2021)
    svg = (out / "kompas_WK014115_2021.svg").read_text(encoding="utf-8")
    assert "Wijkkompas Wijk 15 Nieuwstraat-Kwartier (WK014115), 2021" in svg
    assert "Werk en inkomen" in svg and "geen data" in svg
    assert _colours(out / "kompas_WK014115_2021.png") > {"#ffffff"}
    data = page_data((out / "wijkkompas_WK014115.html").read_text(encoding="utf-8"))
    assert [f["properties"]["c"] for f in data["geo"]["wijk"]["features"]] == ["WK014115"]
    assert data["jaren"] == [2015, 2021]
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
    shared = page_data((out / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8"))
    assert shared["gedeeld"] is True and shared["buurtaantal"] == 71
    names = {p["n"] for p in shared["punten"]}
    assert "VOORBEELD Huisartsenpraktijk Binnenstad" in names
    assert not {n for n in names if "Beschermd wonen" in n or "opvang" in n.lower()}
    assert (out / "toets.txt").read_text().startswith("Voorgestelde locatie: Beschermd wonen")
    assert "buiten de gemeente" in _outputs(book)
