"""Block / ParameterDict checkpoints (paramlab.gluon.checkpoint), in the three formats."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import paramlab as mx
from paramlab import gluon
from paramlab.base import CheckpointFormatError, DeferredInitializationError
from paramlab.gluon import checkpoint, nn
from paramlab.ndarray import _mxformat

DATA = Path(__file__).resolve().parent.parent / "data" / "mxnet-params"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]
FORMATS = ["params", "npz", "safetensors"]
MiB = 1 << 20


def has_sparse():
    try:
        from paramlab.ndarray import sparse  # noqa: F401
    except ImportError:
        return False
    return True


needs_sparse = pytest.mark.skipif(not has_sparse(), reason="paramlab.ndarray.sparse not built yet")


# ----------------------------------------------------------------------------- helpers
def mlp(in_units=None):
    net = nn.Sequential()
    if in_units is None:
        net.add(nn.Dense(8, activation="relu"), nn.Dense(3))
    else:
        net.add(nn.Dense(8, activation="relu", in_units=in_units), nn.Dense(3, in_units=8))
    return net


def emb_dense_bn():
    net = nn.Sequential()
    net.add(nn.Embedding(6, 4), nn.Dense(3, in_units=4), nn.BatchNorm(in_channels=3))
    return net


def values(block):
    """Structural name -> host value (first replica) of every parameter."""
    return {k: p.list_data()[0].asnumpy() for k, p in block._collect_params_with_prefix().items()}


def snapshot(block):
    """Everything a failed load must leave unchanged, byte for byte."""
    out = {}
    for key, p in checkpoint._structural_params(block).items():
        state = {
            "shape": p._shape,
            "dtype": str(np.dtype(p.dtype)),
            "pending": None if p._pending is None else tuple(p._pending.ctx_list),
            "ctx": list(p._ctx_list),
            "data": [
                (str(r.context), r.dtype, r.shape, r.asnumpy().tobytes())
                for r in (p._replicas[k] for k in p._replicas)
            ],
            "grads": [g.asnumpy().tobytes() for g in p._grads.values()],
        }
        out[key] = state
    return out


def fill(block, seed=0):
    """Give every parameter distinct exact values (on every replica)."""
    rng = np.random.default_rng(seed)
    for p in block.collect_params().values():
        shape = p.list_data()[0].shape
        v = (rng.integers(-64, 64, size=shape) / 16).astype(np.dtype(p.dtype))
        p.set_data(mx.nd.array(v, dtype=v.dtype))


def files_in(folder):
    return sorted(os.listdir(folder))


# ----------------------------------------------------------------------------- real MXNet files
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nd_load_reads_every_fixture_exactly(name):
    spec = EXPECTED[name]
    if any(a["stype"] != "default" for a in _arrays(spec)) and not has_sparse():
        pytest.skip("paramlab.ndarray.sparse not built yet")
    loaded = mx.nd.load(str(DATA / name))
    if spec["container"] == "dict":
        assert isinstance(loaded, dict) and sorted(loaded) == sorted(spec["arrays"])
        pairs = [(loaded[k], spec["arrays"][k]) for k in spec["arrays"]]
    else:
        assert isinstance(loaded, list) and len(loaded) == len(spec["arrays"])
        pairs = list(zip(loaded, spec["arrays"]))
    for arr, want in pairs:
        assert arr.shape == tuple(want["shape"])
        assert str(np.dtype(arr.dtype)) == want["dtype"]
        assert arr.stype == want["stype"]
        dense = arr.tostype("default") if arr.stype != "default" else arr
        expected = np.array(want["values"], want["dtype"]).reshape(want["shape"])
        np.testing.assert_array_equal(dense.asnumpy(), expected)


def _arrays(spec):
    arrays = spec["arrays"]
    return list(arrays.values()) if isinstance(arrays, dict) else arrays


def _assert_block_matches(block, spec):
    got = values(block)
    assert sorted(got) == sorted(spec["arrays"])
    for key, want in spec["arrays"].items():
        assert str(got[key].dtype) == want["dtype"], key
        np.testing.assert_array_equal(got[key], np.array(want["values"], want["dtype"]))


def test_block_fixture_loads_into_uninitialized_block_on_cpu0():
    net = emb_dense_bn()
    net.load_parameters(str(DATA / "block_emb_dense_bn.params"))
    _assert_block_matches(net, EXPECTED["block_emb_dense_bn.params"])
    for p in net.collect_params().values():
        assert p.list_ctx() == [mx.cpu(0)]


def test_block_fixture_loads_into_initialized_block_on_two_cpus():
    net = emb_dense_bn()
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    net.load_parameters(DATA / "block_emb_dense_bn.params")
    _assert_block_matches(net, EXPECTED["block_emb_dense_bn.params"])
    for p in net.collect_params().values():
        a, b = (r.asnumpy() for r in p.list_data())
        assert a.tobytes() == b.tobytes()


def test_float16_fixture_loads_into_float16_dense():
    net = nn.Dense(2, in_units=3)
    net.cast("float16")
    net.load_parameters(str(DATA / "dense_float16.params"))
    _assert_block_matches(net, EXPECTED["dense_float16.params"])


def test_float16_fixture_into_float32_dense_needs_cast_dtype():
    net = nn.Dense(2, in_units=3)
    net.initialize()
    before = snapshot(net)
    with pytest.raises(TypeError, match=r"cast_dtype=True") as info:
        net.load_parameters(str(DATA / "dense_float16.params"))
    message = str(info.value)
    assert "float32" in message and "float16" in message and "dense_float16.params" in message
    assert snapshot(net) == before


@pytest.mark.parametrize("initialized", [False, True])
def test_cast_dtype_current_converts_the_saved_values(initialized):
    net = nn.Dense(2, in_units=3)
    if initialized:
        net.initialize()
    net.load_parameters(str(DATA / "dense_float16.params"), cast_dtype=True)
    assert np.dtype(net.weight.dtype) == np.float32
    assert net.weight.data().dtype == np.float32
    want = EXPECTED["dense_float16.params"]["arrays"]["weight"]["values"]
    np.testing.assert_array_equal(net.weight.data().asnumpy(), np.array(want, np.float32))


@pytest.mark.parametrize("initialized", [False, True])
def test_cast_dtype_saved_casts_the_parameter(initialized):
    net = nn.Dense(2, in_units=3)
    if initialized:
        net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    net.load_parameters(str(DATA / "dense_float16.params"), cast_dtype=True, dtype_source="saved")
    assert np.dtype(net.weight.dtype) == np.float16
    for r in net.weight.list_data():
        assert r.dtype == np.float16
    for g in net.weight.list_grad():
        assert g.dtype == np.float16
    _assert_block_matches(net, EXPECTED["dense_float16.params"])


def test_bad_dtype_source_is_refused_before_reading():
    net = nn.Dense(2, in_units=3)
    with pytest.raises(ValueError, match="dtype_source"):
        net.load_parameters("does-not-matter.params", cast_dtype=True, dtype_source="file")


class ModuleStyle(gluon.Block):
    """A block whose full names match a Module checkpoint's keys after its prefix."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fc_weight = self.params.get("fc_weight", shape=(2, 2))
        self.fc_bias = self.params.get("fc_bias", shape=(2,))
        self.bn_moving_mean = self.params.get("bn_moving_mean", shape=(2,))


