"""The built-in initializers, each with MXNet's formula and its stated theory.

Every class computes its law once (``_law`` or an equivalent helper) and uses it
both to fill arrays and to state its :meth:`~Initializer.theory`, so the two
cannot disagree. Random ones draw on the array's own context with
:func:`paramlab.random.fill_uniform` / :func:`~paramlab.random.fill_normal`,
straight into the array's buffer and in its dtype.

Fan rules (Xavier, MSRAPrelu): with ``r = prod(shape[2:])`` for ``ndim > 2``
(else 1), ``fan_in = shape[1]·r`` and ``fan_out = shape[0]·r``.

>>> import paramlab as mx
>>> t = mx.init.Xavier().theory((256, 512))
>>> t.family, round(t.params['high'] ** 2 * 768, 12)
('uniform', 6.0)
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend
from .. import random as _random
from ..ndarray.ndarray import NDArray
from . import _theory
from ._base import (
    Initializer,
    check_choice,
    check_float,
    check_real,
    draw_normal,
    draw_uniform,
    fill_value,
    normalize_shape,
)
from ._registry import alias, register

__all__ = [
    "Zero",
    "One",
    "Constant",
    "Uniform",
    "Normal",
    "Orthogonal",
    "Xavier",
    "MSRAPrelu",
    "Bilinear",
    "LSTMBias",
]


def _shape_label(shape) -> str:
    return f"an array of shape {tuple(shape)}"


@register
@alias("zeros")
class Zero(Initializer):
    """Fills weights with 0 (registered as ``'zero'`` and ``'zeros'``).

    >>> import paramlab as mx
    >>> mx.init.Zero().theory((2, 2)).invariant
    'every element equals 0.0 (a point mass: no density)'
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        fill_value(arr, 0)

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Zero")
        return _theory.constant_theory(0, shape, dt)


@register
@alias("ones")
class One(Initializer):
    """Fills weights with 1 (registered as ``'one'`` and ``'ones'``)."""

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        fill_value(arr, 1)

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "One")
        return _theory.constant_theory(1, shape, dt)


@register
class Constant(Initializer):
    """Fills weights with ``value``: a scalar, or an array broadcastable to the weight.

    Parameters
    ----------
    value : float, NDArray, numpy.ndarray or list
        The value to write. ``dumps()`` writes array values as nested lists.

    Examples
    --------
    >>> import paramlab as mx
    >>> mx.init.Constant(mx.nd.array([1, 2])).dumps()
    '["constant", {"value": [1.0, 2.0]}]'
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, value):
        if isinstance(value, (list, tuple)):
            try:
                self._array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"Constant: value must be numeric, got {value!r}") from None
        elif isinstance(value, (NDArray, np.ndarray)):
            self._array = value
        elif isinstance(value, (bool, int, float, np.number, np.bool_)):
            self._array = None
        else:
            raise TypeError(
                "Constant: value must be a number, an NDArray, a NumPy array or a list, got "
                f"{type(value).__name__}"
            )
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, name, arr):
        if self._array is None:
            try:
                fill_value(arr, self.value)
            except (OverflowError, ValueError, TypeError) as exc:
                raise ValueError(
                    f"Constant: cannot write {self.value!r} into {name} "
                    f"({arr.dtype.__name__}): {exc}"
                ) from None
            return
        _check_broadcast(self._array.shape, arr.shape, name)
        if isinstance(self._array, NDArray):
            source, source_ctx = self._array._data, self._array.context
        else:
            source, source_ctx = self._array, None
        _backend.copy_into(arr._data, source, arr.context, source_ctx)
        arr._bump()

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Constant")
        if self._array is None:
            return _theory.constant_theory(self.value, shape, dt)
        host = self._array.asnumpy() if isinstance(self._array, NDArray) else self._array
        _check_broadcast(host.shape, shape, _shape_label(shape))
        return _theory.discrete_theory(
            "constant",
            {"value": host.tolist()},
            host,
            shape,
            dt,
            f"every element equals the value of shape {host.shape} broadcast to {shape} "
            "(point masses: no density)",
        )


def _check_broadcast(source_shape, target_shape, name) -> None:
    try:
        ok = np.broadcast_shapes(tuple(source_shape), tuple(target_shape)) == tuple(target_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"Constant: a value of shape {tuple(source_shape)} cannot fill {name} of shape "
            f"{tuple(target_shape)}; it must broadcast to that shape"
        )


@register
class Uniform(Initializer):
    """Draws weights from U(-scale, scale).

    Parameters
    ----------
    scale : float, default 0.07
        The bound of the range.

    Examples
    --------
    >>> import paramlab as mx
    >>> w = mx.nd.zeros((100,))
    >>> mx.init.Uniform(0.1)(mx.init.InitDesc('fc_weight'), w)
    >>> bool((w.abs() <= 0.1).asnumpy().all())
    True
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, scale=0.07):
        self.scale = check_real(scale, "Uniform: scale", 0.0)
        super().__init__(scale=scale)

    def _init_weight(self, name, arr):
        draw_uniform(arr, -self.scale, self.scale, "Uniform", name)

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Uniform")
        check_float(dt, "Uniform", _shape_label(shape))
        return _theory.uniform_theory(-self.scale, self.scale, shape, dt)


