"""The API surface that the MXNet edition of d2l.ai relies on, item by item.

Each test is named after its item in shared/d2l-api-checklist.md and runs the code the way
the book's notebooks do.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import paramlab as mx
from paramlab import autograd, gluon, init, nd
from paramlab.gluon import nn
from paramlab.gluon.block import name_counter_reset


@pytest.fixture(autouse=True)
def _fresh_names():
    name_counter_reset()


def run_as_mxnet(code):
    """Run ``code`` in a fresh interpreter where ``import mxnet`` is paramlab."""
    prog = "import paramlab.compat; paramlab.compat.install()\n" + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


# ----------------------------------------------------------------------------- A: modules
def test_A1_mxnet_modules_import():
    out = run_as_mxnet("""
        import mxnet as mx
        from mxnet import nd, init, gluon, autograd
        from mxnet.gluon import nn
        import mxnet.gluon.nn, mxnet.gluon.utils, mxnet.gluon.loss, mxnet.gluon.data
        print(nn.Dense, gluon.utils.split_and_load)
    """)
    assert "Dense" in out


def test_A2_np_npx_are_attributes_not_submodules():
    out = run_as_mxnet("""
        import importlib
        from mxnet import np, npx
        npx.set_np()
        print(np.ones((2,)).sum())
        try:
            importlib.import_module('mxnet.np')
            print('importable')
        except ImportError:
            print('not importable')
    """)
    assert "not importable" in out


def test_A3_v06_aliases():
    out = run_as_mxnet("""
        from mxnet.gluon import loss as gloss, nn, utils as gutils, data as gdata
        print(gloss.L2Loss, gutils.split_data, gdata.DataLoader)
    """)
    assert "L2Loss" in out


def test_A4_contexts():
    assert str(mx.cpu(1)) == "cpu(1)" and mx.cpu() == mx.cpu(0)
    assert mx.npx.cpu() == mx.cpu(0) and mx.npx.gpu(1) == mx.gpu(1)
    assert mx.npx.num_gpus() == mx.context.num_gpus() == mx.num_gpus()


def test_A5_try_gpu_falls_back_to_cpu():
    def try_gpu(i=0):
        return mx.gpu(i) if mx.npx.num_gpus() >= i + 1 else mx.cpu()

    def try_all_gpus():
        devices = [mx.gpu(i) for i in range(mx.npx.num_gpus())]
        return devices if devices else [mx.cpu()]

    assert try_gpu(5) == mx.cpu() and try_all_gpus()[0] in (mx.cpu(), mx.gpu(0))


# ----------------------------------------------------------------------------- B: arrays
def test_B1_nd_creation():
    assert nd.array([1, 2]).dtype == np.float32
    assert nd.random.uniform(shape=(2, 3)).shape == (2, 3)
    assert nd.random.uniform(-1, 1, (3,)).shape == (3,)
    assert nd.random.normal(scale=0.01, shape=(2,)).shape == (2,)
    assert nd.ones((2, 3), ctx=mx.cpu(1)).context == mx.cpu(1)
    assert nd.arange(4).asnumpy().tolist() == [0, 1, 2, 3]
    assert nd.zeros((2,)).sum().asscalar() == 0


def test_B2_np_creation_and_float32_quirk():
    mx.npx.set_np()
    assert mx.np.random.uniform(size=(2,)).shape == (2,)
    assert mx.np.random.uniform(-10, 10, (3,)).shape == (3,)
    assert mx.np.random.normal(scale=1, size=(2,)).shape == (2,)
    assert mx.np.ones((2, 3), ctx=mx.cpu(1)).ctx == mx.cpu(1)
    assert mx.np.arange(4).dtype == np.float32 and mx.np.array([1, 2, 3]).dtype == np.float32
    assert mx.np.zeros((2,)).shape == (2,)


def test_B3_context_moves():
    x = nd.ones((2,))
    y = x.copyto(mx.cpu(0))
    assert y is not x and x.as_in_context(mx.cpu(0)) is x
    assert x.as_in_context(mx.cpu(1)).context == mx.cpu(1)
    mx.npx.set_np()
    z = mx.np.ones((2,))
    assert z.as_in_ctx(mx.cpu(0)) is z and z.ctx == mx.cpu(0)


def test_B4_scalars_and_reductions():
    x = nd.array([[3.0, -4.0], [0.0, 1.0]])
    assert x.norm().asscalar() == pytest.approx(np.sqrt(26))
    assert float(x.sum()) == 0.0 and x.sum().item() == 0.0
    assert x.abs().mean().asscalar() == 2.0
    assert x.sum(axis=1).asnumpy().tolist() == [-1.0, 1.0]
    assert x.reshape((4,)).shape == (4,) and x.T.shape == (2, 2)
    assert nd.ones((1, 2, 3)).swapaxes(1, 2).shape == (1, 3, 2)
    mx.npx.set_np()
    assert mx.np.ones((2, 2)).mean().shape == ()


def test_B5_in_place_writes_reach_the_parameter():
    w = gluon.Parameter("w", shape=(3, 3), init=init.Uniform(10))
    w.initialize()
    w.data()[:] = 2
    w.data()[:] += 1
    w.data()[0, 0] = 42
    data = w.data()
    data *= data.abs() >= 5
    assert w.data()[0, 0].asscalar() == 42 and w.data()[1, 1].asscalar() == 0


def test_B6_attach_grad_record_backward():
    x = nd.arange(4).reshape((4, 1))
    x.attach_grad()
    with autograd.record():
        assert autograd.is_training()
        y = 2 * nd.dot(x.T, x)
    y.backward()
    assert (x.grad.asnumpy() == 4 * x.asnumpy()).all()


def test_B7_ops():
    a, b = nd.ones((2, 1, 4)), nd.ones((2, 4, 4))
    assert nd.batch_dot(a, b).shape == (2, 1, 4)
    assert nd.relu(nd.array([-1.0, 1.0])).asnumpy().tolist() == [0.0, 1.0]
    idx = nd.topk(nd.array([[1.0, 3.0, 2.0]]), k=2, ret_typ="indices")
    assert idx.dtype == np.float32 and idx.asnumpy().tolist() == [[1.0, 2.0]]
    nd.waitall()
    mx.npx.set_np()
    assert mx.npx.relu(mx.np.array([-1.0])).item() == 0.0
    assert mx.npx.sigmoid(mx.np.zeros((1,))).item() == 0.5
    assert mx.npx.batch_dot(mx.np.ones((2, 1, 4)), mx.np.ones((2, 4, 4))).shape == (2, 1, 4)
    assert mx.npx.topk(mx.np.array([1.0, 3.0]), k=1, ret_typ="indices").item() == 1
    mx.npx.waitall()


def test_B8_save_and_load(tmp_path):
    x = nd.arange(3)
    nd.save(str(tmp_path / "x"), x)
    assert isinstance(nd.load(str(tmp_path / "x")), list)
    nd.save(str(tmp_path / "xs"), [x, x])
    assert len(nd.load(str(tmp_path / "xs"))) == 2
    nd.save(str(tmp_path / "d"), {"x": x})
    assert list(nd.load(str(tmp_path / "d"))) == ["x"]
    mx.npx.set_np()
    mx.npx.save(str(tmp_path / "n"), mx.np.ones((2,)))
    assert isinstance(mx.npx.load(str(tmp_path / "n"))[0], mx.np.ndarray)


def test_B9_in_place_op_in_graph_raises_inside_record():
    x = nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with pytest.raises(mx.MXNetError, match="computational graph"):
            y /= 2
    y = x * 2
    y /= 2  # fine outside record


# ----------------------------------------------------------------------------- C: blocks
def test_C1_sequential():
    net = nn.Sequential()
    net.add(nn.Dense(4), nn.Sequential())
    net[1].add(nn.Dense(2))
    assert len(net) == 2 and isinstance(net[1][0], nn.Dense)


def test_C2_dense_signature():
    shared = nn.Dense(3)
    d = nn.Dense(
        3,
        activation="relu",
        in_units=5,
        use_bias=True,
        weight_initializer=None,
        bias_initializer="zeros",
        params=shared.params,
    )
    assert d.weight.shape == (3, 5) and d.weight is shared.weight


def test_C3_other_layers():
    layers = [
        nn.Conv2D(4, kernel_size=3, strides=1, padding=1, use_bias=True, in_channels=2),
        nn.BatchNorm(),
        nn.Activation("relu"),
        nn.Embedding(10, 4, sparse_grad=False),
    ]
    assert [type(layer).__name__ for layer in layers] == [
        "Conv2D",
        "BatchNorm",
        "Activation",
        "Embedding",
    ]


def test_C4_custom_block():
    class MLP(nn.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = nn.Dense(8, activation="relu")
            self.output = nn.Dense(2)

        def forward(self, x):
            return self.output(self.hidden(x))

    net = MLP()
    net.initialize()
    assert net(nd.ones((1, 3))).shape == (1, 2)


def test_C5_private_children():
    class MySequential(nn.Block):
        def add(self, block):
            self._children[block.name] = block

        def forward(self, x):
            for block in self._children.values():
                x = block(x)
            return x

    net = MySequential()
    net.add(nn.Dense(4))
    net.initialize()
    assert net(nd.ones((1, 2))).shape == (1, 4)


def test_C6_name_scope():
    class MyModel(nn.Block):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.dense = nn.Dense(2)

    assert MyModel().dense.weight.name == "mymodel0_dense0_weight"


def test_C7_auto_names():
    a, b = nn.Dense(1), nn.Dense(1)
    seq = nn.Sequential()

    class MyDense(nn.Block):
        pass

    assert (a.name, a.prefix, b.weight.name, seq.prefix, MyDense().prefix) == (
        "dense0",
        "dense0_",
        "dense1_weight",
        "sequential0_",
        "mydense0_",
    )


# ----------------------------------------------------------------------------- D: access
def _mlp():
    net = nn.Sequential()
    net.add(nn.Dense(8, activation="relu"), nn.Dense(1))
    net.initialize()
    net(nd.random.uniform(shape=(2, 4)))
    return net


def test_D1_params_of_one_layer():
    net = _mlp()
    assert list(net[1].params.keys()) == ["dense1_weight", "dense1_bias"]
    assert "Parameter dense1_weight (shape=(1, 8), dtype=float32)" in str(net[1].params)


def test_D2_parameter_type():
    assert type(_mlp()[1].bias) is gluon.Parameter


def test_D3_data_and_data_ctx():
    net = _mlp()
    assert net[0].weight.data().shape == (8, 4)
    assert net[0].weight.data(mx.cpu(0)).context == mx.cpu(0)


def test_D4_grad_zeros_before_backward():
    assert (_mlp()[0].weight.grad().asnumpy() == 0).all()


def test_D5_attributes():
    w = _mlp()[0].weight
    assert (w.name, w.shape, w.dtype, w.grad_req, w.lr_mult, w.wd_mult, w.init) == (
        "dense0_weight",
        (8, 4),
        "float32",
        "write",
        1.0,
        1.0,
        None,
    )


def test_D6_collect_params_deduplicated():
    net = nn.Sequential()
    d = nn.Dense(2, in_units=2)
    net.add(d, d)
    assert len(net.collect_params()) == 2


def test_D7_regex_selection():
    net = _mlp()
    assert list(net.collect_params(".*weight")) == ["dense0_weight", "dense1_weight"]
    assert list(net.collect_params("dense0.*")) == ["dense0_weight", "dense0_bias"]


def test_D8_dict_access():
    net = _mlp()
    params = net.collect_params()
    assert params["dense1_bias"] is net[1].bias
    assert next(iter(params.values())).list_ctx() == [mx.cpu(0)]
    assert len(list(params.items())) == 4


def test_D9_printing(capsys):
    net = _mlp()
    print(net.collect_params)
    print(net.collect_params())
    out = capsys.readouterr().out
    assert "collect_params" in out and "Parameter dense0_weight" in out


def test_D10_set_data():
    w = _mlp()[1].weight
    w.set_data(nd.ones((1, 8)))
    assert (w.data().asnumpy() == 1).all()


def test_D11_lists():
    w = _mlp()[0].weight
    assert len(w.list_ctx()) == len(w.list_data()) == len(w.list_grad()) == 1


def test_D12_data_grad_is_the_buffer_and_clipping():
    w = _mlp()[0].weight
    assert w.data().grad is w.grad()
    w.grad()[:] = 3
    theta, norm = 1.0, float(w.grad().norm().asscalar())
    w.grad()[:] *= theta / norm
    assert float(w.grad().norm().asscalar()) == pytest.approx(1.0, rel=1e-5)


def test_D13_zero_grad():
    net = _mlp()
    net[0].weight.grad()[:] = 1
    net[0].weight.zero_grad()
    net.collect_params().zero_grad()
    assert (net[0].weight.grad().asnumpy() == 0).all()


# ----------------------------------------------------------------------------- E: initialization
def _dense_net():
    net = nn.Sequential()
    net.add(nn.Dense(8, in_units=4), nn.Dense(1, in_units=8))
    return net


def test_E1_default_uniform_bias_zero():
    net = _dense_net()
    net.initialize()
    assert np.abs(net[0].weight.data().asnumpy()).max() <= 0.07
    assert (net[0].bias.data().asnumpy() == 0).all()


def test_E2_normal_force_reinit():
    net = _dense_net()
    net.initialize()
    net.initialize(init=init.Normal(sigma=0.01), force_reinit=True)
    assert net[0].weight.data().asnumpy().std() < 0.05


def test_E3_constant_keeps_bias_zero():
    net = _dense_net()
    net.initialize(init=init.Constant(1))
    assert (net[0].weight.data().asnumpy() == 1).all() and (net[0].bias.data().asnumpy() == 0).all()


def test_E4_per_layer_and_per_parameter():
    net = _dense_net()
    net.initialize()
    net[1].initialize(init=init.Constant(42), force_reinit=True)
    net[0].weight.initialize(init=init.Xavier(), force_reinit=True)
    assert (net[1].weight.data().asnumpy() == 42).all() and (
        net[1].bias.data().asnumpy() == 0
    ).all()


def test_E5_initializers_exist_with_xavier_bound():
    w = gluon.Parameter("w", shape=(100, 200), init=init.Xavier())
    w.initialize()
    assert np.abs(w.data().asnumpy()).max() <= np.sqrt(6 / 300)
    for i in (
        init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2),
        init.MSRAPrelu(),
        init.Orthogonal(),
        init.Zero(),
        init.One(),
        init.Uniform(0.1),
        init.Normal(0.1),
    ):
        assert isinstance(i, init.Initializer)


def test_E6_second_initialize_warns_and_keeps_values():
    net = _dense_net()
    net.initialize()
    before = net[0].weight.data().asnumpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.initialize()
    assert str(caught[0].message) == (
        "Parameter 'dense0_weight' is already initialized, "
        "ignoring. Set force_reinit=True to re-initialize."
    )
    assert len(caught) == 4 and all(w.category is UserWarning for w in caught)
    assert (net[0].weight.data().asnumpy() == before).all()


def test_E7_E8_custom_initializer_weights_only():
    calls = []

    class ChecklistInit(init.Initializer):
        def _init_weight(self, name, data):
            calls.append(name)
            data[:] = nd.random.uniform(-10, 10, data.shape)
            data *= data.abs() >= 5

        def _init_bias(self, name, data):
            raise AssertionError("never called for Dense biases")

    net = _dense_net()
    net.initialize(ChecklistInit())
    assert calls == ["dense0_weight", "dense1_weight"]
    assert isinstance(calls[0], init.InitDesc) and isinstance(calls[0], str)


def test_E9_own_initializers_win():
    net = nn.Dense(2, in_units=2, bias_initializer="ones")
    p = gluon.ParameterDict().get("w", shape=(2,), init=init.One())
    net.initialize(init.Zero())
    p.initialize(default_init=init.Zero())
    assert (net.bias.data().asnumpy() == 1).all() and (p.data().asnumpy() == 1).all()


def test_E10_custom_bias_gets_global_weight_init():
    class Blk(nn.Block):
        def __init__(self):
            super().__init__()
            self.bias = self.params.get("bias", shape=(500,))

    b = Blk()
    b.initialize()
    assert b.bias.data().asnumpy().std() > 0.01
    with pytest.raises(ValueError):
        b.initialize(init.Xavier(), force_reinit=True)


def test_E11_string_names_and_register():
    @init.register
    class Fortytwo(init.Initializer):
        def _init_weight(self, name, data):
            data[:] = 42

    net = _dense_net()
    net.initialize(init="fortytwo")
    assert (net[0].weight.data().asnumpy() == 42).all()
    net.initialize(init="xavier", force_reinit=True)
    net.initialize(init="zeros", force_reinit=True)
    assert (net[0].weight.data().asnumpy() == 0).all()


def test_E12_dumps():
    assert init.Normal(0.5).dumps() == '["normal", {"sigma": 0.5}]'


def test_E13_ctx_argument():
    net = _dense_net()
    net.initialize(init=init.Normal(), ctx=[mx.cpu(0), mx.cpu(1)], force_reinit=True)
    assert net[0].weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    net.initialize(ctx=mx.cpu(1), force_reinit=True)
    assert net[0].weight.list_ctx() == [mx.cpu(1)]


# ----------------------------------------------------------------------------- F: deferred
def test_F1_unknown_dims_print_0_or_minus_1():
    net = nn.Dense(256)
    assert net.weight.shape == (256, 0)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        net.weight.data()
    mx.npx.set_np()
    assert nn.Dense(8).weight.shape == (8, -1)


def test_F2_deferred_error_is_an_mxnet_error():
    net = nn.Dense(2)
    net.initialize()
    with pytest.raises(gluon.DeferredInitializationError) as err:
        net.weight.data()
    assert isinstance(err.value, mx.MXNetError) and isinstance(err.value, RuntimeError)
    assert net.weight.shape == (2, 0)


def test_F3_first_forward_infers_and_inits_once():
    calls = []

    class Counting(init.Initializer):
        def _init_weight(self, name, data):
            calls.append(name)
            data[:] = 1

    net = nn.Sequential()
    net.add(nn.Dense(256, activation="relu"), nn.Dense(10))
    net.initialize(Counting())
    net(nd.ones((2, 20)))
    net(nd.ones((2, 20)))
    assert net[0].weight.shape == (256, 20) and net[1].weight.shape == (10, 256)
    assert calls == ["dense0_weight", "dense1_weight"]


def test_F4_force_reinit_on_shaped_net_is_immediate():
    net = nn.Dense(3)
    net.initialize()
    net(nd.ones((1, 2)))
    net.initialize(init.One(), force_reinit=True)
    assert (net.weight.data().asnumpy() == 1).all()


def test_F5_in_units_is_immediate():
    net = nn.Dense(3, in_units=2)
    net.initialize()
    assert net.weight.data().shape == (3, 2)


def test_F6_init_and_ctx_remembered():
    net = nn.Dense(3)
    net.initialize(init.One(), ctx=[mx.cpu(0), mx.cpu(1)])
    net(nd.ones((1, 2), ctx=mx.cpu(1)))
    assert net.weight.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    assert (net.weight.data(mx.cpu(0)).asnumpy() == 1).all()


def test_F7_load_parameters_sets_shapes(tmp_path):
    src = nn.Dense(3, in_units=5)
    src.initialize()
    src.save_parameters(str(tmp_path / "d.params"))
    dst = nn.Dense(3)
    dst.load_parameters(str(tmp_path / "d.params"))
    assert dst.weight.shape == (3, 5)


# ----------------------------------------------------------------------------- G: custom params
def test_G1_params_get():
    class MyDense(nn.Block):
        def __init__(self, units, in_units, **kwargs):
            super().__init__(**kwargs)
            self.weight = self.params.get("weight", shape=(in_units, units))

        def forward(self, x):
            return nd.dot(x, self.weight.data())

    layer = MyDense(3, 5)
    assert layer.weight.name == "mydense0_weight" and layer.params.get("weight") is layer.weight
    assert "mydense0_weight" in layer.collect_params()


def test_G2_data_ctx_in_forward():
    class PosEmb(nn.Block):
        def __init__(self):
            super().__init__()
            self.pos = self.params.get("pos", shape=(1, 10, 4))

        def forward(self, X):
            return X + self.pos.data(ctx=X.context)[:, : X.shape[1], :]

    blk = PosEmb()
    blk.initialize(ctx=mx.cpu(1))
    assert blk(nd.ones((2, 3, 4), ctx=mx.cpu(1))).shape == (2, 3, 4)


def test_G3_standalone_dict():
    params = gluon.ParameterDict()
    params.get("param2", shape=(2, 3))
    assert "Parameter param2 (shape=(2, 3)" in str(params)


def test_G4_get_constant_never_trained():
    class Fancy(nn.Block):
        def __init__(self):
            super().__init__()
            self.rand_weight = self.params.get_constant("rand_weight", nd.ones((2, 2)))
            self.dense = nn.Dense(2, in_units=2)

        def forward(self, x):
            return self.dense(nd.dot(x, self.rand_weight.data()))

    net = Fancy()
    net.initialize()
    c = net.collect_params()["fancy0_rand_weight"]
    assert isinstance(c, gluon.Constant) and c.grad_req == "null"
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        y = net(nd.ones((1, 2))).sum()
    y.backward()
    trainer.step(1)
    assert (c.data().asnumpy() == 1).all()


def test_G5_constant_standalone():
    c = gluon.Constant("c", [1, 2])
    c.initialize()
    assert c.data().asnumpy().tolist() == [1.0, 2.0]


def test_G6_parameter_standalone():
    p = gluon.Parameter("p", shape=(2,), init=init.One(), grad_req="add")
    p.initialize()
    assert p.grad_req == "add" and (p.data().asnumpy() == 1).all()


def test_G7_batchnorm_from_scratch_params():
    params = gluon.ParameterDict("bn_")
    gamma = params.get("gamma", shape=(1, 3), init=init.One())
    beta = params.get("beta", shape=(1, 3), init=init.Zero())
    params.initialize()
    moving_mean = nd.zeros((1, 3))
    x = nd.random.normal(shape=(4, 3))
    mean = x.mean(axis=0, keepdims=True)
    y = gamma.data() * (x - mean) + beta.data()
    moving_mean = 0.9 * moving_mean + 0.1 * mean
    assert y.shape == (4, 3) and moving_mean.shape == (1, 3)


# ----------------------------------------------------------------------------- H: sharing
def test_H1_H2_params_sharing():
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
    assert [k.split("_")[0] for k in net.collect_params()][::2] == ["dense1", "dense0", "dense3"]


def test_H3_shared_gradient_sums():
    d = nn.Dense(1, in_units=1, use_bias=False, weight_initializer=init.Constant(3))
    d.initialize()
    x = nd.array([[1.0]])
    with autograd.record():
        y = d(x) + d(x)
    y.backward()
    assert d.weight.grad().asscalar() == 2.0


# ----------------------------------------------------------------------------- I: save/load
class _Two(nn.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = nn.Dense(4, activation="relu", in_units=3)
        self.output = nn.Dense(2, in_units=4)

    def forward(self, x):
        return self.output(self.hidden(x))


def test_I1_structural_keys(tmp_path):
    net = _Two()
    net.initialize()
    net.save_parameters(str(tmp_path / "m.params"))
    assert sorted(nd.load(str(tmp_path / "m.params"))) == [
        "hidden.bias",
        "hidden.weight",
        "output.bias",
        "output.weight",
    ]


def test_I2_clone_loads_and_agrees(tmp_path):
    net = _Two()
    net.initialize()
    x = nd.random.uniform(shape=(2, 3))
    y = net(x)
    net.save_parameters(str(tmp_path / "m.params"))
    clone = _Two()
    clone.load_parameters(str(tmp_path / "m.params"))
    assert (clone(x) == y).asnumpy().all() and clone.prefix != net.prefix


def test_I3_load_options(tmp_path):
    net = _Two()
    net.initialize()
    net.save_parameters(str(tmp_path / "m.params"))
    small = nn.Sequential()
    with pytest.raises((KeyError, ValueError)):
        small.load_parameters(str(tmp_path / "m.params"))
    small.load_parameters(
        str(tmp_path / "m.params"), ctx=mx.cpu(1), allow_missing=True, ignore_extra=True
    )
    other = _Two()
    other.load_parameters(str(tmp_path / "m.params"), ctx=mx.cpu(1))
    assert other.hidden.weight.list_ctx() == [mx.cpu(1)]


def test_I4_parameter_dict_save_load_full_names(tmp_path):
    net = _Two()
    net.initialize()
    net.collect_params().save(str(tmp_path / "p.params"), strip_prefix="")
    assert all(k.startswith("dense") for k in nd.load(str(tmp_path / "p.params")))
    net.collect_params().load(str(tmp_path / "p.params"), mx.cpu(0))


def test_I5_nd_and_npx_save(tmp_path):
    nd.save(str(tmp_path / "a"), [nd.ones((1,))])
    mx.npx.save(str(tmp_path / "b"), [mx.np.ones((1,))])
    assert len(nd.load(str(tmp_path / "a"))) == len(mx.npx.load(str(tmp_path / "b"))) == 1


# ----------------------------------------------------------------------------- J: devices, Trainer
def test_J1_identical_replicas():
    net = _dense_net()
    net.initialize(init=init.Normal(sigma=0.01), ctx=[mx.cpu(0), mx.cpu(1)])
    a, b = net[0].weight.list_data()
    assert (a.asnumpy() == b.asnumpy()).all()


def test_J2_split_and_load():
    x = nd.arange(10).reshape((5, 2))
    parts = gluon.utils.split_and_load(x, [mx.cpu(0), mx.cpu(1)], even_split=False)
    assert [p.shape[0] for p in parts] == [2, 3] and parts[1].context == mx.cpu(1)
    with pytest.raises(ValueError):
        gluon.utils.split_and_load(x, [mx.cpu(0), mx.cpu(1)])
    assert len(gluon.utils.split_data(nd.ones((4, 2)), 2)) == 2


def test_J3_output_on_shard_context():
    net = _dense_net()
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    assert net(nd.ones((2, 4), ctx=mx.cpu(1))).context == mx.cpu(1)


def test_J4_lookup_by_short_name_and_missing_context():
    net = _dense_net()
    net.initialize(ctx=[mx.cpu(1), mx.cpu(2)])
    weight = net[0].params.get("weight")
    with pytest.raises(RuntimeError, match=r"not initialized on context cpu\(0\)"):
        weight.data()
    assert weight.data(mx.cpu(2)).context == mx.cpu(2)


def _train_loop(ctxs, lr=0.1, steps=3, kvstore="device"):
    mx.random.seed(3)
    net = _dense_net()
    net.initialize(init.Xavier(), ctx=ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr}, kvstore=kvstore)
    loss = gluon.loss.L2Loss()
    X, y = nd.random.normal(shape=(8, 4)), nd.random.normal(shape=(8, 1))
    for _ in range(steps):
        xs, ys = gluon.utils.split_and_load(X, ctxs), gluon.utils.split_and_load(y, ctxs)
        with autograd.record():
            ls = [loss(net(a), b) for a, b in zip(xs, ys)]
        for l_ in ls:
            l_.backward()
        trainer.step(8)
        mx.npx.waitall()
    return net, trainer


def test_J5_J6_trainer_sums_and_keeps_replicas_equal():
    net, _ = _train_loop([mx.cpu(0), mx.cpu(1)])
    a, b = net[0].weight.list_data()
    assert (a.asnumpy() == b.asnumpy()).all()
    single, _ = _train_loop([mx.cpu(0)])
    np.testing.assert_allclose(single[0].weight.data().asnumpy(), a.asnumpy(), rtol=1e-5, atol=1e-6)


def test_J7_reset_ctx():
    net = _dense_net()
    net.initialize()
    net.collect_params().reset_ctx([mx.cpu(1)])
    assert net[0].weight.list_ctx() == [mx.cpu(1)]


def test_J8_adam():
    net = _dense_net()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    with autograd.record():
        y = net(nd.ones((2, 4))).sum()
    y.backward()
    trainer.step(2)
    assert trainer.optimizer.__class__.__name__ == "Adam"


def test_J9_wd_with_bias_wd_mult_zero():
    net = _dense_net()
    net.initialize()
    net.collect_params(".*bias").setattr("wd_mult", 0)
    gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "wd": 0.01})
    assert net[0].bias.wd_mult == 0 and net[0].weight.wd_mult == 1


def test_J10_lr_mult_and_freezing():
    net = _dense_net()
    net.initialize()
    net[1].collect_params().setattr("lr_mult", 10)
    net[0].collect_params().setattr("grad_req", "null")
    assert net[1].weight.lr_mult == 10
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        net[0].weight.grad()


def test_J11_learning_rate():
    _, trainer = _train_loop([mx.cpu(0)], steps=1)
    assert trainer.learning_rate == pytest.approx(0.1)
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == pytest.approx(0.05)


def test_J12_stale_gradient_raises_user_warning():
    net = _dense_net()
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    with pytest.raises(UserWarning, match="has not been updated by backward"):
        trainer.step(1)


def test_J13_scratch_multi_gpu_style():
    params = [nd.random.normal(shape=(3,)) for _ in range(2)]
    devices = [mx.cpu(0), mx.cpu(1)]
    copies = [[p.copyto(d) for p in params] for d in devices]
    for dev_params in copies:
        for p in dev_params:
            p.attach_grad()
    data = [nd.ones((3,), ctx=d) for d in devices]
    data[0][:] += data[1].copyto(data[0].context)
    data[0].copyto(data[1])
    assert (data[1].asnumpy() == 2).all()
    for p in copies[0]:
        p[:] = p - 0.1 * p.grad / 4


def test_J14_manual_update_through_a_parameter():
    conv = nn.Conv2D(1, kernel_size=(1, 2), use_bias=False, in_channels=1)
    conv.initialize()
    X, Y = nd.ones((1, 1, 2, 3)), nd.zeros((1, 1, 2, 2))
    before = conv.weight.data().asnumpy().copy()
    with autograd.record():
        loss = (conv(X) - Y) ** 2
    loss.backward()
    conv.weight.data()[:] -= 0.03 * conv.weight.grad()
    assert not (conv.weight.data().asnumpy() == before).all()


# ----------------------------------------------------------------------------- K: embedding
def test_K1_embedding_gathers_rows():
    embed = nn.Embedding(input_dim=20, output_dim=4)
    embed.initialize()
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    assert embed.weight.name == "embedding0_weight" and embed.weight.shape == (20, 4)
    out = embed(x)
    assert out.shape == (2, 3, 4)
    assert (out[0, 0].asnumpy() == embed.weight.data()[1].asnumpy()).all()


def test_K2_skip_gram_batch_dot():
    v, u = nd.ones((2, 1, 4)), nd.ones((2, 4, 4))
    assert nd.batch_dot(v, u.swapaxes(1, 2)).shape == (2, 1, 4)


def test_K3_sigmoid_bce_with_mask():
    loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    pred = nd.array([[1.1, -2.2, 3.3, -4.4]] * 2)
    label = nd.array([[1.0, 0.0, 0.0, 0.0]] * 2)
    mask = nd.array([[1, 1, 1, 1], [1, 1, 0, 0]])
    out = loss(pred, label, mask) * mask.shape[1] / mask.sum(axis=1)
    assert out.shape == (2,) and float(out[0].asscalar()) > 0


def test_K4_topk_indices_for_similarity():
    embed = nn.Embedding(10, 4)
    embed.initialize()
    W = embed.weight.data()
    x = W[3]
    cos = nd.dot(W, x) / nd.sqrt(nd.sum(W * W, axis=1) * nd.sum(x * x) + 1e-9)
    topk = nd.topk(cos, k=2, ret_typ="indices").asnumpy().astype("int32")
    assert topk[0] == 3


def test_K5_sparse_grad_lazy_update():
    embed = nn.Embedding(10, 4, sparse_grad=True)
    embed.initialize(init.One())
    trainer = gluon.Trainer(embed.collect_params(), "sgd", {"learning_rate": 1.0})
    with autograd.record():
        y = embed(nd.array([1, 3])).sum()
    y.backward()
    g = embed.weight.grad()
    assert g.stype == "row_sparse" and g.indices.asnumpy().tolist() == [1, 3]
    assert g.data.shape == (2, 4) and g.tostype("default").shape == (10, 4)
    trainer.step(1)
    w = embed.weight.data().asnumpy()
    assert (w[[1, 3]] == 0).all() and (w[[0, 2, 4]] == 1).all()


def test_checklist_module_importable_in_clean_process():
    assert importlib.import_module("paramlab.gluon.nn") is nn
    assert os.environ.get("MXNET_ENGINE_TYPE") is None
    warnings.simplefilter("default")
