"""``NDArray``: one NumPy or CuPy array and the context it lives on.

Arithmetic goes through the differentiable operations in :mod:`paramlab.ops`,
so it is recorded by autograd when needed. Every in-place write (``x[:] = v``,
``x += v``, ``copyto`` into it, a gradient written into a buffer) bumps
:attr:`NDArray.version`, so views and caches can tell cheaply whether an array
changed.

>>> import paramlab as mx
>>> x = mx.nd.array([[1, 2], [3, 4]], ctx=mx.cpu(1))
>>> x
<BLANKLINE>
[[1. 2.]
 [3. 4.]]
<NDArray 2x2 @cpu(1)>
>>> v = x.version
>>> x[:] += 1
>>> x.version > v
True
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from .. import _backend
from .._autograd import apply, is_recording, requires_grad
from .._autograd.engine import Function
from .._dtypes import canonical
from ..base import ContextMismatchError, MXNetError
from ..context import Context, as_context
from ..ops import elementwise as ew
from ..ops import reduce, shape
from ..util import is_np_shape
from ._calling import emit
from ._keywords import mxnet_keywords

__all__ = ["NDArray"]

_GRAPH_WRITE = (
    "Assigning to NDArrays that are already in a computational graph will cause undefined "
    "behavior when evaluating gradients. Please call backward first to clear the graph or do "
    "this out of `with mx.autograd.record()` scope."
)


class CopyTo(Function):
    """A copy to another context; its gradient travels back."""

    def __init__(self, src: Context, dst: Context):
        self.src, self.dst = src, dst

    def forward(self, a):
        return _backend.copy_to_context(a, self.src, self.dst)

    def backward(self, g):
        return (_backend.copy_to_context(g, self.dst, self.src),)


def _is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _python_scalar(x):
    """A Python number, so that a float32 array stays float32 (NumPy's weak scalars)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (numbers.Integral, np.integer)):
        return int(x)
    if isinstance(x, (numbers.Real, np.floating)):
        return float(x)
    return complex(x)


def _unary(fn_cls, doc):
    def method(self):
        return apply(fn_cls(), self)

    method.__doc__ = doc
    return method


class NDArray:
    """An n-dimensional array on one context (MXNet's ``mx.nd.NDArray``)."""

    __slots__ = (
        "__weakref__",
        "_ctx",
        "_data",
        "_fresh_grad",
        "_grad",
        "_grad_hook",
        "_grad_req",
        "_node",
        "_out_index",
        "_version",
    )
    __array_priority__ = 1000.0
    __array_ufunc__ = None  # NumPy defers to our reflected operators, which refuse
    _np_semantics = False  # mx.np.ndarray sets True: NumPy-style results and repr
    _result_cls: type  # the class of results of operations (set below)

    def __init__(self, data, ctx: Context | None = None):
        # _wrap sets the same fields in place (for speed): keep the two in step
        self._data = data
        self._ctx = ctx if ctx is not None else Context("cpu", 0)
        self._version = 0
        self._node = None
        self._out_index = 0
        self._grad = None
        self._grad_req = "null"
        self._grad_hook = None
        self._fresh_grad = False

    @classmethod
    def _wrap(cls, raw, ctx, node=None, index=0):
        """Wrap the raw array ``raw`` on ``ctx`` as a ``cls``, unchecked (for arrays made here).

        Every operation's result and every parameter buffer is made this way, so the fields
        of :meth:`__init__` are set in place instead of through a second call.
        """
        if isinstance(raw, np.generic):  # NumPy turns 0-d results into scalars
            raw = np.asarray(raw)
        out = cls.__new__(cls)
        out._data = raw
        out._ctx = ctx if ctx is not None else Context("cpu", 0)
        out._version = 0
        out._node = node
        out._out_index = index
        out._grad = None
        out._grad_req = "null"
        out._grad_hook = None
        out._fresh_grad = False
        return out

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """The shape, a tuple of ints."""
        return self._data.shape

    @property
    def dtype(self):
        """The element type (a NumPy type such as ``numpy.float32``, as in MXNet)."""
        return self._data.dtype.type

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def context(self) -> Context:
        """The context this array lives on."""
        return self._ctx

    ctx = context
    device = context

    @property
    def stype(self) -> str:
        """The storage type: ``'default'`` (dense)."""
        return "default"

    @property
    def version(self) -> int:
        """A counter bumped by every in-place write to this array."""
        return self._version

    @property
    def T(self):
        """The transpose."""
        return self.transpose()

    @property
    def grad(self):
        """The gradient buffer attached with :meth:`attach_grad` (None without one)."""
        return self._grad_buffer() if self._grad_req != "null" else self._grad

    def _grad_buffer(self):
        """The gradient buffer of this variable, allocated (zeros) on its first use.

        A variable is an array whose ``_grad_req`` is not 'null'. A parameter replica's
        dense buffer is left unallocated (``_grad`` None) until something asks for it:
        backward, ``grad()``, an optimizer step. Until then the gradient is zero, so
        allocating it then gives what an eager buffer would have held.
        """
        g = self._grad
        if g is None:
            with _backend.device_scope(self._ctx):
                raw = _backend.xp_of(self._data).zeros(self._data.shape, self._data.dtype)
            g = self._grad = type(self)._wrap(raw, self._ctx)
        return g

    @property
    def handle(self):
        """The raw NumPy or CuPy array (for interop; writing to it bypasses ``version``)."""
        return self._data

    # ------------------------------------------------------------------ conversion
    def asnumpy(self) -> np.ndarray:
        """A NumPy copy of the values (a counted host read)."""
        host = _backend.to_host(self._data)
        return host.copy() if host is self._data else host

    def asscalar(self):
        """The value of a one-element array as a NumPy scalar."""
        if self.size != 1:
            raise ValueError(
                f"asscalar: the array must have exactly one element, got shape {self.shape}"
            )
        return self.asnumpy().reshape(())[()]

    def item(self):
        """The value of a one-element array as a Python number."""
        return self.asscalar().item()

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, got {self.dtype}")
        return operator.index(self.asscalar())

    def __bool__(self):
        if self.size != 1:
            raise ValueError(
                f"the truth value of an array with {self.size} elements is ambiguous; "
                "use .asnumpy().any() or .all()"
            )
        return bool(self.asscalar())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype=None, copy=None):
        if _backend.is_gpu_array(self._data):
            raise TypeError(
                f"implicit conversion of an array on {self._ctx} to NumPy is not allowed; "
                "call .asnumpy() to copy it to the host explicitly"
            )
        host = _backend.to_host(self._data)
        if dtype is not None:
            host = host.astype(dtype, copy=False)
        return host.copy() if copy else host

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    @property
    def __cuda_array_interface__(self):
        if not _backend.is_gpu_array(self._data):
            raise AttributeError("__cuda_array_interface__ exists only for arrays on a GPU")
        return self._data.__cuda_array_interface__

    def __repr__(self):
        body = str(self._host_for_print())
        shape_info = "x".join(str(n) for n in self.shape)
        return f"\n{body}\n<{type(self).__name__} {shape_info} @{self._ctx}>"

    __str__ = __repr__

    def _host_for_print(self):
        if _backend.is_gpu_array(self._data):
            return _backend.to_host(self._data)
        return self._data

    def __reduce__(self):
        return (_rebuild, (type(self), self.asnumpy(), self._ctx))

    # ------------------------------------------------------------------ copies and contexts
    def copy(self):
        """A new array with the same values on the same context."""
        return apply(ew.Identity(), self)

    def copyto(self, other):
        """Copy to a context (a new array) or into an existing NDArray (in place)."""
        if isinstance(other, Context):
            if other == self._ctx:
                return self.copy()
            _backend.check_device(other)
            return apply(CopyTo(self._ctx, other), self, out_ctx=other)
        if isinstance(other, NDArray):
            if other is self:
                return other
            if other.shape != self.shape:
                raise ValueError(
                    f"copyto: target shape {other.shape} does not match source shape {self.shape}"
                )
            if other.stype != "default":  # a sparse target converts the value itself
                return other._copy_from(self)
            other._check_write()
            _backend.copy_into(other._data, self._data, other._ctx, self._ctx)
            other._bump()
            return other
        raise TypeError(f"copyto: expected a Context or an NDArray, got {type(other).__name__}")

    def as_in_context(self, context):
        """This array if it already lives on ``context``, else a copy there."""
        context = as_context(context, "as_in_context")
        return self if context == self._ctx else self.copyto(context)

    as_in_ctx = as_in_context
    to_device = as_in_context

    def astype(self, dtype, copy=True):
        """The values converted to ``dtype`` (``self`` if unchanged and not ``copy``)."""
        dt = canonical(dtype, "astype")
        if not copy and dt == self._data.dtype:
            return self
        return apply(ew.Cast(dt), self)

    def as_np_ndarray(self):
        """The same memory as an ``mx.np.ndarray`` (NumPy semantics)."""
        from ..numpy.multiarray import ndarray

        return ndarray._wrap(self._data, self._ctx)

    def as_nd_ndarray(self):
        """The same memory as a 1.x ``NDArray``."""
        return NDArray._wrap(self._data, self._ctx)

    def detach(self):
        """The same values, cut from the graph (shares memory)."""
        return self._result_cls._wrap(self._data, self._ctx)

    def wait_to_read(self):
        """Wait until the values are computed (operations are synchronous here)."""
        if _backend.is_gpu_array(self._data):
            with _backend.device_scope(self._ctx):
                _backend.xp_of(self._data).cuda.get_current_stream().synchronize()

    wait_to_write = wait_to_read

    def tostype(self, stype):
        """Convert to a storage type (``'default'``, ``'row_sparse'`` or ``'csr'``)."""
        from . import sparse

        return sparse.cast_storage(self, stype)

    # ------------------------------------------------------------------ autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Attach a zero gradient buffer; this array becomes a variable for autograd."""
        if grad_req not in ("write", "add", "null"):
            raise ValueError(
                f"attach_grad: grad_req must be 'write', 'add' or 'null', got {grad_req!r}"
            )
        if grad_req == "null":
            self._grad, self._grad_req = None, "null"
            return
        xp = _backend.xp_of(self._data)
        grad = NDArray._wrap(xp.zeros_like(self._data), self._ctx)
        if stype not in (None, "default"):
            grad = grad.tostype(stype)
        self._grad, self._grad_req = grad, grad_req
        self._node = None

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Back-propagate from this array into the gradient buffers."""
        from .. import autograd

        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph,
                          train_mode)

    def _receive_grad(self, total, grad_req):
        """Take a backward pass's gradient: written or added as ``grad_req`` says."""
        if hasattr(total, "to_dense"):  # a RowSparseGrad into a dense buffer
            total = total.to_dense()
        if grad_req == "add":
            self._data += total
        else:
            _backend.copy_into(self._data, total)
        self._fresh_grad = True
        self._bump()

    # ------------------------------------------------------------------ in-place writes
    def _bump(self):
        self._version += 1

    def _check_write(self):
        if is_recording() and requires_grad(self):
            raise MXNetError(_GRAPH_WRITE)

    def _operand(self, value, what):
        """A raw array or Python scalar to combine with ``self``."""
        if isinstance(value, NDArray):
            if value._ctx != self._ctx:
                raise ContextMismatchError(
                    f"{what}: the value lives on {value._ctx} but the array on {self._ctx}; "
                    f"copy it first with .copyto({self._ctx})"
                )
            return value._data
        if _is_scalar(value):
            return _python_scalar(value)
        if _backend.is_gpu_array(value) or isinstance(value, (np.ndarray, list, tuple)):
            return _backend.to_context(value, self._ctx)
        raise TypeError(
            f"{what}: expected an NDArray, a NumPy array or a scalar, got {type(value).__name__}"
        )

    def __setitem__(self, key, value):
        self._check_write()
        key = self._index_key(key)
        raw = self._operand(value, "setitem")
        target_shape = self._data[key].shape if key != slice(None) else self.shape
        if not _is_scalar(raw):
            try:
                np.broadcast_shapes(np.shape(raw), target_shape)
            except ValueError:
                raise ValueError(
                    f"setitem: cannot assign a value of shape {np.shape(raw)} to a selection of "
                    f"shape {target_shape}"
                ) from None
        try:
            self._data[key] = raw
        except (TypeError, ValueError, OverflowError) as exc:
            raise type(exc)(f"setitem: cannot assign {raw!r:.60} to {self.dtype.__name__} "
                            f"array: {exc}") from None
        self._bump()

    def __getitem__(self, key):
        key = self._index_key(key)
        out = apply(shape.GetItem(key), self)
        if out.ndim == 0 and not self._np_semantics and not is_np_shape():
            out = apply(shape.Reshape((1,)), out)  # MXNet 1.x has no 0-d results
        return out

    def _index_key(self, key):
        """Turn NDArray indices into raw ones; IndexError for out-of-range integers."""
        if isinstance(key, NDArray):
            return key._data.astype(np.int64) if key._data.dtype.kind == "f" else key._data
        if isinstance(key, tuple):  # NumPy checks each int against its own axis
            return tuple(
                (k._data.astype(np.int64) if k._data.dtype.kind == "f" else k._data)
                if isinstance(k, NDArray) else k
                for k in key
            )
        if isinstance(key, (int, np.integer)) and self.ndim:
            n = self.shape[0]
            if not -n <= key < n:
                raise IndexError(f"index {key} is out of bounds for axis 0 with size {n}")
        return key

    def _inplace(self, fn_cls, other, what):
        self._check_write()
        if isinstance(other, NDArray) and is_recording() and requires_grad(other):
            result = self._binary(other, fn_cls, None)
            if result.shape != self.shape:
                raise ValueError(f"{what}: result shape {result.shape} != {self.shape}")
            self._data, self._node, self._out_index = result._data, result._node, 0
            self._bump()
            return self
        raw = self._operand(other, what)
        if not _is_scalar(raw):
            try:
                if np.broadcast_shapes(np.shape(raw), self.shape) != self.shape:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{what}: cannot combine shape {np.shape(raw)} into shape {self.shape} in place"
                ) from None
        op = _INPLACE[fn_cls]
        if self._data.dtype.kind in "iu" and _is_scalar(raw):
            raw = _int_scalar(raw)  # MXNet takes the scalar in the array's dtype
            if fn_cls is ew.Divide and not self._np_semantics:  # 1.x: division truncates
                op = _truncating_idiv
        try:
            op(self._data, raw)
        except TypeError as exc:  # e.g. float into an int array
            raise TypeError(f"{what}: {exc}") from None
        self._bump()
        return self

    def __iadd__(self, other):
        return self._inplace(ew.Add, other, "+=")

    def __isub__(self, other):
        return self._inplace(ew.Subtract, other, "-=")

    def __imul__(self, other):
        return self._inplace(ew.Multiply, other, "*=")

    def __itruediv__(self, other):
        return self._inplace(ew.Divide, other, "/=")

    # ------------------------------------------------------------------ arithmetic
    def _binary(self, other, fn_cls, scalar_cls, reflected_cls=None, reflected=False):
        if isinstance(other, NDArray):
            if other.stype != "default":
                other = other.tostype("default")
            a, b = (other, self) if reflected else (self, other)
            da, db = a._data.dtype, b._data.dtype
            if da != db and (da.kind == "f") != (db.kind == "f"):
                # MXNet: an integer (or bool) array meets a float one in the float's dtype
                a, b = (a, b.astype(da)) if da.kind == "f" else (a.astype(db), b)
            if fn_cls is ew.Divide and a._data.dtype.kind in "iub" and b._data.dtype.kind in "iub":
                out = apply(fn_cls(), a, b)  # true division; MXNet's dtype below
                want = np.dtype(np.float32) if self._np_semantics else a._data.dtype
                return out if out._data.dtype == want else apply(ew.Cast(want), out)
            return apply(fn_cls(), a, b)
        if _is_scalar(other):
            s = _python_scalar(other)
            cls = reflected_cls if reflected and reflected_cls is not None else scalar_cls
            if self._data.dtype.kind in "iu":
                # MXNet casts the scalar to the integer array's dtype, and so is the result;
                # except NumPy mode's true division, which gives float32
                if self._np_semantics and cls in (ew.DivideScalar, ew.RDivideScalar):
                    out, want = apply(cls(s), self), np.dtype(np.float32)
                else:
                    out, want = apply(cls(_int_scalar(s)), self), self._data.dtype
                if out._data.dtype != want:
                    out = apply(ew.Cast(want), out)
                return out
            return apply(cls(s), self)
        if isinstance(other, (np.ndarray, list, tuple)) or _backend.is_gpu_array(other):
            raise TypeError(
                f"cannot combine an NDArray with a {type(other).__name__}; "
                "convert it with mx.nd.array(value, ctx=...) first"
            )
        return NotImplemented

    def __add__(self, o):
        return self._binary(o, ew.Add, ew.AddScalar)

    def __radd__(self, o):
        return self._binary(o, ew.Add, ew.AddScalar, reflected=True)

    def __sub__(self, o):
        return self._binary(o, ew.Subtract, ew.SubtractScalar)

    def __rsub__(self, o):
        return self._binary(o, ew.Subtract, ew.SubtractScalar, ew.RSubtractScalar, True)

    def __mul__(self, o):
        return self._binary(o, ew.Multiply, ew.MultiplyScalar)

    def __rmul__(self, o):
        return self._binary(o, ew.Multiply, ew.MultiplyScalar, reflected=True)

    def __truediv__(self, o):
        return self._binary(o, ew.Divide, ew.DivideScalar)

    def __rtruediv__(self, o):
        return self._binary(o, ew.Divide, ew.DivideScalar, ew.RDivideScalar, True)

    def __pow__(self, o):
        return self._binary(o, ew.Power, ew.PowerScalar)

    def __rpow__(self, o):
        return self._binary(o, ew.Power, ew.PowerScalar, ew.RPowerScalar, True)

    def __mod__(self, o):
        return self._compare(o, "mod", keep_dtype=True)

    def __rmod__(self, o):
        raw = self._operand(o, "mod")
        out = _backend.xp_of(self._data).mod(raw, self._data).astype(self._data.dtype, copy=False)
        return self._result_cls._wrap(out, self._ctx)

    def __imod__(self, o):
        self[:] = self.__mod__(o)
        return self

    def __neg__(self):
        return apply(ew.Negative(), self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, o):
        return self.dot(o)

    # comparisons: 1.x returns 0/1 in the array's dtype, NumPy mode returns bools
    def _compare(self, other, name, keep_dtype=False):
        raw = self._operand(other, name)
        out = getattr(_backend.xp_of(self._data), name)(self._data, raw)
        if not self._np_semantics or keep_dtype:
            out = out.astype(self._data.dtype, copy=False)
        return self._result_cls._wrap(out, self._ctx)

    def __eq__(self, o):
        if o is None:
            return False
        return self._compare(o, "equal")

    def __ne__(self, o):
        if o is None:
            return True
        return self._compare(o, "not_equal")

    def __lt__(self, o):
        return self._compare(o, "less")

    def __le__(self, o):
        return self._compare(o, "less_equal")

    def __gt__(self, o):
        return self._compare(o, "greater")

    def __ge__(self, o):
        return self._compare(o, "greater_equal")

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ elementwise math
    exp = _unary(ew.Exp, "Elementwise e**x.")
    log = _unary(ew.Log, "Elementwise natural logarithm.")
    log1p = _unary(ew.Log1p, "Elementwise log(1 + x).")
    expm1 = _unary(ew.Expm1, "Elementwise exp(x) - 1.")
    sqrt = _unary(ew.Sqrt, "Elementwise square root.")
    rsqrt = _unary(ew.Rsqrt, "Elementwise 1 / sqrt(x).")
    square = _unary(ew.Square, "Elementwise x**2.")
    reciprocal = _unary(ew.Reciprocal, "Elementwise 1 / x.")
    abs = _unary(ew.Abs, "Elementwise absolute value.")
    sign = _unary(ew.Sign, "Elementwise sign.")
    floor = _unary(ew.Floor, "Elementwise floor.")
    ceil = _unary(ew.Ceil, "Elementwise ceiling.")
    rint = _unary(ew.Rint, "Elementwise rounding to the nearest integer, halves down (MXNet).")

    def round(self, decimals=0):
        """Elementwise rounding: halves away from zero (MXNet 1.x), to even in NumPy mode."""
        if decimals:
            raise ValueError(f"round: only decimals=0 is supported, got {decimals!r}")
        return apply(ew.Around() if self._np_semantics else ew.Round(), self)
    sin = _unary(ew.Sin, "Elementwise sine.")
    cos = _unary(ew.Cos, "Elementwise cosine.")
    tanh = _unary(ew.Tanh, "Elementwise hyperbolic tangent.")
    sigmoid = _unary(ew.Sigmoid, "Elementwise logistic sigmoid.")
    relu = _unary(ew.Relu, "Elementwise max(x, 0).")
    softrelu = _unary(ew.Softrelu, "Elementwise log(1 + exp(x)).")
    softsign = _unary(ew.Softsign, "Elementwise x / (1 + |x|).")
    erf = _unary(ew.Erf, "Elementwise error function.")

    def clip(self, a_min, a_max):
        """Values limited to [a_min, a_max]."""
        return apply(ew.Clip(a_min, a_max), self)

    def maximum(self, other):
        """Elementwise maximum with an array or a scalar."""
        return self._binary(other, ew.Maximum, ew.MaximumScalar)

    def minimum(self, other):
        """Elementwise minimum with an array or a scalar."""
        return self._binary(other, ew.Minimum, ew.MinimumScalar)

    # ------------------------------------------------------------------ reductions
    def _reduce(self, fn_cls, axis, keepdims, exclude=False, **kw):
        axes = reduce.normalize_axis(axis, self.ndim, exclude)
        return apply(fn_cls(axes, keepdims, not self._np_semantics, **kw), self)

    # the reductions take MXNet's out=, and sum, mean and prod NumPy's dtype= (computed in it)
    @mxnet_keywords("name")
    def sum(self, axis=None, keepdims=False, exclude=False, out=None, dtype=None, **kwargs):
        """Sum over ``axis`` (all axes by default)."""
        data = self if dtype is None else self.astype(dtype, copy=False)
        return emit(data._reduce(reduce.Sum, axis, keepdims, exclude), out, "sum")

    @mxnet_keywords("name")
    def mean(self, axis=None, keepdims=False, exclude=False, out=None, dtype=None, **kwargs):
        """Mean over ``axis`` (all axes by default)."""
        data = self if dtype is None else self.astype(dtype, copy=False)
        return emit(data._reduce(reduce.Mean, axis, keepdims, exclude), out, "mean")

    @mxnet_keywords("name")
    def max(self, axis=None, keepdims=False, exclude=False, out=None, **kwargs):
        """Maximum over ``axis``."""
        return emit(self._reduce(reduce.Max, axis, keepdims, exclude), out, "max")

    @mxnet_keywords("name")
    def min(self, axis=None, keepdims=False, exclude=False, out=None, **kwargs):
        """Minimum over ``axis``."""
        return emit(self._reduce(reduce.Min, axis, keepdims, exclude), out, "min")

    @mxnet_keywords("name")
    def prod(self, axis=None, keepdims=False, exclude=False, out=None, dtype=None, **kwargs):
        """Product over ``axis``."""
        data = self if dtype is None else self.astype(dtype, copy=False)
        return emit(data._reduce(reduce.Prod, axis, keepdims, exclude), out, "prod")

    @mxnet_keywords("name", out_dtype=None)
    def norm(self, ord=2, axis=None, keepdims=False, out=None, **kwargs):
        """The L2 (or L1, ``ord=1``) norm over ``axis`` (all axes by default)."""
        if ord not in (1, 2):
            raise ValueError(f"norm: ord must be 1 or 2, got {ord!r}")
        return emit(self._reduce(reduce.Norm, axis, keepdims, ord=ord), out, "norm")

    def _arg(self, name, axis, keepdims):
        if axis is not None and not -max(self.ndim, 1) <= axis < max(self.ndim, 1):
            raise IndexError(f"{name}: axis {axis} is out of range for {self.ndim} dims")
        out = getattr(self._data, name)(axis=axis, keepdims=keepdims)
        xp = _backend.xp_of(self._data)
        out = xp.asarray(out)
        if not self._np_semantics:
            out = out.astype(np.float32)  # MXNet 1.x returns indices as float32
            if out.ndim == 0:
                out = out.reshape(1)
        return self._result_cls._wrap(out, self._ctx)

    def argmax(self, axis=None, keepdims=False):
        """Indices of the maxima along ``axis`` (float32 in MXNet 1.x)."""
        return self._arg("argmax", axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        """Indices of the minima along ``axis`` (float32 in MXNet 1.x)."""
        return self._arg("argmin", axis, keepdims)

    def topk(self, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
        """The ``k`` largest (or smallest) entries along ``axis``."""
        from .functions import topk

        return topk(self, axis=axis, k=k, ret_typ=ret_typ, is_ascend=is_ascend, dtype=dtype)

    # ------------------------------------------------------------------ shape
    @mxnet_keywords("name", "shape", "order")
    def reshape(self, *shape, reverse=False, **kwargs):
        """A reshaped array; accepts MXNet's codes 0, -1, -2, -3, -4."""
        if kwargs.get("order", "C") != "C":
            raise NotImplementedError(
                f"reshape: order other than 'C' is not supported, got {kwargs['order']!r}"
            )
        if "shape" in kwargs:
            shape = kwargs.pop("shape")
        elif len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        from ._shapes import infer_reshape

        new = infer_reshape(self.shape, tuple(shape), reverse, self._np_semantics)
        return apply(shape_ops.Reshape(new), self)

    def reshape_like(self, other):
        """Reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    def transpose(self, *axes):
        """Axes permuted (reversed by default)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        if axes and sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation for {self.ndim} dims")
        return apply(shape_ops.Transpose(axes or None), self)

    def swapaxes(self, dim1, dim2):
        """Two axes exchanged."""
        for d in (dim1, dim2):
            if not -self.ndim <= d < self.ndim:
                raise IndexError(f"swapaxes: axis {d} is out of range for {self.ndim} dims")
        return apply(shape_ops.SwapAxes(dim1, dim2), self)

    def expand_dims(self, axis):
        """A new axis of length 1 inserted at ``axis``."""
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise IndexError(f"expand_dims: axis {axis} is out of range for {self.ndim} dims")
        axis = axis % (self.ndim + 1)
        new = self.shape[:axis] + (1,) + self.shape[axis:]
        return apply(shape_ops.Reshape(new), self)

    def squeeze(self, axis=None):
        """Axes of length 1 removed (all of them, or those in ``axis``)."""
        axes = reduce.normalize_axis(axis, self.ndim) if axis is not None else None
        if axes is None:
            new = tuple(n for n in self.shape if n != 1)
        else:
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(f"squeeze: axis {a} has length {self.shape[a]}, not 1")
            new = tuple(n for i, n in enumerate(self.shape) if i not in axes)
        if not new and not self._np_semantics:
            new = (1,)
        return apply(shape_ops.Reshape(new), self)

    def flatten(self):
        """Collapsed to 2-D: (first dim, product of the others), as in MXNet; 1-D in NumPy mode."""
        if self._np_semantics:
            return apply(shape_ops.Reshape((self.size,)), self)
        first = self.shape[0] if self.ndim else 1
        rest = 1
        for n in self.shape[1:]:
            rest *= n
        return apply(shape_ops.Reshape((first, rest)), self)

    def broadcast_to(self, shape):
        """Broadcast to ``shape`` (MXNet allows 0 to keep a dimension)."""
        shape = tuple(shape)
        if len(shape) == self.ndim:
            shape = tuple(s if n == 0 else n for s, n in zip(self.shape, shape))
        try:
            np.broadcast_shapes(self.shape, shape)
            if np.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {self.shape} to {shape}"
            ) from None
        return apply(shape_ops.BroadcastTo(shape), self)

    def broadcast_like(self, other):
        """Broadcast to ``other``'s shape."""
        return self.broadcast_to(other.shape)

    def split(self, num_outputs, axis=1, squeeze_axis=False):
        """Split into ``num_outputs`` equal parts along ``axis``."""
        from . import creation

        return creation.split(self, num_outputs, axis, squeeze_axis)

    def dot(self, other, transpose_a=False, transpose_b=False):
        """Matrix product (MXNet's ``dot``)."""
        from . import creation

        return creation.dot(self, other, transpose_a, transpose_b)

    def one_hot(self, depth, on_value=1.0, off_value=0.0, dtype="float32"):
        """One-hot encoding of integer labels."""
        from . import creation

        return creation.one_hot(self, depth, on_value, off_value, dtype)

    def softmax(self, axis=-1, temperature=None):
        """Softmax along ``axis``."""
        from . import functions

        return functions.softmax(self, axis=axis, temperature=temperature)

    def log_softmax(self, axis=-1, temperature=None):
        """Log-softmax along ``axis``."""
        from . import functions

        return functions.log_softmax(self, axis=axis, temperature=temperature)

    def zeros_like(self):
        """Zeros of the same shape, dtype and context."""
        from . import creation

        return creation.zeros_like(self)

    def ones_like(self):
        """Ones of the same shape, dtype and context."""
        from . import creation

        return creation.ones_like(self)


shape_ops = shape
NDArray._result_cls = NDArray

_INPLACE = {
    ew.Add: lambda a, b: a.__iadd__(b),
    ew.Subtract: lambda a, b: a.__isub__(b),
    ew.Multiply: lambda a, b: a.__imul__(b),
    ew.Divide: lambda a, b: a.__itruediv__(b),
}


def _int_scalar(s):
    """A Python float scalar truncated to an int (MXNet casts scalars to an int array's dtype)."""
    return int(s) if isinstance(s, float) and math.isfinite(s) else s


def _truncating_idiv(a, b):
    _backend.xp_of(a).copyto(a, a / b, casting="unsafe")


def _rebuild(cls, host, ctx):
    return cls._wrap(_backend.to_context(host, ctx), ctx)


def raw_of(x, ctx=None):
    """The raw array of an NDArray, or ``x`` moved to ``ctx`` if it is array-like."""
    if isinstance(x, NDArray):
        return x._data
    return _backend.to_context(x, ctx or Context("cpu", 0))
