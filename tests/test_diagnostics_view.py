"""InitDiagnosticsView, headless: traits from the report's payload, recompute, static face."""

from __future__ import annotations

import json
import warnings

import comm
import numpy as np
import pytest

pytest.importorskip("anywidget")

import paramlab as mx
from paramlab.diagnostics import InitWarning, init_report, lsuv_init
from paramlab.widgets._static import decode
from paramlab.widgets._transport import RecordingComm
from paramlab.widgets.diagnostics_view import CURVES, InitDiagnosticsView

nn = mx.gluon.nn


@pytest.fixture
def recording(monkeypatch):
    RecordingComm.instances = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm.create)
    yield RecordingComm.instances
    for c in RecordingComm.instances:  # valid Jupyter JSON: no NaN or inf outside buffers
        json.dumps(c.opened["data"], allow_nan=False)
        for m in c.messages:
            RecordingComm.nbytes(m)
    RecordingComm.instances = []


def deep_relu(depth=8, width=64):
    net = nn.Sequential()
    for _ in range(depth):
        net.add(nn.Dense(width, activation="relu", in_units=width))
    net.initialize(mx.init.Xavier())
    return net


def test_traits_carry_the_payload(recording):
    net = deep_relu()
    x = mx.nd.array(np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        report = init_report(net, x, bins=32)
    view = InitDiagnosticsView(report)
    assert set(view.curves) == set(CURVES)
    np.testing.assert_allclose(decode(view.curves["act_rms"]), report.to_payload()["act_rms"])
    assert decode(view.act_hist["counts"]).shape == (8, 32)
    assert view.act_hist["counts"]["dtype"] == "uint32"
    assert decode(view.grad_hist["edges"]).shape == (8, 33)
    assert [f["kind"] for f in view.findings] == [f.kind for f in report.findings]
    assert view.layers[0]["activation"] == "relu" and view.text == str(report)
    assert view.summary_text() == str(report)
    assert view.to_png().startswith(b"\x89PNG")
    assert view.update() is False  # nothing new
    assert view.update(force=True) is True
    view.close()


def test_view_of_a_net_recomputes(recording):
    net = deep_relu(depth=10)
    x = mx.nd.array(np.random.default_rng(1).standard_normal((128, 64)).astype(np.float32))
    view = InitDiagnosticsView(net, x)
    assert any(f["kind"] == "vanishing_activations" for f in view.findings)
    seq = view.seq
    lsuv_init(net, x)
    view.comm.receive({"method": "custom", "content": {"type": "recompute"}})
    assert view.seq > seq
    assert not any(f["kind"] == "vanishing_activations" for f in view.findings)
    view.close()


def test_bad_arguments(recording):
    with pytest.raises(TypeError, match="expects an InitReport"):
        InitDiagnosticsView(3)
    with pytest.raises(ValueError, match="needs a batch"):
        InitDiagnosticsView(deep_relu())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        report = init_report(deep_relu(2), mx.nd.ones((4, 64)))
    view = InitDiagnosticsView(report)
    with pytest.raises(ValueError, match="finished report"):
        view.recompute()
    view.close()
