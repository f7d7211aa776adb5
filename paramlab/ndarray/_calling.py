"""How MXNet's operator functions are called: ``out=`` and keyword names.

Every MXNet operator takes ``out=``: the result is written into that array (which
must have the result's shape; it keeps its own dtype, context and storage type) and
the array is returned. The functions of ``mx.nd`` and ``mx.npx`` compute a new
result; :func:`accepting_out` gives them the argument, so that
``mx.nd.dot(a, b, out=c)`` fills ``c`` instead of ignoring the argument.

MXNet rejects a keyword its operator does not have (``mx.nd.sum(x, axsi=0)``).
Operators whose ``**kwargs`` take MXNet's arguments that paramlab has no use for
(``name``, storage hints) are declared with :func:`mxnet_keywords`, which refuses
every other keyword instead of ignoring a misspelt one.
"""

from __future__ import annotations

import functools
import inspect

from .ndarray import NDArray

__all__ = ["accepting_out", "deliver", "with_out", "mxnet_keywords"]


def accepting_out(op):
    """``op`` taking MXNet's ``out=`` (``op`` itself if it already has the argument)."""
    try:
        if "out" in inspect.signature(op).parameters:
            return op
    except (TypeError, ValueError):  # no signature to read: wrap it
        pass

    @functools.wraps(op)
    def operator(*args, out=None, **kwargs):
        result = op(*args, **kwargs)
        if out is None:
            return result
        return deliver(result, out, op.__name__)

    return operator


def deliver(result, out, op: str):
    """Write the NDArray ``result`` into ``out`` and return ``out``.

    TypeError when ``out`` is not an NDArray or the operator gives several arrays,
    ValueError when the shapes differ; ``out`` is unchanged then.
    """
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


def mxnet_keywords(*ignored, **unsupported):
    """Decorator: the function's ``**kwargs`` take MXNet's ``name``, the arguments
    ``ignored`` (with no effect here, whatever their value) and the arguments
    ``unsupported`` at their MXNet default (given as the keyword's value; None is taken
    too). Another value of those is a NotImplementedError, any other keyword a
    TypeError, each naming the function."""

    def decorate(function):
        op = function.__name__
        takes = {
            name
            for name, p in inspect.signature(function).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        accepted = frozenset(takes | {"name", *ignored, *unsupported})

        @functools.wraps(function)
        def checked(*args, **kwargs):
            if kwargs:
                if not accepted.issuperset(kwargs):
                    unknown = sorted(set(kwargs) - accepted)
                    raise TypeError(
                        f"{op}: unexpected keyword argument {unknown[0]!r}; it takes "
                        f"{', '.join(sorted(accepted))}"
                    )
                for key, default in unsupported.items():
                    value = kwargs.pop(key, None)
                    if value is not None and value != default:
                        raise NotImplementedError(
                            f"{op}: {key}={value!r} is not supported (only MXNet's default, "
                            f"{default!r})"
                        )
            return function(*args, **kwargs)

        return checked

    return decorate
