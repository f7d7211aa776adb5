"""Tests for paramlab.summary: agreement with NumPy float64 references.

Every test runs twice: with the compiled one-pass kernels (``paramlab._summary_jit``,
Numba) and with the NumPy block kernels that take over where Numba is missing.
"""

from __future__ import annotations

import importlib
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from paramlab import _backend, summary
from paramlab import _summary_kernels as kernels
from paramlab.summary import (
    Stats,
    divergence,
    edges_for,
    fixed_edges,
    histogram,
    sample,
    stats,
    summarize,
    thumbnail,
)

RNG_SEED = 20240611
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@pytest.fixture(params=["compiled", "numpy"], autouse=True)
def kernel(request, monkeypatch):
    """Route ``summary`` through one kernel family for the whole test."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        module = importlib.import_module("paramlab._summary_jit")
    else:
        module = None
    monkeypatch.setitem(kernels._JIT_STATE, "module", module)
    return request.param


class Wrapped:
    """Stands in for paramlab's NDArray: a raw array in ``_data``."""

    def __init__(self, data):
        self._data = data


# --------------------------------------------------------------------------- references
def reference_stats(x: np.ndarray) -> dict:
    x = np.asarray(x)
    flat = x.reshape(-1)
    finite = flat[np.isfinite(flat)].astype(np.float64) if x.dtype.kind == "f" else flat
    finite = finite.astype(np.float64)
    out = {
        "count": x.size,
        "zeros": int(np.count_nonzero(flat == 0)),
        "nan": int(np.count_nonzero(np.isnan(flat))) if x.dtype.kind == "f" else 0,
        "posinf": int(np.count_nonzero(flat == np.inf)) if x.dtype.kind == "f" else 0,
        "neginf": int(np.count_nonzero(flat == -np.inf)) if x.dtype.kind == "f" else 0,
    }
    if finite.size:
        out.update(mean=finite.mean(), std=finite.std(), min=finite.min(), max=finite.max(),
                   l2=np.linalg.norm(finite))
    else:
        out.update(mean=None, std=None, min=None, max=None, l2=0.0)
    return out


def assert_stats_match(s: Stats, x: np.ndarray, rtol: float = 1e-12) -> None:
    ref = reference_stats(x)
    for key in ("count", "zeros", "nan", "posinf", "neginf"):
        assert getattr(s, key) == ref[key], key
    assert s.shape == tuple(np.shape(x))
    assert s.dtype == str(np.asarray(x).dtype)
    for key in ("mean", "std", "min", "max", "l2"):
        got, want = getattr(s, key), ref[key]
        if want is None:
            assert got is None, key
            continue
        atol = 0.0
        if key in ("mean", "std"):  # cancellation: relative to the largest magnitude
            atol = 1e-13 * max(abs(float(ref["max"])), abs(float(ref["min"])))
        assert got == pytest.approx(float(want), rel=rtol, abs=atol), key


def reference_histogram(x: np.ndarray, edges: np.ndarray):
    flat = np.asarray(x).reshape(-1)
    finite = flat[np.isfinite(flat)] if flat.dtype.kind == "f" else flat
    counts, _ = np.histogram(finite.astype(np.float64), bins=edges)  # float16 sorts are unsafe
    below = int(np.count_nonzero(finite < edges[0]))
    above = int(np.count_nonzero(finite > edges[-1]))
    return counts, below, above


def assert_histogram_match(h, x, edges):
    counts, below, above = reference_histogram(x, edges)
    np.testing.assert_array_equal(h.counts, counts)
    assert h.counts.dtype == np.int64
    assert (h.below, h.above) == (below, above)
    np.testing.assert_array_equal(h.edges, edges)


# --------------------------------------------------------------------------- stats
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_stats_match_numpy_float64_reference(dtype):
    rng = np.random.default_rng(RNG_SEED)
    x = (rng.standard_normal((300, 700)) * 3 + 1).astype(dtype)
    assert_stats_match(stats(x), x)


