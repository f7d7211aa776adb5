"""``mx.np``: NumPy-style creation and math returning ``mx.np.ndarray``.

As in MXNet, Python lists become float32 arrays (``mx.np.array([1, 2])`` is float32),
NumPy integer arrays keep their dtype, and reductions return 0-d arrays.
"""

from __future__ import annotations

import numpy as _onp

from ..ndarray import creation as _creation
from ..ndarray import functions as _f
from ..ndarray._calling import with_out as _with_out
from . import random
from .multiarray import ndarray

__all__ = [
    "ndarray", "random", "array", "asarray", "zeros", "ones", "full", "empty", "arange", "eye",
    "zeros_like", "ones_like", "full_like", "linspace", "dot", "matmul", "concatenate", "stack",
    "split", "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "where", "exp", "log",
    "sqrt", "square", "abs", "absolute", "sign", "tanh", "sin", "cos", "maximum", "minimum",
    "clip", "sum", "mean", "max", "min", "prod", "argmax", "argmin", "add", "subtract",
    "multiply", "divide", "power", "negative", "float16", "float32", "float64", "int8",
    "int32", "int64", "uint8", "bool_", "pi", "e", "inf", "nan", "newaxis", "dtype", "std",
    "var", "linalg", "all", "any", "broadcast_to", "log1p", "expm1", "floor", "ceil", "round",
    "take",
]  # fmt: skip

float16, float32, float64 = _onp.float16, _onp.float32, _onp.float64
int8, int32, int64, uint8, bool_ = _onp.int8, _onp.int32, _onp.int64, _onp.uint8, _onp.bool_
pi, e, inf, nan, newaxis, dtype = _onp.pi, _onp.e, _onp.inf, _onp.nan, None, _onp.dtype


def array(object, dtype=None, ctx=None, device=None):
    """An ``mx.np.ndarray`` copy of ``object`` (lists become float32)."""
    return _creation.array(object, ctx=ctx or device, dtype=dtype, cls=ndarray, keep_int=True)


def asarray(obj, dtype=None, ctx=None, device=None):
    """``obj`` itself if it already is an ``mx.np.ndarray`` of that dtype, else a copy."""
    if isinstance(obj, ndarray) and (dtype is None or obj.dtype == _onp.dtype(dtype)):
        return obj
    return array(obj, dtype=dtype, ctx=ctx or device)


def _filled(fn, shape, dtype, ctx, *args):
    out = fn(shape, *args, ctx=ctx, dtype=dtype) if args else fn(shape, ctx=ctx, dtype=dtype)
    return out.as_np_ndarray()


def zeros(shape, dtype=None, order="C", ctx=None, device=None):
    """Zeros (float32 by default)."""
    return _filled(_creation.zeros, shape, dtype, ctx or device)


def ones(shape, dtype=None, order="C", ctx=None, device=None):
    """Ones (float32 by default)."""
    return _filled(_creation.ones, shape, dtype, ctx or device)


def full(shape, fill_value, dtype=None, order="C", ctx=None, device=None):
    """``fill_value`` everywhere (float32 by default)."""
    return _filled(_creation.full, shape, dtype, ctx or device, fill_value)


def empty(shape, dtype=None, order="C", ctx=None, device=None):
    """Uninitialized values (float32 by default)."""
    return _filled(_creation.empty, shape, dtype, ctx or device)


def zeros_like(a, dtype=None):
    """Zeros like ``a``."""
    return zeros(a.shape, dtype or a.dtype, ctx=a.ctx)


def ones_like(a, dtype=None):
    """Ones like ``a``."""
    return ones(a.shape, dtype or a.dtype, ctx=a.ctx)


def full_like(a, fill_value, dtype=None):
    """``fill_value`` like ``a``."""
    return full(a.shape, fill_value, dtype or a.dtype, ctx=a.ctx)


def arange(start, stop=None, step=1, dtype=None, ctx=None, device=None):
    """Evenly spaced values (float32 by default, as in MXNet)."""
    return _creation.arange(start, stop, step, ctx=ctx or device, dtype=dtype, cls=ndarray)


def linspace(start, stop, num=50, endpoint=True, dtype=None, ctx=None, device=None):
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    host = _onp.linspace(start, stop, num, endpoint=endpoint)
    return array(host, dtype=dtype or float32, ctx=ctx or device)


def eye(N, M=None, k=0, dtype=None, ctx=None, device=None):
    """Ones on a diagonal."""
    return _creation.eye(N, M or 0, k, ctx=ctx or device, dtype=dtype).as_np_ndarray()


def dot(a, b):
    """Matrix product."""
    return _creation.dot(a, b)


