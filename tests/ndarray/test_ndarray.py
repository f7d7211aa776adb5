"""NDArray: attributes, copies and contexts, indexing, math, reductions, operators, interop.

Property tests (hypothesis) compare arithmetic, broadcasting, reductions and the
gradients of broadcasting binary operators with NumPy; ``mxnet_ref`` tests compare
a sample of operations with the reference MXNet 1.9.1 on the same inputs.
"""

from __future__ import annotations

import operator
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import paramlab as mx
from paramlab import autograd
from paramlab.base import ContextMismatchError, MXNetError

nd = mx.nd
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _snapshot(*arrays):
    return [(a.asnumpy().copy(), a.version) for a in arrays]


def _unchanged(snap, *arrays):
    for (values, version), a in zip(snap, arrays):
        np.testing.assert_array_equal(a.asnumpy(), values)
        assert a.version == version


def _host(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ============================================================================= attributes
def test_attributes(ctx):
    x = nd.array(np.arange(24).reshape(2, 3, 4), ctx=ctx)
    assert x.shape == (2, 3, 4)
    assert x.dtype is np.float32
    assert x.size == 24 and isinstance(x.size, int)
    assert x.ndim == 3
    assert x.context == ctx and x.ctx == ctx and x.device == ctx
    assert x.stype == "default"
    assert x.T.shape == (4, 3, 2)
    assert x.grad is None
    assert x.version == 0


def test_dtype_is_a_numpy_type_class():
    for name in ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool"):
        assert nd.zeros((1,), dtype=name).dtype is np.dtype(name).type


def test_handle_is_the_raw_array():
    x = nd.ones((2,))
    assert isinstance(x.handle, np.ndarray) and x.handle.shape == (2,)


# ============================================================================= conversion
def test_asnumpy_is_a_copy(ctx):
    x = nd.array([1.0, 2.0], ctx=ctx)
    h = x.asnumpy()
    assert isinstance(h, np.ndarray) and h.dtype == np.float32
    h[0] = 100
    assert x.asnumpy()[0] == 1.0


def test_asscalar_and_item():
    x = nd.array([3.5])
    s = x.asscalar()
    assert isinstance(s, np.float32) and s == 3.5
    assert isinstance(x.item(), float) and x.item() == 3.5
    assert nd.array([7], dtype="int32").asscalar().dtype == np.int32
    assert isinstance(nd.array([7], dtype="int64").item(), int)
    assert float(x) == 3.5 and int(nd.array([2.9])) == 2
    with pytest.raises(ValueError, match=r"exactly one element, got shape \(2,\)"):
        nd.array([1, 2]).asscalar()
    with pytest.raises(ValueError, match="exactly one element"):
        nd.array([1, 2]).item()


def test_bool_len_iter_index():
    assert bool(nd.array([1])) and not bool(nd.array([0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(nd.ones((2,)))
    x = nd.arange(6).reshape((2, 3))
    assert len(x) == 2
    rows = list(x)
    assert [r.shape for r in rows] == [(3,), (3,)]
    np.testing.assert_array_equal(rows[1].asnumpy(), [3, 4, 5])
    assert [10, 20, 30][nd.array([2], dtype="int32")] == 30
    with pytest.raises(TypeError, match="only integer arrays"):
        operator.index(nd.array([1.0]))


def test_pickle_round_trip(ctx_list):
    for c in ctx_list:
        if c.kind == "gpu":
            continue
        x = nd.array([[1, 2], [3, 4]], ctx=c, dtype="float64")
        y = pickle.loads(pickle.dumps(x))
        assert y.context == c and y.dtype == np.float64
        np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())


# ============================================================================= copies and contexts
def test_copy_is_independent(ctx):
    x = nd.array([1.0, 2.0], ctx=ctx)
    y = x.copy()
    assert y is not x and y.context == ctx
    y[:] = 5
    assert x.asnumpy().tolist() == [1.0, 2.0]


def test_copyto_context_gives_a_new_array(ctx_list):
    a, b = ctx_list
    x = nd.array([1.0, 2.0], ctx=a)
    y = x.copyto(b)
    assert y.context == b and y is not x
    same = x.copyto(a)
    assert same is not x and same.context == a
    same[:] = 0
    assert x.asnumpy().tolist() == [1.0, 2.0]


def test_copyto_ndarray_writes_in_place(ctx_list):
    a, b = ctx_list
    x = nd.array([1.0, 2.0], ctx=a)
    target = nd.zeros((2,), ctx=b)
    v = target.version
    out = x.copyto(target)
    assert out is target and target.context == b
    assert target.asnumpy().tolist() == [1.0, 2.0] and target.version == v + 1
    assert x.copyto(x) is x


def test_copyto_casts_into_the_target_dtype():
    target = nd.zeros((2,), dtype="int32")
    nd.array([1.7, -2.2]).copyto(target)
    assert target.dtype == np.int32 and target.asnumpy().tolist() == [1, -2]


def test_copyto_errors_change_nothing():
    x = nd.array([1.0, 2.0, 3.0])
    target = nd.zeros((3, 1))
    snap = _snapshot(x, target)
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) does not match source shape"):
        x.copyto(target)
    with pytest.raises(TypeError, match="expected a Context or an NDArray, got str"):
        x.copyto("cpu(1)")
    _unchanged(snap, x, target)


def test_as_in_context(ctx_list):
    a, b = ctx_list
    x = nd.ones((2,), ctx=a)
    assert x.as_in_context(a) is x
    assert x.as_in_ctx(a) is x and x.to_device(a) is x
    y = x.as_in_context(b)
    assert y is not x and y.context == b
    with pytest.raises(TypeError, match="Context"):
        x.as_in_context(5)


def test_astype():
    x = nd.array([1.6, -2.6])
    y = x.astype("int32")
    assert y.dtype == np.int32 and y.asnumpy().tolist() == [1, -2]
    assert x.astype(np.float64).dtype == np.float64
    assert x.astype("float32", copy=False) is x
    assert x.astype("float32") is not x
    snap = _snapshot(x)
    with pytest.raises(TypeError, match="astype: unsupported dtype 'complex64'"):
        x.astype("complex64")
    _unchanged(snap, x)


def test_detach_shares_memory_and_drops_the_graph():
    x = nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = x * 2
    d = y.detach()
    assert d._node is None and np.shares_memory(d.handle, y.handle)


def test_np_and_nd_views_share_memory():
    x = nd.ones((2,))
    a = x.as_np_ndarray()
    assert isinstance(a, mx.np.ndarray) and np.shares_memory(a.handle, x.handle)
    b = a.as_nd_ndarray()
    assert type(b) is nd.NDArray and np.shares_memory(b.handle, x.handle)
    assert x.as_nd_ndarray() is not x and type(x.as_nd_ndarray()) is nd.NDArray


# ============================================================================= version counter
def test_version_bumped_by_writes_not_reads():
    x = nd.zeros((2, 3))
    v = x.version
    _ = x.asnumpy(), x + 1, x.sum(), x[0], x.T, x.copy(), x.copyto(mx.cpu(1)), np.asarray(x)
    repr(x)
    assert x.version == v
    x[:] = 1
    assert x.version == v + 1
    x[0, 1] = 5
    assert x.version == v + 2
    x += 1
    assert x.version == v + 3
    x -= 1
    x *= 2
    x /= 2
    assert x.version == v + 6
    nd.ones((2, 3)).copyto(x)
    assert x.version == v + 7
    x[:] += 1  # a read then a write through setitem
    assert x.version == v + 8


def test_inplace_operators_keep_identity_and_memory():
    x = nd.ones((3,))
    raw = x.handle
    y = x
    y += 2
    y *= nd.array([1.0, 2.0, 3.0])
    assert y is x and x.handle is raw
    assert x.asnumpy().tolist() == [3.0, 6.0, 9.0]


# ============================================================================= indexing
def test_getitem_shapes_and_values():
    h = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = nd.array(h)
    for key in [
        0,
        -1,
        (1, 2),
        (slice(None), 1),
        (1, slice(0, 2)),
        (slice(None), slice(None), 3),
        (Ellipsis, 1),
        slice(1, None),
        (0, slice(None, None, 2)),
    ]:
        np.testing.assert_array_equal(x[key].asnumpy().reshape(-1), h[key].reshape(-1))
    assert x[1].shape == (3, 4)
    assert x[1, 2].shape == (4,)
    assert x[:, 1].shape == (2, 4)


def test_integer_indexing_to_a_single_element_is_1d_in_mxnet_1x():
    x = nd.arange(6).reshape((2, 3))
    assert x[1, 2].shape == (1,) and x[1, 2].asscalar() == 5
    assert nd.arange(3)[1].shape == (1,)
    with mx.util.np_shape(True):
        assert x[1, 2].shape == ()


def test_fancy_indexing_with_ndarrays():
    x = nd.arange(12).reshape((3, 4))
    idx = nd.array([2, 0])
    np.testing.assert_array_equal(x[idx].asnumpy(), [[8, 9, 10, 11], [0, 1, 2, 3]])
    np.testing.assert_array_equal(
        x[nd.array([0, 2]), nd.array([1, 3], dtype="int32")].asnumpy(), [1, 11]
    )


def test_index_errors_name_the_axis():
    x = nd.zeros((2, 3))
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        x[2]
    with pytest.raises(IndexError, match="axis 1 with size 3"):
        x[0, 3]
    snap = _snapshot(x)
    with pytest.raises(IndexError):
        x[5] = 1
    with pytest.raises(IndexError):
        x[0, 7] = 1
    _unchanged(snap, x)


def test_setitem_values_and_broadcasting(ctx):
    x = nd.zeros((2, 3), ctx=ctx)
    x[:] = 1
    x[0] = nd.array([1, 2, 3], ctx=ctx)
    x[1, 1:] = np.array([7, 8])
    x[:, 0] = [9, 9]
    np.testing.assert_array_equal(x.asnumpy(), [[9, 2, 3], [9, 7, 8]])
    x[:] = nd.array([[5], [6]], ctx=ctx)
    np.testing.assert_array_equal(x.asnumpy(), [[5, 5, 5], [6, 6, 6]])
    x[nd.array([1])] = 0
    np.testing.assert_array_equal(x.asnumpy(), [[5, 5, 5], [0, 0, 0]])


def test_setitem_casts_into_the_dtype():
    x = nd.zeros((3,), dtype="int32")
    x[:] = nd.array([1.9, -1.9, 3])
    assert x.asnumpy().tolist() == [1, -1, 3] and x.dtype == np.int32


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        (
            slice(None),
            lambda: nd.ones((4,)),
            ValueError,
            r"value of shape \(4,\) to a selection of shape \(2, 3\)",
        ),
        (0, lambda: np.ones(2), ValueError, r"shape \(2,\) to a selection of shape \(3,\)"),
        (
            slice(None),
            lambda: nd.ones((2, 3), ctx=mx.cpu(1)),
            ContextMismatchError,
            r"cpu\(1\).*cpu\(0\)",
        ),
        (slice(None), lambda: "abc", TypeError, "expected an NDArray, a NumPy array or a scalar"),
        (slice(None), lambda: {1: 2}, TypeError, "got dict"),
    ],
    ids=["shape", "row-shape", "context", "str", "dict"],
)
def test_setitem_errors_change_nothing(key, value, error, match):
    x = nd.arange(6).reshape((2, 3))
    snap = _snapshot(x)
    with pytest.raises(error, match=match):
        x[key] = value()
    _unchanged(snap, x)


