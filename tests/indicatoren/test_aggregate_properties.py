"""Properties of aggregation that must hold for any data: counts add up, shares stay 0-100."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wijkkompas.indicatoren.aggregate import complete_levels
from wijkkompas.indicatoren.rows import compute

buurt = st.fixed_dictionaries({
    "wijk": st.integers(0, 3),
    "inwoners": st.integers(0, 5000),
    "share_65": st.floats(0, 100, allow_nan=False),
    "secret": st.booleans(),
})


def _frame(buurten):
    rows = []
    for number, b in enumerate(buurten):
        rows.append({
            "gebiedscode": f"BU0999{b['wijk']:02d}{number:02d}", "gebiedsnaam": None,
            "niveau": "buurt", "jaar": 2024, "bron": "test",
            "inwoners": float(b["inwoners"]),
            "inw_65plus": math.nan if b["secret"] else b["share_65"] * b["inwoners"] / 100,
        })
    return pd.DataFrame(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(buurt, min_size=1, max_size=40))
def test_counts_add_up_and_shares_stay_within_bounds(buurten):
    long = complete_levels(compute(_frame(buurten)))
    inwoners = long[long.indicator == "inwoners"].set_index("gebiedscode")["waarde"]
    total = sum(b["inwoners"] for b in buurten)
    assert inwoners["GM0999"] == total
    wijken = inwoners[inwoners.index.str.startswith("WK")]
    assert wijken.sum() == total

    shares = long[long.indicator == "aandeel_65plus"]
    known = shares["waarde"].dropna()
    assert ((known >= -1e-9) & (known <= 100 + 1e-9)).all()
    # A share is missing exactly where too little of the population is known.
    computed = shares[shares.niveau != "buurt"]
    assert ((computed["dekking"] >= 0.9) | computed["waarde"].isna()).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(buurt, min_size=1, max_size=30), st.integers(0, 29))
def test_a_secret_count_never_becomes_zero(buurten, which):
    frame = _frame(buurten)
    frame.loc[which % len(frame), "inwoners"] = math.nan
    long = complete_levels(compute(frame))
    gemeente = long[(long.indicator == "inwoners") & (long.gebiedscode == "GM0999")]
    assert gemeente["waarde"].isna().all() and (gemeente["status"] == "ontbreekt").all()
