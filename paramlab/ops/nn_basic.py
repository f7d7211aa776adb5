"""Softmax and log-softmax (numerically stable), used by losses and layers."""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of


class Softmax(Function):
    saves_inputs = False

    def __init__(self, axis=-1, temperature=None):
        self.axis, self.t = axis, temperature

    def forward(self, a):
        xp = xp_of(a)
        z = a / self.t if self.t else a
        z = z - z.max(axis=self.axis, keepdims=True)
        e = xp.exp(z)
        e /= e.sum(axis=self.axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        y = self.out
        gx = y * (g - (g * y).sum(axis=self.axis, keepdims=True))
        return (gx / self.t if self.t else gx,)


class LogSoftmax(Function):
    saves_inputs = False

    def __init__(self, axis=-1, temperature=None):
        self.axis, self.t = axis, temperature

    def forward(self, a):
        xp = xp_of(a)
        z = a / self.t if self.t else a
        z = z - z.max(axis=self.axis, keepdims=True)
        z -= xp.log(xp.exp(z).sum(axis=self.axis, keepdims=True))
        self.out = z
        return z

    def backward(self, g):
        xp = xp_of(g)
        gx = g - xp.exp(self.out) * g.sum(axis=self.axis, keepdims=True)
        return (gx / self.t if self.t else gx,)
