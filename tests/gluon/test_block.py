"""Blocks, naming, collect_params, deferred init and sharing, as teaching notebooks use them."""

from __future__ import annotations

import json

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd, gluon, init, nd
from paramlab.gluon import nn
from paramlab.gluon.block import name_counter_reset


@pytest.fixture(autouse=True)
def _fresh_names():
    name_counter_reset()


class MLP(nn.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = nn.Dense(256, activation="relu")
        self.output = nn.Dense(10)

    def forward(self, x):
        return self.output(self.hidden(x))


class MySequential(nn.Block):
    def add(self, block):
        self._children[block.name] = block  # d2l C5 uses the private dict

    def forward(self, x):
        for block in self._children.values():
            x = block(x)
        return x


class FancyMLP(nn.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rand_weight = self.params.get_constant(
            "rand_weight", nd.random.uniform(shape=(20, 20))
        )
        self.dense = nn.Dense(20, activation="relu")

    def forward(self, x):
        x = self.dense(x)
        x = nd.relu(nd.dot(x, self.rand_weight.data()) + 1)
        x = self.dense(x)
        while x.norm().asscalar() > 1:
            x /= 2
        return x.sum()


class MyDense(nn.Block):
    def __init__(self, units, in_units, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=(in_units, units))
        self.bias = self.params.get("bias", shape=(units,))

    def forward(self, x):
        return nd.relu(nd.dot(x, self.weight.data()) + self.bias.data())


# ----------------------------------------------------------------------------- C: building
def test_sequential_add_index_len_and_nested():
    net = nn.Sequential()
    inner = nn.Sequential()
    inner.add(nn.Dense(4), nn.Dense(3))
    net.add(nn.Dense(8), inner)
    assert len(net) == 2 and net[1][0] is inner[0]
    assert isinstance(net[0:1], nn.Sequential) and len(net[0:1]) == 1
    with pytest.raises(IndexError, match="out of range"):
        net[5]


def test_custom_block_registers_children_and_runs():
    net = MLP()
    net.initialize()
    out = net(nd.random.uniform(shape=(2, 20)))
    assert out.shape == (2, 10)
    assert list(net._children) == ["hidden", "output"]


def test_private_children_dict_works_like_d2l():
    net = MySequential()
    net.add(nn.Dense(256, activation="relu"))
    net.add(nn.Dense(10))
    net.initialize()
    assert net(nd.random.uniform(shape=(2, 20))).shape == (2, 10)
    assert len(net.collect_params()) == 4


def test_names_follow_per_class_counters():
    a, b = nn.Dense(3), nn.Dense(3)
    seq = nn.Sequential()
    assert (a.name, b.name, a.prefix, seq.prefix) == ("dense0", "dense1", "dense0_", "sequential0_")
    assert a.weight.name == "dense0_weight"

    class MyModel(nn.Block):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.dense = nn.Dense(3)

    m = MyModel()
    assert m.prefix == "mymodel0_" and m.dense.weight.name == "mymodel0_dense0_weight"


# ----------------------------------------------------------------------------- D: access
def test_parameter_access_by_attribute_and_dict():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation="relu"), nn.Dense(1))
    net.initialize()
    net(nd.random.uniform(shape=(2, 4)))
    assert type(net[1].bias) is gluon.Parameter
    assert list(net[1].params.keys()) == ["dense1_weight", "dense1_bias"]
    assert "Parameter dense1_weight (shape=(1, 8), dtype=float32)" in repr(net[1].params)
    params = net.collect_params()
    assert params["dense1_bias"] is net[1].bias
    assert params["1.bias"] is net[1].bias  # structural alias
    assert (net[0].weight.grad().asnumpy() == 0).all()
    assert net[0].weight.data().shape == (8, 4)


def test_collect_params_regex_match():
    net = nn.Sequential()
    net.add(nn.Dense(8), nn.Dense(1))
    assert list(net.collect_params(".*weight").keys()) == ["dense0_weight", "dense1_weight"]
    assert list(net.collect_params("dense0.*").keys()) == ["dense0_weight", "dense0_bias"]


