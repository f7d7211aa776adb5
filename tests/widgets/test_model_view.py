"""ModelView and watch, headless: rows, packed columns, detail, training-loop behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd, summary
from paramlab.widgets import ModelView, cell_finished, view, watch
from paramlab.widgets._static import decode
from paramlab.widgets._transport import RecordingComm


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


# --------------------------------------------------------------------------- history deltas
class BrowserRing:
    """The browser's history ring (``takeHistory`` in widgets/model_view.js), in NumPy.

    ``follow(comm)`` takes every Columns the kernel sent since the last call,
    as the browser does; ``refreshes`` counts the gaps it saw (each asks for
    the whole history again).
    """

    def __init__(self, history_len=64):
        self.history_len = history_len
        self.seq = None
        self.ring = None
        self.refreshes = 0
        self._followed = 0

    def take(self, columns):
        points = decode(columns["history"])
        rows, k, _ = points.shape
        if columns["history_full"]:
            self.ring, self.seq = points.copy(), columns["history_seq"]
            return
        if columns["history_seq"] == self.seq:
            return
        fresh = decode(columns["history_new"])
        joins = self.ring is not None and len(self.ring) == rows
        joins = joins and columns["history_base"] == self.seq
        if not joins:
            self.ring = np.full((rows, max(k, self.history_len), 2), np.nan, np.float32)
            self.refreshes += 1
        for i in range(rows):
            m = min(fresh[i] if joins else k, k, self.ring.shape[1])
            if m:
                self.ring[i] = np.concatenate([self.ring[i, m:], points[i, k - m :]])
        self.seq = columns["history_seq"]

    def follow(self, comm):
        updates = comm.updates()
        for u in updates[self._followed :]:
            if "columns" in u:
                self.take(u["columns"])
        self._followed = len(updates)


def _kernel_history(mv):
    return decode(mv.full_columns()["history"])


def _same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _columns_sent(comm):
    return [u["columns"] for u in comm.updates() if "columns" in u]


def test_history_deltas_rebuild_the_whole_history_under_a_rate_limit(recording, clock):
    net = _mlp(ctx=(mx.cpu(0), mx.cpu(1)))
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    mv = ModelView(net, clock=clock, rate=10.0, history_len=8)
    comm = mv.comm
    ring = BrowserRing(8)
    ring.take(mv.columns)  # the state the browser got when the comm opened
    comm.receive({"method": "update", "state": {"selected": "0.weight"}, "buffer_paths": []})
    xs = [mx.nd.random.normal(shape=(4, 5), ctx=c) for c in (mx.cpu(0), mx.cpu(1))]
    gaps = [0.0, 0.03, 0.03, 0.05, 0.2, 0.0, 0.11, 0.04, 0.07, 0.3] * 3
    for gap in gaps:
        clock.advance(gap)  # steps closer than 1 / rate are coalesced into one update
        with autograd.record():
            losses = [(net(x) ** 2).mean() for x in xs]
        autograd.backward(losses)
        trainer.step(8)
        ring.follow(comm)
        assert _same(ring.ring, _kernel_history(mv))
    cell_finished()
    ring.follow(comm)
    sent = _columns_sent(comm)
    assert 10 < len(sent) < len(gaps)
    assert not any(c["history_full"] for c in sent)
    assert all(decode(c["history"]).shape[1] <= 1 for c in sent)
    kernel = _kernel_history(mv)
    assert _same(ring.ring, kernel) and ring.refreshes == 0
    assert np.isfinite(kernel[:, :, 0]).all()  # every slot of the 8-point ring holds a point
    # the static face reads the whole history, not the last delta
    assert decode(mv.columns["history"]).shape == (4, 1, 2)
    assert decode(mv.full_columns()["history"]).shape == (4, 8, 2)
    mv.close()


def test_refresh_and_gaps_resend_the_whole_history(recording):
    net = _mlp()
    mv = ModelView(net)
    comm = mv.comm
    w = net[0].weight

    def change():
        w.set_data(w.data() * 1.5)
        mv.update()
        return comm.updates()[-1]["columns"]

    ring = BrowserRing()
    ring.take(mv.columns)
    ring.take(change())
    change()  # the browser misses this update...
    ring.take(change())  # ...and sees the gap in the next one
    assert ring.refreshes == 1
    kernel = _kernel_history(mv)
    assert _same(ring.ring[:, -1], kernel[:, -1]) and np.isnan(ring.ring[0, :-1]).all()
    comm.receive({"method": "custom", "content": {"type": "refresh"}})  # so it asks
    cols = comm.updates()[-1]["columns"]
    assert cols["history_full"] and decode(cols["history"]).shape == (4, 64, 2)
    ring.take(cols)
    assert _same(ring.ring, kernel)
    cols = change()
    assert not cols["history_full"]  # deltas follow on from the refresh
    ring.take(cols)
    mv.update(force=True)  # every row recomputed, no new point: an empty delta
    cols = comm.updates()[-1]["columns"]
    assert decode(cols["history"]).shape == (4, 0, 2) and not cols["history_full"]
    ring.take(cols)
    assert _same(ring.ring, _kernel_history(mv)) and ring.refreshes == 1
    page = BrowserRing()  # a reloaded page gets the last delta as its state
    page.take(mv.columns)
    assert page.refreshes == 1
    mv.close()


@pytest.mark.parametrize("change", ["reinit", "reset_ctx", "history_len"])
def test_structure_changes_resend_the_whole_history(recording, change):
    net = _mlp()
    mv = ModelView(net)
    comm = mv.comm
    ring = BrowserRing()
    ring.take(mv.columns)
    w = net[0].weight
    for _ in range(3):
        w.set_data(w.data() * 1.5)
        mv.update()
    ring.follow(comm)
    n = len(comm.updates())
    if change == "reinit":  # the same rows, but the parameter's history starts again
        w.initialize(mx.init.Xavier(), force_reinit=True)
    elif change == "reset_ctx":
        w.reset_ctx([mx.cpu(0), mx.cpu(1)])
    else:
        mv.history_len = 16
    cell_finished()
    cols = [u["columns"] for u in comm.updates()[n:] if "columns" in u]
    size = 16 if change == "history_len" else 64
    assert cols and cols[0]["history_full"]
    assert decode(cols[0]["history"]).shape == (4, size, 2)
    ring.follow(comm)
    kernel = _kernel_history(mv)
    assert _same(ring.ring, kernel) and ring.refreshes == 0
    assert np.isfinite(kernel[0, :, 0]).sum() == (4 if change == "history_len" else 1)
    mv.close()


def test_updates_after_the_first_carry_only_new_history_points(recording, clock):
    net = mx.gluon.nn.Sequential()
    for _ in range(160):
        net.add(mx.gluon.nn.Dense(8, in_units=8, activation="tanh"))
    net.initialize(mx.init.Xavier())
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05})
    mv = watch(trainer, net, clock=clock, max_bytes_per_second=0, max_duty=0)
    comm = mv.comm
    x = mx.nd.random.normal(shape=(4, 8))
    for _ in range(4):
        clock.advance(1.0)
        with autograd.record():
            loss = (net(x) ** 2).mean()
        loss.backward()
        trainer.step(4)
    cell_finished()
    comm.receive({"method": "custom", "content": {"type": "refresh"}})
    sent = [m for m in comm.messages if "columns" in m["data"].get("state", {})]
    *live, refresh = [RecordingComm.nbytes(m) for m in sent]
    full_history = 320 * 64 * 2 * 4  # [N, history_len, 2] float32
    one_point = 320 * 2 * 4 + 320 * 4  # [N, 1, 2] float32 and history_new int32 [N]
    assert len(live) >= 4 and refresh > full_history
    for size in live:
        assert size < refresh - full_history + one_point + 200, (size, refresh)
        assert size < refresh / 2
    mv.close()
