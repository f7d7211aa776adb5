"""Statistics, histograms, thumbnails and divergence, computed where the data lives.

The checkpoint inspector, the live parameter views and the initialization
diagnostics all summarise tensors through this module; nothing else in paramlab
computes these numbers. Every function takes a raw NumPy or CuPy array, or any
object holding one in ``_data`` (a paramlab ``NDArray``), and returns small
host-side Python objects. No function copies a whole tensor to the host: CPU
arrays are read in place, GPU arrays are reduced on their device and only the
reduced numbers (a few scalars, at most a 64x64 thumbnail) cross to the host.

On the CPU, :func:`summarize` makes one fused, cache-blocked pass per job
(statistics and histogram together when the edges are known); see
:mod:`paramlab._summary_kernels`. On a GPU, a few whole-array reductions and one
``searchsorted``/``bincount`` histogram are used instead.

Conventions
-----------
* ``mean``, ``std``, ``min``, ``max`` and ``l2`` cover the **finite** values only;
  NaN and infinities are counted separately. With no finite value, ``mean``,
  ``std``, ``min`` and ``max`` are ``None`` and ``l2`` is ``0.0``.
* Moments are accumulated in float64 whatever the input dtype (bool, integer,
  float16/32/64), per block around the block's own mean, and blocks are merged
  with exact (or compensated) sums, so they agree with NumPy float64 two-pass
  results to rounding.
  float64 data whose sum of squares overflows gives ``inf``, as NumPy does.
* Histogram bins are ``edges[i] <= v < edges[i + 1]``, the last bin also taking
  ``v == edges[-1]`` (NumPy's rule), compared in float64. NaN and infinities never
  fall into a bin nor into ``below``/``above``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math

import numpy as np

from . import _backend
from . import _summary_kernels as _k

__all__ = [
    "DEFAULT_MAX_ELEMENTS",
    "Stats",
    "Histogram",
    "Thumbnail",
    "Divergence",
    "stats",
    "histogram",
    "fixed_edges",
    "edges_for",
    "summarize",
    "sample",
    "thumbnail",
    "divergence",
    "Survey",
    "survey",
    "THUMB_RUN_BYTES",
]

DEFAULT_MAX_ELEMENTS = 2**22
"""Above this many elements a histogram may be computed on :func:`sample`."""

_SAMPLE_CHUNK = 1024
_SAMPLE_SEED = 0x5EED_5A3D
_THUMB_TILE = 1 << 20  # elements reduced at once by thumbnail() on the CPU
_TINY = float(np.finfo(np.float64).tiny)


# --------------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True)
class Stats:
    """Summary statistics of one tensor (host-side, JSON-friendly).

    Attributes
    ----------
    count : int
        Number of elements (finite or not).
    mean, std : float or None
        Mean and population standard deviation (``ddof=0``) of the finite values.
    min, max : float or None
        Extremes of the finite values.
    l2 : float
        Euclidean norm of the finite values.
    zeros, nan, posinf, neginf : int
        Elements equal to zero (``-0.0`` included), NaN, ``+inf`` and ``-inf``.
    shape : tuple of int
        Shape of the tensor.
    dtype : str
        NumPy name of its dtype, e.g. ``"float32"``.

    Examples
    --------
    >>> import numpy as np
    >>> s = stats(np.array([1.0, 2.0, np.nan, 0.0]))
    >>> s.count, s.finite, s.mean, s.nan, s.zeros
    (4, 3, 1.0, 1, 1)
    >>> s.as_dict()["shape"]
    [4]
    """

    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    l2: float
    zeros: int
    nan: int
    posinf: int
    neginf: int
    shape: tuple[int, ...]
    dtype: str

    @property
    def finite(self) -> int:
        """Number of finite elements (those the moments cover)."""
        return self.count - self.nan - self.posinf - self.neginf

    def as_dict(self) -> dict:
        """Plain ``dict`` of JSON types (``shape`` becomes a list, missing values ``None``)."""
        out = dict(vars(self))  # the fields: scalars and a tuple (asdict would deep-copy them)
        out["shape"] = list(self.shape)
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of finite values on fixed edges (host-side).

    Attributes
    ----------
    edges : numpy.ndarray
        The ``n + 1`` float64 edges the counts refer to (read-only).
    counts : numpy.ndarray
        int64 counts of the ``n`` bins (read-only).
    below, above : int
        Finite values below ``edges[0]`` and above ``edges[-1]``.
    nan, posinf, neginf : int
        Non-finite values of the whole tensor (exact even when ``sampled``).
    sampled : bool
        Whether ``counts``, ``below`` and ``above`` were taken on :func:`sample`.
    binned : int
        Number of elements the bins looked at (the sample size when ``sampled``).

    Examples
    --------
    >>> import numpy as np
    >>> h = histogram(np.array([0.0, 0.5, 1.0, 2.0, np.inf]), fixed_edges(0.0, 1.0, bins=2))
    >>> h.counts.tolist(), h.above, h.posinf
    ([1, 2], 1, 1)
    """

    edges: np.ndarray
    counts: np.ndarray
    below: int
    above: int
    nan: int
    posinf: int
    neginf: int
    sampled: bool = False
    binned: int = 0

    @property
    def bins(self) -> int:
        """Number of bins."""
        return int(self.counts.size)

    def as_dict(self) -> dict:
        """Plain ``dict`` of JSON types (arrays become lists)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["edges"] = self.edges.tolist()
        out["counts"] = self.counts.tolist()
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class Thumbnail:
    """A tensor block-averaged to at most ``max_side`` x ``max_side`` cells, as uint8.

    Attributes
    ----------
    data : numpy.ndarray
        uint8 cells (host). Diverging code: ``128`` is zero, ``128 + 127 * m / scale``
        rounded for a cell mean ``m``; cells without finite values hold ``128``.
    scale : float
        Largest ``|cell mean|`` over cells with finite values (``0.0`` if none).
    nonfinite : numpy.ndarray
        bool mask, True where a cell contains NaN or an infinity.
    shape_2d : tuple of int
        ``(rows, cols)`` the tensor was viewed as before reduction.
    source_shape : tuple of int
        Shape of the tensor.
    block : tuple of int
        ``(rows, cols)`` of tensor elements per cell (edge cells may be smaller).

    Examples
    --------
    >>> import numpy as np
    >>> t = thumbnail(np.arange(-8.0, 8.0).reshape(4, 4), max_side=2)
    >>> t.data.shape, t.scale, t.data.tolist()
    ((2, 2), 5.5, [[1, 47], [186, 232]])
    """

    data: np.ndarray
    scale: float
    nonfinite: np.ndarray
    shape_2d: tuple[int, int]
    source_shape: tuple[int, ...]
    block: tuple[int, int]

    @property
    def nonfinite_cells(self) -> int:
        """Number of cells that contain a non-finite value."""
        return int(np.count_nonzero(self.nonfinite))

    def decode(self) -> np.ndarray:
        """Approximate cell means as float64 (0.0 for cells without finite values)."""
        return (self.data.astype(np.float64) - 128.0) * (self.scale / 127.0)


@dataclasses.dataclass(frozen=True)
class Divergence:
    """How far two same-shaped tensors on one device are apart (host-side).

    Attributes
    ----------
    max_abs_diff : float
        Largest ``|a - b|`` in float64. Elements that are equal (``inf == inf``) or
        NaN on both sides count 0; NaN on one side only counts ``inf``.
    rel_l2 : float
        ``||a - b|| / max(||a||, tiny)`` with the same per-element differences and
        ``||a||`` over the finite values of ``a``.
    bitwise_equal : bool
        Whether every element has the same bit pattern (``-0.0 != 0.0``; NaN
        payloads compared).
    differing : int
        Number of elements whose bit patterns differ.

    Examples
    --------
    >>> import numpy as np
    >>> d = divergence(np.array([0.0, 1.0]), np.array([-0.0, 1.0]))
    >>> d.bitwise_equal, d.differing, d.max_abs_diff
    (False, 1, 0.0)
    """

    max_abs_diff: float
    rel_l2: float
    bitwise_equal: bool
    differing: int

    def as_dict(self) -> dict:
        """Plain ``dict`` of JSON types."""
        return dict(vars(self))  # the fields, all scalars


# --------------------------------------------------------------------------- helpers
def _raw(x):
    """The raw NumPy/CuPy array behind ``x`` (an NDArray's ``_data``), checked for dtype."""
    raw = getattr(x, "_data", x)
    if not (_backend.is_gpu_array(raw) or isinstance(raw, np.ndarray)):
        raw = np.asarray(raw)
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"summary functions take bool, integer or real floating arrays; got dtype {raw.dtype}"
        )
    return raw