def test_attribute_assigned_parameters_and_constants_are_collected():
    class WithAttrs(nn.Block):
        def __init__(self):
            super().__init__()
            self.scale = gluon.Parameter("scale", shape=(1,))
            self.offset = gluon.Constant("offset", [2.0])

        def forward(self, x):
            return x * self.scale.data() + self.offset.data()

    b = WithAttrs()
    assert set(b.collect_params().keys()) == {"scale", "offset"}
    b.initialize(init=init.One())
    assert b(nd.ones((2,))).asnumpy().tolist() == [3.0, 3.0]


# ----------------------------------------------------------------------------- E: initialization
def test_default_initialize_is_uniform_weights_zero_bias():
    net = nn.Dense(256, in_units=100)
    net.initialize()
    w = net.weight.data().asnumpy()
    assert np.abs(w).max() <= 0.07 and w.std() > 0.03
    assert (net.bias.data().asnumpy() == 0).all()


def test_global_constant_init_keeps_bias_zero_and_per_layer_init():
    net = nn.Sequential()
    net.add(nn.Dense(4, in_units=3), nn.Dense(2, in_units=4))
    net.initialize(init=init.Constant(1))
    assert (net[0].weight.data().asnumpy() == 1).all()
    assert (net[0].bias.data().asnumpy() == 0).all()
    net[1].initialize(init=init.Constant(42), force_reinit=True)
    assert (net[1].weight.data().asnumpy() == 42).all()
    net[0].weight.initialize(init=init.Xavier(), force_reinit=True)
    bound = np.sqrt(6 / 7)
    assert np.abs(net[0].weight.data().asnumpy()).max() <= bound


def test_second_initialize_warns():
    net = nn.Dense(2, in_units=2)
    net.initialize()
    with pytest.warns(UserWarning, match="already initialized, ignoring"):
        net.initialize()


def test_custom_initializer_called_once_per_weight_not_for_biases():
    calls = []

    @init.register
    class BlockTestInit(init.Initializer):
        def _init_weight(self, name, data):
            calls.append(name)
            data[:] = nd.random.uniform(low=-10, high=10, shape=data.shape)
            data *= data.abs() >= 5

    net = nn.Sequential()
    net.add(nn.Dense(8), nn.Dense(2))
    net.initialize(init="blocktestinit")
    net(nd.ones((1, 4)))
    net(nd.ones((1, 4)))
    assert calls == ["dense0_weight", "dense1_weight"]
    w = net[0].weight.data().asnumpy()
    assert ((np.abs(w) >= 5) | (w == 0)).all()
    assert (net[0].bias.data().asnumpy() == 0).all()


def test_own_initializers_take_precedence():
    net = nn.Dense(3, in_units=2, weight_initializer=init.One(), bias_initializer="ones")
    net.initialize(init=init.Zero())
    assert (net.weight.data().asnumpy() == 1).all() and (net.bias.data().asnumpy() == 1).all()


def test_custom_bias_without_init_gets_the_global_weight_init():
    class WithBias(nn.Block):
        def __init__(self):
            super().__init__()
            self.bias = self.params.get("bias", shape=(1000,))

    b = WithBias()
    b.initialize()
    assert b.bias.data().asnumpy().std() > 0.01  # quirk E10
    with pytest.raises(ValueError, match="vector"):
        b.initialize(init=init.Xavier(), force_reinit=True)


# ----------------------------------------------------------------------------- F: deferred
def test_deferred_initialization_through_first_forward():
    net = nn.Sequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(10))
    assert net[0].weight.shape == (256, 0)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        net[0].weight.data()
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    with pytest.raises(gluon.DeferredInitializationError):
        net[0].weight.data()
    net(nd.random.uniform(shape=(2, 20), ctx=mx.cpu(1)))
    assert net[0].weight.shape == (256, 20) and net[1].weight.shape == (10, 256)
    assert net[0].weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]  # every deferred context


def test_np_mode_reports_unknown_dims_as_minus_one():
    mx.npx.set_np()
    net = nn.Dense(8)
    assert net.weight.shape == (8, -1)
    net.initialize()
    out = net(mx.np.ones((2, 3)))
    assert isinstance(out, mx.np.ndarray) and net.weight.shape == (8, 3)


