"""``mx.nd``: the NDArray and the functions that create and combine NDArrays."""

from . import random, sparse
from ._calling import with_out as _with_out
from .creation import (
    arange,
    array,
    batch_dot,
    concat,
    concatenate,
    dot,
    empty,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    one_hot,
    ones,
    ones_like,
    split,
    stack,
    waitall,
    zeros,
    zeros_like,
)
from .functions import *  # noqa: F403 - the operator spellings, listed in functions.__all__
from .functions import __all__ as _function_names
from .ndarray import NDArray
from .nn import *  # noqa: F403 - the neural-network operators, listed in nn.__all__
from .nn import __all__ as _nn_names
from .utils import load, save

__all__ = [
    "NDArray",
    "save",
    "load",
    "random",
    "sparse",
    "arange",
    "array",
    "batch_dot",
    "concat",
    "concatenate",
    "dot",
    "empty",
    "eye",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "one_hot",
    "ones",
    "ones_like",
    "split",
    "stack",
    "waitall",
    "zeros",
    "zeros_like",
    *_function_names,
    *_nn_names,
]

# MXNet's operators all take ``out=`` (the functions that create nothing from inputs, or give
# several arrays, do not)
_NOT_OPERATORS = {
    "NDArray", "save", "load", "random", "sparse", "array", "from_dlpack", "from_numpy",
    "waitall", "split", "topk",
}  # fmt: skip
_with_out(globals(), [name for name in __all__ if name not in _NOT_OPERATORS])
