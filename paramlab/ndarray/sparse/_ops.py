"""Operations on sparse arrays: elementwise arithmetic, ``retain`` and ``dot``.

Where MXNet keeps a sparse result, so does paramlab:

=====================================  ============================================
operation                              result
=====================================  ============================================
``rsp * s``, ``rsp / s``, ``-rsp``     row_sparse, same stored rows
``rsp + rsp``, ``rsp - rsp``,          row_sparse on the union of the stored rows
``rsp * rsp``
``rsp * dense`` (same shape)           row_sparse, same stored rows
``csr`` likewise with ``csr``          csr
``dot(csr, dense)``                    dense
``dot(csr.T, dense)``                  row_sparse (rows: the columns ``csr`` uses)
``dot(dense, csr)``                    csr (``dot(dense, csr.T)``: dense)
=====================================  ============================================

Every other combination that MXNet computes (``rsp + 1``, ``rsp + dense``,
``rsp / rsp``, ``rsp + csr``, ...) gives MXNet's dense result by reading the
sparse operands' dense values (see the package docstring); ``dot(csr, csr)``
raises TypeError. While autograd records an array in a graph, results are dense
so that gradients flow. ``dot`` differentiates with respect to its dense operand;
a csr operand is a constant.
"""

from __future__ import annotations

import numbers

import numpy as np

from ... import _backend
from ..._autograd import Function, apply
from ...base import ContextMismatchError, MXNetError
from ...ops import linalg
from ..ndarray import NDArray
from . import _kernels as kern
from ._arrays import CSRNDArray, RowSparseNDArray, recording_with

__all__ = [
    "elementwise",
    "negative",
    "negate",
    "retain",
    "dot",
    "add",
    "subtract",
    "multiply",
    "divide",
    "elemwise_add",
    "elemwise_sub",
    "elemwise_mul",
]

_DUNDERS = {
    "add": ("__add__", "__radd__"),
    "sub": ("__sub__", "__rsub__"),
    "mul": ("__mul__", "__rmul__"),
    "div": ("__truediv__", "__rtruediv__"),
}


def _is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _same_context(what, *arrays):
    ctx = arrays[0].context
    for a in arrays[1:]:
        if a.context != ctx:
            raise ContextMismatchError(
                f"{what}: operands live on different contexts: {ctx} and {a.context}; "
                "move one with .copyto(ctx) or .as_in_context(ctx) first"
            )
    return ctx


# --------------------------------------------------------------------------- elementwise
def _dense_fallback(op, x, other, reflected):
    """MXNet's dense result, computed (and recorded) on the dense values."""
    return getattr(NDArray, _DUNDERS[op][1 if reflected else 0])(x, other)


def _on_values(x, values):
    """An array like ``x`` (same stored positions) holding ``values``."""
    _, *aux = x._parts()
    return x._from_parts(x._ctx, x.shape, values, *(a.copy() for a in aux))


def _combine(op, a, b, ctx):
    """``a op b`` on raw arrays with NDArray's dtype rules (no recording)."""
    left, right = NDArray._wrap(a, ctx), b if _is_scalar(b) else NDArray._wrap(b, ctx)
    return getattr(NDArray, _DUNDERS[op][0])(left, right)._data


def elementwise(op, x, other, reflected=False):
    """``x op other`` (``other op x`` when ``reflected``) for a sparse ``x``.

    ``op`` is ``'add'``, ``'sub'``, ``'mul'`` or ``'div'``.
    """
    if recording_with(x, other):
        return _dense_fallback(op, x, other, reflected)
    if _is_scalar(other):
        if op == "mul" or (op == "div" and not reflected):
            with _backend.device_scope(x._ctx):
                return _on_values(x, _combine(op, x._values, other, x._ctx))
        return _dense_fallback(op, x, other, reflected)
    if not isinstance(other, NDArray) or other.shape != x.shape:
        return _dense_fallback(op, x, other, reflected)
    ctx = _same_context(op, x, other)
    if other.stype == x.stype and op != "div" and other.dtype == x.dtype:
        with _backend.device_scope(ctx):
            return _sparse_sparse(op, x, other, reflected)
    if other.stype == "default" and op == "mul" and not reflected:  # MXNet: dense * rsp is dense
        with _backend.device_scope(ctx):
            return _on_values(x, _combine("mul", x._values, _gather(x, other._data), ctx))
    return _dense_fallback(op, x, other, reflected)


