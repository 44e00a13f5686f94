"""The kompas definition file is checked against its schema: one Dutch line per problem,
naming the file and the key path; nothing is scored or written."""

from __future__ import annotations

import pytest

from tests.fixtures.kompas import KOMPAS
from tests.helpers import snapshot
from wijkkompas.errors import WijkkompasError
from wijkkompas.kompas.definition import load_kompas

AFTER_X = 'soort = "objectief"\n\n[indicator.y]'


@pytest.mark.parametrize("old, new, line", [
    (AFTER_X, 'soort = "objectief"\ngewicht = "zwaar"\n\n[indicator.y]',
     "indicator.x.gewicht: moet een getal groter dan 0 zijn (nu: 'zwaar')"),
    (AFTER_X, 'soort = "objectief"\ngewicht = nan\n\n[indicator.y]',
     "indicator.x.gewicht: moet een getal groter dan 0 zijn (nu: nan)"),
    (AFTER_X, 'soort = "objectief"\ngewicht = 0\n\n[indicator.y]',
     "indicator.x.gewicht: moet een getal groter dan 0 zijn (nu: 0)"),
    ('code = "b"\n', "", "'thema[2].code' ontbreekt"),
    ("[indicator.x]", "[indicator]\nwoz = 5\n\n[indicator.x]",
     "indicator.woz: moet een tabel met sleutels zijn (nu: 5)"),
    ("punten_per_sd = 20", "punten_per_sd = 0",
     "punten_per_sd: moet een getal groter dan 0 zijn (nu: 0)"),
    ('gebieden = ["WK099902"]', 'gebieden = "WK099902"',
     "indicator.n.gebieden: moet een lijst [...] zijn, elk element een tekst tussen "
     "aanhalingstekens (nu: 'WK099902')"),
    ('gebieden = ["WK099902"]', 'gebieden = ["WK0999"]',
     "indicator.n.gebieden[1]: ongeldige wijkcode 'WK0999' (verwacht WK en zes cijfers)"),
    ("basisjaar = 2020", "basisjaar = 2020\nkleur = 1",
     "onbekende sleutel 'kleur'; bekende sleutels: afglijden_jaren, basis, basisjaar, "
     "betekenisvolle_verandering, bovengrens, gemeente, indicator, minimale_dekking, naam, "
     "ondergrens, punten_per_sd, thema"),
    ('[[thema]]\ncode = "b"', '[[thema]]\ncode = "a"', "geef elk [[thema]] een eigen code; "
                                                      "dubbel: a"),
    ('gemeente = "GM0999"', 'gemeente = "Almelo"',
     "gemeente: ongeldige gemeentecode 'Almelo' (verwacht GM en vier cijfers)"),
    ("minimale_dekking = 0.5", "minimale_dekking = 1.5",
     "minimale_dekking: moet een getal groter dan 0 en van hoogstens 1 zijn (nu: 1.5)"),
    ("basisjaar = 2020", 'basisjaar = "2020"',
     "basisjaar: moet een geheel getal van minstens 1990 en van hoogstens 2100 zijn "
     "(nu: '2020')"),
])
def test_bad_definition_is_one_line_naming_file_and_key(tmp_path, old, new, line):
    assert old in KOMPAS
    path = tmp_path / "kompas.toml"
    path.write_text(KOMPAS.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        load_kompas(path)
    assert str(info.value) == f"{path}: {line}."


def test_several_problems_are_each_named(tmp_path):
    path = tmp_path / "kompas.toml"
    path.write_text(KOMPAS.replace("punten_per_sd = 20", "punten_per_sd = -1")
                    .replace('richting = "context"', 'richting = "neutraal"'), encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        load_kompas(path)
    assert str(info.value) == (
        f"{path}: punten_per_sd: moet een getal groter dan 0 zijn (nu: -1); "
        "indicator.z.richting: moet 'hoger is beter', 'hoger is slechter' of 'context' zijn "
        "(nu: 'neutraal').")


@pytest.mark.parametrize("bad", ['gewicht = "zwaar"', "thema_zonder_code"])
def test_cli_build_refuses_a_bad_kompas_before_writing(shared, tmp_path, capsys, bad):
    from wijkkompas.cli import main

    data = tmp_path / "data"
    path = shared / "cbs" / "kwb2015_almelo_buurten_wijkbuurtkaart.csv"
    assert main(["import", str(path), "--jaar", "2015", "--data-dir", str(data)]) == 0
    kompas = tmp_path / "kompas.toml"
    text = (KOMPAS.replace(AFTER_X, f'soort = "objectief"\n{bad}\n\n[indicator.y]')
            if bad.startswith("gewicht") else KOMPAS.replace('code = "b"\n', ""))
    kompas.write_text(text, encoding="utf-8")
    before = snapshot(data)
    capsys.readouterr()
    assert main(["build", "--data-dir", str(data), "--kompas", str(kompas)]) == 1
    err = capsys.readouterr().err
    line = ("indicator.x.gewicht: moet een getal groter dan 0 zijn (nu: 'zwaar')"
            if bad.startswith("gewicht") else "'thema[2].code' ontbreekt")
    assert err == f"fout: {kompas}: {line}.\n"
    assert snapshot(data) == before


def test_area_specific_wijken_lie_in_the_gemeente(tmp_path):
    path = tmp_path / "kompas.toml"
    path.write_text(KOMPAS.replace('gebieden = ["WK099902"]', 'gebieden = ["WK014115"]'),
                    encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        load_kompas(path)
    assert str(info.value) == (f"{path}: indicator.n.gebieden: WK014115 ligt niet in gemeente "
                               "GM0999.")


def test_a_kompas_file_is_parsed_once_per_content(tmp_path, monkeypatch):
    """A run asks for the kompas in several steps; the file is parsed once as long as it
    stays the same, and again as soon as it (or its basis) changes."""
    from wijkkompas.kompas import definition

    parsed = []
    real = definition._parse_kompas
    monkeypatch.setattr(definition, "_parse_kompas", lambda p: parsed.append(p) or real(p))
    own = tmp_path / "kompas.toml"
    own.write_text('basis = "basis"\ngemeente = "GM0153"\nnaam = "Enschede"\n'
                   'basisjaar = 2017\n', encoding="utf-8")
    first = definition.load_kompas(own, "GM0153")
    assert definition.load_kompas(own, "GM0153") is first
    assert len(parsed) == 1
    own.write_text(own.read_text(encoding="utf-8").replace("2017", "2018"), encoding="utf-8")
    assert definition.load_kompas(own, "GM0153").basisjaar == 2018
    assert len(parsed) == 2
