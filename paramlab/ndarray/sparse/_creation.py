"""Creating sparse arrays, converting between storage types, and checking components.

Every constructor validates its whole input before it allocates the result:
index arrays must be integral, in range and (after sorting) free of repeats;
``indptr`` must start at 0, never decrease and end at the number of entries;
shapes must agree. Unsorted row ids (row_sparse) and unsorted column ids within
a row (csr) are sorted together with their values, which keeps the dense value
MXNet reads from them.
"""

from __future__ import annotations

import numbers

import numpy as np

from ... import _backend
from ..._autograd import apply
from ..._dtypes import canonical, default_float
from ...base import MXNetError
from ...context import as_context, current_context
from ...ops import elementwise as ew
from .._keywords import mxnet_keywords
from ..creation import normalize_shape
from ..ndarray import NDArray
from . import _kernels as kern
from ._arrays import BaseSparseNDArray, CSRNDArray, RowSparseNDArray, recording_with

__all__ = [
    "STYPES",
    "row_sparse_array",
    "csr_matrix",
    "zeros",
    "empty",
    "array",
    "cast_storage",
    "zeros_like",
    "check_parts",
    "parts_for_assign",
    "full_row_sparse",
]

STYPES = ("default", "row_sparse", "csr")
_CLASSES = {"row_sparse": RowSparseNDArray, "csr": CSRNDArray}


# --------------------------------------------------------------------------- input helpers
def _check_stype(stype, what):
    if stype not in STYPES:
        raise ValueError(f"{what}: stype must be one of {list(STYPES)}, got {stype!r}")
    return stype


def _is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _is_external_sparse(x) -> bool:
    """A SciPy or cupyx sparse matrix."""
    module = type(x).__module__
    return module.startswith(("scipy.sparse", "cupyx.scipy.sparse")) and hasattr(x, "tocsr")


def _default_ctx(ctx, *sources):
    """``ctx``, else the context of the first NDArray source, else the current context."""
    if ctx is not None:
        return as_context(ctx, "ctx")
    for s in sources:
        if isinstance(s, NDArray):
            return s.context
    return current_context()


def _source_dtype(source, dtype, what):
    """``dtype``, else the source's own (NDArray or raw array), else float32 (as MXNet)."""
    if dtype is not None:
        return canonical(dtype, f"{what}: dtype")
    if (
        isinstance(source, NDArray)
        or isinstance(source, np.ndarray)
        or _backend.is_gpu_array(source)
    ):
        return canonical(source.dtype, f"{what}: dtype")
    return default_float


def _raw_on(source, ctx, dtype, what, name, copy=False):
    """``source`` (a dense NDArray or array-like) as a raw array on ``ctx``.

    With ``copy`` the result never shares memory with ``source``.
    """
    if isinstance(source, BaseSparseNDArray):
        raise TypeError(
            f"{what}: {name} must be dense, got a {type(source).__name__}; "
            "use .data / .indices of a sparse array"
        )
    if isinstance(source, NDArray):
        raw = source._data
        if source.context != ctx:
            raw, copy = _backend.copy_to_context(raw, source.context, ctx), False
        if dtype is None or raw.dtype == dtype:
            return raw.copy() if copy else raw
        return raw.astype(dtype)
    try:
        return _backend.to_context(source, ctx, dtype=dtype, copy=copy)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what}: cannot read {name} from {type(source).__name__} ({str(exc).splitlines()[0]})"
        ) from None


def _index_array(source, ctx, what, name):
    """A new 1-D int64 index array on ``ctx``; integral floats are accepted, as in MXNet."""
    raw = _raw_on(source, ctx, None, what, name)
    if raw.ndim != 1:
        raise ValueError(f"{what}: {name} must be 1-D, got shape {tuple(raw.shape)}")
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{what}: {name} must hold integers, got dtype {raw.dtype}")
    if raw.dtype.kind == "f" and raw.shape[0]:
        xp = _backend.xp_of(raw)
        if not bool((xp.isfinite(raw) & (raw == xp.floor(raw))).all()):
            raise ValueError(f"{what}: {name} must hold integers, got {_preview(raw)}")
    return raw.astype(kern.INDEX)