@register
class Normal(Initializer):
    """Draws weights from N(0, sigma²).

    Parameters
    ----------
    sigma : float, default 0.01
        The standard deviation.

    Examples
    --------
    >>> import paramlab as mx
    >>> mx.init.Normal(0.5).theory((3,)).std
    0.5
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, sigma=0.01):
        self.sigma = check_real(sigma, "Normal: sigma", 0.0)
        super().__init__(sigma=sigma)

    def _init_weight(self, name, arr):
        draw_normal(arr, 0.0, self.sigma, "Normal", name)

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Normal")
        check_float(dt, "Normal", _shape_label(shape))
        return _theory.normal_theory(0.0, self.sigma, shape, dt)


_RAND_TYPES = ("uniform", "normal")


@register
class Orthogonal(Initializer):
    """An orthogonal matrix times ``scale`` on the (shape[0], prod(shape[1:])) view.

    A matrix M of that shape is drawn from U(-1, 1) or N(0, 1) on the array's
    device, its reduced SVD M = U S Vᵀ computed there, and U (when it has M's
    shape, rows >= cols) or Vᵀ written, so that W Wᵀ = scale² I (rows <= cols)
    or Wᵀ W = scale² I (rows > cols).

    Parameters
    ----------
    scale : float, default 1.414
        The scaling factor.
    rand_type : {'uniform', 'normal'}, default 'uniform'
        The law of the matrix that is decomposed.

    Examples
    --------
    >>> import paramlab as mx
    >>> w = mx.nd.zeros((3, 5))
    >>> mx.init.Orthogonal(scale=2.0)(mx.init.InitDesc('w_weight'), w)
    >>> mx.init.Orthogonal(scale=2.0).theory((3, 5)).check(w) < 1e-5
    True
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, scale=1.414, rand_type="uniform"):
        self.scale = check_real(scale, "Orthogonal: scale")
        self.rand_type = check_choice(
            rand_type, _RAND_TYPES, "Orthogonal: rand_type", "Unknown random type"
        )
        super().__init__(scale=scale, rand_type=rand_type)

    def _check_shape(self, shape, name):
        check_choice(self.rand_type, _RAND_TYPES, "Orthogonal: rand_type", "Unknown random type")
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal initializer cannot be applied to vector {name}. It requires at "
                f"least 2-D, got shape {tuple(shape)}"
            )

    def _init_weight(self, name, arr):
        self._check_shape(arr.shape, name)
        check_float(arr.dtype, "Orthogonal", name)
        if arr.size == 0:
            return
        rows, cols = arr.shape[0], arr.size // arr.shape[0]
        work = np.float64 if arr._data.dtype == np.float64 else np.float32
        xp = _backend.xp_of(arr._data)
        ctx = arr.context
        with _backend.device_scope(ctx):
            matrix = xp.empty((rows, cols), work)
            if self.rand_type == "uniform":
                _random.fill_uniform(matrix, -1.0, 1.0, ctx)
            else:
                _random.fill_normal(matrix, 0.0, 1.0, ctx)
            u, _, vt = xp.linalg.svd(matrix, full_matrices=False)
            q = u if u.shape == matrix.shape else vt
            q *= self.scale
            arr._data[...] = q.reshape(arr.shape)
        arr._bump()

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Orthogonal")
        self._check_shape(shape, _shape_label(shape))
        check_float(dt, "Orthogonal", _shape_label(shape))
        return _theory.orthogonal_theory(self.scale, self.rand_type, shape, dt)


_RND_TYPES = ("uniform", "gaussian")
_FACTOR_TYPES = ("avg", "in", "out")
_LAWS_MAX = 1024
_laws: dict = {}  # (shape, rnd_type, factor_type, magnitude) -> Xavier._law's answer


