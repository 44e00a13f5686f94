"""Numbers as a Dutch reader expects them."""

from __future__ import annotations

import pandas as pd


def nl_number(value: float | None, decimals: int = 1) -> str:
    """A number in Dutch notation: 1.234,5; 'geen data' when missing."""
    if value is None or pd.isna(value):
        return "geen data"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")