# --------------------------------------------------------------------------- validation
def _rsp_problem(values, indices, shape):
    """Why ``(values, indices)`` is not a row_sparse array of ``shape``, or None."""
    if not shape:
        return "a row_sparse array needs at least one dimension, got shape ()"
    if tuple(values.shape[1:]) != tuple(shape[1:]) or values.ndim != len(shape):
        return (
            f"data must have shape (k,) + {tuple(shape[1:])} for shape {shape}, "
            f"got {tuple(values.shape)}"
        )
    if values.shape[0] != indices.shape[0]:
        return f"data has {values.shape[0]} rows but indices has {indices.shape[0]} entries"
    if indices.shape[0] and not (bool(indices.min() >= 0) and bool(indices.max() < shape[0])):
        return f"indices must lie in [0, {shape[0]}), got {_preview(indices)}"
    return None


def _csr_problem(data, indices, indptr, shape):
    """Why the components are not a csr matrix of ``shape``, or None (ids may be unsorted)."""
    if len(shape) != 2:
        return f"a csr matrix must be 2-D, got shape {shape}"
    if data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1:
        return "data, indices and indptr must be 1-D"
    if data.shape[0] != indices.shape[0]:
        return f"data has {data.shape[0]} entries but indices has {indices.shape[0]}"
    if indptr.shape[0] != shape[0] + 1:
        return f"indptr must have {shape[0] + 1} entries for {shape[0]} rows, got {indptr.shape[0]}"
    if int(indptr[0]) != 0 or int(indptr[-1]) != data.shape[0]:
        return (
            f"indptr must start at 0 and end at the number of entries ({data.shape[0]}), "
            f"got {_preview(indptr)}"
        )
    if indptr.shape[0] > 1 and not bool((indptr[1:] >= indptr[:-1]).all()):
        return f"indptr must never decrease, got {_preview(indptr)}"
    if indices.shape[0] and not (bool(indices.min() >= 0) and bool(indices.max() < shape[1])):
        return f"column indices must lie in [0, {shape[1]}), got {_preview(indices)}"
    return None


def _preview(raw, limit=8):
    host = _backend.to_host(raw)
    text = ", ".join(str(v) for v in host[:limit].tolist())
    return f"[{text}{', ...' if host.shape[0] > limit else ''}]"


def _sorted_rsp(values, indices, what):
    """Sort rows by id (keeping each row with its id); reject repeated ids."""
    if not kern.is_strictly_increasing(indices):
        xp = _backend.xp_of(indices)
        order = xp.argsort(indices, kind="stable")
        indices, values = indices[order], values[order]
        if not kern.is_strictly_increasing(indices):
            raise ValueError(f"{what}: indices must not repeat, got {_preview(indices)}")
    return values, indices


def _sorted_csr(data, indices, indptr, shape, what):
    """Sort column ids within each row (keeping each value with its id); reject repeats."""
    keys = kern.csr_keys(indices, indptr, shape[1])
    if not kern.is_strictly_increasing(keys):
        xp = _backend.xp_of(keys)
        order = xp.argsort(keys, kind="stable")
        keys, data, indices = keys[order], data[order], indices[order]
        if not kern.is_strictly_increasing(keys):
            raise ValueError(f"{what}: a row must not repeat a column index")
    return data, indices, indptr