def _host_small(a) -> np.ndarray:
    """A small reduced array (a few thousand numbers at most) as a NumPy array."""
    return a.get() if _backend.is_gpu_array(a) else np.asarray(a)


def _on_device(raw):
    """Context making ``raw``'s GPU current (no-op for NumPy arrays)."""
    return raw.device if _backend.is_gpu_array(raw) else contextlib.nullcontext()


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _check_edges(edges) -> np.ndarray:
    arr = np.array(_host_small(edges), dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 values; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("edges must be finite")
    if not np.all(np.diff(arr) > 0):
        raise ValueError("edges must be strictly increasing")
    return _frozen(arr)


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- stats
def stats(x) -> Stats:
    """Exact statistics of a tensor, computed where it lives.

    Parameters
    ----------
    x : array
        NumPy or CuPy array, or an object with a ``_data`` raw array; bool,
        integer or real floating dtype, any shape (0-d and empty included).

    Returns
    -------
    Stats
        Moments and extremes of the finite values, plus zero and non-finite counts.

    Examples
    --------
    >>> import numpy as np
    >>> s = stats(np.array([[3.0, -4.0]], dtype=np.float32))
    >>> s.mean, s.std, s.min, s.max, s.l2, s.shape, s.dtype
    (-0.5, 3.5, -4.0, 3.0, 5.0, (1, 2), 'float32')
    """
    raw = _raw(x)
    if _backend.is_gpu_array(raw):
        with _on_device(raw):
            return _whole_stats(raw, _backend.xp_of(raw))
    return _stats_from_scan(raw, _k.scan(raw))


def _stats_from_scan(raw, res: _k.ScanResult) -> Stats:
    return _make_stats(raw, res.count, res.mean, res.m2, res.sumsq, res.vmin, res.vmax,
                       res.zeros, res.nan, res.posinf, res.neginf)


def _make_stats(raw, finite, mean, m2, sumsq, vmin, vmax, zeros, nan, posinf, neginf) -> Stats:
    has = finite > 0
    return Stats(
        count=int(raw.size),
        mean=float(mean) if has else None,
        std=math.sqrt(max(m2, 0.0) / finite) if has else None,
        min=float(vmin) if has else None,
        max=float(vmax) if has else None,
        l2=math.sqrt(max(sumsq, 0.0)) if has else 0.0,
        zeros=int(zeros),
        nan=int(nan),
        posinf=int(posinf),
        neginf=int(neginf),
        shape=tuple(int(d) for d in raw.shape),
        dtype=str(raw.dtype),
    )


def _nonfinite_counts(raw, xp) -> tuple[int, int, int]:
    if raw.dtype.kind != "f":
        return 0, 0, 0
    nan = int(xp.count_nonzero(xp.isnan(raw)))
    posinf = int(xp.count_nonzero(raw == np.inf))
    neginf = int(xp.count_nonzero(raw == -np.inf))
    return nan, posinf, neginf


def _finite_values(raw, xp, nonfinite: int):
    """The finite elements as a 1-D array (a device copy only when some are not)."""
    flat = raw.reshape(-1)
    return flat[xp.isfinite(flat)] if nonfinite else flat


def _whole_stats(raw, xp) -> Stats:
    """Whole-array two-pass statistics (the GPU path; also runs on NumPy)."""
    nan, posinf, neginf = _nonfinite_counts(raw, xp)
    values = _finite_values(raw, xp, nan + posinf + neginf)
    zeros = int(xp.count_nonzero(raw == 0))
    finite = int(values.size)
    if not finite:
        return _make_stats(raw, 0, None, 0.0, 0.0, None, None, zeros, nan, posinf, neginf)
    mean = xp.sum(values, dtype=xp.float64) / finite
    dev = xp.subtract(values, mean, dtype=xp.float64)
    m2 = float(xp.dot(dev, dev))
    mean = float(mean)
    sumsq = m2 + finite * mean * mean
    return _make_stats(raw, finite, mean, m2, sumsq, float(values.min()), float(values.max()),
                       zeros, nan, posinf, neginf)


# --------------------------------------------------------------------------- edges
def fixed_edges(lo: float, hi: float, bins: int = 64) -> np.ndarray:
    """``bins + 1`` equally spaced float64 edges from ``lo`` to ``hi``.

    Parameters
    ----------
    lo, hi : float
        Finite bounds with ``lo < hi``.
    bins : int
        Number of bins (at least 1).

    Returns
    -------
    numpy.ndarray
        Read-only float64 edges, ``edges[0] == lo`` and ``edges[-1] == hi``.

    Examples
    --------
    >>> fixed_edges(-1.0, 1.0, bins=4).tolist()
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    """
    bins = _check_count("bins", bins)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"fixed_edges needs finite lo < hi; got {lo}, {hi}")
    if math.isfinite(hi - lo):
        return _frozen(np.linspace(lo, hi, bins + 1, dtype=np.float64))
    t = np.arange(bins + 1, dtype=np.float64) / bins  # a width beyond float64: blend the ends
    return _frozen(lo * (1.0 - t) + hi * t)


