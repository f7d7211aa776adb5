"""Tests for paramlab.diagnostics.init_report: numbers, theory, state, errors, text, payload."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab.diagnostics import (
    InitReport,
    InitWarning,
    Thresholds,
    init_report,
)
from paramlab.diagnostics._activations import SMOOTH, leaky, smooth

nn = mx.gluon.nn


# --------------------------------------------------------------------------- helpers
def mlp(widths, act="relu", init=None, ctx=None, last_act=True, **dense_kwargs):
    """A Sequential of Dense layers ``widths[0] -> widths[1] -> ...``, initialized."""
    net = nn.Sequential()
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        last = i == len(widths) - 2
        net.add(
            nn.Dense(
                b, activation=act if (last_act or not last) else None, in_units=a, **dense_kwargs
            )
        )
    net.initialize(init if init is not None else mx.init.Xavier(), ctx=ctx)
    return net


def batch(shape, scale=1.0, seed=0, ctx=None):
    rng = np.random.default_rng(seed)
    return mx.nd.array(rng.standard_normal(shape).astype(np.float32) * scale, ctx=ctx)


def quiet_report(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        return init_report(*args, **kwargs)


def kinds_warned(*args, **kwargs):
    """(report, set of InitWarning messages) of a report."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = init_report(*args, **kwargs)
    return report, [str(w.message) for w in caught if issubclass(w.category, InitWarning)]


def rms(a):
    a = np.asarray(a, dtype=np.float64)
    return math.sqrt(float(np.mean(a * a)))


# --------------------------------------------------------------------------- NumPy recomputation
def test_numbers_match_numpy_on_a_tiny_net():
    net = nn.Sequential()
    net.add(
        nn.Dense(4, activation="tanh", in_units=5),
        nn.Dense(3, activation="relu", in_units=4),
        nn.Dense(2, in_units=3),
    )
    net.initialize(mx.init.Xavier())
    rng = np.random.default_rng(3)
    for p in net.collect_params().values():  # non-zero biases exercise every term
        p.set_data(rng.standard_normal(p.shape).astype(np.float32) * 0.5)
    x = batch((7, 5), seed=1)
    report = quiet_report(net, x, seed=11)

    W = [net[i].weight.data().asnumpy().astype(np.float64) for i in range(3)]
    b = [net[i].bias.data().asnumpy().astype(np.float64) for i in range(3)]
    xs = x.asnumpy().astype(np.float64)
    z1 = xs @ W[0].T + b[0]
    h1 = np.tanh(z1)
    z2 = h1 @ W[1].T + b[1]
    h2 = np.maximum(z2, 0)
    out = h2 @ W[2].T + b[2]
    g = np.random.default_rng(11).standard_normal(out.shape, dtype=np.float32).astype(np.float64)
    dW3 = g.T @ h2
    dh2 = g @ W[2]
    dz2 = dh2 * (z2 > 0)
    dW2 = dz2.T @ h1
    dh1 = dz2 @ W[1]
    dz1 = dh1 * (1 - h1**2)
    dW1 = dz1.T @ xs
    dx = dz1 @ W[0]

    acts, grads, wgrads, inputs = [h1, h2, out], [dh1, dh2, g], [dW1, dW2, dW3], [xs, h1, h2]
    assert len(report) == 3
    for layer, a, ga, gw, xin in zip(report.layers, acts, grads, wgrads, inputs):
        assert layer.act.mean == pytest.approx(a.mean(), rel=1e-5, abs=1e-6)
        assert layer.act_std == pytest.approx(a.std(), rel=1e-5)
        assert layer.act_rms == pytest.approx(rms(a), rel=1e-5)
        assert layer.grad_rms == pytest.approx(rms(ga), rel=1e-5)
        assert layer.weight_grad_rms == pytest.approx(rms(gw), rel=1e-4)
        assert layer.act_ratio == pytest.approx(rms(a) / rms(xin), rel=1e-5)
        assert layer.near_zero == pytest.approx(np.mean(np.abs(a) < 0.01))
    assert report.layers[0].grad_ratio == pytest.approx(rms(dx) / rms(dh1), rel=1e-4)
    assert report.layers[1].grad_ratio == pytest.approx(rms(dh1) / rms(dh2), rel=1e-4)
    assert report.layers[2].grad_ratio == pytest.approx(rms(dh2) / rms(g), rel=1e-4)
    assert report.layers[1].weight_grad_ratio == pytest.approx(rms(dW2) / rms(dW1), rel=1e-4)
    assert math.isnan(report.layers[0].weight_grad_ratio)
    assert report.input_grad.l2 == pytest.approx(np.linalg.norm(dx), rel=1e-4)
    assert report.layers[0].saturated == pytest.approx(np.mean(np.abs(h1) >= 0.97))
    assert report.layers[1].dead == pytest.approx(np.mean(~(h2 > 0).any(axis=0)))
    assert report.layers[0].dead is None and report.layers[1].saturated is None
    # the weights were set by hand: the predictions use their measured mean square
    for layer, w, bias, xin in zip(report.layers, W, b, inputs):
        assert layer.init == "measured weights"
        assert layer.weight_ms == pytest.approx(np.mean(w * w), rel=1e-5)
        v = w.shape[1] * np.mean(w * w) * np.mean(xin * xin) + np.mean(bias * bias)
        if layer.activation == "relu":
            assert layer.predicted_act_ratio == pytest.approx(math.sqrt(v / 2 / np.mean(xin**2)))
            assert layer.predicted_grad_ratio == pytest.approx(
                math.sqrt(w.shape[0] * np.mean(w * w) / 2)
            )
        if layer.activation == "identity":
            assert layer.predicted_act_ratio == pytest.approx(math.sqrt(v / np.mean(xin**2)))