def _gather(x, dense):
    if isinstance(x, RowSparseNDArray):
        return kern.rsp_gather(dense, x._indices)
    return kern.csr_gather(dense, x._indices, x._indptr)


def _sparse_sparse(op, x, y, reflected):
    """Two arrays of one sparse type: the op on the union of their stored positions."""
    if reflected:
        x, y = y, x
    if isinstance(x, RowSparseNDArray):
        union = kern.rows_union(x._indices, y._indices)
        a = kern.rsp_expand(x._values, x._indices, union)
        b = kern.rsp_expand(y._values, y._indices, union)
        return RowSparseNDArray._from_parts(x._ctx, x.shape, _combine(op, a, b, x._ctx), union)
    kx, ky = x._keys(), y._keys()
    union = kern.rows_union(kx, ky)
    a, b = kern.csr_expand(x._values, kx, union), kern.csr_expand(y._values, ky, union)
    parts = kern.csr_from_keys(_combine(op, a, b, x._ctx), union, x.shape)
    return CSRNDArray._from_parts(x._ctx, x.shape, *parts)


def negative(data):
    """``-data``, keeping its storage type."""
    return -data


def negate(x):
    """``-x`` for a sparse ``x``, keeping its storage type."""
    if recording_with(x):
        return NDArray.__neg__(x)
    with _backend.device_scope(x._ctx):
        return _on_values(x, (-NDArray._wrap(x._values, x._ctx))._data)


def add(lhs, rhs):
    """``lhs + rhs`` (see the table in this module's docstring for the storage type)."""
    return lhs + rhs


def subtract(lhs, rhs):
    """``lhs - rhs``."""
    return lhs - rhs


def multiply(lhs, rhs):
    """``lhs * rhs``."""
    return lhs * rhs


def divide(lhs, rhs):
    """``lhs / rhs``."""
    return lhs / rhs


def _same_shape(what, lhs, rhs):
    for x in (lhs, rhs):
        if not isinstance(x, NDArray):
            raise TypeError(f"{what}: expected NDArrays, got {type(x).__name__}")
    if lhs.shape != rhs.shape:
        raise ValueError(f"{what}: shapes {lhs.shape} and {rhs.shape} differ")


def elemwise_add(lhs, rhs):
    """``lhs + rhs`` for arrays of one shape."""
    _same_shape("elemwise_add", lhs, rhs)
    return lhs + rhs


def elemwise_sub(lhs, rhs):
    """``lhs - rhs`` for arrays of one shape."""
    _same_shape("elemwise_sub", lhs, rhs)
    return lhs - rhs


def elemwise_mul(lhs, rhs):
    """``lhs * rhs`` for arrays of one shape."""
    _same_shape("elemwise_mul", lhs, rhs)
    return lhs * rhs


# --------------------------------------------------------------------------- retain
def retain(data, indices):
    """A row_sparse array holding exactly the rows ``indices`` of ``data``.

    ``indices`` (an NDArray on ``data``'s context, a list or a NumPy array) is
    sorted and its repeats dropped; requested rows that ``data`` does not store
    are stored as zeros (MXNet's ``sparse.retain``).

    >>> import paramlab as mx
    >>> x = mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 3]), shape=(5, 2))
    >>> r = mx.nd.sparse.retain(x, mx.nd.array([3, 0, 3]))
    >>> r.indices.asnumpy().tolist(), r.data.asnumpy().tolist()
    ([0, 3], [[0.0, 0.0], [3.0, 4.0]])
    """
    from ._creation import _index_array, _preview

    if not isinstance(data, RowSparseNDArray):
        stype = data.stype if isinstance(data, NDArray) else type(data).__name__
        raise TypeError(f"retain: expected a RowSparseNDArray, got {stype!r}")
    if isinstance(indices, NDArray):
        _same_context("retain", data, indices)
    if recording_with(data):
        raise MXNetError("retain: autograd cannot record retain on an array in a graph")
    ctx = data.context
    with _backend.device_scope(ctx):
        ids = _index_array(indices, ctx, "retain", "indices")
        rows = data.shape[0]
        if ids.shape[0] and not (bool(ids.min() >= 0) and bool(ids.max() < rows)):
            raise IndexError(f"retain: row ids must lie in [0, {rows}), got {_preview(ids)}")
        wanted = _backend.xp_of(ids).unique(ids).astype(kern.INDEX)
        parts = kern.rsp_retain(data._values, data._indices, wanted)
    return RowSparseNDArray._from_parts(ctx, data.shape, *parts)


