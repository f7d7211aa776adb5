"""Hand-written NumPy bodies: the floor every other implementation is compared to.

Each body does the least work that produces the same result as the Gluon
code, written the way a careful NumPy programmer would (preallocated output
buffers, in-place updates).  The environment ``xp`` is the array module:
``numpy`` on CPU, ``cupy`` for ``--gpu`` runs (the raw-CuPy floor).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile

import numpy as np

from workloads.base import Prepared, Registry

REGISTRY = Registry("numpy")

F32 = np.float32


def _sync(xp):
    """Return a callable waiting for queued device work (no-op for NumPy)."""
    if xp is np:
        return lambda: None
    return xp.cuda.get_current_stream().synchronize


def _xavier_bound(fan_in: int, fan_out: int, magnitude: float = 3.0) -> float:
    return math.sqrt(magnitude / ((fan_in + fan_out) / 2.0))


def _fill_uniform(rng, out, bound):
    rng.random(out=out, dtype=F32)
    out *= F32(2.0 * bound)
    out -= F32(bound)


def _fill_gaussian(rng, out, scale):
    rng.standard_normal(dtype=F32, out=out)
    out *= F32(scale)


@REGISTRY.case("W1.uniform", "W1.gaussian")
def w1_setup(xp, p):
    """Fill one preallocated n x n array with a Xavier draw."""
    n, sync = p["n"], _sync(xp)
    rng = xp.random.default_rng(0)
    w = xp.empty((n, n), dtype=F32)
    scale = _xavier_bound(n, n)
    fill = _fill_uniform if p["case"] == "W1.uniform" else _fill_gaussian

    def run():
        fill(rng, w, scale)
        sync()

    return Prepared(run)


@REGISTRY.case("W2")
def w2_setup(xp, p):
    """One Xavier-uniform draw into a new array plus ``ncontexts - 1`` new copies.

    Initialization creates its buffers, so the floor allocates them too (writing
    into pre-faulted arrays would leave out the page faults every fresh buffer costs).
    """
    n, sync = p["n"], _sync(xp)
    rng = xp.random.default_rng(0)
    bound = _xavier_bound(n, n)
    state = {"copies": None}

    def run():
        state["copies"] = None
        first = xp.empty((n, n), dtype=F32)
        _fill_uniform(rng, first, bound)
        state["copies"] = [first] + [first.copy() for _ in range(p["ncontexts"] - 1)]
        sync()

    return Prepared(run)


@REGISTRY.case("W3")
def w3_setup(xp, p):
    """Allocate and Xavier-fill ``nparams`` small arrays."""
    k, count, sync = p["small"], p["nparams"], _sync(xp)
    rng = xp.random.default_rng(0)
    bound = _xavier_bound(k, k)
    state = {"params": None}

    def run():
        state["params"] = None
        params = []
        for _ in range(count):
            arr = xp.empty((k, k), dtype=F32)
            _fill_uniform(rng, arr, bound)
            params.append(arr)
        state["params"] = params
        sync()

    return Prepared(run)


class _MLP:
    """Dense ReLU network with hand-written forward and backward passes.

    Weights are stored ``(in, out)`` so the forward pass is ``x @ W + b``.
    """

    def __init__(self, xp, widths, seed=0):
        self.xp = xp
        rng = xp.random.default_rng(seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in itertools.pairwise(widths):
            w = xp.empty((fan_in, fan_out), dtype=F32)
            _fill_uniform(rng, w, _xavier_bound(fan_in, fan_out))
            self.weights.append(w)
            self.biases.append(xp.zeros(fan_out, dtype=F32))
        self.grad_w = [xp.zeros_like(w) for w in self.weights]
        self.grad_b = [xp.zeros_like(b) for b in self.biases]

    def arrays(self):
        """Return ``{name: array}`` of all parameters."""
        named = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            named[f"w{i}"], named[f"b{i}"] = w, b
        return named

    def forward(self, x, relu_last=False):
        """Return the activations of every layer (input first)."""
        xp, acts = self.xp, [x]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = acts[-1] @ w
            h += b
            if i < last or relu_last:
                xp.maximum(h, 0, out=h)
            acts.append(h)
        return acts

    def backward(self, acts, grad_out, accumulate=False, relu_last=False):
        """Back-propagate ``grad_out`` through the layers into the gradients."""
        grad = grad_out
        last = len(self.weights) - 1
        for i in range(last, -1, -1):
            if i < last or relu_last:
                grad *= acts[i + 1] > 0
            gw, gb = acts[i].T @ grad, grad.sum(axis=0)
            if accumulate:
                self.grad_w[i] += gw
                self.grad_b[i] += gb
            else:
                self.grad_w[i], self.grad_b[i] = gw, gb
            if i > 0:
                grad = grad @ self.weights[i].T

    def zero_grad(self):
        """Set all gradients to zero in place."""
        for g in self.grad_w + self.grad_b:
            g.fill(0)

    def sgd(self, lr):
        """Apply ``param -= lr * grad`` in place."""
        for params, grads in ((self.weights, self.grad_w), (self.biases, self.grad_b)):
            for param, grad in zip(params, grads):
                grad *= F32(lr)
                param -= grad


def _softmax_ce_grad(xp, logits, labels):
    """Return ``(mean loss, d loss / d logits)`` of softmax cross-entropy."""
    batch = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    log_prob = shifted - log_norm
    rows = xp.arange(batch)
    loss = -log_prob[rows, labels].mean()
    grad = xp.exp(log_prob)
    grad[rows, labels] -= 1.0
    grad *= F32(1.0 / batch)
    return loss, grad


def _batch(xp, p, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((p["batch"], p["mlp"][0]), dtype=F32)
    y = rng.integers(0, p["mlp"][-1], size=p["batch"])
    return xp.asarray(x), xp.asarray(y)


def _mlp_step_fn(xp, p):
    net, (x, y) = _MLP(xp, p["mlp"]), _batch(xp, p)

    def step():
        acts = net.forward(x)
        _, grad = _softmax_ce_grad(xp, acts[-1], y)
        net.backward(acts, grad)
        net.sgd(p["lr"])

    return net, step


@REGISTRY.case("W4")
def w4_setup(xp, p):
    """One SGD step of the MLP."""
    sync = _sync(xp)
    _, step = _mlp_step_fn(xp, p)

    def run():
        step()
        sync()

    return Prepared(run)


@REGISTRY.case("W5")
def w5_setup(xp, p):
    """``g.fill(0)`` over ``nparams`` small gradient arrays."""
    k, sync = p["small"], _sync(xp)
    grads = [xp.ones((k, k), dtype=F32) for _ in range(p["nparams"])]

    def run():
        for g in grads:
            g.fill(0)
        sync()

    return Prepared(run)


@REGISTRY.case("W6")
def w6_setup(xp, p):
    """``copyto`` of one n x n array into ``ncontexts`` preallocated arrays."""
    n, sync = p["n"], _sync(xp)
    src = xp.asarray(np.random.default_rng(2).standard_normal((n, n), dtype=F32))
    dsts = [xp.empty((n, n), dtype=F32) for _ in range(p["ncontexts"])]

    def run():
        for dst in dsts:
            xp.copyto(dst, src)
        sync()

    return Prepared(run)


def summary_stats(xp, x, bins):
    """Return exact summary statistics and a histogram of ``x`` as host values."""
    stats = {
        "mean": float(xp.mean(x)),
        "std": float(xp.std(x)),
        "min": float(xp.min(x)),
        "max": float(xp.max(x)),
        "norm": float(xp.linalg.norm(x)),
        "finite": int(xp.isfinite(x).sum()),
    }
    counts, edges = xp.histogram(x, bins)
    stats["hist"] = counts
    stats["edges"] = edges
    return stats


@REGISTRY.case("W7")
def w7_setup(xp, p):
    """Summary statistics and a histogram of an n x n array."""
    n, sync = p["n"], _sync(xp)
    x = xp.asarray(np.random.default_rng(3).standard_normal((n, n), dtype=F32))

    def run():
        summary_stats(xp, x, p["bins"])
        sync()

    return Prepared(run)


@REGISTRY.case("W8")
def w8_setup(xp, p):
    """Zero the gradients, then ``accum`` accumulating backward passes."""
    sync = _sync(xp)
    net, (x, y) = _MLP(xp, p["mlp"]), _batch(xp, p)

    def run():
        net.zero_grad()
        for _ in range(p["accum"]):
            acts = net.forward(x)
            _, grad = _softmax_ce_grad(xp, acts[-1], y)
            net.backward(acts, grad, accumulate=True)
        sync()

    return Prepared(run)


def _to_host(xp, arr):
    return arr if xp is np else xp.asnumpy(arr)


@REGISTRY.case("W9")
def w9_setup(xp, p):
    """``np.savez`` + fsync, then ``np.load`` back into the parameters."""
    sync = _sync(xp)
    net = _MLP(xp, p["mlp"])
    params = net.arrays()
    tmpdir = tempfile.mkdtemp(prefix="plbench-np-")
    path = os.path.join(tmpdir, "mlp.npz")

    def run():
        with open(path, "wb") as fh:
            np.savez(fh, **{k: _to_host(xp, v) for k, v in params.items()})
            fh.flush()
            os.fsync(fh.fileno())
        with np.load(path) as data:
            for name, arr in params.items():
                xp.copyto(arr, xp.asarray(data[name]))
        sync()

    return Prepared(run, lambda: shutil.rmtree(tmpdir, ignore_errors=True))


@REGISTRY.case("W10.view_update")
def w10_view_update_setup(xp, p):
    """One read pass over each of ``ncontexts`` n x n float32 replicas (``max``)."""
    sync = _sync(xp)
    rng = np.random.default_rng(5)
    host = rng.standard_normal((p["n"], p["n"]), dtype=F32)
    replicas = [xp.asarray(host.copy()) for _ in range(p["ncontexts"])]

    def run():
        for r in replicas:
            r.max()
        sync()

    return Prepared(run)


@REGISTRY.case("W10.loop")
def w10_loop_setup(xp, p):
    """``steps`` SGD steps of the MLP."""
    sync = _sync(xp)
    _, step = _mlp_step_fn(xp, p)

    def run():
        for _ in range(p["steps"]):
            step()
        sync()

    return Prepared(run)


@REGISTRY.case("W11")
def w11_setup(xp, p):
    """One forward + backward (head gradient of ones) of the deep ReLU MLP."""
    sync = _sync(xp)
    width = p["deep_width"]
    net = _MLP(xp, [width] * (p["deep_layers"] + 1))
    rng = np.random.default_rng(4)
    x = xp.asarray(rng.standard_normal((p["deep_batch"], width), dtype=F32))

    def run():
        acts = net.forward(x, relu_last=True)
        net.backward(acts, xp.ones_like(acts[-1]), relu_last=True)
        sync()

    return Prepared(run)
