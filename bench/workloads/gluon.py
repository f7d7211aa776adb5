"""Gluon-API bodies, written once and run against any ``mx`` module.

The same functions are executed by the MXNet worker with the real
``mxnet`` 1.9.1 package and in-process with ``import paramlab as mx``.  They
use only the public MXNet 1.x Gluon API, as user code would, and end every
timed run with ``mx.nd.waitall()`` so MXNet's asynchronous engine has
finished the work (paramlab's ``waitall`` is a no-op, called for symmetry).

Every ``w*_setup(mx, p)`` receives the ``mx`` module and the size
parameters ``p`` (see ``harness/cases.py``; ``p["device"]`` is ``"cpu"`` or
``"gpu"``) and returns a :class:`~workloads.base.Prepared` whose ``run`` is
the timed part.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile

import numpy as np

from workloads.base import Prepared, Registry

REGISTRY = Registry("gluon")


# ----------------------------------------------------------------- helpers


def contexts(mx, p, count=None):
    """Return ``count`` contexts (default ``p["ncontexts"]``) of ``p["device"]``."""
    make = mx.gpu if p.get("device") == "gpu" else mx.cpu
    return [make(i) for i in range(p["ncontexts"] if count is None else count)]


def xavier(mx, rnd_type="uniform"):
    """Return MXNet's Xavier initializer with magnitude 3 and factor ``avg``."""
    return mx.init.Xavier(rnd_type=rnd_type, factor_type="avg", magnitude=3)


def host_normal(shape, seed):
    """Return a float32 standard-normal NumPy array (same data for every peer)."""
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def build_mlp(mx, widths, ctx, relu_last=False):
    """Return an initialized ``nn.Sequential`` of Dense layers with ReLU.

    Parameters
    ----------
    widths : list of int
        Layer widths, input first (``[784, 1024, 1024, 10]``).
    ctx : Context
        Context the parameters live on.
    relu_last : bool
        Whether the last layer has a ReLU too.
    """
    nn = mx.gluon.nn
    net = nn.Sequential()
    last = len(widths) - 2
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        act = "relu" if i < last or relu_last else None
        net.add(nn.Dense(fan_out, activation=act, in_units=fan_in))
    net.initialize(xavier(mx), ctx=ctx)
    return net