def test_uninitialized_block_says_how_to_initialize():
    net = nn.Dense(2, in_units=3)
    with pytest.raises(RuntimeError, match=r"\.initialize\(\)"):
        net(nd.ones((1, 3)))


def test_shape_mismatch_names_block_and_shapes_and_changes_nothing():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    before = net.weight.data().asnumpy().copy()
    with pytest.raises(ValueError, match=r"dense0.*3 features.*\(1, 4\)"):
        net(nd.ones((1, 4)))
    np.testing.assert_array_equal(net.weight.data().asnumpy(), before)


# ----------------------------------------------------------------------------- G: custom params
def test_params_get_returns_same_object_and_custom_dense_runs():
    layer = MyDense(units=3, in_units=5)
    assert layer.params.get("weight") is layer.weight
    assert layer.weight.name == "mydense0_weight"
    layer.initialize()
    assert layer(nd.random.uniform(shape=(2, 5))).shape == (2, 3)


def test_fancy_mlp_constant_is_listed_and_never_trained():
    net = FancyMLP()
    net.initialize()
    assert "fancymlp0_rand_weight" in net.collect_params()
    c = net.collect_params()["fancymlp0_rand_weight"]
    assert isinstance(c, gluon.Constant) and c.grad_req == "null"
    x = nd.random.uniform(shape=(2, 20))
    with autograd.record():
        y = net(x)
    y.backward()
    g = net.dense.weight.grad()
    assert g.shape == (20, 20)


def test_standalone_parameter_dict():
    params = gluon.ParameterDict()
    params.get("param2", shape=(2, 3))
    assert "Parameter param2 (shape=(2, 3)" in repr(params)


# ----------------------------------------------------------------------------- H: sharing
def test_shared_parameters_by_params_argument():
    shared = nn.Dense(8, activation="relu")
    net = nn.Sequential()
    net.add(
        nn.Dense(8, activation="relu"),
        shared,
        nn.Dense(8, activation="relu", params=shared.params),
        nn.Dense(10),
    )
    net.initialize()
    net(nd.random.uniform(shape=(2, 20)))
    assert net[1].weight is net[2].weight
    net[1].weight.data()[0, 0] = 100
    assert net[2].weight.data()[0, 0].asscalar() == 100
    assert list(net.collect_params().keys()) == [
        "dense1_weight",
        "dense1_bias",
        "dense0_weight",
        "dense0_bias",
        "dense3_weight",
        "dense3_bias",
    ]


def test_shared_gradient_is_the_sum_of_uses():
    layer = nn.Dense(1, in_units=1, use_bias=False, weight_initializer=init.One())
    layer.initialize()
    x = nd.array([[2.0]])
    with autograd.record():
        y = layer(layer(x))  # w * (w * x)
    y.backward()
    assert layer.weight.grad().asscalar() == pytest.approx(4.0)  # d/dw w^2 x = 2 w x


def test_share_parameters_2_0_style():
    a, b = nn.Dense(3, in_units=2), nn.Dense(3, in_units=2)
    b.share_parameters(a.collect_params())
    assert b.weight is a.weight
    with pytest.raises(KeyError, match="no parameters named"):
        b.share_parameters({"nope": a.weight})


# ----------------------------------------------------------------------------- hooks, apply, cast
def test_forward_hooks_detach():
    net = nn.Dense(2, in_units=2)
    net.initialize()
    seen = []
    h1 = net.register_forward_pre_hook(lambda blk, args: seen.append("pre"))
    h2 = net.register_forward_hook(lambda blk, args, out: seen.append(out.shape))
    net(nd.ones((1, 2)))
    h1.detach()
    h2.detach()
    net(nd.ones((1, 2)))
    assert seen == ["pre", (1, 2)]


def test_apply_visits_children_then_self_and_cast():
    net = nn.Sequential()
    net.add(nn.Dense(2, in_units=2), nn.Dense(2, in_units=2))
    names = []
    net.apply(lambda b: names.append(b.name))
    assert names == ["dense0", "dense1", "sequential0"]
    net.initialize()
    net.cast("float64")
    assert net[0].weight.data().dtype == np.float64
    assert net(nd.ones((1, 2), dtype="float64")).dtype == np.float64


