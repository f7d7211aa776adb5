"""``init_report``: one forward pass with hooks, one backward pass with taps, and the theory."""

from __future__ import annotations

import dataclasses
import inspect
import math
import warnings
from collections.abc import Mapping

import numpy as np

from .. import _backend, summary
from .. import initializer as _init
from .._autograd import backward_from, set_recording, set_training
from ..context import Context, as_context
from ..gluon.block import Block
from ..gluon.parameter import _ctx_key, drawn_by
from ..ndarray.ndarray import NDArray
from . import _passes
from ._activations import identity
from ._findings import Thresholds, build_findings
from ._passes import Recorder, StateGuard, find_layers, rms_of, summarize_tensor, tap
from ._report import InitReport, InitWarning, LayerReport

__all__ = ["init_report"]


# --------------------------------------------------------------------------- checks
def _check_arguments(net, batch, loss_fn, init, bins, seed, thresholds):
    if not isinstance(net, Block):
        raise TypeError(
            f"init_report: net must be a paramlab.gluon.Block; got {type(net).__name__}"
        )
    if not isinstance(batch, (NDArray, np.ndarray)) and not _backend.is_gpu_array(batch):
        raise TypeError(
            f"init_report: batch must be an NDArray or a NumPy array; got {type(batch).__name__}"
        )
    if batch.size == 0 or batch.ndim == 0:
        raise ValueError(
            f"init_report: batch must hold at least one example; got shape {tuple(batch.shape)}"
        )
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(
            f"init_report: loss_fn must be a callable taking the output, or None; got "
            f"{type(loss_fn).__name__}"
        )
    if init is not None and not isinstance(init, (_init.Initializer, str, Mapping)):
        raise TypeError(
            "init_report: init must be an Initializer, a registered name, a mapping from "
            f"parameter names to those, or None; got {type(init).__name__}"
        )
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"init_report: bins must be an integer >= 2; got {bins!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"init_report: seed must be a non-negative integer; got {seed!r}")
    if thresholds is not None and not isinstance(thresholds, Thresholds):
        raise TypeError(
            "init_report: thresholds must be a paramlab.diagnostics.Thresholds; got "
            f"{type(thresholds).__name__}"
        )


def _contexts_of(p):
    if p._replicas:
        return list(p._ctx_list)
    if p._pending is not None:
        return list(p._pending.ctx_list)
    return None


def resolve_context(ctx, batch, named, who="init_report") -> Context:
    """The context the passes run on; ValueError when a parameter does not live there."""
    lists = {name: _contexts_of(p) for name, p in named.items()}
    missing = [name for name, cl in lists.items() if cl is None]
    if missing:
        raise ValueError(
            f"{who}: parameter '{missing[0]}' of the net is not initialized; call "
            "net.initialize(...) first"
        )
    if ctx is not None:
        ctx = as_context(ctx, f"{who}: ctx")
    elif isinstance(batch, NDArray) and all(
        _ctx_key(batch.context) in {_ctx_key(c) for c in cl} for cl in lists.values()
    ):
        ctx = batch.context
    elif lists:
        ctx = next(iter(lists.values()))[0]
    else:
        ctx = batch.context if isinstance(batch, NDArray) else Context("cpu", 0)
    for name, cl in lists.items():
        if _ctx_key(ctx) not in {_ctx_key(c) for c in cl}:
            raise ValueError(
                f"{who}: parameter '{name}' lives on {cl}, not on {ctx}; pass ctx= one of its "
                "contexts"
            )
    return ctx


def input_array(batch, ctx) -> NDArray:
    """The batch as an NDArray on ``ctx`` (the caller's object is never modified)."""
    if isinstance(batch, NDArray):
        raw = batch._data if batch.context == ctx else batch.as_in_context(ctx)._data
        return type(batch)._wrap(raw, ctx)
    return NDArray._wrap(_backend.to_context(batch, ctx), ctx)


# --------------------------------------------------------------------------- theory
def _initializer_for(init, spec, structural):
    """The initializer that drew ``spec.weight`` as far as we know (None: unknown)."""
    candidate = None
    if isinstance(init, Mapping):
        for key in (structural, spec.weight.name, spec.path):
            if key in init:
                candidate = init[key]
                break
    elif init is not None:
        candidate = init
    if candidate is None:
        candidate = spec.weight.init
    if candidate is None:
        return drawn_by(spec.weight, current=True)  # what drew the current values, if known
    if not isinstance(candidate, _init.Initializer):
        try:
            candidate = _init.create(candidate)
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(
                f"init_report: cannot make an initializer for '{structural}' from {candidate!r}: "
                f"{err}"
            ) from None
    return candidate


