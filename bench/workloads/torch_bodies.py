"""PyTorch bodies, run by the torch worker (``workers/torch_worker.py``).

Idiomatic PyTorch for every case: ``torch.nn.init`` for initialization,
``nn.Sequential`` + ``CrossEntropyLoss`` + ``optim.SGD`` for training.  The
environment is a :class:`TorchEnv` naming the device; CUDA work is
synchronised before a run returns.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile

import numpy as np
import torch
from torch import nn

from workloads.base import Prepared, Registry

REGISTRY = Registry("torch")

#: ``xavier_normal_`` gain giving MXNet's Xavier gaussian (magnitude 3, avg) scale.
GAUSSIAN_GAIN = math.sqrt(3.0)


class TorchEnv:
    """Device on which the torch bodies run.

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"``.
    """

    def __init__(self, device: str = "cpu"):
        self.device = torch.device(device)

    def sync(self) -> None:
        """Wait for queued device work (no-op on CPU)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def tensor(self, array: np.ndarray) -> torch.Tensor:
        """Return ``array`` as a tensor on the device."""
        return torch.from_numpy(array).to(self.device)

    def replicas(self, count: int) -> list[torch.device]:
        """Return ``count`` devices to replicate onto (CPU has one device)."""
        if self.device.type == "cuda":
            available = torch.cuda.device_count()
            return [torch.device("cuda", i % available) for i in range(count)]
        return [self.device] * count


