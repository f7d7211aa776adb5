"""Compiled one-pass CPU kernels behind :mod:`paramlab._summary_kernels` (private).

Imported only when Numba is installed (it comes with the ``widgets`` extra);
without it the NumPy kernels do the same work in several passes per block.

One call visits each element of a contiguous array once from memory: the array
is cut into blocks of :data:`BLOCK` elements, and each block, while it sits in
cache, yields its statistics, then its histogram slots, and gives up the runs
of elements the caller asked to copy (a view's fixed sample and thumbnail
runs). The per-block results are merged in block order by :func:`combine`, with
the formulas of :func:`paramlab._summary_kernels.combine_blocks`, so results do
not depend on how many threads visited the blocks.

Speed. The statistics pass runs at memory speed on one core: its sums are
float64 reductions the compiler vectorises, and its min/max are taken over
integer order keys of the values' bits (:func:`_order_key`), because a float
min/max that keeps NaN semantics does not vectorise.

Accuracy. An all-finite block is summed in one vectorised pass as deviations
``d = v - p`` from a pivot ``p``, the mean of the block's first ``k`` =
:data:`PIVOT_PREFIX` elements, and ``M2 = sum(d^2) - sum(d)^2 / n``. By
Cauchy-Schwarz ``(p - mean)^2 <= M2 / k``, so ``sum(d^2) <= (1 + n / k) M2``: the
cancellation costs at most ``1 + n / k`` (257) units of rounding in ``M2``. A
block holding NaN or an infinity (or whose squares overflow) is redone by a
branching two-pass loop that counts the non-finite values and sums the finite
ones around their mean.
"""

from __future__ import annotations

import math

import numba
import numba.extending
import numpy as np

__all__ = ["BLOCK", "PIVOT_PREFIX", "SUPPORTED", "combine", "scan_range"]

BLOCK = 1 << 14
"""Elements per block: a float64 block stays in the 1 MiB L2 cache with room to spare."""
PIVOT_PREFIX = 64
LANES = 32  # independent accumulators (divergence_pass), so several SIMD registers stay busy
COUNTER_ROWS = 8  # histogram counter copies, summed at the end
SUPPORTED = frozenset((np.dtype("float32"), np.dtype("float64")))
"""Dtypes compiled here (parameters' dtypes); others take the NumPy path, which
spares every further compilation (several seconds each, on first use only)."""

# Reassociation lets the sums vectorise; no "nnan"/"ninf": non-finite input must
# still propagate so that the caller can see it and redo the block.
_FAST = {"reassoc", "contract", "nsz"}
_jit = numba.njit(cache=True, nogil=True)
_fast_jit = numba.njit(cache=True, nogil=True, fastmath=_FAST)


def _as_bits(xs):
    """``xs``'s memory as signed integers of the same width; compiled only."""
    raise NotImplementedError("_as_bits runs inside compiled kernels only")


def _order_key(bits):
    """Signed integer ordered as the float whose bits these are (NaN aside); compiled only.

    The map is its own inverse: applied to a key it gives back the float's bits.
    """
    raise NotImplementedError("_order_key runs inside compiled kernels only")


def _key_constants(bits_type):
    """``(integer type, sign shift, magnitude mask)`` for float32/float64 bits."""
    if bits_type == numba.types.int32:
        return np.int32, np.int32(31), np.int32(0x7FFF_FFFF)
    if bits_type == numba.types.int64:
        return np.int64, np.int64(63), np.int64(0x7FFF_FFFF_FFFF_FFFF)
    return None


@numba.extending.overload(_as_bits, jit_options={"cache": True})
def _as_bits_impl(xs):
    itype = {numba.types.float32: np.int32, numba.types.float64: np.int64}.get(xs.dtype)
    if itype is None:
        return None
    return lambda xs: xs.view(itype)


@numba.extending.overload(_order_key, jit_options={"cache": True})
def _order_key_impl(bits):
    constants = _key_constants(bits)
    if constants is None:
        return None
    itype, shift, mask = constants

    def key(bits):
        # Negative floats: flip the magnitude bits, so larger magnitudes sort lower.
        return itype(bits ^ itype(itype(bits >> shift) & mask))

    return key


