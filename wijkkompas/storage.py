"""Atomic writes, checksums and table writing, the lock of a data folder and the staged
replacement of a whole folder. The manifest of the raw cache is ``manifest.py``.

Temporary files carry ``TEMP_MARK`` in their name and staging folders start with
``.<name>.nieuw-``, so that what a killed run left behind is recognised and removed by the
next run (``clean_leftovers``, under the lock).
"""

from __future__ import annotations

import errno
import hashlib
import json
import mmap
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from wijkkompas.errors import WijkkompasError
from wijkkompas.settings import LOCK_TIMEOUT

LOCK_NAME = ".wijkkompas.lock"
#: Part of the name of every temporary file; what carries it may be removed.
TEMP_MARK = ".wktmp-"


def now_stamp() -> str:
    """The current UTC time as ISO 8601 text, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def file_stamp(iso: str) -> str:
    """An ISO time made safe for a folder name: 2024-05-01T10:00:00+00:00 -> 20240501T100000Z."""
    return iso.replace("-", "").replace(":", "").replace("+0000", "Z")


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path | str) -> None:
    """Give a file made by ``tempfile.mkstemp`` (mode 0600) or a folder made by
    ``tempfile.mkdtemp`` (0700) the mode any new one gets, as the umask allows, so that a
    shared folder can read what is written."""
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~current_umask())


@contextmanager
def atomic_paths(targets: Sequence[Path]) -> Iterator[list[Path]]:
    """Write beside, then replace: the one way every file is written.

    Yields a temporary path beside each of ``targets`` (not made yet, ``TEMP_MARK`` in its
    name) for the block to write. When the block ends without error, the temporary files
    replace their targets together, with Ctrl-C held back; on an error they are removed and
    every target is left as it was. A library's write error that gives no reason (pyarrow,
    GDAL) becomes the OSError behind it (:func:`write_error`).
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{target.name}{TEMP_MARK}",
                                            suffix=target.suffix, dir=target.parent)
            os.close(handle)
            os.unlink(name)  # the writer makes it, with the mode the umask gives
            staged.append((Path(name), target))
        yield [tmp for tmp, _target in staged]
        with no_interrupt():
            for tmp, target in staged:
                os.replace(tmp, target)
    except OSError as exc:
        if exc.errno is not None or not targets:
            raise
        raise write_error(targets[0], exc) from exc  # pyarrow's IO errors carry no errno
    except Exception as exc:
        # GDAL's write errors (a full disk while writing a GeoPackage) are RuntimeErrors
        # with English text; the cause is told as the OSError it is.
        if not _gdal_error(exc) or not targets:
            raise
        raise write_error(targets[0], exc) from exc
    finally:
        for tmp, _target in staged:
            if tmp.exists():
                tmp.unlink()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """:func:`atomic_paths` for one file: a temporary path beside ``target`` that replaces
    it when the block ends without error."""
    with atomic_paths([target]) as (tmp,):
        yield tmp


def _gdal_error(exc: BaseException) -> bool:
    """True for pyogrio's errors (only once pyogrio is loaded: most writes never load it)."""
    if "pyogrio" not in sys.modules:
        return False
    import pyogrio.errors

    return isinstance(exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError)


#: Free bytes below which a failed write is taken for a full disk.
_NEARLY_FULL = 1 << 20


def write_error(target: Path, exc: BaseException) -> OSError:
    """The OSError behind a library's failed write of ``target`` that did not say it: a
    full disk, a folder that cannot be written, or (else) an input/output error."""
    folder = Path(target).parent
    number = errno.EIO
    text = str(exc)
    try:
        if "No space left" in text or shutil.disk_usage(folder).free < _NEARLY_FULL:
            number = errno.ENOSPC
        elif os.statvfs(folder).f_flag & os.ST_RDONLY:
            number = errno.EROFS
        elif not os.access(folder, os.W_OK):
            number = errno.EACCES
    except OSError:
        pass
    return OSError(number, os.strerror(number), str(target))


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_files_atomic(files: dict[Path, bytes]) -> None:
    """Several files written together (:func:`atomic_paths`): an error while writing
    leaves every target as it was."""
    with atomic_paths(list(files)) as staged:
        for tmp, data in zip(staged, files.values(), strict=True):
            tmp.write_bytes(data)


