"""What a parameter view shows, computed through :mod:`paramlab.summary` and cached by version.

No widget imports: :class:`ParamTracker` turns one :class:`~paramlab.gluon.Parameter`
into the ``Card`` and ``Row`` objects of ``PROTOCOL.md`` (sections 3 and 5). It
keeps, per replica, the version counter each summary was computed at, so an
update recomputes only replicas (values or gradients) whose version changed.

Exactness: statistics (with NaN/Inf counts) are always exact. Above
:data:`SAMPLE_ABOVE` elements, histograms use ``summary``'s fixed sample of
:data:`SAMPLE_SIZE` elements and thumbnails average a fixed subset (see
:func:`paramlab.summary.survey`, which takes all of a replica's value summaries in
one read of its memory); replica divergence compares the fixed samples (plus the
exact statistics). ModelView rows sample their small histograms above
:data:`ROW_SAMPLE_ABOVE`.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .. import _backend, summary
from ..gluon.parameter import Constant, _ctx_key, drawn_by
from ._transport import array_payload

__all__ = [
    "SAMPLE_ABOVE",
    "SAMPLE_SIZE",
    "ROW_SAMPLE_ABOVE",
    "STAT_FIELDS",
    "ParamTracker",
    "theory_payload",
    "stats_payload",
    "hist_payload",
    "thumb_payload",
    "clean",
]

SAMPLE_ABOVE = summary.DEFAULT_MAX_ELEMENTS
"""Tensors with more elements get sampled histograms, thumbnails and divergence."""
SAMPLE_SIZE = 2**16
"""Elements in the fixed sample used above :data:`SAMPLE_ABOVE`."""
ROW_SAMPLE_ABOVE = 2**16
"""ModelView row histograms are sampled above this many elements."""
THUMB_SIDE = 64
STAT_FIELDS = ("mean", "std", "min", "max", "l2", "zeros", "nan", "posinf", "neginf", "count")
_PAD = 0.05  # edges from a data range are widened by this fraction of it on each side
_NORMAL_SPAN = 4.0  # edges of a normal law: mean +/- this many std


# --------------------------------------------------------------------------- JSON helpers
def clean(value):
    """``value`` with NumPy scalars made Python and non-finite floats made None (JSON-safe).

    Examples
    --------
    >>> import numpy as np
    >>> clean({"a": np.float32(1.5), "b": [float("inf"), (1, 2)], "c": np.int64(3)})
    {'a': 1.5, 'b': [None, [1, 2]], 'c': 3}
    """
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def stats_payload(s: summary.Stats) -> dict:
    """A :class:`~paramlab.summary.Stats` as the protocol's ``Stats`` object."""
    return clean(s.as_dict())


def hist_payload(h: summary.Histogram, s: summary.Stats) -> dict:
    """A histogram as the protocol's ``Hist``; non-finite counts come from the exact ``s``."""
    return {
        "counts": array_payload(h.counts, "uint32"),
        "below": int(h.below),
        "above": int(h.above),
        "nan": int(s.nan),
        "posinf": int(s.posinf),
        "neginf": int(s.neginf),
        "sampled": bool(h.sampled),
        "binned": int(h.binned),
    }


def _as_2d(raw):
    if raw.ndim == 0:
        return raw.reshape(1, 1)
    if raw.ndim == 1:
        return raw.reshape(1, -1)
    return raw.reshape(raw.shape[0], -1)


def thumb_payload(t: summary.Thumbnail, sampled: bool = False) -> dict:
    """The protocol's ``Thumb`` of a thumbnail (``sampled``: of a fixed subset)."""
    data = np.array(t.data, dtype=np.uint8)
    data[t.nonfinite] = 0
    return {
        "data": array_payload(data, "uint8"),
        "scale": clean(t.scale),
        "shape_2d": [int(d) for d in t.shape_2d],
        "block": [int(b) for b in t.block],
        "sampled": bool(sampled),
    }