@_fast_jit
def _fused_pass(xs, pivot, scratch):
    """``(sum d, sum d^2, min, max, zeros)`` of a block, ``d = v - pivot`` (one pass).

    Min and max are taken over order keys (:func:`_order_key`): integer min/max vectorises, while a
    float min/max that must keep NaN semantics does not. NaN keys sort beyond the
    infinities, but a block holding NaN or an infinity has a non-finite sum and is
    redone by :func:`_careful_pass`, so such keys are never used. ``scratch`` (two
    elements of ``xs``'s dtype) turns the extreme keys back into floats.
    """
    bits = _as_bits(xs)  # one load serves both views: a second array would load twice
    s1 = 0.0
    s2 = 0.0
    lo = hi = _order_key(bits[0])
    zeros = 0
    for i in range(xs.shape[0]):
        d = np.float64(xs[i]) - pivot
        s1 += d
        s2 += d * d
        key = _order_key(bits[i])
        lo = min(lo, key)
        hi = max(hi, key)
        zeros += xs[i] == 0
    extremes = _as_bits(scratch)
    extremes[0], extremes[1] = _order_key(lo), _order_key(hi)
    return s1, s2, np.float64(scratch[0]), np.float64(scratch[1]), zeros


@_jit
def _careful_pass(xs, fout, iout, b):
    """Statistics of a block that holds non-finite values, written to row ``b``."""
    count = zeros = nan = posinf = neginf = 0
    total = 0.0
    vmin, vmax = math.inf, -math.inf
    for i in range(xs.shape[0]):
        v = np.float64(xs[i])
        if math.isfinite(v):
            count += 1
            total += v
            vmin = min(vmin, v)
            vmax = max(vmax, v)
            zeros += v == 0.0
        elif math.isnan(v):
            nan += 1
        elif v > 0:
            posinf += 1
        else:
            neginf += 1
    m2 = 0.0
    if count:
        mean = total / count
        for i in range(xs.shape[0]):
            v = np.float64(xs[i])
            if math.isfinite(v):
                m2 += (v - mean) * (v - mean)
    fout[b, 0], fout[b, 1], fout[b, 2], fout[b, 3] = total, m2, vmin, vmax
    iout[b, 0], iout[b, 1], iout[b, 2], iout[b, 3], iout[b, 4] = count, zeros, nan, posinf, neginf


@_fast_jit
def _arithmetic_slots(xs, lo, scale, nbins, tolerance, slot):
    """Slot of each value of an all-finite block from its position ``(v - lo) * scale``.

    Returns how many positions lie within ``tolerance`` of an integer (or outside
    the edges' span), whose slots :func:`_correct_slots` then checks exactly.
    """
    near = 0
    top = nbins + 0.5
    for i in range(xs.shape[0]):
        pos = min(max((np.float64(xs[i]) - lo) * scale, -0.5), top)
        k = np.floor(pos)
        frac = pos - k
        near += (frac < tolerance) | (frac > 1.0 - tolerance)
        slot[i] = np.uint32(k + 1.0)  # unsigned: indexing it needs no negative-index check
    return near


@_jit
def _exact_slot(edges, v):
    """Slot of a finite value by comparison with the edges (0: below, bins + 1: above)."""
    nbins = edges.shape[0] - 1
    if v < edges[0]:
        return 0
    if v > edges[nbins]:
        return nbins + 1
    return min(np.searchsorted(edges, v, side="right"), nbins)


@_jit
def _correct_slots(xs, edges, scale, tolerance, slot):
    lo = edges[0]
    for i in range(xs.shape[0]):
        pos = (np.float64(xs[i]) - lo) * scale
        frac = pos - np.floor(pos)
        if frac < tolerance or frac > 1.0 - tolerance:
            slot[i] = np.uint32(_exact_slot(edges, np.float64(xs[i])))


@_jit
def _count_slots(slot, n, counters):
    """Add slot occurrences to interleaved counter rows (repeats of a slot do not wait
    on each other's memory updates)."""
    full = n - n % COUNTER_ROWS
    for i in range(0, full, COUNTER_ROWS):
        for j in range(COUNTER_ROWS):
            counters[j, slot[i + j]] += 1
    for i in range(full, n):
        counters[0, slot[i]] += 1


@_jit
def _bin_block(xs, all_finite, edges, scale, tolerance, slot, counters):
    """Add the slots of a block's finite values to ``counters``.

    Equal-width edges (``scale > 0``) and an all-finite block: slots by arithmetic,
    re-checked exactly where a position lies near an edge. Otherwise each finite
    value is placed by comparison with the edges.
    """
    n = xs.shape[0]
    if scale > 0.0 and all_finite:
        near = _arithmetic_slots(xs, edges[0], scale, edges.shape[0] - 1, tolerance, slot)
        if near:
            _correct_slots(xs, edges, scale, tolerance, slot)
        _count_slots(slot, n, counters)
        return
    for i in range(n):
        v = np.float64(xs[i])
        if math.isfinite(v):
            counters[0, _exact_slot(edges, v)] += 1


