"""The momentum family: ``SGD``, ``NAG`` (Nesterov) and ``Signum`` (sign of the momentum).

Formulas (MXNet 1.9.1's kernels), with ``g = clip(rescale_grad * grad)``:

- SGD: ``w <- (1 - lr*wd) * w - lr * g``; with momentum ``m``:
  ``v <- m*v - lr*wd*w - lr*g``, ``w <- w + v``.
- NAG: ``g' = g + wd*w``, ``w <- w + m*(m*v - lr*g') - lr*g'``, then
  ``v <- m*v - lr*(g + wd*w)`` with the *updated* ``w`` (MXNet 1.9.1 writes the weight
  in place before it computes the momentum from it; equal to ``m*v - lr*g'`` when
  ``wd == 0``). SGD when ``momentum == 0``.
- Signum: ``v <- m*v - (1-m)*wd*w - (1-m)*g``, ``w <- (1 - lr*wd_lh) * w + lr * sign(v)``;
  with ``momentum == 0`` (signSGD): ``w <- (1 - lr*wd) * w - lr * sign(g)``.
"""

from __future__ import annotations

from .. import _backend
from .optimizer import Optimizer, register, rescaled, scratch

__all__ = ["SGD", "NAG", "Signum"]


def _check_momentum(owner, momentum):
    if not isinstance(momentum, (int, float)) or isinstance(momentum, bool):
        raise TypeError(f"{owner}: momentum must be a number, got {momentum!r}")
    if momentum < 0:
        raise ValueError(f"{owner}: momentum must be >= 0, got {momentum}")
    return momentum


def _plain_sgd(w, g, lr, wd, rescale, clip, work):
    """``w <- (1 - lr*wd) * w - lr * clip(rescale * g)`` in the order of MXNet's sgd_update."""
    xp = _backend.xp_of(w)
    dt = w.dtype.type
    lr = dt(lr)
    buf = scratch(w, work)
    if clip is None:
        xp.multiply(g, lr * dt(rescale), out=buf)
    else:
        rescaled(g, dt(rescale), dt(clip), buf)
        buf *= lr
    if wd:
        w *= dt(1) - lr * dt(wd)
    w -= buf


@register
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and weight decay.

    Parameters
    ----------
    momentum : float, default 0.0
    lazy_update : bool, default True
        With a row_sparse gradient, update only the rows it holds (their decay
        and momentum included); False updates every row.
    **kwargs
        See :class:`Optimizer`.

    Examples
    --------
    >>> import paramlab as mx
    >>> opt = mx.optimizer.SGD(learning_rate=0.5, wd=0.1)
    >>> w = mx.nd.array([1.0, 2.0])
    >>> opt.update(0, w, mx.nd.array([1.0, 1.0]), None)
    >>> w.asnumpy().tolist()  # (1 - 0.5*0.1) * w - 0.5 * g
    [0.44999998807907104, 1.399999976158142]
    """

    _hyper = ("momentum", "lazy_update")

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = _check_momentum("SGD", momentum)
        self.lazy_update = bool(lazy_update)
        self.aggregate_num = 4

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return self._zeros_like(weight)
        return None

    def _lazy(self, sparse_weight):
        return self.lazy_update

    def _step_rows(self, w, g, states, lr, wd, t):
        if not states:  # MXNet's sparse sgd_update kernel
            _plain_sgd(w, g, lr, wd, self.rescale_grad, self._clip(), None)
        else:
            self._step(w, g, states, lr, wd, t, None)

    def _step(self, w, g, states, lr, wd, t, work):
        # Scalars are rounded to the weight's dtype first, and the terms are combined in
        # the order of MXNet's multi_sgd kernels, so that float32 results match bitwise.
        xp = _backend.xp_of(w)
        dt = w.dtype.type
        lr = dt(lr)
        clip = self._clip()
        buf = scratch(w, work)
        if clip is None:
            xp.multiply(g, dt(lr * dt(self.rescale_grad)), out=buf)  # lr * rescale * g
        else:
            rescaled(g, dt(self.rescale_grad), dt(clip), buf)
            buf *= lr
        if not states:  # w <- w - (lr*wd*w + lr*g)
            if wd:
                buf += xp.multiply(w, dt(lr * dt(wd)))
            w -= buf
            return
        (v,) = states  # v <- m*v - lr*wd*w - lr*g;  w <- w + v
        v *= dt(self.momentum)
        if wd:
            v -= xp.multiply(w, dt(lr * dt(wd)))
        v -= buf
        w += v


@register
class NAG(Optimizer):
    """Nesterov accelerated gradient.

    Parameters
    ----------
    momentum : float, default 0.0
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("momentum",)

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = _check_momentum("NAG", momentum)

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return self._zeros_like(weight)
        return None

    def _step(self, w, g, states, lr, wd, t, work):
        if not states:
            return _plain_sgd(w, g, lr, wd, self.rescale_grad, self._clip(), work)
        xp = _backend.xp_of(w)
        dt = w.dtype.type
        (v,) = states
        m, lr, wd = dt(self.momentum), dt(lr), dt(wd)
        clip = self._clip()
        buf = rescaled(
            g, dt(self.rescale_grad), None if clip is None else dt(clip), scratch(w, work)
        )
        v *= m
        tmp = xp.multiply(w, wd)
        tmp += buf
        tmp *= lr  # lr * g'
        step = xp.subtract(v, tmp)
        step *= m + dt(1)
        w -= v
        w += step  # w - m*v + (m + 1) * (m*v - lr*g')
        # MXNet 1.9.1 writes the weight in place, then reads it back for the momentum
        xp.multiply(w, wd, out=tmp)
        tmp += buf
        tmp *= lr
        v -= tmp
        return None


@register
class Signum(Optimizer):
    """Signum: steps of fixed size in the direction of the momentum's sign.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float, default 0.9
        0 gives signSGD (the sign of the gradient itself).
    wd_lh : float, default 0.0
        Decoupled weight decay.
    **kwargs
        See :class:`Optimizer`.
    """

    _hyper = ("momentum", "wd_lh")

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _check_momentum("Signum", momentum)
        self.wd_lh = wd_lh

    def create_state(self, index, weight):
        if self.momentum != 0.0:
            return self._zeros_like(weight)
        return None

    def _step(self, w, g, states, lr, wd, t, work):
        xp = _backend.xp_of(w)
        dt = w.dtype.type
        lr, wd = dt(lr), dt(wd)
        buf = rescaled(g, self.rescale_grad, self._clip(), scratch(w, work))
        if not states:  # w <- (1 - lr*wd) * w - lr * sign(g)
            xp.sign(buf, out=buf)
            buf *= lr
            if wd:
                w *= dt(1) - lr * wd
            w -= buf
            return
        (v,) = states  # v <- m*v - (1-m)*wd*w - (1-m)*g;  w <- (1 - lr*wd_lh) * w + lr*sign(v)
        m = dt(self.momentum)
        v *= m
        if wd:
            v -= xp.multiply(w, (dt(1) - m) * wd)
        buf *= dt(1) - m
        v -= buf
        xp.sign(v, out=buf)
        buf *= lr
        if self.wd_lh:
            w *= dt(1) - lr * dt(self.wd_lh)
        w += buf
