"""Finite-difference checks of the elementwise, reduction, shape/indexing and linalg gradients.

Every case is checked by :func:`paramlab.testing.check_grad` in float64 on every
context; inputs are drawn away from kinks (0 for abs/relu, ties for max/min).
"""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab.testing import check_grad


def _draw(spec, ctx, seed):
    """An input from a spec: a shape (normal draws), or ``(kind, shape)``."""
    rng = np.random.default_rng(seed)
    kind, shape = (
        ("normal", spec)
        if isinstance(spec, tuple) and (not spec or isinstance(spec[0], int))
        else spec
    )
    if kind == "normal":
        host = rng.standard_normal(shape)
    elif kind == "positive":
        host = rng.uniform(0.5, 2.0, shape)
    elif kind == "unit":  # inside (-0.9, 0.9), for clip(-1, 1)-like cases
        host = rng.uniform(-0.9, 0.9, shape)
    elif kind == "distinct":  # well separated values: no ties for max/min/argmax
        host = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 + 0.25
    elif kind == "nonzero":
        x = rng.standard_normal(shape)
        host = np.where(x >= 0, x + 0.2, x - 0.2)
    else:
        raise ValueError(kind)
    return mx.nd.array(np.asarray(host, dtype=np.float64), ctx=ctx, dtype="float64")


def _check(ctx, fn, specs, grad_inputs=None, **kwargs):
    inputs = [_draw(s, ctx, seed) for seed, s in enumerate(specs)]
    check_grad(fn, inputs, grad_inputs=grad_inputs, **kwargs)


# ----------------------------------------------------------------------------- binary

BINARY = {
    "add": (lambda a, b: a + b, None),
    "subtract": (lambda a, b: a - b, None),
    "multiply": (lambda a, b: a * b, None),
    "divide": (lambda a, b: a / b, "positive"),
    "power": (lambda a, b: a**b, "positive"),
    "maximum": (mx.nd.maximum, None),
    "minimum": (mx.nd.minimum, None),
    "broadcast_add": (mx.nd.broadcast_add, None),
    "elemwise_mul": (mx.nd.elemwise_mul, None),
}
SHAPE_PAIRS = [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((1,), (2, 3)), ((2, 3, 4), (3, 1))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_binary_broadcast_gradients(ctx, name, shapes):
    fn, kind = BINARY[name]
    if name.startswith("elemwise") and shapes[0] != shapes[1]:
        pytest.skip("elemwise ops take equal shapes")
    specs = [(kind, s) if kind else s for s in shapes]
    if name == "power":
        specs = [("positive", shapes[0]), ("normal", shapes[1])]
    _check(ctx, fn, specs)


def test_zero_dim_broadcast_gradient(ctx):
    a = mx.np.array(1.5, ctx=ctx, dtype="float64")
    b = mx.np.array(np.arange(6.0).reshape(2, 3) - 2.5, ctx=ctx, dtype="float64")
    check_grad(lambda a, b: a * b + a, [a, b])
    check_grad(lambda a, b: b / a - a, [a, b])


SCALAR = {
    "add": lambda a: a + 1.5,
    "radd": lambda a: 1.5 + a,
    "sub": lambda a: a - 1.5,
    "rsub": lambda a: 1.5 - a,
    "mul": lambda a: a * 2.5,
    "rmul": lambda a: -2.5 * a,
    "div": lambda a: a / 2.5,
    "rdiv": lambda a: 2.5 / a,
    "pow": lambda a: a**3,
    "fracpow": lambda a: a**0.7,
    "rpow": lambda a: 1.7**a,
    "maximum": lambda a: mx.nd.maximum(a, 1.0),
    "minimum": lambda a: mx.nd.minimum(a, 1.0),
    "neg": lambda a: -a,
}


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_gradients(ctx, name):
    kind = "positive" if name in ("rdiv", "fracpow") else "distinct"
    _check(ctx, SCALAR[name], [(kind, (3, 4))])


# ----------------------------------------------------------------------------- unary

UNARY = {
    "exp": (mx.nd.exp, "normal"),
    "log": (mx.nd.log, "positive"),
    "log1p": (mx.nd.log1p, "positive"),
    "expm1": (mx.nd.expm1, "normal"),
    "sqrt": (mx.nd.sqrt, "positive"),
    "rsqrt": (mx.nd.rsqrt, "positive"),
    "square": (mx.nd.square, "normal"),
    "reciprocal": (mx.nd.reciprocal, "positive"),
    "abs": (mx.nd.abs, "nonzero"),
    "sign": (mx.nd.sign, "nonzero"),
    "floor": (mx.nd.floor, "distinct"),
    "ceil": (mx.nd.ceil, "distinct"),
    "round": (mx.nd.round, "distinct"),
    "sin": (mx.nd.sin, "normal"),
    "cos": (mx.nd.cos, "normal"),
    "tanh": (mx.nd.tanh, "normal"),
    "sigmoid": (mx.nd.sigmoid, "normal"),
    "relu": (mx.nd.relu, "nonzero"),
    "softrelu": (mx.nd.softrelu, "normal"),
    "softsign": (mx.nd.softsign, "nonzero"),
    "erf": (mx.nd.erf, "normal"),
    "clip": (lambda a: mx.nd.clip(a, -1.0, 1.0), "normal"),
    "copy": (lambda a: a.copy(), "normal"),
    "identity": (mx.nd.identity, "normal"),
    "astype": (lambda a: a.astype("float64"), "normal"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(ctx, name):
    fn, kind = UNARY[name]
    if name == "clip":
        rng = np.random.default_rng(0)
        host = rng.choice([-1, 1], size=(3, 4)) * rng.uniform(0.1, 0.9, (3, 4))
        host[0, :2] = [1.5, -2.0]  # outside the range: no gradient
        x = mx.nd.array(host, ctx=ctx, dtype="float64")
        check_grad(fn, [x])
        return
    _check(ctx, fn, [(kind, (3, 4))])


def test_stop_gradient_blocks(ctx):
    x = _draw((3,), ctx, 0)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.stop_gradient(x * 2) + x
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), np.ones(3))


def test_copy_between_contexts_gradient():
    x = _draw((2, 3), mx.cpu(0), 0)
    check_grad(lambda x: x.copyto(mx.cpu(1)) * 3.0, [x])
    check_grad(lambda x: x.as_in_context(mx.cpu(1)).sum(), [x])


# ----------------------------------------------------------------------------- reductions

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "norm"]
AXES = [None, 0, 1, (0, 2), -1]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients(ctx, name, axis, keepdims):
    kind = "distinct" if name in ("max", "min") else "positive" if name == "prod" else "normal"

    def fn(a):
        return getattr(mx.nd, name)(a, axis=axis, keepdims=keepdims)

    _check(ctx, fn, [(kind, (2, 3, 4))])


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reduction_exclude_gradients(ctx, name):
    kind = "distinct" if name == "max" else "normal"
    _check(ctx, lambda a: getattr(mx.nd, name)(a, axis=1, exclude=True), [(kind, (2, 3, 4))])


