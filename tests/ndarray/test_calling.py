"""How operators are called: ``out=`` (the result written into it) and MXNet's keyword names."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import paramlab as mx

X = np.arange(6, dtype=np.float32).reshape(2, 3) / 4


def _x(ctx):
    return mx.nd.array(X, ctx=ctx)


# name -> (call(x, out), the NumPy value expected)
CALLS = {
    "batch_dot": (
        lambda x, o: mx.nd.batch_dot(x.reshape((1, 2, 3)), x.reshape((1, 3, 2)), out=o),
        (X.reshape(1, 2, 3) @ X.reshape(1, 3, 2)),
    ),
    "concat": (lambda x, o: mx.nd.concat(x, x, dim=0, out=o), np.concatenate([X, X])),
    "concatenate": (lambda x, o: mx.nd.concatenate([x, x], axis=1, out=o), np.hstack([X, X])),
    "dot": (lambda x, o: mx.nd.dot(x, x.T, out=o), X @ X.T),
    "empty": (lambda x, o: mx.nd.empty((2, 3), ctx=x.context, out=o), None),
    "eye": (lambda x, o: mx.nd.eye(2, ctx=x.context, out=o), np.eye(2)),
    "full_like": (lambda x, o: mx.nd.full_like(x, 3, out=o), np.full((2, 3), 3.0)),
    "log_softmax": (
        lambda x, o: mx.nd.log_softmax(x, out=o),
        X - np.log(np.exp(X).sum(-1, keepdims=True)),
    ),
    "max": (lambda x, o: mx.nd.max(x, axis=0, out=o), X.max(0)),
    "mean": (lambda x, o: mx.nd.mean(x, axis=1, out=o), X.mean(1)),
    "min": (lambda x, o: mx.nd.min(x, axis=0, out=o), X.min(0)),
    "norm": (lambda x, o: mx.nd.norm(x, out=o), [np.sqrt((X**2).sum())]),
    "one_hot": (
        lambda x, o: mx.nd.one_hot(mx.nd.array([0, 2], ctx=x.context), 3, out=o),
        np.eye(3)[[0, 2]],
    ),
    "ones": (lambda x, o: mx.nd.ones((2, 3), ctx=x.context, out=o), np.ones((2, 3))),
    "ones_like": (lambda x, o: mx.nd.ones_like(x, out=o), np.ones((2, 3))),
    "prod": (lambda x, o: mx.nd.prod(x, axis=0, out=o), X.prod(0)),
    "reshape": (lambda x, o: mx.nd.reshape(x, (3, 2), out=o), X.reshape(3, 2)),
    "softmax": (
        lambda x, o: mx.nd.softmax(x, out=o),
        np.exp(X) / np.exp(X).sum(-1, keepdims=True),
    ),
    "stack": (lambda x, o: mx.nd.stack(x, x, out=o), np.stack([X, X])),
    "sum": (lambda x, o: mx.nd.sum(x, axis=0, out=o), X.sum(0)),
    "zeros": (lambda x, o: mx.nd.zeros((2, 3), ctx=x.context, out=o), np.zeros((2, 3))),
    "zeros_like": (lambda x, o: mx.nd.zeros_like(x, out=o), np.zeros((2, 3))),
    "exp": (lambda x, o: mx.nd.exp(x, out=o), np.exp(X)),
    "add": (lambda x, o: mx.nd.add(x, x, out=o), X + X),
    "elemwise_mul": (lambda x, o: mx.nd.elemwise_mul(x, x, out=o), X * X),
    "clip": (lambda x, o: mx.nd.clip(x, 0.5, 1.0, out=o), np.clip(X, 0.5, 1.0)),
    "transpose": (lambda x, o: mx.nd.transpose(x, out=o), X.T),
    "FullyConnected": (
        lambda x, o: mx.nd.FullyConnected(
            x, mx.nd.ones((4, 3), ctx=x.context), no_bias=True, num_hidden=4, out=o
        ),
        X @ np.ones((3, 4)),
    ),
    "npx.relu": (lambda x, o: mx.npx.relu(x.as_np_ndarray(), out=o), np.maximum(X, 0)),
    "npx.softmax": (
        lambda x, o: mx.npx.softmax(x.as_np_ndarray(), out=o),
        np.exp(X) / np.exp(X).sum(-1, keepdims=True),
    ),
    "npx.batch_dot": (
        lambda x, o: mx.npx.batch_dot(
            x.reshape((1, 2, 3)).as_np_ndarray(), x.reshape((1, 3, 2)).as_np_ndarray(), out=o
        ),
        (X.reshape(1, 2, 3) @ X.reshape(1, 3, 2)),
    ),
}


def _shape_of(name, ctx):
    call = CALLS[name][0]
    return call(_x(ctx), None).shape


@pytest.mark.parametrize("name", list(CALLS))
def test_the_result_is_written_into_out_and_out_is_returned(name, ctx):
    call, expected = CALLS[name]
    out = mx.nd.full(_shape_of(name, ctx), -7.0, ctx=ctx)
    before = out.version
    assert call(_x(ctx), out) is out
    assert out.version > before and out.context == ctx
    if expected is not None:
        np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sum", "dot", "softmax", "FullyConnected", "npx.relu"])
def test_an_out_of_another_shape_is_refused_and_left_unchanged(name, ctx):
    call, _ = CALLS[name]
    out = mx.nd.full((7,), -7.0, ctx=ctx)
    with pytest.raises(ValueError, match=r"out has shape \(7,\)"):
        call(_x(ctx), out)
    np.testing.assert_array_equal(out.asnumpy(), -7.0)
    assert out.version == 0


def test_out_must_be_an_ndarray():
    target = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="sum: out must be an NDArray, got ndarray"):
        mx.nd.sum(mx.nd.ones((2, 3)), axis=0, out=target)
    np.testing.assert_array_equal(target, 0)


def test_out_keeps_its_dtype_and_storage_type():
    as_f64 = mx.nd.zeros((3,), dtype="float64")
    mx.nd.sum(mx.nd.ones((2, 3)), axis=0, out=as_f64)
    assert as_f64.dtype == np.float64
    np.testing.assert_array_equal(as_f64.asnumpy(), [2, 2, 2])
    sparse = mx.nd.sparse.zeros("row_sparse", (2, 3))
    assert mx.nd.ones_like(mx.nd.ones((2, 3)), out=sparse) is sparse
    assert sparse.stype == "row_sparse"
    np.testing.assert_array_equal(sparse.asnumpy(), 1)


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
@pytest.mark.parametrize("draw", [mx.nd.random.uniform, mx.nd.random.normal])
def test_random_draws_fill_a_sparse_out(draw, stype):
    out = mx.nd.sparse.zeros(stype, (4, 3))
    assert draw(out=out) is out
    assert out.stype == stype and np.count_nonzero(out.asnumpy()) == 12


_NOT_OPERATORS = {
    "NDArray", "save", "load", "random", "sparse", "array", "from_dlpack", "from_numpy",
    "waitall", "split", "topk",
}  # fmt: skip


@pytest.mark.parametrize(
    "name", [n for n in mx.nd.__all__ if n not in _NOT_OPERATORS], ids=lambda n: n
)
def test_every_operator_of_mx_nd_takes_out(name):
    op = getattr(mx.nd, name)
    own = inspect.signature(op, follow_wrapped=False).parameters  # given by accepting_out
    assert "out" in own or "out" in inspect.signature(op).parameters  # or its own argument


# ----------------------------------------------------------------------------- keyword names
@pytest.mark.parametrize(
    ("call", "op", "typo"),
    [
        (lambda x: mx.nd.sum(x, axsi=0), "sum", "axsi"),
        (lambda x: mx.nd.softmax(x, axs=0), "softmax", "axs"),
        (lambda x: mx.nd.reshape(x, shape=(3, 2), revers=True), "reshape", "revers"),
        (lambda x: mx.nd.ones((2, 2), ctxx=mx.cpu(1)), "ones", "ctxx"),
        (lambda x: mx.nd.zeros_like(x, dtyp="float64"), "zeros_like", "dtyp"),
        (lambda x: mx.nd.dot(x, x.T, transpose_c=True), "dot", "transpose_c"),
        (
            lambda x: mx.nd.FullyConnected(x, mx.nd.ones((4, 3)), num_hidden=4, no_bais=True),
            "FullyConnected",
            "no_bais",
        ),
        (lambda x: mx.nd.Dropout(x, pp=0.3), "Dropout", "pp"),
        (lambda x: mx.npx.dropout(x.as_np_ndarray(), pp=0.3), "Dropout", "pp"),
        (lambda x: mx.nd.random.uniform(shape=(2,), dtyp="float64"), "uniform", "dtyp"),
        (lambda x: mx.nd.sparse.zeros("csr", (2, 2), ctxx=mx.cpu(1)), "zeros", "ctxx"),
    ],
)
def test_a_misspelt_keyword_is_refused_not_ignored(call, op, typo):
    # MXNet says "Cannot find argument"; a misspelt axis or p must not give a silent default
    with pytest.raises(TypeError, match=rf"{op}: unexpected keyword argument '{typo}'; it takes"):
        call(mx.nd.array(X))


def test_mxnet_arguments_without_effect_are_accepted():
    x = mx.nd.array(X)
    np.testing.assert_allclose(mx.nd.sum(x, axis=0, name="s").asnumpy(), X.sum(0))
    np.testing.assert_allclose(
        mx.nd.dot(x, x.T, forward_stype="default").asnumpy(), X @ X.T, rtol=1e-6
    )
    assert mx.nd.concatenate([x, x], always_copy=False).shape == (4, 3)
    assert mx.nd.concat(x, x, dim=0, num_args=2).shape == (4, 3)
    assert mx.nd.stack(x, x, num_args=2).shape == (2, 2, 3)
    np.testing.assert_allclose(mx.nd.add_n(x, x, num_args=2).asnumpy(), 2 * X)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: mx.nd.softmax(x, use_length=True), "softmax: use_length .* got True"),
        (lambda x: mx.nd.log_softmax(x, dtype="float64"), "log_softmax: dtype .* got 'float64'"),
        (lambda x: mx.nd.norm(x, out_dtype="float64"), "norm: out_dtype .* got 'float64'"),
        (lambda x: mx.nd.reshape(x, target_shape=(3, 2)), r"reshape: target_shape .* got \(3, 2\)"),
        (lambda x: mx.nd.empty((2, 2), stype="csr"), "empty: stype .* got 'csr'"),
        (
            lambda x: mx.nd.softmax(x, length=mx.nd.array([1, 2])),
            r"softmax: length .* got an array of shape \(2,\)",
        ),
    ],
)
def test_mxnet_arguments_paramlab_does_not_support_are_refused_unless_default(call, message):
    with pytest.raises(NotImplementedError, match=message):
        call(mx.nd.array(X))


def test_mxnet_defaults_of_unsupported_arguments_are_accepted():
    x = mx.nd.array(X)
    soft = mx.nd.softmax(x, use_length=False, length=None, dtype=None)
    np.testing.assert_allclose(soft.asnumpy(), np.exp(X) / np.exp(X).sum(-1, keepdims=True), 1e-6)
    assert mx.nd.reshape(x, shape=(3, 2), target_shape=(), keep_highest=False).shape == (3, 2)
    assert mx.nd.empty((2, 2), stype="default").shape == (2, 2)


# ----------------------------------------------------------------------------- methods
@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "prod", "norm"])
def test_reduction_methods_take_out_and_refuse_misspelt_keywords(method, ctx):
    x = mx.nd.array(X, ctx=ctx)
    expected = getattr(x, method)(axis=0) if method != "norm" else x.norm(axis=0)
    out = mx.nd.zeros(expected.shape, ctx=ctx)
    assert getattr(x, method)(axis=0, out=out) is out
    np.testing.assert_allclose(out.asnumpy(), expected.asnumpy())
    with pytest.raises(TypeError, match=rf"{method}: unexpected keyword argument 'axsi'"):
        getattr(x, method)(axsi=0)


def test_reshape_method_refuses_misspelt_keywords():
    x = mx.nd.array(X)
    assert x.reshape(shape=(3, 2)).shape == (3, 2)
    with pytest.raises(TypeError, match="reshape: unexpected keyword argument 'revers'"):
        x.reshape((3, 2), revers=True)
    with pytest.raises(NotImplementedError, match=r"order other than 'C' .* got 'F'"):
        mx.np.array(X).reshape((3, 2), order="F")


@pytest.mark.parametrize("method", ["sum", "mean", "prod"])
def test_numpy_reductions_compute_in_the_dtype_asked(method):
    x = mx.np.array([[1, 2], [3, 4]], dtype="float16")
    result = getattr(x, method)(axis=0, dtype="float64")
    assert result.dtype == np.float64
    np.testing.assert_allclose(
        result.asnumpy(), getattr(np.array([[1, 2], [3, 4]], np.float64), method)(axis=0)
    )


def test_gluon_constructors_refuse_misspelt_keywords():
    data = mx.gluon.data.ArrayDataset(mx.nd.ones((4, 2)))
    loader = mx.gluon.data.DataLoader(data, batch_size=2, pin_memory=True, num_workers=2)
    assert len(list(loader)) == 2  # MXNet's worker options are accepted (loading stays in-process)
    with pytest.raises(TypeError, match="DataLoader: unexpected keyword argument 'batch_sise'"):
        mx.gluon.data.DataLoader(data, batch_sise=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'dtype'"):
        mx.gluon.Constant("c", [1.0], dtype="float64")


# ----------------------------------------------------------------------------- mx.np
NP_CALLS = {
    "add": (lambda a, o: mx.np.add(a, a, out=o), X + X),
    "multiply": (lambda a, o: mx.np.multiply(a, 2.0, out=o), X * 2),
    "exp": (lambda a, o: mx.np.exp(a, out=o), np.exp(X)),
    "clip": (lambda a, o: mx.np.clip(a, 0.5, 1.0, out=o), np.clip(X, 0.5, 1.0)),
    "sum": (lambda a, o: mx.np.sum(a, axis=0, out=o), X.sum(0)),
    "sum_all": (lambda a, o: mx.np.sum(a, out=o), X.sum()),
    "mean": (lambda a, o: mx.np.mean(a, axis=1, out=o), X.mean(1)),
    "dot": (lambda a, o: mx.np.dot(a, a.T, out=o), X @ X.T),
    "concatenate": (lambda a, o: mx.np.concatenate([a, a], out=o), np.concatenate([X, X])),
    "reshape": (lambda a, o: mx.np.reshape(a, (3, 2), out=o), X.reshape(3, 2)),
    "ones_like": (lambda a, o: mx.np.ones_like(a, out=o), np.ones((2, 3))),
}


@pytest.mark.parametrize("name", list(NP_CALLS))
def test_numpy_functions_write_into_out(name, ctx):
    call, expected = NP_CALLS[name]
    a = mx.np.array(X, ctx=ctx)
    out = mx.np.zeros(np.shape(expected), ctx=ctx)
    assert call(a, out) is out
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)


def test_numpy_out_of_another_shape_is_refused_and_left_unchanged():
    out = mx.np.zeros((3,))
    with pytest.raises(ValueError, match=r"sum: out has shape \(3,\), the result has shape \(\)"):
        mx.np.sum(mx.np.array(X), out=out)
    np.testing.assert_array_equal(out.asnumpy(), 0)
