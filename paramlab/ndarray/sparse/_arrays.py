"""The sparse NDArray classes: ``RowSparseNDArray`` and ``CSRNDArray``.

A sparse array keeps only its components, as raw arrays on its context:
``_values`` (the stored rows, or the stored entries of a csr matrix), ``_indices``
and, for csr, ``_indptr``; plus its dense ``_shape``. See the package docstring
for what ``_data`` means on these classes (a dense read-only fallback).

Every in-place change replaces the component arrays instead of writing into
them, so a :meth:`~BaseSparseNDArray.detach` view that shares them never sees
a half-applied update.
"""

from __future__ import annotations

import math

import numpy as np

from ... import _backend
from ..._autograd import is_recording
from ..._dtypes import canonical
from ...base import ContextMismatchError
from ...context import Context, as_context
from ...ops import elementwise as ew
from ...ops.sparse_grad import RowSparseGrad
from ..ndarray import NDArray
from . import _kernels as kern

__all__ = ["BaseSparseNDArray", "RowSparseNDArray", "CSRNDArray"]

_INPLACE_OPS = {ew.Add: "add", ew.Subtract: "sub", ew.Multiply: "mul", ew.Divide: "div"}


class BaseSparseNDArray(NDArray):
    """What the sparse arrays share (MXNet's ``mx.nd.sparse.BaseSparseNDArray``).

    Not constructed directly: use :func:`~paramlab.ndarray.sparse.row_sparse_array`,
    :func:`~paramlab.ndarray.sparse.csr_matrix`, :func:`~paramlab.ndarray.sparse.zeros`
    or ``NDArray.tostype``.
    """

    __slots__ = ("_indices", "_shape", "_values")
    _stype = ""
    _result_cls = NDArray  # operations that fall back to dense storage give NDArrays

    def __init__(self, *args, **kwargs):
        raise TypeError(
            f"{type(self).__name__} cannot be constructed directly; use "
            "mx.nd.sparse.row_sparse_array(...), mx.nd.sparse.csr_matrix(...), "
            "mx.nd.sparse.zeros(stype, shape) or array.tostype(stype)"
        )

    # ------------------------------------------------------------------ construction
    @classmethod
    def _from_parts(cls, ctx, shape, values, *aux):
        """A new array from trusted components (already validated, on ``ctx``)."""
        out = cls.__new__(cls)
        NDArray.__init__(out, None, ctx)
        out._shape = tuple(int(d) for d in shape)
        out._set_parts(values, *aux)
        return out

    @classmethod
    def _wrap(cls, raw, ctx, node=None, index=0):
        """Convert a dense raw array to this storage type (no graph: ``node`` must be None)."""
        if node is not None:
            raise TypeError(
                f"an operation cannot produce a {cls.__name__} while autograd records it; "
                "its result is dense"
            )
        with _backend.device_scope(ctx):
            return cls._from_parts(ctx, raw.shape, *cls._parts_of_dense(raw))

    def _set_parts(self, values, *aux):
        raise NotImplementedError

    def _parts(self) -> tuple:
        """The components: ``(values, indices)`` or ``(values, indices, indptr)``."""
        raise NotImplementedError

    @classmethod
    def _parts_of_dense(cls, dense) -> tuple:
        raise NotImplementedError

    def _dense_raw(self):
        """A new dense raw array of the values, on this array's context."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the dense fallback
    @property
    def _data(self):
        """A new dense raw array of the values: MXNet's "storage fallback".

        Operations that have no sparse implementation read ``_data`` and so see
        the dense value, exactly as MXNet densifies sparse inputs. Writing into
        the returned array changes nothing; every write goes through
        ``__setitem__``, ``copyto``, ``_receive_grad`` or the in-place operators.
        """
        with _backend.device_scope(self._ctx):
            return self._dense_raw()

    @_data.setter
    def _data(self, value):
        if value is not None:  # NDArray.__init__ stores None; nothing else may
            raise TypeError(
                f"{type(self).__name__} has no dense buffer to replace; assign with x[:] = value"
            )

    # ------------------------------------------------------------------ attributes
    @property
    def stype(self) -> str:
        """The storage type: ``'row_sparse'`` or ``'csr'``."""
        return self._stype

    @property
    def shape(self) -> tuple:
        """The dense shape."""
        return self._shape

    @property
    def dtype(self):
        """The element type of the stored values (a NumPy type such as ``numpy.float32``)."""
        return self._values.dtype.type

    @property
    def size(self) -> int:
        """The number of elements of the dense shape (MXNet raises NotImplementedError)."""
        return math.prod(self._shape)

    @property
    def ndim(self) -> int:
        """The number of dimensions of the dense shape."""
        return len(self._shape)

    @property
    def data(self) -> NDArray:
        """A dense copy of the stored values (MXNet's ``.data``), on the same context."""
        return NDArray._wrap(self._values.copy(), self._ctx)

    @property
    def indices(self) -> NDArray:
        """A dense int64 copy of the index array, on the same context."""
        return NDArray._wrap(self._indices.copy(), self._ctx)

    def _nnz_rows(self) -> int:
        return int(self._values.shape[0])

    # ------------------------------------------------------------------ conversion
    def asnumpy(self) -> np.ndarray:
        """The dense values as a NumPy array (the components are read to the host)."""
        host = [_backend.to_host(p) for p in self._parts()]
        return type(self)._dense_from(host, self._shape)

    @classmethod
    def _dense_from(cls, parts, shape):
        raise NotImplementedError

    def __array__(self, dtype=None, copy=None):
        if self._ctx.device_type == "gpu":
            raise TypeError(
                f"implicit conversion of a {type(self).__name__} on {self._ctx} to NumPy is not "
                "allowed; call .asnumpy() to copy it to the host explicitly"
            )
        host = self.asnumpy()
        return host if dtype is None else host.astype(dtype, copy=False)

    def __repr__(self):
        shape_info = "x".join(str(n) for n in self._shape)
        return f"\n<{type(self).__name__} {shape_info} @{self._ctx}>"

    __str__ = __repr__

    def __reduce__(self):
        host = tuple(_backend.to_host(p).copy() for p in self._parts())
        return (_rebuild, (type(self), host, self._shape, self._ctx))

    def wait_to_read(self):
        """Wait until the values are computed (operations are synchronous here)."""
        if self._ctx.device_type == "gpu":
            with _backend.device_scope(self._ctx):
                _backend.xp_of(self._values).cuda.get_current_stream().synchronize()

    wait_to_write = wait_to_read

    def as_nd_ndarray(self):
        """This array itself (sparse arrays are 1.x NDArrays)."""
        return self

    def check_format(self, full_check=True):
        """Raise ValueError if the components are not a valid array of this type."""
        from ._creation import check_parts

        check_parts(self._stype, self._parts(), self._shape, f"{type(self).__name__}", full_check)

    # ------------------------------------------------------------------ copies and contexts
    def copy(self):
        """A new array with copies of the components, on the same context."""
        return self._from_parts(self._ctx, self._shape, *(p.copy() for p in self._parts()))

    def detach(self):
        """The same array cut from the graph (shares the components)."""
        return self._from_parts(self._ctx, self._shape, *self._parts())

    def _moved(self, ctx):
        parts = (_backend.copy_to_context(p, self._ctx, ctx) for p in self._parts())
        return self._from_parts(ctx, self._shape, *parts)

    def copyto(self, other):
        """Copy to a context (a new array) or into an existing NDArray of any storage type."""
        if isinstance(other, Context):
            if other == self._ctx:
                return self.copy()
            _backend.check_device(other)
            return self._moved(other)
        if not isinstance(other, NDArray):
            raise TypeError(f"copyto: expected a Context or an NDArray, got {type(other).__name__}")
        if other is self:
            return other
        if other.shape != self._shape:
            raise ValueError(
                f"copyto: target shape {other.shape} does not match source shape {self._shape}"
            )
        if other.stype != "default":
            return other._copy_from(self)
        other._check_write()
        _backend.copy_into(other._data, self._data, other._ctx, self._ctx)
        other._bump()
        return other

    def _copy_from(self, src):
        """Write ``src`` (any NDArray of this shape, on any context) into this array."""
        if src.shape != self._shape:
            raise ValueError(
                f"copyto: target shape {self._shape} does not match source shape {src.shape}"
            )
        self._check_write()
        if src._ctx != self._ctx:
            src = src.copyto(self._ctx)
        return self._assign(src, "copyto")

    def as_in_context(self, context):
        """This array if it already lives on ``context``, else a copy there."""
        context = as_context(context, "as_in_context")
        return self if context == self._ctx else self.copyto(context)

    as_in_ctx = as_in_context
    to_device = as_in_context

    def astype(self, dtype, copy=True):
        """The values converted to ``dtype``, same storage type (``self`` if unchanged and not
        ``copy``)."""
        dt = canonical(dtype, "astype")
        if not copy and dt == self._values.dtype:
            return self
        values, *aux = self._parts()
        with _backend.device_scope(self._ctx):
            return self._from_parts(
                self._ctx, self._shape, values.astype(dt), *(a.copy() for a in aux)
            )

    def zeros_like(self):
        """Zeros with this array's storage type, shape, dtype and context (no stored values)."""
        from ._creation import zeros

        return zeros(self._stype, self._shape, self._ctx, self._values.dtype)

    def reshape(self, *shape, **kwargs):
        """Not supported for sparse arrays (as in MXNet): TypeError."""
        raise TypeError(
            f"reshape is not supported for {type(self).__name__} (stype {self._stype!r}); "
            "convert it first with .tostype('default')"
        )

    # ------------------------------------------------------------------ autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Attach a zero gradient buffer; its storage type is ``stype`` or this array's."""
        from ._creation import zeros

        if grad_req not in ("write", "add", "null"):
            raise ValueError(
                f"attach_grad: grad_req must be 'write', 'add' or 'null', got {grad_req!r}"
            )
        if grad_req == "null":
            self._grad, self._grad_req = None, "null"
            return
        grad = zeros(stype or self._stype, self._shape, self._ctx, self._values.dtype)
        self._grad, self._grad_req = grad, grad_req
        self._node = None

    def _receive_grad(self, total, grad_req):
        """Take a backward pass's gradient (a dense raw array or a ``RowSparseGrad``)."""
        if grad_req not in ("write", "add"):
            raise ValueError(
                f"{type(self).__name__}._receive_grad: grad_req must be 'write' or 'add', "
                f"got {grad_req!r}"
            )
        shape = tuple(total.shape)
        if shape != self._shape:
            raise ValueError(
                f"{type(self).__name__}._receive_grad: gradient shape {shape} does not match "
                f"the buffer's shape {self._shape}"
            )
        with _backend.device_scope(self._ctx):
            parts = self._parts_of_grad(total)
            if grad_req == "add":
                parts = self._merged(parts)
        self._set_parts(*parts)
        self._fresh_grad = True
        self._bump()

    def _parts_of_grad(self, total) -> tuple:
        raise NotImplementedError

    def _merged(self, parts) -> tuple:
        """This array's components plus ``parts`` (same storage type and shape)."""
        raise NotImplementedError

    def _zero_grad(self):
        """Empty this array in place (no stored values): MXNet's ``zero_grad`` for sparse
        gradients. Package-internal; ``zero()`` is the same."""
        with _backend.device_scope(self._ctx):
            parts = self._empty_parts(_backend.xp_of(self._values))
        self._set_parts(*parts)
        self._bump()

    def zero(self):
        """Empty this array in place (no stored values; a paramlab extension)."""
        self._zero_grad()

    def _empty_parts(self, xp) -> tuple:
        raise NotImplementedError

    # ------------------------------------------------------------------ writes
    def __setitem__(self, key, value):
        if not (isinstance(key, slice) and key == slice(None)):
            raise ValueError(
                f"{type(self).__name__} supports only x[:] = value for assignment, got key {key!r}"
            )
        self._check_write()
        if isinstance(value, NDArray) and value._ctx != self._ctx:
            raise ContextMismatchError(
                f"setitem: the value lives on {value._ctx} but the array on {self._ctx}; "
                f"copy it first with .copyto({self._ctx})"
            )
        self._assign(value, "setitem")

    def _assign(self, value, what):
        """Replace the components by ``value`` converted to this storage type and dtype.

        ``value``: an NDArray of any storage type on this context, a scalar, or
        array-like data of this shape. Validates everything before changing anything.
        """
        from ._creation import parts_for_assign

        parts = parts_for_assign(self, value, what)
        self._check_write()
        self._set_parts(*parts)
        self._bump()
        return self

    def _inplace(self, fn_cls, other, what):
        from . import _ops

        self._check_write()
        if fn_cls not in _INPLACE_OPS:
            raise TypeError(f"{what} is not supported for {type(self).__name__}")
        result = _ops.elementwise(_INPLACE_OPS[fn_cls], self, other)
        if result.shape != self._shape:
            raise ValueError(f"{what}: result shape {result.shape} != {self._shape}")
        return self._assign(result, what)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, o):
        from . import _ops

        return _ops.elementwise("add", self, o)

    def __radd__(self, o):
        from . import _ops

        return _ops.elementwise("add", self, o, reflected=True)

    def __sub__(self, o):
        from . import _ops

        return _ops.elementwise("sub", self, o)

    def __rsub__(self, o):
        from . import _ops

        return _ops.elementwise("sub", self, o, reflected=True)

    def __mul__(self, o):
        from . import _ops

        return _ops.elementwise("mul", self, o)

    def __rmul__(self, o):
        from . import _ops

        return _ops.elementwise("mul", self, o, reflected=True)

    def __truediv__(self, o):
        from . import _ops

        return _ops.elementwise("div", self, o)

    def __rtruediv__(self, o):
        from . import _ops

        return _ops.elementwise("div", self, o, reflected=True)

    def __neg__(self):
        from . import _ops

        return _ops.negate(self)

    __hash__ = NDArray.__hash__

    def dot(self, other, transpose_a=False, transpose_b=False):
        """Matrix product (see :func:`paramlab.ndarray.sparse.dot`)."""
        from ._ops import dot

        return dot(self, other, transpose_a, transpose_b)


