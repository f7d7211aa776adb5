"""ModelView and watch, headless: rows, packed columns, detail, training-loop behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd, summary
from paramlab.widgets import ModelView, cell_finished, view, watch
from paramlab.widgets._static import decode


def _mlp(ctx=(mx.cpu(0),), deferred=False):
    net = mx.gluon.nn.Sequential()
    if deferred:
        net.add(mx.gluon.nn.Dense(8, activation="relu"), mx.gluon.nn.Dense(3))
    else:
        net.add(
            mx.gluon.nn.Dense(8, activation="relu", in_units=5), mx.gluon.nn.Dense(3, in_units=8)
        )
    net.initialize(mx.init.Xavier(), ctx=list(ctx))
    return net


def _data_msgs(comm):
    return [u for u in comm.updates() if "columns" in u or "detail" in u or "rows" in u]


def _train_step(net, trainer, x, y, loss_fn):
    with autograd.record():
        loss = loss_fn(net(x), y)
    loss.backward()
    trainer.step(x.shape[0])


def test_rows_and_columns(recording):
    net = _mlp(ctx=(mx.cpu(0), mx.cpu(1)))
    mv = ModelView(net)
    assert [r["name"] for r in mv.rows] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    row = mv.rows[0]
    assert row["shape"] == [8, 5] and row["status"] == "ready" and row["init"].startswith("Xavier")
    assert mv.rows[1]["init"] == "Zero()"
    cols = mv.columns
    value = decode(cols["value"])
    assert value.shape == (4, 10) and cols["fields"][4] == "l2"
    assert value[1, cols["fields"].index("l2")] == 0.0  # zero bias
    assert decode(cols["hist"]).shape == (4, 32) and decode(cols["hist"]).dtype == np.uint32
    assert decode(cols["hist"])[0].sum() == 40
    div = decode(cols["divergence"])
    assert np.all(div[:, 2] == 1.0) and np.all(div[:, 0] == 0.0)
    assert decode(cols["history"]).shape == (4, 64, 2)
    assert decode(cols["at_init"]).tolist() == [1, 1, 1, 1]
    assert mv.detail is None
    mv.close()


def test_selected_detail_and_training(recording, clock):
    net = _mlp()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    mv = ModelView(net, clock=clock)
    comm = mv.comm
    comm.receive({"method": "update", "state": {"selected": "1.weight"}, "buffer_paths": []})
    assert mv.detail["structural_name"] == "1.weight" and mv.detail["shape"] == [3, 8]
    assert mv.detail["name"] == net[1].weight.name
    clock.advance(1.0)
    x, y = mx.nd.ones((4, 5)), mx.nd.array([0, 1, 2, 0])
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    n = len(_data_msgs(comm))
    for _ in range(20):  # 20 steps within one instant: at most one live message
        _train_step(net, trainer, x, y, loss_fn)
    assert len(_data_msgs(comm)) == n + 1
    cell_finished()
    last = _data_msgs(comm)[-1]
    assert mv.step == 20 and last["step"] == 20
    grad_l2 = decode(mv.columns["grad_l2"])
    assert np.all(np.isfinite(grad_l2)) and np.all(grad_l2 >= 0)
    assert decode(mv.columns["at_init"]).tolist() == [0, 0, 0, 0]
    assert mv.detail["replicas"][0]["grad"] is not None
    hist = mv.detail["history"]
    assert decode(hist["step"])[-1] == 20
    mv.selected = ""
    assert mv.detail is None
    mv.close()


def test_gradients_mid_backward_wait_for_the_step(recording, clock):
    net = _mlp()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    mv = ModelView(net, clock=clock)
    x, y = mx.nd.ones((4, 5)), mx.nd.array([0, 1, 2, 0])
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    _train_step(net, trainer, x, y, loss_fn)  # the view now knows a Trainer drives it
    clock.advance(10.0)
    n = len(_data_msgs(mv.comm))
    with autograd.record():
        loss = loss_fn(net(x), y)
    loss.backward()  # grad_written events only mark rows dirty
    assert len(_data_msgs(mv.comm)) == n
    trainer.step(4)
    assert len(_data_msgs(mv.comm)) == n + 1
    mv.close()


def test_deferred_rows_fill_in(recording):
    net = _mlp(deferred=True)
    mv = ModelView(net)
    assert [r["status"] for r in mv.rows] == ["deferred", "ready", "deferred", "ready"]
    net(mx.nd.ones((2, 5)))
    cell_finished()
    assert [r["status"] for r in mv.rows] == ["ready"] * 4
    assert mv.rows[0]["shape"] == [8, 5]
    mv.close()


def test_many_parameters_stay_cheap(recording, monkeypatch):
    params = {f"p{i}": mx.gluon.Parameter(f"p{i}_weight", shape=(4, 4)) for i in range(320)}
    for p in params.values():
        p.initialize()
    mv = ModelView(params)
    comm = mv.comm
    calls = []
    real_summarize, real_stats = summary.summarize, summary.stats
    monkeypatch.setattr(
        summary, "summarize", lambda *a, **k: calls.append("summarize") or real_summarize(*a, **k)
    )
    monkeypatch.setattr(
        summary, "stats", lambda *a, **k: calls.append("stats") or real_stats(*a, **k)
    )
    n = len(_data_msgs(comm))
    assert not mv.update() and calls == []  # nothing changed: nothing computed or sent
    params["p7"].data()[:] += 1.0
    assert mv.update()
    assert len(_data_msgs(comm)) == n + 1 and calls == ["summarize"]  # one row recomputed
    assert len(mv.rows) == 320
    mv.close()


def test_watch_and_view(recording):
    net = _mlp()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    w = watch(trainer)
    assert [r["param"] for r in w.rows] == [p.name for p in trainer._params]
    named = watch(trainer, block=net)
    assert sorted(r["name"] for r in named.rows) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    assert type(view(trainer)).__name__ == "ModelView"
    assert type(view(net)).__name__ == "ModelView"
    assert type(view(net[0].weight)).__name__ == "ParameterView"
    assert type(view("uniform")).__name__ == "InitializerView"
    with pytest.raises(TypeError, match=r"no view for a builtins\.int"):
        view(3)
    with pytest.raises(TypeError, match=r"watch expects a gluon\.Trainer"):
        watch(net)
    with pytest.raises(TypeError, match="entry 'a' is a int, not a Parameter"):
        ModelView({"a": 1})
    with pytest.raises(ValueError, match="selected='nope' is not one of"):
        ModelView(net, selected="nope")
    text = named.summary_text()
    assert text.startswith("ModelView: 4 parameters") and "0.weight" in text
    assert named.to_png()[:4] == b"\x89PNG"


def test_watch_lists_rows_in_the_model_order():
    import paramlab as mx
    from paramlab.gluon import nn
    from paramlab.widgets import watch

    net = nn.Sequential()
    for _ in range(12):
        net.add(nn.Dense(2, in_units=2))
    net.initialize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd")
    view = watch(trainer, block=net)
    names = [row["name"] for row in view.rows]
    assert names[:4] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert names[-2:] == ["11.weight", "11.bias"] and len(names) == 24
