"""Creating NDArrays and combining several: array, zeros, arange, concat, stack, split, dot."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab.base import ContextMismatchError

nd = mx.nd


def _snapshot(*arrays):
    return [(a.asnumpy().copy(), a.version) for a in arrays]


def _unchanged(snap, *arrays):
    for (values, version), a in zip(snap, arrays):
        np.testing.assert_array_equal(a.asnumpy(), values)
        assert a.version == version


# ----------------------------------------------------------------------------- filled arrays
@pytest.mark.parametrize("make", [nd.zeros, nd.ones, nd.empty], ids=lambda f: f.__name__)
def test_filled_defaults_float32_on_the_given_context(make, ctx):
    x = make((2, 3), ctx=ctx)
    assert x.shape == (2, 3) and x.dtype == np.float32 and x.context == ctx
    assert x.stype == "default" and x.version == 0


def test_filled_values_and_dtypes():
    np.testing.assert_array_equal(nd.zeros((2,)).asnumpy(), [0.0, 0.0])
    np.testing.assert_array_equal(nd.ones(3).asnumpy(), [1.0, 1.0, 1.0])
    f = nd.full((2, 2), 7)
    assert f.dtype == np.float32 and (f.asnumpy() == 7).all()
    assert nd.full((2,), 7, dtype="int32").asnumpy().tolist() == [7, 7]
    for dt in ("float16", "float64", "int8", "uint8", "int32", "int64", "bool"):
        assert nd.zeros((1,), dtype=dt).dtype == np.dtype(dt).type
    assert nd.ones((2,), dtype=np.float64).dtype == np.float64


def test_shape_as_int_list_or_tuple():
    assert nd.zeros(4).shape == (4,)
    assert nd.ones([2, 3]).shape == (2, 3)
    assert nd.zeros((0, 3)).shape == (0, 3)
    assert nd.ones(np.int64(2)).shape == (2,)


def test_current_context_is_the_default():
    with mx.cpu(1):
        assert nd.zeros((1,)).context == mx.cpu(1)
        assert nd.array([1.0]).context == mx.cpu(1)
        assert nd.arange(3).context == mx.cpu(1)
        assert nd.zeros((1,), ctx=mx.cpu(2)).context == mx.cpu(2)


def test_full_into_out():
    out = nd.zeros((2,))
    v = out.version
    res = nd.full((2,), 3.5, out=out)
    assert res is out and out.asnumpy().tolist() == [3.5, 3.5] and out.version > v


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: nd.zeros((2, -1)), ValueError, r"non-negative, got \(2, -1\)"),
        (lambda: nd.zeros(None), ValueError, "a shape is required"),
        (lambda: nd.ones((2.5,)), TypeError, "shape must be an int or a tuple of ints"),
        (lambda: nd.ones("ab"), TypeError, "shape must be"),
        (lambda: nd.zeros((2,), dtype="float8"), TypeError, "unsupported dtype 'float8'"),
        (lambda: nd.zeros((2,), dtype="complex64"), TypeError, "float16, float32"),
        (lambda: nd.zeros((2,), ctx="tpu"), ValueError, "device_type"),
        (lambda: nd.zeros((2,), ctx=3), TypeError, r"Context such as mx.cpu\(0\), got 3"),
        (lambda: nd.empty((2,), dtype=object), TypeError, "unsupported dtype"),
    ],
)
def test_filled_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_like_functions_keep_shape_dtype_context():
    src = nd.array([[1, 2], [3, 4]], ctx=mx.cpu(1), dtype="int32")
    for make, value in ((nd.zeros_like, 0), (nd.ones_like, 1), (lambda a: nd.full_like(a, 9), 9)):
        y = make(src)
        assert y.shape == (2, 2) and y.dtype == np.int32 and y.context == mx.cpu(1)
        assert (y.asnumpy() == value).all()
    assert src.zeros_like().dtype == np.int32 and src.ones_like().context == mx.cpu(1)


# ----------------------------------------------------------------------------- nd.array
def test_array_from_lists_is_float32():
    x = nd.array([[1, 2], [3, 4]])
    assert x.dtype == np.float32 and x.shape == (2, 2)
    assert nd.array([True, False]).dtype == np.float32
    assert nd.array([1.5, 2]).asnumpy().tolist() == [1.5, 2.0]
    assert nd.array(((1, 2), (3, 4))).shape == (2, 2)


def test_array_from_numpy_is_float32_unless_dtype_given():
    assert nd.array(np.array([1, 2], np.int64)).dtype == np.float32
    assert nd.array(np.array([1.0], np.float64)).dtype == np.float32
    assert nd.array(np.array([1, 2]), dtype="int64").dtype == np.int64
    assert nd.array([1, 2], dtype=np.float16).dtype == np.float16


def test_array_copies_its_source():
    src = np.arange(3.0, dtype=np.float32)
    x = nd.array(src)
    src[0] = 100
    assert x.asnumpy().tolist() == [0.0, 1.0, 2.0]


def test_array_from_ndarray_keeps_dtype_and_copies(ctx_list):
    a, b = ctx_list
    src = nd.array([1, 2], ctx=a, dtype="int32")
    same_ctx = nd.array(src)
    assert same_ctx.dtype == np.int32 and same_ctx.context == a
    assert same_ctx.handle is not src.handle
    moved = nd.array(src, ctx=b)
    assert moved.context == b and moved.asnumpy().tolist() == [1, 2]
    assert nd.array(src, dtype="float64").dtype == np.float64


def test_array_from_a_scalar_is_1d_in_mxnet_1x():
    # MXNet 1.9.1 makes an unusable shape-() array here; paramlab gives shape (1,)
    assert nd.array(3.5).shape == (1,)
    assert nd.array(np.float32(2)).asnumpy().tolist() == [2.0]


def test_array_wraps_out_of_range_integers_like_mxnet():
    assert nd.array([1, 200], dtype="int8").asnumpy().tolist() == [1, -56]


def test_array_errors():
    with pytest.raises(ValueError, match="cannot build a float32 array from list"):
        nd.array([[1, 2], [3]])
    with pytest.raises(ValueError, match="from str"):
        nd.array("abc")
    with pytest.raises(TypeError, match="unsupported dtype"):
        nd.array([1], dtype="str")


# ----------------------------------------------------------------------------- ranges
def test_arange():
    x = nd.arange(5)
    assert x.dtype == np.float32 and x.asnumpy().tolist() == [0, 1, 2, 3, 4]
    assert nd.arange(2, 8, 2).asnumpy().tolist() == [2, 4, 6]
    assert nd.arange(10, 0, -3).asnumpy().tolist() == [10, 7, 4, 1]
    assert nd.arange(2, 8, 2, repeat=2).asnumpy().tolist() == [2, 2, 4, 4, 6, 6]
    assert nd.arange(3, dtype="int32").dtype == np.int32
    assert nd.arange(3, ctx=mx.cpu(1)).context == mx.cpu(1)
    assert nd.arange(0).shape == (0,)


def test_arange_computes_in_float32_like_mxnet():
    # MXNet evaluates start + i * step in the array's dtype
    got = nd.arange(1, 2, 0.3).asnumpy()
    expected = np.float32(1) + np.arange(4, dtype=np.float32) * np.float32(0.3)
    np.testing.assert_array_equal(got, expected)
    assert got[-1] == np.float32(1.9000000953674316)


def test_arange_zero_step():
    with pytest.raises(ValueError, match="step must not be 0"):
        nd.arange(0, 3, 0)


def test_eye():
    np.testing.assert_array_equal(nd.eye(3, k=-1).asnumpy(), np.eye(3, k=-1))
    e = nd.eye(2, 3, 1, ctx=mx.cpu(1), dtype="float64")
    assert e.context == mx.cpu(1) and e.dtype == np.float64
    np.testing.assert_array_equal(e.asnumpy(), np.eye(2, 3, 1))


# ----------------------------------------------------------------------------- combining
def test_concat_default_dim_is_1():
    a, b = nd.ones((2, 1)), nd.zeros((2, 2))
    c = nd.concat(a, b)
    assert c.shape == (2, 3)
    np.testing.assert_array_equal(c.asnumpy(), [[1, 0, 0], [1, 0, 0]])
    assert nd.concat(nd.ones((2, 1)), nd.zeros((3, 1)), dim=0).shape == (5, 1)
    assert nd.concatenate([a, a], axis=0).shape == (4, 1)


def test_concat_errors_change_nothing():
    a, b = nd.ones((2, 1)), nd.zeros((3, 2))
    snap = _snapshot(a, b)
    with pytest.raises(ValueError, match=r"shapes \[\(2, 1\), \(3, 2\)\] differ outside dim 1"):
        nd.concat(a, b)
    with pytest.raises(ValueError, match="at least one array"):
        nd.concat()
    with pytest.raises(TypeError, match="expected NDArrays, got ndarray"):
        nd.concat(a, np.ones((2, 1)))
    _unchanged(snap, a, b)


def test_stack():
    s = nd.stack(nd.ones((2,)), nd.zeros((2,)), axis=1)
    np.testing.assert_array_equal(s.asnumpy(), [[1, 0], [1, 0]])
    assert nd.stack(nd.ones((2, 3)), nd.ones((2, 3))).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="same shape"):
        nd.stack(nd.ones((2,)), nd.ones((3,)))


def test_split():
    x = nd.arange(6).reshape((2, 3))
    parts = nd.split(x, 3, axis=1)
    assert isinstance(parts, list) and [p.shape for p in parts] == [(2, 1)] * 3
    np.testing.assert_array_equal(parts[2].asnumpy(), [[2], [5]])
    squeezed = x.split(3, axis=1, squeeze_axis=True)
    assert [p.shape for p in squeezed] == [(2,)] * 3
    single = nd.split(x, 1, axis=0)
    assert isinstance(single, nd.NDArray) and single.shape == (2, 3)
    with pytest.raises(ValueError, match="length 3 cannot be split into 2"):
        nd.split(x, 2, axis=1)


@pytest.mark.parametrize(
    ("a", "b", "ta", "tb", "shape"),
    [
        ((2, 3), (3, 4), False, False, (2, 4)),
        ((3, 2), (3, 4), True, False, (2, 4)),
        ((2, 3), (4, 3), False, True, (2, 4)),
        ((2, 3, 4), (4, 5), False, False, (2, 3, 5)),
        ((2, 3, 4), (4, 5, 6), False, False, (2, 3, 5, 6)),
        ((3,), (3, 2), False, False, (2,)),
        ((2, 3), (3,), False, False, (2,)),
        ((3,), (3,), False, False, (1,)),  # 1.x: no 0-d results
    ],
)
def test_dot_matches_tensordot(a, b, ta, tb, shape):
    rng = np.random.default_rng(0)
    ha, hb = rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32)
    out = nd.dot(nd.array(ha), nd.array(hb), transpose_a=ta, transpose_b=tb)
    assert out.shape == shape
    ea = ha.T if ta else ha
    eb = hb.T if tb else hb
    np.testing.assert_allclose(
        out.asnumpy().reshape(-1), np.tensordot(ea, eb, axes=1).reshape(-1), rtol=1e-5, atol=1e-6
    )


def test_dot_method_and_matmul_operator():
    a, b = nd.ones((2, 3)), nd.ones((3, 1))
    assert a.dot(b).shape == (2, 1)
    assert (a @ b).asnumpy().tolist() == [[3.0], [3.0]]


def test_dot_errors():
    a, b = nd.ones((2, 3)), nd.ones((2, 3))
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 3\) are not aligned"):
        nd.dot(a, b)
    with pytest.raises(TypeError, match="expected NDArrays"):
        nd.dot(a, np.ones((3, 2)))


def test_batch_dot():
    rng = np.random.default_rng(1)
    ha = rng.standard_normal((2, 3, 4)).astype(np.float32)
    hb = rng.standard_normal((2, 4, 5)).astype(np.float32)
    out = nd.batch_dot(nd.array(ha), nd.array(hb))
    np.testing.assert_allclose(out.asnumpy(), ha @ hb, rtol=1e-5, atol=1e-6)
    out_t = nd.batch_dot(
        nd.array(ha.transpose(0, 2, 1)),
        nd.array(hb.transpose(0, 2, 1)),
        transpose_a=True,
        transpose_b=True,
    )
    np.testing.assert_allclose(out_t.asnumpy(), ha @ hb, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="not aligned"):
        nd.batch_dot(nd.ones((2, 3, 4)), nd.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="3-D"):
        nd.batch_dot(nd.ones((3, 4)), nd.ones((4, 3)))


def test_combining_refuses_mixed_contexts():
    a, b = nd.ones((2, 2)), nd.ones((2, 2), ctx=mx.cpu(1))
    for call in (
        lambda: nd.concat(a, b),
        lambda: nd.stack(a, b),
        lambda: nd.dot(a, b),
        lambda: nd.batch_dot(a.reshape((1, 2, 2)), b.reshape((1, 2, 2))),
        lambda: nd.add_n(a, b),
    ):
        with pytest.raises(ContextMismatchError, match=r"cpu\(0\) and cpu\(1\)"):
            call()


def test_one_hot():
    out = nd.one_hot(nd.array([0, 2, 5, -1]), 3)
    np.testing.assert_array_equal(out.asnumpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert out.dtype == np.float32
    o2 = nd.array([1], ctx=mx.cpu(1)).one_hot(2, on_value=5, off_value=-1, dtype="int32")
    assert o2.context == mx.cpu(1) and o2.asnumpy().tolist() == [[-1, 5]]


# ----------------------------------------------------------------------------- interop
def test_from_numpy_is_zero_copy():
    src = np.arange(4, dtype=np.float64)
    x = nd.from_numpy(src)
    assert x.dtype == np.float64 and x.context == mx.cpu(0)
    src[0] = 9
    assert x.asnumpy()[0] == 9
    y = nd.from_numpy(src, zero_copy=False)
    src[1] = 7
    assert y.asnumpy()[1] == 1
    with pytest.raises(TypeError, match=r"expected a numpy\.ndarray, got list"):
        nd.from_numpy([1, 2])
    with pytest.raises(TypeError, match="unsupported dtype"):
        nd.from_numpy(np.array(["a"]))


def test_from_dlpack_round_trips():
    x = nd.arange(6).reshape((2, 3))
    y = nd.from_dlpack(x)
    assert y.shape == (2, 3) and y.dtype == np.float32 and y.context == mx.cpu(0)
    assert np.shares_memory(y.handle, x.handle)
    z = np.from_dlpack(x)
    assert np.shares_memory(z, x.handle)
    w = nd.from_dlpack(np.ones(3, np.float64))
    assert w.dtype == np.float64
    assert x.__dlpack_device__() == (1, 0)


def test_waitall_and_wait_to_read():
    x = nd.ones((2,))
    x.wait_to_read()
    x.wait_to_write()
    nd.waitall()
    mx.npx.waitall()
