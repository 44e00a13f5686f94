"""Reading the project's TOML files with one clear message when a file is missing or broken."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from wijkkompas.errors import WijkkompasError
from wijkkompas.schema import parse_schema

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, what: str = "bestand") -> dict[str, Any]:
    """The parsed TOML of ``path``; ``what`` names the kind of file in the message."""
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise WijkkompasError(f"Kan {what} {path} niet lezen: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise WijkkompasError(
            f"{what.capitalize()} {path} is geen geldige TOML: {exc}. Verbeter het bestand."
        ) from None


def read_toml_schema(path: Path, schema: type[M], what: str = "bestand") -> M:
    """The TOML of ``path`` checked against ``schema``: one Dutch line for a file that
    cannot be read, is no TOML, or does not fit the schema."""
    return parse_schema(schema, read_toml(path, what), str(path))