def test_histograms_are_on_fixed_edges():
    net = mlp([16, 32, 32], act="tanh")
    report = quiet_report(net, batch((64, 16)), bins=32)
    tanh_layer = report[0]
    np.testing.assert_allclose(tanh_layer.act_hist.edges, np.linspace(-1, 1, 33))
    assert (
        tanh_layer.act_hist.counts.sum() + tanh_layer.act_hist.below + tanh_layer.act_hist.above
        == 64 * 32
    )
    g = tanh_layer.grad_hist.edges
    assert g[0] == pytest.approx(-4 * tanh_layer.grad_rms) and g[-1] == pytest.approx(
        4 * tanh_layer.grad_rms
    )


def test_loss_fn_is_back_propagated_with_head_gradient_one():
    net = mlp([6, 5, 4], act="relu")
    x = batch((9, 6))
    report = quiet_report(net, x, loss_fn=lambda out: (out * out).sum() / 2)
    out = net(x).asnumpy().astype(np.float64)
    assert report[-1].grad_rms == pytest.approx(rms(out), rel=1e-5)  # d(sum(out²)/2)/dout = out
    assert report.head.startswith("loss_fn")


# --------------------------------------------------------------------------- theory
SQUARE = [128] * 5


@pytest.mark.parametrize(
    "init, act, expected",
    [
        (mx.init.Xavier(), "relu", 1 / math.sqrt(2)),
        (mx.init.MSRAPrelu(factor_type="in", slope=0), "relu", 1.0),
        (mx.init.Xavier("gaussian", "in", 2), "relu", 1.0),
        (mx.init.MSRAPrelu(), "relu", math.sqrt(1 / 1.0625)),  # avg fans, slope 0.25
        (mx.init.Xavier(), "tanh", 1.0),
    ],
    ids=["xavier-relu", "he-relu", "xavier-in-2-relu", "msraprelu-defaults-relu", "xavier-tanh"],
)
def test_theory_for_square_layers(init, act, expected):
    net = mlp(SQUARE, act=act, init=init)
    x = batch((512, 128), scale=1e-3 if act == "tanh" else 1.0)  # tanh in its linear regime
    report = quiet_report(net, x, init=init)
    np.testing.assert_allclose(report.predicted("act"), expected, rtol=1e-3)
    np.testing.assert_allclose(report.predicted("grad"), expected, rtol=1e-3)
    measured = report.ratios("act")
    assert np.exp(np.mean(np.log(measured))) == pytest.approx(expected, rel=0.06)


def test_theory_tanh_with_standard_uniform_init_is_one_over_sqrt3():
    n = 200
    init = mx.init.Uniform(1 / math.sqrt(n))
    net = mlp([n] * 5, act="tanh", init=init)
    report = quiet_report(net, batch((400, n), scale=1e-3), init=init)
    np.testing.assert_allclose(report.predicted("act"), 1 / math.sqrt(3), rtol=1e-3)
    np.testing.assert_allclose(report.ratios("act"), 1 / math.sqrt(3), rtol=0.08)