def _module_values(block_or_dict):
    items = block_or_dict.items()
    return {k: p.data().asnumpy().tolist() for k, p in items}


def test_module_keys_load_into_a_parameter_dict():
    params = gluon.ParameterDict("")
    for name, shape in (("fc_weight", (2, 2)), ("fc_bias", (2,)), ("bn_moving_mean", (2,))):
        params.get(name, shape=shape)
    params.load(str(DATA / "module_arg_aux.params"))
    want = EXPECTED["module_arg_aux.params"]["arrays"]
    assert _module_values(params) == {
        "fc_weight": want["arg:fc_weight"]["values"],
        "fc_bias": want["arg:fc_bias"]["values"],
        "bn_moving_mean": want["aux:bn_moving_mean"]["values"],
    }


def test_module_keys_load_into_a_block_by_the_legacy_path():
    block = ModuleStyle(prefix="model_")
    block.load_parameters(str(DATA / "module_arg_aux.params"))
    want = EXPECTED["module_arg_aux.params"]["arrays"]
    assert block.fc_weight.data().asnumpy().tolist() == want["arg:fc_weight"]["values"]
    assert block.bn_moving_mean.data().asnumpy().tolist() == want["aux:bn_moving_mean"]["values"]


def test_module_keys_with_restore_prefix():
    params = gluon.ParameterDict("net_")
    for name, shape in (("fc_weight", (2, 2)), ("fc_bias", (2,)), ("bn_moving_mean", (2,))):
        params.get(name, shape=shape)
    params.load(str(DATA / "module_arg_aux.params"), restore_prefix="net_")
    assert params["net_fc_bias"].data().asnumpy().tolist() == [0.5, -0.5]


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("ext", FORMATS)
def test_mlp_round_trip_on_two_cpus(tmp_path, ext):
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = mlp(in_units=5)
    net.initialize(ctx=ctxs)
    fill(net)
    path = tmp_path / f"mlp.{ext}"
    net.save_parameters(str(path))
    clone = mlp(in_units=5)
    clone.initialize(mx.init.Zero(), ctx=ctxs)
    clone.load_parameters(str(path))
    for key, p in clone._collect_params_with_prefix().items():
        replicas = [r.asnumpy() for r in p.list_data()]
        assert [r.context for r in p.list_data()] == ctxs
        assert replicas[0].tobytes() == replicas[1].tobytes()
        assert replicas[0].tobytes() == values(net)[key].tobytes()
    fresh = mlp()
    fresh.load_parameters(str(path), ctx=ctxs)
    assert {k: v.tobytes() for k, v in values(fresh).items()} == {
        k: v.tobytes() for k, v in values(net).items()
    }