@register
class Xavier(Initializer):
    """Glorot's initializer: U(-s, s) or N(0, s²) with s = sqrt(magnitude / factor).

    ``factor`` is ``(fan_in + fan_out) / 2`` (``'avg'``), ``fan_in`` (``'in'``) or
    ``fan_out`` (``'out'``); for ``ndim > 2`` both fans are multiplied by
    ``prod(shape[2:])``. Vectors (ndim < 2) are refused.

    Parameters
    ----------
    rnd_type : {'uniform', 'gaussian'}, default 'uniform'
    factor_type : {'avg', 'in', 'out'}, default 'avg'
    magnitude : float, default 3

    Examples
    --------
    >>> import paramlab as mx
    >>> mx.init.Xavier(factor_type='in', magnitude=2.34).dumps()
    '["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]'
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        check_choice(rnd_type, _RND_TYPES, "Xavier: rnd_type", "Unknown random type")
        check_choice(factor_type, _FACTOR_TYPES, "Xavier: factor_type", "Incorrect factor type")
        self.magnitude = check_real(magnitude, "Xavier: magnitude", 0.0)
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type

    def _law(self, shape, name) -> tuple[str, float]:
        """('uniform' or 'gaussian', s) for ``shape``; ValueError for shapes it cannot fill.

        The answer depends on the shape and the three attributes only, and many parameters
        of one shape are initialized alike: it is remembered. Only for a float ``magnitude``
        (what the constructor stores): an equal NumPy scalar would compute in its own
        precision.
        """
        magnitude = self.magnitude
        if type(magnitude) is not float:
            return self._compute_law(shape, name)
        key = (shape, self.rnd_type, self.factor_type, magnitude)
        try:
            return _laws[key]
        except KeyError:
            law = self._compute_law(shape, name)  # may raise: nothing is remembered then
        except TypeError:  # an attribute was set to an unhashable value
            return self._compute_law(shape, name)
        if len(_laws) >= _LAWS_MAX:
            _laws.clear()
        _laws[key] = law
        return law

    def _compute_law(self, shape, name) -> tuple[str, float]:
        """What :meth:`_law` answers, computed."""
        rnd_type, factor_type = self.rnd_type, self.factor_type
        if not (type(rnd_type) is str and rnd_type in _RND_TYPES) or not (
            type(factor_type) is str and factor_type in _FACTOR_TYPES
        ):  # the attributes were changed after construction: say which one is wrong
            who = type(self).__name__
            check_choice(rnd_type, _RND_TYPES, f"{who}: rnd_type", "Unknown random type")
            check_choice(factor_type, _FACTOR_TYPES, f"{who}: factor_type", "Incorrect factor type")
        if len(shape) < 2:
            raise ValueError(
                f"{type(self).__name__} initializer cannot be applied to vector {name}. It "
                f"requires at least 2-D, got shape {tuple(shape)}"
            )
        receptive = math.prod(shape[2:]) if len(shape) > 2 else 1
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        if factor_type == "avg":
            factor = (fan_in + fan_out) / 2.0
        else:
            factor = fan_in if factor_type == "in" else fan_out
        scale = math.sqrt(self.magnitude / factor) if factor > 0 else math.inf
        return rnd_type, scale

    def _init_weight(self, name, arr):
        raw = arr._data
        rnd_type, scale = self._law(raw.shape, name)
        who = type(self).__name__
        if raw.size == 0:
            check_float(raw.dtype.type, who, name)  # (draw_* check it otherwise)
            return
        if rnd_type == "uniform":
            draw_uniform(arr, -scale, scale, who, name)
        else:
            draw_normal(arr, 0.0, scale, who, name)

    def theory(self, shape, dtype="float32"):
        who = type(self).__name__
        shape, dt = normalize_shape(shape, dtype, who)
        rnd_type, scale = self._law(shape, _shape_label(shape))
        check_float(dt, who, _shape_label(shape))
        if math.prod(shape) == 0:
            return _theory.no_theory(shape, dt, "the array is empty: no element to describe")
        if rnd_type == "uniform":
            return _theory.uniform_theory(-scale, scale, shape, dt)
        return _theory.normal_theory(0.0, scale, shape, dt)


@register
class MSRAPrelu(Xavier):
    """He et al.'s initializer: Xavier('gaussian', factor_type, 2 / (1 + slope²)).

    Parameters
    ----------
    factor_type : {'avg', 'in', 'out'}, default 'avg'
    slope : float, default 0.25
        The initial slope of the PReLU nonlinearities.

    Examples
    --------
    >>> import paramlab as mx
    >>> mx.init.MSRAPrelu().dumps()
    '["msraprelu", {"factor_type": "avg", "slope": 0.25}]'
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, factor_type="avg", slope=0.25):
        self.slope = check_real(slope, "MSRAPrelu: slope")
        super().__init__("gaussian", factor_type, 2.0 / (1.0 + self.slope**2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """The bilinear upsampling kernel, for 4-D weights (out, in, height, width).

    With k = width, f = ceil(k / 2) and c = (2f - 1 - f mod 2) / (2f), the
    element at column x and row y is (1 - |x/f - c|)(1 - |y/f - c|), the same
    for every (out, in) pair (computed in float32, as MXNet does).

    >>> import paramlab as mx
    >>> w = mx.nd.zeros((1, 1, 4, 4))
    >>> mx.init.Bilinear()(mx.init.InitDesc('up_weight'), w)
    >>> w.asnumpy()[0, 0, 1].tolist()
    [0.1875, 0.5625, 0.5625, 0.1875]
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self):
        super().__init__()

    @staticmethod
    def _plane(shape, name) -> np.ndarray:
        """The (height, width) kernel in float32; ValueError unless ``shape`` is 4-D."""
        if len(shape) != 4:
            raise ValueError(
                f"Bilinear initializer needs a 4-D weight (out, in, height, width) for {name}, "
                f"got shape {tuple(shape)}"
            )
        height, width = shape[2], shape[3]
        if height == 0 or width == 0:
            return np.zeros((height, width), np.float32)
        f = np.ceil(width / 2.0)
        c = (2 * f - 1 - f % 2) / (2.0 * f)
        across = 1 - np.abs(np.arange(width) / f - c)
        down = 1 - np.abs(np.arange(height) / f - c)
        return (across[None, :] * down[:, None]).astype(np.float32)

    def _init_weight(self, name, arr):
        plane = self._plane(arr.shape, name)
        with _backend.device_scope(arr.context):
            arr._data[...] = _backend.to_context(plane.astype(arr._data.dtype), arr.context)
        arr._bump()

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "Bilinear")
        plane = self._plane(shape, _shape_label(shape))
        return _theory.discrete_theory(
            "bilinear",
            {"height": shape[2], "width": shape[3]},
            plane,
            shape,
            dt,
            "deterministic: every (out, in) slice holds the same bilinear kernel "
            "(1 - |x/f - c|)(1 - |y/f - c|) (point masses: no density)",
        )


@register
class LSTMBias(Initializer):
    """LSTM biases: 0 everywhere except the forget gate, which gets ``forget_bias``.

    The gates are stacked (i, f, c, o) along axis 0; with n = shape[0] // 4, rows
    [n, 2n) are the forget gate.

    Parameters
    ----------
    forget_bias : float, default 1.0

    Examples
    --------
    >>> import paramlab as mx
    >>> b = mx.nd.zeros((8,))
    >>> mx.init.LSTMBias(2.0)(mx.init.InitDesc('lstm_bias', attrs={'__init__': 'lstmbias'}), b)
    >>> b.asnumpy().tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """

    _fills_everything = True  # see Initializer._fills_everything

    def __init__(self, forget_bias=1.0):
        self.forget_bias = check_real(forget_bias, "LSTMBias: forget_bias")
        super().__init__(forget_bias=forget_bias)

    @staticmethod
    def _gate(shape, name) -> int:
        if len(shape) < 1:
            raise ValueError(
                f"LSTMBias initializer needs at least 1-D (4·hidden,) for {name}, got shape ()"
            )
        return shape[0] // 4

    def _init_weight(self, name, arr):
        n = self._gate(arr.shape, name)
        with _backend.device_scope(arr.context):
            arr._data[...] = 0
            arr._data[n : 2 * n] = self.forget_bias
        arr._bump()

    def theory(self, shape, dtype="float32"):
        shape, dt = normalize_shape(shape, dtype, "LSTMBias")
        n = self._gate(shape, _shape_label(shape))
        reference = np.zeros((shape[0],) + (1,) * (len(shape) - 1))
        reference[n : 2 * n] = self.forget_bias
        return _theory.discrete_theory(
            "discrete",
            {"forget_bias": self.forget_bias, "forget_rows": (n, 2 * n)},
            reference,
            shape,
            dt,
            f"rows [{n}, {2 * n}) (the forget gate) equal {self.forget_bias!r}, every other "
            "element is 0 (point masses: no density)",
        )
