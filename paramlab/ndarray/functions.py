"""Function spellings of the operations (``mx.nd.exp(x)``, ``mx.nd.where(c, x, y)``, ...)."""

from __future__ import annotations

import numpy as np

from .. import _backend
from .._autograd import apply
from .._dtypes import canonical
from ..ops import elementwise as ew
from ..ops import nn_basic
from ..ops import shape as shape_ops
from ._keywords import mxnet_keywords
from .ndarray import NDArray

__all__ = [
    "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal", "abs", "sign",
    "floor", "ceil", "round", "rint", "sin", "cos", "tanh", "sigmoid", "relu", "softrelu",
    "softsign", "erf", "clip", "maximum", "minimum", "sum", "mean", "max", "min", "prod",
    "norm", "argmax", "argmin", "topk", "transpose", "reshape", "swapaxes", "expand_dims",
    "squeeze", "flatten", "broadcast_to", "broadcast_like", "where", "take", "pick",
    "softmax", "log_softmax", "add", "subtract", "multiply", "divide", "power", "negative",
    "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "broadcast_add",
    "broadcast_sub", "broadcast_mul", "broadcast_div", "cast", "Cast", "identity",
    "stop_gradient", "BlockGrad", "add_n", "ElementWiseSum",
]  # fmt: skip


def _nd(x, what):
    if not isinstance(x, NDArray):
        raise TypeError(f"{what}: expected an NDArray, got {type(x).__name__}")
    return x


def exp(data):
    """Elementwise e**x."""
    return _nd(data, "exp").exp()


def log(data):
    """Elementwise natural logarithm."""
    return _nd(data, "log").log()


def log1p(data):
    """Elementwise log(1 + x)."""
    return _nd(data, "log1p").log1p()


def expm1(data):
    """Elementwise exp(x) - 1."""
    return _nd(data, "expm1").expm1()


def sqrt(data):
    """Elementwise square root."""
    return _nd(data, "sqrt").sqrt()


def rsqrt(data):
    """Elementwise 1 / sqrt(x)."""
    return _nd(data, "rsqrt").rsqrt()


def square(data):
    """Elementwise square."""
    return _nd(data, "square").square()


def reciprocal(data):
    """Elementwise 1 / x."""
    return _nd(data, "reciprocal").reciprocal()


def abs(data):
    """Elementwise absolute value."""
    return _nd(data, "abs").abs()


def sign(data):
    """Elementwise sign."""
    return _nd(data, "sign").sign()


def floor(data):
    """Elementwise floor."""
    return _nd(data, "floor").floor()


def ceil(data):
    """Elementwise ceiling."""
    return _nd(data, "ceil").ceil()


def round(data):
    """Elementwise rounding."""
    return _nd(data, "round").round()


def rint(data):
    """Elementwise rounding to the nearest integer, halves down (MXNet's ``rint``)."""
    return _nd(data, "rint").rint()


def sin(data):
    """Elementwise sine."""
    return _nd(data, "sin").sin()


def cos(data):
    """Elementwise cosine."""
    return _nd(data, "cos").cos()


def tanh(data):
    """Elementwise hyperbolic tangent."""
    return _nd(data, "tanh").tanh()


def sigmoid(data):
    """Elementwise logistic sigmoid."""
    return _nd(data, "sigmoid").sigmoid()


def relu(data):
    """Elementwise max(x, 0)."""
    return _nd(data, "relu").relu()


def softrelu(data):
    """Elementwise log(1 + exp(x))."""
    return _nd(data, "softrelu").softrelu()


def softsign(data):
    """Elementwise x / (1 + |x|)."""
    return _nd(data, "softsign").softsign()


def erf(data):
    """Elementwise error function."""
    return _nd(data, "erf").erf()


def clip(data, a_min, a_max):
    """Values limited to [a_min, a_max]."""
    return _nd(data, "clip").clip(a_min, a_max)


def _binary(lhs, rhs, method, what):
    if isinstance(lhs, NDArray):
        return getattr(lhs, method)(rhs)
    if isinstance(rhs, NDArray):
        return getattr(rhs, "__r" + method[2:])(lhs)
    raise TypeError(f"{what}: at least one argument must be an NDArray")


