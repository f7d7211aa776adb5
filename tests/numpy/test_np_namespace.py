"""``mx.np`` / ``mx.npx``: NumPy semantics on paramlab arrays, as MXNet's NumPy mode."""

from __future__ import annotations

import numpy as onp
import pytest

import paramlab as mx
from paramlab import autograd, np, npx
from paramlab.base import ContextMismatchError


@pytest.fixture(autouse=True)
def _np_mode():
    npx.set_np()
    yield
    npx.reset_np()


def _a():
    return np.array([[3, 1, 2], [-1, 5, 4]])


# ----------------------------------------------------------------------------- modes
def test_set_np_reset_np_is_np_array():
    assert npx.is_np_array() and mx.util.is_np_array() and mx.util.is_np_shape()
    npx.reset_np()
    assert not npx.is_np_array() and not mx.util.is_np_shape()
    npx.set_np()
    assert npx.is_np_array()


def test_np_shape_scope():
    npx.reset_np()
    with mx.util.np_shape(True):
        assert mx.util.is_np_shape() and not mx.util.is_np_array()
    assert not mx.util.is_np_shape()


# ----------------------------------------------------------------------------- the ndarray class
def test_ndarray_is_an_ndarray_subclass():
    a = _a()
    assert isinstance(a, np.ndarray) and isinstance(a, mx.nd.NDArray)
    assert issubclass(np.ndarray, mx.nd.NDArray)
    assert type(a + 1) is np.ndarray and type(a.sum()) is np.ndarray
    assert type(a[0]) is np.ndarray and type(a.T) is np.ndarray


def test_dtype_is_a_numpy_dtype():
    a = _a()
    assert a.dtype == onp.float32 and isinstance(a.dtype, onp.dtype)


def test_numpy_style_repr_and_str():
    a = _a()
    assert repr(a) == "array([[ 3.,  1.,  2.],\n       [-1.,  5.,  4.]])"
    assert str(a) == "[[ 3.  1.  2.]\n [-1.  5.  4.]]"
    assert repr(np.array([1, 2], dtype="int32")) == "array([1, 2], dtype=int32)"
    assert repr(np.ones((2,), ctx=mx.cpu(1))) == "array([1., 1.])"  # no ctx for CPUs


def test_reductions_are_0d():
    a = _a()
    for name, expected in [("sum", 14), ("mean", 14 / 6), ("max", 5), ("min", -1), ("prod", -120)]:
        r = getattr(a, name)()
        assert r.shape == () and r.ndim == 0
        assert float(r) == pytest.approx(expected)
    assert a.sum(axis=0).shape == (3,)
    assert a.sum(keepdims=True).shape == (1, 1)
    assert repr(a.sum()) == "array(14.)"
    assert a.argmax().shape == () and a.argmax().dtype == onp.int64
    assert a.argmax(axis=1).asnumpy().tolist() == [0, 1]


def test_reduction_dtypes_follow_mxnet_numpy():
    i = np.array(onp.array([1, 2, 200], onp.int32))
    assert i.sum().dtype == onp.int32 and i.prod().dtype == onp.int32
    assert i.mean().dtype == onp.float32
    b = np.array(onp.array([True, False, True]))
    assert b.sum().dtype == onp.int64 and int(b.sum()) == 2


def test_comparisons_are_bool():
    a = _a()
    for r in (a > 2, a == a, a != 1, a <= 0, 2 < a, a >= np.zeros((2, 3))):
        assert r.dtype == onp.bool_
    assert (a > 2).asnumpy().tolist() == [[True, False, False], [False, True, True]]
    masked = a * (a > 2)  # bool x float
    assert masked.dtype == onp.float32
    assert masked.asnumpy().tolist() == [[3, 0, 0], [0, 5, 4]]


def test_no_reshape_codes():
    a = _a()
    assert a.reshape(-1).shape == (6,)
    assert a.reshape(3, 2).shape == (3, 2)
    assert np.reshape(a, (3, -1)).shape == (3, 2)
    with pytest.raises(ValueError, match=r"cannot reshape array of shape \(2, 3\)"):
        a.reshape((0, -1))
    with pytest.raises(ValueError, match="invalid dimension -3"):
        a.reshape((-3,))


def test_numpy_style_shapes():
    a = _a()
    assert a[1, 1].shape == ()
    assert a.flatten().shape == (6,)
    assert np.squeeze(np.ones((1, 1))).shape == ()
    assert np.dot(np.ones(3), np.ones(3)).shape == ()
    assert float(np.dot(np.ones(3), np.ones(3))) == 3.0