def check_parts(stype, parts, shape, what, full_check=True):
    """Raise ValueError if ``parts`` are not valid components of ``stype`` and ``shape``."""
    if stype == "row_sparse":
        problem = _rsp_problem(parts[0], parts[1], shape)
        if problem is None and full_check and not kern.is_strictly_increasing(parts[1]):
            problem = f"indices must be sorted and unique, got {_preview(parts[1])}"
    else:
        problem = _csr_problem(*parts, shape)
        if problem is None and full_check:
            keys = kern.csr_keys(parts[1], parts[2], shape[1])
            if not kern.is_strictly_increasing(keys):
                problem = "column indices must be sorted and unique within each row"
    if problem is not None:
        raise ValueError(f"{what}: invalid {stype} components: {problem}")


# --------------------------------------------------------------------------- row_sparse
def _shape_arg(shape, what):
    return None if shape is None else normalize_shape(shape, f"{what}: shape")


def _check_same_shape(given, expected, what):
    if expected is not None and tuple(given) != tuple(expected):
        raise ValueError(f"{what}: shape {expected} does not match the source's shape {given}")


def row_sparse_array(arg1, shape=None, ctx=None, dtype=None):
    """A :class:`RowSparseNDArray`, as MXNet's ``mx.nd.sparse.row_sparse_array``.

    Parameters
    ----------
    arg1 : tuple or array-like
        ``(data, indices)``: the stored rows and their row ids (unsorted ids are
        sorted with their rows; repeated ids raise ValueError); a shape tuple
        ``(d0, d1, ...)``: an empty array; a RowSparseNDArray or CSRNDArray: a
        copy; a dense NDArray, NumPy array or nested list: its non-zero rows.
    shape : tuple of int, optional
        The dense shape; inferred from ``(data, indices)`` as
        ``(max(indices) + 1,) + data.shape[1:]`` when omitted.
    ctx : Context, optional
        Default: the source's context if it is an NDArray, else the current context.
    dtype : str or numpy.dtype, optional
        Default: the source's dtype if it is an NDArray or a NumPy array, else float32.

    >>> import paramlab as mx
    >>> x = mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [3, 0]), shape=(4, 2))
    >>> x.indices.asnumpy().tolist(), x.data.asnumpy().tolist()
    ([0, 3], [[3.0, 4.0], [1.0, 2.0]])
    >>> x.dtype, x.indices.dtype
    (<class 'numpy.float32'>, <class 'numpy.int64'>)
    """
    what = "row_sparse_array"
    shape = _shape_arg(shape, what)
    if isinstance(arg1, tuple):
        if len(arg1) >= 2 and all(_is_int(d) for d in arg1):
            _check_same_shape(arg1, shape, what)
            return zeros("row_sparse", arg1, ctx, dtype)
        if len(arg1) != 2:
            raise ValueError(
                f"{what}: expected (data, indices) or a shape tuple, got a tuple of {len(arg1)}"
            )
        return _rsp_from_definition(arg1[0], arg1[1], shape, ctx, dtype)
    if isinstance(arg1, BaseSparseNDArray) or _is_external_sparse(arg1):
        src = arg1 if isinstance(arg1, NDArray) else csr_matrix(arg1, ctx=ctx, dtype=dtype)
        _check_same_shape(src.shape, shape, what)
        return _converted_copy(src, "row_sparse", _default_ctx(ctx, src), dtype)
    ctx = _default_ctx(ctx, arg1)
    dense = _raw_on(arg1, ctx, _source_dtype(arg1, dtype, what), what, "the source")
    if dense.ndim == 0:
        raise ValueError(f"{what}: a row_sparse array needs at least one dimension, got a scalar")
    _check_same_shape(dense.shape, shape, what)
    return RowSparseNDArray._wrap(dense, ctx)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _rsp_from_definition(data, indices, shape, ctx, dtype):
    what = "row_sparse_array"
    ctx = _default_ctx(ctx, data, indices)
    dt = _source_dtype(data, dtype, what)
    with _backend.device_scope(ctx):
        values = _raw_on(data, ctx, dt, what, "data", copy=True)
        idx = _index_array(indices, ctx, what, "indices")
        if values.ndim == 0:
            raise ValueError(f"{what}: data must have at least one dimension, got a scalar")
        if shape is None:
            rows = int(idx.max()) + 1 if idx.shape[0] else 0
            shape = (max(rows, 0), *values.shape[1:])
        problem = _rsp_problem(values, idx, shape)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")
        values, idx = _sorted_rsp(values, idx, what)
    return RowSparseNDArray._from_parts(ctx, shape, values, idx)