def test_msraprelu_defaults_average_the_fans():
    init = mx.init.MSRAPrelu()
    net = mlp([64, 256, 256], act="relu", init=init)
    report = quiet_report(net, batch((256, 64)), init=init)
    var = 2 / 1.0625 / ((64 + 256) / 2)
    assert report[0].weight_ms == pytest.approx(var)
    assert report[0].predicted_act_ratio == pytest.approx(math.sqrt(64 * var / 2))
    assert report[0].predicted_grad_ratio == pytest.approx(math.sqrt(256 * var / 2))


def test_prediction_uses_initializer_recorded_on_the_parameter():
    net = nn.Sequential()
    net.add(
        nn.Dense(
            64,
            activation="relu",
            in_units=64,
            weight_initializer=mx.init.MSRAPrelu(factor_type="in", slope=0),
        )
    )
    net.initialize()
    report = quiet_report(net, batch((128, 64)))
    assert report[0].init_short == "MSRAPrelu"
    assert report[0].weight_ms_source == "theory"
    assert report[0].predicted_act_ratio == pytest.approx(1.0)


def test_mean_field_gain_of_tanh_at_large_scale():
    law = smooth("tanh", **SMOOTH["tanh"])
    assert law.forward_ms(1e-8) / 1e-8 == pytest.approx(1.0, rel=1e-4)
    assert law.forward_ms(400.0) == pytest.approx(1.0, abs=0.05)  # saturated: tanh² ~ 1
    z = np.random.default_rng(0).standard_normal(2_000_000)
    assert law.forward_ms(1.0) == pytest.approx(np.mean(np.tanh(z) ** 2), rel=3e-3)
    assert law.backward_ms(1.0) == pytest.approx(np.mean((1 - np.tanh(z) ** 2) ** 2), rel=3e-3)
    assert leaky(0.0).forward_ms(3.0) == 1.5 and leaky(0.5).backward_ms(9.0) == 0.625


def test_measured_weights_that_contradict_the_stated_initializer():
    net = mlp([64, 64, 64], init=mx.init.Xavier())
    report = quiet_report(net, batch((64, 64)), init=mx.init.Normal(5.0))
    assert "weights_vs_theory" in report.kinds()
    assert report[0].weight_ms_source == "measured"
    report = quiet_report(net, batch((64, 64)), init=mx.init.Xavier())
    assert "weights_vs_theory" not in report.kinds()


# --------------------------------------------------------------------------- findings
def _assert_finding(kind, net, x, expect, **kwargs):
    report, messages = kinds_warned(net, x, **kwargs)
    found = [f for f in report.findings if f.kind == kind]
    if expect:
        assert found, report
        assert found[0].severity == "warning"
        assert found[0].message in messages
    else:
        assert not found, report
        assert not any(m.split(" ")[0] in kind for m in messages)
    return report


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_symmetry_finding(expect):
    init = mx.init.Constant(0.05) if expect else mx.init.Xavier()
    report = _assert_finding("symmetry", mlp([8, 16, 16], init=init), batch((32, 8)), expect)
    if expect:
        assert "every weight = 0.05" in report.findings[0].message


def test_symmetry_needs_identical_biases_too():
    net = mlp([8, 16], init=mx.init.Constant(0.05))
    net[0].bias.set_data(np.arange(16, dtype=np.float32))
    report = quiet_report(net, batch((32, 8)))
    assert "symmetry" not in report.kinds()


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_dead_relu_finding(expect):
    bias = mx.init.Constant(-20.0) if expect else "zeros"
    net = mlp([16, 32, 32], init=mx.init.Xavier(), bias_initializer=bias)
    report = _assert_finding("dead_relu", net, batch((64, 16)), expect)
    assert (report[0].dead == 1.0) is expect


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_saturation_finding(expect):
    init = mx.init.Normal(1.0) if expect else mx.init.Xavier()
    net = mlp([64, 64, 64], act="tanh", init=init)
    report = _assert_finding("saturation", net, batch((128, 64)), expect)
    assert (report[0].saturated > 0.5) is expect


