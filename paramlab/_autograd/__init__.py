"""The define-by-run engine: recording state, graph nodes, backward (on raw arrays)."""

from .engine import Function, Node, apply, backward_from, requires_grad
from .state import is_recording, is_training, set_recording, set_training

__all__ = [
    "Function",
    "Node",
    "apply",
    "backward_from",
    "requires_grad",
    "is_recording",
    "is_training",
    "set_recording",
    "set_training",
]
