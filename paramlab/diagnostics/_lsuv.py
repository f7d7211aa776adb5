"""Layer-sequential unit-variance initialization.

Mishkin & Matas, "All you need is a good init" (ICLR 2016, arXiv 2015).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings

import numpy as np
from scipy.linalg import solve_triangular

from .. import _backend, summary
from .. import random as _random
from .._autograd import set_recording, set_training
from ..gluon.block import Block
from ..ndarray.ndarray import NDArray
from ._measure import input_array, resolve_context
from ._passes import StateGuard, find_layers
from ._report import InitWarning

__all__ = ["LSUVStep", "lsuv_init"]


@dataclasses.dataclass(frozen=True)
class LSUVStep:
    """What :func:`lsuv_init` did to one layer.

    Attributes
    ----------
    index : int
        1-based position of the layer call in the forward pass.
    name : str
        Structural path of the layer.
    variance_before : float
        Variance of the layer's output (before its activation) after the orthonormal
        initialization, before rescaling.
    variance : float
        The variance after rescaling.
    iterations : int
        Rescalings made.
    converged : bool
        Whether ``|variance - 1| <= tol``.
    """

    index: int
    name: str
    variance_before: float
    variance: float
    iterations: int
    converged: bool


def _check(net, batch, tol, max_iter):
    if not isinstance(net, Block):
        raise TypeError(f"lsuv_init: net must be a paramlab.gluon.Block; got {type(net).__name__}")
    if not isinstance(batch, NDArray) and not hasattr(batch, "__array__"):
        raise TypeError(
            f"lsuv_init: batch must be an NDArray or a NumPy array; got {type(batch).__name__}"
        )
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"lsuv_init: tol must be a number in (0, 1); got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"lsuv_init: max_iter must be an integer >= 1; got {max_iter!r}")


def _variance(raw) -> float:
    s = summary.stats(raw)
    if s.std is None or s.nan or s.posinf or s.neginf:
        return math.nan
    return s.std**2


def _q_factor(a, xp):
    """The Q of ``a = QR`` (tall ``a``, float64) with R's diagonal positive.

    On the CPU by Cholesky QR: ``R = chol(AᵀA)ᵀ``, ``Q = A R⁻¹`` -- one product and
    one triangular solve, several times cheaper than LAPACK's Householder QR on a
    busy machine, and accurate in float64 for a Gaussian draw (loss of
    orthogonality ~ eps·cond(A)²); Householder QR where Cholesky fails, and on GPUs.
    """
    if xp is np:
        try:
            lower = np.linalg.cholesky(a.T @ a)
        except np.linalg.LinAlgError:
            pass
        else:
            return solve_triangular(lower, a.T, lower=True, check_finite=False).T
    q, r = xp.linalg.qr(a)
    return q * xp.where(xp.diagonal(r) < 0, -1.0, 1.0)


def _orthonormal_matrix(rows, cols, dtype, ctx):
    """A random matrix with orthonormal rows (rows <= cols) or columns, drawn on ``ctx``.

    The Q factor of a Gaussian matrix with R's diagonal positive: Haar-distributed.
    """
    xp = _backend.xp_for(ctx)
    with _backend.device_scope(ctx):
        work = xp.empty((max(rows, cols), min(rows, cols)), dtype=xp.float64)
        _random.fill_normal(work, 0.0, 1.0, ctx)
        q = _q_factor(work, xp)
        return (q if rows >= cols else q.T).astype(dtype)


def _orthonormal(specs, ctx):
    """Orthonormal rows (or columns) for every layer's weight, the same on every replica."""
    done = set()
    for spec in specs:
        p = spec.weight
        if id(p) in done:
            continue
        done.add(id(p))
        replica = p.data(ctx)
        rows = replica.shape[0]
        cols = replica.size // max(rows, 1)
        if replica.size == 0:
            continue
        matrix = _orthonormal_matrix(rows, cols, replica._data.dtype, ctx)
        p.set_data(NDArray._wrap(matrix.reshape(replica.shape), ctx))


