"""Per-coordinate rates: ``AdaGrad``, ``RMSProp`` (plain and centered), ``AdaDelta``, ``Ftrl``.

MXNet 1.9.1's formulas, with ``g`` the rescaled and clipped gradient:

- AdaGrad: ``h <- h + g**2``; ``w <- w - lr * (g / sqrt(h + eps) + wd * w)``; a
  row_sparse gradient updates only its rows.
- RMSProp (``g`` includes ``wd * w`` before clipping): ``n <- (1-g1)*g**2 + g1*n``;
  ``w <- w - lr * g / sqrt(n + eps)``. Centered (Graves): also ``a <- (1-g1)*g + g1*a``,
  ``d <- g2*d - lr * g / sqrt(n - a**2 + eps)``, ``w <- w + d``. ``clip_weights``
  bounds the result.
- AdaDelta (no learning rate): ``s <- rho*s + (1-rho)*g**2``;
  ``delta = sqrt(x + eps) / sqrt(s + eps) * g``; ``x <- rho*x + (1-rho)*delta**2``;
  ``w <- w - (delta + wd * w)``.
- Ftrl: ``z <- z + g - (sqrt(n + g**2) - sqrt(n)) * w / lr``; ``n <- n + g**2``;
  ``w <- (sign(z)*lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)``; a
  row_sparse gradient of a row_sparse weight updates only its rows.
"""

from __future__ import annotations

from .. import _backend
from .optimizer import (
    Optimizer,
    add_weight_decay,
    descend,
    register,
    rescaled,
    rescaled_with_decay,
    scratch,
)

__all__ = ["AdaGrad", "RMSProp", "AdaDelta", "Ftrl", "FTRL"]


@register
class AdaGrad(Optimizer):
    """AdaGrad: rates shrink with the accumulated squared gradients.

    Parameters
    ----------
    eps : float, default 1e-7
        Added to the history under the square root.
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("float_stable_eps",)

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        return self._zeros_like(weight)

    def _lazy(self, sparse_weight):
        return True

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        (h,) = states
        buf = rescaled(g, self.rescale_grad, self._clip(), scratch(w, work))
        tmp = xp.square(buf)
        h += tmp
        xp.add(h, self.float_stable_eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        buf /= tmp
        descend(w, buf, lr, wd, tmp)


@register
class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton), or Graves' centered version with ``centered=True``.

    Parameters
    ----------
    learning_rate : float, default 0.001
    gamma1 : float, default 0.9
        Decay of the squared-gradient average.
    gamma2 : float, default 0.9
        Momentum of the centered version.
    epsilon : float, default 1e-8
    centered : bool, default False
    clip_weights : float, optional
        Bound the weights to ``[-clip_weights, clip_weights]``.
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("gamma1", "gamma2", "epsilon", "centered", "clip_weights")

    def __init__(
        self,
        learning_rate=0.001,
        gamma1=0.9,
        gamma2=0.9,
        epsilon=1e-8,
        centered=False,
        clip_weights=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = bool(centered)
        self.epsilon = epsilon
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        if self.centered:
            return (self._zeros_like(weight), self._zeros_like(weight), self._zeros_like(weight))
        return (self._zeros_like(weight),)

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        g1 = self.gamma1
        buf = scratch(w, work)
        tmp = xp.empty_like(w)
        rescaled_with_decay(g, w, self.rescale_grad, wd, self._clip(), buf, tmp)
        dt = w.dtype.type
        g1 = dt(g1)
        n = states[0]
        n *= g1
        if not self.centered:  # n <- (1-g1)*(g*g) + g1*n;  w <- w - lr * (g / sqrt(n + eps))
            xp.square(buf, out=tmp)
            tmp *= dt(1) - g1
            n += tmp
            xp.add(n, self.epsilon, out=tmp)
            xp.sqrt(tmp, out=tmp)
            buf /= tmp
            buf *= lr
            w -= buf
        else:  # n <- ((1-g1)*g)*g + g1*n;  d <- g2*d - (lr*g) / sqrt(n - a*a + eps)
            _, a, d = states
            xp.multiply(buf, dt(1) - g1, out=tmp)
            tmp *= buf
            n += tmp
            a *= g1
            xp.multiply(buf, dt(1) - g1, out=tmp)
            a += tmp
            xp.square(a, out=tmp)
            xp.subtract(n, tmp, out=tmp)
            tmp += self.epsilon
            xp.sqrt(tmp, out=tmp)
            buf *= lr
            buf /= tmp
            d *= self.gamma2
            d -= buf
            w += d
        if self.clip_weights:
            xp.clip(w, -self.clip_weights, self.clip_weights, out=w)


@register
class AdaDelta(Optimizer):
    """AdaDelta: step sizes from the ratio of accumulated updates and gradients (no rate).

    Parameters
    ----------
    rho : float, default 0.9
        Decay of both accumulators.
    epsilon : float, default 1e-5
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("rho", "epsilon")

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        acc_g, acc_delta = states
        rho = self.rho
        buf = rescaled(g, self.rescale_grad, self._clip(), scratch(w, work))
        tmp = xp.multiply(buf, 1.0 - rho)
        tmp *= buf
        acc_g *= rho
        acc_g += tmp
        delta = xp.add(acc_delta, self.epsilon)
        xp.sqrt(delta, out=delta)
        xp.add(acc_g, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        delta /= tmp
        delta *= buf
        xp.multiply(delta, 1.0 - rho, out=tmp)
        tmp *= delta
        acc_delta *= rho
        acc_delta += tmp
        add_weight_decay(delta, w, wd, tmp)
        w -= delta


@register
class Ftrl(Optimizer):
    """Follow the regularized leader (FTRL-proximal), for sparse linear models.

    Parameters
    ----------
    lamda1 : float, default 0.01
        L1 regularization.
    learning_rate : float, default 0.1
    beta : float, default 1
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("lamda1", "beta")

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate

    def create_state(self, index, weight):
        return (self._zeros_like(weight), self._zeros_like(weight))

    def _lazy(self, sparse_weight):
        return sparse_weight

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        z, n = states
        buf = rescaled(g, self.rescale_grad, self._clip(), scratch(w, work))
        sq = xp.square(buf)
        tmp = xp.add(n, sq)
        xp.sqrt(tmp, out=tmp)
        tmp -= xp.sqrt(n)
        tmp *= w
        tmp /= lr
        xp.subtract(buf, tmp, out=tmp)
        z += tmp
        n += sq
        # w = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) * (|z| > lamda1)
        xp.sqrt(n, out=tmp)
        tmp += self.beta
        tmp /= lr
        tmp += wd
        xp.sign(z, out=buf)
        buf *= self.lamda1
        buf -= z
        buf /= tmp
        xp.abs(z, out=tmp)
        buf *= tmp > self.lamda1
        w[...] = buf


FTRL = Ftrl
