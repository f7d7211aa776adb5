"""``ParameterView``: every replica of one Parameter, live (PROTOCOL.md section 3)."""

from __future__ import annotations

import traitlets as t

from ..gluon.parameter import Parameter
from . import _static
from ._base import ViewBase
from ._cards import ParamTracker
from ._transport import esm_source

__all__ = ["ParameterView"]


def _check_positive_int(owner, name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}.{name} must be an integer >= {minimum}; got {value!r}")
    return value


class ParameterView(ViewBase):
    """One card per context: statistics, histogram, thumbnail, gradient, divergence, history.

    Parameters
    ----------
    param : Parameter
        The parameter to show (a ``Constant`` too). It may be uninitialized or
        deferred; the view fills in when it is initialized.
    name : str, optional
        Name to show (e.g. a structural name); default ``param.name``.
    **kwargs
        Initial trait values: ``rate``, ``bins``, ``history_len``, ...

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab.widgets import ParameterView
    >>> w = mx.gluon.Parameter("weight", shape=(8, 8))
    >>> w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    >>> view = ParameterView(w)
    >>> [r["ctx"] for r in view.card["replicas"]]
    ['cpu(0)', 'cpu(1)']
    >>> w.data(mx.cpu(1))[:] += 1.0      # a manual in-place update...
    >>> view.update()                     # ...is seen through the version counter
    True
    >>> view.card["replicas"][1]["divergence"]["bitwise_equal"]
    False
    >>> view.close()
    """

    _esm = esm_source("parameter_view.js")

    card = t.Dict(
        allow_none=True, default_value=None, help="Everything to draw (a Card, PROTOCOL.md s.3)."
    ).tag(sync=True)
    selected_replica = t.Int(
        -1, help="Browser: the replica card shown enlarged (-1: all side by side)."
    ).tag(sync=True)
    history_len = t.Int(64, help="Points of norm history kept.").tag(sync=True)
    bins = t.Int(64, help="Histogram bins.").tag(sync=True)

    def __init__(self, param, name: str = "", **kwargs):
        if not isinstance(param, Parameter):
            raise TypeError(
                f"ParameterView expects a paramlab Parameter (or Constant); got "
                f"{type(param).__name__} {param!r:.80}"
            )
        bins = _check_positive_int("ParameterView", "bins", kwargs.get("bins", 64), 1)
        history_len = _check_positive_int(
            "ParameterView", "history_len", kwargs.get("history_len", 64), 1
        )
        self._tracker = ParamTracker(param, name, bins=bins, history_len=history_len)
        self.param = param
        _, card = self._tracker.card(seq=1)
        super().__init__(card=card, seq=1, **kwargs)
        param.observe(self._on_param_event)

    @t.validate("bins", "history_len")
    def _check_sizes(self, proposal):
        return _check_positive_int("ParameterView", proposal["trait"].name, proposal["value"])

    @t.observe("bins", "history_len")
    def _on_sizes(self, change):
        tracker = getattr(self, "_tracker", None)
        if tracker is None:
            return
        if change["name"] == "bins":
            if tracker.bins == change["new"]:
                return
            tracker.bins = change["new"]
            tracker.reset()
        else:
            if tracker.history_len == change["new"]:
                return
            tracker.set_history_len(change["new"])
        self.update(force=True)

    def _on_param_event(self, param, event, info):
        self._tracker.on_event(event, info)
        self.request_update()

    def _compute(self, force):
        changed, card = self._tracker.card(force=force, seq=self.seq + 1)
        return {"card": card} if changed else None

    def _detach(self):
        param = getattr(self, "param", None)
        if param is not None:
            param.unobserve(self._on_param_event)

    def summary_text(self) -> str:
        """Text summary: the statistics line of every replica, gradient norm, divergence."""
        return _static.parameter_text(self.card)

    def _static_figure(self):
        return _static.parameter_figure(self.card, self.log_scale)
