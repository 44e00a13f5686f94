"""The one exception type the command line turns into a clear message, and the one way
messages list items."""

from __future__ import annotations

import errno
import re
import stat
from collections.abc import Iterable
from pathlib import Path

#: How many items a message lists before it says how many more there are.
LIST_LIMIT = 10


class WijkkompasError(Exception):
    """A problem the user can act on; the message is Dutch and names the file or table.

    ``detail`` keeps what a library said (often English), shown only with ``--uitgebreid``.
    """

    def __init__(self, message: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

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


def library_detail(exc: BaseException) -> str:
    """What a library said, for ``--uitgebreid``: its type and its first line."""
    if not str(exc).strip():
        return type(exc).__name__
    return f"{type(exc).__name__}: {first_line(exc, 500)}"


_TOKENIZING = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)", re.ASCII)
_JSON_WHERE = re.compile(r"line (\d+) column (\d+)", re.ASCII)


def library_reason(exc: BaseException) -> str:
    """Why a library could not read a file, as a Dutch phrase, without its English text
    (which :func:`library_detail` keeps for ``--uitgebreid``). The place (line, column)
    is kept where the library gives it."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return "de tekens zijn niet te lezen (geen UTF-8)"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_reason(exc)
    if "JSON" in name or name == "DecodeError" or "JSON" in text:
        found = _JSON_WHERE.search(text)
        where = f"regel {found.group(1)}, kolom {found.group(2)}" if found else \
            "afgebroken of beschadigd"
        return f"geen geldige JSON ({where})"
    if found := _TOKENIZING.search(text):
        return (f"regel {found.group(2)} heeft {found.group(3)} cellen, de kopregel "
                f"{found.group(1)}")
    if name == "ParserError":
        return "de CSV is niet te ontleden"
    if name in ("DataSourceError", "DataLayerError") or "GDAL" in text:
        if "not recognized" in text:
            return "geen geodatabestand dat GDAL herkent"
        return "GDAL kan het bestand niet lezen"
    if name == "BadZipFile":
        return "geen zip-archief, zoals een echt .xlsx-bestand"
    if name == "EmptyDataError":
        return "het bestand is leeg"
    if type(exc).__module__ == "builtins" and text.strip() and _raised_here(exc):
        # A plain ValueError or KeyError of the project's own checks, which are Dutch; the
        # same from a library (numpy, pandas) is English and stays for --uitgebreid.
        return text.strip().splitlines()[0][:200]
    return "onleesbare inhoud"


#: The package's own folder: exceptions raised by code in it have Dutch text.
_PACKAGE = Path(__file__).resolve().parent


def _raised_here(exc: BaseException) -> bool:
    """``exc`` was raised by the package's own code (its innermost frame is in it)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)


#: For lists of many alike problems (objects of a geo file): the characters they may take.
LIST_CHARS = 160


def capped(items: Iterable[object], limit: int = LIST_LIMIT, sep: str = "; ",
           chars: int | None = None) -> str:
    """The first items joined by ``sep``, at most ``limit`` of them and, with ``chars``, no
    more than fit in about that many characters (at least one), then "(en nog N)" for the
    rest, so that a message stays one readable line however many items there are."""
    texts = [str(item) for item in items]
    count = 0
    length = 0
    for text in texts[:limit]:
        length += len(text) + len(sep)
        if count and chars is not None and length > chars:
            break
        count += 1
    shown = sep.join(texts[:count])
    rest = len(texts) - count
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
