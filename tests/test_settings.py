"""Settings from defaults, the config file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from wijkkompas.errors import WijkkompasError
from wijkkompas.schema import parse_schema
from wijkkompas.settings import (
    DEFAULT_CBS_URL,
    Settings,
    load_settings,
    parse_gemeenten,
    parse_years,
)


def test_defaults_point_at_the_live_services(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.cbs_url == DEFAULT_CBS_URL == "https://opendata.cbs.nl"
    assert settings.pdok_url == "https://api.pdok.nl"
    assert settings.gemeente == "GM0141"


def test_config_file_then_environment(tmp_path):
    config = tmp_path / "wijkkompas.toml"
    config.write_text('cbs_url = "http://mirror.local"\npdok_url = "http://pdok.local"\n'
                      'gemeente = "GM0153"\nretries = 5\n', encoding="utf-8")
    settings = load_settings(config, env={"WIJKKOMPAS_PDOK_URL": "http://127.0.0.1:1"})
    assert settings.cbs_url == "http://mirror.local"
    assert settings.pdok_url == "http://127.0.0.1:1"
    assert settings.gemeente == "GM0153" and settings.retries == 5


def test_environment_names_the_config(tmp_path):
    config = tmp_path / "elders.toml"
    config.write_text('jaren = "2021-2022"\n', encoding="utf-8")
    assert load_settings(env={"WIJKKOMPAS_CONFIG": str(config)}).jaren == "2021-2022"


@pytest.mark.parametrize("text, match", [
    ("onbekend = 1\n", "onbekende instelling 'onbekend'"),
    ("retries = 'veel'\n", "retries: moet een geheel getal van minstens 0 en van hoogstens "
                          "10 zijn"),
    ("gemeente = 'Almelo'\n", "Ongeldige gemeentecode 'Almelo'"),
    ("cbs_url = \n", "geen geldige TOML"),
])
def test_bad_config_names_file_and_problem(tmp_path, text, match):
    config = tmp_path / "wijkkompas.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(WijkkompasError, match=match):
        load_settings(config, env={})


def test_bad_environment_value(tmp_path):
    with pytest.raises(WijkkompasError, match="WIJKKOMPAS_TIMEOUT"):
        load_settings(env={"WIJKKOMPAS_TIMEOUT": "lang"})


@pytest.mark.parametrize("text, years", [
    ("2017-2024", list(range(2017, 2025))),
    ("2021,2023", [2021, 2023]),
    ("2024", [2024]),
    ("2016-2017, 2024", [2016, 2017, 2024]),
])
def test_parse_years(text, years):
    assert parse_years(text) == years


@pytest.mark.parametrize("text", ["2024-2017", "vorig jaar", "24"])
def test_parse_years_rejects(text):
    with pytest.raises(WijkkompasError, match="Ongeldige jaren"):
        parse_years(text)


def test_fetch_limits_from_config_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    defaults = load_settings(env={})
    assert (defaults.max_paginas, defaults.max_mb) == (10000, 2000.0)
    config = tmp_path / "wijkkompas.toml"
    config.write_text("max_paginas = 50\nmax_mb = 12.5\n", encoding="utf-8")
    settings = load_settings(config, env={})
    assert (settings.max_paginas, settings.max_mb) == (50, 12.5)
    settings = load_settings(config, env={"WIJKKOMPAS_MAX_PAGINAS": "7", "WIJKKOMPAS_MAX_MB": "3"})
    assert (settings.max_paginas, settings.max_mb) == (7, 3.0)


@pytest.mark.parametrize("env, line", [
    ({"WIJKKOMPAS_MAX_PAGINAS": "0"}, "omgevingsvariabele WIJKKOMPAS_MAX_PAGINAS: max_paginas: "
                                      "moet een geheel getal groter dan 0 zijn (nu: '0')."),
    ({"WIJKKOMPAS_MAX_MB": "-5"}, "omgevingsvariabele WIJKKOMPAS_MAX_MB: max_mb: moet een getal "
                                  "groter dan 0 zijn (nu: '-5')."),
    ({"WIJKKOMPAS_MAX_PAGINAS": "veel"}, "omgevingsvariabele WIJKKOMPAS_MAX_PAGINAS: "
                                         "max_paginas: moet een geheel getal groter dan 0 zijn "
                                         "(nu: 'veel')."),
])
def test_bad_fetch_limits(tmp_path, monkeypatch, env, line):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WijkkompasError) as info:
        load_settings(env=env)
    assert str(info.value) == line
@pytest.mark.parametrize("text, line", [
    ("[[import]]\njaar = 2021\n", "'import[1].bestand' ontbreekt"),
    ("[[import]]\nbestand = 'a.csv'\njaar = '2021'\n",
     "import[1].jaar: moet een geheel getal van minstens 1990 en van hoogstens 2100 zijn "
     "(nu: '2021')"),
    ("import = 'a.csv'\n", "import: moet een lijst [...] zijn, elk element een tabel met "
                           "sleutels (nu: 'a.csv')"),
    ("lokaal = 5\n", "lokaal: moet een tekst tussen aanhalingstekens zijn (nu: 5)"),
    ("timeout = 0\n", "timeout: moet een getal groter dan 0 en van hoogstens 3600 zijn "
                     "(nu: 0)"),
    ("tijd = 5\n", "onbekende instelling 'tijd'; bedoelt u wachttijd? Alle instellingen staan "
                   "in README.md, onder 'Instellingen'"),
    ("pdok_urll = 'x'\n", "onbekende instelling 'pdok_urll'; bedoelt u pdok_url of "
                          "politie_url? Alle instellingen staan in README.md, onder "
                          "'Instellingen'"),
    ("xyz = 5\n", "onbekende instelling 'xyz'; alle instellingen staan in README.md, onder "
                  "'Instellingen'"),
    ("[[import]]\nbestand = 'a.csv'\njaar = 2021\nblad = 1\n",
     "onbekende sleutel 'import[1].blad'; bekende sleutels: bestand, jaar"),
])
def test_config_schema_gives_one_line_per_problem(tmp_path, text, line):
    config = tmp_path / "wijkkompas.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(WijkkompasError) as info:
        load_settings(config, env={})
    assert str(info.value) == f"{config}: {line}."


def test_config_paths_are_relative_to_the_config_file(tmp_path):
    config = tmp_path / "wijkkompas.toml"
    config.write_text("lokaal = 'lokaal.toml'\ntimeout = 5\n[[import]]\nbestand = 'k.csv'\n"
                      "jaar = 2021\n", encoding="utf-8")
    settings = load_settings(config, env={"WIJKKOMPAS_RETRIES": "7"})
    assert settings.lokaal == tmp_path / "lokaal.toml" and settings.timeout == 5.0
    assert settings.imports[0].bestand == tmp_path / "k.csv" and settings.imports[0].jaar == 2021
    assert settings.retries == 7 and isinstance(settings.timeout, float)


def test_several_gemeenten_from_the_config(tmp_path):
    config = tmp_path / "wijkkompas.toml"
    config.write_text('gemeenten = ["GM0153", "GM0141", "GM0153"]\n', encoding="utf-8")
    settings = load_settings(config, env={})
    assert settings.gemeenten == ("GM0153", "GM0141") and settings.gemeente == "GM0153"
    config.write_text('gemeente = "GM0141,GM0164"\n', encoding="utf-8")
    assert load_settings(config, env={}).gemeenten == ("GM0141", "GM0164")
    config.write_text('gemeenten = ["GM0141", "Hengelo"]\n', encoding="utf-8")
    with pytest.raises(WijkkompasError, match="^Ongeldige gemeentecode 'Hengelo'"):
        load_settings(config, env={})


@pytest.mark.parametrize("text", ["GM\u0660\u0661\u0664\u0661", "GM０１４１"])
def test_a_gemeente_code_in_other_digits_is_refused(text):
    """Arabic-Indic or full-width digits are digits to Python's re without re.ASCII."""
    with pytest.raises(WijkkompasError, match="Ongeldige gemeentecode"):
        parse_gemeenten(text)


