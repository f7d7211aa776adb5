"""Checkpoints as safetensors files, through the ``safetensors`` package.

The arrays are laid out flat as in :mod:`paramlab.ndarray._npzformat` (sparse
arrays as ``name/data``, ``name/indices``, ``name/indptr``) and the JSON
description goes into the file's text metadata under ``__paramlab__``. A file
written by another tool (no description) reads as dense arrays.

Writing uses ``safetensors.numpy.save`` and puts its bytes in place with
:func:`paramlab._io.atomic_write`. Reading uses the package's memory-mapped
``safe_open(..., framework="np")`` (what ``safetensors.numpy.load_file`` uses),
so each array is copied out once and the file is never held in memory whole.
The package validates the header and offsets; dtypes are checked here before
any array is read. Every problem raises
:class:`~paramlab.base.CheckpointFormatError` naming the file.
"""

from __future__ import annotations

__all__ = ["DTYPES", "read", "write"]

import json
import os
from collections.abc import Sequence

import numpy as np

from .._io import atomic_write
from ..base import CheckpointFormatError
from . import _npzformat
from ._mxformat import StoredArray

DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "I16": np.dtype(np.int16),
    "U16": np.dtype(np.uint16),
    "I32": np.dtype(np.int32),
    "U32": np.dtype(np.uint32),
    "I64": np.dtype(np.int64),
    "U64": np.dtype(np.uint64),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
}
"""The safetensors dtype names read, and their NumPy dtypes."""


def _package():
    """Import ``safetensors`` (an optional dependency) with a helpful error."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as error:
        raise ImportError(
            "reading or writing .safetensors files needs the 'safetensors' package: "
            "pip install 'paramlab[safetensors]'"
        ) from error
    return safetensors


def _open_tensors(package, path: str, label: str):
    """Return (arrays in file order, metadata dict) after checking every dtype."""
    with package.safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        keys = list(f.keys())
        for key in keys:
            dtype = f.get_slice(key).get_dtype()
            if dtype not in DTYPES:
                raise CheckpointFormatError(
                    f"{label}: tensor {key!r} has dtype {dtype}, which has no NumPy "
                    f"equivalent here; supported: {', '.join(DTYPES)}"
                )
        arrays = {key: _npzformat.normalize(f.get_tensor(key)) for key in keys}
    return arrays, metadata


def read(path: str | os.PathLike) -> tuple[list[StoredArray], list[str] | None]:
    """Read a ``.safetensors`` checkpoint.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    arrays, names
        As :func:`paramlab.ndarray._npzformat.read` returns them.

    Raises
    ------
    CheckpointFormatError
        The file is not valid safetensors, holds an unsupported dtype, or its
        paramlab description does not match its tensors.
    OSError
        The file cannot be opened.
    ImportError
        The ``safetensors`` package is missing.
    """
    path = os.fspath(path)
    label = repr(path)
    package = _package()
    with open(path, "rb"):  # a missing or unreadable file is an OSError, not a format error
        pass
    try:
        arrays, metadata = _open_tensors(package, path, label)
    except (CheckpointFormatError, MemoryError):
        raise
    except Exception as error:  # the package raises SafetensorError, TypeError, ...
        raise CheckpointFormatError(
            f"{label}: not a valid safetensors file: {type(error).__name__}: {error}"
        ) from error
    raw = metadata.get(_npzformat.META_KEY)
    meta = None if raw is None else _npzformat.decode_meta(raw.encode("utf-8"), label)
    return _npzformat.unflatten(arrays, meta, label)


def write(
    path: str | os.PathLike,
    arrays: Sequence[StoredArray | np.ndarray],
    names: Sequence[str] | None = None,
) -> None:
    """Write records as a ``.safetensors`` file, replacing ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
    arrays, names
        As for :func:`paramlab.ndarray._npzformat.write`.

    Raises
    ------
    TypeError, ValueError
        See :func:`paramlab.ndarray._npzformat.flatten`; nothing is written.
    ImportError
        The ``safetensors`` package is missing.
    """
    flat, meta = _npzformat.flatten(arrays, names)
    package = _package()
    data = package.numpy.save(flat, metadata={_npzformat.META_KEY: json.dumps(meta)})
    atomic_write(path, lambda handle: handle.write(data))