def test_tolist_item_and_format():
    a = _a()
    assert a.tolist() == [[3.0, 1.0, 2.0], [-1.0, 5.0, 4.0]]
    assert a.sum().item() == 14.0
    assert f"{a.mean():.2f}" == "2.33"


# ----------------------------------------------------------------------------- np.array and dtypes
def test_python_lists_become_float32():
    # d2l quirk B2: even lists of ints are float32
    assert np.array([1, 2, 3]).dtype == onp.float32
    assert np.array([[1, 2], [3, 4]]).dtype == onp.float32
    assert np.array([True, False]).dtype == onp.float32


def test_numpy_arrays_keep_their_dtype():
    assert np.array(onp.array([1, 2], onp.int64)).dtype == onp.int64
    assert np.array(onp.array([1, 2], onp.int32)).dtype == onp.int32
    assert np.array(onp.array([1, 2], onp.uint8)).dtype == onp.uint8
    assert np.array(onp.array([1.0, 2.0])).dtype == onp.float64
    assert np.array(onp.array([True])).dtype == onp.bool_
    assert np.array(onp.array([1, 2]), dtype="float32").dtype == onp.float32
    assert np.array(_a()).dtype == onp.float32


def test_array_copies_and_asarray_does_not():
    src = onp.arange(3.0)
    a = np.array(src)
    src[0] = 9
    assert a.asnumpy()[0] == 0
    b = np.array([1.0, 2.0])
    assert np.asarray(b) is b
    assert np.asarray(b, dtype="float64").dtype == onp.float64
    assert np.asarray([1, 2]).dtype == onp.float32


def test_arange_is_float32():
    assert np.arange(4).dtype == onp.float32
    assert np.arange(4).asnumpy().tolist() == [0, 1, 2, 3]
    assert np.arange(1, 7, 2).asnumpy().tolist() == [1, 3, 5]
    assert np.arange(3, dtype="int32").dtype == onp.int32
    assert isinstance(np.arange(2), np.ndarray)


def test_creation_functions():
    assert np.zeros((2, 3)).dtype == onp.float32 and np.zeros((2, 3)).shape == (2, 3)
    assert np.ones((2, 3), ctx=mx.cpu(1)).ctx == mx.cpu(1)
    assert np.ones((2,), device=mx.cpu(2)).ctx == mx.cpu(2)
    assert np.full((2,), 7).asnumpy().tolist() == [7, 7]
    assert np.full((2,), 7, dtype="int64").dtype == onp.int64
    assert np.empty((3,)).shape == (3,)
    a = np.array(onp.array([1, 2], onp.int32), ctx=mx.cpu(1))
    for like in (np.zeros_like(a), np.ones_like(a), np.full_like(a, 5)):
        assert like.dtype == onp.int32 and like.ctx == mx.cpu(1) and isinstance(like, np.ndarray)
    onp.testing.assert_allclose(np.linspace(0, 1, 5).asnumpy(), onp.linspace(0, 1, 5))
    assert np.linspace(0, 1, 5).dtype == onp.float32
    onp.testing.assert_array_equal(np.eye(3, k=1).asnumpy(), onp.eye(3, k=1))
    assert isinstance(np.eye(2), np.ndarray)


def test_dtype_constants():
    assert np.float32 is onp.float32 and np.int64 is onp.int64 and np.bool_ is onp.bool_
    assert np.pi == onp.pi and np.e == onp.e and np.inf == onp.inf and np.newaxis is None


# ----------------------------------------------------------------------------- functions
def test_math_functions_match_numpy():
    h = onp.array([[0.5, 1.0], [2.0, 3.0]], onp.float32)
    a = np.array(h)
    for name in (
        "exp",
        "log",
        "sqrt",
        "square",
        "abs",
        "absolute",
        "sign",
        "tanh",
        "sin",
        "cos",
        "log1p",
        "expm1",
        "floor",
        "ceil",
    ):
        got = getattr(np, name)(a)
        assert isinstance(got, np.ndarray)
        onp.testing.assert_allclose(got.asnumpy(), getattr(onp, name)(h), rtol=1e-6)
    onp.testing.assert_allclose(np.power(a, 2).asnumpy(), h**2)
    onp.testing.assert_allclose(np.maximum(a, 1.5).asnumpy(), onp.maximum(h, 1.5))
    onp.testing.assert_allclose(np.clip(a, 1, 2).asnumpy(), onp.clip(h, 1, 2))
    onp.testing.assert_allclose(np.negative(a).asnumpy(), -h)
    onp.testing.assert_allclose(np.round(np.array([0.5, 1.5, 2.5])).asnumpy(), [0, 2, 2])


