"""``mx.np.random``: NumPy-style draws (``size=``) returning ``mx.np.ndarray``."""

from __future__ import annotations

from ..ndarray import random as _r
from .multiarray import ndarray

__all__ = ["uniform", "normal", "randint", "seed"]


def _size(size):
    return () if size is None else size


def uniform(low=0.0, high=1.0, size=None, dtype=None, ctx=None, device=None, out=None):
    """Values from U[low, high)."""
    return _r.uniform(low, high, _size(size), dtype, ctx or device, out, cls=ndarray)


def normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None, device=None, out=None):
    """Values from N(loc, scale**2)."""
    return _r.normal(loc, scale, _size(size), dtype, ctx or device, out, cls=ndarray)


def randint(low, high=None, size=None, dtype=None, ctx=None, device=None, out=None):
    """Integers from [low, high)."""
    if high is None:
        low, high = 0, low
    return _r.randint(low, high, _size(size), dtype or "int64", ctx or device, out, cls=ndarray)


def seed(seed):
    """Seed every stream (``mx.random.seed``)."""
    from .. import random  # paramlab.random (this module is paramlab.numpy.random)

    random.seed(seed)