@pytest.mark.parametrize("ext", FORMATS)
def test_saved_value_is_the_average_of_replicas(tmp_path, ext):
    p = gluon.Parameter("w", shape=(2, 2))
    p.initialize(mx.init.Zero(), ctx=[mx.cpu(0), mx.cpu(1)])
    p.data(mx.cpu(0))[:] = 1.0
    p.data(mx.cpu(1))[:] = 2.0
    params = gluon.ParameterDict("")
    params._params["w"] = p
    path = str(tmp_path / f"avg.{ext}")
    params.save(path)
    records, names = checkpoint.read_file(path)
    assert names == ["w"]
    np.testing.assert_array_equal(records[0].data, np.full((2, 2), 1.5, np.float32))


@pytest.mark.parametrize("ext", FORMATS)
def test_every_dtype_round_trips_bit_exact(tmp_path, ext):
    specials = {
        "float16": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 2**-24], np.float16),
        "float32": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4e38, 1e-45], np.float32),
        "float64": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.8e308, 5e-324]),
        "int8": np.array([-128, 127, 0, 1, -1, 5, 6], np.int8),
        "uint8": np.array([0, 255, 1, 2, 3, 4, 5], np.uint8),
        "int32": np.array([-(2**31), 2**31 - 1, 0, 1, -1, 2, 3], np.int32),
        "int64": np.array([-(2**63), 2**63 - 1, 2**53 + 1, 0, -1, 2, 3], np.int64),
        "bool": np.array([True, False, True, True, False, False, True]),
    }
    # a NaN with a payload survives too
    specials["float32"][4] = np.frombuffer(np.uint32(0x7FC00123).tobytes(), np.float32)[0]
    params = gluon.ParameterDict("")
    for dtype, v in specials.items():
        params.get(dtype, shape=v.shape, dtype=dtype)
    params.initialize(mx.init.Zero())
    for dtype, v in specials.items():
        params[dtype].set_data(mx.nd.array(v, dtype=dtype))
    path = str(tmp_path / f"dtypes.{ext}")
    params.save(path)
    fresh = gluon.ParameterDict("")
    for dtype, v in specials.items():
        fresh.get(dtype, shape=v.shape, dtype=dtype)
    fresh.load(path)
    for dtype, v in specials.items():
        got = fresh[dtype].data().asnumpy()
        assert got.dtype == v.dtype and got.tobytes() == v.tobytes(), dtype


@needs_sparse
@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
def test_sparse_arrays_round_trip_in_every_format(tmp_path, ext, stype):
    dense = np.array([[0, 1.5, 0, 0], [0, 0, 0, 0], [2, 0, -3, 0.25]], np.float32)
    arr = mx.nd.array(dense).tostype(stype)
    path = str(tmp_path / f"sp.{ext}")
    checkpoint.write_file(path, [mx.nd.utils.to_stored(arr)], ["s"])
    records, names = checkpoint.read_file(path)
    assert names == ["s"] and records[0].stype == stype
    np.testing.assert_array_equal(records[0].data, arr.data.asnumpy())
    np.testing.assert_array_equal(records[0].indices, arr.indices.asnumpy())
    np.testing.assert_array_equal(records[0].to_dense(), dense)


@needs_sparse
@pytest.mark.parametrize("ext", FORMATS)
def test_row_sparse_parameter_round_trip(tmp_path, ext):
    params = gluon.ParameterDict("")
    params.get("emb", shape=(5, 2), stype="row_sparse", init=mx.init.One())
    params.initialize()
    path = str(tmp_path / f"rsp.{ext}")
    params.save(path)
    for initialized in (False, True):
        fresh = gluon.ParameterDict("")
        q = fresh.get("emb", shape=(5, 2), stype="row_sparse")
        if initialized:
            fresh.initialize(mx.init.Zero(), ctx=[mx.cpu(0), mx.cpu(1)])
        fresh.load(path)
        for replica in q._replicas.values():
            assert replica.stype == "row_sparse"
            assert replica.tostype("default").asnumpy().tolist() == [[1.0, 1.0]] * 5