# --------------------------------------------------------------------------- csr
def csr_matrix(arg1, shape=None, ctx=None, dtype=None):
    """A :class:`CSRNDArray`, as MXNet's ``mx.nd.sparse.csr_matrix``.

    Parameters
    ----------
    arg1 : tuple, array-like or sparse matrix
        ``(data, indices, indptr)``: the CSR components (column ids may be
        unsorted within a row; repeats raise ValueError); ``(data, (row, col))``:
        COO entries, repeated positions summed; ``(M, N)``: an empty matrix; a
        CSRNDArray, RowSparseNDArray or SciPy/cupyx sparse matrix: a copy; a
        dense 2-D NDArray, NumPy array or nested list: its non-zero entries.
    shape : tuple of two ints, optional
        Inferred when omitted: ``(len(indptr) - 1, max(indices) + 1)``, or
        ``(max(row) + 1, max(col) + 1)`` for COO entries.
    ctx, dtype
        As for :func:`row_sparse_array`.

    >>> import paramlab as mx
    >>> m = mx.nd.sparse.csr_matrix(([5, 6], ([2, 0], [1, 1])), shape=(3, 2))
    >>> m.indptr.asnumpy().tolist(), m.indices.asnumpy().tolist(), m.data.asnumpy().tolist()
    ([0, 1, 1, 2], [1, 1], [6.0, 5.0])
    """
    what = "csr_matrix"
    shape = _shape_arg(shape, what)
    if isinstance(arg1, tuple):
        if len(arg1) == 2 and all(_is_int(d) for d in arg1):
            _check_same_shape(arg1, shape, what)
            return zeros("csr", arg1, ctx, dtype)
        if len(arg1) == 2 and isinstance(arg1[1], tuple) and len(arg1[1]) == 2:
            return _csr_from_coo(arg1[0], arg1[1][0], arg1[1][1], shape, ctx, dtype)
        if len(arg1) == 3:
            return _csr_from_definition(*arg1, shape, ctx, dtype)
        raise ValueError(
            f"{what}: expected (data, indices, indptr), (data, (row, col)) or (M, N), "
            f"got a tuple of {len(arg1)}"
        )
    if _is_external_sparse(arg1):
        return _csr_from_external(arg1, shape, ctx, dtype)
    if isinstance(arg1, BaseSparseNDArray):
        _check_same_shape(arg1.shape, shape, what)
        return _converted_copy(arg1, "csr", _default_ctx(ctx, arg1), dtype)
    ctx = _default_ctx(ctx, arg1)
    dense = _raw_on(arg1, ctx, _source_dtype(arg1, dtype, what), what, "the source")
    if dense.ndim != 2:
        raise ValueError(f"{what}: a csr matrix must be 2-D, got shape {tuple(dense.shape)}")
    _check_same_shape(dense.shape, shape, what)
    return CSRNDArray._wrap(dense, ctx)


def _csr_from_definition(data, indices, indptr, shape, ctx, dtype):
    what = "csr_matrix"
    ctx = _default_ctx(ctx, data, indices, indptr)
    dt = _source_dtype(data, dtype, what)
    with _backend.device_scope(ctx):
        values = _raw_on(data, ctx, dt, what, "data", copy=True)
        idx = _index_array(indices, ctx, what, "indices")
        ptr = _index_array(indptr, ctx, what, "indptr")
        if shape is None:
            cols = int(idx.max()) + 1 if idx.shape[0] else 0
            shape = (max(ptr.shape[0] - 1, 0), max(cols, 0))
        problem = _csr_problem(values, idx, ptr, shape)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")
        values, idx, ptr = _sorted_csr(values, idx, ptr, shape, what)
    return CSRNDArray._from_parts(ctx, shape, values, idx, ptr)


