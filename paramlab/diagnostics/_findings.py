"""The sentences of the report: thresholds, and one builder per classic failure."""

from __future__ import annotations

import dataclasses
import math
import numbers

from ._report import Finding

__all__ = ["Thresholds", "build_findings"]


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When a measurement becomes a finding.

    Attributes
    ----------
    near_zero : float, default 0.01
        An output with ``|v| <`` this counts as near zero.
    saturation : float, default 0.97
        An output of a bounded activation at least this fraction of the half-range
        away from its centre counts as saturated (``|tanh| >= 0.97``, sigmoid
        ``<= 0.015`` or ``>= 0.985``).
    saturated_fraction : float, default 0.2
        A layer with at least this fraction of saturated outputs is reported.
    dead_fraction : float, default 0.5
        A ReLU layer with at least this fraction of dead units is reported.
    depth_change : float, default 10.0
        Activations (gradients) whose RMS changes by more than this factor across
        the layers (the product of the per-layer ratios from layer 2 on; for
        gradients, going down from the layer below the top) vanish or explode.
    consistent : float, default 0.1
        A measured ratio within this relative distance of the prediction is
        "consistent with" the theory.
    weights_vs_theory : float, default 0.2
        Relative distance between the measured mean square of a weight and its
        initializer's statement beyond which the measured value is used for the
        predictions (and a finding says so); never less than five standard
        errors of the mean square, ``5 sqrt(2 / size)``.
    """

    near_zero: float = 0.01
    saturation: float = 0.97
    saturated_fraction: float = 0.2
    dead_fraction: float = 0.5
    depth_change: float = 10.0
    consistent: float = 0.1
    weights_vs_theory: float = 0.2

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not (math.isfinite(value) and value > 0)
            ):
                raise ValueError(
                    f"Thresholds: {field.name} must be a positive finite number; got {value!r}"
                )
        if not self.saturation < 1.0:
            raise ValueError(f"Thresholds: saturation must be below 1; got {self.saturation!r}")
        if not self.depth_change > 1.0:
            raise ValueError(f"Thresholds: depth_change must be above 1; got {self.depth_change!r}")


def _label(layer) -> str:
    return f"layer {layer.index} ({layer.name})"


def _labels(layers, limit=4) -> str:
    names = [_label(layer) for layer in layers[:limit]]
    if len(layers) > limit:
        names.append(f"and {len(layers) - limit} more")
    return ", ".join(names)


def _geomean(values) -> float | None:
    values = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _act_name(name: str) -> str:
    if name == "relu":
        return "ReLU"
    if name.startswith("leaky("):
        return f"leaky ReLU (slope {name[6:-1]})"
    return name


def _magnitude_text(magnitude: float, factor: str) -> str:
    if abs(magnitude - 2.0) < 1e-6:
        if factor == "in":
            return "He (fan-in) init, MSRAPrelu(factor_type='in', slope=0)"
        return "He (fan-out) init, Xavier('gaussian', 'out', 2)"
    law = f"Var(W) = {magnitude:.3g}/fan_{factor}"
    return f"Xavier('gaussian', '{factor}', {magnitude:.3g}) ({law})"


# --------------------------------------------------------------------------- builders
def _nonfinite(report_input, layers, input_grad, head_grad):
    found = []

    def look(label, s, index=None):
        if s is not None and (s.nan or s.posinf or s.neginf):
            found.append((label, s, index))

    look("the input batch", report_input)
    for layer in layers:
        look(f"{_label(layer)} weights", layer.weight, layer.index)
        look(f"{_label(layer)} activations", layer.act, layer.index)
    for layer in reversed(layers):
        look(f"{_label(layer)} gradients", layer.grad, layer.index)
        look(f"{_label(layer)} weight gradients", layer.weight_grad, layer.index)
    look("the head gradient", head_grad)
    look("the input gradient", input_grad)
    if not found:
        return []
    label, s, _ = found[0]
    others = [f[0] for f in found[1:6]]
    more = f"; also in {', '.join(others)}" if others else ""
    if len(found) > 6:
        more += f" and {len(found) - 6} more"
    message = (
        f"NaN/Inf: first in {label} ({s.nan} NaN, {s.posinf} +inf, {s.neginf} -inf of "
        f"{s.count}){more}; check the initial weights' scale and the input data"
    )
    indices = tuple(sorted({f[2] for f in found if f[2] is not None}))
    return [Finding("nonfinite", "warning", message, indices)]


def _symmetry(layers):
    bad = [layer for layer in layers if layer.symmetric]
    if not bad:
        return []
    parts = []
    for layer in bad[:4]:
        w = layer.weight
        if w.std == 0.0 and w.mean is not None:
            parts.append(f"{_label(layer)} (every weight = {w.mean:g})")
        else:
            parts.append(f"{_label(layer)} (identical rows)")
    if len(bad) > 4:
        parts.append(f"and {len(bad) - 4} more")
    message = (
        f"symmetry not broken in {', '.join(parts)}: every unit has the same incoming weights and "
        "bias, so all units compute the same output and get the same gradient; draw the weights "
        "at random (e.g. Xavier())"
    )
    return [Finding("symmetry", "warning", message, tuple(layer.index for layer in bad))]


def _dead(layers, t: Thresholds):
    bad = [layer for layer in layers if layer.dead is not None and layer.dead >= t.dead_fraction]
    if not bad:
        return []
    parts = [f"{_label(layer)}: {100 * layer.dead:.0f}% of units" for layer in bad[:4]]
    if len(bad) > 4:
        parts.append(f"and {len(bad) - 4} more layers")
    message = (
        f"dead ReLU layers ({'; '.join(parts)} output 0 for every example of the batch): a dead "
        "unit gets no gradient and never recovers; check the bias initialization (negative "
        "biases), the weights' scale and the input data"
    )
    return [Finding("dead_relu", "warning", message, tuple(layer.index for layer in bad))]


def _saturated(layers, t: Thresholds):
    bad = [
        layer
        for layer in layers
        if layer.saturated is not None and layer.saturated >= t.saturated_fraction
    ]
    if not bad:
        return []
    parts = [
        f"{_label(layer)} {layer.activation}: {100 * layer.saturated:.0f}%" for layer in bad[:4]
    ]
    if len(bad) > 4:
        parts.append(f"and {len(bad) - 4} more layers")
    message = (
        f"saturated units ({'; '.join(parts)} of outputs at the ends of the range, where the "
        "derivative nearly vanishes): the pre-activations are too large; scale the weights "
        "down (Xavier()) or normalize the inputs"
    )
    return [Finding("saturation", "warning", message, tuple(layer.index for layer in bad))]


def _majority(values, share=0.75):
    """The value shared by at least ``share`` of ``values`` (None if there is none)."""
    values = list(values)
    for v in set(values):
        if v is not None and values.count(v) >= share * len(values):
            return v
    return None


def _init_phrase(layers) -> str:
    label = _majority(layer.init_label for layer in layers)
    if label is None:
        return "the layers' initializers"
    if label == "measured":
        ms = _geomean(layer.weight_ms * layer.fan_in for layer in layers if layer.weight_ms)
        return f"the weights' scale (fan_in·E[W²] = {ms:.3g})" if ms else "the weights' scale"
    return label


def _scale_is_off(span, which, t: Thresholds) -> bool:
    """Whether the weights' scale itself (small-signal gain) moves the RMS away from 1.

    A shrinking that comes from the activation's curvature (tanh on large signals)
    is not the initializer's fault; a small-signal gain ``fan E[W²] g`` away from 1 is.
    """
    gains = []
    for layer in span:
        gain = layer.gain if which == "act" else layer.backward_gain
        fan = layer.fan_in if which == "act" else layer.fan_out
        if gain is None or not layer.weight_ms:
            return False
        gains.append(math.sqrt(fan * layer.weight_ms * gain))
    g = _geomean(gains)
    return g is not None and abs(math.log(g)) > math.log1p(t.consistent)


def _trend(layers, t: Thresholds, which: str):
    """The activation (``which='act'``) or gradient trend across depth.

    Activations are followed from layer 2 on (layer 1's input is the data, not an
    activation), gradients going down from the layer below the top (the top layer's
    output gradient is the head gradient).
    """
    deep = len(layers) > 1
    if which == "act":
        span = layers[1:] if deep else layers
        ratios = [layer.act_ratio for layer in span]
        predicted = [layer.predicted_act_ratio for layer in span]
        noun, where = "activations", " from layer 2 on" if deep else ""
        gains = [layer.gain for layer in span]
        factor = "in"
    else:
        span = layers[:-1] if deep else layers
        ratios = [layer.grad_ratio for layer in span]
        predicted = [layer.predicted_grad_ratio for layer in span]
        noun = "back-propagated gradients"
        where = f" going down from layer {len(layers) - 1}" if deep else ""
        gains = [layer.backward_gain for layer in span]
        factor = "out"
    if not all(v is not None and math.isfinite(v) and v > 0 for v in ratios):
        return []
    r = _geomean(ratios)
    total = math.prod(ratios)
    verb = "shrink" if r < 1 else "grow"
    message = (
        f"{noun} {verb} by {r:.2f}x per layer{where} ({total:.2g}x over {len(span)} "
        f"layer{'s' if len(span) != 1 else ''})"
    )
    p = _geomean(predicted) if all(v is not None for v in predicted) else None
    act = _majority(layer.activation for layer in span)
    under = f" under {_act_name(act)}" if act and act != "?" else ""
    if p is not None:
        if abs(math.log(r / p)) <= math.log1p(t.consistent):
            message += f": consistent with {_init_phrase(span)}{under} (theory {p:.2f}x)"
        else:
            message += f": {_init_phrase(span)}{under} predicts {p:.2f}x"
    gain = _majority(round(g, 3) if g else None for g in gains)
    if gain and _scale_is_off(span, which, t):
        message += f"; {_magnitude_text(1.0 / gain, factor)} would keep them near 1.0"
    kind = None
    if deep and total < 1.0 / t.depth_change:
        kind = f"vanishing_{'activations' if which == 'act' else 'gradients'}"
    elif deep and total > t.depth_change:
        kind = f"exploding_{'activations' if which == 'act' else 'gradients'}"
    if kind is not None:
        message += ", or run paramlab.diagnostics.lsuv_init(net, batch)"
        return [Finding(kind, "warning", message, tuple(layer.index for layer in span))]
    if len(span) < 2:
        return []
    info = "activation_trend" if which == "act" else "gradient_trend"
    return [Finding(info, "info", message, ())]


def _replicas(divergences):
    if not divergences:
        return []
    parts = []
    for name, ref_ctx, ctx, d in divergences[:4]:
        parts.append(
            f"'{name}' on {ctx} differs from {ref_ctx} in {d.differing} elements "
            f"(max |diff| {d.max_abs_diff:.3g}, relative L2 {d.rel_l2:.3g})"
        )
    if len(divergences) > 4:
        parts.append(f"and {len(divergences) - 4} more")
    message = (
        f"replicas differ at initialization: {'; '.join(parts)}; replicas of a parameter must "
        "start identical (initialize on all contexts at once, or write them with set_data)"
    )
    return [Finding("replica_divergence", "warning", message, ())]


def build_findings(
    report_input, layers, input_grad, head_grad, divergences, mismatches, lost, t: Thresholds
) -> tuple:
    """Every finding, warnings first."""
    found = []
    found += _nonfinite(report_input, layers, input_grad, head_grad)
    found += _symmetry(layers)
    found += _dead(layers, t)
    found += _saturated(layers, t)
    if layers:
        found += _trend(layers, t, "act")
        found += _trend(layers, t, "grad")
    found += _replicas(divergences)
    if lost:
        found.append(
            Finding(
                "state_not_restored",
                "warning",
                f"the forward pass wrote to the trainable parameters {lost}, which the report "
                "could not put back (a block writes to its own weights in forward)",
            )
        )
    for layer, measured, stated, stated_by in mismatches:
        found.append(
            Finding(
                "weights_vs_theory",
                "info",
                f"{_label(layer)}: the weights' mean square is {measured:.3g} but {stated_by} "
                f"states {stated:.3g}; the predictions use the measured value",
                (layer.index,),
            )
        )
    warnings_first = [f for f in found if f.severity == "warning"]
    return tuple(warnings_first + [f for f in found if f.severity != "warning"])
