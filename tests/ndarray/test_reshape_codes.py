"""MXNet's reshape codes 0, -1, -2, -3, -4 (and ``reverse``), and NumPy-mode reshape."""

from __future__ import annotations

import numpy as np
import pytest

import paramlab as mx
from paramlab.ndarray._shapes import infer_reshape

nd = mx.nd

# (source shape, spec, reverse, expected) -- the examples of MXNet's reshape documentation
# and more; every row is also checked against the reference MXNet below.
CASES = [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4, 5), (-3, -2), False, (6, 4, 5)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((2, 3, 4), (0, -1), False, (2, 12)),
    ((6, 4), (-4, 2, -1, 0), False, (2, 3, 4)),
    ((2, 3, 4), (-4, -1, 1, 0, 0), False, (2, 1, 3, 4)),
    ((2, 3, 4), (0, 0, -4, 2, 2), False, (2, 3, 2, 2)),
    ((2, 3, 4, 5), (-1, 0, 0), True, (6, 4, 5)),
    ((2, 3, 4, 5), (0, -3, -1), True, (2, 12, 5)),
    ((2, 3, 4), (-3, -1), True, (6, 4)),
    ((1,), (-1,), False, (1,)),
    ((4,), (2, -1), False, (2, 2)),
    ((2, 3), (-1, 3), False, (2, 3)),
    ((2, 0, 3), (0, -1), False, (2, 0)),
]


@pytest.mark.parametrize(("src", "spec", "reverse", "expected"), CASES)
def test_infer_reshape(src, spec, reverse, expected):
    assert infer_reshape(src, spec, reverse) == expected


@pytest.mark.parametrize(("src", "spec", "reverse", "expected"), CASES[:-1])
def test_ndarray_reshape_with_codes_keeps_values(src, spec, reverse, expected):
    host = np.arange(int(np.prod(src)), dtype=np.float32).reshape(src)
    x = nd.array(host, ctx=mx.cpu(1))
    y = x.reshape(spec, reverse=reverse)
    assert y.shape == expected and y.context == mx.cpu(1)
    np.testing.assert_array_equal(y.asnumpy().reshape(-1), host.reshape(-1))
    assert nd.reshape(x, spec, reverse=reverse).shape == expected


def test_reshape_spellings():
    x = nd.arange(24)
    assert x.reshape(2, 3, 4).shape == (2, 3, 4)
    assert x.reshape((2, -1)).shape == (2, 12)
    assert x.reshape([4, 6]).shape == (4, 6)
    assert x.reshape(shape=(3, 8)).shape == (3, 8)
    assert x.reshape(-1).shape == (24,)
    assert x.reshape((6, 4)).reshape_like(nd.zeros((4, 6))).shape == (4, 6)


@pytest.mark.parametrize(
    ("src", "spec", "match"),
    [
        ((2, 3, 4), (5, -1), r"cannot reshape array of shape \(2, 3, 4\)"),
        ((2, 3), (-1, -1), "more than one -1"),
        ((2, 3), (4,), r"\(2, 3\) \(6 elements\) into \(4,\)"),
        ((2,), (0, 0), "code 0 at position 1 has no dim to copy"),
        ((6,), (-3,), "code -3 at position 0 needs two dims"),
        ((6,), (-4, -1, -1), "-4 cannot be followed by two -1"),
        ((6,), (-4, 4, -1), "cannot split dim 6 into 4 x 1"),
        ((6,), (-4, 2), "code -4 at position 0 needs two sizes"),
        ((6,), (-5,), "invalid code -5"),
    ],
)
def test_reshape_errors(src, spec, match):
    with pytest.raises(ValueError, match=match):
        infer_reshape(src, spec)
    x = nd.zeros(src)
    before = x.version
    with pytest.raises(ValueError):
        x.reshape(spec)
    assert x.shape == src and x.version == before


def test_reshape_spec_must_be_ints():
    with pytest.raises(TypeError, match="tuple of ints"):
        infer_reshape((2, 3), ("a",))


def test_numpy_mode_has_no_codes():
    mx.npx.set_np()
    a = mx.np.zeros((2, 3))
    assert a.reshape(-1).shape == (6,)
    assert a.reshape((3, -1)).shape == (3, 2)
    with pytest.raises(ValueError, match=r"cannot reshape array of shape \(2, 3\)"):
        a.reshape((0, -1))
    with pytest.raises(ValueError, match="invalid dimension -2"):
        a.reshape((-2,))
    with pytest.raises(ValueError, match="more than one -1"):
        a.reshape((-1, -1))


def test_numpy_semantics_zero_is_a_size():
    assert infer_reshape((0, 3), (0, 5), np_semantics=True) == (0, 5)
    assert infer_reshape((2, 3), (6,), np_semantics=True) == (6,)


@pytest.mark.mxnet_ref
def test_reshape_codes_match_mxnet(mxnet_ref):
    rows = [(list(src), list(spec), rev) for src, spec, rev, _ in CASES[:-1]]
    ref = mxnet_ref(f"""
        import json
        import mxnet as mx
        out = []
        for src, spec, rev in {rows!r}:
            out.append(list(mx.nd.zeros(tuple(src)).reshape(tuple(spec), reverse=rev).shape))
        print(json.dumps(out))
    """)
    ours = [
        list(nd.zeros(src).reshape(spec, reverse=rev).shape) for src, spec, rev, _ in CASES[:-1]
    ]
    assert ours == ref


@pytest.mark.mxnet_ref
def test_reshape_errors_match_mxnet(mxnet_ref):
    bad = [[(2, 3, 4), (5, -1)], [(2, 3), (-1, -1)], [(2, 3), (4,)], [(6,), (-4, 4, -1)]]
    ref = mxnet_ref(f"""
        import json
        import mxnet as mx
        out = []
        for src, spec in {bad!r}:
            try:
                mx.nd.zeros(tuple(src)).reshape(tuple(spec)).wait_to_read()
                out.append("ok")
            except Exception:
                out.append("error")
        print(json.dumps(out))
    """)
    assert ref == ["error"] * len(bad)