# ============================================================================= shape methods
def test_transpose_swapaxes_expand_squeeze_flatten():
    h = _host((2, 3, 4))
    x = nd.array(h)
    np.testing.assert_array_equal(x.transpose().asnumpy(), h.transpose())
    np.testing.assert_array_equal(x.transpose((1, 0, 2)).asnumpy(), h.transpose(1, 0, 2))
    np.testing.assert_array_equal(x.transpose(2, 0, 1).asnumpy(), h.transpose(2, 0, 1))
    np.testing.assert_array_equal(nd.transpose(x, axes=(0, 2, 1)).asnumpy(), h.transpose(0, 2, 1))
    np.testing.assert_array_equal(x.T.asnumpy(), h.T)
    np.testing.assert_array_equal(x.swapaxes(0, 2).asnumpy(), h.swapaxes(0, 2))
    assert x.expand_dims(0).shape == (1, 2, 3, 4)
    assert x.expand_dims(-1).shape == (2, 3, 4, 1)
    assert nd.expand_dims(x, 1).shape == (2, 1, 3, 4)
    assert nd.ones((1, 3, 1)).squeeze().shape == (3,)
    assert nd.ones((1, 3, 1)).squeeze(axis=2).shape == (1, 3)
    assert nd.ones((1, 1)).squeeze().shape == (1,)  # 1.x: never 0-d
    assert nd.ones((3,)).flatten().shape == (3, 1)
    assert x.flatten().shape == (2, 12)
    assert nd.flatten(x).shape == (2, 12)