@needs_sparse
def test_sparse_file_loads_into_a_dense_parameter(tmp_path):
    dense = np.array([[0, 0], [1.5, -2], [0, 0]], np.float32)
    path = str(tmp_path / "sp.nd")
    mx.nd.save(path, {"w": mx.nd.array(dense).tostype("row_sparse")})
    params = gluon.ParameterDict("")
    w = params.get("w", shape=(3, 2))
    params.load(path)
    assert w.data().stype == "default"
    np.testing.assert_array_equal(w.data().asnumpy(), dense)


@pytest.mark.parametrize("ext", FORMATS)
def test_constant_round_trip(tmp_path, ext):
    class WithConstant(gluon.Block):
        def __init__(self):
            super().__init__()
            self.c = self.params.get_constant("c", [[1, 2], [3, 4]])

    block = WithConstant()
    block.initialize()
    path = str(tmp_path / f"c.{ext}")
    block.save_parameters(path)
    other = WithConstant()
    other.load_parameters(path)
    assert other.c.data().asnumpy().tolist() == [[1, 2], [3, 4]]
    assert other.c.grad_req == "null"


# ----------------------------------------------------------------------------- d2l
class MLP(gluon.Block):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = nn.Dense(16, activation="relu", in_units=20)
        self.output = nn.Dense(10, in_units=16)


