"""Tests for paramlab.diagnostics.lsuv_init (Mishkin & Matas 2015)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab import summary
from paramlab.diagnostics import InitWarning, LSUVStep, init_report, lsuv_init

nn = mx.gluon.nn


def relu_mlp(depth, width, init, ctx=None, in_units=None):
    net = nn.Sequential()
    for i in range(depth):
        net.add(nn.Dense(width, activation="relu", in_units=in_units if i == 0 else width))
    net.initialize(init, ctx=ctx)
    return net


def batch(shape, seed=0, ctx=None):
    rng = np.random.default_rng(seed)
    return mx.nd.array(rng.standard_normal(shape).astype(np.float32), ctx=ctx)


def preactivation_variances(net, x):
    """Variance of every Dense layer's output before its activation, recomputed in NumPy."""
    h = x.asnumpy().astype(np.float64)
    out = []
    for layer in net:
        w = layer.weight.data(x.context).asnumpy().astype(np.float64)
        b = layer.bias.data(x.context).asnumpy().astype(np.float64)
        z = h.reshape(h.shape[0], -1) @ w.T + b
        out.append(z.var())
        h = np.maximum(z, 0) if layer.act is not None else z
    return np.array(out)


def test_every_layer_reaches_unit_variance():
    net = relu_mlp(6, 64, mx.init.Normal(0.01), in_units=32)
    x = batch((256, 32))
    steps = lsuv_init(net, x, tol=0.05)
    assert len(steps) == 6 and all(isinstance(s, LSUVStep) for s in steps)
    assert all(s.converged and abs(s.variance - 1) <= 0.05 for s in steps)
    assert steps[0].name == "0" and steps[-1].index == 6
    np.testing.assert_allclose(preactivation_variances(net, x), 1.0, atol=0.05)


def test_replicas_stay_identical(ctx_list):
    net = relu_mlp(4, 32, mx.init.Xavier(), ctx=ctx_list, in_units=16)
    before = net[2].weight.data(ctx_list[0]).asnumpy()
    lsuv_init(net, batch((128, 16), ctx=ctx_list[0]))
    for p in net.collect_params().values():
        reps = p.list_data()
        other = mx.nd.array(reps[1].asnumpy(), ctx=reps[0].context)
        assert summary.divergence(reps[0], other).bitwise_equal, p.name
    assert not np.array_equal(before, net[2].weight.data(ctx_list[0]).asnumpy())
    np.testing.assert_allclose(
        preactivation_variances(net, batch((128, 16), ctx=ctx_list[1])), 1.0, atol=0.1
    )


@pytest.mark.parametrize("units, in_units", [(16, 48), (48, 16)], ids=["wide", "tall"])
def test_orthonormal_start(units, in_units):
    net = relu_mlp(1, units, mx.init.Xavier(), in_units=in_units)
    lsuv_init(net, batch((512, in_units)))
    w = net[0].weight.data().asnumpy().astype(np.float64)
    gram = w @ w.T if units <= in_units else w.T @ w
    np.testing.assert_allclose(gram / gram[0, 0], np.eye(min(units, in_units)), atol=1e-5)


def test_without_orthonormal_start_only_the_scale_changes():
    net = relu_mlp(2, 16, mx.init.Xavier(), in_units=16)
    w0 = net[1].weight.data().asnumpy()
    lsuv_init(net, batch((256, 16)), orthonormal=False)
    w1 = net[1].weight.data().asnumpy()
    ratio = w1 / w0
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-5)


def test_same_seed_same_weights():
    nets = []
    for _ in range(2):
        mx.random.seed(5)
        net = relu_mlp(3, 16, mx.init.Xavier(), in_units=8)
        lsuv_init(net, batch((64, 8)))
        nets.append(net)
    for a, b in zip(nets[0].collect_params().values(), nets[1].collect_params().values()):
        np.testing.assert_array_equal(a.data().asnumpy(), b.data().asnumpy())


def test_conv_net_and_running_statistics():
    net = nn.Sequential()
    net.add(
        nn.Conv2D(8, 3, in_channels=3, activation="relu"),
        nn.BatchNorm(in_channels=8),
        nn.Flatten(),
        nn.Dense(10, in_units=8 * 6 * 6),
    )
    net.initialize(mx.init.Xavier())
    running = net[1].running_mean.data().asnumpy().copy(), net[1].running_var.data().version
    steps = lsuv_init(net, batch((32, 3, 8, 8)))
    assert [s.name for s in steps] == ["0", "3"]
    assert all(s.converged for s in steps)
    np.testing.assert_array_equal(running[0], net[1].running_mean.data().asnumpy())
    assert net[1].running_var.data().version == running[1]


def test_report_suggests_it_and_it_fixes_vanishing_activations():
    net = relu_mlp(14, 128, mx.init.Xavier(), in_units=128)
    x = batch((256, 128))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        before = init_report(net, x)
        lsuv_init(net, x)
        after = init_report(net, x)
    assert "vanishing_activations" in before.kinds()
    assert "lsuv_init" in next(
        f.message for f in before.findings if f.kind == "vanishing_activations"
    )
    assert not {"vanishing_activations", "exploding_activations"} & after.kinds()


def test_deferred_shapes_are_completed():
    net = nn.Sequential()
    net.add(nn.Dense(16, activation="tanh"), nn.Dense(4))
    net.initialize()
    steps = lsuv_init(net, batch((64, 10)))
    assert net[0].weight.shape == (16, 10) and len(steps) == 2


def test_a_layer_that_cannot_reach_unit_variance_warns():
    net = relu_mlp(2, 8, mx.init.Xavier(), in_units=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = lsuv_init(net, mx.nd.zeros((16, 4)))
    messages = [str(w.message) for w in caught if issubclass(w.category, InitWarning)]
    assert len(messages) == 2 and "layer 1 (0) did not reach unit variance" in messages[0]
    assert not steps[0].converged and not steps[1].converged


def test_bad_arguments():
    net = relu_mlp(1, 4, mx.init.Xavier(), in_units=4)
    x = batch((8, 4))
    with pytest.raises(TypeError, match=r"net must be a paramlab\.gluon\.Block; got int"):
        lsuv_init(3, x)
    with pytest.raises(ValueError, match=r"tol must be a number in \(0, 1\); got 0"):
        lsuv_init(net, x, tol=0)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1; got 0"):
        lsuv_init(net, x, max_iter=0)
    with pytest.raises(ValueError, match="no layer with a weight"):
        lsuv_init(nn.Activation("relu"), x)
