"""MXNet's ``out=`` for the operator functions of ``mx.nd`` and ``mx.npx``.

Every MXNet operator takes ``out=``: the result is written into that array (which
must have the result's shape; it keeps its own dtype, context and storage type) and
the array is returned. The functions of ``mx.nd`` and ``mx.npx`` compute a new
result; :func:`accepting_out` gives them the argument, so that
``mx.nd.dot(a, b, out=c)`` fills ``c`` instead of ignoring the argument.

The keyword names a function's ``**kwargs`` take are checked by
:func:`paramlab.ndarray._keywords.mxnet_keywords`.
"""

from __future__ import annotations

import functools
import inspect

__all__ = ["accepting_out", "deliver", "emit", "with_out"]


def accepting_out(op):
    """``op`` taking MXNet's ``out=`` (``op`` itself if it already has the argument)."""
    try:
        if "out" in inspect.signature(op).parameters:
            return op
    except (TypeError, ValueError):  # no signature to read: wrap it
        pass

    @functools.wraps(op)
    def operator(*args, out=None, **kwargs):
        return emit(op(*args, **kwargs), out, op.__name__)

    return operator


def emit(result, out, op: str = "out"):
    """``result``, or ``out`` holding it when ``out`` is given (MXNet's ``out=``)."""
    return result if out is None else deliver(result, out, op)


def deliver(result, out, op: str):
    """Write the NDArray ``result`` into ``out`` and return ``out``.

    TypeError when ``out`` is not an NDArray or the operator gives several arrays,
    ValueError when the shapes differ; ``out`` is unchanged then.
    """
    from .ndarray import NDArray  # (imported here: ndarray.py itself imports this module)

    if not isinstance(out, NDArray):
        raise TypeError(f"{op}: out must be an NDArray, got {type(out).__name__}")
    if not isinstance(result, NDArray):
        raise TypeError(
            f"{op}: out= takes one array, but this call gives {type(result).__name__}"
        )
    if out.shape != result.shape:
        raise ValueError(f"{op}: out has shape {out.shape}, the result has shape {result.shape}")
    return result.copyto(out)


def with_out(namespace: dict, names) -> None:
    """Replace each function ``namespace[name]`` by :func:`accepting_out` of it."""
    for name in names:
        namespace[name] = accepting_out(namespace[name])
