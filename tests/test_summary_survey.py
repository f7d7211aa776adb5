"""Tests for ``summary.survey`` and the one-read scan it rests on (copying runs out of
a scan, order-key extremes, compensated block merging, the default thread count).

Like ``test_summary.py``, every test runs with the compiled kernels and with the
NumPy kernels (the ``kernel`` fixture imported from there).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from test_summary import RNG_SEED, assert_stats_match, kernel  # noqa: F401  (autouse fixture)

import paramlab as mx
from paramlab import _backend, summary
from paramlab import _summary_kernels as kernels
from paramlab.summary import fixed_edges, histogram, sample, stats, summarize, survey, thumbnail


def _noisy(shape, dtype=np.float32, seed=RNG_SEED):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::997] = 0.0
    return x


# --------------------------------------------------------------------------- runs
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.float16])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("threads", [1, 2])
def test_scan_copies_runs_in_the_order_given(dtype, layout, threads):
    base = _noisy((3000, 700), np.float64).astype(dtype)
    x = {"C": base, "F": np.asfortranarray(base), "strided": base[:, ::2]}[layout]
    block = 1 << 14
    starts = [5, 0, block - 3, 10_000, 3 * block - 10, x.size - 3, 7]
    lengths = [20_000, 10, 30, 0, 2 * block + 5, 3, 40]  # overlapping, across blocks, empty
    res = kernels.scan(x, runs=kernels.run_table(x.size, starts, lengths), threads=threads)
    flat = x.reshape(-1)  # C order (a copy for the F and strided layouts)
    want = np.concatenate([flat[a : a + n] for a, n in zip(starts, lengths)])
    np.testing.assert_array_equal(res.copied, want)
    assert res.copied.dtype == x.dtype
    assert_stats_match(summary._stats_from_scan(x, res), x)


def test_run_table_rejects_bad_runs():
    with pytest.raises(ValueError, match="one length per start; got 2 starts and 1 lengths"):
        kernels.run_table(10, [0, 1], [1])
    with pytest.raises(IndexError, match="within the 10 elements"):
        kernels.run_table(10, [8], [3])
    with pytest.raises(IndexError, match="within the 10 elements"):
        kernels.run_table(10, [2], [-1])
    table = kernels.run_table(10, [0], [2])
    with pytest.raises(ValueError, match="runs index 10 elements; the array has 12"):
        kernels.scan(np.zeros(12), runs=table)


# --------------------------------------------------------------------------- extremes and merging
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extremes_of_signed_zeros_subnormals_and_the_largest_floats(dtype):
    info = np.finfo(dtype)
    n = 5 * (1 << 14) + 123  # several blocks and a short one
    cases = {
        "zeros": np.where(np.arange(n) % 2, -0.0, 0.0),
        "subnormal": np.full(n, info.smallest_subnormal) * np.where(np.arange(n) % 3, 1, -1),
        "all_negative": -np.linspace(1.0, 2.0, n),
        "extreme": np.where(np.arange(n) % 2, info.max, -info.max),
        "one_spike": np.r_[np.zeros(n - 1), info.tiny],
    }
    for name, values in cases.items():
        x = values.astype(dtype)
        s = stats(x)
        assert (s.min, s.max) == (float(x.min()), float(x.max())), name
        assert s.zeros == int(np.count_nonzero(x == 0)), name
    x = np.where(np.arange(n) % 2, -0.0, 0.0).astype(dtype)
    assert stats(x).min == 0.0 and stats(x).max == 0.0


def test_blocks_merge_without_losing_small_means():
    block = kernels.BLOCK  # a multiple of the compiled kernels' block: whole blocks cancel
    x = np.concatenate([np.full(block, 1e12), np.full(block, -1e12), np.full(3 * block, 1e-3)])
    s = stats(x)
    assert s.mean == pytest.approx(math.fsum(x.tolist()) / x.size, rel=1e-15)
    assert s.std == pytest.approx(np.std(x), rel=1e-12)


def test_default_threads_use_one_core_on_small_machines(monkeypatch):
    monkeypatch.setattr(kernels, "max_threads", lambda: 2)
    assert kernels.default_threads(compiled=True) == 1
    monkeypatch.setattr(kernels, "max_threads", lambda: 8)
    assert kernels.default_threads(compiled=True) == 8
    assert kernels.default_threads(compiled=False) == 1


# --------------------------------------------------------------------------- survey
def test_small_survey_is_summarize_and_thumbnail():
    x = _noisy((40, 30))
    x[3, 4] = np.nan
    edges = fixed_edges(-3.0, 3.0, 16)
    v = survey(x, edges, max_elements=x.size)
    s, h = summarize(x, edges)
    t = thumbnail(x)
    assert not v.sampled and v.sample is None
    assert v.stats == s
    np.testing.assert_array_equal(v.histogram.counts, h.counts)
    np.testing.assert_array_equal(v.thumbnail.data, t.data)
    assert v.thumbnail.block == t.block


def _expected_cells(x2, cell, run):
    rows, cols = x2.shape
    means, nonfinite = [], []
    for r in range(0, rows, cell[0]):
        row_means, row_flags = [], []
        for c in range(0, cols, cell[1]):
            c = min(c, cols - run)
            seg = x2[r, c : c + run].astype(np.float64)
            good = seg[np.isfinite(seg)]
            row_means.append(good.mean() if good.size else 0.0)
            row_flags.append(good.size < seg.size)
        means.append(row_means)
        nonfinite.append(row_flags)
    return np.array(means), np.array(nonfinite)


@pytest.mark.parametrize("shape", [(300, 200), (61, 1090), (5, 7, 301), (70_001,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_survey_reads_fixed_subsets(shape, dtype):
    x = _noisy(shape, dtype)
    flat = x.reshape(-1)
    flat[[17, 4_000, flat.size - 2]] = [np.nan, np.inf, -np.inf]
    edges = fixed_edges(-3.0, 3.0, 24)
    v = survey(x, edges, max_elements=1000, sample_size=512, thumb_side=16)
    assert v.sampled
    assert_stats_match(v.stats, x)  # exact, whatever is sampled
    np.testing.assert_array_equal(v.sample, sample(x, 512))
    h = histogram(sample(x, 512), edges)
    np.testing.assert_array_equal(v.histogram.counts, h.counts)
    assert (v.histogram.below, v.histogram.above) == (h.below, h.above)
    assert (v.histogram.nan, v.histogram.posinf, v.histogram.neginf) == (1, 1, 1)  # exact
    assert v.histogram.sampled and v.histogram.binned == 512
    x2 = x.reshape(1, -1) if x.ndim == 1 else x.reshape(x.shape[0], -1)
    cell = (-(-x2.shape[0] // 16), -(-x2.shape[1] // 16))
    run = min(cell[1], summary.THUMB_RUN_BYTES // x.itemsize)
    means, nonfinite = _expected_cells(x2, cell, run)
    t = v.thumbnail
    assert t.shape_2d == x2.shape and t.block == cell and t.source_shape == x.shape
    np.testing.assert_array_equal(t.nonfinite, nonfinite)
    np.testing.assert_allclose(t.decode(), means, atol=t.scale / 127 * 0.51)


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_survey_of_any_layout_equals_that_of_a_contiguous_copy(layout):
    base = _noisy((400, 300))
    x = np.asfortranarray(base) if layout == "F" else _noisy((400, 600))[:, ::2]
    edges = fixed_edges(-3.0, 3.0, 8)
    a = survey(x, edges, max_elements=1000, sample_size=256)
    b = survey(np.ascontiguousarray(x), edges, max_elements=1000, sample_size=256)
    assert_stats_match(a.stats, x)  # blocks follow memory order: equal up to rounding
    np.testing.assert_array_equal(a.sample, b.sample)
    np.testing.assert_array_equal(a.histogram.counts, b.histogram.counts)
    np.testing.assert_array_equal(a.thumbnail.data, b.thumbnail.data)


def test_large_surveys_and_sampled_summaries_read_the_tensor_once(monkeypatch):
    x = _noisy((512, 512))
    scanned = []
    real_scan = kernels.scan
    monkeypatch.setattr(
        kernels, "scan", lambda a, *args, **kw: scanned.append(a.size) or real_scan(a, *args, **kw)
    )
    monkeypatch.setattr(summary, "sample", lambda *a, **k: pytest.fail("sampled separately"))
    with _backend.counting() as moved:
        v = survey(mx.nd.array(x), fixed_edges(-3, 3, 8), max_elements=10_000, sample_size=1024)
    assert moved.total == 0  # nothing copied between devices or to the host
    assert scanned == [x.size, 1024]  # the tensor once (copying its subsets), then the sample
    assert v.stats.count == x.size
    scanned.clear()
    s, h = summarize(x, fixed_edges(-3, 3, 8), sample_histogram=True, max_elements=1024)
    assert scanned == [x.size, 1024] and h.sampled  # a sampled summary reads once too
    assert s == v.stats


def test_a_sample_as_large_as_the_tensor_is_the_tensor():
    x = _noisy((50, 100))
    v = survey(x, fixed_edges(-3, 3, 8), max_elements=1000, sample_size=x.size)
    assert v.sampled  # the thumbnail is of a subset
    np.testing.assert_array_equal(v.sample, x.reshape(-1))
    assert not v.histogram.sampled and v.histogram.binned == x.size
    np.testing.assert_array_equal(v.histogram.counts, histogram(x, fixed_edges(-3, 3, 8)).counts)


def test_survey_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sample_size"):
        survey(np.zeros(10), sample_size=0)
    with pytest.raises(ValueError, match="thumb_side"):
        survey(np.zeros(10), thumb_side=-1)


class FakeGpu(np.ndarray):
    """A NumPy array that takes the GPU code paths (device-side gather and reductions)."""

    @property
    def device(self):
        return contextlib.nullcontext()

    def get(self):
        return np.asarray(self)


def test_device_side_survey_matches_the_one_read_survey(monkeypatch):
    monkeypatch.setattr(summary._backend, "is_gpu_array", lambda a: isinstance(a, FakeGpu))
    x = _noisy((600, 500))
    x[2, 3] = np.nan
    edges = fixed_edges(-3.0, 3.0, 16)
    on_device = survey(x.view(FakeGpu), edges, max_elements=10_000, sample_size=2048)
    one_read = survey(x, edges, max_elements=10_000, sample_size=2048)
    assert_stats_match(on_device.stats, x)
    np.testing.assert_array_equal(np.asarray(on_device.sample), one_read.sample)
    np.testing.assert_array_equal(on_device.histogram.counts, one_read.histogram.counts)
    assert on_device.histogram.nan == one_read.histogram.nan == 1
    np.testing.assert_array_equal(on_device.thumbnail.data, one_read.thumbnail.data)
    np.testing.assert_array_equal(on_device.thumbnail.nonfinite, one_read.thumbnail.nonfinite)
    assert on_device.thumbnail.block == one_read.thumbnail.block


@pytest.mark.gpu
def test_gpu_survey_matches_the_cpu_survey():
    import cupy

    x = _noisy((600, 500))
    x[2, 3] = np.nan
    edges = fixed_edges(-3.0, 3.0, 16)
    on_gpu = survey(cupy.asarray(x), edges, max_elements=10_000, sample_size=2048)
    on_cpu = survey(x, edges, max_elements=10_000, sample_size=2048)
    assert on_gpu.stats.nan == on_cpu.stats.nan == 1
    assert on_gpu.stats.mean == pytest.approx(on_cpu.stats.mean, rel=1e-12)
    np.testing.assert_array_equal(cupy.asnumpy(on_gpu.sample), on_cpu.sample)
    np.testing.assert_array_equal(on_gpu.histogram.counts, on_cpu.histogram.counts)
    np.testing.assert_array_equal(on_gpu.thumbnail.data, on_cpu.thumbnail.data)