def test_block_level_zero_grad_setattr_and_summary(capsys):
    net = nn.Sequential()
    net.add(nn.Dense(4, in_units=3), nn.Dense(2, in_units=4))
    net.initialize()
    net.setattr("grad_req", "add")
    with autograd.record():
        y = net(nd.ones((1, 3))).sum()
    y.backward()
    net.zero_grad()
    assert all((p.grad().asnumpy() == 0).all() for p in net.collect_params().values())
    net.summary(nd.ones((1, 3)))
    out = capsys.readouterr().out
    assert "Dense-1" in out and "Total params: 26" in out


def test_hybrid_forward_with_F_nd():
    class Scale(nn.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.s = self.params.get("s", shape=(1,), init=init.Constant(3))

        def hybrid_forward(self, F, x, s):
            return F.broadcast_mul(x, s)

    blk = Scale()
    blk.initialize()
    blk.hybridize(static_alloc=True)
    assert blk(nd.ones((2,))).asnumpy().tolist() == [3.0, 3.0]


def test_repr_matches_mxnet_layout():
    net = nn.Sequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(10))
    assert repr(net) == (
        "Sequential(\n  (0): Dense(None -> 256, Activation(relu))\n"
        "  (1): Dense(None -> 10, linear)\n)"
    )


# ----------------------------------------------------------------------------- layers
@pytest.mark.parametrize(
    "layer,shape",
    [
        (lambda: nn.Conv2D(4, 3, padding=1), (2, 3, 8, 8)),
        (lambda: nn.MaxPool2D(), (2, 3, 8, 8)),
        (lambda: nn.AvgPool2D(), (2, 3, 8, 8)),
        (lambda: nn.GlobalAvgPool2D(), (2, 3, 8, 8)),
        (lambda: nn.BatchNorm(), (2, 3, 4, 4)),
        (lambda: nn.LayerNorm(), (2, 5)),
        (lambda: nn.Dropout(0.5), (2, 5)),
        (lambda: nn.Flatten(), (2, 3, 4)),
        (lambda: nn.Embedding(10, 4), (2, 3)),
        (lambda: nn.LeakyReLU(0.1), (2, 5)),
        (lambda: nn.PReLU(), (2, 5)),
        (lambda: nn.ELU(), (2, 5)),
        (lambda: nn.SELU(), (2, 5)),
        (lambda: nn.GELU(), (2, 5)),
        (lambda: nn.Activation("tanh"), (2, 5)),
        (lambda: nn.Lambda("relu"), (2, 5)),
        (lambda: nn.HybridLambda(lambda F, x: F.relu(x)), (2, 5)),
    ],
)
def test_every_layer_runs_forward_and_backward_on_two_contexts(layer, shape, ctx_list):
    blk = layer()
    blk.initialize(ctx=ctx_list)
    for c in ctx_list:
        x = (
            nd.random.uniform(high=5, shape=shape, ctx=c).floor()
            if isinstance(blk, nn.Embedding)
            else nd.random.normal(shape=shape, ctx=c)
        )
        x.attach_grad()
        with autograd.record():
            y = blk(x)
        y.backward()
        assert y.context == c


def test_batchnorm_updates_running_stats_per_context_in_training_forward():
    bn = nn.BatchNorm(in_channels=2)
    bn.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    x = nd.array(np.arange(16, dtype=np.float32).reshape(4, 2, 2, 1), ctx=mx.cpu(1))
    bn(x)  # inference: no update
    assert (bn.running_mean.data(mx.cpu(1)).asnumpy() == 0).all()
    with autograd.record():
        bn(x)
    batch_mean = x.asnumpy().mean(axis=(0, 2, 3))
    np.testing.assert_allclose(
        bn.running_mean.data(mx.cpu(1)).asnumpy(), 0.1 * batch_mean, rtol=1e-5
    )
    assert (bn.running_mean.data(mx.cpu(0)).asnumpy() == 0).all()


