"""Whether operations are being recorded, and whether layers run in training mode."""

from __future__ import annotations

import threading

_state = threading.local()


def is_recording() -> bool:
    """Whether operations on arrays that need gradients are being recorded."""
    return getattr(_state, "recording", False)


def is_training() -> bool:
    """Whether layers such as Dropout and BatchNorm behave as in training."""
    return getattr(_state, "training", False)


def set_recording(flag: bool) -> bool:
    """Set the recording flag; return the previous value."""
    prev = is_recording()
    _state.recording = bool(flag)
    return prev


def set_training(flag: bool) -> bool:
    """Set the training flag; return the previous value."""
    prev = is_training()
    _state.training = bool(flag)
    return prev
