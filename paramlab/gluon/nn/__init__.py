"""``mx.gluon.nn``: blocks and layers."""

from ..block import Block, HybridBlock
from .activations import ELU, GELU, SELU, Activation, LeakyReLU, PReLU, Swish
from .basic_layers import (
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    HybridLambda,
    HybridSequential,
    Lambda,
    LayerNorm,
    Sequential,
)
from .conv_layers import AvgPool2D, Conv2D, GlobalAvgPool2D, GlobalMaxPool2D, MaxPool2D

__all__ = [
    "Block", "HybridBlock", "Sequential", "HybridSequential", "Dense", "Dropout", "BatchNorm",
    "LayerNorm", "Embedding", "Flatten", "Lambda", "HybridLambda", "Activation", "LeakyReLU",
    "PReLU", "ELU", "SELU", "GELU", "Swish", "Conv2D", "MaxPool2D", "AvgPool2D",
    "GlobalAvgPool2D", "GlobalMaxPool2D",
]  # fmt: skip