def edges_for(x_or_stats, bins: int = 64, symmetric: bool = False) -> np.ndarray:
    """Edges spanning a tensor's finite values, to be chosen once and kept.

    Parameters
    ----------
    x_or_stats : array or Stats
        A tensor (its :func:`stats` are computed) or statistics already at hand.
    bins : int
        Number of bins.
    symmetric : bool
        Centre the edges on 0: ``[-a, a]`` with ``a = max(|min|, |max|)``.

    Returns
    -------
    numpy.ndarray
        :func:`fixed_edges` from ``min`` to ``max``. A constant tensor gets
        ``v -/+ |v| / 256`` (``-1, 1`` around 0); a tensor without finite values
        gets ``[-1, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> edges_for(np.array([-1.0, 3.0]), bins=4).tolist()
    [-1.0, 0.0, 1.0, 2.0, 3.0]
    >>> edges_for(np.array([-1.0, 3.0]), bins=2, symmetric=True).tolist()
    [-3.0, 0.0, 3.0]
    """
    s = x_or_stats if isinstance(x_or_stats, Stats) else stats(x_or_stats)
    return _edges_from_range(s.min, s.max, bins, symmetric)


def _edges_from_range(vmin, vmax, bins, symmetric) -> np.ndarray:
    if vmin is None:
        lo, hi = -1.0, 1.0
    elif symmetric:
        half = max(abs(vmin), abs(vmax))
        lo, hi = (-half, half) if half > 0 else (-1.0, 1.0)
    else:
        lo, hi = vmin, vmax
    if lo == hi:
        pad = abs(lo) / 256.0 if lo != 0 else 1.0
        lo, hi = lo - pad, hi + pad
    return fixed_edges(lo, hi, bins)