@pytest.mark.parametrize("act", ["sigmoid", "softsign"])
def test_saturation_of_other_bounded_activations(act):
    net = mlp([64, 64], act=act, init=mx.init.Normal(10.0))
    report = quiet_report(net, batch((128, 64)))
    assert "saturation" in report.kinds()


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_vanishing_activations_and_gradients(expect):
    init = mx.init.Xavier() if expect else mx.init.MSRAPrelu(factor_type="in", slope=0)
    net = mlp([128] * 13, init=init)
    x = batch((256, 128))
    report = _assert_finding("vanishing_activations", net, x, expect, init=init)
    _assert_finding("vanishing_gradients", net, x, expect, init=init)
    if expect:
        message = next(f.message for f in report.findings if f.kind == "vanishing_activations")
        assert "shrink by 0.7" in message and "from layer 2 on" in message
        assert "consistent with Xavier() under ReLU" in message
        assert "He (fan-in) init" in message and "near 1.0" in message
        assert "lsuv_init" in message
    else:
        trend = next(f for f in report.findings if f.kind == "activation_trend")
        assert trend.severity == "info" and "consistent with MSRAPrelu" in trend.message


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_exploding_activations_and_gradients(expect):
    init = mx.init.Xavier("gaussian", "in", 6.0 if expect else 2.0)
    net = mlp([128] * 13, init=init)
    x = batch((256, 128))
    _assert_finding("exploding_activations", net, x, expect)
    _assert_finding("exploding_gradients", net, x, expect)


def test_standard_tanh_init_vanishes_and_xavier_does_not():
    n = 256
    std, xav = mx.init.Uniform(1 / math.sqrt(n)), mx.init.Xavier()
    x = batch((256, n))
    bad = quiet_report(mlp([n] * 7, act="tanh", init=std), x, init=std)
    good = quiet_report(mlp([n] * 7, act="tanh", init=xav), x, init=xav)
    assert {"vanishing_activations", "vanishing_gradients"} <= bad.kinds()
    assert not {"vanishing_activations", "vanishing_gradients"} & good.kinds()
    message = next(f.message for f in bad.findings if f.kind == "vanishing_activations")
    assert "consistent with Uniform(scale=0.0625) under tanh" in message
    assert "Xavier('gaussian', 'in', 1)" in message
    # Xavier's scale is right; tanh's curvature alone shrinks the signal: no other init suggested
    assert not any("would keep them" in f.message for f in good.findings)


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_nonfinite_finding(expect):
    net = mlp([8, 16, 4])
    if expect:
        w = net[0].weight.data().asnumpy()
        w[3, 2] = np.nan
        net[0].weight.set_data(w)
    report = _assert_finding("nonfinite", net, batch((16, 8)), expect)
    if expect:
        message = report.findings[0].message
        assert "first in layer 1 (0) weights (1 NaN" in message
        assert report[0].act.nan > 0


def test_nonfinite_input_is_found():
    x = batch((16, 8)).asnumpy()
    x[0, 0] = np.inf
    report = quiet_report(mlp([8, 4]), mx.nd.array(x))
    assert "first in the input batch" in report.findings[0].message


@pytest.mark.parametrize("expect", [True, False], ids=["triggered", "not-triggered"])
def test_replica_divergence_finding(expect, ctx_list):
    net = mlp([8, 16, 4], ctx=ctx_list)
    if expect:
        replica = net[1].weight.list_data()[1]
        replica._data[0, 0] += 1.0
    report = _assert_finding("replica_divergence", net, batch((16, 8), ctx=ctx_list[0]), expect)
    if expect:
        message = next(f.message for f in report.findings if f.kind == "replica_divergence")
        assert "'1.weight'" in message and str(ctx_list[1]) in message
        assert "in 1 elements" in message


def test_warnings_can_be_switched_off():
    with warnings.catch_warnings():
        warnings.simplefilter("error", InitWarning)
        report = init_report(mlp([8, 8], init=mx.init.Zero()), batch((4, 8)), warn=False)
    assert "symmetry" in report.kinds()


def test_thresholds_decide():
    net = mlp([16, 32])
    net[0].bias.set_data(np.linspace(0.0, -6.0, 32).astype(np.float32))
    x = batch((64, 16))
    dead = quiet_report(net, x)[0].dead
    assert 0 < dead < 1
    assert "dead_relu" in quiet_report(net, x, thresholds=Thresholds(dead_fraction=dead)).kinds()
    assert (
        "dead_relu"
        not in quiet_report(
            net, x, thresholds=Thresholds(dead_fraction=min(1.0, dead + 0.01))
        ).kinds()
    )


