"""Argument checks shared by the neural-network spellings (:mod:`paramlab.ndarray.nn`).

Each check raises a ValueError or TypeError naming the operator, the argument,
what was expected and what was given.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _backend
from .. import random as _random
from ._calling import emit
from .ndarray import NDArray

__all__ = [
    "check_array",
    "check_choice",
    "check_positive_int",
    "check_shape",
    "check_bias",
    "spatial_tuple",
    "spatial_rank",
    "as_2d_geometry",
    "emit",
    "draw_uniform",
]


def check_array(x, op, name):
    """``x`` if it is an NDArray (or ``mx.np.ndarray``); TypeError otherwise."""
    if not isinstance(x, NDArray):
        raise TypeError(f"{op}: {name} must be an NDArray, got {type(x).__name__}")
    return x


def check_choice(value, valid, op, name):
    """``value`` if it is one of ``valid``; ValueError listing them otherwise."""
    if value not in valid:
        listed = ", ".join(repr(v) for v in sorted(valid))
        raise ValueError(f"{op}: {name} must be one of {listed}, got {value!r}")
    return value


def check_positive_int(value, op, name, minimum=1):
    """``value`` as an int if it is an integer >= ``minimum``; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_shape(x, expected, op, name):
    """ValueError naming both shapes unless ``x.shape == expected``."""
    if tuple(x.shape) != tuple(expected):
        raise ValueError(f"{op}: {name} must have shape {tuple(expected)}, got {tuple(x.shape)}")


def check_bias(bias, no_bias, op):
    """MXNet's rule: a bias is passed exactly when ``no_bias`` is False."""
    if no_bias and bias is not None:
        raise ValueError(
            f"{op}: a bias was given with no_bias=True; pass bias=None or no_bias=False"
        )
    if not no_bias and bias is None:
        raise ValueError(f"{op}: no_bias=False needs a bias array; pass one or set no_bias=True")
    return None if no_bias else check_array(bias, op, "bias")


def spatial_tuple(value, ndim, op, name, default, minimum):
    """A kernel-geometry tuple of length ``ndim`` (``()``/None -> ``default``)."""
    if value is None or value == ():
        return (default,) * ndim
    if isinstance(value, numbers.Integral):
        value = (value,)
    value = tuple(value)
    if len(value) != ndim:
        raise ValueError(f"{op}: {name} must have {ndim} entries like the kernel, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
            raise ValueError(
                f"{op}: every {name} entry must be an integer >= {minimum}, got {value!r}"
            )
    return tuple(int(v) for v in value)


def spatial_rank(data, op, layout):
    """1 for NCW, 2 for NCHW data; other ranks and layouts are refused."""
    if data.ndim not in (3, 4):
        raise ValueError(f"{op}: data must be 3-D (NCW) or 4-D (NCHW), got shape {data.shape}")
    rank = data.ndim - 2
    expected = "NCW" if rank == 1 else "NCHW"
    if layout not in (None, expected):
        raise ValueError(
            f"{op}: layout must be None or {expected!r} for {data.ndim}-D data, got {layout!r}"
        )
    return rank


def as_2d_geometry(values):
    """1-D geometry as the 2-D geometry of an image of height 1."""
    kernel, stride, dilate, pad = values
    if len(kernel) == 2:
        return kernel, stride, dilate, pad
    return (1, kernel[0]), (1, stride[0]), (1, dilate[0]), (0, pad[0])


def draw_uniform(shape, dtype, low, high, ctx):
    """A raw array of U[low, high) draws from ``ctx``'s stream."""
    xp = _backend.xp_for(ctx)
    draw_dtype = dtype if np.dtype(dtype).kind == "f" else np.float32
    with _backend.device_scope(ctx):
        raw = xp.empty(shape, draw_dtype)
    return _random.fill_uniform(raw, low, high, ctx)