def compact_label(initializer) -> str:
    """``Class(arguments that differ from the defaults)``, e.g. ``Xavier()``."""
    cls = type(initializer)
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return cls.__name__
    parts = []
    for key, value in dict(initializer._kwargs).items():
        param = signature.parameters.get(key)
        if param is not None and param.default is not inspect.Parameter.empty:
            try:
                if param.default == value:
                    continue
            except (TypeError, ValueError):
                pass
        text = format(value, ".3g") if isinstance(value, float) else repr(value)
        parts.append(f"{key}={text}")
    return f"{cls.__name__}({', '.join(parts)})"


def _stated_mean_square(initializer, shape, dtype) -> float | None:
    try:
        theory = initializer.theory(shape, dtype)
    except (TypeError, ValueError, NotImplementedError):
        return None
    if theory.std is None or theory.mean is None:
        return None
    return float(theory.std) ** 2 + float(theory.mean) ** 2


def _chain_law(chain):
    """What runs after a layer's linear map: ``(law, mean-square factor, modelled, note)``.

    ``law`` is the activation (identity when there is none; None for several in a
    row) and is used for the dead-unit and saturation measures even where the chain
    also holds a block whose effect is not modelled (``modelled`` False: no prediction).
    """
    acts, factor, unknown = [], 1.0, []
    for kind, value in chain:
        if kind == "act":
            acts.append(value)
        elif kind == "scale":
            factor *= value
        elif kind == "unknown":
            unknown.append(value)
    if len(acts) > 1:
        return None, factor, False, "not modelled: several activations in a row"
    law = acts[0] if acts else identity()
    if unknown:
        return law, factor, False, f"not modelled: {', '.join(unknown)} after the layer"
    return law, factor, True, ""


def _fans(shape):
    receptive = math.prod(shape[2:])
    return int(shape[1] * receptive), int(shape[0] * receptive)


# --------------------------------------------------------------------------- replicas
def replica_divergences(named):
    """``[(name, ctx0, ctx, Divergence)]`` for replicas that differ from the first one."""
    found = []
    for name, p in named.items():
        if len(p._ctx_list) < 2:
            continue
        reps = [p._replicas[_ctx_key(c)] for c in p._ctx_list]
        if any(r.stype != "default" for r in reps):
            continue
        ref = reps[0]
        for r in reps[1:]:
            other = r._data
            if _backend.is_gpu_array(ref._data) or _backend.is_gpu_array(other):
                other = _backend.to_context(other, ref.context)
            try:
                d = summary.divergence(ref._data, other)
            except ValueError:
                d = summary.Divergence(math.inf, math.inf, False, int(ref.size))
            if not d.bitwise_equal:
                found.append((name, ref.context, r.context, d))
    return found


# --------------------------------------------------------------------------- passes
def _head_seeds(heads, loss_fn, seed, ctx):
    if loss_fn is not None:
        return [_backend.xp_of(h._data).ones_like(h._data) for h in heads]
    rng = np.random.default_rng(seed)
    seeds = []
    for h in heads:
        dtype = h._data.dtype if h._data.dtype.kind == "f" else np.float32
        host = rng.standard_normal(h.shape, dtype=np.float32).astype(dtype, copy=False)
        seeds.append(_backend.to_context(host, ctx))
    return seeds


def _heads(out, loss_fn):
    if loss_fn is not None:
        loss = loss_fn(out)
        if not isinstance(loss, NDArray):
            raise TypeError(
                f"init_report: loss_fn must return an NDArray; got {type(loss).__name__}"
            )
        return [loss]
    outs = (
        [out]
        if isinstance(out, NDArray)
        else [o for o in (out if isinstance(out, (tuple, list)) else ()) if isinstance(o, NDArray)]
    )
    if not outs:
        raise TypeError(
            f"init_report: the net returned {type(out).__name__}, not an NDArray; pass loss_fn"
        )
    return outs


