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


def capped(items: Iterable[object], limit: int = LIST_LIMIT, sep: str = "; ") -> str:
    """The first ``limit`` items joined by ``sep``, then "(en nog N)" for the rest, so that
    a message stays one readable line however many items there are."""
    texts = [str(item) for item in items]
    shown = sep.join(texts[:limit])
    rest = len(texts) - limit
    return f"{shown} (en nog {rest})" if rest > 0 else shown
