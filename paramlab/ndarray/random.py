"""``mx.nd.random``: uniform, normal and randint arrays drawn from the context's stream."""

from __future__ import annotations

from .. import _backend
from .. import random as _random
from .._dtypes import canonical, default_float
from ..context import as_context
from ._keywords import mxnet_keywords
from .creation import normalize_shape
from .ndarray import NDArray

__all__ = ["uniform", "normal", "randn", "randint", "shuffle"]


def _target(shape, dtype, ctx, out, what, cls):
    """The dense array to draw into: ``out`` itself, a dense one of its shape when ``out``
    is sparse (written into it by :func:`_finish_draw`), or a new one."""
    if out is not None:
        if not isinstance(out, NDArray):
            raise TypeError(f"{what}: out must be an NDArray, got {type(out).__name__}")
        out._check_write()
        if out.stype == "default":
            return out
        shape, dtype, ctx = out.shape, out.dtype, out.context
    ctx = as_context(ctx, f"{what}: ctx")
    shape = normalize_shape(1 if shape is None else shape, what)
    dt = canonical(default_float if dtype is None else dtype, f"{what}: dtype")
    xp = _backend.xp_for(ctx)
    with _backend.device_scope(ctx):
        return cls._wrap(xp.empty(shape, dt), ctx)


def _finish_draw(arr, out):
    """``arr``, drawn in place; or ``out`` once a sparse ``out`` has taken ``arr``'s values."""
    if out is None or out is arr:
        arr._bump()
        return arr
    return arr.copyto(out)


@mxnet_keywords("name")
def uniform(low=0.0, high=1.0, shape=None, dtype=None, ctx=None, out=None, cls=NDArray, **kw):
    """Values drawn from U[low, high)."""
    arr = _target(shape, dtype, ctx, out, "uniform", cls)
    _random.fill_uniform(arr._data, float(low), float(high), arr.context)
    return _finish_draw(arr, out)


@mxnet_keywords("name")
def normal(loc=0.0, scale=1.0, shape=None, dtype=None, ctx=None, out=None, cls=NDArray, **kw):
    """Values drawn from N(loc, scale**2)."""
    if scale < 0:
        raise ValueError(f"normal: scale must be non-negative, got {scale!r}")
    arr = _target(shape, dtype, ctx, out, "normal", cls)
    _random.fill_normal(arr._data, float(loc), float(scale), arr.context)
    return _finish_draw(arr, out)


@mxnet_keywords("name")
def randn(*shape, loc=0.0, scale=1.0, dtype=None, ctx=None, **kw):
    """Standard normal values of the given shape."""
    return normal(loc, scale, shape=shape or (1,), dtype=dtype, ctx=ctx)


@mxnet_keywords("name")
def randint(low, high, shape=None, dtype=None, ctx=None, out=None, cls=NDArray, **kw):
    """Integers drawn uniformly from [low, high) (int32 by default)."""
    ctx = as_context(ctx, "randint: ctx")
    dt = canonical("int32" if dtype is None else dtype, "randint: dtype")
    if dt.kind not in "iu":
        raise TypeError(f"randint: dtype must be an integer type, got {dt}")
    shape = normalize_shape(1 if shape is None else shape, "randint")
    raw = _random.draw_integers(shape, int(low), int(high), dt, ctx)
    if out is not None:
        out[:] = cls._wrap(raw, ctx)
        return out
    return cls._wrap(raw, ctx)


@mxnet_keywords("name")
def shuffle(data, **kw):
    """A copy of ``data`` with its first axis randomly permuted."""
    perm = _random.draw_permutation(data.shape[0], data.context)
    idx = _backend.to_context(perm, data.context)
    return type(data)._result_cls._wrap(data._data[idx], data.context)
