"""The ``live`` flag of every view: set while a cell's updates may still come, cleared after it."""

from __future__ import annotations

import pytest

import paramlab as mx
from paramlab.widgets import InitializerView, ModelView, ParameterView, cell_finished
from paramlab.widgets.diagnostics_view import InitDiagnosticsView


def _net():
    net = mx.gluon.nn.Sequential()
    net.add(mx.gluon.nn.Dense(6, activation="relu", in_units=4), mx.gluon.nn.Dense(3, in_units=6))
    net.initialize(mx.init.Xavier())
    return net


def _model_view(net):
    view = ModelView(net)
    return view, lambda: net[0].weight.set_data(net[0].weight.data() + 1.0)


def _parameter_view(net):
    view = ParameterView(net[0].weight)
    return view, lambda: net[0].weight.set_data(net[0].weight.data() + 1.0)


def _initializer_view(net):
    view = InitializerView(mx.init.Uniform(0.1), shape=(16, 16))
    return view, lambda: setattr(view, "scale", 0.5)


def _diagnostics_view(net):
    view = InitDiagnosticsView(net, mx.nd.ones((8, 4)))
    return view, view.recompute


VIEWS = {
    "ModelView": _model_view,
    "ParameterView": _parameter_view,
    "InitializerView": _initializer_view,
    "InitDiagnosticsView": _diagnostics_view,
}


@pytest.mark.parametrize("kind", list(VIEWS))
def test_live_is_cleared_when_the_cell_finishes(recording, clock, kind):
    view, change = VIEWS[kind](_net())
    clock.advance(1.0)
    change()  # an update sent while the cell runs
    assert view.live is True
    cell_finished()
    assert view.live is False
    assert view.comm.updates()[-1]["live"] is False
    view.close()


@pytest.mark.parametrize("kind", list(VIEWS))
def test_live_is_cleared_when_paused_at_the_end_of_the_cell(recording, kind):
    view, change = VIEWS[kind](_net())
    change()
    assert view.live is True
    view.comm.receive({"method": "update", "state": {"paused": True}, "buffer_paths": []})
    n = len(view.comm.updates())
    cell_finished()
    assert view.live is False  # no data sent while paused, only the flag
    assert [set(u) for u in view.comm.updates()[n:]] == [{"live"}]
    view.close()


def test_updates_asked_by_the_browser_between_cells_are_not_live(recording):
    net = _net()
    view = ModelView(net)
    comm = view.comm
    comm.receive({"method": "update", "state": {"selected": "0.weight"}, "buffer_paths": []})
    assert view.detail["structural_name"] == "0.weight" and view.live is False
    net[1].weight.set_data(net[1].weight.data() * 2.0)
    cell_finished()
    comm.receive({"method": "custom", "content": {"type": "refresh"}})
    assert comm.updates()[-1]["columns"]["history_full"] is True and view.live is False
    view.close()


def test_a_browser_command_is_answered_at_once_and_not_live(recording, clock):
    view = InitDiagnosticsView(_net(), mx.nd.ones((8, 4)), clock=clock)
    comm = view.comm
    view.recompute()  # sent, live
    cell_finished()
    n, seq = len(comm.updates()), view.seq
    comm.receive({"method": "custom", "content": {"type": "recompute"}})  # within 1 / rate
    assert len(comm.updates()) == n + 1 and view.seq == seq + 1
    assert view.live is False
    view.close()