def matmul(a, b):
    """Matrix product (batched over leading axes)."""
    if a.ndim == 3 and b.ndim == 3:
        return _creation.batch_dot(a, b)
    return _creation.dot(a, b)


def concatenate(seq, axis=0):
    """Join arrays along an existing axis."""
    return _creation.concat(*seq, dim=axis)


def stack(arrays, axis=0):
    """Join arrays along a new axis."""
    return _creation.stack(*arrays, axis=axis)


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections."""
    parts = _creation.split(ary, indices_or_sections, axis)
    return parts if isinstance(parts, list) else [parts]


def reshape(a, newshape, order="C"):
    """Reshape (NumPy rules: one -1 allowed)."""
    return a.reshape(newshape)


def transpose(a, axes=None):
    """Permute axes."""
    return a.transpose(axes) if axes is not None else a.transpose()


def swapaxes(a, axis1, axis2):
    """Exchange two axes."""
    return a.swapaxes(axis1, axis2)


def expand_dims(a, axis):
    """Insert an axis of length 1."""
    return a.expand_dims(axis)


def squeeze(a, axis=None):
    """Remove axes of length 1."""
    return a.squeeze(axis)


def broadcast_to(array, shape):
    """Broadcast to ``shape``."""
    return array.broadcast_to(shape)


def where(condition, x, y):
    """Choose from ``x`` or ``y``."""
    return _f.where(condition, x, y)


def take(a, indices, axis=None, mode="clip"):
    """Elements at ``indices``."""
    if axis is None:
        a, axis = a.reshape(-1), 0
    return _f.take(a, indices, axis=axis, mode=mode)


exp, log, sqrt, square = _f.exp, _f.log, _f.sqrt, _f.square
abs = absolute = _f.abs
sign, tanh, sin, cos, log1p, expm1 = _f.sign, _f.tanh, _f.sin, _f.cos, _f.log1p, _f.expm1
floor, ceil, round = _f.floor, _f.ceil, _f.round
maximum, minimum, clip = _f.maximum, _f.minimum, _f.clip
add, subtract, multiply, divide, power = _f.add, _f.subtract, _f.multiply, _f.divide, _f.power
negative = _f.negative


def sum(a, axis=None, dtype=None, keepdims=False):
    """Sum over ``axis``."""
    return a.sum(axis=axis, keepdims=keepdims)


def mean(a, axis=None, dtype=None, keepdims=False):
    """Mean over ``axis``."""
    return a.mean(axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):
    """Maximum over ``axis``."""
    return a.max(axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return a.min(axis=axis, keepdims=keepdims)


def prod(a, axis=None, keepdims=False):
    """Product over ``axis``."""
    return a.prod(axis=axis, keepdims=keepdims)


def all(a, axis=None, keepdims=False):
    """Whether every element (along ``axis``) is non-zero."""
    return a.all(axis=axis, keepdims=keepdims)


def any(a, axis=None, keepdims=False):
    """Whether some element (along ``axis``) is non-zero."""
    return a.any(axis=axis, keepdims=keepdims)


def argmax(a, axis=None):
    """Indices of the maxima."""
    return a.argmax(axis=axis)


def argmin(a, axis=None):
    """Indices of the minima."""
    return a.argmin(axis=axis)


def var(a, axis=None, keepdims=False):
    """Population variance over ``axis``."""
    m = a.mean(axis=axis, keepdims=True)
    return ((a - m) ** 2).mean(axis=axis, keepdims=keepdims)


def std(a, axis=None, keepdims=False):
    """Population standard deviation over ``axis``."""
    return var(a, axis, keepdims).sqrt()


class linalg:  # noqa: N801 - a namespace, as mx.np.linalg
    """``mx.np.linalg.norm``."""

    @staticmethod
    def norm(x, ord=None, axis=None, keepdims=False):
        return x.norm(ord=2 if ord is None else ord, axis=axis, keepdims=keepdims)


# the functions that take ``out=`` in MXNet's mx.np (the result is written into it and returned)
_with_out(
    globals(),
    [
        "full", "zeros_like", "ones_like", "full_like", "dot", "matmul", "concatenate", "stack",
        "reshape", "squeeze", "exp", "log", "sqrt", "square", "abs", "absolute", "sign", "tanh",
        "sin", "cos", "maximum", "minimum", "clip", "sum", "mean", "max", "min", "prod", "argmax",
        "argmin", "add", "subtract", "multiply", "divide", "power", "negative", "std", "var",
        "all", "any", "log1p", "expm1", "floor", "ceil", "round", "take",
    ],
)  # fmt: skip