def test_reductions_and_statistics():
    h = onp.array([[3, 1, 2], [-1, 5, 4]], onp.float32)
    a = np.array(h)
    onp.testing.assert_allclose(np.sum(a, axis=0).asnumpy(), h.sum(0))
    onp.testing.assert_allclose(float(np.mean(a)), h.mean(), rtol=1e-6)
    onp.testing.assert_allclose(np.max(a, axis=1).asnumpy(), h.max(1))
    assert float(np.min(a)) == -1 and float(np.prod(a)) == -120
    assert np.argmax(a, axis=0).asnumpy().tolist() == [0, 1, 1]
    assert int(np.argmin(a)) == 3
    onp.testing.assert_allclose(float(np.var(a)), h.var(), rtol=1e-6)
    onp.testing.assert_allclose(np.std(a, axis=1).asnumpy(), h.std(1), rtol=1e-6)
    onp.testing.assert_allclose(float(np.linalg.norm(a)), onp.linalg.norm(h), rtol=1e-6)


def test_shape_functions():
    a = _a()
    assert np.concatenate([a, a], axis=1).shape == (2, 6)
    assert np.stack([a, a]).shape == (2, 2, 3)
    parts = np.split(np.arange(6), 3)
    assert isinstance(parts, list) and [p.shape for p in parts] == [(2,)] * 3
    assert np.transpose(a).shape == (3, 2)
    assert np.transpose(np.ones((2, 3, 4)), (2, 0, 1)).shape == (4, 2, 3)
    assert np.swapaxes(a, 0, 1).shape == (3, 2)
    assert np.expand_dims(a, 1).shape == (2, 1, 3)
    assert np.squeeze(np.ones((1, 3, 1))).shape == (3,)
    assert np.broadcast_to(np.array([1, 2]), (3, 2)).shape == (3, 2)
    w = np.where(a > 2, a, np.zeros_like(a))
    assert w.asnumpy().tolist() == [[3, 0, 0], [0, 5, 4]]
    assert np.take(a, np.array([0, 4])).asnumpy().tolist() == [3, 5]
    assert np.take(a, np.array([1]), axis=1).asnumpy().tolist() == [[1], [5]]
    assert np.dot(a, a.T).shape == (2, 2)
    assert np.matmul(np.ones((2, 2, 3)), np.ones((2, 3, 1))).shape == (2, 2, 1)
    assert np.matmul(a, a.T).asnumpy().tolist() == [[14, 10], [10, 42]]


def test_integer_arithmetic_follows_mxnet_numpy():
    i = np.array(onp.array([1, 2, -3], onp.int32))
    assert (i / 2).dtype == onp.float32 and (i / 2).asnumpy().tolist() == [0.5, 1.0, -1.5]
    assert (2 / i).dtype == onp.float32
    assert (i / i).dtype == onp.float32
    assert (i * 1.5).dtype == onp.int32 and (i * 1.5).asnumpy().tolist() == [1, 2, -3]
    assert (1.5 - i).asnumpy().tolist() == [0, -1, 4]
    assert (i * np.array([1.5, 2.0, 3.0])).dtype == onp.float32
    assert (i + np.ones((3,), dtype="float16")).dtype == onp.float16
    assert (i * i).dtype == onp.int32 and (i % 2).dtype == onp.int32


# ----------------------------------------------------------------------------- contexts
def test_as_in_ctx_and_ctx():
    a = _a()
    assert a.ctx == mx.cpu(0) and a.context == mx.cpu(0)
    assert a.as_in_ctx(mx.cpu(0)) is a
    assert a.as_in_context(npx.cpu(0)) is a
    b = a.as_in_ctx(mx.cpu(1))
    assert b is not a and b.ctx == mx.cpu(1) and isinstance(b, np.ndarray)
    c = a.copyto(npx.cpu(1))
    assert c.ctx == mx.cpu(1) and isinstance(c, np.ndarray)
    with pytest.raises(ContextMismatchError, match=r"cpu\(0\) and cpu\(1\)"):
        a + b


def test_npx_context_helpers():
    assert npx.cpu() == mx.cpu(0) and npx.gpu(1) == mx.gpu(1)
    assert npx.cpu_pinned(0) == mx.cpu_pinned(0)
    assert npx.num_gpus() == mx.num_gpus()
    assert npx.current_context() == mx.cpu(0) and npx.current_device() == mx.cpu(0)