# --------------------------------------------------------------------------- state
def _snapshot(net):
    state = {}
    for name, p in net._collect_params_with_prefix().items():
        reps = [(r._data.copy(), r._version) for r in p._replicas.values()]
        grads = [(g._data.copy(), g._version) for g in p._grads.values()]
        state[name] = (p.grad_req, reps, grads, [r._grad is not None for r in p._replicas.values()])
    return state


def _assert_same(before, after):
    assert before.keys() == after.keys()
    for name in before:
        req0, reps0, grads0, att0 = before[name]
        req1, reps1, grads1, att1 = after[name]
        assert req0 == req1, name
        assert att0 == att1, name
        assert len(reps0) == len(reps1) and len(grads0) == len(grads1), name
        for (a, va), (b, vb) in zip(reps0 + grads0, reps1 + grads1):
            assert va == vb, name
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_net_is_left_exactly_as_it_was(ctx_list):
    net = nn.Sequential()
    net.add(
        nn.Dense(16, in_units=8),
        nn.BatchNorm(in_channels=16),
        nn.Activation("relu"),
        nn.Dropout(0.5),
        nn.Dense(16, activation="tanh", in_units=16),
        nn.Dense(4, in_units=16),
    )
    net.initialize(mx.init.Xavier(), ctx=ctx_list)
    x = batch((32, 8), ctx=ctx_list[0])
    # a gradient buffer with content, an 'add' parameter and a frozen one
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    net[4].weight.grad_req = "add"
    net[5].weight.grad_req = "null"
    x_version = x.version
    before = _snapshot(net)
    report = quiet_report(net, x, train_mode=True)
    _assert_same(before, _snapshot(net))
    assert x.grad is None and x.version == x_version
    assert len(report) == 3
    assert report[0].activation == "relu" and report[0].dead is not None
    assert report[0].predicted_act_ratio is None  # BatchNorm after the layer: not modelled
    assert math.isnan(report.predicted("act")[0])
    assert "BatchNorm" in report[0].note
    assert report[1].activation == "tanh"
    assert report[2].weight_grad is None  # grad_req='null'


def test_report_twice_gives_the_same_numbers():
    net = mlp([16, 32, 8])
    x = batch((32, 16))
    a, b = quiet_report(net, x), quiet_report(net, x)
    np.testing.assert_array_equal(a.ratios("grad"), b.ratios("grad"))
    np.testing.assert_array_equal(a.ratios("weight_grad"), b.ratios("weight_grad"))


def test_deferred_net_is_initialized_by_the_report():
    net = nn.Sequential()
    net.add(nn.Dense(32, activation="relu"), nn.Dense(8))
    net.initialize(mx.init.Xavier())
    report = quiet_report(net, batch((16, 12)))
    assert report[0].fan_in == 12 and net[0].weight.shape == (32, 12)


def test_runs_on_every_context(ctx):
    net = mlp([8, 16, 4], ctx=ctx)
    report = quiet_report(net, batch((16, 8), ctx=ctx))
    assert report.context == str(ctx)
    assert np.isfinite(report.ratios("act")).all()


def test_ctx_picks_the_replica():
    net = mlp([8, 16, 4], ctx=[mx.cpu(0), mx.cpu(1)])
    report = quiet_report(net, batch((16, 8), ctx=mx.cpu(0)), ctx=mx.cpu(1))
    assert report.context == "cpu(1)"


def test_conv_and_separate_activation_blocks():
    net = nn.Sequential()
    net.add(
        nn.Conv2D(8, 3, in_channels=3),
        nn.LeakyReLU(0.1),
        nn.Flatten(),
        nn.Dense(10, in_units=8 * 6 * 6),
    )
    init = mx.init.Xavier("gaussian", "in", 2)
    net.initialize(init)
    report = quiet_report(net, batch((16, 3, 8, 8)), init=init)
    assert [layer.block for layer in report.layers] == ["Conv2D", "Dense"]
    assert report[0].activation == "leaky(0.1)" and report[0].fan_in == 27
    assert report[0].fan_out == 72
    assert report[0].weight_ms_source == "theory"
    assert report[0].predicted_act_ratio == pytest.approx(math.sqrt(2 * (1 + 0.01) / 2))


