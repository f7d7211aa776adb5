"""``ModelView`` and ``watch``: every parameter of a model in one live table (PROTOCOL.md s.5)."""

from __future__ import annotations

import numpy as np
import traitlets as t

from ..gluon.parameter import Parameter
from . import _static
from ._base import ViewBase
from ._cards import STAT_FIELDS, ParamTracker
from ._transport import array_payload, esm_source

__all__ = ["ModelView", "watch"]

# events after which the structure (rows) may change and an update is worth sending at once
_FLUSH_EVENTS = (
    "initialized",
    "deferred",
    "deferred_done",
    "data_set",
    "cast",
    "ctx_reset",
    "grad_req",
    "grad_zeroed",
    "step",
)


def _named_params(obj) -> list[tuple[str, Parameter]]:
    """``[(display name, Parameter)]`` of a Block, Trainer, ParameterDict, dict or list."""
    from ..gluon.block import Block
    from ..gluon.parameter_dict import ParameterDict

    if isinstance(obj, Block):
        return list(obj._collect_params_with_prefix().items())
    if isinstance(obj, ParameterDict):
        return list(obj.items())
    if isinstance(obj, Parameter):
        return [(obj.name, obj)]
    params = getattr(obj, "_params", None)
    if params is not None and hasattr(obj, "step") and hasattr(obj, "learning_rate"):
        return [(p.name, p) for p in params]  # a Trainer
    if isinstance(obj, dict):
        items = list(obj.items())
    elif isinstance(obj, (list, tuple)):
        items = [(getattr(p, "name", str(i)), p) for i, p in enumerate(obj)]
    else:
        raise TypeError(
            "ModelView expects a Block, a Trainer, a ParameterDict, or a dict/list of "
            f"Parameters; got {type(obj).__name__}"
        )
    for name, p in items:
        if not isinstance(p, Parameter):
            raise TypeError(f"ModelView: entry {name!r} is a {type(p).__name__}, not a Parameter")
    return [(str(name), p) for name, p in items]


