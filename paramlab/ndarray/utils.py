"""``mx.nd.save`` / ``mx.nd.load``: NDArrays to and from MXNet's binary file format.

Files load with identical names, shapes, dtypes and bytes whatever the NumPy-shape
mode (MXNet refuses 0-d arrays outside it; paramlab reads any valid file).
Writing is atomic: a temporary file in the same folder, fsynced, then renamed.

>>> import os, tempfile
>>> import paramlab as mx
>>> path = os.path.join(tempfile.mkdtemp(), 'x.nd')
>>> mx.nd.save(path, {'w': mx.nd.ones((2, 2))})
>>> mx.nd.load(path)['w'].shape
(2, 2)
"""

from __future__ import annotations

import os

from .. import _backend
from ..context import Context
from . import _mxformat
from .ndarray import NDArray

__all__ = ["save", "load", "to_stored", "from_stored"]


def to_stored(arr: NDArray) -> _mxformat.StoredArray:
    """The host record of an NDArray (a counted host read of its stored values)."""
    if arr.stype == "row_sparse":
        return _mxformat.StoredArray.from_row_sparse(
            arr.data.asnumpy(), arr.indices.asnumpy(), arr.shape
        )
    if arr.stype == "csr":
        return _mxformat.StoredArray.from_csr(
            arr.data.asnumpy(), arr.indices.asnumpy(), arr.indptr.asnumpy(), arr.shape
        )
    return _mxformat.StoredArray.from_dense(_backend.to_host(arr._data))


def from_stored(record: _mxformat.StoredArray, ctx: Context | None = None, cls=NDArray):
    """An NDArray (dense or sparse) holding a record's values on ``ctx`` (cpu(0) by default)."""
    ctx = Context("cpu", 0) if ctx is None else ctx
    if record.stype == "default":
        return cls._wrap(_backend.to_context(record.data, ctx, copy=True), ctx)
    from . import sparse

    if record.stype == "row_sparse":
        return sparse.row_sparse_array(
            (record.data, record.indices), shape=record.shape, ctx=ctx, dtype=record.dtype
        )
    return sparse.csr_matrix(
        (record.data, record.indices, record.indptr),
        shape=record.shape,
        ctx=ctx,
        dtype=record.dtype,
    )


def _records(data):
    if isinstance(data, NDArray):
        return [to_stored(data)], None
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str) or not isinstance(value, NDArray):
                raise TypeError(
                    "save only accept dict str->NDArray or list of NDArray; got "
                    f"{type(key).__name__} -> {type(value).__name__}"
                )
        return [to_stored(v) for v in data.values()], list(data.keys())
    if isinstance(data, list):
        for value in data:
            if not isinstance(value, NDArray):
                raise TypeError(
                    f"save only accept dict str->NDArray or list of NDArray; got a list holding "
                    f"{type(value).__name__}"
                )
        return [to_stored(v) for v in data], None
    if isinstance(data, tuple):
        raise ValueError("save: a tuple is not accepted; pass a list or a dict of NDArrays")
    raise TypeError(
        f"save only accept dict str->NDArray or list of NDArray; got {type(data).__name__}"
    )


def save(fname, data):
    """Save an NDArray, a list or a dict of NDArrays to ``fname`` in MXNet's format."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"save: fname must be a path, got {type(fname).__name__}")
    records, names = _records(data)  # validates and reads everything before writing
    _mxformat.write(fname, records, names)


def load(fname, ctx=None, cls=NDArray):
    """Load a file written by ``save`` (or MXNet): a dict if it stored names, else a list."""
    records, names = _mxformat.read(fname)
    arrays = [from_stored(r, ctx, cls) for r in records]
    if names is None:
        return arrays
    return dict(zip(names, arrays))


def load_frombuffer(buf, ctx=None):
    """Load from the bytes of a file."""
    return load(bytes(buf), ctx)