def test_years_in_other_digits_are_refused():
    with pytest.raises(WijkkompasError, match="Ongeldige jaren"):
        parse_years("\u0662\u0660\u0662\u0661")


def test_an_unknown_setting_is_a_short_line():
    """The line names the nearest settings, not all of them (it listed 25 in 426 characters)."""
    with pytest.raises(WijkkompasError) as info:
        parse_schema(Settings, {"max_pagina": 5}, "wijkkompas.toml")
    line = str(info.value)
    assert "\n" not in line and len(line) < 300
    assert "bedoelt u max_paginas?" in line and "README.md" in line
    assert "## Instellingen" in (Path(__file__).parents[1] / "README.md").read_text("utf-8")


def test_changed_settings_are_checked():
    settings = Settings()
    assert settings.changed(timeout=5, gemeenten=("GM0153",)).timeout == 5.0
    assert settings.changed(lokaal="l.toml").lokaal == Path("l.toml")
    assert settings.timeout == 60.0  # the settings are frozen; changed gives a copy
    with pytest.raises(WijkkompasError) as info:
        settings.changed(timeout=0)
    assert str(info.value) == ("instellingen: timeout: moet een getal groter dan 0 en van "
                               "hoogstens 3600 zijn (nu: 0).")
    with pytest.raises(WijkkompasError, match="onbekende instelling 'tijd'; bedoelt u"):
        settings.changed(tijd=5)


def test_every_setting_is_in_the_readme():
    """The unknown-setting line points to README.md: every setting is listed there."""
    keys = {field.alias or name for name, field in Settings.model_fields.items()}
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    block = readme.split("## Instellingen", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    named = {line.split("=")[0].strip() for line in block.splitlines()
             if "=" in line and not line.startswith(" ")}
    named |= {"import"} if "[[import]]" in block else set()
    assert named - {"bestand", "jaar"} == keys - {"gemeenten"}