# --------------------------------------------------------------------------- histogram
def histogram(x, edges) -> Histogram:
    """Exact histogram of the finite values on fixed edges.

    Parameters
    ----------
    x : array
        NumPy/CuPy array or object with ``_data``.
    edges : array_like
        1-D strictly increasing finite edges (``n + 1`` of them for ``n`` bins).
        Equal-width edges are binned by arithmetic with an exact boundary check,
        so counts equal ``numpy.histogram(x[np.isfinite(x)], edges)``.

    Returns
    -------
    Histogram

    Examples
    --------
    >>> import numpy as np
    >>> h = histogram(np.array([-2.0, 0.0, 0.25, 1.0, np.nan]), [0.0, 0.5, 1.0])
    >>> h.counts.tolist(), h.below, h.above, h.nan
    ([2, 1], 1, 0, 1)
    """
    raw = _raw(x)
    binner = _k.binner_for(_check_edges(edges))
    if _backend.is_gpu_array(raw):
        with _on_device(raw):
            return _whole_histogram(raw, _backend.xp_of(raw), binner)
    res = _k.scan(raw, binner, want_stats=False)
    return _make_histogram(binner, res.slots, res.nan, res.posinf, res.neginf, raw.size)


def _make_histogram(binner, slots, nan, posinf, neginf, binned, sampled=False) -> Histogram:
    slots = np.asarray(slots, dtype=np.int64)
    return Histogram(
        edges=_frozen(binner.edges.copy()),
        counts=_frozen(slots[1:-1].copy()),
        below=int(slots[0]),
        above=int(slots[-1]),
        nan=int(nan),
        posinf=int(posinf),
        neginf=int(neginf),
        sampled=bool(sampled),
        binned=int(binned),
    )


def _whole_histogram(raw, xp, binner, sampled=False, nonfinite=None) -> Histogram:
    """Whole-array histogram by ``searchsorted`` + ``bincount`` (the GPU path)."""
    counts = _nonfinite_counts(raw, xp)
    values = _finite_values(raw, xp, sum(counts)).astype(xp.float64, copy=False)
    edges = xp.asarray(binner.edges)
    slots = xp.searchsorted(edges, values, side="right")
    slots = xp.where(values == binner.hi, binner.bins, slots)
    slots = _host_small(xp.bincount(slots, minlength=binner.bins + 2))
    nan, posinf, neginf = counts if nonfinite is None else nonfinite
    return _make_histogram(binner, slots, nan, posinf, neginf, raw.size, sampled)


# --------------------------------------------------------------------------- summarize
def summarize(x, edges=None, bins: int = 64, *, sample_histogram: bool = False,
              max_elements: int = DEFAULT_MAX_ELEMENTS, symmetric: bool = False,
              threads: int | None = None) -> tuple[Stats, Histogram]:
    """Statistics and histogram together, in as few passes over memory as possible.

    With ``edges`` given (the usual case for a live view, which keeps its edges),
    one fused pass computes both. Without, a cheap min/max pass picks the edges
    that :func:`edges_for` would, then the fused pass runs (when the tensor holds
    NaN or infinities: a statistics pass, then a binning pass).

    Parameters
    ----------
    x : array
        NumPy/CuPy array or object with ``_data``.
    edges : array_like, optional
        Fixed edges; derived from this tensor's statistics when omitted.
    bins : int
        Number of bins when ``edges`` is omitted.
    sample_histogram : bool
        Allow the histogram (counts, below, above) to be computed on
        ``sample(x, max_elements)`` when ``x`` has more than ``max_elements``
        elements. Statistics and non-finite counts stay exact.
    max_elements : int
        Sampling threshold.
    symmetric : bool
        Derive edges centred on 0 (ignored when ``edges`` is given).
    threads : int, optional
        CPU worker threads (results do not depend on it); by default every core on
        machines with more than two, else one (see :mod:`paramlab._summary_kernels`).

    Returns
    -------
    (Stats, Histogram)

    Examples
    --------
    >>> import numpy as np
    >>> s, h = summarize(np.arange(10.0), bins=5)
    >>> s.mean, h.counts.tolist(), h.sampled
    (4.5, [2, 2, 2, 2, 2], False)
    >>> s, h = summarize(np.arange(10.0), bins=5, sample_histogram=True, max_elements=4)
    >>> s.mean, h.sampled, h.binned <= 4
    (4.5, True, True)
    """
    raw = _raw(x)
    max_elements = _check_count("max_elements", max_elements)
    sampled = bool(sample_histogram) and raw.size > max_elements
    if edges is not None:
        edges = _check_edges(edges)
    if _backend.is_gpu_array(raw):
        with _on_device(raw):
            return _summarize_whole(raw, edges, bins, sampled, max_elements, symmetric)
    if edges is None and not sampled:
        extremes = _k.extremes(raw)
        if extremes is not None:
            edges = _edges_from_range(*extremes, bins, symmetric)
    if edges is not None and not sampled:
        binner = _k.binner_for(edges)
        res = _k.scan(raw, binner, threads=threads)
        hist = _make_histogram(binner, res.slots, res.nan, res.posinf, res.neginf, raw.size)
        return _stats_from_scan(raw, res), hist
    if sampled and raw.flags.c_contiguous:  # one read: the sample leaves the statistics pass
        res = _k.scan(raw, threads=threads, runs=_sample_runs(raw.size, max_elements))
        s, data = _stats_from_scan(raw, res), res.copied
    else:
        s = _stats_from_scan(raw, _k.scan(raw, threads=threads))
        data = sample(raw, max_elements) if sampled else raw
    return s, _histogram_of(data, s, edges, bins, symmetric, sampled, threads)


