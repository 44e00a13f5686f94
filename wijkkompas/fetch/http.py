"""Retries with exponential backoff for calls to CBS and PDOK."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    backoff: float,
    transient: Callable[[BaseException], bool],
) -> T:
    """Run ``call``; when it raises a transient error, wait and try again.

    ``retries`` is the number of extra attempts; the waits are backoff, 2*backoff, 4*backoff...
    The last error is raised as it is when all attempts fail.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - decided by ``transient``
            if attempt >= retries or not transient(exc):
                raise
            time.sleep(backoff * (2**attempt))
            attempt += 1
