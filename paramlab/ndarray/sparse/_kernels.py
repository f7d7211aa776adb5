"""Raw-array kernels for sparse storage, written once with ``xp`` (NumPy or CuPy).

Every function takes and returns raw arrays (no NDArrays, no contexts) and
allocates with the array module of its inputs; callers run it inside
``_backend.device_scope(ctx)`` so that CuPy allocates on the right GPU.

Conventions: a row_sparse value is ``(values, indices)`` with ``indices`` sorted,
unique, int64; a csr value is ``(data, indices, indptr)`` with int64 ``indices``
(column ids, sorted within each row) and int64 ``indptr``. Only the 2-D matrix
product goes through the backend's sparse module (SciPy / cupyx).
"""

from __future__ import annotations

import math

import numpy as np

from ... import _backend

__all__ = [
    "INDEX",
    "row_block",
    "empty_rows",
    "dense_to_rsp",
    "rsp_to_dense",
    "dense_to_csr",
    "csr_rows",
    "csr_to_dense",
    "rsp_to_csr",
    "csr_to_rsp",
    "rows_union",
    "rsp_expand",
    "rsp_gather",
    "rsp_retain",
    "csr_keys",
    "csr_from_keys",
    "csr_expand",
    "csr_gather",
    "csr_row_slice",
    "csr_matmul",
    "is_strictly_increasing",
]

INDEX = np.dtype(np.int64)
"""The dtype of every index array (MXNet reports int64)."""

_SPARSE_MATMUL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def row_block(shape) -> int:
    """The number of elements in one row (the product of ``shape[1:]``)."""
    return math.prod(shape[1:])


def empty_rows(xp, shape, dtype):
    """Components of a row_sparse array with no stored rows."""
    return xp.zeros((0, *shape[1:]), dtype), xp.zeros((0,), INDEX)


def is_strictly_increasing(a) -> bool:
    """Whether a 1-D array is sorted with no repeats."""
    return a.shape[0] < 2 or bool((a[1:] > a[:-1]).all())


# --------------------------------------------------------------------------- conversions
def dense_to_rsp(dense):
    """The rows of ``dense`` holding a non-zero value (NaN counts as non-zero)."""
    xp = _backend.xp_of(dense)
    n = dense.shape[0]
    flat = dense.reshape(n, row_block(dense.shape))
    keep = (flat != 0).any(axis=1)
    indices = xp.nonzero(keep)[0].astype(INDEX)
    return dense[indices], indices


def rsp_to_dense(values, indices, shape):
    """The dense array of ``shape`` with ``values`` at rows ``indices``."""
    xp = _backend.xp_of(values)
    out = xp.zeros(shape, values.dtype)
    out[indices] = values
    return out


def dense_to_csr(dense):
    """CSR components of the non-zero entries of a 2-D array, in row-major order."""
    xp = _backend.xp_of(dense)
    rows, cols = xp.nonzero(dense)
    data = dense[rows, cols]
    indptr = xp.searchsorted(rows, xp.arange(dense.shape[0] + 1), side="left")
    return data, cols.astype(INDEX), indptr.astype(INDEX)


def csr_rows(indptr, nnz):
    """The row id of each stored entry (``indptr`` must be valid)."""
    xp = _backend.xp_of(indptr)
    return xp.searchsorted(indptr[1:], xp.arange(nnz), side="right").astype(INDEX)


def csr_to_dense(data, indices, indptr, shape):
    """The dense 2-D array of a CSR value."""
    xp = _backend.xp_of(data)
    out = xp.zeros(shape, data.dtype)
    out[csr_rows(indptr, data.shape[0]), indices] = data
    return out


def rsp_to_csr(values, indices, shape):
    """CSR components of a 2-D row_sparse value (its non-zero entries)."""
    xp = _backend.xp_of(values)
    r, cols = xp.nonzero(values)
    rows = indices[r]
    indptr = xp.searchsorted(rows, xp.arange(shape[0] + 1), side="left")
    return values[r, cols], cols.astype(INDEX), indptr.astype(INDEX)


