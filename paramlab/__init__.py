"""paramlab: MXNet Gluon's parameter world on NumPy and CuPy, and a lab to look inside it.

``import paramlab as mx`` gives the MXNet-shaped namespace: contexts, ``nd``,
``np``/``npx``, ``autograd``, ``random``, ``util``; the later layers (initializers,
Gluon, optimizers, checkpoints) join it as they are built.

>>> import paramlab as mx
>>> mx.nd.ones((2, 3), ctx=mx.cpu(1)).sum().asscalar()
np.float32(6.0)
"""

from . import (
    autograd,
    base,
    context,
    gluon,
    initializer,
    lr_scheduler,
    ndarray,
    optimizer,
    random,
    symbol,
    util,
)
from . import initializer as init
from . import ndarray as nd
from . import numpy as np
from . import numpy_extension as npx
from . import symbol as sym
from .base import MXNetError
from .context import Context, Device, cpu, cpu_pinned, cpu_shared, current_context, gpu, num_gpus

__version__ = "0.1.0"

device = context
current_device = current_context

__all__ = [
    "base",
    "context",
    "device",
    "util",
    "ndarray",
    "nd",
    "np",
    "npx",
    "autograd",
    "random",
    "initializer",
    "init",
    "symbol",
    "sym",
    "lr_scheduler",
    "optimizer",
    "gluon",
    "MXNetError",
    "Context",
    "Device",
    "cpu",
    "gpu",
    "cpu_pinned",
    "cpu_shared",
    "current_context",
    "current_device",
    "num_gpus",
    "__version__",
]