class _GradSinks:
    """The gradients handed over by the taps, keyed by the tapped array, summarized later.

    They are summarized after the backward pass rather than inside it: between two
    BLAS calls the BLAS worker threads spin, and summaries run then would compete
    with them for the cores.
    """

    def __init__(self, bins):
        self.bins = bins
        self._raw = {}

    def sink(self, key, with_hist):
        def receive(gy):
            self._raw[key] = (gy, with_hist)

        return receive

    def summaries(self) -> dict:
        """``{key: (Stats, Histogram or None)}`` of every gradient received."""
        out = {}
        for key, (gy, with_hist) in self._raw.items():
            out[key] = summarize_tensor(gy, self.bins) if with_hist else (summary.stats(gy), None)
        self._raw = {}
        return out


def _run_passes(net, x, loss_fn, specs, leaves, train_mode, seed, ctx, bins):
    """Forward with hooks, taps, backward; returns (calls, grads, head seeds, variable grads)."""
    sinks = _GradSinks(bins)
    with np.errstate(all="ignore"):  # NaN/Inf become findings, not NumPy warnings
        return _forward_backward(net, x, loss_fn, specs, leaves, train_mode, seed, ctx, sinks)


def _forward_backward(net, x, loss_fn, specs, leaves, train_mode, seed, ctx, sinks):
    prev_r, prev_t = set_recording(True), set_training(train_mode)
    try:
        with Recorder(specs, leaves, train_mode) as rec:
            out = net(x)
        heads = _heads(out, loss_fn)
        outputs = {id(c.output) for c in rec.calls if c.output is not None}
        tapped = set()
        for call in rec.calls:
            for arr in (call.input, call.output):
                if arr is None or id(arr) in tapped:
                    continue
                tapped.add(id(arr))
                tap(arr, sinks.sink(id(arr), id(arr) in outputs))
    finally:
        set_recording(prev_r)
        set_training(prev_t)
    seeds = _head_seeds(heads, loss_fn, seed, ctx)
    variables, seen = [], set()
    if x._grad_req != "null":
        variables.append(x)
    for call in rec.calls:
        replica = call.spec.weight.data(ctx)
        if replica._grad_req != "null" and id(replica) not in seen:
            seen.add(id(replica))
            variables.append(replica)
    prev_r, prev_t = set_recording(False), set_training(train_mode)
    try:
        raws = backward_from(heads, seeds, retain_graph=False, variables=variables)
    finally:
        set_recording(prev_r)
        set_training(prev_t)
    var_grads = {id(v): g for v, g in zip(variables, raws)}
    return rec.calls, sinks.summaries(), seeds, var_grads


