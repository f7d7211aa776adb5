"""``mx.np.ndarray``: an NDArray with NumPy semantics (0-d reductions, bool comparisons)."""

from __future__ import annotations

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
        if "dtype=" in text:
            if dt == _np.float32:
                text = text[: text.rindex(",")] + ")"
        elif dt not in (_np.dtype(_np.float32), _np.dtype(_np.bool_)):
            text = text[:-1] + f", dtype={dt})"
        if self._ctx.kind == "gpu":
            text = text[:-1] + f", ctx={self._ctx})"
        return text

    def __str__(self):
        return str(self._host_for_print())

    def as_nd_ndarray(self):
        """The same memory as a 1.x ``NDArray``."""
        return NDArray._wrap(self._data, self._ctx)

    def as_np_ndarray(self):
        return self

    def tolist(self):
        """The values as nested Python lists."""
        return self.asnumpy().tolist()


ndarray._result_cls = ndarray

