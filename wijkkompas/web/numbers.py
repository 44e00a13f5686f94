"""Numbers and dates as a Dutch reader expects them."""

from __future__ import annotations

from datetime import date

import pandas as pd

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def dutch_date(day: date) -> str:
    """A date as Dutch text: 7 december 2026."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def nl_number(value: float | None, decimals: int = 1) -> str:
    """A number in Dutch notation: 1.234,5; 'geen data' when missing."""
    if value is None or pd.isna(value):
        return "geen data"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")
