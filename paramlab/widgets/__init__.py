"""Jupyter views of parameters, models and initializers (ipywidgets + anywidget).

``ParameterView(param)`` shows every replica of one Parameter, ``ModelView(block)``
and ``watch(trainer)`` every parameter of a model, ``InitializerView(init)`` an
initializer's draw against its stated law; ``view(obj)`` picks one. Summaries are
computed where the data lives (:mod:`paramlab.summary`) and only they travel to
the browser, as binary buffers, at most ``rate`` times per second while a cell
runs and once more when it finishes. The wire format is ``PROTOCOL.md`` in this
folder. Each view also renders a text summary and a PNG for static outputs.

This is the only paramlab package that imports ipywidgets, anywidget, traitlets
and matplotlib.
"""

from __future__ import annotations

from ._base import ViewBase, cell_finished
from .diagnostics_view import InitDiagnosticsView
from .initializer_view import InitializerView
from .model_view import ModelView, watch
from .parameter_view import ParameterView

__all__ = [
    "ParameterView",
    "InitializerView",
    "ModelView",
    "InitDiagnosticsView",
    "watch",
    "view",
    "ViewBase",
    "cell_finished",
]


def view(obj, **kwargs):
    """The view that fits ``obj``.

    Parameters
    ----------
    obj : Parameter, Block, Trainer, Initializer, ParameterDict or diagnostics report
        A Parameter (or Constant) gives a :class:`ParameterView`; a Block or a
        ParameterDict a :class:`ModelView`; a Trainer :func:`watch`; an
        Initializer (or its registered name) an :class:`InitializerView`; the
        result of ``paramlab.diagnostics.init_report`` an ``InitDiagnosticsView``.
    **kwargs
        Passed to the view.

    Returns
    -------
    ViewBase

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab import widgets
    >>> type(widgets.view(mx.init.Normal(0.1), shape=(16, 16))).__name__
    'InitializerView'
    """
    from .. import initializer as _init
    from ..gluon.block import Block
    from ..gluon.parameter import Parameter
    from ..gluon.parameter_dict import ParameterDict

    if isinstance(obj, Parameter):
        return ParameterView(obj, **kwargs)
    if isinstance(obj, (Block, ParameterDict)):
        return ModelView(obj, **kwargs)
    if isinstance(obj, (_init.Initializer, str)) or (
        isinstance(obj, type) and issubclass(obj, _init.Initializer)
    ):
        return InitializerView(obj, **kwargs)
    if hasattr(obj, "_params") and hasattr(obj, "step") and hasattr(obj, "learning_rate"):
        return watch(obj, **kwargs)
    diagnostics_view = _diagnostics_view_for(obj)
    if diagnostics_view is not None:
        return diagnostics_view(obj, **kwargs)
    raise TypeError(
        "paramlab.widgets.view: no view for a "
        f"{type(obj).__module__}.{type(obj).__name__}; expected a Parameter, Block, "
        "ParameterDict, Trainer, Initializer or a diagnostics report"
    )


def _diagnostics_view_for(obj):
    """``InitDiagnosticsView`` when ``obj`` comes from ``paramlab.diagnostics`` (if present)."""
    if not type(obj).__module__.startswith("paramlab.diagnostics"):
        return None
    return InitDiagnosticsView