def test_norm_l1_gradient(ctx):
    _check(ctx, lambda a: mx.nd.norm(a, ord=1, axis=1), [("nonzero", (3, 4))])


# ----------------------------------------------------------------------------- shape and indexing

SHAPE_OPS = {
    "reshape": (lambda a: a.reshape((4, 6)), (2, 3, 4)),
    "reshape_codes": (lambda a: a.reshape((0, -1)), (2, 3, 4)),
    "transpose": (lambda a: a.transpose(), (2, 3, 4)),
    "transpose_axes": (lambda a: mx.nd.transpose(a, axes=(1, 2, 0)), (2, 3, 4)),
    "swapaxes": (lambda a: mx.nd.swapaxes(a, 0, 2), (2, 3, 4)),
    "expand_dims": (lambda a: mx.nd.expand_dims(a, 1), (2, 3)),
    "squeeze": (lambda a: mx.nd.squeeze(a, axis=1), (2, 1, 3)),
    "flatten": (mx.nd.flatten, (2, 3, 4)),
    "broadcast_to": (lambda a: mx.nd.broadcast_to(a, (2, 3, 4)), (2, 1, 4)),
    "broadcast_like": (
        lambda a: mx.nd.broadcast_like(a, mx.nd.ones((3, 4), ctx=a.context)),
        (1, 4),
    ),
    "T": (lambda a: a.T, (3, 4)),
    "getitem_int": (lambda a: a[1], (3, 4)),
    "getitem_slice": (lambda a: a[:, 1:3], (3, 4)),
    "getitem_step": (lambda a: a[::2, ::-1], (3, 4)),
    "getitem_fancy": (lambda a: a[mx.nd.array([0, 2, 0], ctx=a.context)], (3, 4)),
    "split_first": (lambda a: mx.nd.split(a, 2, axis=1)[0] * 2, (3, 4)),
    "split_squeeze": (lambda a: mx.nd.split(a, 3, axis=0, squeeze_axis=True)[2], (3, 4)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_gradients(ctx, name):
    fn, shape = SHAPE_OPS[name]
    _check(ctx, fn, [shape])


def test_split_all_outputs_gradient(ctx):
    def fn(a):
        parts = mx.nd.split(a, 3, axis=1)
        return parts[0] * 1.0 + parts[1] * 2.0 + parts[2] * 3.0

    _check(ctx, fn, [(2, 6)])


def test_concat_and_stack_gradients(ctx):
    _check(ctx, lambda a, b: mx.nd.concat(a, b, dim=1), [(2, 3), (2, 4)])
    _check(ctx, lambda a, b: mx.nd.stack(a, b, axis=1), [(2, 3), (2, 3)])
    _check(ctx, lambda a, b: mx.nd.stack(a, b, axis=0) * 2, [(2, 3), (2, 3)])


def test_where_gradient(ctx):
    cond = mx.nd.array([[1, 0, 1], [0, 0, 1]], ctx=ctx, dtype="float64")
    x, y = _draw((2, 3), ctx, 1), _draw((2, 3), ctx, 2)
    check_grad(mx.nd.where, [cond, x, y], grad_inputs=[False, True, True])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_gradient_with_repeats_and_clipping(ctx, axis):
    a = _draw((3, 4, 5), ctx, 0)
    idx = mx.nd.array([[0, 2], [2, 7]], ctx=ctx, dtype="float64")  # 7 is clipped
    check_grad(lambda a, i: mx.nd.take(a, i, axis=axis), [a, idx], grad_inputs=[True, False])


def test_take_wrap_mode_gradient(ctx):
    a = _draw((4, 3), ctx, 0)
    idx = mx.nd.array([-1, 5, 1], ctx=ctx, dtype="float64")
    check_grad(lambda a, i: mx.nd.take(a, i, mode="wrap"), [a, idx], grad_inputs=[True, False])


@pytest.mark.parametrize("axis, keepdims", [(-1, False), (0, False), (1, True)])
def test_pick_gradient(ctx, axis, keepdims):
    a = _draw((3, 4), ctx, 0)
    n = 3 if axis in (-1, 1) else 4
    idx = mx.nd.array(np.arange(n) % 3, ctx=ctx, dtype="float64")
    check_grad(
        lambda a, i: mx.nd.pick(a, i, axis=axis, keepdims=keepdims),
        [a, idx],
        grad_inputs=[True, False],
    )


def test_one_hot_feeds_a_gradient(ctx):
    labels = mx.nd.array([0, 2, 1], ctx=ctx)
    w = _draw((3, 3), ctx, 0)
    check_grad(lambda w: (mx.nd.one_hot(labels, 3).astype("float64") * w).sum(), [w])


# ----------------------------------------------------------------------------- linalg


@pytest.mark.parametrize(
    "shapes, ta, tb",
    [
        (((3, 4), (4, 5)), False, False),
        (((4, 3), (4, 5)), True, False),
        (((3, 4), (5, 4)), False, True),
        (((4, 3), (5, 4)), True, True),
        (((4,), (4,)), False, False),
        (((3, 4), (4,)), False, False),
        (((2, 3, 4), (4, 5)), False, False),
        (((3, 4), (4, 2, 5)), False, False),
    ],
    ids=str,
)
def test_dot_gradients(ctx, shapes, ta, tb):
    _check(ctx, lambda a, b: mx.nd.dot(a, b, transpose_a=ta, transpose_b=tb), list(shapes))


@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True), (True, True)])
def test_batch_dot_gradients(ctx, ta, tb):
    a_shape = (2, 4, 3) if ta else (2, 3, 4)
    b_shape = (2, 5, 4) if tb else (2, 4, 5)
    _check(
        ctx, lambda a, b: mx.nd.batch_dot(a, b, transpose_a=ta, transpose_b=tb), [a_shape, b_shape]
    )