def test_stats_large_mean_tiny_spread_is_exact():
    rng = np.random.default_rng(RNG_SEED)
    x = (1e4 + 1e-3 * rng.standard_normal(1_000_000)).astype(np.float32)
    s = stats(x)
    x64 = x.astype(np.float64)
    assert s.std == pytest.approx(np.std(x64), rel=1e-9)
    assert s.mean == pytest.approx(np.mean(x64), rel=1e-15)
    assert s.l2 == pytest.approx(np.linalg.norm(x64), rel=1e-13)


def test_stats_count_nan_inf_and_zeros():
    x = np.array([0.0, -0.0, 1.5, np.nan, np.inf, -np.inf, -np.inf, 2.5, np.nan], np.float32)
    s = stats(x)
    assert (s.count, s.nan, s.posinf, s.neginf, s.zeros, s.finite) == (9, 2, 1, 2, 2, 4)
    assert (s.mean, s.min, s.max) == (1.0, 0.0, 2.5)
    assert_stats_match(s, x)


def test_stats_nonfinite_spread_over_many_blocks():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(5 * kernels.BLOCK + 123).astype(np.float32)
    x[rng.integers(0, x.size, 50)] = np.nan
    x[rng.integers(0, x.size, 20)] = np.inf
    x[7 * 1000] = -np.inf
    assert_stats_match(stats(x), x)


def test_stats_empty_and_all_nan():
    empty = stats(np.zeros((0, 3), np.float32))
    assert (empty.count, empty.mean, empty.std, empty.min, empty.max, empty.l2) == (
        0, None, None, None, None, 0.0)
    assert empty.shape == (0, 3)
    all_nan = stats(np.full(10, np.nan))
    assert (all_nan.count, all_nan.nan, all_nan.finite, all_nan.mean, all_nan.l2) == (
        10, 10, 0, None, 0.0)


@pytest.mark.parametrize(
    "x",
    [
        np.array(3.5, np.float32),
        np.array(-2, np.int64),
        np.arange(-50, 70, dtype=np.int32).reshape(4, 30),
        np.array([[True, False, True]]),
        np.arange(200_000, dtype=np.uint8),
        np.array([2**40, -(2**40), 7], np.int64),
    ],
    ids=["0d-float", "0d-int", "int32", "bool", "uint8-many-blocks", "int64-big"],
)
def test_stats_scalars_integers_and_bools(x):
    assert_stats_match(stats(x), x)


def test_stats_non_contiguous_layouts_agree():
    rng = np.random.default_rng(RNG_SEED)
    base = rng.standard_normal((400, 500)).astype(np.float32)
    for view in (base.T, base[::3, 1::2], np.asfortranarray(base), base[:, ::-1]):
        assert_stats_match(stats(view), view)


def test_float64_near_overflow_does_not_raise():
    x = np.array([1e308, 1e308, -1e308, 0.0])
    s, h = summarize(x, bins=4)
    assert (s.min, s.max, s.count) == (-1e308, 1e308, 4)
    assert h.edges[0] == -1e308 and h.edges[-1] == 1e308
    assert_histogram_match(h, x, h.edges)


def test_stats_accepts_wrapped_arrays_and_rejects_complex():
    x = np.arange(6.0).reshape(2, 3)
    assert stats(Wrapped(x)) == stats(x)
    with pytest.raises(TypeError, match="complex128"):
        stats(np.ones(3, np.complex128))


def test_stats_as_dict_is_json():
    s = stats(np.array([[1.0, np.nan]]))
    data = json.loads(json.dumps(s.as_dict()))
    assert data["shape"] == [1, 2] and data["nan"] == 1 and data["dtype"] == "float64"
    assert json.loads(json.dumps(stats(np.zeros(0)).as_dict()))["mean"] is None