def test_shape_method_errors():
    x = nd.ones((2, 3))
    snap = _snapshot(x)
    with pytest.raises(ValueError, match=r"axes \(0, 0\) are not a permutation for 2 dims"):
        x.transpose((0, 0))
    with pytest.raises(IndexError, match="axis 5 is out of range for 2 dims"):
        x.swapaxes(0, 5)
    with pytest.raises(IndexError, match="expand_dims: axis 4"):
        x.expand_dims(4)
    with pytest.raises(ValueError, match="squeeze: axis 0 has length 2, not 1"):
        x.squeeze(0)
    _unchanged(snap, x)


def test_broadcast_to_and_like():
    x = nd.array([[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(
        x.broadcast_to((3, 4)).asnumpy(), np.repeat([[1], [2], [3]], 4, 1)
    )
    assert x.broadcast_to((2, 3, 4)).shape == (2, 3, 4)
    assert x.broadcast_to((0, 4)).shape == (3, 4)  # 0 keeps the dimension
    assert x.broadcast_like(nd.zeros((3, 5))).shape == (3, 5)
    assert nd.broadcast_to(x, (3, 2)).shape == (3, 2)
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(3, 1\) to \(2, 4\)"):
        x.broadcast_to((2, 4))


def test_broadcast_result_is_writable_and_independent():
    x = nd.ones((1, 2))
    y = x.broadcast_to((3, 2))
    y[0, 0] = 7
    assert x.asnumpy().tolist() == [[1.0, 1.0]]


# ============================================================================= elementwise math
UNARY = [
    ("exp", np.exp, (-3, 3)),
    ("log", np.log, (0.1, 5)),
    ("log1p", np.log1p, (-0.5, 5)),
    ("expm1", np.expm1, (-3, 3)),
    ("sqrt", np.sqrt, (0.1, 5)),
    ("rsqrt", lambda a: 1 / np.sqrt(a), (0.1, 5)),
    ("square", np.square, (-3, 3)),
    ("reciprocal", np.reciprocal, (0.5, 3)),
    ("abs", np.abs, (-3, 3)),
    ("sign", np.sign, (-3, 3)),
    ("floor", np.floor, (-3, 3)),
    ("ceil", np.ceil, (-3, 3)),
    ("sin", np.sin, (-3, 3)),
    ("cos", np.cos, (-3, 3)),
    ("tanh", np.tanh, (-3, 3)),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a)), (-10, 10)),
    ("relu", lambda a: np.maximum(a, 0), (-3, 3)),
    ("softrelu", lambda a: np.log1p(np.exp(a)), (-5, 5)),
    ("softsign", lambda a: a / (1 + np.abs(a)), (-3, 3)),
]


@pytest.mark.parametrize(("name", "ref", "bounds"), UNARY, ids=[u[0] for u in UNARY])
def test_unary_math_matches_numpy(name, ref, bounds, ctx):
    h = np.random.default_rng(1).uniform(*bounds, size=(3, 4)).astype(np.float32)
    x = nd.array(h, ctx=ctx)
    expected = ref(h.astype(np.float64))
    for y in (getattr(x, name)(), getattr(nd, name)(x)):
        assert y.shape == (3, 4) and y.dtype == np.float32 and y.context == ctx
        np.testing.assert_allclose(y.asnumpy(), expected, rtol=2e-6, atol=2e-7)


def test_relu_has_no_negative_zero():
    y = nd.relu(nd.array([-1.0, -0.0, 2.0]))
    assert np.signbit(y.asnumpy()).tolist() == [False, False, False]


def test_round_and_rint_follow_mxnet():
    x = nd.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999997, -2.7])
    assert x.round().asnumpy().tolist() == [1, 2, 3, -1, -2, 0, -3]  # halves away from zero
    assert nd.round(x).asnumpy().tolist() == [1, 2, 3, -1, -2, 0, -3]
    assert x.rint().asnumpy().tolist() == [0, 1, 2, -1, -2, 0, -3]  # halves down
    assert nd.rint(x).asnumpy().tolist() == [0, 1, 2, -1, -2, 0, -3]
    assert mx.np.round(x.as_np_ndarray()).asnumpy().tolist() == [0, 2, 2, 0, -2, 0, -3]


def test_clip_abs_maximum_minimum():
    x = nd.array([[3, 1, 2], [-1, 5, 4]])
    np.testing.assert_array_equal(x.clip(0, 3).asnumpy(), [[3, 1, 2], [0, 3, 3]])
    np.testing.assert_array_equal(
        nd.clip(x, -0.5, 0.5).asnumpy(), [[0.5, 0.5, 0.5], [-0.5, 0.5, 0.5]]
    )
    np.testing.assert_array_equal(abs(x).asnumpy(), np.abs(x.asnumpy()))
    np.testing.assert_array_equal(nd.maximum(x, 2).asnumpy(), [[3, 2, 2], [2, 5, 4]])
    np.testing.assert_array_equal(nd.minimum(2, x).asnumpy(), [[2, 1, 2], [-1, 2, 2]])
    np.testing.assert_array_equal(
        nd.minimum(x, nd.array([[0], [10]])).asnumpy(), [[0, 0, 0], [-1, 5, 4]]
    )
    assert x.clip(0, 3).dtype == np.float32
    assert nd.array([1, 5], dtype="int32").clip(2, 3).dtype == np.int32