def _host_normal(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


@REGISTRY.case("W1.uniform", "W1.gaussian")
def w1_setup(env, p):
    """``xavier_uniform_`` / ``xavier_normal_`` of one n x n parameter."""
    n = p["n"]
    weight = nn.Parameter(torch.empty(n, n, device=env.device))
    if p["case"] == "W1.uniform":

        def init():
            nn.init.xavier_uniform_(weight)
    else:

        def init():
            nn.init.xavier_normal_(weight, gain=GAUSSIAN_GAIN)

    def run():
        init()
        env.sync()

    return Prepared(run)


@REGISTRY.case("W2")
def w2_setup(env, p):
    """One ``xavier_uniform_`` draw into a new parameter plus new copies on the others.

    Like the NumPy floor, the buffers are created inside the timed run.
    """
    n = p["n"]
    devices = env.replicas(p["ncontexts"])
    state = {"replicas": None}

    def run():
        state["replicas"] = None
        first = nn.Parameter(torch.empty(n, n, device=devices[0]))
        nn.init.xavier_uniform_(first)
        with torch.no_grad():
            others = [nn.Parameter(first.detach().to(d, copy=True)) for d in devices[1:]]
        state["replicas"] = [first, *others]
        env.sync()

    return Prepared(run)


@REGISTRY.case("W3")
def w3_setup(env, p):
    """Create ``nparams`` small parameters and ``xavier_uniform_`` each."""
    k, count = p["small"], p["nparams"]
    state = {"params": None}

    def run():
        state["params"] = None
        params = [nn.Parameter(torch.empty(k, k, device=env.device)) for _ in range(count)]
        for param in params:
            nn.init.xavier_uniform_(param)
        state["params"] = params
        env.sync()

    return Prepared(run)


def build_mlp(env, widths, relu_last=False):
    """Return ``nn.Sequential`` of Linear+ReLU layers, Xavier-uniform weights, zero biases."""
    layers = []
    last = len(widths) - 2
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < last or relu_last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(env.device)


def mlp_batch(env, p):
    """Return ``(x, y)`` for the W4 MLP (same data as the other implementations)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((p["batch"], p["mlp"][0]), dtype=np.float32)
    y = rng.integers(0, p["mlp"][-1], size=p["batch"])
    return env.tensor(x), env.tensor(y)


def mlp_trainer(env, p):
    """Return ``(net, optimizer, step)`` for one SGD step of the W4 MLP."""
    net = build_mlp(env, p["mlp"])
    x, y = mlp_batch(env, p)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=p["lr"])

    def step():
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        optimizer.step()

    return net, optimizer, step


@REGISTRY.case("W4")
def w4_setup(env, p):
    """One SGD step: zero_grad, forward, loss, backward, step."""
    _, _, step = mlp_trainer(env, p)

    def run():
        step()
        env.sync()

    return Prepared(run)


@REGISTRY.case("W5")
def w5_setup(env, p):
    """``optimizer.zero_grad(set_to_none=False)`` over ``nparams`` small parameters."""
    k = p["small"]
    params = [nn.Parameter(torch.empty(k, k, device=env.device)) for _ in range(p["nparams"])]
    for param in params:
        param.grad = torch.ones_like(param)
    optimizer = torch.optim.SGD(params, lr=p["lr"])

    def run():
        optimizer.zero_grad(set_to_none=False)
        env.sync()

    return Prepared(run)


@REGISTRY.case("W6")
def w6_setup(env, p):
    """``copy_`` of one n x n tensor into ``ncontexts`` preallocated parameters."""
    n = p["n"]
    src = env.tensor(_host_normal((n, n), 2))
    dsts = [nn.Parameter(torch.empty(n, n, device=d)) for d in env.replicas(p["ncontexts"])]

    def run():
        with torch.no_grad():
            for dst in dsts:
                dst.copy_(src)
        env.sync()

    return Prepared(run)


def summary_stats(x, bins):
    """Return exact summary statistics and a ``histc`` histogram of tensor ``x``."""
    lo, hi = x.min().item(), x.max().item()
    return {
        "mean": x.mean().item(),
        "std": x.std(correction=0).item(),
        "min": lo,
        "max": hi,
        "norm": torch.linalg.vector_norm(x).item(),
        "finite": torch.isfinite(x).sum().item(),
        "hist": torch.histc(x, bins=bins, min=lo, max=hi).cpu().numpy(),
    }


@REGISTRY.case("W7")
def w7_setup(env, p):
    """Summary statistics and a 64-bin histogram with torch reductions."""
    x = env.tensor(_host_normal((p["n"], p["n"]), 3))

    def run():
        summary_stats(x, p["bins"])
        env.sync()

    return Prepared(run)


@REGISTRY.case("W8")
def w8_setup(env, p):
    """``zero_grad`` then ``accum`` backward passes accumulating into ``.grad``."""
    net = build_mlp(env, p["mlp"])
    x, y = mlp_batch(env, p)
    loss_fn = nn.CrossEntropyLoss()

    def run():
        net.zero_grad(set_to_none=False)
        for _ in range(p["accum"]):
            loss_fn(net(x), y).backward()
        env.sync()

    return Prepared(run)


@REGISTRY.case("W9")
def w9_setup(env, p):
    """``torch.save(state_dict)`` + fsync, then ``torch.load`` + ``load_state_dict``."""
    net = build_mlp(env, p["mlp"])
    tmpdir = tempfile.mkdtemp(prefix="plbench-torch-")
    path = os.path.join(tmpdir, "mlp.pt")

    def run():
        with open(path, "wb") as fh:
            torch.save(net.state_dict(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        net.load_state_dict(torch.load(path, map_location=env.device))
        env.sync()

    return Prepared(run, lambda: shutil.rmtree(tmpdir, ignore_errors=True))


@REGISTRY.case("W10.loop")
def w10_loop_setup(env, p):
    """``steps`` SGD steps of the W4 MLP."""
    _, _, step = mlp_trainer(env, p)

    def run():
        for _ in range(p["steps"]):
            step()
        env.sync()

    return Prepared(run)


@REGISTRY.case("W11")
def w11_setup(env, p):
    """One forward + backward (``out.sum().backward()``) of the deep ReLU MLP."""
    width = p["deep_width"]
    net = build_mlp(env, [width] * (p["deep_layers"] + 1), relu_last=True)
    x = env.tensor(_host_normal((p["deep_batch"], width), 4))

    def run():
        net.zero_grad(set_to_none=True)
        net(x).sum().backward()
        env.sync()

    return Prepared(run)