def test_matmul_operator_gradient(ctx):
    _check(ctx, lambda a, b: a @ b, [(3, 4), (4, 2)])


def test_add_n_gradient(ctx):
    _check(ctx, lambda a, b, c: mx.nd.add_n(a, b, c) * 2.0, [(2, 3), (2, 3), (2, 3)])


def test_variable_used_twice_accumulates(ctx):
    _check(ctx, lambda a: a * a + mx.nd.exp(a) * a, [(3,)])


# ----------------------------------------------------------------------------- reference MXNet


def _cases():
    rng = np.random.default_rng(5)

    def a(*shape):
        return rng.standard_normal(shape).astype(np.float32).tolist()

    def pos(*shape):
        return rng.uniform(0.5, 2.0, shape).astype(np.float32).tolist()

    def case(op, arrays, grad, **kwargs):
        return {"op": op, "arrays": arrays, "kwargs": kwargs, "grad": list(grad), "train": True}

    kinks = [[-1.0, 0.0, 1.0, 3.0], [2.0, 0.0, -1.0, 3.0]]
    cases = [
        case(name, [a(3, 4)], [0])
        for name in (
            "exp",
            "expm1",
            "square",
            "sin",
            "cos",
            "tanh",
            "sigmoid",
            "softsign",
            "erf",
            "negative",
        )
    ]
    cases += [
        case(name, [pos(3, 4)], [0]) for name in ("log", "log1p", "sqrt", "rsqrt", "reciprocal")
    ]
    cases += [
        case("relu", [kinks], [0]),
        case("abs", [kinks], [0]),
        case("clip", [kinks], [0], a_min=-1.0, a_max=1.0),
        case("broadcast_add", [a(3, 1), a(1, 4)], [0, 1]),
        case("broadcast_sub", [a(3, 1), a(1, 4)], [0, 1]),
        case("broadcast_mul", [a(3, 1), a(1, 4)], [0, 1]),
        case("broadcast_div", [a(3, 1), pos(1, 4)], [0, 1]),
        case("power", [pos(3, 1), a(1, 4)], [0, 1]),
        case("maximum", [kinks, [[-1.0, 1.0, 1.0, 0.0], [2.0, 1.0, 0.0, 3.0]]], [0, 1]),
        case("minimum", [kinks, [[-1.0, 1.0, 1.0, 0.0], [2.0, 1.0, 0.0, 3.0]]], [0, 1]),
        case("sum", [a(2, 3, 4)], [0], axis=[0, 2], keepdims=True),
        case("mean", [a(2, 3, 4)], [0], axis=1),
        # no ties: on a tie MXNet 1.9.1 gives every maximum the full gradient, paramlab's
        # reduce.Max splits it evenly among them
        case("max", [[[1.0, 3.0, 2.0], [4.0, 0.0, 4.5]]], [0], axis=1),
        case("min", [a(2, 3, 4)], [0], axis=1, exclude=True),
        case("prod", [pos(2, 3)], [0], axis=1),
        case("norm", [a(2, 3)], [0], axis=1),
        case("dot", [a(3, 4), a(5, 4)], [0, 1], transpose_b=True),
        case("dot", [a(2, 3, 4), a(4, 5)], [0, 1]),
        case("batch_dot", [a(2, 4, 3), a(2, 4, 5)], [0, 1], transpose_a=True),
        case("take", [a(4, 3), [[0, 2], [2, 7]]], [0]),
        case("take", [a(4, 3), [1, 0, 1]], [0], axis=1),
        case("pick", [a(3, 4), [0, 3, 3]], [0], axis=1),
        case("pick", [a(3, 4), [0, 2, 2, 1]], [0], axis=0, keepdims=True),
        case("where", [[[1.0, 0.0], [0.0, 1.0]], a(2, 2), a(2, 2)], [1, 2]),
        case("transpose", [a(2, 3, 4)], [0], axes=[1, 2, 0]),
        case("reshape", [a(2, 3, 4)], [0], shape=[0, -1]),
        case("broadcast_to", [a(2, 1, 4)], [0], shape=[2, 3, 4]),
        case("expand_dims", [a(2, 3)], [0], axis=1),
        case("flatten", [a(2, 3, 4)], [0]),
    ]
    return cases


REF_CASES = _cases()


@pytest.mark.mxnet_ref
def test_gradients_match_reference_mxnet(ctx, compare_with_reference):
    compare_with_reference("elementwise", REF_CASES, ctx, rtol=2e-4, atol=2e-5)
