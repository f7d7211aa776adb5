"""2-D (and 1-D) Convolution and Pooling: values, gradients, validation, reference MXNet."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab.testing import check_grad


def nd64(host, ctx):
    return mx.nd.array(np.asarray(host, dtype=np.float64), ctx=ctx, dtype="float64")


def randn(ctx, *shape, seed=0):
    return nd64(np.random.default_rng(seed).standard_normal(shape), ctx)


# ----------------------------------------------------------------------------- NumPy references


def conv_reference(x, w, b, stride, dilate, pad, groups):
    """A direct loop over output positions (slow, obviously right)."""
    n, _, h, wd = x.shape
    f, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (ph, pw) = stride, dilate, pad
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, f, oh, ow))
    fg = f // groups
    for o in range(f):
        grp = o // fg
        chans = xp[:, grp * cg : (grp + 1) * cg]
        for i in range(oh):
            for j in range(ow):
                patch = chans[
                    :,
                    :,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3))
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def pool_reference(x, kernel, stride, pad, pool_type, convention="valid", include_pad=True):
    """MXNet's pooling rules, one output at a time."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad

    def out_len(size, k, s, p):
        span = size + 2 * p - k
        return (-(-span // s) if convention == "full" else span // s) + 1

    oh, ow = out_len(h, kh, sh, ph), out_len(w, kw, sw, pw)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
            area = (h1 - h0) * (w1 - w0)
            win = x[:, :, max(h0, 0) : min(h1, h), max(w0, 0) : min(w1, w)]
            if pool_type == "max":
                out[:, :, i, j] = win.max(axis=(2, 3)) if win.size else np.finfo(x.dtype).min
            elif pool_type == "sum":
                out[:, :, i, j] = win.sum(axis=(2, 3))
            else:
                count = area if include_pad else win.shape[2] * win.shape[3]
                out[:, :, i, j] = win.sum(axis=(2, 3)) / max(count, 1)
    return out


# ----------------------------------------------------------------------------- Convolution

CONV_SETTINGS = [
    # (in_channels, filters, kernel, stride, dilate, pad, groups, size)
    (3, 4, (3, 3), (1, 1), (1, 1), (0, 0), 1, (6, 7)),
    (3, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, (5, 5)),
    (4, 6, (3, 2), (2, 1), (1, 2), (1, 2), 2, (7, 6)),
    (4, 4, (1, 1), (2, 2), (1, 1), (0, 0), 4, (5, 5)),
    (2, 3, (5, 5), (3, 3), (1, 1), (2, 2), 1, (9, 8)),
]


@pytest.mark.parametrize("cin, f, kernel, stride, dilate, pad, groups, size", CONV_SETTINGS)
def test_convolution_values_and_gradients(ctx, cin, f, kernel, stride, dilate, pad, groups, size):
    x = randn(ctx, 2, cin, *size, seed=1)
    w = randn(ctx, f, cin // groups, *kernel, seed=2)
    b = randn(ctx, f, seed=3)

    def conv(x, w, b):
        return mx.nd.Convolution(
            x,
            w,
            b,
            kernel=kernel,
            stride=stride,
            dilate=dilate,
            pad=pad,
            num_filter=f,
            num_group=groups,
        )

    expected = conv_reference(x.asnumpy(), w.asnumpy(), b.asnumpy(), stride, dilate, pad, groups)
    np.testing.assert_allclose(conv(x, w, b).asnumpy(), expected, rtol=1e-10, atol=1e-12)
    check_grad(conv, [x, w, b])


def test_convolution_without_bias_and_one_dim(ctx):
    x, w = randn(ctx, 2, 3, 9, seed=1), randn(ctx, 4, 3, 3, seed=2)

    def conv1d(x, w):
        return mx.nd.Convolution(
            x, w, kernel=(3,), stride=(2,), pad=(1,), num_filter=4, no_bias=True
        )

    y = conv1d(x, w)
    expected = conv_reference(
        x.asnumpy()[:, :, None], w.asnumpy()[:, :, None], None, (1, 2), (1, 1), (0, 1), 1
    )[:, :, 0]
    assert y.shape == (2, 4, 5)
    np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-10)
    check_grad(conv1d, [x, w])


def test_convolution_data_only_gradient(ctx):
    x, w = randn(ctx, 1, 2, 4, 4, seed=1), randn(ctx, 3, 2, 3, 3, seed=2)
    check_grad(
        lambda x, w: mx.nd.Convolution(x, w, kernel=(3, 3), num_filter=3, no_bias=True, pad=(1, 1)),
        [x, w],
        grad_inputs=[True, False],
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_filter": 6}, r"weight must have shape \(6, 4, 3, 3\), got \(6, 2, 3, 3\)"),
        ({"num_filter": 5, "num_group": 2}, "must divide both the data channels"),
        ({"num_filter": 6, "num_group": 3}, "must divide both the data channels"),
        ({"num_filter": 6, "num_group": 2, "kernel": (7, 7)}, r"weight must have shape"),
        ({"num_filter": 6, "num_group": 2, "stride": (0, 1)}, "every stride entry must be"),
        ({"num_filter": 6, "num_group": 2, "pad": (1,)}, "pad must have 2 entries"),
        ({"num_filter": 6, "num_group": 2, "layout": "NHWC"}, "layout must be None or 'NCHW'"),
        ({"num_filter": 6, "num_group": 2, "no_bias": True}, "no_bias=True"),
    ],
)
def test_convolution_validation(kwargs, match):
    x, w, b = mx.nd.ones((2, 4, 6, 6)), mx.nd.ones((6, 2, 3, 3)), mx.nd.zeros(6)
    kwargs = {"kernel": (3, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        mx.nd.Convolution(x, w, b, **kwargs)


def test_convolution_kernel_larger_than_input():
    with pytest.raises(
        ValueError,
        match=r"kernel \(7, 7\) .* larger than the padded input "
        r"\(6, 6\)",
    ):
        mx.nd.Convolution(
            mx.nd.ones((1, 1, 6, 6)),
            mx.nd.ones((1, 1, 7, 7)),
            kernel=(7, 7),
            num_filter=1,
            no_bias=True,
        )
    with pytest.raises(ValueError, match=r"3-D \(NCW\) or 4-D \(NCHW\)"):
        mx.nd.Convolution(
            mx.nd.ones((1, 1, 2, 2, 2)),
            mx.nd.ones((1, 1, 1, 1, 1)),
            kernel=(1, 1, 1),
            num_filter=1,
            no_bias=True,
        )
    with pytest.raises(TypeError, match="kernel is missing"):
        mx.nd.Convolution(
            mx.nd.ones((1, 1, 2, 2)), mx.nd.ones((1, 1, 1, 1)), num_filter=1, no_bias=True
        )


# ----------------------------------------------------------------------------- Pooling

POOL_SETTINGS = [
    # (kernel, stride, pad, size)
    ((2, 2), (2, 2), (0, 0), (6, 6)),
    ((3, 3), (2, 2), (1, 1), (6, 7)),
    ((3, 2), (1, 2), (1, 0), (5, 6)),
    ((2, 2), (2, 2), (0, 0), (5, 5)),
]


@pytest.mark.parametrize("pool_type", ["max", "avg", "sum"])
@pytest.mark.parametrize("convention", ["valid", "full"])
@pytest.mark.parametrize("include_pad", [True, False])
@pytest.mark.parametrize("kernel, stride, pad, size", POOL_SETTINGS)
def test_pooling_values_and_gradients(
    ctx, pool_type, convention, include_pad, kernel, stride, pad, size
):
    x = randn(ctx, 2, 3, *size, seed=4)

    def pool(x):
        return mx.nd.Pooling(
            x,
            kernel=kernel,
            stride=stride,
            pad=pad,
            pool_type=pool_type,
            pooling_convention=convention,
            count_include_pad=include_pad,
        )

    expected = pool_reference(x.asnumpy(), kernel, stride, pad, pool_type, convention, include_pad)
    np.testing.assert_allclose(pool(x).asnumpy(), expected, rtol=1e-12)
    check_grad(pool, [x])


def test_max_pool_gradient_goes_to_first_maximum(ctx):
    x = nd64(np.ones((1, 1, 4, 4)), ctx)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(x, kernel=(2, 2), stride=(1, 1))
    y.backward()
    expected = np.zeros((4, 4))
    expected[:3, :3] = 1
    np.testing.assert_array_equal(x.grad.asnumpy()[0, 0], expected)


def test_pool_window_entirely_in_padding_follows_mxnet(ctx):
    x = nd64(np.arange(42.0).reshape(1, 1, 6, 7), ctx)
    kw = {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 1), "pooling_convention": "full"}
    y = mx.nd.Pooling(x, pool_type="max", **kw).asnumpy()[0, 0]
    assert y.shape == (4, 5)
    assert (y[:, 4] == np.finfo(np.float64).min).all()
    assert (mx.nd.Pooling(x, pool_type="avg", **kw).asnumpy()[0, 0, :, 4] == 0).all()


@pytest.mark.parametrize("pool_type", ["max", "avg", "sum"])
def test_global_pooling(ctx, pool_type):
    x = randn(ctx, 2, 3, 4, 5, seed=5)
    y = mx.nd.Pooling(x, pool_type=pool_type, global_pool=True, kernel=(9, 9), pad=(3, 3))
    reduce = {"max": np.max, "avg": np.mean, "sum": np.sum}[pool_type]
    np.testing.assert_allclose(y.asnumpy(), reduce(x.asnumpy(), axis=(2, 3), keepdims=True))
    check_grad(lambda x: mx.nd.Pooling(x, pool_type=pool_type, global_pool=True), [x])


def test_one_dim_pooling(ctx):
    x = randn(ctx, 2, 3, 7, seed=6)
    y = mx.nd.Pooling(x, kernel=(2,), stride=(2,), pool_type="avg", pooling_convention="full")
    expected = pool_reference(x.asnumpy()[:, :, None], (1, 2), (1, 2), (0, 0), "avg", "full")
    np.testing.assert_allclose(y.asnumpy(), expected[:, :, 0])
    check_grad(lambda x: mx.nd.Pooling(x, kernel=(3,), pool_type="max"), [x])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel": (6, 6)}, r"kernel \(6, 6\) is larger than the padded input \(5, 5\)"),
        ({"kernel": (2,)}, "kernel must have 2 entries"),
        ({"kernel": (2, 2), "pool_type": "lp"}, "'lp' is not supported"),
        ({"kernel": (2, 2), "pool_type": "median"}, "pool_type must be one of"),
        ({"kernel": (2, 2), "pooling_convention": "same"}, "pooling_convention must be one of"),
        ({"kernel": (2, 2), "stride": (0, 2)}, "every stride entry must be"),
    ],
)
def test_pooling_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mx.nd.Pooling(mx.nd.ones((1, 1, 5, 5)), **kwargs)
    with pytest.raises(TypeError, match="kernel is required"):
        mx.nd.Pooling(mx.nd.ones((1, 1, 5, 5)))


