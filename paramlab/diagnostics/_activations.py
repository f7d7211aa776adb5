"""What an activation does to the scale of a Gaussian signal: its forward and backward gains.

For a pre-activation ``z ~ N(0, v)`` an activation ``f`` has

* the forward mean square ``E[f(z)^2]`` (its *gain* is ``E[f(z)^2] / v``), and
* the backward mean square ``E[f'(z)^2]`` (what a gradient's mean square is multiplied by).

Positively homogeneous activations (identity, ReLU, leaky ReLU) have gains that do
not depend on ``v``: ``(1 + a^2) / 2`` for slope ``a`` on the negative side, both ways.
For the others both expectations are integrated numerically on a fixed grid (host
NumPy, a few thousand points), which is the mean-field prediction at that scale.

The catalogue maps paramlab's activation blocks to their law; that is the only
place where a block's type matters.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import special

__all__ = ["ActivationLaw", "law_for_block", "identity", "leaky", "SMOOTH"]

# the grid of standard-normal quantiles used for the smooth laws (trapezoid rule)
_U = np.linspace(-10.0, 10.0, 8001)
_W = np.exp(-0.5 * _U * _U) / math.sqrt(2.0 * math.pi) * (_U[1] - _U[0])
_W /= _W.sum()
_SMALL = 1e-4  # the scale at which the small-signal gain is evaluated


@dataclasses.dataclass(frozen=True)
class ActivationLaw:
    """An activation's effect on mean squares, and where it saturates or dies.

    Attributes
    ----------
    name : str
        ``'identity'``, ``'relu'``, ``'leaky(0.1)'``, ``'tanh'``, ...
    slope : float or None
        For a positively homogeneous activation, its negative-side slope (identity: 1,
        ReLU: 0); None for a smooth activation integrated numerically.
    f, df : callable or None
        Host NumPy functions of the activation and its derivative (smooth laws).
    bounded : tuple of float or None
        ``(lo, hi)``: the range of a bounded activation (tanh, sigmoid, softsign),
        where saturation is measured.
    can_die : bool
        Whether a unit can output exactly zero for every input (ReLU).
    """

    name: str
    slope: float | None = None
    f: Callable | None = dataclasses.field(default=None, compare=False, repr=False)
    df: Callable | None = dataclasses.field(default=None, compare=False, repr=False)
    bounded: tuple[float, float] | None = None
    can_die: bool = False

    def forward_ms(self, var: float) -> float:
        """``E[f(z)^2]`` for ``z ~ N(0, var)``."""
        if self.slope is not None:
            return var * (1.0 + self.slope**2) / 2.0
        z = math.sqrt(max(var, 0.0)) * _U
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.dot(_W, self.f(z) ** 2))

    def backward_ms(self, var: float) -> float:
        """``E[f'(z)^2]`` for ``z ~ N(0, var)``."""
        if self.slope is not None:
            return (1.0 + self.slope**2) / 2.0
        z = math.sqrt(max(var, 0.0)) * _U
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.dot(_W, self.df(z) ** 2))

    def small_signal_gain(self) -> float | None:
        """``E[f(z)^2] / var`` as ``var -> 0``; None where ``f(0) != 0`` (sigmoid, softrelu)."""
        if self.slope is not None:
            return (1.0 + self.slope**2) / 2.0
        if abs(float(self.f(np.zeros(1))[0])) > 1e-12:
            return None
        return self.forward_ms(_SMALL**2) / _SMALL**2

    def small_signal_backward_gain(self) -> float | None:
        """``E[f'(z)^2]`` as ``var -> 0`` (None where the forward gain is None)."""
        if self.small_signal_gain() is None:
            return None
        return self.backward_ms(_SMALL**2)


def identity() -> ActivationLaw:
    """No activation."""
    return ActivationLaw("identity", slope=1.0)


def leaky(slope: float) -> ActivationLaw:
    """ReLU (slope 0) or a leaky ReLU with negative-side ``slope``."""
    slope = float(slope)
    if slope == 0.0:
        return ActivationLaw("relu", slope=0.0, can_die=True)
    return ActivationLaw(f"leaky({slope:g})", slope=slope)


def _sigmoid(z):
    return special.expit(z)


def _elu(alpha):
    def f(z):
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))

    def df(z):
        return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))

    return f, df


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _selu():
    f0, df0 = _elu(_SELU_ALPHA)
    return (lambda z: _SELU_SCALE * f0(z)), (lambda z: _SELU_SCALE * df0(z))


def _gelu():
    def f(z):
        return z * special.ndtr(z)

    def df(z):
        return special.ndtr(z) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    return f, df


def _swish(beta):
    def f(z):
        return z * special.expit(beta * z)

    def df(z):
        s = special.expit(beta * z)
        return s + beta * z * s * (1.0 - s)

    return f, df


SMOOTH = {
    "tanh": dict(f=np.tanh, df=lambda z: 1.0 - np.tanh(z) ** 2, bounded=(-1.0, 1.0)),
    "sigmoid": dict(f=_sigmoid, df=lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)), bounded=(0.0, 1.0)),
    "softsign": dict(
        f=lambda z: z / (1.0 + np.abs(z)),
        df=lambda z: 1.0 / (1.0 + np.abs(z)) ** 2,
        bounded=(-1.0, 1.0),
    ),
    "softrelu": dict(f=lambda z: np.logaddexp(0.0, z), df=_sigmoid),
}
"""The smooth activations of ``nn.Activation`` (besides ReLU), by ``act_type``."""


def smooth(name: str, f, df, bounded=None) -> ActivationLaw:
    """A smooth activation integrated numerically."""
    return ActivationLaw(name, f=f, df=df, bounded=bounded)


def law_for_block(block, training: bool):
    """The role of a parameter-free (or PReLU) block that follows a linear layer.

    Returns
    -------
    ('act', ActivationLaw) | ('scale', float) | ('identity', None) | ('unknown', str)
        An activation; a factor on the mean square (Dropout in training mode,
        ``1 / (1 - rate)``); an identity for the statistics (Flatten, Dropout at
        prediction); or a block whose effect is not modelled (its class name).
    """
    from ..gluon import nn

    if isinstance(block, nn.Activation):
        kind = block._act_type
        if kind == "relu":
            return "act", leaky(0.0)
        return "act", smooth(kind, **SMOOTH[kind])
    if isinstance(block, nn.LeakyReLU):
        return "act", leaky(block._alpha)
    if isinstance(block, nn.PReLU):
        alpha = block.alpha
        if not alpha._replicas:
            return "unknown", "PReLU"
        raw = alpha.list_data()[0]._data
        slope = math.sqrt(float((raw.astype(np.float64) ** 2).mean()))
        return "act", leaky(slope)
    if isinstance(block, nn.SELU):
        return "act", smooth("selu", *_selu())
    if isinstance(block, nn.ELU):
        return "act", smooth(f"elu({block._alpha:g})", *_elu(float(block._alpha)))
    if isinstance(block, nn.GELU):
        return "act", smooth("gelu", *_gelu())
    if isinstance(block, nn.Swish):
        return "act", smooth(f"swish({block._beta:g})", *_swish(float(block._beta)))
    if isinstance(block, nn.Dropout):
        rate = float(block._rate)
        if training and rate > 0:
            return "scale", 1.0 / (1.0 - rate)
        return "identity", None
    if isinstance(block, nn.Flatten):
        return "identity", None
    return "unknown", type(block).__name__