# --------------------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    net = mlp([8, 4])
    x = batch((4, 8))
    with pytest.raises(TypeError, match=r"net must be a paramlab\.gluon\.Block; got list"):
        init_report([], x)
    with pytest.raises(TypeError, match="batch must be an NDArray or a NumPy array; got list"):
        init_report(net, [[1.0] * 8])
    with pytest.raises(ValueError, match="at least one example"):
        init_report(net, mx.nd.zeros((0, 8)))
    with pytest.raises(TypeError, match="loss_fn must be a callable"):
        init_report(net, x, loss_fn=3)
    with pytest.raises(TypeError, match="loss_fn must return an NDArray; got float"):
        init_report(net, x, loss_fn=lambda out: 1.0)
    with pytest.raises(ValueError, match="bins must be an integer >= 2; got 1"):
        init_report(net, x, bins=1)
    with pytest.raises(TypeError, match="init must be an Initializer"):
        init_report(net, x, init=3.5)
    with pytest.raises(ValueError, match="no layer with a weight"):
        init_report(nn.Activation("relu"), x)
    with pytest.raises(ValueError, match="Thresholds: dead_fraction must be a positive"):
        Thresholds(dead_fraction=-1)
    with pytest.raises(ValueError, match=r"lives on \[cpu\(0\)\], not on cpu\(1\)"):
        init_report(net, x, ctx=mx.cpu(1))
    fresh = nn.Dense(4, in_units=8)
    with pytest.raises(ValueError, match=r"is not initialized; call net\.initialize"):
        init_report(fresh, x)


def test_numpy_batch_is_accepted():
    net = mlp([8, 4])
    report = quiet_report(net, np.ones((4, 8), dtype=np.float32))
    assert report.batch_shape == (4, 8)


# --------------------------------------------------------------------------- text and payload
def test_str_is_a_readable_table():
    net = mlp([32] * 5)
    report = quiet_report(net, batch((64, 32)), init=mx.init.Xavier())
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("init_report: Sequential, 4 layers, batch (64, 32) on cpu(0)")
    header = next(line for line in lines if line.lstrip().startswith("#"))
    for title in ("layer", "act rms", "ratio", "theory", "grad rms", "dead%", "dW rms"):
        assert title in header
    rows = [line for line in lines if line[:3].strip().isdigit()]
    assert len(rows) == 4
    assert all(len(line) <= 120 for line in rows + [header])
    assert "relu" in rows[0] and "0.707" in rows[1]
    assert "findings:" in text
    for f in report.findings:
        assert f.message in text
    assert repr(report).startswith("<InitReport Sequential: 4 layers")


def test_payload_is_small_and_jsonable():
    net = mlp([32] * 4, act="tanh")
    report = quiet_report(net, batch((64, 32)), bins=16)
    payload = report.to_payload()
    L = 3
    for key in (
        "act_rms",
        "act_std",
        "act_rms_theory",
        "act_ratio",
        "act_ratio_theory",
        "grad_rms",
        "grad_rms_theory",
        "grad_ratio",
        "grad_ratio_theory",
        "weight_grad_rms",
        "near_zero",
        "saturated",
        "dead",
    ):
        assert payload[key].shape == (L,) and payload[key].dtype == np.float64, key
    for key in ("act_hist", "grad_hist"):
        assert payload[key]["edges"].shape == (L, 17)
        assert payload[key]["counts"].shape == (L, 16)
        assert payload[key]["counts"].dtype == np.uint32
    np.testing.assert_allclose(payload["act_rms"], [layer.act_rms for layer in report.layers])
    assert np.isnan(payload["dead"]).all()  # tanh: no dead units
    plain = {k: v for k, v in payload.items() if not isinstance(v, (np.ndarray, dict))}
    json.dumps(plain)
    json.dumps(payload["summary"])
    assert payload["layers"][0]["activation"] == "tanh"
    # the theoretical line starts from the input and follows the prediction
    assert payload["act_rms_theory"][0] == pytest.approx(
        report.input.l2 / math.sqrt(report.input.count) * report[0].predicted_act_ratio
    )
    assert isinstance(report, InitReport)


def test_report_names_the_initializer_that_drew_the_weights():
    net = nn.Sequential()
    net.add(nn.Dense(16, activation="relu", in_units=8), nn.Dense(4, in_units=16))
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.normal(shape=(32, 8))
    report = init_report(net, x, warn=False)
    assert all(layer.init.startswith("Xavier") for layer in report.layers)
    net[0].weight.data()[:] *= 2  # written since: its values are no longer Xavier's
    report = init_report(net, x, warn=False)
    assert report.layers[0].init == "measured weights"
    assert report.layers[1].init.startswith("Xavier")