def _summarize_whole(raw, edges, bins, sampled, max_elements, symmetric):
    s = _whole_stats(raw, _backend.xp_of(raw))
    data = sample(raw, max_elements) if sampled else raw
    return s, _histogram_of(data, s, edges, bins, symmetric, sampled)


def _histogram_of(data, s: Stats, edges, bins, symmetric, sampled, threads=None) -> Histogram:
    """Histogram of ``data`` (the tensor or its sample) whose exact statistics are ``s``.

    The non-finite counts are the tensor's own, from ``s``.
    """
    binner = _k.binner_for(edges if edges is not None else edges_for(s, bins, symmetric))
    if _backend.is_gpu_array(data):
        with _on_device(data):
            return _whole_histogram(data, _backend.xp_of(data), binner, sampled,
                                    (s.nan, s.posinf, s.neginf))
    res = _k.scan(data, binner, want_stats=False, threads=threads)
    return _make_histogram(binner, res.slots, s.nan, s.posinf, s.neginf, data.size, sampled)


# --------------------------------------------------------------------------- sample
@functools.lru_cache(maxsize=64)
def _sample_starts(size: int, max_elements: int) -> tuple[np.ndarray, int]:
    """Chunk starts and chunk length of the fixed sample of a ``size``-element tensor.

    The flat index range is cut into equal spans; each span contributes one
    contiguous chunk at an offset drawn from a generator seeded by ``size`` and
    ``max_elements`` only, so the sample never aliases with a row length and is
    the same on every call, replica and device.
    """
    chunk = max(1, min(_SAMPLE_CHUNK, max_elements // 64))
    nchunks = max_elements // chunk
    bounds = (np.arange(nchunks + 1, dtype=np.int64) * size) // nchunks
    room = np.diff(bounds) - chunk
    rng = np.random.default_rng([_SAMPLE_SEED, size, max_elements])
    jitter = (rng.random(nchunks) * (room + 1)).astype(np.int64)
    return _frozen(bounds[:-1] + jitter), chunk  # cached: read-only


@functools.lru_cache(maxsize=64)
def _sample_runs(size: int, max_elements: int) -> _k.RunTable:
    """The fixed sample's chunks as runs a statistics pass can copy out."""
    starts, chunk = _sample_starts(size, max_elements)
    return _k.run_table(size, starts, np.full(starts.size, chunk))


def sample(x, max_elements: int = DEFAULT_MAX_ELEMENTS):
    """A fixed, deterministic subset of at most ``max_elements`` elements.

    Parameters
    ----------
    x : array
        NumPy/CuPy array or object with ``_data``.
    max_elements : int
        Largest sample size.

    Returns
    -------
    array
        1-D raw array on ``x``'s device: all elements (in C order) when ``x`` is
        small enough, else evenly spread contiguous chunks whose positions depend
        only on ``x.size`` and ``max_elements``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(100_000)
    >>> s = sample(x, max_elements=1000)
    >>> s.size <= 1000, bool(np.array_equal(s, sample(x.copy(), max_elements=1000)))
    (True, True)
    """
    raw = _raw(x)
    max_elements = _check_count("max_elements", max_elements)
    if raw.size <= max_elements:
        return raw.reshape(-1)
    starts, chunk = _sample_starts(int(raw.size), max_elements)
    if not _backend.is_gpu_array(raw) and raw.flags.c_contiguous:
        flat = raw.reshape(-1)
        return np.concatenate([flat[s : s + chunk] for s in starts.tolist()])
    xp = _backend.xp_of(raw)
    with _on_device(raw):
        index = (xp.asarray(starts)[:, None] + xp.arange(chunk)).reshape(-1)
        if raw.flags.c_contiguous:
            return raw.reshape(-1)[index]
        return raw[xp.unravel_index(index, raw.shape)]


# --------------------------------------------------------------------------- thumbnail
def _as_2d(raw):
    if raw.ndim == 0:
        return raw.reshape(1, 1)
    if raw.ndim == 1:
        return raw.reshape(1, -1)
    return raw.reshape(raw.shape[0], math.prod(raw.shape[1:]))


def _group_sum(a, size: int, axis: int, xp):
    """Sums over consecutive groups of ``size`` along ``axis`` (the last group may be short)."""
    n = a.shape[axis]
    full = (n // size) * size
    parts = []
    if full:
        head = a[:full] if axis == 0 else a[:, :full]
        shape = (full // size, size, a.shape[1]) if axis == 0 else (a.shape[0], full // size, size)
        parts.append(head.reshape(shape).sum(axis=axis + 1))
    if full < n:
        tail = a[full:] if axis == 0 else a[:, full:]
        parts.append(tail.sum(axis=axis, keepdims=True))
    return parts[0] if len(parts) == 1 else xp.concatenate(parts, axis=axis)


def _cell_sums(band, block: tuple[int, int], xp):
    """Per-cell (sum of finite values, finite count, element count) of a band of rows."""
    values = band.astype(xp.float64)
    if band.dtype.kind == "f":
        finite = xp.isfinite(band)
        values = xp.where(finite, values, 0.0)
        counts = finite.astype(xp.float64)
    else:
        counts = xp.ones(band.shape, dtype=xp.float64)

    def reduce(a):
        return _group_sum(_group_sum(a, block[1], 1, xp), block[0], 0, xp)

    return reduce(values), reduce(counts)


def _band_rows(shape_2d, block, xp) -> int:
    if xp is not np:
        return shape_2d[0]
    per_row_block = block[0] * shape_2d[1]
    return block[0] * max(1, _THUMB_TILE // max(per_row_block, 1))


def thumbnail(x, max_side: int = 64) -> Thumbnail:
    """Block-averaged uint8 picture of a tensor, reduced on its device.

    The tensor is viewed as 2-D: a 0-d tensor as ``(1, 1)``, a 1-D tensor of
    length ``n`` as one row ``(1, n)``, otherwise ``(shape[0], prod(shape[1:]))``.
    Rows and columns are grouped into at most ``max_side`` blocks each (consecutive,
    equal sizes but the last); each cell is the mean of its finite values.

    Parameters
    ----------
    x : array
        NumPy/CuPy array or object with ``_data``.
    max_side : int
        Largest thumbnail side.

    Returns
    -------
    Thumbnail

    Examples
    --------
    >>> import numpy as np
    >>> t = thumbnail(np.array([[1.0, np.nan], [-1.0, 0.0]]))
    >>> t.data.tolist(), t.nonfinite.tolist(), t.scale
    ([[255, 128], [1, 128]], [[False, True], [False, False]], 1.0)
    """
    raw = _raw(x)
    max_side = _check_count("max_side", max_side)
    xp = _backend.xp_of(raw)
    with _on_device(raw):
        x2 = _as_2d(raw)
        rows, cols = (int(d) for d in x2.shape)
        block = (max(1, -(-rows // max_side)), max(1, -(-cols // max_side)))
        sums, finite, total = _thumbnail_cells(x2, block, xp)
    return _quantize(sums, finite, total, (rows, cols), tuple(raw.shape), block)


def _thumbnail_cells(x2, block, xp):
    rows, cols = x2.shape
    if rows == 0 or cols == 0:
        empty = np.zeros((0, 0))
        return empty, empty, empty
    row_sizes = np.diff(np.minimum(np.arange(0, rows + block[0], block[0]), rows))
    col_sizes = np.diff(np.minimum(np.arange(0, cols + block[1], block[1]), cols))
    row_sizes, col_sizes = row_sizes[row_sizes > 0], col_sizes[col_sizes > 0]
    total = np.outer(row_sizes, col_sizes).astype(np.float64)
    jit = _k.compiled_for(x2)
    if jit is not None and x2.flags.c_contiguous:
        sums, finite = np.zeros(total.shape), np.zeros(total.shape)
        jit.thumbnail_cells(x2, block[0], block[1], sums, finite)
        return sums, finite, total
    step = _band_rows((rows, cols), block, xp)
    sums, finite = [], []
    for start in range(0, rows, step):
        band_sum, band_finite = _cell_sums(x2[start : start + step], block, xp)
        sums.append(_host_small(band_sum))
        finite.append(_host_small(band_finite))
    return np.concatenate(sums), np.concatenate(finite), total


def _quantize(sums, finite, total, shape_2d, source_shape, block) -> Thumbnail:
    has = finite > 0
    means = np.divide(sums, finite, out=np.zeros_like(sums), where=has)
    scale = float(np.max(np.abs(means), initial=0.0))
    if scale > 0 and math.isfinite(scale):
        codes = np.rint(means * (127.0 / scale)) + 128.0
    else:
        codes = np.full(means.shape, 128.0)
    data = np.clip(codes, 1, 255).astype(np.uint8)
    return Thumbnail(
        data=_frozen(data),
        scale=scale,
        nonfinite=_frozen(finite < total),
        shape_2d=shape_2d,
        source_shape=tuple(int(d) for d in source_shape),
        block=block,
    )


# --------------------------------------------------------------------------- survey
THUMB_RUN_BYTES = 64
"""A sampled thumbnail cell averages the first this many bytes (one cache line) of
the cell's first row."""


@dataclasses.dataclass(frozen=True, eq=False)
class Survey:
    """What a view shows of one tensor, taken in one read of its memory.

    Attributes
    ----------
    stats : Stats
        Exact, always.
    histogram : Histogram
        Of :attr:`sample` when :attr:`sampled` (its own ``sampled`` flag says whether
        the sample is smaller than the tensor), else of the whole tensor.
    thumbnail : Thumbnail
        Of a fixed subset when :attr:`sampled` (see :func:`survey`); its
        ``shape_2d`` and ``block`` are in the tensor's own elements.
    sample : array or None
        ``sample(x, sample_size)`` on the tensor's device when :attr:`sampled`.
    sampled : bool
        Whether the tensor had more than ``max_elements`` elements.
    """

    stats: Stats
    histogram: Histogram
    thumbnail: Thumbnail
    sample: object
    sampled: bool


def survey(x, edges=None, bins: int = 64, *, max_elements: int = DEFAULT_MAX_ELEMENTS,
           sample_size: int = 2**16, thumb_side: int = 64, symmetric: bool = False,
           threads: int | None = None) -> Survey:
    """Statistics, histogram, thumbnail and fixed sample of a tensor, together.

    Up to ``max_elements`` elements this is :func:`summarize` and
    :func:`thumbnail` of the whole tensor. Above, the statistics stay exact and the
    rest comes from fixed subsets: the histogram counts :func:`sample` ``(x,
    sample_size)``, and each thumbnail cell averages the first
    :data:`THUMB_RUN_BYTES` bytes of its first row. A C-contiguous CPU tensor is
    then read from memory once: the subsets are copied out while each block is in
    cache for the statistics.

    Parameters
    ----------
    x : array
        NumPy/CuPy array or object with ``_data``.
    edges, bins, symmetric, threads
        As for :func:`summarize`.
    max_elements : int
        Sampling threshold.
    sample_size : int
        Elements in the histogram's sample.
    thumb_side : int
        Largest thumbnail side.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-1.0, 1.0, 300 * 200).reshape(300, 200)
    >>> v = survey(x, bins=8, max_elements=1000, sample_size=256)
    >>> v.sampled, v.stats.count, v.histogram.binned, v.sample.size
    (True, 60000, 256, 256)
    >>> v.thumbnail.shape_2d, v.thumbnail.block, v.thumbnail.data.shape
    ((300, 200), (5, 4), (60, 50))
    """
    raw = _raw(x)
    max_elements = _check_count("max_elements", max_elements)
    sample_size = _check_count("sample_size", sample_size)
    thumb_side = _check_count("thumb_side", thumb_side)
    if edges is not None:
        edges = _check_edges(edges)
    if raw.size <= max_elements:
        s, h = summarize(raw, edges, bins, symmetric=symmetric, threads=threads)
        return Survey(s, h, thumbnail(raw, thumb_side), None, False)
    plan = _survey_plan(tuple(int(d) for d in _as_2d(raw).shape), raw.dtype.itemsize,
                        sample_size, thumb_side)
    if _backend.is_gpu_array(raw) or not raw.flags.c_contiguous:
        with _on_device(raw):
            s, copied = stats(raw), _k.gather_runs(raw, plan.runs)
    else:
        res = _k.scan(raw, threads=threads, runs=plan.runs)
        s, copied = _stats_from_scan(raw, res), res.copied
    data = copied[: plan.nsample]
    hist = _histogram_of(data, s, edges, bins, symmetric, data.size < raw.size, threads)
    picked = copied[plan.nsample :].reshape(plan.thumb_rows, -1)
    with _on_device(picked):
        sums, finite, total = _thumbnail_cells(picked, (1, plan.run), _backend.xp_of(picked))
    t = _quantize(sums, finite, total, plan.shape_2d, raw.shape, plan.cell)
    return Survey(s, hist, t, data, True)


@dataclasses.dataclass(frozen=True)
class _SurveyPlan:
    shape_2d: tuple[int, int]
    cell: tuple[int, int]  # thumbnail cell, in elements of the 2-D view
    run: int  # elements each thumbnail cell reads (the start of its first row)
    thumb_rows: int
    nsample: int
    runs: _k.RunTable  # the sample's chunks, then the thumbnail runs row by row


@functools.lru_cache(maxsize=64)
def _survey_plan(shape_2d, itemsize: int, sample_size: int, thumb_side: int) -> _SurveyPlan:
    """Which elements a large tensor's survey copies out (they depend on its shape only)."""
    rows, cols = shape_2d
    cell = (max(1, -(-rows // thumb_side)), max(1, -(-cols // thumb_side)))
    run = max(1, min(cell[1], THUMB_RUN_BYTES // itemsize))
    # The first `run` elements of every cell's first row (the last cell's run ends
    # at the row's end), as offsets into the flat tensor.
    col_starts = np.minimum(np.arange(0, cols, cell[1], dtype=np.int64), cols - run)
    row_starts = np.arange(0, rows, cell[0], dtype=np.int64) * cols
    thumb_starts = (row_starts[:, None] + col_starts[None, :]).reshape(-1)
    if sample_size >= rows * cols:  # the sample is the whole tensor (as sample() says)
        starts, chunk = np.zeros(1, dtype=np.int64), rows * cols
    else:
        starts, chunk = _sample_starts(rows * cols, sample_size)
    runs = _k.run_table(
        rows * cols,
        np.concatenate([starts, thumb_starts]),
        np.concatenate([np.full(starts.size, chunk), np.full(thumb_starts.size, run)]),
    )
    return _SurveyPlan(shape_2d, cell, run, row_starts.size, starts.size * chunk, runs)


# --------------------------------------------------------------------------- divergence
def _check_pair(a, b):
    if _backend.is_gpu_array(a) != _backend.is_gpu_array(b):
        raise ValueError(
            "divergence needs both arrays on one device; got one NumPy and one CuPy array "
            "(move one of them first, e.g. with paramlab._backend.to_context)"
        )
    if _backend.is_gpu_array(a) and a.device.id != b.device.id:
        raise ValueError(
            f"divergence needs both arrays on one device; got gpu({a.device.id}) and "
            f"gpu({b.device.id}) (move one of them first)"
        )
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(
            f"divergence needs equal shapes and dtypes; got {a.shape} {a.dtype} "
            f"and {b.shape} {b.dtype}"
        )


def _bits_dtype(dtype: np.dtype):
    return np.dtype(f"u{dtype.itemsize}")


def _sum_of_squares(v, xp) -> float:
    """``v @ v`` of a 1-D float64 array (on NumPy, in BLAS calls that stay single-threaded)."""
    return _k.sum_of_squares(v) if xp is np else float(xp.dot(v, v))


def _finite_sum_of_squares(v, xp) -> float:
    total = _sum_of_squares(v, xp)
    if math.isfinite(total):
        return total
    return _sum_of_squares(xp.where(xp.isfinite(v), v, 0.0), xp)


def _divergence_part(a, b, xp) -> tuple[int, float, float, float]:
    """(differing elements, max |a-b|, sum (a-b)^2, sum of finite a^2) of one part."""
    bits = _bits_dtype(a.dtype)
    differing = int(xp.count_nonzero(a.view(bits) != b.view(bits)))
    norm_a = _finite_sum_of_squares(a.reshape(-1).astype(xp.float64), xp)
    if not differing:
        return 0, 0.0, 0.0, norm_a
    diff = xp.subtract(a, b, dtype=xp.float64).reshape(-1)
    if a.dtype.kind == "f":
        same = (a == b) | (xp.isnan(a) & xp.isnan(b))
        diff = xp.where(same.reshape(-1), 0.0, diff)
        diff = xp.where(xp.isnan(diff), xp.inf, diff)
    diff = xp.abs(diff)
    return differing, float(diff.max()), _sum_of_squares(diff, xp), norm_a


def divergence(a, b) -> Divergence:
    """Compare two tensors of one shape and dtype on ONE device, where they live.

    Parameters
    ----------
    a, b : array
        Raw arrays (or objects with ``_data``) on the same device: both NumPy, or
        both CuPy on the same GPU. If they live apart, the caller moves one of them
        first; this function never copies between devices.

    Returns
    -------
    Divergence

    Raises
    ------
    ValueError
        If the arrays live on different devices, or differ in shape or dtype.

    Examples
    --------
    >>> import numpy as np
    >>> d = divergence(np.array([3.0, 4.0]), np.array([3.0, 4.5]))
    >>> d.max_abs_diff, d.rel_l2, d.bitwise_equal
    (0.5, 0.1, False)
    """
    a, b = _raw(a), _raw(b)
    _check_pair(a, b)
    xp = _backend.xp_of(a)
    jit = _k.compiled_for(a)
    if jit is not None and a.flags.c_contiguous and b.flags.c_contiguous:
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        bits = _bits_dtype(a.dtype)
        part = jit.divergence_pass(flat_a, flat_b, flat_a.view(bits), flat_b.view(bits))
        return _combine_divergence([part])
    if xp is np:
        views_a, views_b = _k.paired_views(a, b)
        with np.errstate(all="ignore"):
            parts = [_divergence_part(pa, pb, np) for pa, pb in zip(views_a, views_b)]
    else:
        with _on_device(a):
            parts = [_divergence_part(a, b, xp)] if a.size else []
    return _combine_divergence(parts)


def _combine_divergence(parts) -> Divergence:
    differing = sum(p[0] for p in parts)
    max_abs = max((p[1] for p in parts), default=0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        diff_norm = math.sqrt(float(np.sum([p[2] for p in parts], dtype=np.float64)))
        a_norm = math.sqrt(float(np.sum([p[3] for p in parts], dtype=np.float64)))
    return Divergence(
        max_abs_diff=float(max_abs),
        rel_l2=diff_norm / max(a_norm, _TINY),
        bitwise_equal=differing == 0,
        differing=int(differing),
    )