finite_f32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=1, max_dims=3, max_side=40),
    elements=st.floats(-1e6, 1e6, width=32),
)


@settings(max_examples=60, deadline=None, suppress_health_check=_SLOW_OK)
@given(finite_f32)
def test_property_stats_match_numpy(x):
    assert_stats_match(stats(x), x, rtol=1e-9)


any_f32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=0, max_dims=2, max_side=30),
    elements=st.floats(width=32, allow_nan=True, allow_infinity=True),
)


@settings(max_examples=60, deadline=None, suppress_health_check=_SLOW_OK)
@given(any_f32)
def test_property_stats_with_nonfinite_and_extremes(x):
    assert_stats_match(stats(x), x, rtol=1e-9)


# --------------------------------------------------------------------------- histogram
def test_histogram_matches_numpy_on_random_data():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((512, 700)).astype(np.float32)
    edges = fixed_edges(-3.0, 2.5, 64)
    h = histogram(x, edges)
    assert_histogram_match(h, x, edges)
    assert h.counts.sum() + h.below + h.above == x.size


def test_histogram_values_exactly_on_edges():
    edges = fixed_edges(-1.3, 2.9, 64)
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    for x in (near, near.astype(np.float32), near.astype(np.float16), np.tile(near, 2000)):
        assert_histogram_match(histogram(x, edges), x, edges)


def test_histogram_edges_with_large_offset_and_float32_steps():
    rng = np.random.default_rng(RNG_SEED)
    x = (1e4 + 1e-3 * rng.standard_normal(300_000)).astype(np.float32)
    edges = edges_for(x, bins=64)
    assert_histogram_match(histogram(x, edges), x, edges)
    assert histogram(x, edges).counts.sum() == x.size


def test_histogram_float16_with_heavy_duplicates():
    # mostly one value plus a few at both extremes (NumPy's own float16 sort trips on this)
    x = np.full(200_000, -5.0, np.float16)
    x[[10, 70_000, 140_000, 199_999]] = -6.0
    x[[5, 6, 7, 8]] = -4.0
    s, h = summarize(x, bins=34)
    assert (h.counts[0], h.counts[17], h.counts[-1]) == (4, 199_992, 4)
    assert_histogram_match(h, x, edges_for(s, bins=34))


def test_histogram_integer_data_on_integer_edges():
    x = np.arange(-100, 100, dtype=np.int64).repeat(700)
    edges = fixed_edges(-64, 64, 64)
    assert_histogram_match(histogram(x, edges), x, edges)
    bools = np.array([True, False, True, True])
    assert histogram(bools, [0.0, 0.5, 1.0]).counts.tolist() == [1, 3]


def test_histogram_nonfinite_never_binned():
    x = np.array([np.nan, np.inf, -np.inf, 0.5, 5.0, -5.0, 1.0], np.float32)
    h = histogram(x, fixed_edges(0.0, 1.0, 4))
    assert h.counts.tolist() == [0, 0, 1, 1]
    assert (h.below, h.above, h.nan, h.posinf, h.neginf) == (1, 1, 1, 1, 1)


def test_histogram_non_uniform_edges_use_search():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(200_000)
    edges = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 0.75, 4.0])
    x[:7] = edges
    assert not kernels.Binner(edges).uniform
    assert_histogram_match(histogram(x, edges), x, edges)


def test_histogram_rejects_bad_edges():
    for bad in ([1.0], [0.0, 0.0, 1.0], [0.0, np.nan], [[0.0, 1.0]], [1.0, 0.0]):
        with pytest.raises(ValueError):
            histogram(np.ones(3), bad)


@settings(max_examples=50, deadline=None, suppress_health_check=_SLOW_OK)
@given(
    any_f32,
    st.floats(-100, 100),
    st.floats(1e-3, 200),
    st.integers(1, 70),
)
def test_property_histogram_matches_numpy(x, lo, width, bins):
    edges = fixed_edges(lo, lo + width, bins)
    h = histogram(x, edges)
    assert_histogram_match(h, x, edges)