def csr_to_rsp(data, indices, indptr, shape):
    """Row_sparse components of a CSR value: every row with a stored entry."""
    xp = _backend.xp_of(data)
    row_ids = xp.nonzero(indptr[1:] - indptr[:-1])[0].astype(INDEX)
    values = xp.zeros((row_ids.shape[0], shape[1]), data.dtype)
    rows = csr_rows(indptr, data.shape[0])
    values[xp.searchsorted(row_ids, rows), indices] = data
    return values, row_ids


# --------------------------------------------------------------------------- row_sparse
def rows_union(*index_arrays):
    """The sorted union of several sorted unique index arrays."""
    xp = _backend.xp_of(index_arrays[0])
    return xp.unique(xp.concatenate(index_arrays)).astype(INDEX)


def rsp_expand(values, indices, union):
    """``values`` laid out over the rows ``union`` (a superset of ``indices``), zeros elsewhere."""
    xp = _backend.xp_of(values)
    out = xp.zeros((union.shape[0], *values.shape[1:]), values.dtype)
    out[xp.searchsorted(union, indices)] = values
    return out


def rsp_gather(dense, indices):
    """The rows ``indices`` of a dense array."""
    return dense[indices]


def rsp_retain(values, indices, wanted):
    """Rows ``wanted`` (sorted, unique) of a row_sparse value; absent rows read as zeros."""
    xp = _backend.xp_of(values)
    out = xp.zeros((wanted.shape[0], *values.shape[1:]), values.dtype)
    if indices.shape[0] and wanted.shape[0]:
        pos = xp.minimum(xp.searchsorted(indices, wanted), indices.shape[0] - 1)
        hit = indices[pos] == wanted
        out[hit] = values[pos[hit]]
    return out, wanted.astype(INDEX, copy=True)


# --------------------------------------------------------------------------- csr
def csr_keys(indices, indptr, ncols):
    """One sortable key per stored entry: ``row * ncols + col``."""
    return csr_rows(indptr, indices.shape[0]) * ncols + indices


def csr_from_keys(data, keys, shape):
    """CSR components from entries given by sorted unique keys."""
    xp = _backend.xp_of(data)
    ncols = max(shape[1], 1)
    rows, cols = keys // ncols, keys % ncols
    indptr = xp.searchsorted(rows, xp.arange(shape[0] + 1), side="left")
    return data, cols.astype(INDEX), indptr.astype(INDEX)


def csr_expand(data, keys, union):
    """``data`` laid out over the entries ``union`` (a superset of ``keys``), zeros elsewhere."""
    xp = _backend.xp_of(data)
    out = xp.zeros(union.shape, data.dtype)
    out[xp.searchsorted(union, keys)] = data
    return out


def csr_gather(dense, indices, indptr):
    """The entries of a dense 2-D array at a CSR value's stored positions."""
    return dense[csr_rows(indptr, indices.shape[0]), indices]


def csr_row_slice(data, indices, indptr, start, stop):
    """CSR components of rows ``start:stop`` (``0 <= start <= stop <= rows``)."""
    lo, hi = int(indptr[start]), int(indptr[stop])
    return (
        data[lo:hi].copy(),
        indices[lo:hi].copy(),
        (indptr[start : stop + 1] - lo).astype(INDEX),
    )


def csr_matmul(sparse_module, data, indices, indptr, shape, dense, transpose):
    """``op(A) @ dense`` for the CSR matrix ``A`` (``op`` transposes when asked).

    ``sparse_module`` is SciPy's or cupyx's (from ``_backend.sparse_module``).
    Both multiply float32 and float64 only; other dtypes are computed in float64
    and cast back, which is exact for integers below 2**53.
    """
    xp = _backend.xp_of(dense)
    dtype = data.dtype
    work = dtype if dtype in _SPARSE_MATMUL_DTYPES else np.dtype(np.float64)
    small = max(shape + (data.shape[0],)) < 2**31 - 1
    index_dtype = np.int32 if small else INDEX
    matrix = sparse_module.csr_matrix(
        (data.astype(work, copy=False), indices.astype(index_dtype), indptr.astype(index_dtype)),
        shape=shape,
    )
    if transpose:
        matrix = matrix.T
    out = matrix @ xp.ascontiguousarray(dense.astype(work, copy=False))
    return xp.ascontiguousarray(xp.asarray(out).astype(dtype, copy=False))