# --------------------------------------------------------------------------- summaries
def _summarize(raw, edges, sample_above=SAMPLE_ABOVE):
    if raw.size > sample_above:
        return summary.summarize(
            raw,
            edges,
            sample_histogram=True,
            max_elements=SAMPLE_SIZE if sample_above >= SAMPLE_ABOVE else sample_above,
        )
    return summary.summarize(raw, edges)


def _survey(raw, edges):
    """Value summaries of a replica in one read: stats, histogram, thumbnail, sample."""
    return summary.survey(raw, edges, max_elements=SAMPLE_ABOVE, sample_size=SAMPLE_SIZE,
                          thumb_side=THUMB_SIDE)


def _histogram(raw, edges, sample_above=SAMPLE_ABOVE, sample=None):
    """Histogram of ``raw``; of its fixed sample (``sample`` if already taken) when large."""
    if raw.size > sample_above:
        size = SAMPLE_SIZE if sample_above >= SAMPLE_ABOVE else sample_above
        h = summary.histogram(summary.sample(raw, size) if sample is None else sample, edges)
        return summary.Histogram(
            h.edges, h.counts, h.below, h.above, h.nan, h.posinf, h.neginf, True, h.binned
        )
    return summary.histogram(raw, edges)


def _centred_edges(centre: float, half: float, bins: int) -> np.ndarray:
    """Equal-width edges covering ``centre +/- half`` with ``centre`` in the middle of a bin.

    A value sitting exactly on an edge (0 for gradients, a constant's value) would
    send every element through the summary kernel's slow exact-boundary check.
    """
    if bins % 2:
        return summary.fixed_edges(centre - half, centre + half, bins)
    return summary.fixed_edges(centre - half, centre + half + 2 * half / (bins - 1), bins)


def _range_edges(s: summary.Stats, bins: int, symmetric: bool) -> np.ndarray:
    if s.min is None:
        return _centred_edges(0.0, 1.0, bins)
    if symmetric:
        half = max(abs(s.min), abs(s.max)) * (1 + _PAD)
        return _centred_edges(0.0, half if half > 0 else 1.0, bins)
    if s.min == s.max:
        return _centred_edges(s.min, abs(s.min) / 256.0 if s.min else 1.0, bins)
    pad = (s.max - s.min) * _PAD
    lo, hi = s.min - pad, s.max + pad
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return summary.edges_for(s, bins, symmetric=symmetric)
    return summary.fixed_edges(lo, hi, bins)


def _theory_edges(theory, bins: int):
    if theory is None or theory.family in ("none", "constant", "discrete", "bilinear"):
        return None
    lo, hi = (float(v) for v in theory.support)
    if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
        return summary.fixed_edges(lo, hi, bins)
    if theory.mean is not None and theory.std and math.isfinite(theory.std):
        m, sd = float(theory.mean), float(theory.std)
        return summary.fixed_edges(m - _NORMAL_SPAN * sd, m + _NORMAL_SPAN * sd, bins)
    return None


def _edges_poor(edges, s: summary.Stats, h: summary.Histogram) -> bool:
    """Whether replica 0's values have left the edges (re-choose them)."""
    if s.min is None:
        return False
    binned = int(h.counts.sum()) + h.below + h.above
    if binned and (h.below + h.above) * 2 > binned:
        return True
    span = float(edges[-1] - edges[0])
    return s.max > s.min and (s.max - s.min) * 16 < span


def _same_device(a, b) -> bool:
    ga, gb = _backend.is_gpu_array(a), _backend.is_gpu_array(b)
    if ga != gb:
        return False
    return not ga or a.device.id == b.device.id


def divergence_payload(raw0, ctx0, s0, raw, s, sample0=None, sample=None) -> dict:
    """Replica ``raw`` against the reference ``raw0`` (exact when small and on one device).

    ``sample0`` and ``sample``, when given, are ``summary.sample(..., SAMPLE_SIZE)``
    of ``raw0`` and ``raw`` already taken (by :func:`paramlab.summary.survey`).
    """
    if _same_device(raw0, raw) and raw0.size <= SAMPLE_ABOVE:
        d = summary.divergence(raw0, raw)
        out = d.as_dict()
        out["sampled"] = False
        return clean(out)
    a = summary.sample(raw0, SAMPLE_SIZE) if sample0 is None else sample0
    b = summary.sample(raw, SAMPLE_SIZE) if sample is None else sample
    if not _same_device(a, b):
        b = _backend.to_context(b, ctx0)
    d = summary.divergence(a, b)
    out = d.as_dict()
    out["bitwise_equal"] = bool(d.bitwise_equal and s0 == s)
    out["sampled"] = True
    return clean(out)