def test_function_spellings_of_binary_ops():
    a, b = nd.array([1.0, 2.0]), nd.array([4.0, 8.0])
    for fn, op in [
        (nd.add, operator.add),
        (nd.subtract, operator.sub),
        (nd.multiply, operator.mul),
        (nd.divide, operator.truediv),
        (nd.power, operator.pow),
        (nd.broadcast_add, operator.add),
        (nd.elemwise_mul, operator.mul),
        (nd.broadcast_div, operator.truediv),
    ]:
        np.testing.assert_array_equal(fn(a, b).asnumpy(), op(a.asnumpy(), b.asnumpy()))
    np.testing.assert_array_equal(nd.add(1, a).asnumpy(), [2, 3])
    np.testing.assert_array_equal(nd.subtract(1, a).asnumpy(), [0, -1])
    np.testing.assert_array_equal(nd.negative(a).asnumpy(), [-1, -2])
    np.testing.assert_array_equal(nd.add_n(a, b, a).asnumpy(), [6, 12])
    with pytest.raises(TypeError, match="at least one argument must be an NDArray"):
        nd.add(1, 2)


# ============================================================================= reductions
def test_full_reductions_have_shape_1_in_mxnet_1x():
    x = nd.array([[3, 1, 2], [-1, 5, 4]])
    for name, expected in [("sum", 14), ("mean", 14 / 6), ("max", 5), ("min", -1), ("prod", -120)]:
        r = getattr(x, name)()
        assert r.shape == (1,) and r.dtype == np.float32
        np.testing.assert_allclose(r.asscalar(), expected, rtol=1e-6)
        assert getattr(nd, name)(x).shape == (1,)
        assert getattr(x, name)(keepdims=True).shape == (1, 1)


def test_reductions_with_axis_keepdims_exclude():
    h = np.array([[3, 1, 2], [-1, 5, 4]], np.float32)
    x = nd.array(h)
    np.testing.assert_array_equal(x.sum(axis=0).asnumpy(), h.sum(axis=0))
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).asnumpy(), h.sum(1, keepdims=True))
    np.testing.assert_array_equal(x.sum(axis=1, exclude=True).asnumpy(), h.sum(axis=0))
    np.testing.assert_array_equal(x.max(axis=(0, 1), keepdims=True).asnumpy(), [[5]])
    np.testing.assert_array_equal(x.min(axis=-1).asnumpy(), [1, -1])
    np.testing.assert_array_equal(x.prod(axis=0).asnumpy(), [-3, 5, 8])
    np.testing.assert_allclose(x.mean(axis=-1, keepdims=True).asnumpy(), [[2], [8 / 3]])
    with pytest.raises(IndexError, match="reduction axis 2 is out of range for an array of 2"):
        x.sum(axis=2)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8", "float16"])
def test_reductions_keep_the_dtype_in_mxnet_1x(dtype):
    x = nd.array([1, 2, 100], dtype=dtype)
    for name in ("sum", "mean", "max", "min", "prod"):
        assert getattr(x, name)().dtype is np.dtype(dtype).type, name
    assert x.sum().asscalar() == 103
    assert nd.array([1, 2, 4], dtype="int32").mean().asscalar() == 2  # truncated, as MXNet


def test_norm():
    x = nd.array([[3, 1, 2], [-1, 5, 4]])
    h = x.asnumpy()
    np.testing.assert_allclose(x.norm().asnumpy(), [np.sqrt((h**2).sum())], rtol=1e-6)
    assert x.norm().shape == (1,)
    np.testing.assert_allclose(x.norm(ord=1).asnumpy(), [16.0])
    np.testing.assert_allclose(x.norm(axis=1).asnumpy(), np.linalg.norm(h, axis=1), rtol=1e-6)
    assert x.norm(axis=1, keepdims=True).shape == (2, 1)
    assert nd.norm(x, ord=1, axis=0).shape == (3,)
    with pytest.raises(ValueError, match="ord must be 1 or 2, got 3"):
        x.norm(ord=3)


def test_argmax_argmin_are_float32_in_mxnet_1x():
    x = nd.array([[3, 1, 2], [-1, 5, 4]])
    a = x.argmax()
    assert a.dtype == np.float32 and a.shape == (1,) and a.asscalar() == 4
    np.testing.assert_array_equal(x.argmax(axis=1).asnumpy(), [0, 1])
    assert x.argmax(axis=1).dtype == np.float32
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_array_equal(nd.argmin(x, axis=0).asnumpy(), [1, 0, 0])
    with pytest.raises(IndexError, match="axis 2 is out of range for 2 dims"):
        x.argmax(axis=2)


