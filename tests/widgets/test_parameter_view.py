"""ParameterView, headless: what each update sends, and what it costs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import paramlab as mx
from paramlab import _backend, autograd, summary
from paramlab.widgets import ParameterView, cell_finished
from paramlab.widgets._static import decode
from paramlab.widgets._transport import RecordingComm

CPUS = [mx.cpu(0), mx.cpu(1)]


def _weight(shape=(16, 8), ctx=CPUS, init=None):
    p = mx.gluon.Parameter("weight", shape=shape, init=init or mx.init.Xavier())
    p.initialize(ctx=ctx)
    return p


def _cards(comm):
    return [u["card"] for u in comm.updates() if "card" in u]


def _n(comm):
    """Data messages sent (echoes of browser-set traits are not counted)."""
    return len(_cards(comm))


# --------------------------------------------------------------------------- contents
def test_initialize_fills_every_replica_with_the_theory(recording):
    p = mx.gluon.Parameter("weight", shape=(16, 8), init=mx.init.Xavier(magnitude=3))
    view = ParameterView(p)
    comm = view.comm
    assert view.card["status"] == "uninitialized" and view.card["replicas"] == []
    p.initialize(ctx=CPUS)
    card = _cards(comm)[-1]
    assert card["status"] == "ready" and card["contexts"] == ["cpu(0)", "cpu(1)"]
    assert card["init"].startswith("Xavier(")
    theory = card["theory"]
    high = math.sqrt(3.0 / 12.0)  # magnitude / ((fan_in + fan_out) / 2)
    assert theory["family"] == "uniform"
    assert theory["params"]["high"] == pytest.approx(high)
    edges = decode(card["edges"])
    assert edges[0] == pytest.approx(theory["support"][0]) and edges.size == 65
    pdf = decode(theory["pdf"])
    assert pdf.shape == (64,) and np.allclose(pdf, 1 / (2 * high))
    assert card["at_init"] is True
    for rep in card["replicas"]:
        stats = rep["stats"]
        assert stats["count"] == 128 and stats["nan"] == 0 and stats["shape"] == [16, 8]
        assert set(stats) >= {"mean", "std", "min", "max", "l2", "zeros", "posinf", "neginf"}
        counts = decode(rep["hist"]["counts"])
        assert counts.dtype == np.uint32 and counts.sum() == 128
        thumb = decode(rep["thumb"]["data"])
        assert thumb.dtype == np.uint8 and thumb.shape == (16, 8)
        assert rep["grad"]["stats"]["l2"] == 0.0  # fresh zero gradient
    assert card["replicas"][0]["divergence"] is None
    div = card["replicas"][1]["divergence"]
    assert div == {
        "max_abs_diff": 0.0,
        "rel_l2": 0.0,
        "bitwise_equal": True,
        "differing": 0,
        "sampled": False,
    }
    view.close()


def test_messages_carry_binary_buffers(recording):
    view = ParameterView(_weight())
    comm = view.comm
    opened = comm.opened
    assert opened["buffers"], "the comm_open state carries the arrays as binary buffers"
    assert all(isinstance(b, memoryview) for b in opened["buffers"])
    view.param.data(mx.cpu(1))[:] *= 2.0
    assert view.update()
    msg = comm.messages[-1]
    assert msg["data"]["method"] == "update"
    assert set(msg["data"]["state"]) >= {"card", "seq", "live"}  # one message, several traits
    paths = msg["data"]["buffer_paths"]
    assert ["card", "edges", "buffer"] in paths
    assert ["card", "replicas", 1, "thumb", "data", "buffer"] in paths
    assert len(msg["buffers"]) == len(paths)
    view.close()


def test_backward_then_step_then_manual_update(recording):
    p = _weight()
    trainer = mx.gluon.Trainer({"weight": p}, "sgd", {"learning_rate": 0.1})
    view = ParameterView(p)
    comm = view.comm
    x = [mx.nd.ones((3, 8), ctx=c) for c in CPUS]
    with autograd.record():
        losses = [mx.nd.dot(xi, p.data(xi.context).T).sum() for xi in x]
    autograd.backward(losses)
    view.update()
    card = _cards(comm)[-1]
    for rep in card["replicas"]:
        grad = rep["grad"]
        assert grad["stats"]["l2"] == pytest.approx(3 * math.sqrt(16 * 8))
        assert decode(grad["hist"]["counts"]).sum() == 128
    assert card["grad_edges"] is not None
    trainer.step(1)
    cell_finished()
    card = _cards(comm)[-1]
    assert card["at_init"] is False
    assert card["replicas"][1]["divergence"]["bitwise_equal"] is True
    steps = decode(card["history"]["step"])
    assert steps[-1] == 1
    # a manual update of one replica: seen through its version counter only
    before = card["replicas"][0]["version"]
    g = p.grad(mx.cpu(0))
    p.data(mx.cpu(0))[:] -= 0.1 * g
    assert view.update()
    card = _cards(comm)[-1]
    assert card["replicas"][0]["version"] > before
    assert [r["changed"] for r in card["replicas"]] == [True, False]
    div = card["replicas"][1]["divergence"]
    assert div["bitwise_equal"] is False and div["max_abs_diff"] == pytest.approx(0.3, rel=1e-5)
    hist = card["history"]
    assert decode(hist["value_l2"]).shape[0] == 2
    view.close()


def test_nan_in_one_replica_after_set_data(recording):
    p = _weight()
    view = ParameterView(p)
    comm = view.comm
    p.set_data(mx.nd.ones((16, 8)))
    p.data(mx.cpu(1))[0, 0] = float("nan")
    cell_finished()
    card = _cards(comm)[-1]
    r0, r1 = card["replicas"]
    assert r0["stats"]["nan"] == 0 and r1["stats"]["nan"] == 1
    assert r1["hist"]["nan"] == 1 and decode(r1["hist"]["counts"]).sum() == 127
    assert decode(r1["thumb"]["data"])[0, 0] == 0  # a cell holding a NaN is coded 0
    assert r1["divergence"]["bitwise_equal"] is False
    assert r1["divergence"]["max_abs_diff"] is None  # inf does not travel as JSON
    assert card["at_init"] is False and card["theory"] is not None
    assert "nan=1" in view.summary_text()
    view.close()


def test_reset_ctx_rebuilds_the_cards(recording):
    p = _weight()
    view = ParameterView(p)
    comm = view.comm
    p.reset_ctx([mx.cpu(0), mx.cpu(1), mx.cpu(2)])
    card = _cards(comm)[-1]
    assert card["contexts"] == ["cpu(0)", "cpu(1)", "cpu(2)"]
    assert len(card["replicas"]) == 3
    assert all(r["divergence"]["bitwise_equal"] for r in card["replicas"][1:])
    assert decode(card["history"]["value_l2"]).shape == (3, 1)
    view.close()


@pytest.mark.parametrize("kind", ["constant", "null"])
def test_no_gradient(recording, kind):
    if kind == "constant":
        p = mx.gluon.Constant("c", mx.nd.ones((3, 4)))
        p.initialize(ctx=CPUS)
        note = "no gradient (Constant)"
    else:
        p = mx.gluon.Parameter("weight", shape=(3, 4), grad_req="null")
        p.initialize(ctx=CPUS)
        note = "no gradient (grad_req='null')"
    view = ParameterView(p)
    assert view.card["grad_note"] == note
    assert all(r["grad"] is None for r in view.card["replicas"])
    assert note in view.summary_text()
    view.close()


def test_deferred_parameter_fills_in(recording):
    p = mx.gluon.Parameter("weight", shape=(4, 0), allow_deferred_init=True)
    p.initialize(ctx=CPUS)
    view = ParameterView(p)
    assert view.card["status"] == "deferred" and view.card["shape"] is None
    p.shape = (4, 5)
    p._finish_deferred_init()
    assert view.card["status"] == "ready" and view.card["shape"] == [4, 5]
    view.close()


# --------------------------------------------------------------------------- cost
def test_update_copies_nothing_and_skips_unchanged_replicas(recording, monkeypatch):
    ctxs = [mx.cpu(i) for i in range(4)]
    p = _weight((2049, 2048), ctxs)  # above 2^22 elements: the sampled path
    view = ParameterView(p)
    calls = []
    for name in ("summarize", "survey"):  # survey: values, summarize: gradients
        real = getattr(summary, name)
        monkeypatch.setattr(summary, name, lambda *a, _f=real, **k: calls.append(1) or _f(*a, **k))
    with _backend.counting() as moved:
        assert view.update(force=True)
        assert not view.update()  # nothing changed: nothing computed, nothing sent
    assert moved.total == 0, moved  # no copy between contexts, no host read
    assert len(calls) == 4 + 4  # values and gradients of 4 replicas, once
    card = view.card
    for rep in card["replicas"]:
        assert rep["hist"]["sampled"] and rep["thumb"]["sampled"]
        assert rep["hist"]["binned"] <= 2**18
        assert rep["stats"]["count"] == 2049 * 2048  # statistics stay exact
    assert card["replicas"][3]["divergence"]["sampled"] is True
    calls.clear()
    p.data(mx.cpu(2))[0, 0] = 5.0
    assert view.update()
    assert len(calls) == 1
    assert [r["changed"] for r in view.card["replicas"]] == [False, False, True, False]
    assert view.card["replicas"][2]["divergence"]["bitwise_equal"] is False
    assert view.card["replicas"][1]["divergence"]["bitwise_equal"] is True
    view.close()


def test_message_size_for_four_replicas(recording):
    p = _weight((300, 500), [mx.cpu(i) for i in range(4)])
    view = ParameterView(p)
    comm = view.comm
    for _ in range(3):
        for c in p.list_ctx():
            p.data(c)[:] *= 1.5
        assert view.update()
    sizes = [RecordingComm.nbytes(m) for m in comm.messages]
    assert max(sizes) <= 32 * 1024, sizes
    view.close()


def test_rate_limits_and_coalesces(recording, clock):
    p = _weight()
    view = ParameterView(p, clock=clock, rate=10.0)
    comm = view.comm
    n0 = _n(comm)
    for _ in range(50):  # 50 events within one instant: one message
        p.zero_grad()
        p.data(mx.cpu(0))[:] += 1.0
    assert _n(comm) == n0 + 1
    clock.advance(0.05)
    p.zero_grad()
    assert _n(comm) == n0 + 1  # still within 1 / rate
    clock.advance(0.06)
    p.zero_grad()
    assert _n(comm) == n0 + 2  # the latest state, coalesced
    card = comm.updates()[-1]["card"]
    assert card["replicas"][0]["stats"]["mean"] == pytest.approx(
        view.card["replicas"][0]["stats"]["mean"]
    )
    p.data(mx.cpu(0))[:] += 1.0  # a manual write sends nothing by itself...
    assert _n(comm) == n0 + 2
    cell_finished()  # ...until the cell finishes
    assert _n(comm) == n0 + 3
    assert comm.updates()[-1]["live"] is False
    view.close()


def test_rate_zero_sends_only_at_cell_end(recording, clock):
    p = _weight()
    view = ParameterView(p, clock=clock, rate=0.0)
    comm = view.comm
    for _ in range(5):
        clock.advance(1.0)
        p.zero_grad()
        p.data(mx.cpu(0))[:] += 1.0
    assert comm.messages == []
    cell_finished()
    assert _n(comm) == 1
    view.close()


def test_duty_budget_spaces_expensive_updates(recording):
    ticks = iter(np.arange(0.0, 100.0, 0.01))  # each clock read: +10 ms

    p = _weight()
    view = ParameterView(p, clock=lambda: next(ticks), rate=1000.0, max_duty=0.05)
    p.data(mx.cpu(0))[:] += 1.0
    assert view.update()  # took >= 10 ms of (fake) clock
    assert view._throttle.next_at - view._throttle.clock() > 0.1  # waits >= T / max_duty
    view.close()


# --------------------------------------------------------------------------- browser side
def test_browser_pause_and_refresh(recording, clock):
    p = _weight()
    view = ParameterView(p, clock=clock)
    comm = view.comm
    comm.receive({"method": "update", "state": {"paused": True}, "buffer_paths": []})
    assert view.paused
    n = _n(comm)
    clock.advance(1.0)
    p.zero_grad()
    p.data(mx.cpu(0))[:] += 1.0
    assert _n(comm) == n
    comm.receive({"method": "update", "state": {"paused": False}, "buffer_paths": []})
    assert _n(comm) == n + 1  # the latest state once unpaused
    p.data(mx.cpu(1))[:] += 1.0
    comm.receive({"method": "custom", "content": {"type": "refresh"}})
    assert _n(comm) == n + 2
    comm.receive(
        {
            "method": "update",
            "state": {"log_scale": True, "selected_replica": 1},
            "buffer_paths": [],
        }
    )
    assert view.log_scale and view.selected_replica == 1
    view.close()


def test_bad_input():
    with pytest.raises(TypeError, match="ParameterView expects a paramlab Parameter"):
        ParameterView(np.zeros(3))
    with pytest.raises(ValueError, match="bins must be an integer >= 1; got 0"):
        ParameterView(_weight(), bins=0)


def test_bad_rate(recording):
    view = ParameterView(_weight())
    with pytest.raises(ValueError, match=r"ParameterView.rate must be >= 0; got -1"):
        view.rate = -1.0
    view.close()


# --------------------------------------------------------------------------- static face
def test_static_face(recording, tmp_path):
    p = _weight()
    view = ParameterView(p)
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Parameter 'weight' shape=(16, 8)")
    import base64

    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
    view.save_png(tmp_path / "w.png")
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="does not exist"):
        view.save_png(tmp_path / "missing" / "w.png")
    view.close()


def test_static_face_refreshed_when_the_cell_finishes(recording):
    class Handle:
        updates = []

        def update(self, obj, raw=False):
            self.updates.append(obj)

    p = _weight()
    view = ParameterView(p)
    view._display_handle = Handle()
    view._static_seq = view.seq
    p.data(mx.cpu(0))[:] += 1.0
    cell_finished()
    (bundle,) = Handle.updates
    assert "image/png" in bundle and view._static_seq == view.seq
    view.close()
