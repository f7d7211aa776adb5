"""Reductions: sum, mean, max, min, prod, norm (with axis and keepdims)."""

from __future__ import annotations

import numpy as np

from .._autograd import Function
from .._backend import xp_of


def normalize_axis(axis, ndim, exclude=False):
    """MXNet's ``axis`` (None, int or tuple; ``exclude`` inverts it) as a sorted tuple."""
    if axis is None or axis == ():
        axes = tuple(range(ndim))
    else:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        for a in axes:
            if not -ndim <= a < max(ndim, 1):
                raise IndexError(f"reduction axis {a} is out of range for an array of {ndim} dims")
        axes = tuple(sorted({a % ndim for a in axes})) if ndim else ()
    if exclude:
        axes = tuple(i for i in range(ndim) if i not in axes)
    return axes


class _Reduce(Function):
    """Reduce over ``axes``; ``as_1d`` gives MXNet 1.x's shape (1,) for a full reduction."""

    def __init__(self, axes, keepdims=False, as_1d=False):
        self.axes, self.keepdims, self.as_1d = axes, keepdims, as_1d

    def forward(self, a):
        self.in_shape, self.dtype = a.shape, a.dtype
        out = self.reduce(a)
        self.kept_shape = tuple(1 if i in self.axes else n for i, n in enumerate(a.shape))
        if self.keepdims:
            out = out.reshape(self.kept_shape)
        elif out.ndim == 0 and self.as_1d:
            out = out.reshape(1)
        return out

    def expand(self, g):
        return g.reshape(self.kept_shape)

    def out_dtype(self, dt, mean=False):
        """MXNet's result dtype: 1.x (``as_1d``) keeps the input's; NumPy mode gives
        bool sums int64 and integer means float32."""
        if dt.kind == "f" or self.as_1d:
            return dt
        if mean:
            return np.dtype(np.float32)
        return np.dtype(np.int64) if dt.kind == "b" else dt


class Sum(_Reduce):
    def reduce(self, a):
        return a.sum(axis=self.axes, dtype=self.out_dtype(a.dtype))

    def backward(self, g):
        xp = xp_of(g)
        return (xp.broadcast_to(self.expand(g), self.in_shape).astype(self.dtype),)


class Mean(_Reduce):
    def reduce(self, a):
        n = 1
        for i in self.axes:
            n *= a.shape[i]
        self.n = max(n, 1)
        return a.mean(axis=self.axes, dtype=self.out_dtype(a.dtype, mean=True))

    def backward(self, g):
        xp = xp_of(g)
        return ((xp.broadcast_to(self.expand(g), self.in_shape) / self.n).astype(self.dtype),)


class Prod(_Reduce):
    def reduce(self, a):
        self.a = a
        self.out = a.prod(axis=self.axes, keepdims=True, dtype=self.out_dtype(a.dtype))
        return self.out.reshape([n for i, n in enumerate(a.shape) if i not in self.axes])

    def backward(self, g):
        # exact for inputs without zeros; the usual formula elsewhere
        return (self.expand(g) * self.out / self.a,)


class _Extreme(_Reduce):
    """max/min: as in MXNet, every element equal to the extreme gets the full gradient."""

    def backward(self, g):
        hit = self.a == self.best.reshape(self.kept_shape)
        return ((self.expand(g) * hit).astype(self.dtype),)


class Max(_Extreme):
    def reduce(self, a):
        self.a = a
        self.best = a.max(axis=self.axes)
        return self.best


class Min(_Extreme):
    def reduce(self, a):
        self.a = a
        self.best = a.min(axis=self.axes)
        return self.best


class Norm(_Reduce):
    """L2 (``ord=2``) or L1 (``ord=1``) norm over ``axes``."""

    def __init__(self, axes, keepdims=False, as_1d=False, ord=2):
        super().__init__(axes, keepdims, as_1d)
        self.ord = ord

    def reduce(self, a):
        xp = xp_of(a)
        self.a = a
        if self.ord == 1:
            return abs(a).sum(axis=self.axes)
        self.out = xp.sqrt((a * a).sum(axis=self.axes))
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        if self.ord == 1:
            return (self.expand(g) * xp.sign(self.a),)
        denom = self.out.reshape(self.kept_shape)
        safe = xp.where(denom == 0, 1, denom)
        return ((self.expand(g) * self.a / safe).astype(self.dtype),)