def test_topk():
    x = nd.array([[3, 1, 2], [-1, 5, 4]])
    idx = x.topk()
    assert idx.shape == (2, 1) and idx.dtype == np.float32
    np.testing.assert_array_equal(idx.asnumpy(), [[0], [1]])
    np.testing.assert_array_equal(x.topk(k=2, ret_typ="value").asnumpy(), [[3, 2], [5, 4]])
    val, ind = x.topk(k=2, ret_typ="both", axis=0)
    np.testing.assert_array_equal(val.asnumpy(), [[3, 5, 4], [-1, 1, 2]])
    np.testing.assert_array_equal(ind.asnumpy(), [[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(x.topk(k=2, ret_typ="mask").asnumpy(), [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(x.topk(k=2, is_ascend=True).asnumpy(), [[1, 2], [0, 2]])
    np.testing.assert_array_equal(x.topk(axis=None, k=3).asnumpy(), [4, 5, 0])
    assert nd.topk(x, k=1, dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match="k must be between 1 and 3, got 4"):
        x.topk(k=4)
    with pytest.raises(ValueError, match="ret_typ must be"):
        x.topk(ret_typ="values")


# ============================================================================= operators
def test_arithmetic_with_scalars_and_reflected():
    x = nd.array([1.0, 2.0, 4.0])
    h = x.asnumpy()
    cases = [
        (x + 1, h + 1),
        (1 + x, 1 + h),
        (x - 1, h - 1),
        (1 - x, 1 - h),
        (x * 3, h * 3),
        (3 * x, 3 * h),
        (x / 2, h / 2),
        (2 / x, 2 / h),
        (x**2, h**2),
        (2**x, 2**h),
        (-x, -h),
        (+x, h),
        (x % 3, h % 3),
        (5 % x, 5 % h),
        (x + np.float64(1), h + 1),
    ]
    for got, expected in cases:
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-6)


def test_integer_arrays_keep_their_dtype_with_float_scalars():
    # MXNet 1.x casts the scalar to the array's dtype and keeps the dtype
    i = nd.array([1, 2, -3], dtype="int32")
    for got, expected in [
        (i / 2, [0, 1, -1]),
        (i + 1.5, [2, 3, -2]),
        (3 / i, [3, 1, -1]),
        (i * 2, [2, 4, -6]),
        (i**2, [1, 4, 9]),
        (i - 0.5, [1, 2, -3]),
        (i % 2, [1, 0, 1]),
    ]:
        assert got.dtype == np.int32
        assert got.asnumpy().tolist() == expected
    j = nd.array([1, 2, -3], dtype="int32")
    j += 1.5
    j /= 2
    assert j.dtype == np.int32 and j.asnumpy().tolist() == [1, 1, -1]


def test_comparisons_keep_the_dtype_in_mxnet_1x():
    x = nd.array([1.0, 2.0, 3.0])
    y = nd.array([3.0, 2.0, 1.0])
    for got, expected in [
        (x == y, [0, 1, 0]),
        (x != y, [1, 0, 1]),
        (x < y, [1, 0, 0]),
        (x <= y, [1, 1, 0]),
        (x > y, [0, 0, 1]),
        (x >= y, [0, 1, 1]),
        (x == 2, [0, 1, 0]),
        (2 < x, [0, 0, 1]),
        (x > 1.5, [0, 1, 1]),
    ]:
        assert got.dtype == np.float32 and got.asnumpy().tolist() == expected
    assert (nd.array([1, 2], dtype="int32") == 2).dtype == np.int32
    assert (x == None) is False and (x != None) is True  # noqa: E711
    x *= x.abs() >= 2  # d2l: data *= data.abs() >= 5
    assert x.asnumpy().tolist() == [0.0, 2.0, 3.0]


def test_ndarray_is_hashable_by_identity():
    x = nd.ones((1,))
    assert {x: 1}[x] == 1


def test_inplace_shape_errors_change_nothing():
    x = nd.ones((2, 3))
    snap = _snapshot(x)
    for op in (operator.iadd, operator.isub, operator.imul, operator.itruediv):
        with pytest.raises(ValueError, match=r"cannot combine shape \(3, 2\) into shape \(2, 3\)"):
            op(x, nd.ones((3, 2)))
        with pytest.raises(ValueError, match="in place"):
            op(x, nd.ones((2, 2, 3)))  # broadcasts, but not into x's shape
    _unchanged(snap, x)


def test_inplace_into_int_array_from_a_float_array_is_refused():
    i = nd.array([1, 2], dtype="int32")
    snap = _snapshot(i)
    with pytest.raises(TypeError, match=r"\+=: Cannot cast"):
        i += nd.array([0.5, 0.5])
    _unchanged(snap, i)


def test_binary_with_numpy_or_lists_is_refused():
    x = nd.ones((3,))
    for other in (np.ones(3), [1, 2, 3], (1, 2, 3)):
        with pytest.raises(TypeError, match=r"convert it with mx\.nd\.array"):
            x + other
    with pytest.raises(TypeError, match=r"convert it with mx\.nd\.array"):
        np.ones(3) + x
    with pytest.raises(TypeError):
        x + "a"


def test_incompatible_shapes_raise():
    with pytest.raises(ValueError):
        nd.ones((2, 3)) + nd.ones((3, 2))


# ============================================================================= contexts never mix
BINARY_OPS = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.pow,
    nd.maximum,
    nd.minimum,
]


@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda f: f.__name__)
def test_binary_ops_refuse_mixed_contexts(op, ctx_list):
    a = nd.ones((2, 2), ctx=ctx_list[0])
    b = nd.ones((2, 2), ctx=ctx_list[1])
    snap = _snapshot(a, b)
    with pytest.raises(ContextMismatchError) as info:
        op(a, b)
    assert isinstance(info.value, MXNetError) and isinstance(info.value, RuntimeError)
    assert str(ctx_list[0]) in str(info.value) and str(ctx_list[1]) in str(info.value)
    _unchanged(snap, a, b)


@pytest.mark.parametrize("op", [operator.iadd, operator.imul, operator.isub, operator.itruediv])
def test_inplace_ops_refuse_mixed_contexts(op, ctx_list):
    a = nd.ones((2,), ctx=ctx_list[0])
    b = nd.ones((2,), ctx=ctx_list[1])
    snap = _snapshot(a, b)
    with pytest.raises(ContextMismatchError, match="copy it first"):
        op(a, b)
    _unchanged(snap, a, b)


def test_setitem_and_functions_refuse_mixed_contexts(ctx_list):
    a = nd.zeros((2, 2), ctx=ctx_list[0])
    b = nd.ones((2, 2), ctx=ctx_list[1])
    snap = _snapshot(a, b)
    with pytest.raises(ContextMismatchError):
        a[:] = b
    with pytest.raises(ContextMismatchError):
        a[0] = b[0]
    for call in (
        lambda: nd.concat(a, b),
        lambda: nd.stack(a, b),
        lambda: nd.dot(a, b),
        lambda: nd.where(a, a, b),
        lambda: a == b,
        lambda: a % b,
    ):
        with pytest.raises(ContextMismatchError):
            call()
    _unchanged(snap, a, b)


# ============================================================================= interop
def test_array_protocol_shares_memory_on_cpu():
    x = nd.arange(4)
    h = np.asarray(x)
    assert np.shares_memory(h, x.handle)
    assert np.array(x, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(x, copy=True), x.handle)


def test_dlpack_round_trip(ctx):
    x = nd.arange(6, ctx=ctx).reshape((2, 3))
    y = nd.from_dlpack(x)
    assert y.shape == x.shape and y.context.kind == ctx.kind
    y[0, 0] = 42
    assert x.asnumpy()[0, 0] == 42  # the same memory
    if ctx.kind == "cpu":
        z = np.from_dlpack(x)
        assert np.shares_memory(z, x.handle)


def test_from_numpy_zero_copy():
    src = np.zeros(3, np.float32)
    x = nd.from_numpy(src)
    x[:] = 2  # writes go to the NumPy array
    assert src.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.gpu
def test_gpu_array_refuses_implicit_host_conversion():
    x = nd.ones((2,), ctx=mx.gpu(0))
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(x)
    assert x.__cuda_array_interface__["shape"] == (2,)


def test_cuda_array_interface_absent_on_cpu():
    assert not hasattr(nd.ones((1,)), "__cuda_array_interface__")


# ============================================================================= property tests
FLOATS = st.floats(-8, 8, width=32, allow_nan=False, allow_infinity=False)


@st.composite
def _broadcast_pair(draw, min_dims=0):
    a_shape, b_shape = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=3, max_side=4)
    ).input_shapes
    a = draw(hnp.arrays(np.float32, a_shape, elements=FLOATS))
    b = draw(hnp.arrays(np.float32, b_shape, elements=FLOATS))
    return a, b


