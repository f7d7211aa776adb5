"""The Adam family: ``Adam`` (MXNet 1.9.1), ``AdamW`` (MXNet 2.0) and ``LAMB``.

With ``t`` the update count of the weight (on its context):

- Adam: ``g = clip(rescale_grad * grad + wd * w)``; ``m <- b1*m + (1-b1)*g``;
  ``v <- b2*v + (1-b2)*g**2``; ``w <- w - lr_t * m / (sqrt(v) + eps)`` with
  ``lr_t = lr * sqrt(1 - b2**t) / (1 - b1**t)``. Weight decay goes into the gradient.
- AdamW (decoupled decay, 2.0's fused kernel): ``g = clip(rescale_grad * grad)``;
  ``m``, ``v`` as Adam; ``w <- w - eta * (m / (sqrt(v) + eps) + wd * w)`` with
  ``eta = lr * sqrt(1 - b2**t) / (1 - b1**t)`` (``lr`` alone if not ``correct_bias``).
- LAMB: Adam's moments (bias-corrected when asked) give ``u = m / (sqrt(v) + eps) + wd*w``;
  the step ``lr * ||w|| / ||u||`` (``lr`` when a norm is 0, ``||w||`` bounded by
  ``lower_bound`` / ``upper_bound``) is taken along ``-u``.
"""

from __future__ import annotations

import math

from .. import _backend
from .optimizer import (
    Optimizer,
    add_weight_decay,
    bias_corrections,
    descend,
    register,
    rescaled_with_decay,
    scratch,
)

__all__ = ["Adam", "AdamW", "LAMB"]


def _moments(xp, buf, m, v, beta1, beta2, tmp, square_first=True):
    """``m <- b1*m + (1-b1)*buf``, ``v <- b2*v + (1-b2)*buf**2`` (``tmp`` is scratch).

    The betas are rounded to the arrays' dtype before ``1 - beta`` is taken, as
    MXNet's float32 kernels do; ``square_first=False`` computes ``((1-b2)*buf)*buf``
    (the order of MXNet's adam_update) instead of ``(1-b2)*(buf*buf)``.
    """
    dt = m.dtype.type
    b1, b2 = dt(beta1), dt(beta2)
    m *= b1
    xp.multiply(buf, dt(1) - b1, out=tmp)
    m += tmp
    v *= b2
    if square_first:
        xp.square(buf, out=tmp)
        tmp *= dt(1) - b2
    else:
        xp.multiply(buf, dt(1) - b2, out=tmp)
        tmp *= buf
    v += tmp