# --------------------------------------------------------------------------- initializer
def _init_theory(initializer, shape, dtype):
    if initializer is None or shape is None:
        return None
    try:
        return initializer.theory(tuple(shape), dtype)
    except (ValueError, TypeError, NotImplementedError):
        return None


def theory_payload(theory, edges, binned: int | None, initializer=None) -> dict | None:
    """The protocol's ``Theory``: the law plus its density on the centres of ``edges``."""
    if theory is None:
        return None
    pdf = expected = None
    if edges is not None:
        edges = np.asarray(edges, dtype=np.float64)
        centres = 0.5 * (edges[1:] + edges[:-1])
        with np.errstate(all="ignore"):
            if theory.pdf is not None:
                pdf = array_payload(np.asarray(theory.pdf(centres), dtype=np.float64))
            if theory.cdf is not None and binned:
                cdf = np.asarray(theory.cdf(edges), dtype=np.float64)
                expected = array_payload(binned * np.diff(cdf))
    return {
        "family": theory.family,
        "params": clean(dict(theory.params)),
        "mean": clean(theory.mean),
        "std": clean(theory.std),
        "support": clean(list(theory.support)),
        "invariant": theory.invariant,
        "initializer": repr(initializer) if initializer is not None else "",
        "pdf": pdf,
        "expected": expected,
    }


# --------------------------------------------------------------------------- tracker
def _raw(nd):
    return nd._data  # sparse arrays build their dense form here


