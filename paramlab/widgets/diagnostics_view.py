"""``InitDiagnosticsView``: an initialization report, layer by layer (PROTOCOL.md section 7).

The numbers come from :meth:`paramlab.diagnostics.InitReport.to_payload`; this
module only turns them into synced traits, a text face and a figure.
"""

from __future__ import annotations

import math

import numpy as np
import traitlets as t

from ..diagnostics import InitReport, init_report
from ..gluon.block import Block
from ._base import ViewBase
from ._transport import array_payload, esm_source

__all__ = ["InitDiagnosticsView"]

CURVES = (
    "act_rms", "act_std", "act_rms_theory", "act_ratio", "act_ratio_theory",
    "grad_rms", "grad_std", "grad_rms_theory", "grad_ratio", "grad_ratio_theory",
    "weight_grad_rms", "weight_grad_ratio", "near_zero", "saturated", "dead",
)  # fmt: skip
"""The per-layer float64 arrays of the ``curves`` trait (NaN where a value is missing)."""


def _json_number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _hist_trait(block: dict) -> dict:
    return {
        "edges": array_payload(np.asarray(block["edges"], dtype=np.float64)),
        "counts": array_payload(np.asarray(block["counts"]), "uint32"),
    }


class InitDiagnosticsView(ViewBase):
    """Per-layer RMS curves against the theoretical line, histograms, and the findings.

    Parameters
    ----------
    report_or_net : InitReport or Block
        A report of :func:`paramlab.diagnostics.init_report`, or a network to report
        on (then ``batch`` is required, and the ``recompute`` command or
        :meth:`recompute` runs the report again, e.g. after ``lsuv_init``).
    batch : NDArray or numpy.ndarray, optional
        The batch of a network.
    report_kwargs : dict, optional
        Keyword arguments of ``init_report`` for a network (``loss_fn``, ``init``...).
    **kwargs
        Initial trait values (``rate``, ``selected_layer``, ...).

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab.widgets.diagnostics_view import InitDiagnosticsView
    >>> net = mx.gluon.nn.Sequential()
    >>> net.add(mx.gluon.nn.Dense(16, activation='relu', in_units=8), mx.gluon.nn.Dense(4))
    >>> net.initialize(mx.init.Xavier())
    >>> view = InitDiagnosticsView(net, mx.nd.ones((32, 8)))
    >>> [layer["activation"] for layer in view.layers]
    ['relu', 'identity']
    >>> view.close()
    """

    _esm = esm_source("init_diagnostics_view.js")

    report_summary = t.Dict(
        help="Net, context, batch shape, mode, head gradient, input/head RMS, bins (JSON)."
    ).tag(sync=True)
    layers = t.List(
        help="One dict per layer: index, name, block, activation, init, fan_in, fan_out."
    ).tag(sync=True)
    curves = t.Dict(
        help="Per-layer float64 Arrays [layers] (NaN = missing); keys listed in CURVES."
    ).tag(sync=True)
    act_hist = t.Dict(
        help="Activation histograms: edges Array float64 [layers, bins+1], counts uint32 "
        "[layers, bins]."
    ).tag(sync=True)
    grad_hist = t.Dict(help="Histograms of dL/d(layer output), same layout as act_hist.").tag(
        sync=True
    )
    findings = t.List(
        help="The report's findings: kind, severity ('warning'|'info'), message, layers."
    ).tag(sync=True)
    text = t.Unicode("", help="str(report): the table and the findings as text.").tag(sync=True)
    selected_layer = t.Int(
        -1, help="Browser: the layer whose histograms are enlarged (-1: none); display only."
    ).tag(sync=True)

    def __init__(self, report_or_net, batch=None, report_kwargs=None, **kwargs):
        self._net, self._batch = None, None
        self._report_kwargs = dict(report_kwargs or {})
        if isinstance(report_or_net, InitReport):
            if batch is not None:
                raise ValueError(
                    "InitDiagnosticsView: batch is only used with a network; got a report and a "
                    "batch"
                )
            report = report_or_net
        elif isinstance(report_or_net, Block):
            if batch is None:
                raise ValueError(
                    f"InitDiagnosticsView: a network ({type(report_or_net).__name__}) needs a "
                    "batch: InitDiagnosticsView(net, batch)"
                )
            self._net, self._batch = report_or_net, batch
            report = self._run_report()
        else:
            raise TypeError(
                "InitDiagnosticsView expects an InitReport (paramlab.diagnostics.init_report) "
                f"or a Block and a batch; got {type(report_or_net).__name__}"
            )
        self.report = report
        self._sent_report = None
        super().__init__(**self._values(report), seq=1, **kwargs)
        self._sent_report = report

    # ------------------------------------------------------------ data
    def _run_report(self) -> InitReport:
        options = {"warn": False, **self._report_kwargs}
        return init_report(self._net, self._batch, **options)

    @staticmethod
    def _values(report: InitReport) -> dict:
        payload = report.to_payload()
        summary = {k: _json_number(v) for k, v in payload["summary"].items()}
        return {
            "report_summary": summary,
            "layers": payload["layers"],
            "curves": {name: array_payload(payload[name]) for name in CURVES},
            "act_hist": _hist_trait(payload["act_hist"]),
            "grad_hist": _hist_trait(payload["grad_hist"]),
            "findings": payload["findings"],
            "text": str(report),
        }

    def recompute(self) -> InitReport:
        """Run the report again on the network (a view of a network only) and send it."""
        if self._net is None:
            raise ValueError(
                "InitDiagnosticsView.recompute: this view shows a finished report; build the "
                "view from a network and a batch to recompute"
            )
        self.report = self._run_report()
        self.request_update()
        return self.report

    def _compute(self, force: bool) -> dict | None:
        if self.report is self._sent_report and not force:
            return None
        self._sent_report = self.report
        return self._values(self.report)

    def _handle_command(self, content) -> None:
        if isinstance(content, dict) and content.get("type") == "recompute":
            try:
                self.recompute()
            except ValueError as err:
                self.error = str(err)
            return
        super()._handle_command(content)

    # ------------------------------------------------------------ static face
    def summary_text(self) -> str:
        """The report as text."""
        return str(self.report)

    def _static_figure(self):
        from matplotlib.figure import Figure

        payload = self.report.to_payload()
        fig = Figure(figsize=(9.0, 3.2), layout="constrained")
        layers = np.arange(1, len(self.report) + 1)
        for i, (which, title) in enumerate((("act", "activations"), ("grad", "gradients"))):
            ax = fig.add_subplot(1, 3, i + 1)
            measured, theory = payload[f"{which}_rms"], payload[f"{which}_rms_theory"]
            with np.errstate(invalid="ignore"):
                positive = np.where(measured > 0, measured, np.nan)
            ax.semilogy(layers, positive, "o-", ms=3, color="#4c78a8", label="measured")
            ax.semilogy(layers, theory, "--", color="#e45756", lw=1, label="theory")
            ax.set_title(f"{title}: RMS per layer", fontsize=8)
            ax.set_xlabel("layer", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7)
        ax = fig.add_subplot(1, 3, 3)
        counts = payload["act_hist"]["counts"].astype(np.float64)
        totals = np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
        ax.imshow(
            counts / totals,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            extent=(0, counts.shape[1], 0.5, len(layers) + 0.5),
        )
        ax.set_title("activation histograms (per-layer edges)", fontsize=8)
        ax.set_xlabel("bin", fontsize=7)
        ax.set_ylabel("layer", fontsize=7)
        ax.tick_params(labelsize=7)
        return fig

    def __repr__(self) -> str:
        return f"<InitDiagnosticsView {self.report!r} seq={self.seq}>"