def json_bytes(value: Any) -> bytes:
    """``value`` as the JSON the raw cache and processed/ store (sorted keys, UTF-8)."""
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def write_json_atomic(target: Path, value: Any) -> None:
    write_bytes_atomic(target, json_bytes(value))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as CSV (UTF-8, comma, point decimals), without its index."""
    return frame.to_csv(index=False).encode("utf-8")


#: Rows converted and written at a time when a table has categorical columns: the size of
#: one Parquet row group, so that a national table is never in memory twice.
CHUNK_ROWS = 1 << 20


def _statistics(schema: pa.Schema) -> list[str]:
    """The columns whose Parquet statistics are worth their cost: all but text."""
    def text(kind: pa.DataType) -> bool:
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return [f.name for f in schema if not text(f.type)]


def write_table(table: pd.DataFrame, parquet: Path, csv: Path | None) -> None:
    """A table as Parquet and, when ``csv`` is given, as CSV (UTF-8, comma, point
    decimals), each atomically. One Arrow table serves both files.

    Categorical columns are written as text: Parquet takes their codes and categories as
    its dictionary encoding directly, and the file carries the pandas description of a
    text column (``str``) and no Arrow schema, so readers get text columns whatever the
    table held in memory. Such a table is written ``CHUNK_ROWS`` rows at a time.

    Only the columns that are not text carry statistics (minimum, maximum, nulls per
    page): for text columns Parquet compares every string, which took about half of the
    writing of a national table, and nothing reads those statistics.
    """
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        arrow = pa.Table.from_pandas(table, preserve_index=False)
        with atomic_path(parquet) as tmp:
            pq.write_table(arrow, tmp, write_statistics=_statistics(arrow.schema))
        if csv is not None:
            with atomic_path(csv) as tmp:
                pacsv.write_csv(arrow, tmp)
        return
    text = pa.Schema.from_pandas(table.iloc[:0].astype(dict.fromkeys(categorical, "str")),
                                 preserve_index=False)
    with atomic_path(parquet) as tmp, ExitStack() as stack:
        csv_tmp = stack.enter_context(atomic_path(csv)) if csv is not None else None
        writer = csv_writer = None
        for start in range(0, max(len(table), 1), CHUNK_ROWS):
            part = pa.Table.from_pandas(table.iloc[start:start + CHUNK_ROWS],
                                        preserve_index=False).replace_schema_metadata(
                                            text.metadata)
            if writer is None:
                writer = stack.enter_context(pq.ParquetWriter(
                    tmp, part.schema, store_schema=False,
                    write_statistics=_statistics(part.schema)))
            writer.write_table(part)
            if csv_tmp is not None:
                if csv_writer is None:
                    csv_writer = stack.enter_context(pacsv.CSVWriter(csv_tmp, text))
                csv_writer.write_table(pa.Table.from_arrays(
                    [part.column(f.name).cast(f.type) for f in text], schema=text))


class TableMismatch(Exception):
    """A part given to :class:`TableStream` whose columns differ in type from the first
    part's: the parts do not make one table as a single frame would (the caller writes the
    whole table at once instead)."""


def _signature(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The columns of ``frame`` with their types, text (categorical or ``str``) as one."""
    def kind(dtype: object) -> str:
        if isinstance(dtype, pd.CategoricalDtype) or isinstance(dtype, pd.StringDtype):
            return "text"
        return str(dtype)
    return [(str(c), kind(frame[c].dtype)) for c in frame.columns]