def _check_size(key, value) -> int:
    """``value`` if it is an int >= 1 (a number of bins or of history points), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"ModelView.{key} must be an integer >= 1; got {value!r}")
    return value


def _extends(seqs, sent) -> bool:
    """Whether a row's history still holds the newest point sent (no reset since).

    ``seqs`` are the update numbers of the row's points (-1 padded), ``sent``
    the newest of them at the last Columns sent (None: the row had none).
    """
    return sent is None or bool(np.any(seqs == sent))


def _dedupe(named):
    seen, out = set(), []
    for name, p in named:
        if id(p) not in seen:
            seen.add(id(p))
            out.append((name, p))
    return out


def _history_entries(numbers, seq, base, ring_len) -> dict:
    """Columns' history entries made at update ``seq``: the points newer than update ``base``.

    ``base`` -1 gives every point (``history_full``, ``ring_len`` per row);
    otherwise each row sends its newest ``k`` points, ``k`` being the most new
    points of any row, and ``history_new`` says how many of them are new.
    """
    fresh = [int(np.count_nonzero(x["history_seq"] > base)) for x in numbers]
    k = ring_len if base < 0 else max(fresh, default=0)
    points = np.full((len(numbers), k, 2), np.nan, dtype=np.float32)
    if k:
        for i, x in enumerate(numbers):
            points[i] = x["history"][-k:]
    return {
        "history": array_payload(points),
        "history_new": array_payload(np.array(fresh, dtype=np.int32)),
        "history_full": base < 0,
        "history_seq": seq,
        "history_base": base,
    }


class ModelView(ViewBase):
    """A live table of every parameter: shape, init, statistics, gradient norm, divergence.

    Parameters
    ----------
    model : Block, Trainer, ParameterDict, dict or list of Parameter
        What to show. A Block gives structural names (``"0.weight"``).
    selected : str, optional
        Name of the row whose full ParameterView card is sent as :attr:`detail`.
    **kwargs
        Initial trait values (``rate``, ``row_bins``, ``history_len``, ``bins``).

    Notes
    -----
    Observers only mark rows dirty; summaries are computed at most ``rate``
    times per second (within ``max_duty``), once more when the cell finishes,
    and only for parameters whose version counters changed.

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab.widgets import ModelView
    >>> net = mx.gluon.nn.Dense(3, in_units=4)
    >>> net.initialize()
    >>> view = ModelView(net)
    >>> [r["name"] for r in view.rows]
    ['weight', 'bias']
    >>> view.selected = "weight"
    >>> view.detail["shape"]
    [3, 4]
    >>> view.close()
    """

    _esm = esm_source("model_view.js")

    rows = t.List(t.Dict(), help="One Row per parameter (static facts), in table order.").tag(
        sync=True
    )
    columns = t.Dict(
        allow_none=True, default_value=None, help="Live numbers of every row, packed (Columns)."
    ).tag(sync=True)
    selected = t.Unicode(
        "", help="Browser: name of the selected row; its Card goes to detail."
    ).tag(sync=True)
    detail = t.Dict(
        allow_none=True, default_value=None, help="The selected parameter's Card (or null)."
    ).tag(sync=True)
    step = t.Int(-1, help="Trainer steps seen (-1 before any).").tag(sync=True)
    row_bins = t.Int(32, help="Bins of the per-row histograms.").tag(sync=True)
    history_len = t.Int(64, help="Points of per-row norm history.").tag(sync=True)
    bins = t.Int(64, help="Bins of the detail card.").tag(sync=True)

    def __init__(self, model, selected: str = "", **kwargs):
        named = _dedupe(_named_params(model))
        row_bins = kwargs.get("row_bins", 32)
        history_len = kwargs.get("history_len", 64)
        bins = kwargs.get("bins", 64)
        for key, value in (("row_bins", row_bins), ("history_len", history_len), ("bins", bins)):
            _check_size(key, value)
        self._trackers = [
            ParamTracker(p, name, bins=bins, row_bins=row_bins, history_len=history_len)
            for name, p in named
        ]
        self._by_id = {id(tr.param): tr for tr in self._trackers}
        self._step_owner = None
        self._steps = 0
        self._detail_for = None
        self._ring_len = history_len  # points per row of the browser's history ring
        self._history_full = True  # the next Columns carries every history point
        self._history_base = -1  # history_seq of the last Columns sent
        self._history_sent = [None] * len(self._trackers)  # newest point seq sent, per row
        self._numbers = []  # the rows' numbers as of the last Columns sent
        names = [tr.name for tr in self._trackers]
        if selected and selected not in names:
            raise ValueError(f"ModelView: selected={selected!r} is not one of {names[:10]}...")
        first = self._compute_values(force=True, seq=1, selected=selected)
        super().__init__(selected=selected, seq=1, **first, **kwargs)
        for tr in self._trackers:
            tr.param.observe(self._on_param_event)

    @property
    def parameters(self) -> list[tuple[str, Parameter]]:
        """``[(row name, Parameter)]`` in table order."""
        return [(tr.name, tr.param) for tr in self._trackers]

    # ------------------------------------------------------------ events
    def _on_param_event(self, param, event, info):
        tracker = self._by_id.get(id(param))
        if tracker is None:
            return
        tracker.on_event(event, info)
        if event == "step":
            if self._step_owner is None:
                self._step_owner = id(param)
            if id(param) == self._step_owner:
                self._steps += 1
        if event in _FLUSH_EVENTS or self._step_owner is None:
            self.request_update()
        else:
            self._dirty = True  # gradients mid-backward: wait for the step

    @t.observe("selected")
    def _on_selected(self, change):
        if getattr(self, "_trackers", None) is not None and self.comm is not None:
            self.update()

    @t.validate("history_len")
    def _check_history_len(self, proposal):
        return _check_size("history_len", proposal["value"])

    @t.observe("history_len")
    def _on_history_len(self, change):
        """Keep ``history_len`` points per row from now on; the browser gets the whole history."""
        if getattr(self, "_trackers", None) is None or change["new"] == self._ring_len:
            return
        self._ring_len = change["new"]
        for tr in self._trackers:
            tr.set_history_len(change["new"])
        self._history_full = True
        self.update()

    def _on_custom_msg(self, widget, content, buffers):
        """A ``refresh`` (the browser missed part of the history) resends the whole history."""
        if isinstance(content, dict) and content.get("type") == "refresh":
            self._history_full = True
        super()._on_custom_msg(widget, content, buffers)

    # ------------------------------------------------------------ computing
    def _tracker_named(self, name):
        for tr in self._trackers:
            if tr.name == name:
                return tr
        return None

    def _compute_values(self, force, seq, selected) -> dict:
        out = {"step": self._steps if self._step_owner is not None else -1}
        # the card first: a history point it adds is then already in this update's rows
        chosen = self._tracker_named(selected) if selected else None
        if chosen is not None:
            changed, card = chosen.card(force=force, seq=seq, always=selected != self._detail_for)
            if changed:
                out["detail"] = card
        elif self._detail_for:
            out["detail"] = None
        self._detail_for = selected if chosen is not None else ""
        rows, numbers, any_changed = [], [], force
        for tr in self._trackers:
            changed, nums = tr.row(force=force, seq=seq)
            any_changed = any_changed or changed
            meta = tr.meta()
            rows.append(
                {
                    k: meta[k]
                    for k in (
                        "name",
                        "param",
                        "shape",
                        "dtype",
                        "init",
                        "grad_req",
                        "constant",
                        "status",
                        "contexts",
                    )
                }
            )
            numbers.append(nums)
        out["rows"] = rows
        if rows != self.rows:
            self._history_full = True
        if any_changed or self._history_full:
            out["columns"] = self._pack(numbers, seq)
        return out

    def _pack(self, numbers, seq) -> dict:
        """The Columns of ``numbers``, made at update ``seq`` (history: see _history_columns)."""
        n = len(numbers)

        def stack(key, dtype, shape):
            if not n:
                return array_payload(np.zeros((0, *shape), dtype=dtype))
            return array_payload(np.stack([np.asarray(x[key], dtype=dtype) for x in numbers]))

        rb = numbers[0]["hist"].size if n else 0
        columns = {
            "fields": list(STAT_FIELDS),
            "value": stack("value", np.float64, (len(STAT_FIELDS),)),
            "nonfinite": stack("nonfinite", np.float64, (3,)),
            "grad_l2": stack("grad_l2", np.float64, ()),
            "divergence": stack("divergence", np.float64, (3,)),
            "hist": stack("hist", np.uint32, (rb,)),
            "hist_range": stack("hist_range", np.float64, (2,)),
            "grad_hist": stack("grad_hist", np.uint32, (rb,)),
            "grad_hist_range": stack("grad_hist_range", np.float64, (2,)),
            "at_init": stack("at_init", np.uint8, ()),
            "version": stack("version", np.float64, ()),
        }
        columns.update(self._history_columns(numbers, seq))
        self._numbers = numbers
        return columns

    def _history_columns(self, numbers, seq) -> dict:
        """The history entries of Columns: every point, or only those new since the last Columns.

        Every point is sent (``history_full``) on the first Columns, after
        ``history_len`` or the rows changed, after a ``refresh`` and when a row's
        history was reset; otherwise the points newer than the last Columns.
        """
        seqs = [x["history_seq"] for x in numbers]
        full = self._history_full or not all(map(_extends, seqs, self._history_sent))
        entries = _history_entries(numbers, seq, -1 if full else self._history_base, self._ring_len)
        self._history_full = False
        self._history_base = seq
        self._history_sent = [int(s[-1]) if s[-1] >= 0 else None for s in seqs]
        return entries

    def full_columns(self) -> dict | None:
        """:attr:`columns` with every row's whole norm history (what the browser's ring holds).

        A live :attr:`columns` carries only the history points new since the
        previous one; the static face reads this instead.
        """
        if self.columns is None:
            return None
        seq = self.columns["history_seq"]
        return {**self.columns, **_history_entries(self._numbers, seq, -1, self._ring_len)}

    def _compute(self, force):
        values = self._compute_values(force, self.seq + 1, self.selected)
        changed = {k: v for k, v in values.items() if k in ("columns", "detail")}
        if values["rows"] != self.rows:
            changed["rows"] = values["rows"]
        if values["step"] != self.step:
            changed["step"] = values["step"]
        return changed or None

    def _detach(self):
        for tr in getattr(self, "_trackers", ()):
            tr.param.unobserve(self._on_param_event)

    # ------------------------------------------------------------ static face
    def summary_text(self) -> str:
        """One line per parameter: shape, statistics, gradient norm, divergence."""
        return _static.model_text(self.rows, self.full_columns(), self.step)

    def _static_figure(self):
        return _static.model_figure(self.rows, self.full_columns(), self.step)


def watch(trainer, block=None, **kwargs) -> ModelView:
    """A live :class:`ModelView` of the parameters a Trainer updates.

    Parameters
    ----------
    trainer : Trainer
        The trainer; its ``step`` events drive the view's step counter.
    block : Block, optional
        Gives the rows structural names (``"0.weight"``) instead of parameter names.
    **kwargs
        Passed to :class:`ModelView` (``rate``, ``selected``, ...).

    Returns
    -------
    ModelView
    """
    params = getattr(trainer, "_params", None)
    if params is None or not hasattr(trainer, "step"):
        raise TypeError(f"watch expects a gluon.Trainer; got {type(trainer).__name__}")
    if block is None:
        return ModelView(trainer, **kwargs)
    # rows in the model's order (a Trainer holds its parameters sorted by name as strings)
    trained = {id(p) for p in params}
    rows = {name: p for name, p in _named_params(block) if id(p) in trained}
    shown = {id(p) for p in rows.values()}
    rows.update((p.name, p) for p in params if id(p) not in shown)
    return ModelView(rows, **kwargs)
