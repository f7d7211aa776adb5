"""Crash-safe file writing and bounded file reading.

Checkpoints must never be left half-written: :func:`atomic_writer` writes to a
temporary file in the target's own folder, makes it durable and then renames it
over the target in one step, so a reader (or a crash) sees either the old file
or the complete new one, never a mixture. :func:`mapped_file` and
:func:`read_bytes_checked` give a parser the bytes of a file without trusting
anything the file says about its own size.
"""

from __future__ import annotations

__all__ = ["atomic_write", "atomic_writer", "mapped_file", "read_bytes_checked"]

import contextlib
import mmap
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

_T = TypeVar("_T")

_TEMP_SUFFIX = ".tmp"
_CREATE_ATTEMPTS = 16


def _temp_name(target: str) -> str:
    """Return a fresh hidden temporary name beside ``target``."""
    folder, base = os.path.split(target)
    return os.path.join(folder, f".{base}.{secrets.token_hex(8)}{_TEMP_SUFFIX}")


def _create_temp(target: str) -> tuple[int, str]:
    """Create an exclusive temporary file beside ``target``.

    The file is created with mode ``0o666`` filtered by the umask (as a plain
    ``open(target, "wb")`` would), or with the target's permission bits when
    the target already exists.

    Returns
    -------
    tuple of (int, str)
        The open file descriptor and the temporary path.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_CREATE_ATTEMPTS):
        temp = _temp_name(target)
        try:
            fd = os.open(temp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            return fd, temp
        try:
            os.chmod(temp, mode)
        except OSError:
            pass
        return fd, temp
    raise FileExistsError(f"could not create a unique temporary file beside {target!r}")


def _fsync_directory(folder: str) -> None:
    """Flush a directory entry change to disk where the platform allows it."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    """Delete ``path`` if it exists, ignoring every error."""
    try:
        os.unlink(path)
    except OSError:
        pass


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` atomically when the block ends.

    The data goes to a temporary file in the same folder as ``path``. When the
    ``with`` block finishes without an exception the file is flushed,
    ``os.fsync``-ed and renamed over ``path`` with :func:`os.replace`; then the
    folder is fsync-ed where the platform supports it. If anything fails (the
    block raises, the disk is full, ``fsync`` or ``os.replace`` fails) the
    temporary file is removed and ``path`` keeps its previous content.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.

    Yields
    ------
    BinaryIO
        A buffered binary file open for writing.

    Examples
    --------
    >>> with atomic_writer("model.params") as f:  # doctest: +SKIP
    ...     f.write(b"...")
    """
    target = os.path.abspath(os.fspath(path))
    fd, temp = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_directory(os.path.dirname(target))


def atomic_write(path: str | os.PathLike[str], write_fn: Callable[[BinaryIO], _T]) -> _T:
    """Call ``write_fn(file)`` and atomically replace ``path`` with what it wrote.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.
    write_fn : callable
        Receives a binary file open for writing; its return value is returned.

    Returns
    -------
    object
        Whatever ``write_fn`` returned.

    See Also
    --------
    atomic_writer : the context-manager form, with the failure guarantees.
    """
    with atomic_writer(path) as handle:
        return write_fn(handle)


@contextlib.contextmanager
def mapped_file(path: str | os.PathLike[str]) -> Iterator[bytes | mmap.mmap]:
    """Give read-only access to a whole file without copying it into memory.

    A non-empty file is memory-mapped; an empty one is given as ``b""``. Parsers
    should read it with :func:`struct.unpack_from` and
    ``numpy.frombuffer(buf, dtype, count, offset).copy()``, keeping no view on it
    after the block, so that the map can be closed.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Yields
    ------
    bytes or mmap.mmap
        A buffer holding exactly the file's bytes.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            yield b""
            return
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mapping
        finally:
            try:
                mapping.close()
            except BufferError:
                # A caller still holds a view; the map closes when it is collected.
                pass


def read_bytes_checked(path: str | os.PathLike[str], max_bytes: int | None = None) -> bytes:
    """Read a whole file in one call, checking that its size did not change.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_bytes : int, optional
        Refuse files larger than this many bytes.

    Returns
    -------
    bytes
        The file's content.

    Raises
    ------
    ValueError
        The file is larger than ``max_bytes``.
    OSError
        The file cannot be read, or its size changed while it was read.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise ValueError(f"{os.fspath(path)!r}: file has {size} bytes, more than {max_bytes}")
        data = handle.read(size)
        if len(data) != size or handle.read(1):
            raise OSError(f"{os.fspath(path)!r}: file size changed while it was read")
    return data
