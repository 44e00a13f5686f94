"""The one exception type the command line turns into a clear message, and the one way
messages list items."""

from __future__ import annotations

import errno
import stat
from collections.abc import Iterable
from pathlib import Path

#: How many items a message lists before it says how many more there are.
LIST_LIMIT = 10


class WijkkompasError(Exception):
    """A problem the user can act on; the message is Dutch and names the file or table."""


def capped(items: Iterable[object], limit: int = LIST_LIMIT, sep: str = "; ") -> str:
    """The first ``limit`` items joined by ``sep``, then "(en nog N)" for the rest, so that
    a message stays one readable line however many items there are."""
    texts = [str(item) for item in items]
    shown = sep.join(texts[:limit])
    rest = len(texts) - limit
    return f"{shown} (en nog {rest})" if rest > 0 else shown


#: Dutch reasons for the errors of the operating system a reader meets.
_REASONS = {
    errno.ENOENT: "het bestand bestaat niet",
    errno.EACCES: "geen toegang",
    errno.EPERM: "niet toegestaan",
    errno.EISDIR: "het is een map, geen bestand",
    errno.ENOTDIR: "een deel van het pad is een bestand, geen map",
    errno.ENAMETOOLONG: "de naam is te lang",
    errno.EIO: "leesfout van de schijf",
}


def os_reason(exc: OSError) -> str:
    """Why a file could not be read, in Dutch (never the system's English text)."""
    number = exc.errno or 0
    code = errno.errorcode.get(number, "")
    return _REASONS.get(number, f"systeemfout {code}" if code else "onbekende leesfout")


def file_problem(path: Path) -> str | None:
    """None when ``path`` is an ordinary file that can be read; else why not, as a Dutch
    phrase: it does not exist, it is a folder, or it is a device or pipe (such as
    /dev/zero or a FIFO), which a reader would wait on or read without end."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "bestaat niet"
    except OSError as exc:
        return f"is niet te lezen ({os_reason(exc)})"
    if stat.S_ISDIR(mode):
        return "is een map, geen bestand"
    if not stat.S_ISREG(mode):
        return "is geen gewoon bestand (maar een apparaat of pipe)"
    return None
