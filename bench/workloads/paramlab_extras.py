"""paramlab-only bodies: widgets and diagnostics that MXNet does not have.

These use APIs that are planned but may not exist yet
(``paramlab.widgets.ParameterView``, ``paramlab.widgets.ModelView``,
``paramlab.diagnostics.init_report``).  When they are missing, the harness's
smoke run fails and the table lists the row as "not available yet"; once
the API lands, adjust the calls below to its final signatures (see
``bench/README.md``).
"""

from __future__ import annotations

import importlib

from workloads import gluon
from workloads.base import Prepared, Registry

REGISTRY = Registry("paramlab-extras")


def _submodule(mx, name):
    """Import ``<mx package>.<name>`` (e.g. ``paramlab.widgets``)."""
    return importlib.import_module(f"{mx.__name__}.{name}")


def _close(obj):
    closer = getattr(obj, "close", None)
    if callable(closer):
        closer()


@REGISTRY.case("W7")
def w7_summary_setup(mx, p):
    """Exact statistics and a histogram with ``paramlab.summary`` (one fused pass)."""
    summary = _submodule(mx, "summary")
    n = p["n"]
    x = mx.nd.array(gluon.host_normal((n, n), 3), ctx=gluon.contexts(mx, p, 1)[0])

    def run():
        summary.summarize(x, bins=p["bins"])
        mx.nd.waitall()

    return Prepared(run)


@REGISTRY.case("W10.view_update")
def w10_view_update_setup(mx, p):
    """One ``ParameterView.update()`` of an n x n parameter on ``ncontexts`` contexts.

    Before each update one element of every replica is written (a one-element write
    bumps the version counter without a pass over memory), so every replica's value
    is recomputed: the worst case of one update. An update where nothing changed
    costs ~nothing (version counters only).
    """
    view_cls = _submodule(mx, "widgets").ParameterView
    n = p["n"]
    param = mx.gluon.Parameter("weight", shape=(n, n), dtype="float32", init=gluon.xavier(mx))
    param.initialize(ctx=gluon.contexts(mx, p))
    view = view_cls(param)
    replicas = param.list_data()

    def run():
        for r in replicas:
            r[0, 0] = 0.5
        view.update()
        mx.nd.waitall()

    return Prepared(run, lambda: _close(view))


@REGISTRY.case("W10.loop")
def w10_loop_view_setup(mx, p):
    """``steps`` training steps of the W4 MLP with a live ``ModelView`` attached.

    The view is live at its default ``rate`` (10 updates per second, within its
    ``max_duty``); the loop ends as a notebook cell does, with the final update.
    """
    widgets = _submodule(mx, "widgets")
    net, step = gluon.mlp_trainer(mx, p)
    view = widgets.ModelView(net)

    def run():
        for _ in range(p["steps"]):
            step()
        widgets.cell_finished()
        mx.nd.waitall()

    return Prepared(run, lambda: _close(view))


@REGISTRY.case("W11")
def w11_init_report_setup(mx, p):
    """``paramlab.diagnostics.init_report`` of the deep ReLU MLP on its batch."""
    init_report = _submodule(mx, "diagnostics").init_report
    net, x = gluon.deep_net(mx, p)

    def run():
        init_report(net, x)
        mx.nd.waitall()

    return Prepared(run)
