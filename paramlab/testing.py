"""Test helpers: the contexts available here, tolerances per dtype, finite-difference checks.

:func:`check_grad` is the oracle for every differentiable operation: it compares
the gradient from ``backward`` with a central finite difference, computed in
float64, along a random direction.
"""

from __future__ import annotations

import numpy as np

from . import _backend
from .context import Context, cpu, gpu

__all__ = ["available_contexts", "tolerances", "assert_almost_equal", "check_grad"]

_TOL = {
    np.dtype(np.float16): (1e-2, 1e-2),
    np.dtype(np.float32): (1e-4, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-9),
}


def available_contexts(include_gpu=True) -> list[Context]:
    """``cpu(0)``, ``cpu(1)`` and every usable ``gpu(i)``."""
    ctxs = [cpu(0), cpu(1)]
    if include_gpu:
        ctxs += [gpu(i) for i in range(_backend.num_gpus())]
    return ctxs


def tolerances(dtype) -> tuple[float, float]:
    """``(rtol, atol)`` suited to ``dtype``."""
    return _TOL.get(np.dtype(dtype), (0.0, 0.0))


def _host(x):
    if hasattr(x, "asnumpy"):
        return x.asnumpy()
    return np.asarray(_backend.to_host(x) if _backend.is_gpu_array(x) else x)


def assert_almost_equal(actual, desired, rtol=None, atol=None, names=("actual", "desired")):
    """Compare arrays (NDArray, NumPy or CuPy) with dtype-aware tolerances."""
    a, d = _host(actual), _host(desired)
    rt, at = tolerances(np.result_type(a.dtype, d.dtype))
    np.testing.assert_allclose(
        a,
        d,
        rtol=rt if rtol is None else rtol,
        atol=at if atol is None else atol,
        err_msg=f"{names[0]} vs {names[1]}",
    )


def check_grad(fn, inputs, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0, grad_inputs=None):
    """Check ``backward`` of ``fn`` against a central difference along a random direction.

    Parameters
    ----------
    fn : callable
        Takes NDArrays, returns one NDArray.
    inputs : list of NDArray
        Float64 inputs (on any context); each gets a gradient unless ``grad_inputs``
        (a list of bools) says otherwise.

    The directional derivative of ``sum(fn(x) * w)`` along a random ``v`` is
    computed twice -- by back-propagation and by ``(f(x + eps v) - f(x - eps v)) / 2 eps``
    -- and must agree within the tolerances. Raises AssertionError (a test failure).
    """
    from . import autograd
    from .ndarray.ndarray import NDArray

    rng = np.random.default_rng(seed)
    grad_inputs = grad_inputs or [True] * len(inputs)
    for x, g in zip(inputs, grad_inputs):
        if g:
            x.attach_grad()
    with autograd.record():
        out = fn(*inputs)
    w_host = rng.standard_normal(out.shape)
    w = NDArray._wrap(_backend.to_context(w_host.astype(out._data.dtype), out.context), out.context)
    out.backward(w)
    dirs = [rng.standard_normal(x.shape) for x in inputs]
    analytic = sum(
        float((x.grad.asnumpy().astype(np.float64) * v).sum())
        for x, v, g in zip(inputs, dirs, grad_inputs)
        if g
    )

    def value(sign):
        shifted = []
        for x, v, g in zip(inputs, dirs, grad_inputs):
            host = x.asnumpy().astype(np.float64)
            if g:
                host = host + sign * eps * v
            shifted.append(
                NDArray._wrap(_backend.to_context(host.astype(x._data.dtype), x.context), x.context)
            )
        with autograd.pause():
            y = fn(*shifted)
        return float((y.asnumpy().astype(np.float64) * w_host).sum())

    numeric = (value(1) - value(-1)) / (2 * eps)
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        raise AssertionError(
            f"gradient check failed: backward gives {analytic!r}, finite difference {numeric!r}"
        )
    return analytic, numeric