def mlp_batch(mx, p, ctx):
    """Return ``(x, y)``: a batch of inputs and integer class labels (as float32)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((p["batch"], p["mlp"][0]), dtype=np.float32)
    y = rng.integers(0, p["mlp"][-1], size=p["batch"]).astype(np.float32)
    return mx.nd.array(x, ctx=ctx), mx.nd.array(y, ctx=ctx)


def mlp_trainer(mx, p):
    """Return ``(net, step)`` where ``step()`` is one SGD step of the W4 MLP."""
    ctx = contexts(mx, p, 1)[0]
    net = build_mlp(mx, p["mlp"], ctx)
    x, y = mlp_batch(mx, p, ctx)
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": p["lr"]})
    autograd = mx.autograd

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(p["batch"])

    return net, step


# ------------------------------------------------------------------ bodies


@REGISTRY.case("W1.uniform", "W1.gaussian", "W2")
def w1_setup(mx, p):
    """``Parameter.initialize(force_reinit=True)`` with Xavier, on 1 or n contexts."""
    n = p["n"]
    rnd = "gaussian" if p["case"] == "W1.gaussian" else "uniform"
    ctx = contexts(mx, p) if p["case"] == "W2" else contexts(mx, p, 1)[0]
    param = mx.gluon.Parameter("weight", shape=(n, n), dtype="float32", init=xavier(mx, rnd))

    def run():
        param.initialize(ctx=ctx, force_reinit=True)
        param.list_data()
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W3")
def w3_setup(mx, p):
    """Create and initialize ``nparams`` small parameters."""
    k, count = p["small"], p["nparams"]
    ctx = contexts(mx, p, 1)[0]
    init = xavier(mx)
    state = {"params": None}

    def run():
        state["params"] = None
        params = [
            mx.gluon.Parameter(f"p{i}", shape=(k, k), dtype="float32", init=init)
            for i in range(count)
        ]
        for param in params:
            param.initialize(ctx=ctx)
        state["params"] = params
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W4")
def w4_setup(mx, p):
    """One training step: record, forward, loss, backward, ``Trainer.step``."""
    _, step = mlp_trainer(mx, p)

    def run():
        step()
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W5")
def w5_setup(mx, p):
    """``ParameterDict.zero_grad()`` over ``nparams`` small parameters."""
    k = p["small"]
    params = mx.gluon.ParameterDict()
    for i in range(p["nparams"]):
        params.get(f"p{i}", shape=(k, k), dtype="float32", init=xavier(mx))
    params.initialize(ctx=contexts(mx, p, 1)[0])
    for param in params.values():
        param.grad()[:] = 1.0
    mx.nd.waitall()

    def run():
        params.zero_grad()
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W6")
def w6_setup(mx, p):
    """``Parameter.set_data`` of an n x n array onto ``ncontexts`` contexts."""
    n = p["n"]
    ctxs = contexts(mx, p)
    param = mx.gluon.Parameter("weight", shape=(n, n), dtype="float32", init=xavier(mx))
    param.initialize(ctx=ctxs)
    src = mx.nd.array(host_normal((n, n), 2), ctx=ctxs[0])
    mx.nd.waitall()

    def run():
        param.set_data(src)
        mx.nd.waitall()

    return Prepared(run)


def summary_stats(mx, x, bins):
    """Return exact summary statistics and a histogram of NDArray ``x``."""
    nd = mx.nd
    mean = nd.mean(x)
    stats = {
        "mean": mean.asscalar(),
        "std": nd.sqrt(nd.mean(nd.square(x - mean))).asscalar(),
        "min": nd.min(x).asscalar(),
        "max": nd.max(x).asscalar(),
        "norm": nd.norm(x).asscalar(),
        "finite": nd.contrib.isfinite(x).sum().asscalar(),
    }
    counts, edges = nd.histogram(x, bins=bins, range=(stats["min"], stats["max"]))
    stats["hist"], stats["edges"] = counts.asnumpy(), edges.asnumpy()
    return stats


@REGISTRY.case("W7")
def w7_setup(mx, p):
    """Summary statistics and a histogram with ``mx.nd`` operators."""
    n = p["n"]
    x = mx.nd.array(host_normal((n, n), 3), ctx=contexts(mx, p, 1)[0])
    mx.nd.waitall()

    def run():
        summary_stats(mx, x, p["bins"])
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W8")
def w8_setup(mx, p):
    """``zero_grad`` then ``accum`` backward passes with ``grad_req='add'``."""
    ctx = contexts(mx, p, 1)[0]
    net = build_mlp(mx, p["mlp"], ctx)
    params = net.collect_params()
    for param in params.values():
        param.grad_req = "add"
    x, y = mlp_batch(mx, p, ctx)
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()

    def run():
        params.zero_grad()
        for _ in range(p["accum"]):
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
        mx.nd.waitall()

    return Prepared(run)


def fsync_path(path):
    """Flush the file at ``path`` to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@REGISTRY.case("W9")
def w9_setup(mx, p):
    """``save_parameters`` + fsync, then ``load_parameters``."""
    ctx = contexts(mx, p, 1)[0]
    net = build_mlp(mx, p["mlp"], ctx)
    tmpdir = tempfile.mkdtemp(prefix="plbench-gluon-")
    path = os.path.join(tmpdir, "mlp.params")
    mx.nd.waitall()

    def run():
        net.save_parameters(path)
        fsync_path(path)
        net.load_parameters(path, ctx=ctx)
        mx.nd.waitall()

    return Prepared(run, lambda: shutil.rmtree(tmpdir, ignore_errors=True))


@REGISTRY.case("W10.loop")
def w10_loop_setup(mx, p):
    """``steps`` training steps of the W4 MLP (no view)."""
    _, step = mlp_trainer(mx, p)

    def run():
        for _ in range(p["steps"]):
            step()
        mx.nd.waitall()

    return Prepared(run)


def deep_net(mx, p):
    """Return ``(net, x)``: the W11 deep ReLU MLP and its input batch."""
    ctx = contexts(mx, p, 1)[0]
    width = p["deep_width"]
    net = build_mlp(mx, [width] * (p["deep_layers"] + 1), ctx, relu_last=True)
    x = mx.nd.array(host_normal((p["deep_batch"], width), 4), ctx=ctx)
    return net, x


@REGISTRY.case("W11")
def w11_setup(mx, p):
    """One plain forward + backward (head gradient of ones) of the deep MLP."""
    net, x = deep_net(mx, p)
    mx.nd.waitall()

    def run():
        with mx.autograd.record():
            out = net(x)
        out.backward()
        mx.nd.waitall()

    return Prepared(run)