def _csr_from_coo(data, row, col, shape, ctx, dtype):
    what = "csr_matrix"
    ctx = _default_ctx(ctx, data, row, col)
    dt = _source_dtype(data, dtype, what)
    with _backend.device_scope(ctx):
        values = _raw_on(data, ctx, dt, what, "data")
        rows = _index_array(row, ctx, what, "row")
        cols = _index_array(col, ctx, what, "col")
        if values.ndim != 1 or not values.shape[0] == rows.shape[0] == cols.shape[0]:
            raise ValueError(
                f"{what}: data, row and col must be 1-D of one length, got shapes "
                f"{tuple(values.shape)}, {tuple(rows.shape)}, {tuple(cols.shape)}"
            )
        if shape is None:
            n = rows.shape[0]
            shape = (int(rows.max()) + 1 if n else 0, int(cols.max()) + 1 if n else 0)
        if len(shape) != 2:
            raise ValueError(f"{what}: a csr matrix must be 2-D, got shape {shape}")
        for name, ids, bound in (("row", rows, shape[0]), ("col", cols, shape[1])):
            if ids.shape[0] and not (bool(ids.min() >= 0) and bool(ids.max() < bound)):
                raise ValueError(
                    f"{what}: {name} ids must lie in [0, {bound}), got {_preview(ids)}"
                )
        parts = _coo_to_csr(values, rows, cols, shape)
    return CSRNDArray._from_parts(ctx, shape, *parts)


def _coo_to_csr(values, rows, cols, shape):
    """CSR components of COO entries; repeated positions are summed (as SciPy does)."""
    xp = _backend.xp_of(values)
    keys = rows * max(shape[1], 1) + cols
    order = xp.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    if not kern.is_strictly_increasing(keys):
        keys, inverse = xp.unique(keys, return_inverse=True)
        summed = xp.zeros(keys.shape, values.dtype)
        xp.add.at(summed, inverse.reshape(-1), values)
        values = summed
    return kern.csr_from_keys(values, keys.astype(kern.INDEX), shape)


def _csr_from_external(matrix, shape, ctx, dtype):
    what = "csr_matrix"
    matrix = matrix.tocsr(copy=True)
    matrix.sum_duplicates()  # also sorts the column ids of each row
    _check_same_shape(matrix.shape, shape, what)
    dt = _source_dtype(matrix.data, dtype, what)
    ctx = _default_ctx(ctx)
    with _backend.device_scope(ctx):
        parts = (
            _backend.to_context(matrix.data, ctx, dtype=dt),
            _backend.to_context(matrix.indices, ctx, dtype=kern.INDEX),
            _backend.to_context(matrix.indptr, ctx, dtype=kern.INDEX),
        )
    return CSRNDArray._from_parts(ctx, tuple(int(d) for d in matrix.shape), *parts)


