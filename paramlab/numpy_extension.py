"""``mx.npx``: MXNet's NumPy extensions (modes, devices and neural-network operators)."""

from __future__ import annotations

from .context import cpu, cpu_pinned, current_context, gpu, num_gpus
from .ndarray import creation as _creation
from .ndarray import functions as _f
from .ndarray._calling import with_out as _with_out
from .ndarray._npx_nn import (
    activation,
    batch_norm,
    convolution,
    dropout,
    embedding,
    fully_connected,
    layer_norm,
    leaky_relu,
    pooling,
)
from .util import is_np_array, is_np_shape, reset_np, set_np, use_np

__all__ = [
    "set_np", "reset_np", "is_np_array", "is_np_shape", "use_np", "cpu", "gpu", "cpu_pinned",
    "num_gpus", "current_context", "current_device", "relu", "sigmoid", "softmax",
    "log_softmax", "batch_dot", "topk", "pick", "one_hot", "waitall", "seed", "save", "load",
    "fully_connected", "activation", "leaky_relu", "dropout", "batch_norm", "layer_norm",
    "embedding", "convolution", "pooling",
]  # fmt: skip

current_device = current_context
relu, sigmoid, softmax, log_softmax = _f.relu, _f.sigmoid, _f.softmax, _f.log_softmax
topk, pick = _f.topk, _f.pick
batch_dot, one_hot, waitall = _creation.batch_dot, _creation.one_hot, _creation.waitall


# MXNet's operators all take ``out=``
_with_out(
    globals(),
    [
        "relu", "sigmoid", "softmax", "log_softmax", "batch_dot", "pick", "one_hot",
        "fully_connected", "activation", "leaky_relu", "dropout", "batch_norm", "layer_norm",
        "embedding", "convolution", "pooling",
    ],
)  # fmt: skip


def save(file, arr):
    """Save an array, a list or a dict of arrays (``mx.nd.save``'s format)."""
    from .ndarray import utils

    utils.save(file, arr)


def load(file):
    """Load arrays saved by :func:`save` as ``mx.np.ndarray``."""
    from .ndarray import utils
    from .numpy import ndarray

    return utils.load(file, cls=ndarray)


def seed(seed):
    """Seed every stream (``mx.random.seed``)."""
    from . import random

    random.seed(seed)