@st.composite
def _into_pair(draw):
    """(a, b) where b broadcasts into a's shape (for in-place operators)."""
    a_shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    keep = draw(st.integers(0, len(a_shape)))
    b_shape = tuple(n if draw(st.booleans()) else 1 for n in a_shape[len(a_shape) - keep :])
    a = draw(hnp.arrays(np.float32, a_shape, elements=FLOATS))
    b = draw(hnp.arrays(np.float32, b_shape or (1,), elements=FLOATS))
    return a, b


def _positive(h):
    return (np.abs(h) + np.float32(0.5)).astype(np.float32)


ARITH = [operator.add, operator.sub, operator.mul, operator.truediv]
COMPARE = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


def _make(cls, h, ctx):
    return (mx.np.array if cls == "np" else nd.array)(h, ctx=ctx)


@PROPERTY
@given(
    pair=_broadcast_pair(),
    op=st.sampled_from(ARITH + [operator.pow]),
    cls=st.sampled_from(["nd", "np"]),
)
@example(
    pair=(np.ones((3, 1), np.float32), np.full((1, 4), 2, np.float32)), op=operator.add, cls="nd"
)
@example(pair=(np.array(2.5, np.float32), np.ones((2, 3), np.float32)), op=operator.mul, cls="np")
@example(
    pair=(np.ones((2, 3), np.float32), np.array(-1.5, np.float32)), op=operator.truediv, cls="np"
)
def test_property_binary_arithmetic_matches_numpy(pair, op, cls):
    ha, hb = pair
    if op in (operator.truediv, operator.pow):
        hb = _positive(hb) if op is operator.truediv else np.clip(hb, -2, 2)
    if op is operator.pow:
        ha = _positive(ha)
    a, b = _make(cls, ha, mx.cpu(1)), _make(cls, hb, mx.cpu(1))
    got = op(a, b)
    expected = op(a.asnumpy(), b.asnumpy())  # nd turns 0-d inputs into shape (1,)
    assert got.shape == expected.shape and got.dtype == np.float32 and got.context == mx.cpu(1)
    if op is operator.pow:
        np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got.asnumpy(), expected)


@PROPERTY
@given(
    h=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=FLOATS),
    s=st.floats(-4, 4, allow_nan=False).filter(lambda v: abs(v) > 0.25),
    op=st.sampled_from([*ARITH, operator.pow]),
    cls=st.sampled_from(["nd", "np"]),
)
def test_property_scalar_and_reflected_forms(h, s, op, cls):
    x = _make(cls, h, mx.cpu(0))
    hx = x.asnumpy()
    if op in (operator.truediv, operator.pow):
        hx = _positive(hx)
        x = _make(cls, hx, mx.cpu(0))
    if op is operator.pow:
        s = abs(s)
    for got, expected in [(op(x, s), op(hx, s)), (op(s, x), op(s, hx))]:
        assert got.dtype == np.float32 and got.shape == hx.shape
        np.testing.assert_allclose(got.asnumpy(), expected.astype(np.float32), rtol=1e-5, atol=1e-6)


@PROPERTY
@given(
    pair=_into_pair(),
    op=st.sampled_from([operator.iadd, operator.isub, operator.imul, operator.itruediv]),
    scalar=st.booleans(),
)
def test_property_inplace_operators(pair, op, scalar):
    ha, hb = pair
    if op is operator.itruediv:
        hb = _positive(hb)
    x = nd.array(ha, ctx=mx.cpu(1))
    raw, version = x.handle, x.version
    other = float(hb.reshape(-1)[0]) if scalar else nd.array(hb, ctx=mx.cpu(1))
    expected = op(ha.copy(), np.float32(other) if scalar else hb)
    y = op(x, other)
    assert y is x and x.handle is raw and x.version == version + 1
    np.testing.assert_allclose(x.asnumpy(), expected, rtol=1e-6, atol=1e-6)


@PROPERTY
@given(pair=_broadcast_pair(), op=st.sampled_from(COMPARE), cls=st.sampled_from(["nd", "np"]))
def test_property_comparisons(pair, op, cls):
    ha, hb = pair
    hb = np.where(np.arange(hb.size).reshape(hb.shape) % 3 == 0, hb, np.float32(1.0))
    a, b = _make(cls, ha, mx.cpu(0)), _make(cls, hb, mx.cpu(0))
    got = op(a, b)
    expected = op(a.asnumpy(), b.asnumpy())
    if cls == "np":
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.asnumpy(), expected)
    else:
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.asnumpy(), expected.astype(np.float32))


@st.composite
def _reduction_case(draw):
    h = draw(
        hnp.arrays(
            np.float32,
            hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
            elements=st.floats(-2, 2, width=32),
        )
    )
    axes = draw(
        st.one_of(
            st.none(),
            st.integers(-h.ndim, h.ndim - 1),
            st.lists(st.integers(0, h.ndim - 1), min_size=1, max_size=h.ndim, unique=True).map(
                tuple
            ),
        )
    )
    return h, axes, draw(st.booleans())


