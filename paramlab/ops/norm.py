"""Normalisation primitives on raw arrays: batch normalisation and layer normalisation."""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of

__all__ = ["BatchNorm", "LayerNorm", "update_running"]


def _channel_view(ndim, axis, size):
    """The shape that broadcasts a per-channel vector of ``size`` along ``axis``."""
    view = [1] * ndim
    view[axis] = size
    return tuple(view)


def update_running(running, batch, momentum):
    """``running = momentum * running + (1 - momentum) * batch``, in place on raw arrays."""
    running *= momentum
    running += (1 - momentum) * batch.astype(running.dtype, copy=False)


class BatchNorm(Function):
    """Normalise each channel (``axis``) with batch or moving statistics, then scale and shift.

    Inputs are ``(x, gamma, beta, moving_mean, moving_var)``; the moving statistics
    get no gradient and are never written here: with ``use_batch_stats`` the batch
    mean and biased variance are left in ``batch_mean`` / ``batch_var`` for the
    caller to fold into the running statistics. With ``output_mean_var`` the
    outputs are ``(y, mean, 1 / sqrt(var + eps))`` (the extra outputs carry no gradient).
    """

    def __init__(self, axis, eps, fix_gamma, use_batch_stats, output_mean_var=False):
        self.axis, self.eps, self.fix_gamma = axis, eps, fix_gamma
        self.use_batch_stats, self.output_mean_var = use_batch_stats, output_mean_var

    def forward(self, x, gamma, beta, moving_mean, moving_var):
        xp = xp_of(x)
        channels = x.shape[self.axis]
        self.axes = tuple(i for i in range(x.ndim) if i != self.axis)
        self.view = _channel_view(x.ndim, self.axis, channels)
        if self.use_batch_stats:
            mean = x.mean(axis=self.axes)
            centered = x - mean.reshape(self.view)
            var = (centered * centered).mean(axis=self.axes)
            self.batch_mean, self.batch_var = mean, var
        else:
            mean = moving_mean.astype(x.dtype, copy=True)
            var = moving_var.astype(x.dtype, copy=False)
            centered = x - mean.reshape(self.view)
        self.inv_std = 1 / xp.sqrt(var + self.eps)
        self.xhat = centered * self.inv_std.reshape(self.view)
        self.scale = xp.ones(channels, x.dtype) if self.fix_gamma else gamma
        out = self.xhat * self.scale.reshape(self.view) + beta.reshape(self.view)
        if self.output_mean_var:
            return out, mean, self.inv_std.copy()
        return out

    def backward(self, gy, *unused):
        xp = xp_of(gy)
        need_x, need_gamma, need_beta = self.needs_input_grad[:3]
        gbeta = gy.sum(axis=self.axes)
        gxhat = (gy * self.xhat).sum(axis=self.axes)
        gx = None
        if need_x:
            scale = (self.scale * self.inv_std).reshape(self.view)
            if self.use_batch_stats:
                count = gy.size // gbeta.size
                gx = gy - (gbeta / count).reshape(self.view)
                gx -= self.xhat * (gxhat / count).reshape(self.view)
                gx *= scale
            else:
                gx = gy * scale
        ggamma = None
        if need_gamma:
            ggamma = xp.zeros_like(gxhat) if self.fix_gamma else gxhat
        return gx, ggamma, gbeta if need_beta else None, None, None


class LayerNorm(Function):
    """Normalise along ``axis`` per sample, then scale by ``gamma`` and shift by ``beta``.

    With ``output_mean_var`` the outputs are ``(y, mean, sqrt(var + eps))``, the
    statistics keeping ``axis`` with length 1 (they carry no gradient).
    """

    def __init__(self, axis, eps, output_mean_var=False):
        self.axis, self.eps, self.output_mean_var = axis, eps, output_mean_var

    def forward(self, x, gamma, beta):
        xp = xp_of(x)
        self.view = _channel_view(x.ndim, self.axis, x.shape[self.axis])
        mean = x.mean(axis=self.axis, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=self.axis, keepdims=True)
        std = xp.sqrt(var + self.eps)
        self.inv_std = 1 / std
        self.xhat = centered * self.inv_std
        self.gamma = gamma.reshape(self.view)
        out = self.xhat * self.gamma + beta.reshape(self.view)
        return (out, mean, std) if self.output_mean_var else out

    def backward(self, gy, *unused):
        need_x, need_gamma, need_beta = self.needs_input_grad
        others = tuple(i for i in range(gy.ndim) if i != self.axis)
        gbeta = gy.sum(axis=others) if need_beta else None
        ggamma = (gy * self.xhat).sum(axis=others) if need_gamma else None
        gx = None
        if need_x:
            gxhat = gy * self.gamma
            gx = gxhat - gxhat.mean(axis=self.axis, keepdims=True)
            gx -= self.xhat * (gxhat * self.xhat).mean(axis=self.axis, keepdims=True)
            gx *= self.inv_std
        return gx, ggamma, gbeta