class RowSparseNDArray(BaseSparseNDArray):
    """An array of which only some rows are stored (MXNet's ``RowSparseNDArray``).

    ``data`` holds the stored rows, shape ``(k,) + shape[1:]``; ``indices`` their
    sorted, unique int64 row ids. Every other row reads as zero.

    >>> import paramlab as mx
    >>> x = mx.nd.sparse.row_sparse_array(([[1, 2], [3, 4]], [1, 3]), shape=(5, 2))
    >>> x
    <BLANKLINE>
    <RowSparseNDArray 5x2 @cpu(0)>
    >>> x.indices.asnumpy().tolist(), x.data.asnumpy().tolist()
    ([1, 3], [[1.0, 2.0], [3.0, 4.0]])
    >>> x.asnumpy()[3].tolist()
    [3.0, 4.0]
    """

    __slots__ = ()
    _stype = "row_sparse"

    def _set_parts(self, values, indices):
        self._values, self._indices = values, indices

    def _parts(self):
        return (self._values, self._indices)

    @classmethod
    def _parts_of_dense(cls, dense):
        return kern.dense_to_rsp(dense)

    @classmethod
    def _dense_from(cls, parts, shape):
        return kern.rsp_to_dense(parts[0], parts[1], shape)

    def _dense_raw(self):
        return kern.rsp_to_dense(self._values, self._indices, self._shape)

    def _empty_parts(self, xp):
        return kern.empty_rows(xp, self._shape, self._values.dtype)

    def __getitem__(self, key):
        if isinstance(key, slice) and key == slice(None):
            return self
        raise ValueError(
            f"RowSparseNDArray supports only x[:] for indexing, got key {key!r}; "
            "use .retain(row_ids) to select rows or .tostype('default') first"
        )

    def retain(self, indices):
        """A row_sparse array storing exactly the rows ``indices`` (sorted, repeats dropped).

        Requested rows that are not stored here are stored as zeros, as MXNet's
        ``sparse.retain`` does.
        """
        from ._ops import retain

        return retain(self, indices)

    def _parts_of_grad(self, total):
        dtype = self._values.dtype
        if isinstance(total, RowSparseGrad):
            values, indices = total.values, total.indices
            return values.astype(dtype, copy=True), indices.astype(kern.INDEX, copy=True)
        values, indices = kern.dense_to_rsp(total)
        return values.astype(dtype, copy=False), indices

    def _merged(self, parts):
        values, indices = parts
        union = kern.rows_union(self._indices, indices)
        return (
            kern.rsp_expand(self._values, self._indices, union)
            + kern.rsp_expand(values, indices, union),
            union,
        )


