"""Neural-network primitives on raw arrays: dense layers, activations, dropout, embedding, losses.

Each operation is a short :class:`~paramlab._autograd.Function`; the ``mx.nd``
spellings in :mod:`paramlab.ndarray.nn` validate the arguments and call them.
Normalisation layers live in :mod:`paramlab.ops.norm`, convolution and pooling in
:mod:`paramlab.ops.conv`.
"""

from __future__ import annotations

import math

from .._autograd import Function
from .._backend import special_module, xp_of
from ._broadcast import unbroadcast
from .sparse_grad import RowSparseGrad

__all__ = [
    "FullyConnected",
    "Relu",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "SELU",
    "GELU",
    "RReLU",
    "Dropout",
    "Embedding",
    "SoftmaxOutput",
    "SoftmaxCrossEntropy",
    "SELU_ALPHA",
    "SELU_LAMBDA",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946

# ----------------------------------------------------------------------------- dense


class FullyConnected(Function):
    """``y = x @ w.T (+ b)`` over the flattened input (or its last axis when not ``flatten``)."""

    def __init__(self, flatten=True):
        self.flatten = flatten

    def forward(self, x, w, b=None):
        self.x_shape = x.shape
        if self.flatten:
            x2 = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(1, 1)
        else:
            x2 = x.reshape(-1, x.shape[-1])
        self.x2, self.w = x2, w
        out = x2 @ w.T
        if b is not None:
            out += b
        lead = (x.shape[0],) if self.flatten else x.shape[:-1]
        return out.reshape(lead + (w.shape[0],))

    def backward(self, g):
        # The weight and bias gradients go straight into their buffers when the
        # engine offers them (the same values, without a temporary per weight).
        need = self.needs_input_grad
        xp = xp_of(g)
        g2 = g.reshape(-1, self.w.shape[0])
        gx = (g2 @ self.w).reshape(self.x_shape) if need[0] else None
        gw = gb = None
        if need[1]:
            out = self.grad_buffer(1, xp.result_type(g2, self.x2))
            gw = xp.matmul(g2.T, self.x2, out=out)
        if len(need) > 2 and need[2]:
            gb = g2.sum(axis=0, out=self.grad_buffer(2, g2.dtype))
        return (gx, gw, gb)[: len(need)]


# ----------------------------------------------------------------------------- activations


class Relu(Function):
    """``max(x, 0)`` keeping only the output for backward (the hot path of MLPs)."""

    saves_inputs = False

    def forward(self, a):
        self.out = xp_of(a).maximum(a, 0)
        return self.out

    def backward(self, g):
        return (g * (self.out > 0),)


class LeakyReLU(Function):
    """``x`` for positive inputs, ``slope * x`` elsewhere."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, a):
        self.pos = a > 0
        return xp_of(a).where(self.pos, a, a * self.slope)

    def backward(self, g):
        return (xp_of(g).where(self.pos, g, g * self.slope),)


class PReLU(Function):
    """Leaky ReLU whose slope ``gamma`` is an input, broadcast over the channel axis."""

    def __init__(self, gamma_view_shape):
        self.view = tuple(gamma_view_shape)

    def forward(self, a, gamma):
        xp = xp_of(a)
        self.a, self.gamma_shape = a, gamma.shape
        self.gamma = gamma.reshape(self.view)
        self.pos = a > 0
        return xp.where(self.pos, a, a * self.gamma)

    def backward(self, g):
        xp = xp_of(g)
        need_a, need_gamma = self.needs_input_grad
        ga = xp.where(self.pos, g, g * self.gamma) if need_a else None
        ggamma = None
        if need_gamma:
            ggamma = unbroadcast(xp.where(self.pos, 0, g * self.a), self.view)
            ggamma = ggamma.reshape(self.gamma_shape)
        return ga, ggamma


class ELU(Function):
    """``x`` for positive inputs, ``slope * (exp(x) - 1)`` elsewhere."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, a):
        xp = xp_of(a)
        self.pos = a > 0
        self.neg_part = self.slope * xp.expm1(xp.minimum(a, 0))
        return xp.where(self.pos, a, self.neg_part)

    def backward(self, g):
        return (xp_of(g).where(self.pos, g, g * (self.neg_part + self.slope)),)


class SELU(Function):
    """``lambda * (x if x > 0 else alpha * (exp(x) - 1))`` with the self-normalising constants."""

    def forward(self, a):
        xp = xp_of(a)
        self.pos = a > 0
        self.neg_part = SELU_ALPHA * xp.expm1(xp.minimum(a, 0))
        return SELU_LAMBDA * xp.where(self.pos, a, self.neg_part)

    def backward(self, g):
        xp = xp_of(g)
        return (SELU_LAMBDA * xp.where(self.pos, g, g * (self.neg_part + SELU_ALPHA)),)


class GELU(Function):
    """``x * Phi(x)`` with the exact normal CDF (MXNet 1.9.1 uses the erf form)."""

    def forward(self, a):
        self.a = a
        self.cdf = 0.5 * (1 + special_module(a).erf(a * (1 / math.sqrt(2))))
        return (a * self.cdf).astype(a.dtype, copy=False)

    def backward(self, g):
        xp = xp_of(g)
        a = self.a
        pdf = xp.exp(-0.5 * a * a) * (1 / math.sqrt(2 * math.pi))
        return ((g * (self.cdf + a * pdf)).astype(g.dtype, copy=False),)


class RReLU(Function):
    """Randomised leaky ReLU; outputs ``(y, slopes)`` as MXNet does.

    ``slope`` is a raw array of per-element slopes drawn by the caller (training),
    or the mean slope as a float (inference, where the second output is zeros).
    """

    def __init__(self, slope):
        self.slope = slope

    def forward(self, a):
        xp = xp_of(a)
        self.pos = a > 0
        out = xp.where(self.pos, a, a * self.slope)
        mask = xp.zeros_like(a) if isinstance(self.slope, float) else self.slope
        return out, mask

    def backward(self, g, g_mask):
        return (xp_of(g).where(self.pos, g, g * self.slope),)


# ----------------------------------------------------------------------------- dropout


class Dropout(Function):
    """Multiply by ``mask`` (a raw array of ``keep / (1 - p)``, broadcast over shared axes)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, a):
        return a * self.mask

    def backward(self, g):
        return (g * self.mask,)


# ----------------------------------------------------------------------------- embedding


class Embedding(Function):
    """Rows of ``weight`` at the (truncated, clipped) indices ``data``.

    The weight's gradient is dense, or a :class:`RowSparseGrad` of the touched
    rows when ``sparse_grad``; the indices get none.
    """

    def __init__(self, sparse_grad=False):
        self.sparse_grad = sparse_grad

    def forward(self, data, weight):
        xp = xp_of(weight)
        idx = data.astype(xp.int64)  # truncation toward zero, as MXNet
        self.idx = xp.clip(idx, 0, weight.shape[0] - 1)
        self.w_shape, self.w_dtype = weight.shape, weight.dtype
        return xp.take(weight, self.idx, axis=0)

    def backward(self, g):
        if not self.needs_input_grad[1]:
            return None, None
        rows = g.reshape(-1, self.w_shape[1])
        if self.sparse_grad:
            return None, RowSparseGrad.from_rows(self.idx, rows, self.w_shape)
        xp = xp_of(g)
        gw = xp.zeros(self.w_shape, self.w_dtype)
        xp.add.at(gw, self.idx.reshape(-1), rows)
        return None, gw


# ----------------------------------------------------------------------------- losses


def _softmax(z, axis):
    xp = xp_of(z)
    e = xp.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _one_hot_last(labels, depth, dtype):
    """``labels`` (ints, any shape) as one-hot rows on a new last axis; out-of-range rows are 0."""
    xp = xp_of(labels)
    return (labels[..., None] == xp.arange(depth)).astype(dtype)


class SoftmaxOutput(Function):
    """Softmax forward; backward ``(softmax - target) * scale``, ignoring the head gradient.

    Parameters
    ----------
    axis : int
        The class axis (1, or -1 with ``preserve_shape``).
    multi_output : bool
        Classes on axis 1 with labels per position: the ``'null'`` normalisation then
        divides by the number of positions per sample, as MXNet 1.9.1 does.
    grad_scale, ignore_label, use_ignore, normalization, out_grad, smooth_alpha
        As MXNet's ``SoftmaxOutput``: ``'batch'`` divides by the number of labels,
        ``'valid'`` by the number of labels different from ``ignore_label``.
    """

    def __init__(
        self,
        axis,
        multi_output=False,
        grad_scale=1.0,
        ignore_label=-1.0,
        use_ignore=False,
        normalization="null",
        out_grad=False,
        smooth_alpha=0.0,
    ):
        self.axis, self.multi_output = axis, multi_output
        self.grad_scale, self.ignore_label = grad_scale, ignore_label
        self.use_ignore, self.normalization = use_ignore, normalization
        self.out_grad, self.smooth_alpha = out_grad, smooth_alpha

    def forward(self, data, label):
        self.out = _softmax(data, self.axis)
        self.label = label
        return self.out

    def _target(self, labels, depth, dtype):
        target = _one_hot_last(labels, depth, dtype)
        alpha = self.smooth_alpha
        if alpha:
            target = target * (1 - alpha - alpha / (depth - 1)) + alpha / (depth - 1)
        return target

    def _scale(self, labels, xp):
        if self.normalization == "batch":
            return self.grad_scale / labels.size
        if self.normalization == "valid":
            valid = (labels != self.ignore_label).sum()
            return self.grad_scale / xp.maximum(valid, 1).astype(self.out.dtype)
        if self.multi_output:
            return self.grad_scale / (labels.size // self.out.shape[0])
        return self.grad_scale

    def backward(self, g):
        xp = xp_of(g)
        probs = xp.moveaxis(self.out, self.axis, -1)
        depth = probs.shape[-1]
        labels = self.label.astype(xp.int64).reshape(probs.shape[:-1])
        grad = probs - self._target(labels, depth, probs.dtype)
        if self.use_ignore:
            grad *= (labels != self.ignore_label)[..., None]
        grad = xp.moveaxis(grad, -1, self.axis)
        grad *= self._scale(labels, xp)
        if self.out_grad:
            grad *= g
        return grad.astype(self.out.dtype, copy=False), None


class SoftmaxCrossEntropy(Function):
    """``sum_i -log softmax(data_i)[label_i]`` over a 2-D batch, as a shape-(1,) array."""

    def forward(self, data, label):
        xp = xp_of(data)
        z = data - data.max(axis=1, keepdims=True)
        logp = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
        self.labels = xp.clip(label.astype(xp.int64), 0, data.shape[1] - 1)
        self.logp = logp
        picked = xp.take_along_axis(logp, self.labels[:, None], axis=1)
        return -picked.sum(dtype=data.dtype).reshape(1)

    def backward(self, g):
        xp = xp_of(g)
        grad = xp.exp(self.logp)
        grad -= _one_hot_last(self.labels, grad.shape[1], grad.dtype)
        grad *= g.reshape(())
        return grad, None