# ----------------------------------------------------------------------------- np.random
def test_np_random_with_size():
    mx.random.seed(1)
    u = np.random.uniform(size=(2, 3))
    assert isinstance(u, np.ndarray) and u.shape == (2, 3) and u.dtype == onp.float32
    assert ((u.asnumpy() >= 0) & (u.asnumpy() < 1)).all()
    n = np.random.normal(scale=0.01, size=(4,))
    assert n.shape == (4,) and abs(n.asnumpy()).max() < 0.1
    w = np.random.uniform(-10, 10, (3,))
    assert w.shape == (3,) and abs(w.asnumpy()).max() <= 10
    assert np.random.uniform(size=3).shape == (3,)
    assert np.random.normal(0, 1, (2,), ctx=mx.cpu(1)).ctx == mx.cpu(1)
    assert np.random.uniform().shape == ()
    r = np.random.randint(0, 4, size=(50,))
    assert r.dtype == onp.int64 and set(r.asnumpy().tolist()) <= {0, 1, 2, 3}


def test_np_random_seeded():
    mx.random.seed(3)
    a = np.random.normal(size=(5,))
    np.random.seed(3)
    b = np.random.normal(size=(5,))
    onp.testing.assert_array_equal(a.asnumpy(), b.asnumpy())


# ----------------------------------------------------------------------------- npx operators
def test_npx_relu_sigmoid():
    a = _a()
    r = npx.relu(a - 2)
    assert isinstance(r, np.ndarray)
    assert r.asnumpy().tolist() == [[1, 0, 0], [0, 3, 2]]
    assert not onp.signbit(r.asnumpy()).any()
    s = npx.sigmoid(np.array([0.0, 100.0, -100.0]))
    onp.testing.assert_allclose(s.asnumpy(), [0.5, 1.0, 0.0], atol=1e-7)


def test_npx_batch_dot():
    x = np.ones((2, 2, 3))
    y = np.ones((2, 3, 1))
    out = npx.batch_dot(x, y)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2, 1)
    assert (out.asnumpy() == 3).all()
    assert npx.batch_dot(x, x, transpose_b=True).shape == (2, 2, 2)


def test_npx_topk_indices_are_float():
    a = _a()
    idx = npx.topk(a, k=2, ret_typ="indices")
    assert isinstance(idx, np.ndarray) and idx.dtype == onp.float32
    assert idx.asnumpy().tolist() == [[0, 2], [1, 2]]
    val = npx.topk(a, k=1, ret_typ="value", axis=0)
    assert val.asnumpy().tolist() == [[3, 5, 4]]


def test_npx_softmax_pick_one_hot():
    p = npx.softmax(np.array([[1.0, 2.0]]))
    onp.testing.assert_allclose(p.asnumpy().sum(), 1.0, rtol=1e-6)
    lp = npx.log_softmax(np.array([[1.0, 2.0]]))
    onp.testing.assert_allclose(onp.exp(lp.asnumpy()), p.asnumpy(), rtol=1e-6)
    picked = npx.pick(_a(), np.array([0, 2]), axis=1)
    assert picked.asnumpy().tolist() == [3, 4]
    oh = npx.one_hot(np.array([0, 2]), 3)
    assert oh.asnumpy().tolist() == [[1, 0, 0], [0, 0, 1]]
    npx.waitall()


# ----------------------------------------------------------------------------- autograd
def test_autograd_in_np_mode():
    x = np.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    assert y.shape == ()
    y.backward()
    assert isinstance(x.grad, mx.nd.NDArray)
    assert x.grad.asnumpy().tolist() == [2.0, 4.0, 6.0]


def test_bad_input_errors():
    a = _a()
    with pytest.raises(TypeError, match="unsupported dtype"):
        np.zeros((2,), dtype="complex128")
    with pytest.raises(ValueError, match="non-negative"):
        np.ones((-1,))
    with pytest.raises(TypeError, match="convert it"):
        a + onp.ones((2, 3))
    before = a.asnumpy().copy()
    with pytest.raises(ValueError, match="cannot assign a value of shape"):
        a[:] = np.ones((2,))
    onp.testing.assert_array_equal(a.asnumpy(), before)


def test_all_and_any_return_bool_arrays_as_mxnet():
    a = mx.np.array([1, 0, 2])
    assert repr(a.all()) == "array(False)" and repr(a.any()) == "array(True)"
    assert mx.np.all(mx.np.ones((2, 2)), axis=0).tolist() == [True, True]
    assert bool((mx.np.arange(3) == mx.np.arange(3)).all())