# --------------------------------------------------------------------------- dot
class CSRDot(Function):
    """``op(A) @ b`` (``csr_left``) or ``b @ op(A)`` for a constant csr matrix ``A``."""

    def __init__(self, csr, transpose, csr_left):
        self.parts = csr._parts()
        self.shape = csr.shape
        self.ctx = csr.context
        self.transpose, self.csr_left = transpose, csr_left

    def _matmul(self, dense, transpose):
        with _backend.device_scope(self.ctx):
            sm = _backend.sparse_module(self.ctx)
            return kern.csr_matmul(sm, *self.parts, self.shape, dense, transpose)

    def forward(self, b):
        if self.csr_left:
            return self._matmul(b, self.transpose)
        return _backend.xp_of(b).ascontiguousarray(self._matmul(b.T, not self.transpose).T)

    def backward(self, g):
        if self.csr_left:
            return (self._matmul(g, not self.transpose),)
        return (_backend.xp_of(g).ascontiguousarray(self._matmul(g.T, self.transpose).T),)


def dot(lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """Matrix product with sparse operands (MXNet's ``mx.nd.sparse.dot``).

    Supports ``csr`` with a dense or row_sparse matrix on either side, and any
    pair of dense / row_sparse arrays. Result storage types follow MXNet (see
    this module's docstring); ``forward_stype`` converts the result.

    >>> import paramlab as mx
    >>> a = mx.nd.sparse.csr_matrix(([1, 2, 3], [0, 2, 1], [0, 2, 2, 3]), shape=(3, 3))
    >>> mx.nd.sparse.dot(a, mx.nd.ones((3, 2))).asnumpy().tolist()
    [[3.0, 3.0], [0.0, 0.0], [3.0, 3.0]]
    >>> mx.nd.sparse.dot(a, mx.nd.ones((3, 2)), transpose_a=True).stype
    'row_sparse'
    """
    from ..creation import _check_dot

    _check_dot(lhs, rhs, transpose_a, transpose_b, "dot")
    if lhs.stype == "csr" and rhs.stype == "csr":
        raise TypeError(
            "dot: storage types ('csr', 'csr') are not supported; convert one operand "
            "with .tostype('default')"
        )
    if "csr" not in (lhs.stype, rhs.stype):
        out = apply(linalg.Dot(transpose_a, transpose_b), lhs, rhs)
        if out.ndim == 0:  # MXNet 1.x: a 1-D dot has shape (1,)
            out = out.reshape((1,))
    else:
        out = _csr_dot(lhs, rhs, transpose_a, transpose_b)
    if forward_stype is not None and out.stype != forward_stype:
        from ._creation import cast_storage

        out = cast_storage(out, forward_stype)
    return out


def _csr_dot(lhs, rhs, ta, tb):
    ctx = _same_context("dot", lhs, rhs)
    csr_left = lhs.stype == "csr"
    csr, dense = (lhs, rhs) if csr_left else (rhs, lhs)
    if csr.ndim != 2 or dense.ndim != 2:
        raise ValueError(
            f"dot: a csr operand needs a 2-D partner, got shapes {lhs.shape} and {rhs.shape}"
        )
    if csr.dtype != dense.dtype:
        raise TypeError(
            f"dot: operands must share a dtype, got {np.dtype(lhs.dtype).name} and "
            f"{np.dtype(rhs.dtype).name}"
        )
    if recording_with(csr):
        raise MXNetError(
            "dot: gradients with respect to a csr operand are not supported; "
            "use a dense or row_sparse operand for the variable"
        )
    transpose_dense = tb if csr_left else ta
    if transpose_dense:
        dense = dense.T
    transpose = ta if csr_left else tb
    out = apply(CSRDot(csr, transpose, csr_left), dense, out_cls=NDArray)
    if recording_with(dense):
        return out
    if csr_left and transpose:
        with _backend.device_scope(ctx):
            rows = _backend.xp_of(csr._indices).unique(csr._indices).astype(kern.INDEX)
            return RowSparseNDArray._from_parts(ctx, out.shape, out._data[rows], rows)
    if not csr_left and not transpose:
        return CSRNDArray._wrap(out._data, ctx)
    return out
