"""CPU kernels behind :mod:`paramlab.summary` (private).

Two families do the same work. Contiguous float32/float64 arrays go through
compiled one-pass kernels (:mod:`paramlab._summary_jit`, when Numba is
installed); everything else through the NumPy block functions of this module.

An array is cut into cache-sized blocks (contiguous views where the layout
allows, small copies otherwise). Each block is visited once and yields its
element count, sum, sum of squared deviations from its own mean (``M2``), min,
max, zero count and non-finite counts, plus its histogram counts. Blocks are
combined in block order with the parallel-axis formula, so results do not depend
on how many threads visited the blocks.

Threads: :func:`scan` can spread blocks over worker threads (both families
release the GIL). Workers take chunks of blocks from a shared counter, so a
worker starved by another process leaves its share to the others. By default
the compiled kernels use every core on machines with more than two, on arrays
of at least :data:`MIN_ELEMENTS_PER_THREAD` elements a thread; otherwise one
thread. The compiled pass runs at memory speed on one core, and on the 2-core
development machine a second thread made a view update of four 4096 x 4096
replicas slower, not faster (25.5 against 24.7 ms after an idle pause). The
NumPy kernels use one thread: there two were no faster than one (each block
takes several passes through the cache).

Histogram "slots" are ``n + 2`` counters: slot 0 counts finite values below the
first edge, slots ``1..n`` the bins, slot ``n + 1`` finite values above the last
edge. Bin ``i`` holds ``edges[i] <= v < edges[i + 1]``; the last bin also holds
``v == edges[-1]`` (NumPy's rule). Comparisons are made in float64.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import itertools
import math
import os
import threading

import numpy as np

from . import _backend

BLOCK = 1 << 17
"""Elements per block: the float64 scratch buffers stay in cache (L2 or nearby L3)."""

_MAGIC = 1.5 * 2.0**52  # adding it to a small integer-valued float puts the integer in the low bits
_MAGIC_BITS = int(np.array(_MAGIC).view(np.int64))
_UNIFORM_MAX_DEVIATION = 1e-3  # edges farther than this (in bins) from a uniform grid: searchsorted
_DOT_CHUNK = 8192  # BLAS dot products stay single-threaded below 10000 elements
_TOLERANCE_MARGIN = 1e-9  # bins; far above the rounding error of the arithmetic bin position


# --------------------------------------------------------------------------- edges
class Binner:
    """Precomputed facts about fixed histogram edges.

    Parameters
    ----------
    edges : numpy.ndarray
        1-D, strictly increasing, finite float64 edges (validated by the caller).
    """

    def __init__(self, edges: np.ndarray):
        self.edges = np.ascontiguousarray(edges, dtype=np.float64)
        self.bins = self.edges.size - 1
        self.lo = float(self.edges[0])
        self.hi = float(self.edges[-1])
        self.scale, self.tolerance = _uniform_grid(self.edges)

    @property
    def uniform(self) -> bool:
        """Whether bins are found by arithmetic (equal widths) rather than by search."""
        return self.scale is not None

    def new_slots(self) -> np.ndarray:
        """A zeroed int64 slot counter array (below, bins..., above)."""
        return np.zeros(self.bins + 2, dtype=np.int64)

    def exact_slots(self, values: np.ndarray) -> np.ndarray:
        """Slots of finite float64 ``values`` by binary search (exact)."""
        slots = np.searchsorted(self.edges, values, side="right")
        slots[values == self.hi] = self.bins
        return slots


@functools.lru_cache(maxsize=256)
def _binner_of_bytes(raw: bytes) -> Binner:
    return Binner(np.frombuffer(raw, dtype=np.float64))


def binner_for(edges: np.ndarray) -> Binner:
    """A :class:`Binner` for validated edges, shared between calls with the same edges
    (a live view keeps its edges, and checking them for equal widths is not free)."""
    return _binner_of_bytes(np.ascontiguousarray(edges, dtype=np.float64).tobytes())


def _uniform_grid(edges: np.ndarray) -> tuple[float | None, float]:
    """``(bins per unit, tolerance in bins)`` when the edges are equally spaced, else ``(None, 0)``.

    The tolerance bounds how far an edge may sit from its arithmetic position,
    plus a margin for rounding; values whose arithmetic position lies within it of
    an integer are re-checked against the true edges.
    """
    bins = edges.size - 1
    with np.errstate(all="ignore"):
        scale = bins / (edges[-1] - edges[0])
        positions = (edges - edges[0]) * scale
        deviation = float(np.max(np.abs(positions - np.arange(bins + 1))))
    if not (math.isfinite(scale) and math.isfinite(deviation)):
        return None, 0.0
    if deviation > _UNIFORM_MAX_DEVIATION:
        return None, 0.0
    return float(scale), deviation + _TOLERANCE_MARGIN


# --------------------------------------------------------------------------- blocks
def block_views(x: np.ndarray, block: int | None = None, c_order: bool = False) -> list[np.ndarray]:
    """Views of ``x`` covering each element once, each with at most ``block`` elements.

    Contiguous arrays are cut as one flat view (in memory order, or C order when
    ``c_order``); other layouts are cut along their leading axes, in C order and
    by shape alone, so two arrays of one shape are cut alike.
    """
    block = block or BLOCK
    if x.ndim == 0:
        return [x.reshape(1)]
    if x.flags.c_contiguous or (not c_order and x.flags.f_contiguous):
        flat = x.reshape(-1) if x.flags.c_contiguous else x.ravel(order="K")
        return [flat[i : i + block] for i in range(0, flat.size, block)]
    return [x[index] for index in _partition(x.shape, block)]


def paired_views(a: np.ndarray, b: np.ndarray, block: int | None = None):
    """Block views of two same-shaped arrays that cover the same elements pairwise (C order)."""
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return block_views(a, block, c_order=True), block_views(b, block, c_order=True)
    parts = list(_partition(a.shape, block or BLOCK))
    return [a[i] for i in parts], [b[i] for i in parts]


def _partition(shape: tuple[int, ...], block: int, prefix: tuple = ()):
    inner = math.prod(shape[1:])
    if inner <= block:
        rows = max(1, block // max(inner, 1))
        for start in range(0, shape[0], rows):
            yield prefix + (slice(start, min(start + rows, shape[0])),)
        return
    for i in range(shape[0]):
        yield from _partition(shape[1:], block, prefix + (i,))


class Workspace:
    """Per-thread scratch of one block each, reused within a block to stay in cache.

    ``f64`` holds the block as float64, then its deviations from the block mean,
    then the bin positions and their fractional parts; ``aux`` holds the floors of
    the positions, then (viewed as int64) the slots.
    """

    def __init__(self, block: int | None = None):
        self.block = block = block or BLOCK
        self.f64 = np.empty(block, dtype=np.float64)
        self.aux = np.empty(block, dtype=np.float64)
        self.mask = np.empty(block, dtype=bool)
        self._raw: dict[np.dtype, np.ndarray] = {}

    def flat(self, view: np.ndarray) -> np.ndarray:
        """``view`` as a 1-D contiguous array (a copy into scratch when it is strided)."""
        if view.flags.c_contiguous:
            return view.reshape(-1)
        buf = self._raw.get(view.dtype)
        if buf is None:
            buf = self._raw[view.dtype] = np.empty(self.block, dtype=view.dtype)
        out = buf[: view.size]
        np.copyto(out.reshape(view.shape), view)
        return out


# --------------------------------------------------------------------------- per block
@dataclasses.dataclass
class BlockResult:
    """What one block contributes; ``count`` and the moments cover finite values only."""

    count: int = 0
    total: float = 0.0
    m2: float = 0.0
    vmin: float = math.inf
    vmax: float = -math.inf
    zeros: int = 0
    nan: int = 0
    posinf: int = 0
    neginf: int = 0


def process_block(view, ws: Workspace, binner: Binner | None, want_stats: bool, slots):
    """Statistics (when ``want_stats``) and histogram slots (when ``binner``) of one block."""
    v = ws.flat(view)
    if want_stats:
        if v.dtype == np.float64:
            as_f64 = v
        else:
            as_f64 = ws.f64[: v.size]
            np.copyto(as_f64, v)
        total = float(as_f64.sum())
        if v.dtype.kind == "f" and not math.isfinite(total):
            return _mixed_block(v, ws, binner, want_stats, slots)
        return _finite_block(v, as_f64, total, ws, binner, slots)
    vmin, vmax = float(v.min()), float(v.max())
    if v.dtype.kind == "f" and not (math.isfinite(vmin) and math.isfinite(vmax)):
        return _mixed_block(v, ws, binner, want_stats, slots)
    if binner is not None:
        bin_block(v, vmin, vmax, ws, binner, slots)
    return BlockResult()


def _finite_block(v, as_f64, total, ws, binner, slots) -> BlockResult:
    n = v.size
    mean = total / n
    dev = np.subtract(as_f64, mean, out=ws.f64[:n])
    m2 = sum_of_squares(dev)
    vmin, vmax = float(v.min()), float(v.max())
    zeros = int(np.count_nonzero(np.equal(v, 0, out=ws.mask[:n])))
    if binner is not None:
        usable = math.isfinite(m2)
        bin_block(v, vmin, vmax, ws, binner, slots, dev if usable else None, mean)
    return BlockResult(n, total, m2, vmin, vmax, zeros)


def sum_of_squares(a: np.ndarray) -> float:
    """``a @ a`` for 1-D float64 ``a``, by BLAS calls too short for BLAS to start threads.

    (OpenBLAS splits a dot product of more than 10000 elements across its threads,
    which stalls badly when other processes hold the other cores.)
    """
    full = a.size - a.size % _DOT_CHUNK
    rows = a[:full].reshape(-1, _DOT_CHUNK)
    total = sum(map(np.dot, rows, rows))
    if full < a.size:
        total += np.dot(a[full:], a[full:])
    return float(total)


def _mixed_block(v, ws, binner, want_stats, slots) -> BlockResult:
    """A float block holding NaN or infinities: count them, then treat the finite rest."""
    n = v.size
    finite = np.isfinite(v, out=ws.mask[:n])
    rest = v[finite]
    nan = int(np.count_nonzero(np.isnan(v)))
    posinf = int(np.count_nonzero(v == np.inf))
    neginf = n - rest.size - nan - posinf
    result = BlockResult()
    if rest.size and want_stats:
        as_f64 = rest.astype(np.float64)
        result = _finite_block(rest, as_f64, float(as_f64.sum()), ws, binner, slots)
    elif rest.size and binner is not None:
        bin_block(rest, float(rest.min()), float(rest.max()), ws, binner, slots)
    result.nan, result.posinf, result.neginf = nan, posinf, neginf
    return result


def bin_block(v, vmin, vmax, ws, binner, slots, dev=None, mean=0.0) -> None:
    """Add the slots of finite block ``v`` (min ``vmin``, max ``vmax``) to ``slots``.

    Equal-width edges: position ``(v - lo) * scale`` in float64, its floor is the
    bin; values whose position lies within the tolerance of an integer are
    re-checked against the true edges by binary search. ``dev`` (``v - mean``),
    when given, saves a conversion for blocks inside the edges.
    """
    n = v.size
    if not binner.uniform:
        values = v if v.dtype == np.float64 else v.astype(np.float64)
        slots += np.bincount(binner.exact_slots(values), minlength=binner.bins + 2)
        return
    inside = vmin >= binner.lo and vmax <= binner.hi
    pos = ws.f64[:n]  # may be ``dev`` itself: the deviations are used up here
    if inside and dev is not None:
        np.add(dev, mean - binner.lo, out=pos)
    else:
        np.subtract(v, binner.lo, out=pos, dtype=np.float64)
    np.multiply(pos, binner.scale, out=pos)
    if not inside:
        np.clip(pos, -0.5, binner.bins + 0.5, out=pos)
    floor = np.floor(pos, out=ws.aux[:n])
    frac = np.subtract(pos, floor, out=pos)
    np.add(floor, _MAGIC, out=floor)
    slot = floor.view(np.int64)
    np.subtract(slot, _MAGIC_BITS - 1, out=slot)
    slots += np.bincount(slot, minlength=binner.bins + 2)
    tol = binner.tolerance
    if float(frac.min()) < tol or float(frac.max()) > 1.0 - tol:
        _correct_near_edges(v, frac, slot, binner, slots)


def _correct_near_edges(v, frac, slot, binner, slots) -> None:
    tol = binner.tolerance
    near = np.flatnonzero((frac < tol) | (frac > 1.0 - tol))
    values = v[near].astype(np.float64)
    width = binner.bins + 2
    slots += np.bincount(binner.exact_slots(values), minlength=width)
    slots -= np.bincount(slot[near], minlength=width)


def extremes(x: np.ndarray) -> tuple[float, float] | None:
    """``(min, max)`` of a non-empty array whose elements are all finite, else None.

    One cheap pass (two SIMD reductions per cache-resident block); lets
    :func:`paramlab.summary.summarize` choose edges before its fused pass.
    """
    if x.size == 0:
        return None
    vmin, vmax = math.inf, -math.inf
    for view in block_views(x):
        lo, hi = float(view.min()), float(view.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        vmin, vmax = min(vmin, lo), max(vmax, hi)
    return vmin, vmax


# --------------------------------------------------------------------------- whole array
@dataclasses.dataclass
class ScanResult:
    """Combined block results: finite-value moments, extremes and counts, and slots."""

    count: int
    mean: float | None
    m2: float
    sumsq: float
    vmin: float | None
    vmax: float | None
    zeros: int
    nan: int
    posinf: int
    neginf: int
    slots: np.ndarray | None
    copied: np.ndarray | None = None


_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
MIN_ELEMENTS_PER_THREAD = 1 << 20


def default_threads(compiled: bool = False) -> int:
    """Threads used by :func:`scan` when none are asked for (see the module docstring)."""
    cores = max_threads()
    return cores if compiled and cores > 2 else 1


def max_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = concurrent.futures.ThreadPoolExecutor(
                max_workers=max(2, max_threads()), thread_name_prefix="paramlab-summary"
            )
        return _EXECUTOR


def scan(x: np.ndarray, binner: Binner | None = None, want_stats: bool = True,
         threads: int | None = None, runs=None) -> ScanResult:
    """Visit every block of ``x`` once; return the combined statistics and slots.

    Contiguous arrays of a dtype the compiled kernels support (see
    :func:`jit_kernels`) go through one compiled pass; other arrays through the
    NumPy block functions above. Both cut blocks the same way for any thread
    count and combine them with :func:`combine_blocks`.

    Parameters
    ----------
    x : numpy.ndarray
        Any shape and layout; bool, integer or floating dtype.
    binner : Binner, optional
        Edges to histogram against; no histogram when omitted.
    want_stats : bool
        Whether to compute moments (non-finite counts are always computed; the
        compiled pass computes the moments anyway, at no extra cost).
    threads : int, optional
        Worker threads; blocks and their combination order do not depend on it.
    runs : RunTable, optional
        Runs of C-order flat indices (:func:`run_table`) to copy out into
        ``ScanResult.copied``. The compiled pass copies each while its block is
        in cache, so the copies cost no further read of memory.
    """
    jit = compiled_for(x)
    if x.size == 0 or not (x.flags.c_contiguous or x.flags.f_contiguous):
        jit = None
    threads = default_threads(jit is not None) if threads is None else max(1, int(threads))
    threads = min(threads, max(1, x.size // MIN_ELEMENTS_PER_THREAD))
    if runs is not None and runs.size != x.size:
        raise ValueError(f"scan: runs index {runs.size} elements; the array has {x.size}")
    if jit is not None and (runs is None or x.flags.c_contiguous):
        return _scan_compiled(jit, x, binner, threads, runs)
    res = _scan_numpy(x, binner, want_stats, threads)
    if runs is not None:  # gathered after the pass: the NumPy kernels have no copy step
        res = dataclasses.replace(res, copied=gather_runs(x, runs))
    return res


@dataclasses.dataclass(frozen=True, eq=False)
class RunTable:
    """Runs of C-order flat indices to copy out during a :func:`scan` (see :func:`run_table`)."""

    rows: np.ndarray  # int64 (n, 3): start, stop, offset in the copy; sorted by start
    total: int  # elements copied
    size: int  # elements of the array the runs index

    @functools.cached_property
    def index(self) -> np.ndarray:
        """The flat index of every copied element, in copy order (computed once)."""
        starts, stops, offsets = self.rows[np.argsort(self.rows[:, 2], kind="stable")].T
        index = np.arange(self.total, dtype=np.int64) + np.repeat(starts - offsets, stops - starts)
        index.flags.writeable = False
        return index


def gather_runs(x, runs: RunTable):
    """The runs of ``x`` one after another, by one fancy index on ``x``'s device.

    What a compiled :func:`scan` copies out; used where no such pass reads ``x``
    (the NumPy kernels, GPU arrays). The caller makes a GPU array's device current.
    """
    xp = _backend.xp_of(x)
    index = runs.index if xp is np else xp.asarray(runs.index)
    if x.flags.c_contiguous:
        return x.reshape(-1)[index]
    return x[xp.unravel_index(index, x.shape)]


_NO_RUNS = np.zeros((0, 3), dtype=np.int64)


def run_table(size: int, starts, lengths) -> RunTable:
    """Validate runs ``flat[start:start + length]`` of a ``size``-element array.

    The copy holds them one after another in the order given.
    """
    starts, lengths = (np.asarray(v, dtype=np.int64).reshape(-1) for v in (starts, lengths))
    if starts.shape != lengths.shape:
        raise ValueError(
            f"scan: runs need one length per start; got {starts.size} starts and "
            f"{lengths.size} lengths"
        )
    stops = starts + lengths
    if starts.size and (lengths.min() < 0 or starts.min() < 0 or stops.max() > size):
        raise IndexError(f"scan: runs must lie within the {size} elements of the array")
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    order = np.argsort(starts, kind="stable")
    rows = np.stack([starts[order], stops[order], offsets[order]], axis=1)
    rows.flags.writeable = False
    return RunTable(np.ascontiguousarray(rows), int(lengths.sum()), int(size))


def _in_threads(threads: int, tasks: int, work) -> None:
    """Run ``work(worker, task)`` for every task number, ``threads`` workers taking turns.

    Worker 0 is the calling thread; the others run on the pool. Each worker takes
    the next task from a shared counter (``next`` on an ``itertools.count`` is
    atomic under the GIL) until none are left.
    """
    counter = itertools.count()

    def worker(w: int) -> None:
        for task in iter(counter.__next__, None):
            if task >= tasks:
                return
            work(w, task)

    futures = [_executor().submit(worker, w) for w in range(1, threads)]
    worker(0)
    for future in futures:
        future.result()


def _scan_numpy(x, binner, want_stats, threads) -> ScanResult:
    views = block_views(x)
    results: list[BlockResult | None] = [None] * len(views)
    slot_parts = [binner.new_slots() if binner is not None else None for _ in range(threads)]
    workspaces = [Workspace() for _ in range(threads)]

    def work(worker: int, i: int) -> None:
        with np.errstate(all="ignore"):  # inf - inf in a block sum is expected and handled
            results[i] = process_block(
                views[i], workspaces[worker], binner, want_stats, slot_parts[worker]
            )

    _in_threads(threads, len(views), work)
    slots = None if binner is None else np.sum(slot_parts, axis=0, dtype=np.int64)
    fout = np.array([(r.total, r.m2, r.vmin, r.vmax) for r in results], dtype=np.float64)
    iout = np.array(
        [(r.count, r.zeros, r.nan, r.posinf, r.neginf) for r in results], dtype=np.int64
    )
    return combine_blocks(fout.reshape(-1, 4), iout.reshape(-1, 5), slots)


_COMPILED_TASK_BLOCKS = 16  # blocks per task handed to a worker (2^18 elements)


def _scan_compiled(jit, x, binner, threads, runs: RunTable | None) -> ScanResult:
    flat = x.reshape(-1) if x.flags.c_contiguous else x.ravel(order="K")
    nblocks = -(-flat.size // jit.BLOCK)
    fout = np.empty((nblocks, 4), dtype=np.float64)
    iout = np.empty((nblocks, 5), dtype=np.int64)
    if binner is None:
        edges, scale, tolerance, width = _NO_EDGES, 0.0, 0.0, 0
    else:
        edges, width = binner.edges, binner.bins + 2
        scale, tolerance = (binner.scale, binner.tolerance) if binner.uniform else (0.0, 0.0)
    slot_parts = np.zeros((threads, width), dtype=np.int64)
    per_task = nblocks if threads == 1 else _COMPILED_TASK_BLOCKS
    rows = _NO_RUNS if runs is None else runs.rows
    copied = np.empty(0 if runs is None else runs.total, dtype=flat.dtype)

    def work(worker: int, task: int) -> None:
        first = task * per_task
        jit.scan_range(flat, first, min(first + per_task, nblocks), fout, iout, edges,
                       scale, tolerance, slot_parts[worker], rows, copied)

    _in_threads(threads, -(-nblocks // per_task), work)
    count, mean, m2, sumsq, vmin, vmax, *counts = jit.combine(fout, iout)
    if not count:
        mean = vmin = vmax = None
    return ScanResult(count, mean, m2, sumsq, vmin, vmax, *counts,
                      None if binner is None else slot_parts.sum(axis=0),
                      None if runs is None else copied)


_NO_EDGES = np.zeros(0, dtype=np.float64)


def combine_blocks(fout: np.ndarray, iout: np.ndarray, slots: np.ndarray | None) -> ScanResult:
    """Merge per-block results in block order: exact sums and the parallel-axis formula.

    Parameters
    ----------
    fout : numpy.ndarray
        float64 ``(nblocks, 4)``: total, M2 (around the block's mean), min and max
        of each block's finite values.
    iout : numpy.ndarray
        int64 ``(nblocks, 5)``: finite count, zeros, NaN, +inf and -inf per block.
    slots : numpy.ndarray or None
        Histogram slots, passed through.
    """
    count_b = iout[:, 0]
    zeros, nan, posinf, neginf = (int(v) for v in iout[:, 1:].sum(axis=0))
    has = count_b > 0
    count = int(count_b.sum())
    if not count:
        return ScanResult(0, None, 0.0, 0.0, None, None, zeros, nan, posinf, neginf, slots)
    total, m2, vmin, vmax = (fout[has, k] for k in range(4))
    n = count_b[has].astype(np.float64)
    mean = _fsum(total) / count
    with np.errstate(all="ignore"):
        offsets = total / n - mean  # block mean minus overall mean
        spread = m2 + n * offsets * offsets
        sumsq = m2 + total * (total / n)
    return ScanResult(
        count=count,
        mean=mean,
        m2=_fsum(spread),
        sumsq=_fsum(sumsq),
        vmin=float(vmin.min()),
        vmax=float(vmax.max()),
        zeros=zeros,
        nan=nan,
        posinf=posinf,
        neginf=neginf,
        slots=slots,
    )


_JIT_STATE: dict = {}


def compiled_for(x):
    """The compiled kernels module when it handles ``x``'s dtype (NumPy arrays only), else None."""
    jit = jit_kernels()
    if jit is None or not isinstance(x, np.ndarray) or x.dtype not in jit.SUPPORTED:
        return None
    return jit


def jit_kernels():
    """The compiled kernels module, or None without Numba or with ``PARAMLAB_NO_JIT=1``.

    Imported on first use, so that ``import paramlab`` does not pay for Numba.
    """
    if "module" not in _JIT_STATE:
        module = None
        if os.environ.get("PARAMLAB_NO_JIT", "") in ("", "0"):
            try:
                from . import _summary_jit as module
            except ImportError:
                module = None
        _JIT_STATE["module"] = module
    return _JIT_STATE["module"]


def _fsum(values) -> float:
    """``math.fsum`` that returns inf/NaN instead of raising on overflow or NaN input."""
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        return float(np.sum(values))