# --------------------------------------------------------------------------- the report
def init_report(
    net,
    batch,
    loss_fn=None,
    ctx=None,
    *,
    init=None,
    train_mode=True,
    seed=0,
    bins=64,
    thresholds=None,
    warn=True,
) -> InitReport:
    """Per-layer activation and gradient statistics at initialization, against theory.

    One forward pass records every layer's input and output (hooks); one backward
    pass records the gradient reaching each of them (taps) and each weight's
    gradient, without writing any gradient buffer. The net is left exactly as it
    was: gradient buffers, ``grad_req``, parameter values and version counters,
    and the running statistics a training-mode pass updates (BatchNorm) are put
    back. A net whose initialization was deferred is initialized by the forward
    pass, as its first forward would.

    A *layer* is a block with a weight of two or more dimensions (Dense, Conv...),
    followed by its activation: Dense's own ``activation``, or the parameter-free
    blocks (Activation, LeakyReLU, Dropout, Flatten, ...) that run after it and
    before the next layer.

    Without ``loss_fn``, a **unit Gaussian head gradient** (a fixed draw from
    ``numpy.random.default_rng(seed)``, paramlab's random streams untouched) is
    back-propagated from the output, so that the backward gains do not depend on the
    output's scale. With ``loss_fn``, ``loss_fn(output)`` is back-propagated with a
    head gradient of ones (bind labels with a lambda: ``lambda out: L(out, y)``).

    Theory (mean-field): for a layer with fan-in ``n``, fan-out ``m``, weight mean
    square ``E[W²]`` (``std² + mean²`` of its initializer's :meth:`theory`, or of the
    weights when the initializer is unknown) and input mean square ``q``, the
    pre-activation is ``z ~ N(0, v)`` with ``v = n E[W²] q + E[b²]``; the predicted
    activation ratio is ``sqrt(E[f(z)²] / q)`` and the predicted gradient ratio
    ``sqrt(m E[W²] E[f'(z)²])``. For ReLU ``E[f(z)²] = v/2`` and ``E[f'(z)²] = 1/2``,
    so Xavier() on square layers predicts ``1/sqrt(2)`` and He (fan-in) init 1; for
    tanh with U[-1/sqrt(n), 1/sqrt(n)] the small-signal prediction is ``1/sqrt(3)``.

    Parameters
    ----------
    net : Block
        An initialized network.
    batch : NDArray or numpy.ndarray
        One batch of inputs.
    loss_fn : callable, optional
        ``loss_fn(output) -> NDArray``; see above.
    ctx : Context, optional
        Where the passes run (default: the batch's context when every parameter lives
        there, else the first parameter's first context).
    init : Initializer, str or mapping, optional
        The initializer the weights were drawn with, when the parameters do not
        record it themselves (``net.initialize(init)`` leaves ``Parameter.init``
        unset); a mapping goes from structural or parameter names to initializers.
    train_mode : bool, default True
        Run the forward pass in training mode (BatchNorm batch statistics, Dropout).
    seed : int, default 0
        Seed of the unit Gaussian head gradient.
    bins : int, default 64
        Bins of the activation and gradient histograms.
    thresholds : Thresholds, optional
        When measurements become findings.
    warn : bool, default True
        Issue every warning finding as an :class:`InitWarning`.

    Returns
    -------
    InitReport

    Examples
    --------
    >>> import warnings
    >>> import paramlab as mx
    >>> from paramlab.diagnostics import init_report
    >>> net = mx.gluon.nn.Sequential()
    >>> for _ in range(3):
    ...     net.add(mx.gluon.nn.Dense(64, activation='relu', in_units=64))
    >>> net.initialize(mx.init.MSRAPrelu(factor_type='in', slope=0))
    >>> x = mx.nd.random.normal(shape=(256, 64))
    >>> report = init_report(net, x, init=mx.init.MSRAPrelu(factor_type='in', slope=0))
    >>> [round(float(r), 3) for r in report.predicted('act')]
    [1.0, 1.0, 1.0]
    >>> report.warnings
    ()
    """
    _check_arguments(net, batch, loss_fn, init, bins, seed, thresholds)
    t = thresholds if thresholds is not None else Thresholds()
    specs, leaves = find_layers(net)
    if not specs:
        raise ValueError(
            f"init_report: {type(net).__name__} has no layer with a weight of two or more "
            "dimensions (Dense, Conv...); nothing to report"
        )
    named = net._collect_params_with_prefix()
    ctx = resolve_context(ctx, batch, named)
    divergences = replica_divergences(named)
    x = input_array(batch, ctx)
    if x._data.dtype.kind == "f":
        x.attach_grad()
    guard = StateGuard([p for p in named.values() if p._replicas])
    try:
        calls, grads, seeds, var_grads = _run_passes(
            net, x, loss_fn, specs, leaves, train_mode, seed, ctx, bins
        )
    finally:
        lost = guard.restore()
    structural = {id(p): name for name, p in named.items()}
    builder = _Builder(ctx, t, bins, init, structural)
    layers, mismatches = builder.layers(calls, x, grads, var_grads)
    input_stats = builder.stats_of(x._data)
    input_grad = var_grads.get(id(x))
    input_grad = builder.stats_of(input_grad) if input_grad is not None else None
    head_grad = summary.stats(seeds[0])
    findings = build_findings(
        input_stats, layers, input_grad, head_grad, divergences, mismatches, lost, t
    )
    head = (
        "loss_fn(output), head gradient 1"
        if loss_fn is not None
        else f"unit Gaussian head gradient (seed {seed})"
    )
    report = InitReport(
        net=type(net).__name__,
        context=str(ctx),
        batch_shape=tuple(batch.shape),
        train_mode=bool(train_mode),
        head=head,
        input=input_stats,
        input_grad=input_grad,
        head_grad=head_grad,
        layers=tuple(layers),
        findings=findings,
        bins=int(bins),
    )
    if warn:
        for finding in report.warnings:
            warnings.warn(finding.message, InitWarning, stacklevel=2)
    return report