class ScopedMLP(gluon.Block):
    """Children made inside name_scope(), so their full names carry the block's prefix."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.hidden = nn.Dense(16, activation="relu", in_units=20)
            self.output = nn.Dense(10, in_units=16)


@pytest.mark.parametrize("ext", FORMATS)
def test_clone_with_other_global_names_loads_the_file(tmp_path, ext):
    net = MLP()
    net.initialize()
    path = str(tmp_path / f"mlp.{ext}")
    net.save_parameters(path)
    assert checkpoint.read_file(path)[1] == [
        "hidden.weight",
        "hidden.bias",
        "output.weight",
        "output.bias",
    ]
    clone = MLP()
    assert clone.hidden.weight.name != net.hidden.weight.name
    clone.load_parameters(path)
    for key, v in values(net).items():
        assert values(clone)[key].tobytes() == v.tobytes()


def test_clone_forward_equals_original_output(tmp_path):
    if not os.path.exists(os.path.join(os.path.dirname(mx.nd.__file__), "nn.py")):
        pytest.skip("nd.FullyConnected not built yet")
    net = MLP()
    net.initialize()
    x = mx.nd.random.uniform(shape=(2, 20))
    path = str(tmp_path / "mlp.params")
    net.save_parameters(path)
    clone = MLP()
    clone.load_parameters(path)
    y = net.output(net.hidden(x))
    assert (clone.output(clone.hidden(x)) == y).asnumpy().all()


@pytest.mark.parametrize("ext", FORMATS)
def test_load_into_deferred_never_run_net_sets_the_shapes(tmp_path, ext):
    net = mlp(in_units=5)
    net.initialize()
    path = str(tmp_path / f"m.{ext}")
    net.save_parameters(path)
    lazy = mlp()
    lazy.initialize(ctx=[mx.cpu(1), mx.cpu(0)])
    with pytest.raises(DeferredInitializationError):
        lazy[0].weight.data()
    lazy.load_parameters(path)
    assert lazy[0].weight.shape == (8, 5) and lazy[1].weight.shape == (3, 8)
    assert lazy[0].weight.list_ctx() == [mx.cpu(1), mx.cpu(0)]
    assert lazy[0].weight._pending is None
    for key, v in values(net).items():
        assert values(lazy)[key].tobytes() == v.tobytes()


def test_load_into_deferred_net_on_other_contexts_fails_and_changes_nothing(tmp_path):
    net = mlp(in_units=5)
    net.initialize()
    path = str(tmp_path / "m.params")
    net.save_parameters(path)
    lazy = mlp()
    lazy.initialize(ctx=mx.cpu(1))
    before = snapshot(lazy)
    with pytest.raises(ValueError, match=r"deferred initialization is on \[cpu\(1\)\]"):
        lazy.load_parameters(path, ctx=mx.cpu(0))
    assert snapshot(lazy) == before


def test_collect_params_save_uses_full_names(tmp_path):
    net = ScopedMLP()
    net.initialize()
    path = str(tmp_path / "full.params")
    net.collect_params().save(path)
    assert list(mx.nd.load(path)) == list(net.collect_params().keys())
    assert next(iter(mx.nd.load(path))) == net.prefix + "dense0_weight"
    fresh = ScopedMLP(prefix=net.prefix)
    fresh.collect_params().load(path, ctx=mx.cpu(1))
    assert fresh.hidden.weight.list_ctx() == [mx.cpu(1)]
    assert values(fresh)["hidden.weight"].tobytes() == values(net)["hidden.weight"].tobytes()


def test_strip_and_restore_prefix(tmp_path):
    net = ScopedMLP(prefix="model_")
    net.initialize()
    path = str(tmp_path / "stripped.params")
    net.collect_params().save(path, strip_prefix="model_")
    assert sorted(mx.nd.load(path)) == sorted(k[len("model_") :] for k in net.collect_params())
    other = ScopedMLP(prefix="other_")
    other.collect_params().load(path, restore_prefix="other_")
    assert values(other)["output.bias"].tobytes() == values(net)["output.bias"].tobytes()
    with pytest.raises(ValueError, match=r"strip_prefix is 'nope_'"):
        net.collect_params().save(path, strip_prefix="nope_")
    with pytest.raises(ValueError, match=r"restore_prefix is 'zzz_'"):
        other.collect_params().load(path, restore_prefix="zzz_")


def test_legacy_single_layer_file_loads_into_a_layer_with_another_prefix(tmp_path):
    a = nn.Dense(3, in_units=2)
    a.initialize(mx.init.One())
    path = str(tmp_path / "dense.params")
    a.save_parameters(path)
    assert list(mx.nd.load(path)) == ["weight", "bias"]
    b = nn.Dense(3, in_units=2)
    assert b.prefix != a.prefix
    b.load_parameters(path)
    assert b.weight.data().asnumpy().tolist() == [[1.0, 1.0]] * 3


def test_uninitialized_parameters_default_to_cpu0_not_the_current_context(tmp_path):
    net = mlp(in_units=5)
    net.initialize()
    path = str(tmp_path / "m.params")
    net.save_parameters(path)
    with mx.cpu(1):
        fresh = mlp(in_units=5)
        fresh.load_parameters(path)
    assert fresh[0].weight.list_ctx() == [mx.cpu(0)]
    other = mlp(in_units=5)
    other.load_parameters(path, ctx=mx.cpu(1))
    assert other[0].weight.list_ctx() == [mx.cpu(1)]
    assert other[0].weight.grad().context == mx.cpu(1)


def test_load_on_a_context(tmp_path, ctx):
    net = mlp(in_units=5)
    net.initialize()
    fill(net)
    path = str(tmp_path / "m.params")
    net.save_parameters(path)
    fresh = mlp()
    fresh.load_parameters(path, ctx=ctx)
    assert fresh[1].bias.data().context == ctx
    assert values(fresh)["1.weight"].tobytes() == values(net)["1.weight"].tobytes()
    fresh.save_parameters(str(tmp_path / "again.params"))
    assert (tmp_path / "again.params").read_bytes() == Path(path).read_bytes()


# ----------------------------------------------------------------------------- shared parameters
def shared_net():
    net = nn.Sequential()
    shared = nn.Dense(4, in_units=4)
    net.add(nn.Dense(4, in_units=4), shared, nn.Dense(4, in_units=4, params=shared.params))
    return net


@pytest.mark.parametrize("ext", FORMATS)
def test_shared_parameters_saved_under_every_name_or_once(tmp_path, ext):
    net = shared_net()
    net.initialize()
    fill(net)
    every, once = str(tmp_path / f"every.{ext}"), str(tmp_path / f"once.{ext}")
    net.save_parameters(every)
    net.save_parameters(once, deduplicate=True)
    assert checkpoint.read_file(every)[1] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "2.weight",
        "2.bias",
    ]
    # MXNet keeps the last name of a shared parameter
    assert checkpoint.read_file(once)[1] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for path in (every, once):
        fresh = shared_net()
        fresh.load_parameters(path)
        assert fresh[1].weight is fresh[2].weight
        for key, v in values(net).items():
            assert values(fresh)[key].tobytes() == v.tobytes()


# ---------------------------------------------------------------------- failures change nothing
@pytest.fixture(params=FORMATS)
def saved_mlp(request, tmp_path):
    net = mlp(in_units=5)
    net.initialize()
    fill(net, seed=1)
    path = str(tmp_path / f"m.{request.param}")
    net.save_parameters(path)
    return path


def _targets():
    """Blocks in every state: initialized (2 cpus), deferred, uninitialized, mixed."""
    init = mlp(in_units=5)
    init.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    lazy = mlp()
    lazy.initialize()
    bare = mlp(in_units=5)
    mixed = mlp(in_units=5)
    mixed[0].initialize()
    return {"initialized": init, "deferred": lazy, "uninitialized": bare, "mixed": mixed}


@pytest.mark.parametrize("state", ["initialized", "deferred", "uninitialized", "mixed"])
def test_missing_parameter_fails_and_changes_nothing(saved_mlp, state):
    net = _targets()[state]
    net.add(nn.Dense(2, in_units=3))
    before = snapshot(net)
    with pytest.raises(ValueError) as info:
        net.load_parameters(saved_mlp)
    message = str(info.value)
    assert "'2.weight'" in message and "allow_missing=True" in message
    assert os.path.basename(saved_mlp) in message
    assert snapshot(net) == before
    net.load_parameters(saved_mlp, allow_missing=True)
    assert not net[2].weight._replicas  # left as it was
    assert net[0].weight.shape == (8, 5) and net[1].bias._replicas


@pytest.mark.parametrize("state", ["initialized", "deferred", "uninitialized", "mixed"])
def test_extra_parameter_fails_and_changes_nothing(saved_mlp, state):
    net = _targets()[state]
    small = nn.Sequential()
    small.add(net[0])
    before = snapshot(small)
    with pytest.raises(ValueError) as info:
        small.load_parameters(saved_mlp)
    assert "'1.weight'" in str(info.value) and "ignore_extra=True" in str(info.value)
    assert snapshot(small) == before
    small.load_parameters(saved_mlp, ignore_extra=True)
    assert values(small)["0.bias"].shape == (8,)


@pytest.mark.parametrize("state", ["initialized", "deferred", "uninitialized", "mixed"])
def test_shape_mismatch_fails_and_changes_nothing(saved_mlp, state):
    net = _targets()[state]
    net[1].weight.shape = (3, 8)  # keep the first layer right: the error is in the 2nd
    wrong = nn.Sequential()
    wrong.add(net[0], nn.Dense(3, in_units=7))
    if state == "initialized":
        wrong[1].initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    before = snapshot(wrong)
    with pytest.raises(ValueError) as info:
        wrong.load_parameters(saved_mlp)
    message = str(info.value)
    assert "(3, 7)" in message and "(3, 8)" in message and "'1.weight'" in message
    assert snapshot(wrong) == before


@pytest.mark.parametrize("state", ["initialized", "deferred", "uninitialized", "mixed"])
def test_dtype_mismatch_fails_and_changes_nothing(saved_mlp, state):
    net = _targets()[state]
    net[1].cast("float64")
    before = snapshot(net)
    with pytest.raises(TypeError, match=r"float64.*float32.*cast_dtype=True"):
        net.load_parameters(saved_mlp)
    assert snapshot(net) == before


def test_context_mismatch_fails_and_changes_nothing(saved_mlp):
    net = _targets()["initialized"]
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"already initialized on \[cpu\(0\), cpu\(1\)\]"):
        net.load_parameters(saved_mlp, ctx=mx.cpu(0))
    assert snapshot(net) == before
    net.load_parameters(saved_mlp, ctx=[mx.cpu(1), mx.cpu(0)])  # the same set is fine


def test_bad_file_fails_and_changes_nothing(tmp_path, saved_mlp):
    net = _targets()["initialized"]
    before = snapshot(net)
    data = Path(saved_mlp).read_bytes()
    broken = tmp_path / ("broken" + Path(saved_mlp).suffix)
    broken.write_bytes(data[: len(data) - 7])
    with pytest.raises(CheckpointFormatError, match="broken"):
        net.load_parameters(str(broken))
    with pytest.raises(OSError):
        net.load_parameters(str(tmp_path / "missing.params"))
    assert snapshot(net) == before


def test_unnamed_list_file_is_refused(tmp_path):
    path = str(tmp_path / "list.nd")
    mx.nd.save(path, [mx.nd.ones((2,))])
    with pytest.raises(CheckpointFormatError, match="unnamed list"):
        nn.Dense(2, in_units=1).load_parameters(path)


def test_format_mismatch_error_suggests_the_right_extension(tmp_path):
    net = mlp(in_units=5)
    net.initialize()
    net.save_parameters(str(tmp_path / "m.npz"))
    os.rename(tmp_path / "m.npz", tmp_path / "m.params")
    with pytest.raises(CheckpointFormatError, match=r"looks like the npz format.*\.npz"):
        mlp(in_units=5).load_parameters(str(tmp_path / "m.params"))


def test_empty_block_and_empty_file(tmp_path):
    path = str(tmp_path / "empty.params")
    nn.Sequential().save_parameters(path)
    nn.Sequential().load_parameters(path)
    with pytest.raises(ValueError, match="missing"):
        nn.Dense(2, in_units=2).load_parameters(path)


# ----------------------------------------------------------------------------- saving
def test_saving_uninitialized_or_deferred_raises_and_writes_nothing(tmp_path):
    bare = mlp(in_units=5)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        bare.save_parameters(str(tmp_path / "a.params"))
    lazy = mlp()
    lazy.initialize()
    with pytest.raises(DeferredInitializationError):
        lazy.save_parameters(str(tmp_path / "b.params"))
    assert files_in(tmp_path) == []


def test_filename_must_be_a_path():
    net = mlp(in_units=5)
    net.initialize()
    with pytest.raises(TypeError, match="filename"):
        net.save_parameters(3)
    with pytest.raises(TypeError, match="filename"):
        net.load_parameters(None)


def test_mxnet_format_bytes_match_nd_save(tmp_path):
    net = mlp(in_units=5)
    net.initialize()
    fill(net)
    a, b = tmp_path / "a.params", tmp_path / "b.params"
    net.save_parameters(str(a))
    mx.nd.save(str(b), {k: p.data() for k, p in net._collect_params_with_prefix().items()})
    assert a.read_bytes() == b.read_bytes()


def _fail_mid_write(fmt, monkeypatch):
    """Make the writer of ``fmt`` fail after it has written part of the new file."""
    boom = OSError("simulated disk full")
    if fmt == "params":
        real = _mxformat._write_chunks

        def half(handle, chunks):
            handle.write(next(iter(chunks)))
            raise boom

        monkeypatch.setattr(_mxformat, "_write_chunks", half)
        return real
    if fmt == "npz":
        calls = []
        real = np.lib.format.write_array

        def second_fails(fp, array, **kwargs):
            calls.append(1)
            if len(calls) > 2:
                raise boom
            real(fp, array, **kwargs)

        monkeypatch.setattr(np.lib.format, "write_array", second_fails)
        return real
    import paramlab._io as io_mod

    real = io_mod.atomic_write

    def partial(path, write_fn):
        with io_mod.atomic_writer(path) as handle:
            handle.write(b"partial safetensors bytes")
            raise boom

    monkeypatch.setattr("paramlab.ndarray._safetensorsformat.atomic_write", partial)
    return real


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("where", ["mid-write", "fsync", "rename"])
def test_failed_save_keeps_the_previous_file_and_no_temp_file(tmp_path, monkeypatch, ext, where):
    net = mlp(in_units=5)
    net.initialize()
    path = tmp_path / f"m.{ext}"
    net.save_parameters(str(path))
    before = path.read_bytes()
    fill(net, seed=3)
    if where == "mid-write":
        _fail_mid_write(ext, monkeypatch)
    elif where == "fsync":

        def bad_fsync(fd):
            raise OSError("simulated fsync failure")

        monkeypatch.setattr("paramlab._io.os.fsync", bad_fsync)
    else:

        def bad_replace(src, dst):
            raise OSError("simulated rename failure")

        monkeypatch.setattr("paramlab._io.os.replace", bad_replace)
    with pytest.raises(OSError, match="simulated"):
        net.save_parameters(str(path))
    assert path.read_bytes() == before
    assert files_in(tmp_path) == [path.name]
    monkeypatch.undo()
    net.save_parameters(str(path))
    assert path.read_bytes() != before


# ----------------------------------------------------------------------------- memory
@pytest.mark.slow
@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("target", ["initialized", "uninitialized"])
def test_loading_peaks_below_file_size_plus_parameters(tmp_path, ext, target):
    net = nn.Sequential()
    net.add(nn.Dense(2048, in_units=4096), nn.Dense(2048, in_units=4096 // 2))  # ~48 MiB
    net.add(nn.Dense(1024, in_units=4096))  # + 16 MiB
    net.initialize(mx.init.Zero())
    path = str(tmp_path / f"big.{ext}")
    net.save_parameters(path)
    del net
    size = os.path.getsize(path)
    params_bytes = (2048 * 4096 + 2048 + 2048 * 2048 + 2048 + 1024 * 4096 + 1024) * 4
    assert size >= 60 * MiB
    fresh = nn.Sequential()
    fresh.add(
        nn.Dense(2048, in_units=4096), nn.Dense(2048, in_units=2048), nn.Dense(1024, in_units=4096)
    )
    for p in fresh.collect_params().values():
        p.grad_req = "null"  # count only the values
    if target == "initialized":
        fresh.initialize(mx.init.Zero())
    tracemalloc.start()
    try:
        fresh.load_parameters(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    budget = size + (params_bytes if target == "uninitialized" else 0)
    assert peak <= budget + MiB, (peak / MiB, size / MiB)


# ----------------------------------------------------------------------------- reference MXNet
REF_ARCH = """
from mxnet.gluon import nn
def build():
    net = nn.Sequential()
    net.add(nn.Embedding(7, 3), nn.Dense(5, in_units=3), nn.BatchNorm(in_channels=5),
            nn.Dense(2, in_units=5))
    return net