class TableStream:
    """One table written part by part as Parquet and, when ``csv`` is given, as CSV: the
    files :func:`write_table` would write for all parts put together (values, types as
    read back, row order), with only one part in memory at a time.

    Text columns (categorical or ``str``) are written as text, dictionary-encoded; the
    file carries the pandas description of the first part with text as ``str``. A part
    whose other columns differ in type from the first part's (an integer column that is
    a float column elsewhere) raises :class:`TableMismatch`; an empty part is skipped.
    The caller opens ``parquet`` and ``csv`` as temporary paths (:func:`atomic_paths`)
    and calls :meth:`close` when every part is written.
    """

    def __init__(self, parquet: Path, csv: Path | None = None) -> None:
        self.parquet, self.csv = parquet, csv
        self.signature: list[tuple[str, str]] | None = None
        self.schema: pa.Schema | None = None
        self.plain: pa.Schema | None = None
        self._stack = ExitStack()
        self._writer: pq.ParquetWriter | None = None
        self._csv_writer: pacsv.CSVWriter | None = None

    @property
    def empty(self) -> bool:
        """True while no row has been written."""
        return self._writer is None

    def write(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        signature = _signature(frame)
        if self.signature is None:
            self.signature = signature
        elif signature != self.signature:
            raise TableMismatch(self.parquet)
        for start in range(0, len(frame), CHUNK_ROWS):
            self._write(frame.iloc[start:start + CHUNK_ROWS])

    def _write(self, chunk: pd.DataFrame) -> None:
        text = [c for c, kind in _signature(chunk) if kind == "text"]
        arrow = pa.Table.from_pandas(chunk, preserve_index=False)
        if self.schema is None:
            described = pa.Schema.from_pandas(chunk.iloc[:0].astype(dict.fromkeys(text, "str")),
                                              preserve_index=False)
            encoded = pa.dictionary(pa.int32(), pa.string())
            self.schema = pa.schema([pa.field(f.name, encoded) if f.name in text else f
                                     for f in arrow.schema], metadata=described.metadata)
            self.plain = pa.schema([pa.field(f.name, pa.string()) if f.name in text else f
                                    for f in arrow.schema])
        columns = []
        for field in self.schema:
            column = arrow.column(field.name)
            if field.name in text:
                if not pa.types.is_dictionary(column.type):
                    column = column.dictionary_encode()
                column = column.cast(field.type)
            elif column.type != field.type:
                raise TableMismatch(self.parquet)
            columns.append(column)
        part = pa.Table.from_arrays(columns, schema=self.schema)
        if self._writer is None:
            self._writer = self._stack.enter_context(pq.ParquetWriter(
                self.parquet, self.schema, store_schema=False,
                write_statistics=_statistics(self.schema)))
        self._writer.write_table(part)
        if self.csv is not None:
            assert self.plain is not None
            if self._csv_writer is None:
                self._csv_writer = self._stack.enter_context(pacsv.CSVWriter(self.csv,
                                                                             self.plain))
            self._csv_writer.write_table(pa.Table.from_arrays(
                [part.column(f.name).cast(f.type) for f in self.plain], schema=self.plain))

    def close(self) -> None:
        self._stack.close()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, hashed from a memory map in one call. hashlib lets other
    threads run while it hashes; block by block it would take Python's lock back after
    every block, and wait for it while another thread decodes JSON (the build checks the
    raw files beside reading them)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                digest.update(view)
    return digest.hexdigest()


@contextmanager
def no_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, so that what belongs together
    (a file and its manifest entry, the swap of a folder) is stored together."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    old = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if received and callable(old):
        old(signal.SIGINT, None)


@contextmanager
def data_lock(data_dir: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One writer per data folder: hold ``data_dir/.wijkkompas.lock`` for the block.

    Waits up to ``timeout`` seconds for another run to finish, then refuses with a clear
    message. Within one process the lock may be taken again (it is the same lock).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    lock = FileLock(path, is_singleton=True)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WijkkompasError(
            f"Een andere wijkkompas-opdracht is bezig met {data_dir} (slot {path}); na "
            f"{timeout:g} s wachten gestopt. Wacht tot die klaar is en probeer het opnieuw, of "
            "verhoog de wachttijd (instelling 'wachttijd', WIJKKOMPAS_WACHTTIJD)."
        ) from None
    try:
        yield
    finally:
        lock.release()


def _staging_name(target: Path, kind: str) -> str:
    return f".{target.name}.{kind}-"


def recover_folder(target: Path) -> None:
    """Undo what a run killed while replacing ``target`` left behind (call under the lock).

    A killed swap can leave ``target`` missing with its old version still beside it: that
    version is put back. Staging folders and old versions are removed.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(_staging_name(target, "oud") + "*"))
    if olds and not target.exists():
        os.rename(olds[-1], target)
        olds = olds[:-1]
    for leftover in [*olds, *parent.glob(_staging_name(target, "nieuw") + "*")]:
        shutil.rmtree(leftover)


def _carry_folders(old: Path, new: Path) -> None:
    """Folders inside the old version (exports, vlekkenkaart) also appear in the new one,
    as hard links, so the old version stays whole until the swap."""
    for entry in old.iterdir():
        if entry.is_dir() and not (new / entry.name).exists():
            shutil.copytree(entry, new / entry.name, copy_function=os.link)


@contextmanager
def replace_folder(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``target``; when the block succeeds the staging
    folder becomes ``target`` (the old files go, its subfolders are kept), else it is
    removed and ``target`` is left exactly as it was.

    The swap is two renames on one file system with Ctrl-C held back; a run killed between
    them is repaired by ``recover_folder``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(target)
    staging: Path | None = None
    old: Path | None = None
    try:
        # Made with Ctrl-C held back: a Ctrl-C between the folder's creation and its name
        # coming back would leave a folder nobody removes (it comes after, inside the try).
        with no_interrupt():
            staging = Path(tempfile.mkdtemp(prefix=_staging_name(target, "nieuw"),
                                            dir=target.parent))
        follow_umask(staging)
        yield staging
        if target.is_dir():
            _carry_folders(target, staging)
        elif target.exists():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target))
        with no_interrupt():
            if target.exists():
                old = target.parent / staging.name.replace(".nieuw-", ".oud-")
                os.rename(target, old)
            os.rename(staging, target)
    finally:
        with no_interrupt():  # a second Ctrl-C does not stop the clean-up halfway
            if staging is not None and staging.exists():
                if old is not None and old.exists() and not target.exists():
                    os.rename(old, target)
                shutil.rmtree(staging, ignore_errors=True)
            elif old is not None and old.exists():
                shutil.rmtree(old)


def clean_leftovers(data_dir: Path) -> None:
    """Remove the temporary files and staging folders of a killed run (under the lock)."""
    data_dir = Path(data_dir)
    recover_folder(data_dir / "processed")
    stale_staging = data_dir / "raw" / ".staging"
    if stale_staging.is_dir():
        shutil.rmtree(stale_staging)
    for folder in (data_dir / "raw", data_dir / "processed"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob(f"*{TEMP_MARK}*"), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