def test_small_cnn_trains_end_to_end(ctx):
    """Conv -> relu -> pool -> dense, one backward: every parameter receives a gradient."""
    x = randn(ctx, 4, 1, 8, 8, seed=7)
    w1, b1 = randn(ctx, 3, 1, 3, 3, seed=8), nd64(np.zeros(3), ctx)
    w2, b2 = randn(ctx, 2, 12, seed=9), nd64(np.zeros(2), ctx)
    params = [w1, b1, w2, b2]
    for p in params:
        p.attach_grad()
    with mx.autograd.record():
        h = mx.nd.Activation(
            mx.nd.Convolution(x, w1, b1, kernel=(3, 3), num_filter=3, pad=(1, 1)), act_type="relu"
        )
        h = mx.nd.Pooling(h, kernel=(3, 3), stride=(3, 3))
        out = mx.nd.FullyConnected(h, w2, b2, num_hidden=2)
        loss = mx.nd.softmax_cross_entropy(out, nd64([0, 1, 1, 0], ctx))
    loss.backward()
    assert all(np.abs(p.grad.asnumpy()).sum() > 0 for p in params)


# ----------------------------------------------------------------------------- reference MXNet


def _cases():
    rng = np.random.default_rng(24)

    def a(*shape):
        return rng.standard_normal(shape).astype(np.float32).tolist()

    def case(op, arrays, grad, **kwargs):
        return {"op": op, "arrays": arrays, "kwargs": kwargs, "grad": list(grad), "train": True}

    cases = [
        case(
            "Convolution",
            [a(2, 3, 6, 7), a(4, 3, 3, 3), a(4)],
            [0, 1, 2],
            kernel=[3, 3],
            num_filter=4,
        ),
        case(
            "Convolution",
            [a(2, 4, 7, 6), a(6, 2, 3, 2), a(6)],
            [0, 1, 2],
            kernel=[3, 2],
            stride=[2, 1],
            dilate=[1, 2],
            pad=[1, 2],
            num_filter=6,
            num_group=2,
        ),
        case(
            "Convolution",
            [a(2, 3, 9), a(4, 3, 3)],
            [0, 1],
            kernel=[3],
            stride=[2],
            pad=[1],
            num_filter=4,
            no_bias=True,
        ),
        case("Pooling", [a(2, 3, 6, 7)], [0], global_pool=True, pool_type="avg"),
        case("Pooling", [a(2, 3, 6, 7)], [0], global_pool=True, kernel=[1, 1]),
        case("Pooling", [a(2, 3, 7)], [0], kernel=[3], stride=[2], pool_type="max"),
    ]
    for pool_type in ("max", "avg", "sum"):
        for convention in ("valid", "full"):
            for kernel, stride, pad in (
                ([2, 2], [2, 2], [0, 0]),
                ([3, 3], [2, 2], [1, 1]),
                ([3, 2], [1, 2], [1, 0]),
            ):
                cases.append(
                    case(
                        "Pooling",
                        [a(2, 3, 5, 6)],
                        [0],
                        kernel=kernel,
                        stride=stride,
                        pad=pad,
                        pool_type=pool_type,
                        pooling_convention=convention,
                    )
                )
            if pool_type == "avg":
                cases.append(
                    case(
                        "Pooling",
                        [a(2, 3, 5, 6)],
                        [0],
                        kernel=[3, 3],
                        stride=[2, 2],
                        pad=[1, 1],
                        pool_type="avg",
                        pooling_convention=convention,
                        count_include_pad=False,
                    )
                )
    cases.append(
        case(
            "Pooling",
            [a(1, 1, 6, 7)],
            [],
            kernel=[3, 2],
            stride=[2, 2],
            pad=[1, 1],
            pool_type="max",
            pooling_convention="full",
        )
    )
    return cases


REF_CASES = _cases()


@pytest.mark.mxnet_ref
def test_matches_reference_mxnet(ctx, compare_with_reference):
    compare_with_reference("conv", REF_CASES, ctx, rtol=2e-4, atol=2e-5)