# --------------------------------------------------------------------------- edges
def test_fixed_edges_and_edges_for():
    np.testing.assert_array_equal(fixed_edges(-1, 1, 4), [-1.0, -0.5, 0.0, 0.5, 1.0])
    with pytest.raises(ValueError):
        fixed_edges(1.0, 1.0)
    with pytest.raises(ValueError):
        fixed_edges(0.0, 1.0, bins=0)
    x = np.array([-0.5, 2.0, np.nan, np.inf])
    e = edges_for(x, bins=5)
    assert (e[0], e[-1], e.size) == (-0.5, 2.0, 6)
    assert edges_for(stats(x), bins=5).tolist() == e.tolist()
    sym = edges_for(x, bins=4, symmetric=True)
    assert (sym[0], sym[2], sym[-1]) == (-2.0, 0.0, 2.0)
    const = edges_for(np.full(5, 3.0), bins=2)
    assert const[0] < 3.0 < const[-1] and const[1] == 3.0
    assert edges_for(np.zeros(4), bins=2).tolist() == [-1.0, 0.0, 1.0]
    assert edges_for(np.full(3, np.nan), bins=2).tolist() == [-1.0, 0.0, 1.0]
    assert not e.flags.writeable


def test_edges_kept_fixed_across_calls():
    rng = np.random.default_rng(RNG_SEED)
    first = rng.standard_normal(10_000)
    edges = edges_for(first, bins=32)
    for step in range(3):
        x = first * (1 + step) + step
        s, h = summarize(x, edges)
        np.testing.assert_array_equal(h.edges, edges)
        assert_histogram_match(h, x, edges)
        assert_stats_match(s, x)


# --------------------------------------------------------------------------- summarize
def test_summarize_derived_edges_match_edges_for_and_numpy():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((700, 400)).astype(np.float32)
    s, h = summarize(x, bins=64)
    assert_stats_match(s, x)
    edges = edges_for(x, bins=64)
    assert_histogram_match(h, x, edges)
    assert h.counts.sum() == x.size and not h.sampled and h.binned == x.size
    assert h.counts[0] >= 1 and h.counts[-1] >= 1  # min and max are on the outer edges


def test_summarize_with_nonfinite_values():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(300_000)
    x[::1000] = np.nan
    x[5] = -np.inf
    s, h = summarize(x, bins=16, symmetric=True)
    assert_stats_match(s, x)
    assert_histogram_match(h, x, edges_for(x, bins=16, symmetric=True))
    assert (h.nan, h.neginf) == (s.nan, 1)


def test_summarize_fused_equals_separate_calls():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((300, 300)).astype(np.float16)
    edges = fixed_edges(-2.0, 2.0, 20)
    s, h = summarize(Wrapped(x), edges)
    assert s == stats(x)
    np.testing.assert_array_equal(h.counts, histogram(x, edges).counts)


def test_summarize_is_deterministic_across_thread_counts():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal(2 * kernels.MIN_ELEMENTS_PER_THREAD + 999).astype(np.float32)
    edges = edges_for(x)
    one = summarize(x, edges, threads=1)
    two = summarize(x, edges, threads=2)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1].counts, two[1].counts)


def test_summarize_samples_histogram_above_threshold():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((300, 1000)).astype(np.float32)
    x[0, 0] = np.nan
    edges = fixed_edges(-4, 4, 32)
    s, h = summarize(x, edges, sample_histogram=True, max_elements=20_000)
    assert_stats_match(s, x)  # statistics stay exact
    assert h.sampled and h.binned <= 20_000 and h.nan == 1
    part = sample(x, 20_000)
    assert h.binned == part.size
    counts, below, above = reference_histogram(part, edges)
    np.testing.assert_array_equal(h.counts, counts)
    assert (h.below, h.above) == (below, above)
    _, exact = summarize(x, edges, max_elements=20_000)
    assert not exact.sampled and exact.binned == x.size
    _, small = summarize(x[:10], edges, sample_histogram=True, max_elements=20_000)
    assert not small.sampled