class _Rescaler:
    """Forward hooks that rescale each layer's weight as the pass reaches it."""

    def __init__(self, specs, ctx, tol, max_iter):
        self.specs, self.ctx, self.tol, self.max_iter = specs, ctx, tol, max_iter
        self.steps: list[LSUVStep] = []
        self._busy = False
        self._inputs = {}
        self._handles = []

    def __enter__(self):
        for spec in self.specs:
            if spec.act is not None:
                self._handles.append(spec.act.register_forward_pre_hook(self._capture))
            self._handles.append(spec.block.register_forward_hook(self._adjuster(spec)))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.detach()
        return False

    def _capture(self, block, args):
        self._inputs[id(block)] = args[0]

    def _linear_output(self, spec, out):
        return self._inputs.pop(id(spec.act)) if spec.act is not None else out

    def _adjuster(self, spec):
        def adjust(block, args, out):
            if self._busy or not isinstance(out, NDArray):
                return
            self._busy = True
            try:
                self._rescale(spec, block, args, out)
            finally:
                self._busy = False

        return adjust

    def _rescale(self, spec, block, args, out):
        var = before = _variance(self._linear_output(spec, out)._data)
        iterations, latest = 0, out
        while (
            math.isfinite(var)
            and var > 0
            and abs(var - 1.0) > self.tol
            and iterations < self.max_iter
        ):
            w = spec.weight.data(self.ctx)
            with _backend.device_scope(self.ctx):
                scaled = w._data / math.sqrt(var)
            spec.weight.set_data(NDArray._wrap(scaled, self.ctx))
            latest = block(*args)
            var = _variance(self._linear_output(spec, latest)._data)
            iterations += 1
        if latest is not out:
            with _backend.device_scope(self.ctx):
                out._data[...] = latest._data
        converged = math.isfinite(var) and abs(var - 1.0) <= self.tol
        self.steps.append(
            LSUVStep(len(self.steps) + 1, spec.path, before, var, iterations, converged)
        )


def lsuv_init(net, batch, *, tol=0.1, max_iter=10, ctx=None, orthonormal=True):
    """Layer-sequential unit-variance initialization (Mishkin & Matas 2015).

    Every layer's weight (Dense, Conv...: see :func:`init_report`) is first made
    orthonormal (the Q factor of a Gaussian draw from paramlab's random streams,
    on the ``(shape[0], -1)`` view; Haar-distributed), then, in one forward
    pass on ``batch`` in prediction mode, each layer in turn is rescaled ``W <- W /
    sqrt(Var(z))`` until the variance of its output ``z`` (before its activation)
    is within ``tol`` of 1, at most ``max_iter`` times; the layers after it see the
    rescaled output. Weights are computed on one context and written with
    ``Parameter.set_data``, so every replica gets the same values. Biases and
    running statistics are left as they are.

    Parameters
    ----------
    net : Block
        An initialized network (deferred shapes are completed by a first forward pass).
    batch : NDArray or numpy.ndarray
        A batch of inputs.
    tol : float, default 0.1
        Accepted distance of each layer's output variance from 1.
    max_iter : int, default 10
        Most rescalings per layer.
    ctx : Context, optional
        Where the pass runs (as in :func:`init_report`).
    orthonormal : bool, default True
        Start from orthonormal weights (False: rescale the current weights).

    Returns
    -------
    tuple of LSUVStep
        One per layer call, in forward order.

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab.diagnostics import lsuv_init
    >>> net = mx.gluon.nn.Sequential()
    >>> net.add(mx.gluon.nn.Dense(32, activation='relu'), mx.gluon.nn.Dense(32))
    >>> net.initialize()
    >>> steps = lsuv_init(net, mx.nd.random.normal(shape=(64, 16)))
    >>> [abs(s.variance - 1) <= 0.1 for s in steps]
    [True, True]
    """
    _check(net, batch, tol, max_iter)
    specs, _ = find_layers(net)
    if not specs:
        raise ValueError(
            f"lsuv_init: {type(net).__name__} has no layer with a weight of two or more "
            "dimensions (Dense, Conv...)"
        )
    named = net._collect_params_with_prefix()
    ctx = resolve_context(ctx, batch, named, who="lsuv_init")
    x = input_array(batch, ctx)
    prev_r, prev_t = set_recording(False), set_training(False)
    try:
        if any(p._pending is not None for p in named.values()):
            net(x)  # completes deferred initialization
        guard = StateGuard([p for p in named.values() if p._replicas])
        try:
            if orthonormal:
                _orthonormal(specs, ctx)
            with _Rescaler(specs, ctx, tol, max_iter) as rescaler:
                net(x)
        finally:
            guard.restore()  # running statistics; the weights' new values stay
    finally:
        set_recording(prev_r)
        set_training(prev_t)
    for step in rescaler.steps:
        if not step.converged:
            warnings.warn(
                f"lsuv_init: layer {step.index} ({step.name}) did not reach unit variance "
                f"(variance {step.variance:.3g} after {step.iterations} rescalings; a layer "
                "whose output is constant cannot be rescaled)",
                InitWarning,
                stacklevel=2,
            )
    return tuple(rescaler.steps)
