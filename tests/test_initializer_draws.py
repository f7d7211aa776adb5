"""mx.init: random initializers, checked against the theory each one states.

Every draw is made at the fixed seed of the autouse fixture, so the statistics
below are deterministic; the tolerances are those of a sample of the given size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

import paramlab as mx

UNIFORM_BEYOND_ONE_STD = 1 - 1 / math.sqrt(3)  # 0.4226
NORMAL_BEYOND_ONE_STD = 2 * scipy.stats.norm.sf(1)  # 0.3173

RANDOM = [
    pytest.param(mx.init.Uniform(), (256, 512), id="uniform-default"),
    pytest.param(mx.init.Uniform(0.5), (512, 256), id="uniform-0.5"),
    pytest.param(mx.init.Normal(), (256, 512), id="normal-default"),
    pytest.param(mx.init.Normal(0.5), (131072,), id="normal-0.5-1d"),
    pytest.param(mx.init.Xavier(), (256, 512), id="xavier"),
    pytest.param(mx.init.Xavier("gaussian", "in", 2), (256, 512), id="xavier-gaussian-in"),
    pytest.param(mx.init.Xavier("uniform", "out", 6), (64, 32, 3, 3), id="xavier-out-conv"),
    pytest.param(mx.init.MSRAPrelu(), (64, 32, 3, 3), id="msraprelu-conv"),
    pytest.param(mx.init.MSRAPrelu("in", 0.0), (300, 400), id="msraprelu-in"),
]


def draw(init, shape, ctx=None, dtype="float32", name="layer_weight"):
    arr = mx.nd.zeros(shape, ctx=ctx or mx.cpu(0), dtype=dtype)
    init(mx.init.InitDesc(name), arr)
    return arr


def beyond_one_std(theory):
    lo = theory.cdf(np.array([theory.mean - theory.std]))[0]
    hi = theory.cdf(np.array([theory.mean + theory.std]))[0]
    return lo + 1 - hi


# --------------------------------------------------------------------------- statistics
@pytest.mark.parametrize(("init", "shape"), RANDOM)
def test_draws_follow_the_stated_theory(init, shape, ctx):
    arr = draw(init, shape, ctx)
    theory = init.theory(shape)
    x = arr.asnumpy().astype(np.float64).ravel()
    n = x.size
    assert theory.family in ("uniform", "normal")
    ks = scipy.stats.kstest(x, theory.cdf)
    assert ks.pvalue > 1e-3, ks
    assert theory.check(arr) == pytest.approx(ks.statistic, abs=1e-9)
    assert theory.support[0] <= x.min() and x.max() <= theory.support[1]
    assert abs(x.mean() - theory.mean) < 5 * theory.std / math.sqrt(n)
    assert x.std() == pytest.approx(theory.std, rel=0.02)
    observed = np.mean(np.abs(x - theory.mean) > theory.std)
    expected = UNIFORM_BEYOND_ONE_STD if theory.family == "uniform" else NORMAL_BEYOND_ONE_STD
    assert beyond_one_std(theory) == pytest.approx(expected, abs=1e-12)
    assert observed == pytest.approx(expected, abs=0.01)
    if theory.family == "uniform":  # the bound is reached
        assert x.max() > theory.params["high"] * 0.999 and x.min() < theory.params["low"] * 0.999


def test_xavier_uniform_theory_formula():
    theory = mx.init.Xavier().theory((256, 512))
    a = math.sqrt(3 / ((256 + 512) / 2))
    assert a == pytest.approx(math.sqrt(6 / 768), rel=1e-15)
    assert dict(theory.params) == {"low": -a, "high": a}
    assert theory.std == pytest.approx(a / math.sqrt(3))
    assert theory.mean == 0.0
    assert theory.shape == (256, 512) and theory.dtype == "float32"


@pytest.mark.parametrize(
    ("init", "shape", "factor"),
    [
        (mx.init.Xavier(), (64, 32, 3, 3), (32 * 9 + 64 * 9) / 2),
        (mx.init.Xavier(factor_type="in"), (64, 32, 3, 3), 32 * 9),
        (mx.init.Xavier(factor_type="out"), (64, 32, 5), 64 * 5),
        (mx.init.Xavier(factor_type="in"), (10, 20), 20),
        (mx.init.Xavier(factor_type="out", magnitude=2.34), (10, 20), 10),
    ],
)
def test_xavier_fan_rules(init, shape, factor):
    theory = init.theory(shape)
    scale = math.sqrt(init.magnitude / factor)
    assert theory.params["high"] == pytest.approx(scale, rel=1e-15)


def test_msraprelu_is_gaussian_with_he_magnitude():
    theory = mx.init.MSRAPrelu(factor_type="in", slope=0.5).theory((64, 32, 3, 3))
    assert theory.family == "normal"
    assert theory.std == pytest.approx(math.sqrt((2 / 1.25) / (32 * 9)), rel=1e-15)


def test_uniform_and_normal_theories():
    u = mx.init.Uniform(0.3).theory((5, 5))
    assert dict(u.params) == {"low": -0.3, "high": 0.3}
    assert u.std == pytest.approx(0.6 / math.sqrt(12))
    n = mx.init.Normal(0.2).theory((5, 5), "float64")
    assert dict(n.params) == {"loc": 0.0, "scale": 0.2}
    assert n.support == (-math.inf, math.inf) and n.dtype == "float64"


def test_pdf_and_cdf_are_consistent():
    grid = np.linspace(-1, 1, 200001)
    for theory in (mx.init.Uniform(0.3).theory((4,)), mx.init.Normal(0.2).theory((4,))):
        pdf, cdf = theory.pdf(grid), theory.cdf(grid)
        assert pdf.shape == grid.shape and cdf.shape == grid.shape
        assert np.all(np.diff(cdf) >= 0) and cdf[0] == pytest.approx(0, abs=1e-5)
        assert cdf[-1] == pytest.approx(1, abs=1e-5)
        integral = np.cumsum(pdf) * (grid[1] - grid[0])
        np.testing.assert_allclose(integral, cdf, atol=2e-4)
        assert theory.cdf(theory.mean) == pytest.approx(0.5)
        assert np.isscalar(float(theory.pdf(0.0)))


def test_degenerate_scales_are_point_masses():
    arr = draw(mx.init.Uniform(0.0), (10,))
    np.testing.assert_array_equal(arr.asnumpy(), np.zeros(10))
    theory = mx.init.Normal(0.0).theory((10,))
    assert theory.family == "constant" and theory.pdf is None and theory.std == 0.0


# --------------------------------------------------------------------------- contexts, dtypes
@pytest.mark.parametrize(("init", "shape"), RANDOM)
def test_same_seed_gives_identical_draws_on_cpu0_and_cpu1(init, shape):
    mx.random.seed(42)
    a = draw(init, shape, mx.cpu(0))
    mx.random.seed(42)
    b = draw(init, shape, mx.cpu(1))
    assert b.context == mx.cpu(1)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    c = draw(init, shape, mx.cpu(1))
    assert not np.array_equal(b.asnumpy(), c.asnumpy())


def test_draws_write_into_the_arrays_own_buffer(ctx):
    arr = mx.nd.zeros((300, 300), ctx=ctx)
    buffer, version = arr.handle, arr.version
    mx.init.Xavier()(mx.init.InitDesc("fc_weight"), arr)
    assert arr.handle is buffer
    assert arr.version == version + 1
    assert arr.context == ctx


@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize(
    ("init", "shape"),
    [
        (mx.init.Uniform(0.5), (200, 300)),
        (mx.init.Normal(0.5), (200, 300)),
        (mx.init.Xavier(), (200, 300)),
        (mx.init.Xavier("gaussian"), (200, 300)),
        (mx.init.MSRAPrelu(), (20, 30, 10)),
    ],
)
def test_float16_and_float64_draws(init, shape, dtype, ctx):
    arr = draw(init, shape, ctx, dtype=dtype)
    assert arr.dtype == np.dtype(dtype).type
    theory = init.theory(shape, dtype)
    assert theory.dtype == dtype
    x = arr.asnumpy().astype(np.float64).ravel()
    assert theory.support[0] <= x.min() and x.max() <= theory.support[1]
    assert scipy.stats.kstest(x, theory.cdf).pvalue > 1e-3
    assert x.std() == pytest.approx(theory.std, rel=0.02)


def test_float16_support_is_widened_by_rounding():
    theory = mx.init.Uniform(0.07).theory((3,), "float16")
    assert theory.support[1] >= float(np.float16(0.07)) and theory.support[1] >= 0.07
    assert theory.support[0] == -theory.support[1]


# --------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("rand_type", ["uniform", "normal"])
@pytest.mark.parametrize(
    ("shape", "by_rows"),
    [((32, 64), True), ((48, 48), True), ((64, 8, 2), False), ((200, 10), False)],
)
def test_orthogonal_invariant(shape, by_rows, rand_type, ctx):
    init = mx.init.Orthogonal(scale=1.5, rand_type=rand_type)
    arr = draw(init, shape, ctx)
    theory = init.theory(shape)
    assert theory.family == "orthogonal" and theory.pdf is None and theory.cdf is None
    assert ("W Wᵀ" if by_rows else "Wᵀ W") in theory.invariant
    w = arr.asnumpy().astype(np.float64).reshape(shape[0], -1)
    gram = w @ w.T if by_rows else w.T @ w
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(gram.shape[0]), atol=1e-5)
    assert theory.check(arr) < 1e-5
    x = w.ravel()
    assert np.abs(x).max() <= theory.support[1]
    assert x.std() == pytest.approx(theory.std, rel=0.02)
    # A matrix that is not orthogonal is measured as such.
    assert theory.check(np.ones(shape, np.float32)) > 1.0


def test_orthogonal_float64_is_orthogonal_to_double_precision():
    arr = draw(mx.init.Orthogonal(scale=1.0), (40, 60), dtype="float64")
    assert mx.init.Orthogonal(scale=1.0).theory((40, 60), "float64").check(arr) < 1e-12


def test_orthogonal_refuses_vectors_and_changes_nothing():
    arr = mx.nd.full((5,), 3.0)
    with pytest.raises(ValueError, match="Orthogonal initializer cannot be applied to vector"):
        mx.init.Orthogonal()(mx.init.InitDesc("fc_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full(5, 3.0))
    with pytest.raises(ValueError, match="cannot be applied to vector"):
        mx.init.Orthogonal().theory((5,))


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "init", [mx.init.Xavier(), mx.init.MSRAPrelu(), mx.init.Xavier("gaussian")]
)
def test_xavier_on_a_vector_raises_and_changes_nothing(init, ctx):
    arr = mx.nd.full((10,), 3.0, ctx=ctx)
    version = arr.version
    with pytest.raises(ValueError, match="cannot be applied to vector dense0_weight"):
        init(mx.init.InitDesc("dense0_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full(10, 3.0))
    assert arr.version == version
    with pytest.raises(ValueError, match="cannot be applied to vector an array of shape"):
        init.theory((10,))


@pytest.mark.parametrize(
    "init",
    [
        mx.init.Uniform(),
        mx.init.Normal(),
        mx.init.Xavier(),
        mx.init.MSRAPrelu(),
        mx.init.Orthogonal(),
    ],
    ids=lambda i: type(i).__name__,
)
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "int64"])
def test_random_draws_into_integer_dtypes_raise_and_change_nothing(init, dtype, ctx):
    arr = mx.nd.full((6, 4), 3, ctx=ctx, dtype=dtype)
    version = arr.version
    with pytest.raises(mx.init.InitializerDtypeError, match=f"got {dtype}") as info:
        init(mx.init.InitDesc("fc_weight"), arr)
    assert isinstance(info.value, mx.MXNetError)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, TypeError)
    assert "float16, float32 or float64" in str(info.value)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((6, 4), 3))
    assert arr.version == version
    with pytest.raises(TypeError, match=f"got {dtype}"):
        init.theory((6, 4), dtype)


@pytest.mark.parametrize(
    ("attribute", "value", "match"),
    [
        ("factor_type", "sum", "Incorrect factor type"),
        ("rnd_type", "cauchy", "Unknown random type"),
    ],
)
def test_xavier_bad_settings_at_call_time_change_nothing(attribute, value, match):
    init = mx.init.Xavier()
    setattr(init, attribute, value)
    arr = mx.nd.full((4, 5), 3.0)
    with pytest.raises(ValueError, match=match):
        init(mx.init.InitDesc("fc_weight"), arr)
    np.testing.assert_array_equal(arr.asnumpy(), np.full((4, 5), 3.0))


def test_xavier_scale_follows_settings_changed_between_draws():
    init = mx.init.Xavier()
    for magnitude in (3.0, 12.0, 0.7, np.float32(0.7)):  # float32 magnitudes divide in float32
        init.magnitude = magnitude
        scale = math.sqrt(magnitude / ((40 + 60) / 2.0))
        mx.random.seed(5)
        got = draw(init, (40, 60)).asnumpy()
        mx.random.seed(5)
        np.testing.assert_array_equal(got, draw(mx.init.Uniform(scale), (40, 60)).asnumpy())
    init.magnitude = [3]  # unhashable: the error of the plain computation
    with pytest.raises(TypeError):
        draw(init, (40, 60))


def test_theory_rejects_bad_shapes_and_dtypes():
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        mx.init.Uniform().theory("big")
    with pytest.raises(ValueError, match="non-negative"):
        mx.init.Uniform().theory((3, -1))
    with pytest.raises(TypeError, match="unsupported dtype"):
        mx.init.Uniform().theory((3,), "complex64")
    with pytest.raises(ValueError, match="stated for shape \\(3,\\)"):
        mx.init.Uniform().theory((3,)).check(np.zeros(4))


def test_empty_arrays_are_left_alone():
    for init in (mx.init.Xavier(factor_type="out"), mx.init.Orthogonal(), mx.init.Uniform()):
        arr = mx.nd.zeros((0, 5))
        init(mx.init.InitDesc("fc_weight"), arr)
        assert arr.shape == (0, 5)
    assert mx.init.Xavier(factor_type="out").theory((0, 5)).family == "none"