@PROPERTY
@given(
    case=_reduction_case(),
    name=st.sampled_from(["sum", "mean", "max", "min", "prod"]),
    cls=st.sampled_from(["nd", "np"]),
)
def test_property_reductions(case, name, cls):
    h, axis, keepdims = case
    x = _make(cls, h, mx.cpu(1))
    got = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = np.asarray(getattr(h.astype(np.float64), name)(axis=axis, keepdims=keepdims))
    if cls == "nd" and expected.ndim == 0:
        expected = expected.reshape(1)  # MXNet 1.x: no 0-d results
    assert got.shape == expected.shape and got.dtype == np.float32 and got.context == mx.cpu(1)
    np.testing.assert_allclose(got.asnumpy(), expected, rtol=2e-5, atol=2e-5)


@PROPERTY
@given(case=_reduction_case())
def test_property_argmax_argmin(case):
    h, axis, keepdims = case
    if isinstance(axis, tuple):
        axis = axis[0]
    x = nd.array(h)
    for name in ("argmax", "argmin"):
        got = getattr(x, name)(axis=axis, keepdims=keepdims and axis is not None)
        expected = np.asarray(getattr(h, name)(axis=axis, keepdims=keepdims and axis is not None))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.asnumpy().reshape(-1), expected.reshape(-1))


def _unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (written independently of paramlab's helper)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def _expected_grads(name, a, b, w):
    a, b, w = (v.astype(np.float64) for v in (a, b, w))
    if name == "add":
        return w, w
    if name == "sub":
        return w, -w
    if name == "mul":
        return w * b, w * a
    if name == "div":
        return w / b, -w * a / b**2
    if name == "pow":
        return w * b * a ** (b - 1), w * a**b * np.log(a)
    if name == "maximum":
        return w * (a >= b), w * (a < b)
    if name == "minimum":
        return w * (a <= b), w * (a > b)
    raise AssertionError(name)


GRAD_OPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
    "maximum": nd.maximum,
    "minimum": nd.minimum,
}


