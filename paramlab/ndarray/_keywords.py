"""MXNet's keyword names for functions and methods whose ``**kwargs`` take its arguments.

MXNet rejects a keyword its operator does not have (``mx.nd.sum(x, axsi=0)`` raises
"Cannot find argument"). A paramlab function whose ``**kwargs`` take MXNet's arguments
that have no effect here (``name``, storage hints) is declared with
:func:`mxnet_keywords`, which refuses every other keyword instead of ignoring a
misspelt one, and refuses MXNet arguments paramlab does not implement unless they
carry MXNet's default.
"""

from __future__ import annotations

import functools
import inspect

__all__ = ["mxnet_keywords"]


def mxnet_keywords(*ignored, **unsupported):
    """Decorator: the function's ``**kwargs`` take the arguments ``ignored`` (MXNet's,
    with no effect here whatever their value, such as an operator's ``name``) and the
    arguments ``unsupported`` at their MXNet default (given as the keyword's value; None
    is taken too). Another value of those is a NotImplementedError, any other keyword a
    TypeError, each naming the function (the class, for a constructor)."""

    def decorate(function):
        op = function.__qualname__.removesuffix(".__init__")
        takes = {
            name
            for name, p in inspect.signature(function).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name != "self"
        }
        accepted = frozenset(takes | {*ignored, *unsupported})

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
                    if value is not None and not _same(value, default):
                        given = (
                            f"an array of shape {value.shape}"
                            if hasattr(value, "shape")
                            else repr(value)
                        )
                        raise NotImplementedError(
                            f"{op}: {key} other than MXNet's default {default!r} is not "
                            f"supported, got {given}"
                        )
            return function(*args, **kwargs)

        return checked

    return decorate


def _same(value, default) -> bool:
    """Whether ``value`` is MXNet's ``default`` (an array given for it never is)."""
    if value is default:
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays compare elementwise
        return False