def test_sample_is_fixed_spread_and_size_only():
    size, m = 1_000_003, 5_000
    idx = sample(np.arange(size), m)
    assert 0 < idx.size <= m
    assert np.all(np.diff(idx) > 0)  # distinct, in order
    assert idx[0] < size // 50 and idx[-1] > size - size // 50  # spread over the tensor
    other = np.arange(size)[::-1].copy()
    np.testing.assert_array_equal(sample(other, m), other[idx])
    columns = np.unique(sample(np.arange(4096 * 4096).reshape(4096, 4096), 2**16) % 4096)
    assert columns.size > 2000  # no aliasing with the row length
    strided = np.arange(2 * size)[::2]
    np.testing.assert_array_equal(sample(strided, m), strided[idx])
    transposed = np.arange(10**6).reshape(1000, 1000).T
    np.testing.assert_array_equal(
        sample(transposed, m), transposed.reshape(-1)[sample(np.arange(10**6), m)])
    small = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(sample(small, 100), np.arange(12))


# --------------------------------------------------------------------------- thumbnail
def reference_thumbnail_means(x2: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    rows = range(0, x2.shape[0], block[0])
    cols = range(0, x2.shape[1], block[1])
    out = np.zeros((len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cell = x2[r : r + block[0], c : c + block[1]].astype(np.float64)
            cell = cell[np.isfinite(cell)]
            out[i, j] = cell.mean() if cell.size else 0.0
    return out


def test_thumbnail_shape_and_block_means():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((300, 500)).astype(np.float32)
    t = thumbnail(x)
    assert t.data.shape == (60, 63) and t.data.dtype == np.uint8 and t.data.nbytes <= 64 * 64
    assert (t.shape_2d, t.source_shape, t.block) == ((300, 500), (300, 500), (5, 8))
    means = reference_thumbnail_means(x, t.block)
    assert t.scale == pytest.approx(np.abs(means).max(), rel=1e-6)
    np.testing.assert_allclose(t.decode(), means, atol=t.scale / 127 * 0.51)


def test_thumbnail_centring_and_scale():
    zero = thumbnail(np.zeros((10, 10)))
    assert zero.scale == 0.0 and np.all(zero.data == 128)
    t = thumbnail(np.array([[-2.0, 1.0, 0.0, 2.0]]))
    assert t.data.tolist() == [[1, 192, 128, 255]] and t.scale == 2.0


def test_thumbnail_nonfinite_cells():
    x = np.ones((128, 128), np.float32)
    x[0, 0] = np.nan
    x[127, 127] = np.inf
    x[64:66, 0:2] = np.nan  # a whole 2x2 cell
    t = thumbnail(x)
    assert t.data.shape == (64, 64) and t.nonfinite_cells == 3
    assert t.nonfinite[0, 0] and t.nonfinite[63, 63] and t.nonfinite[32, 0]
    assert t.data[0, 0] == 255 and t.data[32, 0] == 128 and t.data[1, 1] == 255


@pytest.mark.parametrize(
    ("shape", "shape_2d", "data_shape"),
    [((), (1, 1), (1, 1)), ((10,), (1, 10), (1, 10)), ((8, 3, 5, 5), (8, 75), (8, 75 // 2 + 1)),
     ((100_000,), (1, 100_000), (1, 64)), ((0, 4), (0, 4), (0, 0))],
)
def test_thumbnail_ranks(shape, shape_2d, data_shape):
    x = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) - 3
    t = thumbnail(x, max_side=64 if shape != (8, 3, 5, 5) else 40)
    assert (t.shape_2d, t.data.shape, t.source_shape) == (shape_2d, data_shape, shape)


def test_thumbnail_bands_agree_with_one_pass(monkeypatch):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((257, 3001)).astype(np.float32)
    x[::17, ::13] = np.nan
    whole = thumbnail(x)
    monkeypatch.setattr(summary, "_THUMB_TILE", 5000)
    banded = thumbnail(x)
    np.testing.assert_array_equal(whole.data, banded.data)
    np.testing.assert_array_equal(whole.nonfinite, banded.nonfinite)


# --------------------------------------------------------------------------- divergence
def test_divergence_identical_and_one_change():
    rng = np.random.default_rng(RNG_SEED)
    a = rng.standard_normal((300, 400)).astype(np.float32)
    same = divergence(a, a.copy())
    assert (same.bitwise_equal, same.differing, same.max_abs_diff, same.rel_l2) == (
        True, 0, 0.0, 0.0)
    b = a.copy()
    b[123, 45] += np.float32(0.5)
    d = divergence(Wrapped(a), b)
    delta = abs(float(b[123, 45]) - float(a[123, 45]))
    assert (d.bitwise_equal, d.differing) == (False, 1)
    assert d.max_abs_diff == delta
    assert d.rel_l2 == pytest.approx(delta / np.linalg.norm(a.astype(np.float64)), rel=1e-12)


def test_divergence_signed_zero_and_nan_payloads():
    zero = divergence(np.array([0.0, 1.0]), np.array([-0.0, 1.0]))
    assert (zero.bitwise_equal, zero.differing, zero.max_abs_diff) == (False, 1, 0.0)
    nan = np.array([np.nan, 2.0])
    assert divergence(nan, nan.copy()).bitwise_equal
    other_payload = nan.copy()
    other_payload.view(np.uint64)[0] ^= 1
    assert np.isnan(other_payload[0])
    d = divergence(nan, other_payload)
    assert (d.bitwise_equal, d.differing, d.max_abs_diff) == (False, 1, 0.0)
    one_sided = divergence(nan, np.array([1.0, 2.0]))
    assert one_sided.max_abs_diff == math.inf and one_sided.differing == 1
    infs = divergence(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))
    assert infs.bitwise_equal and infs.max_abs_diff == 0.0


def test_divergence_layouts_and_dtypes():
    rng = np.random.default_rng(RNG_SEED)
    a = rng.standard_normal((500, 300))
    assert divergence(a.T, a.T.copy()).bitwise_equal
    b = a.T.copy()
    b[7, 9] = 0.0
    assert divergence(a.T, b).differing == 1
    ints = np.arange(10, dtype=np.int16)
    changed = ints.copy()
    changed[3] = -7
    assert divergence(ints, changed).max_abs_diff == 10.0
    flags = np.array([True, False])
    assert divergence(flags, ~flags).differing == 2
    assert divergence(np.float32(1.5), np.float32(1.5)).bitwise_equal


def test_divergence_rejects_mismatches(monkeypatch):
    with pytest.raises(ValueError, match="shape"):
        divergence(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="dtype"):
        divergence(np.ones(3), np.ones(3, np.float32))

    class FakeGpu(np.ndarray):
        """A NumPy array that pretends to live on a GPU."""

    monkeypatch.setattr(summary._backend, "is_gpu_array", lambda a: isinstance(a, FakeGpu))
    with pytest.raises(ValueError, match="one device"):
        divergence(np.ones(3), np.ones(3).view(FakeGpu))


# --------------------------------------------------------------------------- no host copies
def test_cpu_inputs_are_never_copied_to_the_host():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((600, 300)).astype(np.float32)
    x[1, 1] = np.nan
    wrapped = Wrapped(x)
    with _backend.counting() as moved:
        s = stats(wrapped)
        edges = edges_for(s)
        histogram(wrapped, edges)
        summarize(wrapped)
        summarize(wrapped, edges, sample_histogram=True, max_elements=10_000)
        sample(wrapped, 10_000)
        thumbnail(wrapped)
        divergence(wrapped, x.copy())
    assert moved.host_reads == 0 and moved.device_to_host == 0
    assert moved.total == 0


# --------------------------------------------------------------------------- device code paths
def test_whole_array_paths_agree_with_block_paths():
    """The GPU code (whole-array reductions) run on NumPy gives the same answers."""
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((200, 300)).astype(np.float32)
    x[3, 4], x[5, 6] = np.nan, -np.inf
    whole = summary._whole_stats(x, np)
    assert_stats_match(whole, x)
    edges = fixed_edges(-2.0, 2.0, 64)
    h = summary._whole_histogram(x, np, kernels.Binner(edges))
    assert_histogram_match(h, x, edges)
    assert (h.nan, h.neginf) == (1, 1)
    bools = np.array([True, False, True])
    assert_stats_match(summary._whole_stats(bools, np), bools)
    empty = summary._whole_stats(np.full(3, np.nan), np)
    assert empty.mean is None and empty.nan == 3


# --------------------------------------------------------------------------- compiled kernels
def _block() -> int:
    jit = kernels.jit_kernels()
    return jit.BLOCK if jit is not None else kernels.BLOCK


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_with_nonfinite_values_among_finite_blocks(dtype):
    rng = np.random.default_rng(RNG_SEED)
    b = _block()
    x = (rng.standard_normal(3 * b + 17) * 2 - 1).astype(dtype)
    x[b + 3] = np.nan  # the second block needs the careful pass...
    x[2 * b] = np.inf  # ...and so does the third, at its first element (the pivot)
    x[-1] = -np.inf  # the short last block too
    x[0] = 0.0
    edges = fixed_edges(-3.0, 3.0, 24)
    s, h = summarize(x, edges)
    assert_stats_match(s, x)
    assert_histogram_match(h, x, edges)
    assert (s.nan, s.posinf, s.neginf) == (1, 1, 1)


def test_pivot_far_from_the_block_mean_stays_exact():
    # The worst case for a pivot taken from a block's first elements: those are outliers.
    b = _block()
    x = np.full(2 * b, 1e-3, dtype=np.float64)
    x[:64] = 1e6
    x[b : b + 64] = -1e6
    assert_stats_match(stats(x), x)


def test_squares_that_overflow_give_inf_like_numpy():
    x = np.array([1e200, -1e200, 3.0], dtype=np.float64)
    s = stats(x)
    assert (s.min, s.max, s.l2) == (-1e200, 1e200, math.inf)
    assert s.mean == pytest.approx(1.0)


def test_fortran_order_and_values_on_the_edges():
    edges = fixed_edges(-1.0, 1.0, 8)
    x = np.asfortranarray(np.tile(np.concatenate([edges, [-1.0 - 1e-17, 1.0 + 1e-16]]), (40, 3)))
    s, h = summarize(x, edges)
    assert_stats_match(s, x)
    assert_histogram_match(h, x, edges)


def test_kernels_agree_with_each_other(kernel):
    rng = np.random.default_rng(RNG_SEED)
    x = (rng.standard_normal(5 * _block() + 999) * 1e-3 + 50).astype(np.float32)
    x[::777] = 0.0
    edges = fixed_edges(49.99, 50.01, 32)
    s, h = summarize(x, edges, threads=2)
    pytest.importorskip("numba")
    other = None if kernel == "compiled" else importlib.import_module("paramlab._summary_jit")
    kernels._JIT_STATE["module"] = other  # restored by the fixture's monkeypatch
    s_other, h_other = summarize(x, edges)
    np.testing.assert_array_equal(h.counts, h_other.counts)
    for field in ("zeros", "count", "min", "max"):
        assert getattr(s, field) == getattr(s_other, field), field
    assert s.std == pytest.approx(s_other.std, rel=1e-12)
    assert s.mean == pytest.approx(s_other.mean, rel=1e-14)
