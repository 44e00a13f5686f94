"""The one exception type the command line turns into a clear message, and the one way
messages list items."""

from __future__ import annotations

from collections.abc import Iterable

#: How many items a message lists before it says how many more there are.
LIST_LIMIT = 10


class WijkkompasError(Exception):
    """A problem the user can act on; the message is Dutch and names the file or table."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (a notebook) shows for it: the one Dutch line, as the command line
        does, not the chain of library errors behind it (those stay on ``__cause__``)."""
        return [f"fout: {self}"]


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, at most ``limit`` characters; its type's
    name when it has no message: the detail a one-line Dutch message may quote."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
class NotPublished(WijkkompasError):
    """A permanent miss: the service answered, but does not hold what was asked (HTTP 404,
    a year not in the catalogue, a boundary year no service holds). Fetching again soon will
    not help; a run records it and goes on with what it has."""


def capped(items: Iterable[object], limit: int = LIST_LIMIT, sep: str = "; ") -> str:
    """The first ``limit`` items joined by ``sep``, then "(en nog N)" for the rest, so that
    a message stays one readable line however many items there are."""
    texts = [str(item) for item in items]
    shown = sep.join(texts[:limit])
    rest = len(texts) - limit
    return f"{shown} (en nog {rest})" if rest > 0 else shown