class _AdamBase(Optimizer):
    """The Adam family's settings, moment states ``(m, v)`` and shared steps."""

    def __init__(self, learning_rate, beta1, beta2, epsilon, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def _fold_gradient(self, w, g, states, work, rescale, wd=0.0, square_first=True):
        """Fold ``clip(rescale * g + wd * w)`` into the moments (see :func:`_moments`).

        Returns ``(buf, tmp)``: that gradient, in ``work`` when given, and a
        scratch array; both shaped like ``w``.
        """
        xp = _backend.xp_of(w)
        m, v = states
        buf = scratch(w, work)
        tmp = xp.empty_like(w)
        rescaled_with_decay(g, w, rescale, wd, self._clip(), buf, tmp)
        _moments(xp, buf, m, v, self.beta1, self.beta2, tmp, square_first)
        return buf, tmp

    def _denominator(self, v, out, correction=None):
        """``out = sqrt(v / correction) + epsilon`` (``sqrt(v) + epsilon`` without one)."""
        xp = _backend.xp_of(v)
        if correction is None:
            xp.sqrt(v, out=out)
        else:
            xp.divide(v, correction, out=out)
            xp.sqrt(out, out=out)
        out += self.epsilon


@register
class Adam(_AdamBase):
    """Adam, as MXNet 1.9.1 computes it (weight decay added to the gradient).

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1, beta2 : float, default 0.9, 0.999
    epsilon : float, default 1e-8
    lazy_update : bool, default True
        With a row_sparse gradient, update only its rows (and their moments).
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("beta1", "beta2", "epsilon", "lazy_update")

    def __init__(
        self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_update=True, **kwargs
    ):
        super().__init__(learning_rate, beta1, beta2, epsilon, **kwargs)
        self.lazy_update = bool(lazy_update)

    def _lazy(self, sparse_weight):
        return self.lazy_update

    def _step_rows(self, w, g, states, lr, wd, t):
        # MXNet's sparse adam kernel squares the clipped gradient first
        self._step(w, g, states, lr, wd, t, None, square_first=self._clip() is not None)

    def _step(self, w, g, states, lr, wd, t, work, square_first=False):
        m, v = states
        c1, c2 = bias_corrections(self.beta1, self.beta2, t)
        lr = lr * math.sqrt(c2) / c1
        buf, tmp = self._fold_gradient(w, g, states, work, self.rescale_grad, wd, square_first)
        self._denominator(v, tmp)
        _backend.xp_of(w).multiply(m, lr, out=buf)
        buf /= tmp
        w -= buf


@register
class AdamW(_AdamBase):
    """Adam with decoupled weight decay, as MXNet 2.0 defines it (its fused kernel).

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1, beta2 : float, default 0.9, 0.999
    epsilon : float, default 1e-6
    correct_bias : bool, default True
        Scale the rate by ``sqrt(1 - b2**t) / (1 - b1**t)``.
    **kwargs
        See :class:`Optimizer` (``use_fused_step`` is accepted and ignored).
    """

    _hyper = ("beta1", "beta2", "epsilon", "correct_bias")

    def __init__(
        self,
        learning_rate=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-6,
        correct_bias=True,
        use_fused_step=True,
        **kwargs,
    ):
        super().__init__(
            learning_rate, beta1, beta2, epsilon, use_fused_step=use_fused_step, **kwargs
        )
        self.correct_bias = bool(correct_bias)

    def _step(self, w, g, states, lr, wd, t, work):
        rescale = float(self.rescale_grad)
        if rescale == 0 or not math.isfinite(rescale):
            return  # the 2.0 kernel skips the update
        m, v = states
        if self.correct_bias:
            c1, c2 = bias_corrections(self.beta1, self.beta2, t)
            lr = lr * math.sqrt(c2) / c1
        buf, tmp = self._fold_gradient(w, g, states, work, rescale)
        self._denominator(v, tmp)
        _backend.xp_of(w).divide(m, tmp, out=buf)
        descend(w, buf, lr, wd, tmp)


@register
class LAMB(_AdamBase):
    """Layer-wise adaptive moments (LAMB).

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1, beta2 : float, default 0.9, 0.999
    epsilon : float, default 1e-6
    lower_bound, upper_bound : float, optional
        Bounds on the weight norm used for the trust ratio.
    bias_correction : bool, default True
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("beta1", "beta2", "epsilon", "lower_bound", "upper_bound", "bias_correction")

    def __init__(
        self,
        learning_rate=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-6,
        lower_bound=None,
        upper_bound=None,
        bias_correction=True,
        **kwargs,
    ):
        super().__init__(learning_rate, beta1, beta2, epsilon, **kwargs)
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bool(bias_correction)

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        m, v = states
        buf, tmp = self._fold_gradient(w, g, states, work, self.rescale_grad)
        if self.bias_correction:
            c1, c2 = bias_corrections(self.beta1, self.beta2, t)
            self._denominator(v, tmp, c2)
            xp.divide(m, c1, out=buf)
        else:
            self._denominator(v, tmp)
            buf[...] = m
        buf /= tmp
        add_weight_decay(buf, w, wd, tmp)
        xp.square(w, out=tmp)
        r1 = xp.sqrt(tmp.sum())  # 0-d arrays: the trust ratio stays on the device
        xp.square(buf, out=tmp)
        r2 = xp.sqrt(tmp.sum())
        if self.lower_bound:
            r1 = xp.maximum(r1, self.lower_bound)
        if self.upper_bound:
            r1 = xp.minimum(r1, self.upper_bound)
        ratio = xp.where((r1 == 0) | (r2 == 0), 1.0, r1 / xp.where(r2 == 0, 1.0, r2))
        buf *= ratio.astype(w.dtype) * w.dtype.type(lr)
        w -= buf
