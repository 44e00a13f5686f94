"""Start-up: --help, --version and usage errors import none of the heavy libraries.

A behaviour test, not a timed one: a fresh interpreter runs the command line and then
reports which of the heavy modules ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from wijkkompas import __version__

HEAVY = ["pandas", "numpy", "geopandas", "shapely", "pyproj", "pyogrio", "folium", "branca",
         "jinja2", "matplotlib", "cbsodata", "requests", "urllib3", "pyarrow", "pydantic",
         "jsonschema", "openpyxl", "filelock", "orjson"]

PROBE = """
import contextlib, io, json, sys
from wijkkompas.cli import main
out, err = io.StringIO(), io.StringIO()
code = None
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "heavy": heavy}))
"""


def _probe(*argv: str) -> dict:
    code = PROBE.replace("json.loads(HEAVY)", repr(json.dumps(HEAVY)).join(["json.loads(", ")"]))
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["build", "--help"],
                                  ["run", "--help"], ["vlekkenkaart", "--help"]])
def test_help_and_version_import_no_heavy_library(argv):
    result = _probe(*argv)
    assert result["code"] == 0
    assert result["heavy"] == []
    if argv == ["--version"]:
        assert result["out"] == f"wijkkompas {__version__}\n"
    else:
        assert result["out"].startswith("gebruik: wijkkompas")


@pytest.mark.parametrize("argv", [[], ["bouw"], ["build", "--onbekend"],
                                  ["vlekkenkaart", "--capaciteit", "nul"]])
def test_usage_errors_import_no_heavy_library(argv):
    result = _probe(*argv)
    assert result["code"] == 2
    # One Dutch line, as before the imports moved.
    assert re.fullmatch(r"fout: .+ \(zie 'wijkkompas( \w+)? --help'\)\n", result["err"])
    assert result["heavy"] == []


def test_a_command_still_imports_its_stage():
    # The check is not vacuous: the same probe sees pandas once a command actually runs.
    result = _probe("build", "--data-dir", "/nonexistent/wijkkompas-data")
    assert result["code"] == 1
    assert "bestaat niet" in result["err"]
    assert "pandas" in result["heavy"]
