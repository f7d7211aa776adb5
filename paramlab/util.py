"""NumPy-shape and NumPy-array modes (``mx.util``, ``npx.set_np``).

In NumPy-shape mode an unknown dimension is written -1 (instead of 0) and 0-d
arrays are valid shapes; in NumPy-array mode Gluon blocks return ``mx.np.ndarray``.
Both are per thread, like MXNet's.
"""

from __future__ import annotations

import contextlib
import functools
import threading

__all__ = [
    "is_np_shape",
    "set_np_shape",
    "np_shape",
    "is_np_array",
    "set_np_array",
    "np_array",
    "set_np",
    "reset_np",
    "use_np",
    "use_np_shape",
    "use_np_array",
]

class _Mode(threading.local):
    """Per-thread modes; class defaults make reads cheap (no AttributeError on first use)."""

    shape = False
    array = False


_mode = _Mode()


def is_np_shape() -> bool:
    """Whether NumPy-shape semantics are on (unknown dims are -1, 0-d shapes valid)."""
    return _mode.shape


def set_np_shape(active) -> bool:
    """Turn NumPy-shape semantics on or off; return the previous state."""
    prev = is_np_shape()
    _mode.shape = bool(active)
    return prev


def is_np_array() -> bool:
    """Whether NumPy-array semantics are on (blocks produce ``mx.np.ndarray``)."""
    return _mode.array


def set_np_array(active) -> bool:
    """Turn NumPy-array semantics on or off; return the previous state."""
    prev = is_np_array()
    _mode.array = bool(active)
    return prev


@contextlib.contextmanager
def np_shape(active=True):
    """A scope (``with mx.util.np_shape(True):``) with NumPy-shape semantics set."""
    prev = set_np_shape(active)
    try:
        yield
    finally:
        set_np_shape(prev)


@contextlib.contextmanager
def np_array(active=True):
    """A scope with NumPy-array semantics set."""
    prev = set_np_array(active)
    try:
        yield
    finally:
        set_np_array(prev)


def set_np(shape=True, array=True, dtype=False):
    """Turn on NumPy semantics (``npx.set_np()``)."""
    if array and not shape:
        raise ValueError("set_np: NumPy-array semantics require NumPy-shape semantics (shape=True)")
    set_np_shape(shape)
    set_np_array(array)


def reset_np():
    """Back to MXNet 1.x semantics (``npx.reset_np()``)."""
    set_np(shape=False, array=False)


def _scoped(func, shape, array):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        prev_shape, prev_array = set_np_shape(shape), set_np_array(array)
        try:
            return func(*args, **kwargs)
        finally:
            set_np_shape(prev_shape)
            set_np_array(prev_array)

    return wrapper


def use_np(func):
    """Decorator: run ``func`` (or a class's methods) with NumPy semantics."""
    if isinstance(func, type):
        for name, attr in list(vars(func).items()):
            if callable(attr) and not name.startswith("__"):
                setattr(func, name, _scoped(attr, True, True))
            elif name in ("__init__", "__call__") and callable(attr):
                setattr(func, name, _scoped(attr, True, True))
        return func
    return _scoped(func, True, True)


def use_np_shape(func):
    """Decorator: run ``func`` with NumPy-shape semantics."""
    return _scoped(func, True, is_np_array())


def use_np_array(func):
    """Decorator: run ``func`` with NumPy-array semantics."""
    return _scoped(func, is_np_shape(), True)
