"""Reading the project's TOML files with one clear message when a file is missing or broken."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from wijkkompas.errors import WijkkompasError, os_reason
from wijkkompas.schema import parse_schema

M = TypeVar("M", bound=BaseModel)
_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)", re.ASCII)


def read_toml(path: Path, what: str = "bestand") -> dict[str, Any]:
    """The parsed TOML of ``path``; ``what`` names the kind of file in the message.

    Everything that can go wrong is one Dutch line: a file that cannot be read (or is a
    folder), bytes that are not UTF-8 text, and TOML that does not parse (with the line
    and column of the problem; tomllib's own English wording is left out).
    """
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise WijkkompasError(f"Kan {what} {path} niet lezen: {os_reason(exc)}.") from None
    except UnicodeDecodeError as exc:
        raise WijkkompasError(
            f"{what.capitalize()} {path} is geen tekstbestand in UTF-8 (onleesbaar teken op "
            f"positie {exc.start}). Sla het op als tekst (UTF-8) of geef het juiste bestand."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        found = _WHERE.search(str(exc))
        where = f" (regel {found.group(1)}, kolom {found.group(2)})" if found else ""
        raise WijkkompasError(
            f"{what.capitalize()} {path} is geen geldige TOML{where}. Verbeter het bestand."
        ) from None


def read_toml_schema(path: Path, schema: type[M], what: str = "bestand") -> M:
    """The TOML of ``path`` checked against ``schema``: one Dutch line for a file that
    cannot be read, is no TOML, or does not fit the schema."""
    return parse_schema(schema, read_toml(path, what), str(path))