# --------------------------------------------------------------------------- zeros and copies
@mxnet_keywords("name")
def zeros(stype, shape, ctx=None, dtype=None, **kwargs):
    """An all-zero array of storage type ``stype`` (no stored values for sparse types).

    >>> import paramlab as mx
    >>> z = mx.nd.sparse.zeros('row_sparse', (4, 3))
    >>> z.indices.shape, z.data.shape
    ((0,), (0, 3))
    >>> mx.nd.sparse.zeros('csr', (2, 3)).indptr.asnumpy().tolist()
    [0, 0, 0]
    """
    what = "sparse.zeros"
    _check_stype(stype, what)
    if stype == "default":
        from ..creation import zeros as dense_zeros

        return dense_zeros(shape, ctx=ctx, dtype=dtype)
    ctx = as_context(ctx, f"{what}: ctx")
    shape = normalize_shape(shape, what)
    dt = canonical(default_float if dtype is None else dtype, f"{what}: dtype")
    if stype == "row_sparse" and not shape:
        raise ValueError(f"{what}: a row_sparse array needs at least one dimension, got ()")
    if stype == "csr" and len(shape) != 2:
        raise ValueError(f"{what}: a csr matrix must be 2-D, got shape {shape}")
    xp = _backend.xp_for(ctx)
    with _backend.device_scope(ctx):
        if stype == "row_sparse":
            return RowSparseNDArray._from_parts(ctx, shape, *kern.empty_rows(xp, shape, dt))
        index = kern.INDEX
        parts = (xp.zeros((0,), dt), xp.zeros((0,), index), xp.zeros((shape[0] + 1,), index))
        return CSRNDArray._from_parts(ctx, shape, *parts)


def empty(stype, shape, ctx=None, dtype=None):
    """An array of storage type ``stype`` with no stored values (the same as :func:`zeros`)."""
    return zeros(stype, shape, ctx, dtype)


@mxnet_keywords("name")
def zeros_like(data, **kwargs):
    """Zeros with ``data``'s storage type, shape, dtype and context."""
    if not isinstance(data, NDArray):
        raise TypeError(f"zeros_like: expected an NDArray, got {type(data).__name__}")
    return zeros(data.stype, data.shape, data.context, data.dtype)


def array(source_array, ctx=None, dtype=None):
    """A sparse copy of a RowSparseNDArray, a CSRNDArray or a SciPy/cupyx sparse matrix.

    Dense sources raise TypeError, as in MXNet: use ``mx.nd.array(x).tostype(stype)``.
    """
    if isinstance(source_array, BaseSparseNDArray):
        return _converted_copy(
            source_array, source_array.stype, _default_ctx(ctx, source_array), dtype
        )
    if _is_external_sparse(source_array):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    raise TypeError(
        "sparse.array: expected a RowSparseNDArray, a CSRNDArray or a scipy.sparse matrix, "
        f"got {type(source_array).__name__}; for dense data use "
        "mx.nd.array(data).tostype('row_sparse') or .tostype('csr')"
    )


def _converted_copy(src, stype, ctx, dtype):
    """``src`` (an NDArray) as a new array of ``stype`` on ``ctx`` with ``dtype``."""
    moved = src.copyto(ctx) if src.context != ctx else src
    out = _convert(moved, stype)
    if dtype is not None:
        out = out.astype(dtype, copy=False)
    return out


# --------------------------------------------------------------------------- storage casts
def _convert(arr, stype):
    """A new array of ``stype`` with ``arr``'s values (same context); never recorded."""
    ctx = arr.context
    if stype == arr.stype:
        return arr.copy() if stype != "default" else type(arr)._wrap(arr._data.copy(), ctx)
    if stype == "default":
        return NDArray._wrap(arr._data, ctx)
    _check_convertible(arr, stype)
    with _backend.device_scope(ctx):
        if arr.stype == "default":
            return _CLASSES[stype]._wrap(arr._data, ctx)
        if stype == "csr":
            parts = kern.rsp_to_csr(arr._values, arr._indices, arr.shape)
        else:
            parts = kern.csr_to_rsp(arr._values, arr._indices, arr._indptr, arr.shape)
    return _CLASSES[stype]._from_parts(ctx, arr.shape, *parts)


def _check_convertible(arr, stype):
    if stype == "row_sparse" and arr.ndim == 0:
        raise ValueError("cast_storage: a row_sparse array needs at least one dimension, got ()")
    if stype == "csr" and arr.ndim != 2:
        raise ValueError(f"cast_storage: a csr matrix must be 2-D, got shape {arr.shape}")


