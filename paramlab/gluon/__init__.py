"""``mx.gluon``: parameters, blocks, layers, losses, the Trainer and data utilities."""

from ..base import DeferredInitializationError
from . import data, loss, nn, utils
from .block import Block, HybridBlock
from .parameter import Constant, Parameter
from .parameter_dict import ParameterDict
from .trainer import Trainer

__all__ = [
    "Parameter",
    "Constant",
    "ParameterDict",
    "Trainer",
    "DeferredInitializationError",
    "Block",
    "HybridBlock",
    "nn",
    "loss",
    "utils",
    "data",
]
