"""Errors and small shared helpers.

Every error that paramlab raises for bad input is one of the Python built-in
classes users already catch (``ValueError``, ``TypeError``, ``RuntimeError``,
``KeyError``, ``IndexError``) or a subclass of one, and its message names the
object, the expected and the given value.
"""

from __future__ import annotations

__all__ = [
    "MXNetError",
    "ContextMismatchError",
    "DeferredInitializationError",
    "GPUUnavailableError",
    "CheckpointFormatError",
    "StaleGradientError",
    "LRSchedulerConflictError",
    "numeric_types",
    "integer_types",
    "string_types",
]

import numbers

import numpy as _np

numeric_types = (float, int, numbers.Number, _np.generic)
integer_types = (int, _np.integer)
string_types = (str,)


class MXNetError(RuntimeError):
    """The error MXNet raises from its engine; a ``RuntimeError``."""


class ContextMismatchError(MXNetError):
    """An operation was given arrays that live on different contexts."""


class DeferredInitializationError(MXNetError):
    """A parameter was used before its deferred initialization completed."""


class GPUUnavailableError(MXNetError):
    """A GPU context was used for an allocation but no usable GPU is present."""


class CheckpointFormatError(ValueError):
    """A checkpoint file is truncated, corrupted or not in the expected format."""


class StaleGradientError(RuntimeError, UserWarning):
    """A gradient was not written by ``backward`` since the last update.

    It is both a ``RuntimeError`` and a ``UserWarning``, so code written against
    MXNet's ``except UserWarning`` keeps working.
    """


class LRSchedulerConflictError(RuntimeError, UserWarning):
    """``set_learning_rate`` was called while an ``lr_scheduler`` decides the rate.

    Both a ``RuntimeError`` and a ``UserWarning`` (MXNet raises a bare ``UserWarning``).
    """