class ParamTracker:
    """Summaries of one Parameter's replicas and gradients, recomputed by version.

    Parameters
    ----------
    param : Parameter
        The parameter (read through its replica and gradient tables).
    name : str, optional
        Name to show (a structural name such as ``"0.weight"``); default ``param.name``.
    bins, row_bins : int
        Bins of the card histograms and of the ModelView row histograms.
    history_len : int
        Points of norm history kept.

    Examples
    --------
    >>> import paramlab as mx
    >>> p = mx.gluon.Parameter("weight", shape=(4, 5))
    >>> p.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    >>> t = ParamTracker(p)
    >>> changed, card = t.card()
    >>> changed, card["contexts"], card["replicas"][1]["divergence"]["bitwise_equal"]
    (True, ['cpu(0)', 'cpu(1)'], True)
    >>> t.card()[0]  # nothing changed since
    False
    """

    def __init__(
        self, param, name: str = "", bins: int = 64, row_bins: int = 32, history_len: int = 64
    ):
        self.param = param
        self.name = name or param.name
        self.structural_name = name
        self.bins = bins
        self.row_bins = row_bins
        self.history_len = history_len
        self.steps = 0
        self.seen_trainer = False
        self.tainted = False
        self._theory_key = None
        self._theory = None
        self._initializer = None
        self.reset()

    # ------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget every cached summary, the edges and the history (structure changed)."""
        self.edges = self.grad_edges = None
        self.row_edges = self.row_grad_edges = None
        self.edges_epoch = 0
        self._vstats, self._vhist, self._thumb, self._sample = {}, {}, {}, {}
        self._gstats, self._ghist, self._div = {}, {}, {}
        self._row_hist = self._row_ghist = None
        self._history = collections.deque(maxlen=self.history_len)
        self._history_key = None
        self._card_key = None
        self._row_key = None
        self._meta = None

    def set_history_len(self, n: int) -> None:
        self.history_len = n
        self._history = collections.deque(self._history, maxlen=n)

    def on_event(self, event: str, info: dict) -> None:
        """React to a Parameter event (see :meth:`Parameter.observe`)."""
        if event not in ("grad_written", "step", "grad_zeroed"):
            self._meta = None
        if event in ("initialized", "ctx_reset", "cast", "deferred", "deferred_done"):
            self.reset()
        elif event == "data_set":
            self.edges = self.row_edges = None
        if event in ("data_set", "cast", "ctx_reset"):
            self.tainted = True
        elif event == "initialized" and not self._from_data():
            self.tainted = False
        if event == "step":
            self.steps += 1
            self.seen_trainer = True

    def _from_data(self) -> bool:
        record = getattr(self.param, "_init_record", None)
        return record is not None and record[0] is None

    def status(self) -> str:
        p = self.param
        if p._replicas:
            return "ready"
        return "deferred" if p._pending is not None else "uninitialized"

    def replicas(self):
        """``[(key, ctx, value NDArray, grad NDArray or None), ...]`` in context order."""
        p = self.param
        out = []
        for c in p._ctx_list:
            key = _ctx_key(c)
            r = p._replicas.get(key)
            if r is not None:
                g = r._grad_buffer() if p._grad_req != "null" else None
                out.append((key, c, r, g))
        return out

    def grad_note(self) -> str:
        if isinstance(self.param, Constant):
            return "no gradient (Constant)"
        if self.param._grad_req == "null":
            return "no gradient (grad_req='null')"
        return ""

    def at_init(self, key, r) -> bool:
        record = getattr(self.param, "_init_record", None)
        if self.tainted or record is None or record[0] is None:
            return False
        return record[1].get(key) == r.version

    def initializer(self):
        """The initializer and its theory for the current shape and dtype (cached)."""
        p = self.param
        shape = p.shape if p._shape_known() else None
        init = drawn_by(p)
        key = (repr(init), shape, str(p.dtype))
        if key != self._theory_key:
            self._theory_key = key
            self._initializer = init
            self._theory = _init_theory(init, shape, p.dtype)
        return self._initializer, self._theory

    def meta(self) -> dict:
        """Static facts of the parameter (cached until a structural event)."""
        if self._meta is None:
            self._meta = self._make_meta()
        return self._meta

    def _make_meta(self) -> dict:
        p = self.param
        init, _ = self.initializer()
        shape = list(p.shape) if p._shape_known() else None
        return {
            "name": self.name,
            "param": p.name,
            "shape": shape,
            "dtype": str(np.dtype(p.dtype)) if p.dtype is not None else "",
            "stype": p.stype,
            "grad_req": p._grad_req,
            "constant": isinstance(p, Constant),
            "status": self.status(),
            "init": repr(init) if init is not None else "",
            "contexts": [str(c) for c in p._ctx_list],
        }

    # ------------------------------------------------------------ value/grad summaries
    def _value_stats(self, key, r, raw, force):
        cached = self._vstats.get(key)
        if force or cached is None or cached[0] != r.version:
            cached = (r.version, summary.stats(raw))
            self._vstats[key] = cached
        return cached[1]

    def _ensure_edges(self, reps, raws):
        if self.edges is not None:
            return
        _, theory = self.initializer()
        key0, _, r0, _ = reps[0]
        edges = _theory_edges(theory, self.bins) if self.at_init(key0, r0) else None
        if edges is None:
            edges = _range_edges(self._value_stats(key0, r0, raws[0], False), self.bins, False)
        self.edges = edges
        self.edges_epoch += 1

    def _value_summaries(self, reps, raws, force):
        """Fresh (stats, hist) for every replica; returns the keys recomputed."""
        self._ensure_edges(reps, raws)
        changed = []
        for (key, _, r, _), raw in zip(reps, raws):
            cached = self._vhist.get(key)
            if force or cached is None or cached[0] != r.version or cached[1] != self.edges_epoch:
                v = _survey(raw, self.edges)
                self._vstats[key] = (r.version, v.stats)
                self._vhist[key] = (r.version, self.edges_epoch, v.histogram)
                self._thumb[key] = (r.version, thumb_payload(v.thumbnail, v.sampled))
                self._sample[key] = (r.version, v.sample)
                changed.append(key)
        key0 = reps[0][0]
        s0, h0 = self._vstats[key0][1], self._vhist[key0][2]
        if _edges_poor(self.edges, s0, h0):
            self.edges = _range_edges(s0, self.bins, False)
            self.edges_epoch += 1
            for (key, _, r, _), raw in zip(reps, raws):
                h = _histogram(raw, self.edges, sample=self._taken_sample(key, r))
                self._vhist[key] = (r.version, self.edges_epoch, h)
                if key not in changed:
                    changed.append(key)
        return changed

    def _grad_summaries(self, reps, force):
        grads = [(key, g) for key, _, _, g in reps if g is not None]
        if not grads:
            return []
        key0, g0 = grads[0]
        if self.grad_edges is None:
            s0 = self._grad_stats(key0, g0, force)
            self.grad_edges = _range_edges(s0, self.bins, True)
        changed = []
        for key, g in grads:
            cached = self._ghist.get(key)
            if (
                force
                or cached is None
                or cached[0] != g.version
                or cached[1] is not self.grad_edges
            ):
                s, h = _summarize(_raw(g), self.grad_edges)
                self._gstats[key] = (g.version, s)
                self._ghist[key] = (g.version, self.grad_edges, h)
                changed.append(key)
        s0, h0 = self._gstats[key0][1], self._ghist[key0][2]
        if _edges_poor(self.grad_edges, s0, h0):
            self.grad_edges = _range_edges(s0, self.bins, True)
            for key, g in grads:
                self._ghist[key] = (
                    g.version,
                    self.grad_edges,
                    _histogram(_raw(g), self.grad_edges),
                )
                if key not in changed:
                    changed.append(key)
        return changed

    def _grad_stats(self, key, g, force):
        cached = self._gstats.get(key)
        if force or cached is None or cached[0] != g.version:
            cached = (g.version, summary.stats(_raw(g)))
            self._gstats[key] = cached
        return cached[1]

    def _taken_sample(self, key, r):
        """The fixed sample of replica ``key`` taken at its current version, if any."""
        cached = self._sample.get(key)
        return cached[1] if cached is not None and cached[0] == r.version else None

    def _divergence(self, reps, raws, force):
        out = {}
        if len(reps) < 2:
            return out
        key0, ctx0, r0, _ = reps[0]
        s0, sample0 = self._vstats[key0][1], self._taken_sample(key0, r0)
        for (key, _, r, _), raw in zip(reps[1:], raws[1:]):
            versions = (r0.version, r.version)
            cached = self._div.get(key)
            if force or cached is None or cached[0] != versions:
                s, sample = self._vstats[key][1], self._taken_sample(key, r)
                cached = (versions, divergence_payload(raws[0], ctx0, s0, raw, s, sample0, sample))
                self._div[key] = cached
            out[key] = cached[1]
        return out

    def _note_history(self, reps, seq):
        key = tuple((r.version, g.version if g is not None else -1) for _, _, r, g in reps)
        key = (key, self.edges_epoch)
        if key == self._history_key:
            return
        self._history_key = key
        values, grads = [], []
        for k, _, r, g in reps:
            s = self._vstats.get(k)
            values.append(s[1].l2 if s is not None and s[0] == r.version else math.nan)
            gs = self._gstats.get(k) if g is not None else None
            grads.append(gs[1].l2 if gs is not None and gs[0] == g.version else math.nan)
        step = self.steps if self.seen_trainer else -1
        self._history.append((seq, step, values, grads))

    def history_payload(self, nrep: int) -> dict:
        pts = [p for p in self._history if len(p[2]) == nrep]
        n = len(pts)
        values = np.full((nrep, n), np.nan, dtype=np.float32)
        grads = np.full((nrep, n), np.nan, dtype=np.float32)
        for j, (_, _, v, g) in enumerate(pts):
            values[:, j] = v
            grads[:, j] = g
        return {
            "seq": array_payload(np.array([p[0] for p in pts], dtype=np.int32)),
            "step": array_payload(np.array([p[1] for p in pts], dtype=np.int32)),
            "value_l2": array_payload(values),
            "grad_l2": array_payload(grads),
        }

    # ------------------------------------------------------------ card (ParameterView)
    def card(self, force: bool = False, seq: int = 0, always: bool = False):
        """``(changed, Card)``: the ParameterView state (PROTOCOL.md section 3).

        Parameters
        ----------
        force : bool
            Recompute every replica even if its version did not change.
        seq : int
            Update number recorded with a new history point.
        always : bool
            Return the card even when nothing changed (from the caches).
        """
        meta = self.meta()
        reps = self.replicas()
        versions = tuple((r.version, g.version if g is not None else -1) for _, _, r, g in reps)
        key = (versions, meta, self.tainted, self.steps)
        if not force and not always and key == self._card_key:
            return False, None
        raws = [_raw(r) for _, _, r, _ in reps]
        card = dict(meta)
        card["name"] = self.param.name
        card["structural_name"] = self.structural_name
        card.update(
            edges=None,
            edges_epoch=self.edges_epoch,
            grad_edges=None,
            grad_note=self.grad_note(),
            theory=None,
            at_init=False,
            replicas=[],
        )
        if reps:
            changed = set(self._value_summaries(reps, raws, force))
            gchanged = set(self._grad_summaries(reps, force))
            divs = self._divergence(reps, raws, force)
            self._note_history(reps, seq)
            init, theory = self.initializer()
            binned = self._vhist[reps[0][0]][2].binned
            card.update(
                edges=array_payload(self.edges),
                edges_epoch=self.edges_epoch,
                grad_edges=array_payload(self.grad_edges) if self.grad_edges is not None else None,
                theory=theory_payload(theory, self.edges, binned, init),
            )
            replicas = []
            for key_, ctx, r, g in reps:
                s = self._vstats[key_][1]
                grad = None
                if g is not None and key_ in self._gstats:
                    gs, gh = self._gstats[key_][1], self._ghist[key_][2]
                    grad = {
                        "stats": stats_payload(gs),
                        "hist": hist_payload(gh, gs),
                        "version": int(g.version),
                    }
                replicas.append(
                    {
                        "ctx": str(ctx),
                        "version": int(r.version),
                        "changed": key_ in changed or key_ in gchanged,
                        "at_init": self.at_init(key_, r),
                        "stats": stats_payload(s),
                        "hist": hist_payload(self._vhist[key_][2], s),
                        "thumb": self._thumb[key_][1],
                        "grad": grad,
                        "divergence": divs.get(key_),
                    }
                )
            card["replicas"] = replicas
            card["at_init"] = all(rep["at_init"] for rep in replicas)
        card["history"] = self.history_payload(len(reps))
        self._card_key = key
        return True, card

    # ------------------------------------------------------------ row (ModelView)
    def row(self, force: bool = False, seq: int = 0):
        """``(changed, numbers)``: this parameter's ModelView row (PROTOCOL.md section 5).

        ``numbers`` is a dict of NumPy values: ``value`` (10 stats of replica 0),
        ``nonfinite`` (3, summed over replicas), ``grad_l2``, ``divergence`` (3),
        ``hist``/``hist_range``, ``grad_hist``/``grad_hist_range``, ``history``
        (history_len x 2: value and gradient L2 of replica 0 at each point, oldest
        first, NaN-padded at the start), ``history_seq`` (history_len: the update
        number of each point, -1 where padded), ``at_init``, ``version``.

        The row also counts as changed when a point was added to the history
        since the last call (by :meth:`card`), so ``history`` is never stale.
        """
        reps = self.replicas()
        versions = tuple((r.version, g.version if g is not None else -1) for _, _, r, g in reps)
        key = (versions, self.tainted, self.status())
        newest = self._history[-1][0] if self._history else None
        history_key = (self.history_len, len(self._history), newest)
        if (
            not force
            and key == self._row_key
            and self._row_cache is not None
            and history_key == self._row_history_key
        ):
            return False, self._row_cache
        self._row_key = key
        out = {
            "value": np.full(len(STAT_FIELDS), np.nan),
            "nonfinite": np.zeros(3),
            "grad_l2": np.nan,
            "divergence": np.full(3, np.nan),
            "hist": np.zeros(self.row_bins, dtype=np.uint32),
            "hist_range": np.full(2, np.nan),
            "grad_hist": np.zeros(self.row_bins, dtype=np.uint32),
            "grad_hist_range": np.full(2, np.nan),
            "history": np.full((self.history_len, 2), np.nan, dtype=np.float32),
            "at_init": 0,
            "version": np.nan,
        }
        if reps:
            raws = [_raw(r) for _, _, r, _ in reps]
            key0, _, r0, g0 = reps[0]
            # replica 0: exact stats + small histogram in one pass
            cached = self._row_hist
            if force or cached is None or cached[0] != r0.version or self.row_edges is None:
                if self.row_edges is None:
                    s0 = self._value_stats(key0, r0, raws[0], force)
                    self.row_edges = _range_edges(s0, self.row_bins, False)
                s0, h0 = _summarize(raws[0], self.row_edges, ROW_SAMPLE_ABOVE)
                if _edges_poor(self.row_edges, s0, h0):
                    self.row_edges = _range_edges(s0, self.row_bins, False)
                    h0 = _histogram(raws[0], self.row_edges, ROW_SAMPLE_ABOVE)
                self._vstats[key0] = (r0.version, s0)
                self._row_hist = (r0.version, h0)
            s0, h0 = self._vstats[key0][1], self._row_hist[1]
            out["value"] = np.array([_num(getattr(s0, f)) for f in STAT_FIELDS])
            out["hist"] = h0.counts.astype(np.uint32)
            out["hist_range"] = np.array([h0.edges[0], h0.edges[-1]])
            nonfinite = np.zeros(3)
            for (k, _, r, _), raw in zip(reps, raws):
                s = self._value_stats(k, r, raw, force)
                nonfinite += (s.nan, s.posinf, s.neginf)
            out["nonfinite"] = nonfinite
            if g0 is not None:
                graw = _raw(g0)
                cached = self._row_ghist
                if force or cached is None or cached[0] != g0.version:
                    if self.row_grad_edges is None:
                        self.row_grad_edges = _range_edges(
                            self._grad_stats(key0, g0, force), self.row_bins, True
                        )
                    gs, gh = _summarize(graw, self.row_grad_edges, ROW_SAMPLE_ABOVE)
                    if _edges_poor(self.row_grad_edges, gs, gh):
                        self.row_grad_edges = _range_edges(gs, self.row_bins, True)
                        gh = _histogram(graw, self.row_grad_edges, ROW_SAMPLE_ABOVE)
                    self._gstats[key0] = (g0.version, gs)
                    self._row_ghist = (g0.version, gh)
                gs, gh = self._gstats[key0][1], self._row_ghist[1]
                out["grad_l2"] = gs.l2
                out["grad_hist"] = gh.counts.astype(np.uint32)
                out["grad_hist_range"] = np.array([gh.edges[0], gh.edges[-1]])
            divs = self._divergence(reps, raws, force)
            if divs:
                vals = list(divs.values())
                out["divergence"] = np.array(
                    [
                        max(_num(d["max_abs_diff"], math.inf) for d in vals),
                        max(_num(d["rel_l2"], math.inf) for d in vals),
                        1.0 if all(d["bitwise_equal"] for d in vals) else 0.0,
                    ]
                )
            self._note_history(reps, seq)
            out["at_init"] = int(all(self.at_init(k, r) for k, _, r, _ in reps))
            out["version"] = float(r0.version)
        pts = list(self._history)[-self.history_len :]
        start = self.history_len - len(pts)
        out["history_seq"] = np.full(self.history_len, -1, dtype=np.int64)
        for j, (point_seq, _, v, g) in enumerate(pts):
            out["history"][start + j] = (v[0], g[0])
            out["history_seq"][start + j] = point_seq
        self._row_cache = out
        newest = pts[-1][0] if pts else None
        self._row_history_key = (self.history_len, len(self._history), newest)
        return True, out

    _row_cache = None


def _num(value, none=math.nan) -> float:
    return none if value is None else float(value)