"""


def build_ref_arch():
    net = nn.Sequential()
    net.add(
        nn.Embedding(7, 3),
        nn.Dense(5, in_units=3),
        nn.BatchNorm(in_channels=5),
        nn.Dense(2, in_units=5),
    )
    return net


@pytest.mark.mxnet_ref
def test_mxnet_loads_what_paramlab_saves(tmp_path, mxnet_ref):
    net = build_ref_arch()
    net.initialize()
    fill(net, seed=5)
    path = str(tmp_path / "paramlab.params")
    net.save_parameters(path)
    ref = mxnet_ref(
        REF_ARCH
        + f"""
import json, mxnet as mx
net = build()
net.load_parameters({path!r})
print(json.dumps({{k: [str(p.dtype.__name__ if hasattr(p.dtype, '__name__') else p.dtype),
                      p.data().asnumpy().tolist()]
                  for k, p in net._collect_params_with_prefix().items()}}))
"""
    )
    mine = values(net)
    assert sorted(ref) == sorted(mine)
    for key, (_, got) in ref.items():
        np.testing.assert_array_equal(np.array(got, np.float32), mine[key])


@pytest.mark.mxnet_ref
def test_paramlab_loads_what_mxnet_saves(tmp_path, mxnet_ref):
    path = str(tmp_path / "mxnet.params")
    dedup = str(tmp_path / "mxnet_dedup.params")
    ref = mxnet_ref(
        REF_ARCH
        + f"""
