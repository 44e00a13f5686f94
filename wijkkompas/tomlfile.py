"""Reading the project's TOML files with one clear message when a file is missing or broken."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from wijkkompas.errors import WijkkompasError


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