def add(lhs, rhs):
    """Elementwise sum with broadcasting."""
    return _binary(lhs, rhs, "__add__", "add")


def subtract(lhs, rhs):
    """Elementwise difference with broadcasting."""
    return _binary(lhs, rhs, "__sub__", "subtract")


def multiply(lhs, rhs):
    """Elementwise product with broadcasting."""
    return _binary(lhs, rhs, "__mul__", "multiply")


def divide(lhs, rhs):
    """Elementwise quotient with broadcasting."""
    return _binary(lhs, rhs, "__truediv__", "divide")


def power(base, exp):
    """Elementwise power with broadcasting."""
    return _binary(base, exp, "__pow__", "power")


elemwise_add = broadcast_add = broadcast_plus = add
elemwise_sub = broadcast_sub = broadcast_minus = subtract
elemwise_mul = broadcast_mul = multiply
elemwise_div = broadcast_div = divide


def negative(data):
    """Elementwise negation."""
    return -_nd(data, "negative")


def maximum(lhs, rhs):
    """Elementwise maximum."""
    if isinstance(lhs, NDArray):
        return lhs.maximum(rhs)
    return _nd(rhs, "maximum").maximum(lhs)


def minimum(lhs, rhs):
    """Elementwise minimum."""
    if isinstance(lhs, NDArray):
        return lhs.minimum(rhs)
    return _nd(rhs, "minimum").minimum(lhs)


@mxnet_keywords("name")
def sum(data, axis=None, keepdims=False, exclude=False, **kwargs):
    """Sum over ``axis``."""
    return _nd(data, "sum").sum(axis=axis, keepdims=keepdims, exclude=exclude)


@mxnet_keywords("name")
def mean(data, axis=None, keepdims=False, exclude=False, **kwargs):
    """Mean over ``axis``."""
    return _nd(data, "mean").mean(axis=axis, keepdims=keepdims, exclude=exclude)


@mxnet_keywords("name")
def max(data, axis=None, keepdims=False, exclude=False, **kwargs):
    """Maximum over ``axis``."""
    return _nd(data, "max").max(axis=axis, keepdims=keepdims, exclude=exclude)


@mxnet_keywords("name")
def min(data, axis=None, keepdims=False, exclude=False, **kwargs):
    """Minimum over ``axis``."""
    return _nd(data, "min").min(axis=axis, keepdims=keepdims, exclude=exclude)


@mxnet_keywords("name")
def prod(data, axis=None, keepdims=False, exclude=False, **kwargs):
    """Product over ``axis``."""
    return _nd(data, "prod").prod(axis=axis, keepdims=keepdims, exclude=exclude)


@mxnet_keywords("name", out_dtype=None)
def norm(data, ord=2, axis=None, keepdims=False, **kwargs):
    """L2 (or L1) norm over ``axis``."""
    return _nd(data, "norm").norm(ord=ord, axis=axis, keepdims=keepdims)


def argmax(data, axis=None, keepdims=False):
    """Indices of the maxima (float32 in MXNet 1.x)."""
    return _nd(data, "argmax").argmax(axis=axis, keepdims=keepdims)


def argmin(data, axis=None, keepdims=False):
    """Indices of the minima (float32 in MXNet 1.x)."""
    return _nd(data, "argmin").argmin(axis=axis, keepdims=keepdims)


def transpose(data, axes=()):
    """Axes permuted."""
    return _nd(data, "transpose").transpose(*(axes or ()))


@mxnet_keywords("name", keep_highest=False, target_shape=())
def reshape(data, shape, reverse=False, **kwargs):
    """Reshape with MXNet's special codes."""
    return _nd(data, "reshape").reshape(shape, reverse=reverse)


def swapaxes(data, dim1=0, dim2=0):
    """Two axes exchanged."""
    return _nd(data, "swapaxes").swapaxes(dim1, dim2)


def expand_dims(data, axis):
    """A new axis of length 1."""
    return _nd(data, "expand_dims").expand_dims(axis)


def squeeze(data, axis=None):
    """Axes of length 1 removed."""
    return _nd(data, "squeeze").squeeze(axis)


def flatten(data):
    """Collapsed to 2-D."""
    return _nd(data, "flatten").flatten()


Flatten = flatten