def cast_storage(arr, stype):
    """``arr`` converted to storage type ``stype`` (always a new array, as in MXNet).

    A sparse array converted to ``'default'`` while autograd records it (and it
    is in a graph) is recorded, so gradients reach it; a conversion *to* a
    sparse type cannot be recorded and raises MXNetError in that situation.

    >>> import paramlab as mx
    >>> x = mx.nd.array([[0, 1], [0, 0], [2, 3]])
    >>> r = mx.nd.sparse.cast_storage(x, 'row_sparse')
    >>> r.indices.asnumpy().tolist()
    [0, 2]
    >>> r.tostype('default').asnumpy().tolist()
    [[0.0, 1.0], [0.0, 0.0], [2.0, 3.0]]
    """
    if not isinstance(arr, NDArray):
        raise TypeError(f"cast_storage: expected an NDArray, got {type(arr).__name__}")
    _check_stype(stype, "cast_storage")
    if recording_with(arr):
        if stype == "default":
            return apply(ew.Identity(), arr)
        raise MXNetError(
            f"cast_storage: autograd cannot record a conversion to {stype!r} storage of an "
            "array in a graph; convert outside autograd.record() or use dense storage"
        )
    return _convert(arr, stype)


# --------------------------------------------------------------------------- assignment
def parts_for_assign(target, value, what):
    """Components of ``value`` converted to ``target``'s storage type, shape and dtype."""
    dtype = target._values.dtype
    ctx = target.context
    with _backend.device_scope(ctx):
        if _is_scalar(value):
            dense = _backend.xp_for(ctx).full(target.shape, value, dtype)
            return _parts_of_dense(target, dense, fill_all=True)
        if isinstance(value, NDArray):
            if value.shape != target.shape:
                raise ValueError(
                    f"{what}: cannot assign a value of shape {value.shape} to a "
                    f"{type(target).__name__} of shape {target.shape}"
                )
            converted = _convert(value, target.stype)
            values, *aux = converted._parts()
            return (values.astype(dtype, copy=False), *aux)
        dense = _raw_on(value, ctx, dtype, what, "the value")
        if tuple(dense.shape) != target.shape:
            raise ValueError(
                f"{what}: cannot assign a value of shape {tuple(dense.shape)} to a "
                f"{type(target).__name__} of shape {target.shape}"
            )
        return _parts_of_dense(target, dense, fill_all=False)


def _parts_of_dense(target, dense, fill_all):
    """Components of a dense raw array; ``fill_all`` stores every row (MXNet's x[:] = scalar)."""
    if fill_all and target.stype == "row_sparse":
        xp = _backend.xp_of(dense)
        return dense, xp.arange(target.shape[0], dtype=kern.INDEX)
    return type(target)._parts_of_dense(dense)


# --------------------------------------------------------------------------- package-internal
def full_row_sparse(value, ctx=None):
    """A RowSparseNDArray storing every row of ``value`` (package-internal).

    MXNet initializes a row_sparse Parameter this way: all rows stored, zeros
    included. ``value`` is a dense NDArray (its context unless ``ctx``) or a raw
    array (``ctx`` required).
    """
    if isinstance(value, BaseSparseNDArray):
        value = value.tostype("default")
    if isinstance(value, NDArray):
        ctx = value.context if ctx is None else as_context(ctx, "full_row_sparse: ctx")
        raw = value._data if value.context == ctx else value.copyto(ctx)._data
    else:
        ctx = as_context(ctx, "full_row_sparse: ctx")
        raw = _backend.to_context(value, ctx)
    if raw.ndim == 0:
        raise ValueError("full_row_sparse: a row_sparse array needs at least one dimension")
    xp = _backend.xp_of(raw)
    with _backend.device_scope(ctx):
        rows = xp.arange(raw.shape[0], dtype=kern.INDEX)
        return RowSparseNDArray._from_parts(ctx, raw.shape, raw.copy(), rows)