class CSRNDArray(BaseSparseNDArray):
    """A 2-D matrix in compressed sparse row format (MXNet's ``CSRNDArray``).

    ``data`` holds the stored entries row by row, ``indices`` their int64 column
    ids and ``indptr`` (int64, length rows + 1) where each row starts in them.

    >>> import paramlab as mx
    >>> m = mx.nd.sparse.csr_matrix(([1, 2, 3], [0, 2, 1], [0, 2, 2, 3]), shape=(3, 3))
    >>> m
    <BLANKLINE>
    <CSRNDArray 3x3 @cpu(0)>
    >>> m.asnumpy().tolist()
    [[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]]
    >>> m[2:].indptr.asnumpy().tolist()
    [0, 1]
    """

    __slots__ = ("_indptr",)
    _stype = "csr"

    def _set_parts(self, values, indices, indptr):
        self._values, self._indices, self._indptr = values, indices, indptr

    def _parts(self):
        return (self._values, self._indices, self._indptr)

    @classmethod
    def _parts_of_dense(cls, dense):
        return kern.dense_to_csr(dense)

    @classmethod
    def _dense_from(cls, parts, shape):
        return kern.csr_to_dense(parts[0], parts[1], parts[2], shape)

    def _dense_raw(self):
        return kern.csr_to_dense(self._values, self._indices, self._indptr, self._shape)

    def _empty_parts(self, xp):
        return (
            xp.zeros((0,), self._values.dtype),
            xp.zeros((0,), kern.INDEX),
            xp.zeros((self._shape[0] + 1,), kern.INDEX),
        )

    @property
    def indptr(self) -> NDArray:
        """A dense int64 copy of the row pointers, on the same context."""
        return NDArray._wrap(self._indptr.copy(), self._ctx)

    def asscipy(self):
        """A ``scipy.sparse.csr_matrix`` copy on the host (the components are read back)."""
        host_ctx = Context("cpu", 0)
        data, indices, indptr = (_backend.to_host(p).copy() for p in self._parts())
        return _backend.sparse_module(host_ctx).csr_matrix((data, indices, indptr), self._shape)

    def __getitem__(self, key):
        rows = self._shape[0]
        if isinstance(key, slice) and key == slice(None):
            return self
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            if not -rows <= key < rows:
                raise IndexError(f"CSRNDArray: row {key} is out of bounds for {rows} rows")
            start = int(key) % rows
            return self._row_slice(start, start + 1)
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise ValueError(
                    f"CSRNDArray supports only contiguous row slices (step 1), got {key!r}"
                )
            start, stop, _ = key.indices(rows)
            return self._row_slice(start, max(start, stop))
        raise ValueError(
            f"CSRNDArray supports only x[:], x[i] and x[a:b] on rows, got key {key!r}; "
            "convert it first with .tostype('default')"
        )

    def _row_slice(self, start, stop):
        with _backend.device_scope(self._ctx):
            parts = kern.csr_row_slice(self._values, self._indices, self._indptr, start, stop)
        return self._from_parts(self._ctx, (stop - start, self._shape[1]), *parts)

    def _keys(self):
        return kern.csr_keys(self._indices, self._indptr, self._shape[1])

    def _parts_of_grad(self, total):
        if isinstance(total, RowSparseGrad):
            total = total.to_dense()
        data, indices, indptr = kern.dense_to_csr(total)
        return data.astype(self._values.dtype, copy=False), indices, indptr

    def _merged(self, parts):
        data, indices, indptr = parts
        mine, theirs = self._keys(), kern.csr_keys(indices, indptr, self._shape[1])
        union = kern.rows_union(mine, theirs)
        summed = kern.csr_expand(self._values, mine, union) + kern.csr_expand(data, theirs, union)
        return kern.csr_from_keys(summed, union, self._shape)


def _rebuild(cls, host_parts, shape, ctx):
    parts = (_backend.to_context(p, ctx) for p in host_parts)
    return cls._from_parts(ctx, shape, *parts)


def recording_with(*arrays) -> bool:
    """Whether autograd records and one of ``arrays`` (NDArrays or not) is in a graph."""
    from ..._autograd import requires_grad

    return is_recording() and any(isinstance(a, NDArray) and requires_grad(a) for a in arrays)
