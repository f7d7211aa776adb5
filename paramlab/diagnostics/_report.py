"""The report's data: :class:`LayerReport`, :class:`Finding`, :class:`InitReport`.

Plain frozen records of host numbers (``paramlab.summary.Stats`` and
``Histogram`` for the tensors); ``str(report)`` is a table followed by the
findings, ``report.to_payload()`` the compact data a view draws.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..summary import Histogram, Stats

__all__ = ["InitWarning", "LayerReport", "Finding", "InitReport"]


class InitWarning(UserWarning):
    """A problem of a network at initialization, found by :func:`paramlab.diagnostics.init_report`.

    Every finding of severity ``'warning'`` is also issued as one of these.
    """


def _rms(s: Stats | None) -> float:
    if s is None or not s.finite:
        return math.nan
    return s.l2 / math.sqrt(s.finite)


@dataclasses.dataclass(frozen=True, eq=False)
class LayerReport:
    """What one layer (a block with a weight, with the activation that follows it) measured.

    Ratios are of root mean squares (RMS). The activation ratio is
    ``RMS(output) / RMS(input)``; the gradient ratio is ``RMS(dL/d input) /
    RMS(dL/d output)`` (how the back-propagated gradient changes going down
    through the layer); the weight-gradient ratio is this layer's ``RMS(dL/dW)``
    over the previous layer's. ``predicted_*`` are the mean-field predictions of
    the layer's initializer and activation (see :func:`~paramlab.diagnostics.init_report`),
    ``None`` where the layer's effect is not modelled (see ``note``).

    Attributes
    ----------
    index : int
        1-based position in the forward pass.
    name : str
        Structural path of the block (``'3'``, ``'features.0'``).
    block : str
        Class name (``'Dense'``).
    activation : str
        The activation after the linear map (``'relu'``, ``'tanh'``, ``'identity'``, or
        ``'?'`` when not modelled).
    fan_in, fan_out : int
        Fans of the weight (receptive field included).
    init : str
        The initializer the prediction uses (``repr``), or ``'measured weights'``.
    init_short, init_label : str
        Its class name (``'Xavier'``) and a compact form with the arguments that
        differ from the defaults (``"MSRAPrelu(factor_type='in', slope=0)"``);
        ``'measured'`` for both when the weights themselves were used.
    weight_ms : float
        Mean square of one weight used by the prediction (``std**2 + mean**2`` of the
        initializer's theory, or of the weights themselves).
    weight, weight_grad : Stats
        The weight and its gradient (``weight_grad`` None when ``grad_req='null'``).
    symmetric : bool
        Every unit has the same incoming weights (and bias).
    input, act, grad, input_grad : Stats
        The layer's input and output (after its activation) and their gradients.
    act_hist, grad_hist : Histogram
        Histograms of the output and its gradient on fixed edges: a bounded
        activation's range, else ``[-4, 4]`` times the tensor's RMS; taken on at
        most 2^13 values (evenly spaced examples of the batch).
    near_zero : float
        Fraction of outputs with ``|v| <`` the ``near_zero`` threshold.
    saturated : float or None
        Fraction of outputs at the ends of a bounded activation (tanh, sigmoid, softsign).
    dead : float or None
        Fraction of ReLU units that are zero for every example of the batch.
    """

    index: int
    name: str
    block: str
    activation: str
    fan_in: int
    fan_out: int
    init: str
    init_short: str
    init_label: str
    weight_ms: float | None
    weight_ms_source: str
    weight: Stats
    weight_grad: Stats | None
    symmetric: bool
    input: Stats
    act: Stats
    act_hist: Histogram
    grad: Stats | None
    grad_hist: Histogram | None
    input_grad: Stats | None
    near_zero: float
    saturated: float | None
    dead: float | None
    act_ratio: float
    grad_ratio: float
    weight_grad_ratio: float
    predicted_act_ratio: float | None
    predicted_grad_ratio: float | None
    act_rms_theory: float
    grad_rms_theory: float
    gain: float | None
    backward_gain: float | None
    note: str = ""

    @property
    def act_rms(self) -> float:
        """RMS of the layer's output."""
        return _rms(self.act)

    @property
    def act_std(self) -> float:
        """Standard deviation of the layer's output."""
        return self.act.std if self.act.std is not None else math.nan

    @property
    def input_rms(self) -> float:
        """RMS of the layer's input."""
        return _rms(self.input)

    @property
    def grad_rms(self) -> float:
        """RMS of the gradient of the loss with respect to the layer's output."""
        return _rms(self.grad)

    @property
    def weight_grad_rms(self) -> float:
        """RMS of the weight's gradient."""
        return _rms(self.weight_grad)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One sentence of the report.

    Attributes
    ----------
    kind : str
        ``'nonfinite'``, ``'symmetry'``, ``'dead_relu'``, ``'saturation'``,
        ``'vanishing_activations'``, ``'exploding_activations'``,
        ``'vanishing_gradients'``, ``'exploding_gradients'``, ``'replica_divergence'``
        (warnings), or ``'activation_trend'``, ``'gradient_trend'``,
        ``'weights_vs_theory'``, ``'state_not_restored'`` (information).
    severity : str
        ``'warning'`` (also issued as an :class:`InitWarning`) or ``'info'``.
    message : str
        The sentence.
    layers : tuple of int
        1-based indices of the layers concerned (empty when none in particular).
    """

    kind: str
    severity: str
    message: str
    layers: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        """Plain ``dict`` of JSON types."""
        out = dataclasses.asdict(self)
        out["layers"] = list(self.layers)
        return out


def _fmt(value, spec=".3g", missing="-"):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def _pct(value):
    return "-" if value is None or math.isnan(value) else f"{100.0 * value:.1f}"


_COLUMNS = (
    ("#", ">3"),
    ("layer", "<10"),
    ("act", "<9"),
    ("init", "<10"),
    ("act rms", ">9"),
    ("ratio", ">6"),
    ("theory", ">6"),
    ("~0%", ">5"),
    ("sat%", ">5"),
    ("dead%", ">5"),
    ("grad rms", ">9"),
    ("ratio", ">6"),
    ("theory", ">6"),
    ("dW rms", ">9"),
    ("ratio", ">6"),
)


def _cell(text, spec):
    width = int(spec[1:])
    text = str(text)
    if len(text) > width:
        text = text[: width - 1] + "~"
    return format(text, spec)


def _as_float_array(values) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _hist_block(hists, bins) -> dict:
    edges = np.full((len(hists), bins + 1), math.nan)
    counts = np.zeros((len(hists), bins), dtype=np.uint32)
    for i, h in enumerate(hists):
        if h is not None and h.counts.size == bins:
            edges[i] = h.edges
            counts[i] = h.counts
    return {"edges": edges, "counts": counts}


@dataclasses.dataclass(frozen=True, eq=False)
class InitReport:
    """The result of :func:`~paramlab.diagnostics.init_report`.

    Attributes
    ----------
    net : str
        Class name of the network.
    context : str
        Where the passes ran.
    batch_shape : tuple of int
        Shape of the batch.
    train_mode : bool
        Whether the forward pass ran in training mode.
    head : str
        What was back-propagated (``'unit Gaussian head gradient (seed 0)'`` or
        ``'loss_fn(output), head gradient 1'``).
    input, input_grad, head_grad : Stats
        The batch, its gradient, and the head gradient.
    layers : tuple of LayerReport
        One per layer call, in forward order.
    findings : tuple of Finding
        Warnings first, then information.
    bins : int
        Number of bins of every histogram.
    """

    net: str
    context: str
    batch_shape: tuple
    train_mode: bool
    head: str
    input: Stats
    input_grad: Stats | None
    head_grad: Stats | None
    layers: tuple
    findings: tuple
    bins: int

    # ------------------------------------------------------------------ access
    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    @property
    def warnings(self) -> tuple:
        """The findings of severity ``'warning'``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    def kinds(self) -> set:
        """The kinds of all findings."""
        return {f.kind for f in self.findings}

    def ratios(self, which: str = "act") -> np.ndarray:
        """Measured per-layer ratios: ``'act'``, ``'grad'`` or ``'weight_grad'``."""
        if which not in ("act", "grad", "weight_grad"):
            raise ValueError(
                f"InitReport.ratios: which must be 'act', 'grad' or 'weight_grad'; got {which!r}"
            )
        return _as_float_array(getattr(layer, f"{which}_ratio") for layer in self.layers)

    def predicted(self, which: str = "act") -> np.ndarray:
        """Predicted per-layer ratios (NaN where not modelled): ``'act'`` or ``'grad'``."""
        if which not in ("act", "grad"):
            raise ValueError(f"InitReport.predicted: which must be 'act' or 'grad'; got {which!r}")
        return _as_float_array(getattr(layer, f"predicted_{which}_ratio") for layer in self.layers)

    # ------------------------------------------------------------------ text
    def __str__(self):
        n = len(self.layers)
        lines = [
            f"init_report: {self.net}, {n} layer{'s' if n != 1 else ''}, batch "
            f"{tuple(self.batch_shape)} on {self.context}, "
            f"{'training' if self.train_mode else 'prediction'} mode; {self.head}",
            f"input rms {_fmt(_rms(self.input))}; output rms "
            f"{_fmt(self.layers[-1].act_rms if n else math.nan)}; input gradient rms "
            f"{_fmt(_rms(self.input_grad))}; head gradient rms {_fmt(_rms(self.head_grad))}",
            "ratios are per layer: act = rms(out)/rms(in), grad = rms(dL/din)/rms(dL/dout), "
            "dW = rms(dW)/previous layer's; theory = mean-field prediction",
            "",
            " ".join(_cell(title, spec) for title, spec in _COLUMNS),
        ]
        for layer in self.layers:
            row = (
                layer.index,
                layer.name,
                layer.activation,
                layer.init_short,
                _fmt(layer.act_rms, ".2e"),
                _fmt(layer.act_ratio, ".3f"),
                _fmt(layer.predicted_act_ratio, ".3f"),
                _pct(layer.near_zero),
                _pct(layer.saturated),
                _pct(layer.dead),
                _fmt(layer.grad_rms, ".2e"),
                _fmt(layer.grad_ratio, ".3f"),
                _fmt(layer.predicted_grad_ratio, ".3f"),
                _fmt(layer.weight_grad_rms, ".2e"),
                _fmt(layer.weight_grad_ratio, ".3f"),
            )
            lines.append(" ".join(_cell(v, spec) for v, (_, spec) in zip(row, _COLUMNS)))
        inits = sorted({(layer.init_short, layer.init) for layer in self.layers})
        if any(short != full for short, full in inits):
            lines.append("")
            lines.extend(f"init {short}: {full}" for short, full in inits if short != full)
        lines.append("")
        if not self.findings:
            lines.append("findings: none")
        else:
            lines.append("findings:")
            for f in self.findings:
                mark = "!" if f.severity == "warning" else "-"
                lines.append(f" {mark} [{f.kind}] {f.message}")
        return "\n".join(lines)

    def __repr__(self):
        kinds = ", ".join(sorted({f.kind for f in self.warnings})) or "no warnings"
        n = len(self.layers)
        return f"<InitReport {self.net}: {n} layer{'s' if n != 1 else ''}, {kinds}>"

    # ------------------------------------------------------------------ payload
    def to_payload(self) -> dict:
        """The compact data a view draws: small JSON-able values and small NumPy arrays.

        Returns
        -------
        dict
            ``layers`` (list of dicts: index, name, block, activation, init, fan_in,
            fan_out), per-layer float64 arrays (NaN where missing) ``act_rms``,
            ``act_std``, ``act_rms_theory`` (the theoretical line, chained from the
            input's RMS), ``act_ratio``, ``act_ratio_theory``, ``grad_rms``,
            ``grad_std``, ``grad_rms_theory`` (chained down from the head gradient),
            ``grad_ratio``, ``grad_ratio_theory``, ``weight_grad_rms``,
            ``weight_grad_ratio``, ``near_zero``, ``saturated``, ``dead``;
            ``act_hist`` and ``grad_hist`` (``edges`` float64 ``[layers, bins + 1]``,
            ``counts`` uint32 ``[layers, bins]``); ``findings`` (list of dicts); and a
            ``summary`` dict (net, context, batch shape, mode, head, input and head
            gradient RMS).
        """
        layers = self.layers
        return {
            "schema": "paramlab.init_report/1",
            "summary": {
                "net": self.net,
                "context": self.context,
                "batch_shape": [int(d) for d in self.batch_shape],
                "train_mode": bool(self.train_mode),
                "head": self.head,
                "input_rms": _rms(self.input),
                "input_grad_rms": _rms(self.input_grad),
                "head_grad_rms": _rms(self.head_grad),
                "bins": int(self.bins),
            },
            "layers": [
                {
                    "index": layer.index,
                    "name": layer.name,
                    "block": layer.block,
                    "activation": layer.activation,
                    "init": layer.init,
                    "fan_in": int(layer.fan_in),
                    "fan_out": int(layer.fan_out),
                }
                for layer in layers
            ],
            "act_rms": _as_float_array(layer.act_rms for layer in layers),
            "act_std": _as_float_array(layer.act_std for layer in layers),
            "act_rms_theory": _as_float_array(layer.act_rms_theory for layer in layers),
            "act_ratio": self.ratios("act"),
            "act_ratio_theory": self.predicted("act"),
            "grad_rms": _as_float_array(layer.grad_rms for layer in layers),
            "grad_std": _as_float_array(
                layer.grad.std if layer.grad is not None else None for layer in layers
            ),
            "grad_rms_theory": _as_float_array(layer.grad_rms_theory for layer in layers),
            "grad_ratio": self.ratios("grad"),
            "grad_ratio_theory": self.predicted("grad"),
            "weight_grad_rms": _as_float_array(layer.weight_grad_rms for layer in layers),
            "weight_grad_ratio": self.ratios("weight_grad"),
            "near_zero": _as_float_array(layer.near_zero for layer in layers),
            "saturated": _as_float_array(layer.saturated for layer in layers),
            "dead": _as_float_array(layer.dead for layer in layers),
            "act_hist": _hist_block([layer.act_hist for layer in layers], self.bins),
            "grad_hist": _hist_block([layer.grad_hist for layer in layers], self.bins),
            "findings": [f.as_dict() for f in self.findings],
        }
