"""Readers of the raw cache, of processed/ and of the geocode cache: damaged or wrong input
is one Dutch line naming the file and what to do; nothing is written."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers import snapshot
from wijkkompas.build.stage import run_build
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import CACHE_NAME, Geocoder

MANIFEST_HINT = ("Herstel het uit een back-up of verwijder het; haal daarna opnieuw op en "
                 "importeer opnieuw.")


@pytest.fixture(scope="module")
def built(shared, tmp_path_factory):
    """A data folder with the real 2015 Almelo files imported and built."""
    data = tmp_path_factory.mktemp("readers") / "data"
    for path, jaar in ((shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv", 2015),
                       (shared / "geo" / "almelo_buurten_2015_simplified.geojson", 2015),
                       (shared / "geo" / "almelo_wijken_2015_simplified.geojson", 2015)):
        assert main(["import", str(path), "--jaar", str(jaar), "--data-dir", str(data)]) == 0
    run_build(data, say=lambda _: None)
    return data


def _copy(built, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built, data)
    return data


def _one_line(capsys, argv, data) -> str:
    before = snapshot(data)
    capsys.readouterr()
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("fout: ")
    assert snapshot(data) == before
    return captured.err[len("fout: "):-1]


@pytest.mark.parametrize("change, line", [
    (lambda m: [], "verwacht een tabel met sleutels, niet []"),
    (lambda m: {**m, "kaart": {k: {x: y for x, y in v.items()
                                   if x != "bestand" or not k.endswith(".csv")}
                               for k, v in m["kaart"].items()}},
     "'kaart.2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv.bestand' ontbreekt"),
    (lambda m: {**m, "kaart": {k: {**v, "bestand": "../../../geheim.csv"}
                               for k, v in m["kaart"].items() if k.endswith(".csv")}},
     "kaart.2015/kwb2015_almelo_buurten_wijkbuurtkaart.csv.bestand: '../../../geheim.csv' is "
     "geen gewone bestandsnaam"),
])
def test_wrong_manifest_is_refused_before_building(built, tmp_path, capsys, change, line):
    data = _copy(built, tmp_path)
    path = data / "raw" / "manifest.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))), encoding="utf-8")
    message = _one_line(capsys, ["build", "--data-dir", str(data)], data)
    assert message == f"Het manifest {path} klopt niet: {line}. {MANIFEST_HINT}"


def _truncate(path):
    path.write_bytes(path.read_bytes()[:2000])


@pytest.mark.parametrize("name, damage, start", [
    ("indicatoren.parquet", lambda p: p.write_bytes(b"PAR1 kapot"), "is beschadigd of onleesbaar"),
    ("bouwinfo.json", lambda p: p.unlink(), "ontbreekt."),
    ("bouwinfo.json", lambda p: p.write_text("{doelindeling", encoding="utf-8"),
     "is beschadigd of onleesbaar"),
    ("grenzen.gpkg", _truncate, "is beschadigd of onleesbaar"),
    ("indelingen.csv", lambda p: p.unlink(), "ontbreekt."),
])
def test_damaged_processed_files_say_build_again(built, tmp_path, capsys, name, damage, start):
    data = _copy(built, tmp_path)
    path = data / "processed" / name
    damage(path)
    message = _one_line(capsys, ["export", "--data-dir", str(data)], data)
    assert message.startswith(f"{path} {start}")
    assert message.endswith("Bouw opnieuw met 'wijkkompas build'.")


@pytest.mark.parametrize("text, start", [
    ("{kapot", "is onleesbaar (Expecting property name enclosed in double quotes"),
    ('{"Grotestraat 1": {"x": "ver"}}', "heeft niet de verwachte vorm"),
    ("[]", "heeft niet de verwachte vorm"),
])
def test_damaged_geocode_cache_is_a_message(tmp_path, text, start):
    path = tmp_path / CACHE_NAME
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        Geocoder("http://127.0.0.1:9", tmp_path)
    message = str(info.value)
    assert message.startswith(f"De geocodeercache {path} {start}") and "\n" not in message
    assert message.endswith("Verwijder het bestand; de adressen worden dan opnieuw opgezocht.")
    assert path.read_text(encoding="utf-8") == text and len(list(tmp_path.iterdir())) == 1
