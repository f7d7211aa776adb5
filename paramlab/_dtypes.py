"""The dtypes paramlab arrays may have, and how user spellings map onto them."""

from __future__ import annotations

import numpy as np

__all__ = ["SUPPORTED", "canonical", "default_float"]

SUPPORTED = tuple(
    np.dtype(t)
    for t in ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")
)
_NAMES = ", ".join(d.name for d in SUPPORTED)

default_float = np.dtype(np.float32)


def canonical(dtype, what="dtype") -> np.dtype:
    """``dtype`` as one of :data:`SUPPORTED`; TypeError naming the given value otherwise.

    >>> canonical('float32')
    dtype('float32')
    """
    try:
        dt = np.dtype(dtype)
    except Exception:  # NumPy raises TypeError, ValueError or even SyntaxError for odd strings
        dt = None
    if dt is None or dt not in SUPPORTED:
        raise TypeError(f"{what}: unsupported dtype {dtype!r}; expected one of {_NAMES}")
    return dt