# ----------------------------------------------------------------------------- losses, utils, data
def test_losses_match_numpy():
    pred = nd.array([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]])
    label = nd.array([2, 0])
    logp = pred.asnumpy() - np.log(np.exp(pred.asnumpy()).sum(1, keepdims=True))
    ce = gluon.loss.SoftmaxCrossEntropyLoss()(pred, label).asnumpy()
    np.testing.assert_allclose(ce, [-logp[0, 2], -logp[1, 0]], rtol=1e-6)
    l2 = gluon.loss.L2Loss()(pred, nd.zeros((2, 3))).asnumpy()
    np.testing.assert_allclose(l2, (pred.asnumpy() ** 2).mean(1) / 2, rtol=1e-6)
    l1 = gluon.loss.L1Loss()(pred, nd.zeros((2, 3))).asnumpy()
    np.testing.assert_allclose(l1, np.abs(pred.asnumpy()).mean(1), rtol=1e-6)
    z = nd.array([[0.3, -2.0]])
    y = nd.array([[1.0, 0.0]])
    mask = nd.array([[1.0, 0.0]])
    bce = gluon.loss.SigmoidBCELoss()(z, y, mask).asnumpy()
    p = 1 / (1 + np.exp(-0.3))
    np.testing.assert_allclose(bce, [-np.log(p) / 2], rtol=1e-5)


def test_softmax_ce_bad_label_shape_is_clear():
    with pytest.raises(ValueError, match="sparse labels must have shape"):
        gluon.loss.SoftmaxCrossEntropyLoss()(nd.ones((2, 3)), nd.ones((3,)))


def test_split_and_load_and_split_data():
    x = nd.arange(12).reshape(6, 2)
    parts = gluon.utils.split_and_load(x, [mx.cpu(0), mx.cpu(1)])
    assert [p.context for p in parts] == [mx.cpu(0), mx.cpu(1)]
    np.testing.assert_array_equal(parts[1].asnumpy(), x.asnumpy()[3:])
    with pytest.raises(ValueError, match="cannot be evenly split"):
        gluon.utils.split_data(nd.ones((5, 2)), 2)
    uneven = gluon.utils.split_data(nd.ones((5, 2)), 2, even_split=False)
    assert [u.shape[0] for u in uneven] == [2, 3]


def test_clip_global_norm():
    a, b = nd.array([3.0, 0.0]), nd.array([0.0, 4.0])
    norm = gluon.utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)
    assert np.sqrt((a.asnumpy() ** 2).sum() + (b.asnumpy() ** 2).sum()) == pytest.approx(
        1.0, rel=1e-6
    )


def test_dataloader_batches_shuffle_and_last_batch():
    X = nd.arange(20).reshape(10, 2)
    y = nd.arange(10)
    ds = gluon.data.ArrayDataset(X, y)
    batches = list(gluon.data.DataLoader(ds, batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert len(gluon.data.DataLoader(ds, batch_size=4, last_batch="discard")) == 2
    mx.random.seed(1)
    seen = np.concatenate([b[1].asnumpy() for b in gluon.data.DataLoader(ds, 3, shuffle=True)])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    with pytest.raises(ValueError, match="same length"):
        gluon.data.ArrayDataset(X, nd.arange(3))


# ----------------------------------------------------------------------------- reference MXNet
@pytest.mark.mxnet_ref
def test_names_shapes_and_forward_match_mxnet(mxnet_ref):
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    ref = mxnet_ref(f"""
        import json, numpy as np, mxnet as mx
        from mxnet.gluon import nn
        net = nn.Sequential()
        net.add(nn.Dense(4, activation='relu'), nn.Dense(2))
        net.initialize(mx.init.Constant(0.1))
        x = mx.nd.array({x.tolist()})
        out = net(x)
        print(json.dumps({{"names": list(net.collect_params().keys()),
                           "shapes": [list(p.shape) for p in net.collect_params().values()],
                           "structural": list(net._collect_params_with_prefix().keys()),
                           "out": out.asnumpy().tolist()}}))
    """)
    net = nn.Sequential()
    net.add(nn.Dense(4, activation="relu"), nn.Dense(2))
    net.initialize(init.Constant(0.1))
    out = net(nd.array(x))
    params = net.collect_params()
    assert list(params.keys()) == ref["names"]
    assert [list(p.shape) for p in params.values()] == ref["shapes"]
    assert list(net._collect_params_with_prefix().keys()) == ref["structural"]
    np.testing.assert_allclose(out.asnumpy(), ref["out"], rtol=1e-6)
    json.dumps(ref)