@_jit
def scan_range(flat, first, last, fout, iout, edges, scale, tolerance, slots, runs, copied):
    """Statistics (and slots, when ``edges`` is non-empty) of blocks ``first..last-1``.

    Parameters
    ----------
    flat : 1-D contiguous array of a :data:`SUPPORTED` dtype.
    first, last : block numbers (block ``b`` covers ``flat[b * BLOCK:(b + 1) * BLOCK]``).
    fout : float64 (nblocks, 4): total, M2, min, max of the finite values.
    iout : int64 (nblocks, 5): finite count, zeros, NaN, +inf, -inf.
    edges, scale, tolerance : the histogram edges (empty: no histogram) and, for
        equal-width edges, bins per unit and the re-check tolerance (``scale`` 0:
        binary search for every value).
    slots : int64 (bins + 2) counters this call adds to.
    runs : int64 (nruns, 3) rows ``(start, stop, offset)``, sorted by start: the
        elements ``flat[start:stop]`` are copied to ``copied[offset:]`` while their
        block is in cache (runs may overlap and span blocks).
    copied : 1-D array of ``flat``'s dtype receiving the runs.
    """
    n = flat.shape[0]
    ended = 0  # runs before this one end before the current block
    scratch = np.empty(2, flat.dtype)
    binning = edges.shape[0] > 0
    slot = np.empty(BLOCK if binning else 0, np.uint32)
    counters = np.zeros((COUNTER_ROWS, slots.shape[0]), np.int64)
    for b in range(first, last):
        start = b * BLOCK
        xs = flat[start : min(start + BLOCK, n)]
        size = xs.shape[0]
        prefix = min(size, PIVOT_PREFIX)
        pivot = 0.0
        for i in range(prefix):
            pivot += np.float64(xs[i])
        pivot /= prefix
        t1, t2, vmin, vmax, zeros = _fused_pass(xs, pivot, scratch)
        all_finite = math.isfinite(t1) and math.isfinite(t2) and math.isfinite(pivot)
        if all_finite:
            fout[b, 0] = size * pivot + t1
            fout[b, 1] = max(t2 - t1 * t1 / size, 0.0)
            fout[b, 2], fout[b, 3] = vmin, vmax
            iout[b, 0], iout[b, 1] = size, zeros
            iout[b, 2] = iout[b, 3] = iout[b, 4] = 0
        else:
            _careful_pass(xs, fout, iout, b)
        if binning:
            _bin_block(xs, all_finite, edges, scale, tolerance, slot, counters)
        ended = _copy_runs(flat, start, start + size, runs, ended, copied)
    for row in range(COUNTER_ROWS):
        for k in range(slots.shape[0]):
            slots[k] += counters[row, k]


@_jit
def _copy_runs(flat, lo, hi, runs, ended, copied):
    """Copy the parts of ``runs`` inside ``flat[lo:hi]``; return the new ``ended``."""
    while ended < runs.shape[0] and runs[ended, 1] <= lo:
        ended += 1
    r = ended
    while r < runs.shape[0] and runs[r, 0] < hi:
        a, b = max(runs[r, 0], lo), min(runs[r, 1], hi)
        if a < b:
            out = runs[r, 2] + a - runs[r, 0]
            copied[out : out + b - a] = flat[a:b]
        r += 1
    return ended


@_jit
def _compensated_add(total, carry, x):
    """One step of Neumaier's summation: ``total + carry`` tracks the exact sum."""
    t = total + x
    if abs(total) >= abs(x):
        carry += (total - t) + x
    else:
        carry += (x - t) + total
    return t, carry


@_jit
def _settle(total, carry):
    """The compensated sum, or the plain one where it is not finite (inf, NaN)."""
    return total + carry if math.isfinite(total) else total


@_jit
def combine(fout, iout):
    """Merge per-block results in block order: the compiled twin of
    :func:`paramlab._summary_kernels.combine_blocks` (same formulas; compensated sums
    stand in for ``math.fsum``).

    Returns ``(count, mean, m2, sumsq, min, max, zeros, nan, posinf, neginf)``;
    ``mean``, ``min`` and ``max`` are NaN when no value is finite.
    """
    count = zeros = nan = posinf = neginf = 0
    total = carry = 0.0
    vmin, vmax = math.inf, -math.inf
    for b in range(fout.shape[0]):
        zeros += iout[b, 1]
        nan += iout[b, 2]
        posinf += iout[b, 3]
        neginf += iout[b, 4]
        if iout[b, 0] > 0:
            count += iout[b, 0]
            total, carry = _compensated_add(total, carry, fout[b, 0])
            vmin = min(vmin, fout[b, 2])
            vmax = max(vmax, fout[b, 3])
    if count == 0:
        return 0, math.nan, 0.0, 0.0, math.nan, math.nan, zeros, nan, posinf, neginf
    mean = _settle(total, carry) / count
    spread = spread_carry = sumsq = sumsq_carry = 0.0
    for b in range(fout.shape[0]):
        n = np.float64(iout[b, 0])
        if n > 0:
            t, m2 = fout[b, 0], fout[b, 1]
            offset = t / n - mean  # block mean minus overall mean
            spread, spread_carry = _compensated_add(spread, spread_carry, m2 + n * offset * offset)
            sumsq, sumsq_carry = _compensated_add(sumsq, sumsq_carry, m2 + t * (t / n))
    return (count, mean, _settle(spread, spread_carry), _settle(sumsq, sumsq_carry), vmin, vmax,
            zeros, nan, posinf, neginf)


