"""environment.yml (conda-forge) names the same packages as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for extra in project["optional-dependencies"].values() for r in extra}

    conda = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        # conda packages ("  - name"), and pip-only ones in the pip section ("      - name")
        match = re.match(r"^(?:  |      )- ([A-Za-z0-9][A-Za-z0-9_.\-]*)", line)
        if match:
            conda.add(_name(match.group(1)))
    conda -= {"python", "pip"}
    assert conda == wanted