import json, numpy as np, mxnet as mx
net = build()
net.initialize()
rng = np.random.default_rng(7)
for p in net.collect_params().values():
    p.set_data(mx.nd.array(rng.integers(-64, 64, size=p.shape) / 16))
net.save_parameters({path!r})
shared = nn.Dense(4, in_units=4)
snet = nn.Sequential()
snet.add(nn.Dense(4, in_units=4), shared, nn.Dense(4, in_units=4, params=shared.params))
snet.initialize()
snet.save_parameters({dedup!r}, deduplicate=True)
print(json.dumps({{"values": {{k: p.data().asnumpy().tolist()
                              for k, p in net._collect_params_with_prefix().items()}},
                  "dedup_keys": list(mx.nd.load({dedup!r}).keys())}}))
"""
    )
    net = build_ref_arch()
    net.load_parameters(path)
    mine = values(net)
    assert sorted(mine) == sorted(ref["values"])
    for key, got in ref["values"].items():
        np.testing.assert_array_equal(mine[key], np.array(got, np.float32))
    shared = shared_net()
    shared.initialize()
    shared.save_parameters(str(tmp_path / "mine_dedup.params"), deduplicate=True)
    assert list(mx.nd.load(str(tmp_path / "mine_dedup.params"))) == ref["dedup_keys"]
    fresh = shared_net()
    fresh.load_parameters(dedup)
    assert fresh[1].weight is fresh[2].weight


@pytest.mark.mxnet_ref
def test_mxnet_and_paramlab_write_identical_bytes(tmp_path, mxnet_ref):
    net = build_ref_arch()
    net.initialize()
    fill(net, seed=9)
    mine = str(tmp_path / "mine.params")
    theirs = str(tmp_path / "theirs.params")
    net.save_parameters(mine)
    mxnet_ref(
        REF_ARCH
        + f"""
import json, mxnet as mx
net = build()
net.load_parameters({mine!r})
net.save_parameters({theirs!r})
print(json.dumps(True))
"""
    )
    assert Path(mine).read_bytes() == Path(theirs).read_bytes()


def test_fixture_copy_is_untouched_by_loading(tmp_path):
    src = DATA / "block_emb_dense_bn.params"
    copy = tmp_path / src.name
    shutil.copy(src, copy)
    emb_dense_bn().load_parameters(str(copy))
    assert copy.read_bytes() == src.read_bytes()