def broadcast_to(data, shape):
    """Broadcast to ``shape``."""
    return _nd(data, "broadcast_to").broadcast_to(shape)


def broadcast_like(lhs, rhs):
    """Broadcast ``lhs`` to ``rhs``'s shape."""
    return _nd(lhs, "broadcast_like").broadcast_to(rhs.shape)


def where(condition, x, y):
    """Elements of ``x`` where ``condition`` is non-zero, else of ``y``."""
    for name, v in (("condition", condition), ("x", x), ("y", y)):
        _nd(v, f"where: {name}")
    try:
        np.broadcast_shapes(condition.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes {condition.shape}, {x.shape} and {y.shape} do not broadcast"
        ) from None
    return apply(ew.Where(), condition, x, y)


def take(a, indices, axis=0, mode="clip"):
    """Elements of ``a`` at ``indices`` along ``axis`` (indices clipped by default)."""
    _nd(a, "take")
    if mode not in ("clip", "wrap"):
        raise ValueError(f"take: mode must be 'clip' or 'wrap', got {mode!r}")
    if not -a.ndim <= axis < a.ndim:
        raise IndexError(f"take: axis {axis} is out of range for {a.ndim} dims")
    return apply(shape_ops.Take(axis % a.ndim, mode), a, _nd(indices, "take: indices"))


def pick(data, index, axis=-1, keepdims=False, mode="clip"):
    """One element per position along ``axis``, chosen by ``index``."""
    _nd(data, "pick")
    expected = tuple(n for i, n in enumerate(data.shape) if i != axis % data.ndim)
    if index.size != int(np.prod(expected)):
        raise ValueError(f"pick: index shape {index.shape} does not match {expected}")
    return apply(shape_ops.Pick(axis, keepdims, mode), data, index)


def topk(data, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    """The ``k`` largest (smallest with ``is_ascend``) entries along ``axis``."""
    _nd(data, "topk")
    if ret_typ not in ("indices", "value", "both", "mask"):
        raise ValueError(
            f"topk: ret_typ must be 'indices', 'value', 'both' or 'mask', got {ret_typ!r}"
        )
    if axis is None:
        data, axis = data.reshape(-1), 0
    n = data.shape[axis]
    if not 1 <= k <= n:
        raise ValueError(f"topk: k must be between 1 and {n}, got {k}")
    xp = _backend.xp_of(data._data)
    raw = data._data
    order = xp.argsort(raw if is_ascend else -raw, axis=axis, kind="stable")
    idx = xp.take(order, xp.arange(k), axis=axis)
    cls = type(data)._result_cls
    values = xp.take_along_axis(raw, idx, axis=axis)
    if ret_typ == "mask":
        mask = xp.zeros_like(raw)
        xp.put_along_axis(mask, idx, 1, axis=axis)
        return cls._wrap(mask, data.context)
    ind = cls._wrap(idx.astype(canonical(dtype, "topk: dtype")), data.context)
    if ret_typ == "indices":
        return ind
    val = cls._wrap(values, data.context)
    return val if ret_typ == "value" else [val, ind]


@mxnet_keywords("name", dtype=None, length=None, use_length=False)
def softmax(data, axis=-1, temperature=None, **kwargs):
    """Softmax along ``axis``."""
    return apply(nn_basic.Softmax(axis, temperature), _nd(data, "softmax"))


@mxnet_keywords("name", dtype=None, use_length=False)
def log_softmax(data, axis=-1, temperature=None, **kwargs):
    """Log-softmax along ``axis``."""
    return apply(nn_basic.LogSoftmax(axis, temperature), _nd(data, "log_softmax"))


def cast(data, dtype):
    """Values converted to ``dtype``."""
    return _nd(data, "cast").astype(dtype)


Cast = cast


def identity(data):
    """A copy that keeps the graph."""
    return _nd(data, "identity").copy()


def stop_gradient(data):
    """The same values with no gradient flowing back."""
    return _nd(data, "stop_gradient").detach()


BlockGrad = stop_gradient


@mxnet_keywords("name", "num_args")
def add_n(*args, **kwargs):
    """The sum of several arrays of the same shape."""
    if not args:
        raise ValueError("add_n: at least one array is required")
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


ElementWiseSum = add_n