# --------------------------------------------------------------------------- thumbnail
@_fast_jit
def _segment_sum(xs):
    """Sum of a short run of values in float64 (non-finite input gives a non-finite sum)."""
    total = 0.0
    for i in range(xs.shape[0]):
        total += np.float64(xs[i])
    return total


@_jit
def _careful_segment_sum(xs):
    """``(sum, count)`` of the finite values of a run."""
    total, count = 0.0, 0
    for i in range(xs.shape[0]):
        v = np.float64(xs[i])
        if math.isfinite(v):
            total += v
            count += 1
    return total, count


@_jit
def thumbnail_cells(x2, block_rows, block_cols, sums, finite):
    """Add each cell's sum of finite values and their count (one pass over ``x2``).

    ``x2`` is a C-contiguous 2-D array; cell ``(i, j)`` covers rows
    ``i * block_rows ...`` and columns ``j * block_cols ...`` (the last ones may be
    short). ``sums`` (float64) and ``finite`` (float64 counts) have one entry a cell.
    """
    rows, cols = x2.shape
    ncells = sums.shape[1]
    for r in range(rows):
        i = r // block_rows
        row = x2[r]
        for j in range(ncells):
            start = j * block_cols
            run = row[start : min(start + block_cols, cols)]
            total = _segment_sum(run)
            if math.isfinite(total):
                sums[i, j] += total
                finite[i, j] += run.shape[0]
            else:
                total, count = _careful_segment_sum(run)
                sums[i, j] += total
                finite[i, j] += count


# --------------------------------------------------------------------------- divergence
@_fast_jit
def divergence_pass(a, b, a_bits, b_bits):
    """``(differing, max |a - b|, sum (a - b)^2, sum of finite a^2)`` in one pass.

    ``a``/``b`` are 1-D contiguous arrays of one dtype, ``a_bits``/``b_bits`` the
    same memory as unsigned integers. Elements equal as numbers or NaN on both
    sides differ by 0; NaN on one side only differs by ``inf``.
    """
    n = a.shape[0]
    differing = np.zeros(LANES, np.int64)
    top = np.zeros(LANES)
    sq = np.zeros(LANES)
    norm = np.zeros(LANES)
    full = n - n % LANES
    for i in range(0, full, LANES):
        for j in range(LANES):
            x = np.float64(a[i + j])
            y = np.float64(b[i + j])
            differing[j] += a_bits[i + j] != b_bits[i + j]
            same = (x == y) | ((x != x) & (y != y))
            d = 0.0 if same else abs(x - y)
            d = math.inf if d != d else d
            top[j] = max(top[j], d)
            sq[j] += d * d
            norm[j] += x * x if x - x == 0.0 else 0.0
    n_diff, d_max, d_sq, a_sq = differing.sum(), top.max(), sq.sum(), norm.sum()
    for i in range(full, n):
        x = np.float64(a[i])
        y = np.float64(b[i])
        n_diff += a_bits[i] != b_bits[i]
        same = (x == y) | ((x != x) & (y != y))
        d = 0.0 if same else abs(x - y)
        d = math.inf if d != d else d
        d_max = max(d_max, d)
        d_sq += d * d
        a_sq += x * x if x - x == 0.0 else 0.0
    return n_diff, d_max, d_sq, a_sq


# --------------------------------------------------------------------------- warm-up
def warm_up() -> None:
    """Compile (or load from Numba's on-disk cache) every kernel for every supported dtype.

    The first compilation takes several seconds per dtype; ``make lab``, ``make
    test`` and Binder's ``postBuild`` run this once after installing, so that the
    first view a notebook opens does not wait for it.
    """
    from . import summary  # the public entry points reach every kernel and signature

    for dtype in SUPPORTED:
        x = np.linspace(-1.0, 1.0, 3 * 64, dtype=dtype).reshape(3, 64)
        summary.stats(x)
        summary.summarize(x, summary.fixed_edges(-1.0, 1.0, 8))
        summary.summarize(x, np.array([-1.0, 0.5, 1.0]))
        summary.thumbnail(x, max_side=2)
        summary.divergence(x, x[::-1].copy())


if __name__ == "__main__":
    warm_up()