@PROPERTY
@given(
    pair=_broadcast_pair(min_dims=1),
    name=st.sampled_from(sorted(GRAD_OPS)),
    seed=st.integers(0, 2**16),
)
@example(pair=(np.ones((3, 1), np.float32), np.ones((1, 4), np.float32)), name="mul", seed=0)
@example(pair=(np.ones((1,), np.float32), np.ones((2, 3), np.float32)), name="div", seed=1)
def test_property_broadcast_gradients_match_numpy(pair, name, seed):
    ha, hb = pair
    if name in ("div", "pow"):
        hb = _positive(hb) if name == "div" else np.clip(hb, -2, 2)
    if name == "pow":
        ha = _positive(ha)
    a, b = nd.array(ha, ctx=mx.cpu(1)), nd.array(hb, ctx=mx.cpu(1))
    a.attach_grad()
    b.attach_grad()
    out_shape = np.broadcast_shapes(ha.shape, hb.shape)
    w = np.random.default_rng(seed).standard_normal(out_shape).astype(np.float32)
    with autograd.record():
        loss = (GRAD_OPS[name](a, b) * nd.array(w, ctx=mx.cpu(1))).sum()
    loss.backward()
    ga, gb = _expected_grads(
        name, np.broadcast_to(ha, out_shape), np.broadcast_to(hb, out_shape), w
    )
    assert a.grad.shape == ha.shape and b.grad.shape == hb.shape
    np.testing.assert_allclose(a.grad.asnumpy(), _unbroadcast(ga, ha.shape), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(b.grad.asnumpy(), _unbroadcast(gb, hb.shape), rtol=1e-4, atol=1e-4)


def test_broadcast_gradient_of_scalar_like_against_matrix_np_mode():
    # ()x(2,3) with true 0-d arrays (NumPy mode)
    mx.npx.set_np()
    a = mx.np.array(np.float32(2.0))
    b = mx.np.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        y = (a * b + b / a).sum()
    y.backward()
    assert a.grad.shape == () and b.grad.shape == (2, 3)
    np.testing.assert_allclose(a.grad.asnumpy(), 15.0 - 15.0 / 4.0, rtol=1e-6)
    np.testing.assert_allclose(b.grad.asnumpy(), np.full((2, 3), 2.5), rtol=1e-6)


# ============================================================================= reference MXNet
def _summary(x):
    if isinstance(x, (list, tuple)):
        return [_summary(v) for v in x]
    return [list(x.shape), np.dtype(x.dtype).name, x.asnumpy().tolist()]


def _run_both(mxnet_ref, setup, exprs, np_mode=False):
    """Evaluate ``exprs`` after ``setup`` in MXNet and in paramlab; return both summaries."""
    code = f"""
        import json
        import numpy as np
        import mxnet as mx
        from mxnet import nd
        def summary(x):
            if isinstance(x, (list, tuple)):
                return [summary(v) for v in x]
            return [list(x.shape), np.dtype(x.dtype).name, x.asnumpy().tolist()]
        if {np_mode!r}:
            mx.npx.set_np()
        {setup}
        print(json.dumps([summary(eval(e)) for e in {exprs!r}]))
    """
    ref = mxnet_ref(code)
    if np_mode:
        mx.npx.set_np()
    scope = {"mx": mx, "nd": nd, "np": np}
    exec(setup, scope)
    ours = [_summary(eval(e, scope)) for e in exprs]
    return ours, ref


def _assert_close(ours, ref, rtol=1e-5):
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        if not isinstance(o[1], str):  # a list of results, not one [shape, dtype, values]
            _assert_close(o, r, rtol)
            continue
        assert o[0] == r[0], (o, r)  # shape
        assert o[1] == r[1], (o, r)  # dtype
        np.testing.assert_allclose(
            np.array(o[2], np.float64), np.array(r[2], np.float64), rtol=rtol, atol=1e-6
        )


SETUP = (
    "x = nd.array(np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.37 - 3.1); "
    "y = nd.array([[1.5], [-2.0], [0.25]]); z = nd.array([[3, 1, 2], [-1, 5, 4]]); "
    "c = nd.array([[1.5], [-2.0]])"
)


@pytest.mark.mxnet_ref
def test_reductions_match_mxnet(mxnet_ref):
    exprs = [
        f"x.{n}({a})"
        for n in ("sum", "mean", "max", "min", "prod")
        for a in (
            "",
            "axis=1",
            "axis=(0, 2)",
            "axis=-1, keepdims=True",
            "keepdims=True",
            "axis=1, exclude=True",
        )
    ]
    exprs += [
        "x.norm()",
        "x.norm(axis=1)",
        "x.norm(ord=1, axis=(0, 1), keepdims=True)",
        "nd.array([1, 2, 200], dtype='int32').sum()",
        "nd.array([1, 2, 200], dtype='uint8').mean()",
        "nd.array([[1, 2], [3, 4]], dtype='int64').prod(axis=0)",
    ]
    ours, ref = _run_both(mxnet_ref, SETUP, exprs)
    _assert_close(ours, ref, rtol=1e-5)


@pytest.mark.mxnet_ref
def test_arg_and_topk_match_mxnet(mxnet_ref):
    exprs = [
        "z.argmax()",
        "z.argmax(axis=1)",
        "z.argmin(axis=0, keepdims=True)",
        "nd.argmax(x, axis=-1)",
        "z.topk()",
        "z.topk(k=2, ret_typ='value')",
        "z.topk(k=2, ret_typ='both', axis=0)",
        "z.topk(k=2, ret_typ='mask')",
        "z.topk(k=2, is_ascend=True)",
        "z.topk(axis=None, k=3)",
        "z.topk(k=1, dtype='int32')",
        "nd.topk(x, axis=1, k=2)",
    ]
    ours, ref = _run_both(mxnet_ref, SETUP, exprs)
    _assert_close(ours, ref)


@pytest.mark.mxnet_ref
def test_dot_and_shapes_match_mxnet(mxnet_ref):
    exprs = [
        "nd.dot(x, nd.ones((4, 5)))",
        "nd.dot(x, nd.ones((4, 2, 3)))",
        "nd.dot(z, z, transpose_b=True)",
        "nd.dot(z, z, transpose_a=True)",
        "nd.dot(nd.arange(3), nd.arange(3))",
        "nd.dot(z, nd.arange(3))",
        "nd.batch_dot(x, x, transpose_b=True)",
        "x.T",
        "x.swapaxes(0, 2)",
        "x.transpose((1, 0, 2))",
        "x.flatten()",
        "nd.ones((3,)).flatten()",
        "x.expand_dims(1)",
        "nd.ones((1, 3, 1)).squeeze()",
        "nd.ones((1, 1)).squeeze()",
        "y.broadcast_to((2, 3, 4))",
        "x[1]",
        "x[1, 2]",
        "x[1, 2, 3]",
        "x[:, 1:, ::2]",
        "x[-1, :, 0]",
        "z.clip(0, 3)",
        "nd.round(y)",
        "nd.rint(y)",
        "nd.relu(z - 2)",
    ]
    ours, ref = _run_both(mxnet_ref, SETUP, exprs)
    _assert_close(ours, ref)


@pytest.mark.mxnet_ref
def test_broadcasting_arithmetic_and_comparisons_match_mxnet(mxnet_ref):
    exprs = []
    for op in ("+", "-", "*", "/", "**"):
        exprs += [
            f"nd.broadcast_{n}(c, z)"
            for n in {"+": ["add"], "-": ["sub"], "*": ["mul"], "/": ["div"]}.get(op, [])
        ]
        exprs += [f"c.abs() {op} z.abs()", f"z {op} 2", f"2 {op} (z.abs() + 1)"]
    for op in ("==", "!=", "<", "<=", ">", ">="):
        exprs += [f"c {op} z", f"z {op} 2"]
    exprs += [
        "nd.array([1, 2], dtype='int32') == 2",
        "nd.array([1, 2, -3], dtype='int32') / 2",
        "nd.array([1, 2, -3], dtype='int32') + 1.5",
        "3 / nd.array([1, 2], dtype='int32')",
        "z % 3",
        "5 % (z.abs() + 1)",
        "nd.maximum(c, z)",
        "nd.minimum(z, 1)",
    ]
    ours, ref = _run_both(mxnet_ref, SETUP, exprs)
    _assert_close(ours, ref)


@pytest.mark.mxnet_ref
def test_np_mode_results_match_mxnet(mxnet_ref):
    setup = (
        "a = mx.np.array([[3, 1, 2], [-1, 5, 4]]); "
        "b = mx.np.array(np.array([1, 2, 200], dtype=np.int32))"
    )
    exprs = [
        "a.sum()",
        "a.mean(axis=0)",
        "a.max(axis=1, keepdims=True)",
        "a.argmax()",
        "a.argmax(axis=1)",
        "a > 2",
        "a == a",
        "b.sum()",
        "b.mean()",
        "b.prod()",
        "mx.np.arange(4)",
        "mx.np.array([1, 2, 3])",
        "a.reshape(-1)",
        "a[1, 1]",
        "a.T",
        "mx.npx.topk(a, k=1, ret_typ='indices')",
        "mx.npx.relu(a - 2)",
        "mx.np.dot(a, a.T)",
        "mx.np.dot(mx.np.ones(3), mx.np.ones(3))",
        "mx.npx.batch_dot(mx.np.ones((2, 2, 3)), mx.np.ones((2, 3, 1)))",
    ]
    ours, ref = _run_both(mxnet_ref, setup, exprs, np_mode=True)
    _assert_close(ours, ref)


def test_wrap_sets_every_field_the_constructor_sets():
    from paramlab.ndarray.ndarray import NDArray

    raw = np.arange(3.0)
    made, wrapped = NDArray(raw, mx.cpu(1)), NDArray._wrap(raw, mx.cpu(1))
    fields = [f for f in NDArray.__slots__ if f != "__weakref__"]
    assert [getattr(made, f) for f in fields] == [getattr(wrapped, f) for f in fields]