@dataclasses.dataclass(frozen=True)
class _WeightFacts:
    """What the report knows about one weight."""

    stats: summary.Stats
    symmetric: bool
    bias_ms: float
    ms: float  # E[W²] used by the predictions
    source: str  # 'theory' or 'measured'
    text: str
    short: str
    label: str
    mismatch: tuple | None  # (measured, stated, stated by) when they disagree


@dataclasses.dataclass(frozen=True)
class _Prediction:
    """A layer's mean-field predictions (all None/NaN when not modelled)."""

    act: float | None = None
    grad: float | None = None
    var_theory: float | None = None  # pre-activation variance on the theoretical line
    gain: float | None = None
    backward_gain: float | None = None


class _Builder:
    """Turns the passes' raw measurements into :class:`LayerReport` records."""

    def __init__(self, ctx, thresholds, bins, init, structural):
        self.ctx, self.t, self.bins, self.init = ctx, thresholds, bins, init
        self.structural = structural
        self._stats = {}
        self._weights = {}
        self._theory_ms = {}  # id(array) -> mean square on the theoretical line

    def stats_of(self, raw):
        key = id(raw)
        if key not in self._stats:
            self._stats[key] = summary.stats(raw)
        return self._stats[key]

    def _weight_facts(self, spec) -> _WeightFacts:
        key = id(spec.weight)
        if key in self._weights:
            return self._weights[key]
        w = spec.weight.data(self.ctx)._data
        w_stats = summary.stats(w)
        symmetric = _passes.identical_rows(w)
        bias_ms = 0.0
        if spec.bias is not None:
            b = spec.bias.data(self.ctx)._data
            bias_ms = rms_of(summary.stats(b)) ** 2
            if symmetric and b.size > 1:
                symmetric = bool(_backend.xp_of(b).all(b == b.reshape(-1)[:1]))
        measured = rms_of(w_stats) ** 2
        initializer = _initializer_for(self.init, spec, self.structural.get(key, spec.weight.name))
        stated = None
        if initializer is not None:
            stated = _stated_mean_square(initializer, w.shape, w.dtype)
        facts = _WeightFacts(
            w_stats,
            symmetric,
            bias_ms,
            measured,
            "measured",
            "measured weights",
            "measured",
            "measured",
            None,
        )
        if stated is not None:
            label = compact_label(initializer)
            tolerance = max(self.t.weights_vs_theory, 5.0 * math.sqrt(2.0 / max(w.size, 1)))
            if _differs(measured, stated, tolerance):
                facts = dataclasses.replace(
                    facts,
                    text=f"measured weights (not {initializer!r})",
                    mismatch=(measured, stated, label),
                )
            else:
                facts = dataclasses.replace(
                    facts,
                    ms=stated,
                    source="theory",
                    text=repr(initializer),
                    short=type(initializer).__name__,
                    label=label,
                )
        self._weights[key] = facts
        return facts

    def _activation(self, raw, law):
        bounded = law.bounded if law is not None else None
        act, hist = summarize_tensor(raw, self.bins, bounded)
        size = max(int(raw.size), 1)
        near = _passes.count_near_zero(raw, self.t.near_zero) / size
        saturated = None
        if bounded is not None:
            saturated = _passes.count_saturated(raw, bounded, self.t.saturation) / size
        dead = None
        if law is not None and law.can_die:
            counted = _passes.count_dead_units(raw)
            if counted is not None and counted[1]:
                dead = counted[0] / counted[1]
        self._stats[id(raw)] = act
        return act, hist, near, saturated, dead

    def _predict(self, law, factor, facts, fan_in, fan_out, inp, out, q) -> _Prediction:
        """Mean-field predictions from the measured input; extends the theoretical line."""
        v = fan_in * facts.ms * q + facts.bias_ms
        q_theory = self._theory_ms.get(id(inp), q)
        var_theory = fan_in * facts.ms * q_theory + facts.bias_ms
        self._theory_ms[id(out)] = law.forward_ms(var_theory) * factor
        gain, backward_gain = law.small_signal_gain(), law.small_signal_backward_gain()
        return _Prediction(
            act=math.sqrt(law.forward_ms(v) * factor / q),
            grad=math.sqrt(fan_out * facts.ms * law.backward_ms(v) * factor),
            var_theory=var_theory,
            gain=gain * factor if gain is not None else None,
            backward_gain=backward_gain * factor if backward_gain is not None else None,
        )

    def layers(self, calls, x, grads, var_grads):
        """LayerReports in call order, and the weights that contradict their initializer."""
        rows, chained, mismatches, reported = [], [], [], set()
        prev_wg = math.nan
        for index, call in enumerate(calls, start=1):
            spec = call.spec
            facts = self._weight_facts(spec)
            fan_in, fan_out = _fans(spec.weight.data(self.ctx).shape)
            law, factor, modelled, note = _chain_law(call.chain)
            out = call.output
            inp = call.input if call.input is not None else x
            act, hist, near, saturated, dead = self._activation(out._data, law)
            in_stats = self.stats_of(inp._data)
            q = rms_of(in_stats) ** 2
            predicted = _Prediction()
            if inp._data.dtype.kind != "f":
                note = note or "not modelled: the layer's input is not floating point"
            elif modelled and q > 0 and math.isfinite(q):
                predicted = self._predict(law, factor, facts, fan_in, fan_out, inp, out, q)
            chained.append((predicted.var_theory, law, factor, facts.ms, fan_out))
            grad_out, grad_hist = grads.get(id(out), (None, None))
            grad_in = grads.get(id(inp), (None, None))[0]
            if grad_in is None and inp is x and var_grads.get(id(x)) is not None:
                grad_in = self.stats_of(var_grads[id(x)])
            wg_raw = var_grads.get(id(spec.weight.data(self.ctx)))
            wg = summary.stats(wg_raw) if wg_raw is not None else None
            if facts.mismatch is not None and id(spec.weight) not in reported:
                reported.add(id(spec.weight))
                mismatches.append((index, *facts.mismatch))
            theory_ms = self._theory_ms.get(id(out)) if predicted.act is not None else None
            rows.append({
                "index": index, "name": spec.path, "block": type(spec.block).__name__,
                "activation": law.name if law is not None else "?",
                "fan_in": fan_in, "fan_out": fan_out, "init": facts.text,
                "init_short": facts.short, "init_label": facts.label, "weight_ms": facts.ms,
                "weight_ms_source": facts.source, "weight": facts.stats, "weight_grad": wg,
                "symmetric": facts.symmetric, "input": in_stats, "act": act, "act_hist": hist,
                "grad": grad_out, "grad_hist": grad_hist, "input_grad": grad_in,
                "near_zero": near, "saturated": saturated, "dead": dead,
                "act_ratio": _ratio(rms_of(act), rms_of(in_stats)),
                "grad_ratio": _ratio(_rms_or_nan(grad_in), _rms_or_nan(grad_out)),
                "weight_grad_ratio": _ratio(_rms_or_nan(wg), prev_wg),
                "predicted_act_ratio": predicted.act, "predicted_grad_ratio": predicted.grad,
                "act_rms_theory": math.sqrt(theory_ms) if theory_ms is not None else math.nan,
                "grad_rms_theory": math.nan, "gain": predicted.gain,
                "backward_gain": predicted.backward_gain, "note": note,
            })  # fmt: skip
            prev_wg = _rms_or_nan(wg)
        _chain_gradients(rows, chained)
        records = [LayerReport(**row) for row in rows]
        return records, [(records[i - 1], *rest) for i, *rest in mismatches]


def _chain_gradients(rows, chained):
    """The theoretical gradient line: from the measured head gradient down, layer by layer.

    Where a layer is not modelled the line restarts from the measured value below it.
    """
    d = None
    for row, (var_th, law, factor, wms, fan_out) in zip(reversed(rows), reversed(chained)):
        if d is None:
            d = _rms_or_nan(row["grad"]) ** 2
        row["grad_rms_theory"] = math.sqrt(d) if math.isfinite(d) else math.nan
        if var_th is None or law is None or not math.isfinite(d):
            d = None
            continue
        d = d * fan_out * wms * law.backward_ms(var_th) * factor


def _differs(measured, stated, tolerance) -> bool:
    if not math.isfinite(measured):
        return False
    if stated <= 0:
        return measured > 0
    return abs(measured / stated - 1.0) > tolerance


def _rms_or_nan(s) -> float:
    return rms_of(s) if s is not None else math.nan


def _ratio(a, b) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return math.nan
    return a / b
