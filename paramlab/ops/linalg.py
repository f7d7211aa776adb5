"""Matrix products: dot and batch_dot (with MXNet's transpose flags)."""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of


class Dot(Function):
    """MXNet's ``dot``: contract the last axis of ``a`` with the first axis of ``b``."""

    def __init__(self, transpose_a=False, transpose_b=False):
        self.ta, self.tb = transpose_a, transpose_b

    def _operands(self, a, b):
        if self.ta:
            a = a.T
        if self.tb:
            b = b.T
        return a, b

    def forward(self, a, b):
        self.a, self.b = a, b
        x, y = self._operands(a, b)
        if x.ndim <= 2 and y.ndim <= 2:
            return x @ y if x.ndim and y.ndim else x * y
        return xp_of(x).tensordot(x, y, axes=1)

    def backward(self, g):
        x, y = self._operands(self.a, self.b)
        need_a, need_b = self.needs_input_grad
        gx = gy = None
        if x.ndim == 2 and y.ndim == 2:
            gx = g @ y.T if need_a else None
            gy = x.T @ g if need_b else None
        else:
            xa = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
            yb = y.reshape(y.shape[0], -1) if y.ndim else y.reshape(1, 1)
            g2 = g.reshape(xa.shape[0], yb.shape[1])
            gx = (g2 @ yb.T).reshape(x.shape) if need_a else None
            gy = (xa.T @ g2).reshape(y.shape) if need_b else None
        if gx is not None and self.ta:
            gx = gx.T
        if gy is not None and self.tb:
            gy = gy.T
        return gx, gy


class BatchDot(Function):
    """Batched matrix product of (B, n, k) and (B, k, m) arrays."""

    def __init__(self, transpose_a=False, transpose_b=False):
        self.ta, self.tb = transpose_a, transpose_b

    def forward(self, a, b):
        self.a, self.b = a, b
        x = a.swapaxes(-1, -2) if self.ta else a
        y = b.swapaxes(-1, -2) if self.tb else b
        self.x, self.y = x, y
        return x @ y

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        gx = g @ self.y.swapaxes(-1, -2) if need_a else None
        gy = self.x.swapaxes(-1, -2) @ g if need_b else None
        if gx is not None and self.ta:
            gx = gx.swapaxes(-1, -2)
        if gy is not None and self.tb:
            gy = gy.swapaxes(-1, -2)
        return gx, gy
