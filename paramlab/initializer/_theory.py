"""What an initializer draws, stated as data: :class:`Theory` and the laws it can take.

A :class:`Theory` names a family (``'uniform'``, ``'normal'``, ``'constant'``,
``'discrete'``, ``'bilinear'``, ``'orthogonal'`` or ``'none'``), its parameters,
the mean, standard deviation and support of the values, and, where a density
exists, vectorized ``pdf`` and ``cdf`` functions. Laws without a density state an
``invariant`` instead, and :meth:`Theory.check` measures how far an array is from
it (the Kolmogorov-Smirnov distance for continuous laws, the largest deviation
from the exact values for deterministic ones, the orthogonality defect for
orthogonal matrices).

>>> import paramlab as mx
>>> t = mx.init.Uniform(0.5).theory((3, 4))
>>> t.family, dict(t.params)
('uniform', {'low': -0.5, 'high': 0.5})
>>> float(t.cdf(0.25))
0.75
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import _backend
from ..context import Context

__all__ = [
    "Theory",
    "uniform_theory",
    "normal_theory",
    "constant_theory",
    "discrete_theory",
    "orthogonal_theory",
    "no_theory",
]


@dataclasses.dataclass(frozen=True)
class Theory:
    """The law of the values an initializer writes into an array of a given shape and dtype.

    Attributes
    ----------
    family : str
        ``'uniform'``, ``'normal'``, ``'constant'``, ``'discrete'``, ``'bilinear'``,
        ``'orthogonal'`` or ``'none'`` (no law: see :attr:`invariant`).
    params : Mapping
        The family's parameters, e.g. ``{'low': -a, 'high': a}``, ``{'loc': 0.0,
        'scale': s}`` or ``{'value': v}``.
    shape : tuple
        The shape the theory was stated for.
    dtype : str
        The dtype the theory was stated for.
    mean, std : float or None
        The mean and standard deviation of one element (None where there is no law).
    support : tuple of float
        ``(lo, hi)``: every written value lies in this closed range (the law's
        support, widened by the dtype's rounding of its ends).
    invariant : str
        A sentence stating what always holds, or why no law exists.
    pdf, cdf : callable or None
        Vectorized density and distribution functions on NumPy arrays (None where
        the law has no density, or no cdf). The cdf is exact: it can be used as
        the reference of a Kolmogorov-Smirnov test.
    """

    family: str
    params: Mapping[str, Any] = dataclasses.field(hash=False)
    shape: tuple
    dtype: str
    mean: float | None
    std: float | None
    support: tuple[float, float]
    invariant: str
    pdf: Callable | None = dataclasses.field(default=None, compare=False, repr=False)
    cdf: Callable | None = dataclasses.field(default=None, compare=False, repr=False)
    _check: Callable | None = dataclasses.field(default=None, compare=False, repr=False)

    def check(self, array) -> float | None:
        """Measure how far ``array`` is from this theory, on the array's device.

        Parameters
        ----------
        array : NDArray or numpy.ndarray
            Values of shape :attr:`shape`.

        Returns
        -------
        float or None
            The Kolmogorov-Smirnov distance for continuous laws, the largest
            absolute deviation from the exact values for deterministic ones, the
            largest entry of ``|W Wᵀ / scale² - I|`` (or ``Wᵀ W``) for orthogonal
            matrices; None where the theory states nothing to check.
        """
        raw, ctx = _raw_and_context(array)
        if tuple(raw.shape) != tuple(self.shape):
            raise ValueError(
                f"Theory.check: the array has shape {tuple(raw.shape)} but this theory is "
                f"stated for shape {self.shape}"
            )
        if self._check is None or raw.size == 0:
            return None
        with _backend.device_scope(ctx):
            return float(self._check(raw, ctx))


def _raw_and_context(array):
    from ..ndarray.ndarray import NDArray

    if isinstance(array, NDArray):
        return array._data, array.context
    if _backend.is_gpu_array(array):
        raise TypeError("Theory.check: pass the NDArray that holds a GPU array, not the raw array")
    return np.asarray(array), Context("cpu", 0)


# --------------------------------------------------------------------------- helpers
def _dtype_name(dtype) -> str:
    return np.dtype(dtype).name


def _rounded(value: float, dtype) -> float:
    """``value`` as stored in ``dtype`` (itself for non-float dtypes)."""
    dt = np.dtype(dtype)
    if dt.kind != "f":
        return float(value)
    with np.errstate(over="ignore"):
        return float(np.asarray(value, dtype=np.float64).astype(dt))


def _widened(low: float, high: float, dtype) -> tuple[float, float]:
    return min(low, _rounded(low, dtype)), max(high, _rounded(high, dtype))


def _as_float(x):
    """``x`` as a float64 array of its own module (NumPy, or CuPy for GPU arrays)."""
    if _backend.is_gpu_array(x):
        return x.astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def _ks_distance(raw, cdf) -> float:
    """sup |F_n - F| of the sample ``raw`` against the continuous ``cdf`` (on its device)."""
    xp = _backend.xp_of(raw)
    sample = xp.sort(raw.reshape(-1).astype(np.float64))
    n = sample.size
    theory = cdf(sample)
    upper = xp.arange(1, n + 1, dtype=np.float64) / n
    return float(max(xp.max(upper - theory), xp.max(theory - (upper - 1.0 / n))))


def _max_deviation(raw, ctx, reference: np.ndarray) -> float:
    """max |raw - reference| with a small, broadcastable host ``reference``."""
    xp = _backend.xp_of(raw)
    ref = _backend.to_context(reference, ctx)
    return float(xp.max(xp.abs(raw.astype(np.float64) - ref.astype(np.float64))))


def _params(**kwargs) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(kwargs))


# --------------------------------------------------------------------------- laws
def uniform_theory(low: float, high: float, shape, dtype) -> Theory:
    """U[low, high] in ``dtype`` (a point mass when ``low == high``)."""
    low, high = float(low), float(high)
    if low == high:
        return constant_theory(low, shape, dtype)
    width = high - low

    def pdf(x):
        x = _as_float(x)
        xp = _backend.xp_of(x)
        return xp.where((x >= low) & (x <= high), 1.0 / width, 0.0)

    def cdf(x):
        x = _as_float(x)
        xp = _backend.xp_of(x)
        return xp.clip((x - low) / width, 0.0, 1.0)

    return Theory(
        family="uniform",
        params=_params(low=low, high=high),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=(low + high) / 2.0,
        std=width / math.sqrt(12.0),
        support=_widened(low, high, dtype),
        invariant=f"every element is drawn independently from U[{low!r}, {high!r}]",
        pdf=pdf,
        cdf=cdf,
        _check=lambda raw, ctx: _ks_distance(raw, cdf),
    )


def normal_theory(loc: float, scale: float, shape, dtype) -> Theory:
    """N(loc, scale²) in ``dtype`` (a point mass when ``scale == 0``)."""
    loc, scale = float(loc), float(scale)
    if scale == 0.0:
        return constant_theory(loc, shape, dtype)
    norm = 1.0 / (scale * math.sqrt(2.0 * math.pi))

    def pdf(x):
        x = _as_float(x)
        xp = _backend.xp_of(x)
        z = (x - loc) / scale
        return norm * xp.exp(-0.5 * z * z)

    def cdf(x):
        x = _as_float(x)
        return _backend.special_module(x).ndtr((x - loc) / scale)

    return Theory(
        family="normal",
        params=_params(loc=loc, scale=scale),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=loc,
        std=scale,
        support=(-math.inf, math.inf),
        invariant=f"every element is drawn independently from N({loc!r}, {scale!r}²)",
        pdf=pdf,
        cdf=cdf,
        _check=lambda raw, ctx: _ks_distance(raw, cdf),
    )


def _step_cdf(values: np.ndarray, weights: np.ndarray):
    """The exact cdf of point masses ``weights`` at the sorted distinct ``values``."""
    cumulative = np.concatenate(([0.0], np.cumsum(weights)))
    cumulative[-1] = 1.0

    def cdf(x):
        x = np.asarray(x, dtype=np.float64)
        return cumulative[np.searchsorted(values, x, side="right")]

    return cdf


def constant_theory(value, shape, dtype) -> Theory:
    """A point mass at ``value`` as stored in ``dtype``."""
    stored = np.asarray(value).astype(dtype)
    v = float(stored)
    return Theory(
        family="constant",
        params=_params(value=v),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=v,
        std=0.0,
        support=(v, v),
        invariant=f"every element equals {v!r} (a point mass: no density)",
        pdf=None,
        cdf=_step_cdf(np.array([v]), np.array([1.0])),
        _check=lambda raw, ctx: _max_deviation(raw, ctx, stored),
    )


def discrete_theory(family, params, reference, shape, dtype, invariant) -> Theory:
    """The deterministic values ``reference`` (broadcastable to ``shape``), stored in ``dtype``.

    The law is that of one element picked at random: point masses at the distinct
    values, weighted by how often they occur.
    """
    stored = np.asarray(reference).astype(dtype)
    distinct, counts = _distinct_counts(stored, shape)
    if distinct.size:
        weights = counts / counts.sum()
        mean = float(np.dot(weights, distinct))
        std = math.sqrt(max(float(np.dot(weights, (distinct - mean) ** 2)), 0.0))
        support = (float(distinct[0]), float(distinct[-1]))
        cdf = _step_cdf(distinct, weights)
    else:  # an empty array: no element to describe
        mean, std, support, cdf = None, None, (math.nan, math.nan), None
    return Theory(
        family=family,
        params=types.MappingProxyType(dict(params)),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=mean,
        std=std,
        support=support,
        invariant=invariant,
        pdf=None,
        cdf=cdf,
        _check=lambda raw, ctx: _max_deviation(raw, ctx, stored),
    )


def _distinct_counts(stored: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``stored`` broadcast to ``shape`` and how often each occurs."""
    if math.prod(shape) == 0:
        return np.zeros(0), np.zeros(0)
    repeat = math.prod(shape) // max(stored.size, 1)
    distinct, counts = np.unique(stored.astype(np.float64).reshape(-1), return_counts=True)
    return distinct, counts.astype(np.float64) * repeat


def orthogonal_theory(scale: float, rand_type: str, shape, dtype) -> Theory:
    """An orthogonal matrix scaled by ``scale``, on the (shape[0], prod(shape[1:])) view."""
    rows, cols = int(shape[0]), math.prod(shape[1:])
    scale = float(scale)
    by_rows = rows <= cols
    if by_rows:
        invariant = (
            f"W Wᵀ = scale² I with W the ({rows}, {cols}) view and scale = {scale!r}: the rows "
            "are orthogonal and have norm |scale|"
        )
    else:
        invariant = (
            f"Wᵀ W = scale² I with W the ({rows}, {cols}) view and scale = {scale!r}: the columns "
            "are orthogonal and have norm |scale|"
        )

    def check(raw, ctx):
        xp = _backend.xp_of(raw)
        w = raw.reshape(rows, cols).astype(np.float64)
        gram = w @ w.T if by_rows else w.T @ w
        gram /= scale * scale
        gram -= xp.eye(gram.shape[0], dtype=np.float64)
        return xp.max(xp.abs(gram))

    bound = abs(scale)
    return Theory(
        family="orthogonal",
        params=_params(
            scale=scale, rand_type=rand_type, rows=rows, cols=cols, axis=1 if by_rows else 0
        ),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=0.0,
        std=bound / math.sqrt(max(rows, cols, 1)),
        support=_widened(-bound, bound, dtype),
        invariant=invariant,
        pdf=None,
        cdf=None,
        _check=check if scale != 0.0 else None,
    )


def no_theory(shape, dtype, invariant: str, **params) -> Theory:
    """No single law: ``invariant`` says why, ``params`` may describe the pieces."""
    return Theory(
        family="none",
        params=types.MappingProxyType(params),
        shape=tuple(shape),
        dtype=_dtype_name(dtype),
        mean=None,
        std=None,
        support=(-math.inf, math.inf),
        invariant=invariant,
    )
