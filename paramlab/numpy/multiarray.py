"""``mx.np.ndarray``: an NDArray with NumPy semantics (0-d reductions, bool comparisons)."""

from __future__ import annotations

import re

import numpy as _np

from ..ndarray.ndarray import NDArray

__all__ = ["ndarray"]


class ndarray(NDArray):  # noqa: N801 - MXNet's name
    """An array with NumPy semantics, as MXNet's ``mx.np.ndarray``.

    >>> import paramlab as mx
    >>> mx.np.array([[1, 2], [3, 4]]).sum()
    array(10.)
    """

    __slots__ = ()
    _np_semantics = True

    @property
    def dtype(self):
        """The element type as a ``numpy.dtype``."""
        return self._data.dtype

    def __repr__(self):
        text = repr(self._host_for_print())
        dt = self._data.dtype
        if self.size:  # NumPy >= 2.2 names the shape of summarised arrays; MXNet's NumPy did not
            text = re.sub(r",\s*shape=\([0-9, ]*\)", "", text)
        if "dtype=" in text:
            if dt == _np.float32:
                text = text[: text.rindex(",")] + ")"
        elif dt not in (_np.dtype(_np.float32), _np.dtype(_np.bool_)):
            text = text[:-1] + f", dtype={dt})"
        if self._ctx.device_type != "cpu":
            text = text[:-1] + f", ctx={self._ctx})"
        return text

    def __str__(self):
        text = str(self._host_for_print())
        if self._ctx.device_type == "cpu" or self.ndim == 0:
            return text
        return f"{text} @{self._ctx}"

    def __format__(self, fmt):
        if self.ndim == 0:
            return format(self.item(), fmt)
        if not fmt:
            return format(str(self), fmt)
        raise TypeError(f"cannot format an mx.np.ndarray of shape {self.shape} with {fmt!r}")

    def as_nd_ndarray(self):
        """The same memory as a 1.x ``NDArray``."""
        return NDArray._wrap(self._data, self._ctx)

    def as_np_ndarray(self):
        return self

    def all(self, axis=None, keepdims=False):
        """Whether every element (along ``axis``) is non-zero; a bool array."""
        return self._logical("all", axis, keepdims)

    def any(self, axis=None, keepdims=False):
        """Whether some element (along ``axis``) is non-zero; a bool array."""
        return self._logical("any", axis, keepdims)

    def _logical(self, name, axis, keepdims):
        out = getattr(self._data, name)(axis=axis, keepdims=keepdims)
        return ndarray._wrap(out, self._ctx)

    def tolist(self):
        """The values as nested Python lists."""
        return self.asnumpy().tolist()


ndarray._result_cls = ndarray

