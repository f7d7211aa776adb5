"""The mechanics of the report's passes: which blocks are layers, hooks, gradient taps, state.

* :func:`find_layers` walks a block: a *layer* is a block with a ``weight`` of at
  least two dimensions (Dense, Conv...), whose ``act`` child (Dense's fused
  activation), if any, is its activation; every other childless block is a *leaf*
  (Activation, Dropout, BatchNorm, Flatten...).
* :class:`Recorder` hooks them. A layer's forward pre-hook opens a *call*; the
  leaves that run after the layer and before the next one are chained onto it, and
  the last output of the chain is the call's activation (what feeds the next layer).
* :func:`tap` re-links an array that was produced while recording through an
  identity operation whose backward hands the array's total gradient to a callback.
  Consumers hold the array object and the engine reads its ``_node`` when it walks
  back, so a tap inserted after the forward pass still sees every consumer.
* :class:`StateGuard` remembers the version counter of every replica and gradient
  buffer, and a copy of the non-trainable replicas (BatchNorm running statistics),
  and puts back what a pass wrote.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import _backend, summary
from .._autograd.engine import Function, apply
from ..gluon.block import Block
from ..gluon.parameter import Parameter
from ..ndarray.ndarray import NDArray
from ._activations import law_for_block

__all__ = ["LayerSpec", "Call", "find_layers", "Recorder", "tap", "StateGuard", "summarize_tensor"]

HIST_SAMPLE = 1 << 13
"""Histograms of activations and gradients look at no more than this many elements."""

STANDARD_HALF_WIDTH = 4.0
"""Unbounded tensors are histogrammed on ``[-4, 4]`` times their RMS."""


@dataclasses.dataclass(frozen=True, eq=False)
class LayerSpec:
    """A block with a weight, found by :func:`find_layers`."""

    path: str
    block: Block
    weight: Parameter
    bias: Parameter | None
    act: Block | None


@dataclasses.dataclass(eq=False)
class Call:
    """One run of a layer during the forward pass, with the leaves chained after it."""

    spec: LayerSpec
    input: NDArray | None = None
    output: NDArray | None = None
    chain: list = dataclasses.field(default_factory=list)
    finished: bool = False


def _first_array(value):
    if isinstance(value, NDArray):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            if isinstance(v, NDArray):
                return v
    return None


def _is_layer(block) -> Parameter | None:
    weight = block._reg_params.get("weight")
    if isinstance(weight, Parameter) and weight.shape is not None and len(weight.shape) >= 2:
        return weight
    return None


def find_layers(net: Block) -> tuple[list[LayerSpec], list[tuple[str, Block]]]:
    """The layers and the leaves of ``net``, in registration order, with structural paths."""
    layers: list[LayerSpec] = []
    leaves: list[tuple[str, Block]] = []

    def walk(block, path):
        weight = _is_layer(block)
        if weight is not None:
            bias = block._reg_params.get("bias")
            act = block._children.get("act")
            layers.append(
                LayerSpec(
                    path or block.name,
                    block,
                    weight,
                    bias if isinstance(bias, Parameter) else None,
                    act if isinstance(act, Block) else None,
                )
            )
            return
        if not block._children:
            leaves.append((path or block.name, block))
            return
        for name, child in block._children.items():
            walk(child, f"{path}.{name}" if path else name)

    walk(net, "")
    return layers, leaves


class Recorder:
    """Forward hooks that group what runs into layer calls (see the module docstring)."""

    def __init__(self, layers, leaves, training: bool):
        self.layers, self.leaves, self.training = layers, leaves, training
        self.calls: list[Call] = []
        self._handles = []

    def __enter__(self):
        for spec in self.layers:
            self._handles.append(spec.block.register_forward_pre_hook(self._starter(spec)))
            self._handles.append(spec.block.register_forward_hook(self._finisher(spec)))
        for _, block in self.leaves:
            self._handles.append(block.register_forward_hook(self._on_leaf))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.detach()
        self._handles = []
        return False

    def _starter(self, spec):
        def start(block, args):
            self.calls.append(Call(spec, input=_first_array(args)))

        return start

    def _finisher(self, spec):
        def finish(block, args, out):
            for call in reversed(self.calls):
                if call.spec is spec and not call.finished:
                    call.output = _first_array(out)
                    call.finished = True
                    if spec.act is not None:
                        call.chain.append(law_for_block(spec.act, self.training))
                    return

        return finish

    def _on_leaf(self, block, args, out):
        if not self.calls:
            return
        call = self.calls[-1]
        array = _first_array(out)
        if call.finished and array is not None:
            call.chain.append(law_for_block(block, self.training))
            call.output = array


# --------------------------------------------------------------------------- taps
class _Tap(Function):
    """Identity whose backward hands the incoming gradient to ``sink`` first."""

    def __init__(self, sink):
        self.sink = sink

    def forward(self, x):
        return x

    def backward(self, gy):
        self.sink(gy)
        return (gy,)


def tap(array: NDArray, sink) -> bool:
    """Route ``array``'s gradient through ``sink(raw_gradient)``; False if it has none.

    Must be called while recording. The array keeps its data; only its link to the
    operation that produced it goes through the tap.
    """
    if array._node is None:
        return False
    shadow = type(array)._wrap(array._data, array._ctx, array._node, array._out_index)
    tapped = apply(_Tap(sink), shadow)
    array._node, array._out_index = tapped._node, 0
    return True


# --------------------------------------------------------------------------- state
class StateGuard:
    """Version counters of every replica and gradient buffer; copies of non-trainable replicas."""

    def __init__(self, params):
        self._entries = []  # (param, array, version, saved copy or None)
        self._grad_reqs = [(p, p.grad_req) for p in params]
        for p in params:
            keep = p.grad_req == "null" or not p.differentiable
            for r in p._replicas.values():
                if r.stype != "default":
                    continue
                saved = None
                if keep:
                    with _backend.device_scope(r.context):
                        saved = r._data.copy()
                self._entries.append((p, r, r._version, saved))
            for g in p._grads.values():
                self._entries.append((p, g, g._version, None))

    def restore(self) -> list[str]:
        """Put back what changed; the names of parameters that changed but had no copy."""
        lost = []
        for p, array, version, saved in self._entries:
            if array._version == version:
                continue
            if saved is None:
                lost.append(p.name)
                continue
            with _backend.device_scope(array.context):
                array._data[...] = saved
            array._version = version
        for p, req in self._grad_reqs:
            if p.grad_req != req:
                p.grad_req = req
        return sorted(set(lost))


# --------------------------------------------------------------------------- summaries
def rms_of(s: summary.Stats) -> float:
    """Root mean square of the finite values (NaN when there is none)."""
    return s.l2 / math.sqrt(s.finite) if s.finite else math.nan


def standard_edges(rms: float, bins: int) -> np.ndarray:
    """``bins + 1`` edges on ``[-4 rms, 4 rms]`` (``[-1, 1]`` when rms is 0 or not finite)."""
    if math.isfinite(rms) and rms > 0 and math.isfinite(STANDARD_HALF_WIDTH * rms):
        half = STANDARD_HALF_WIDTH * rms
        return summary.fixed_edges(-half, half, bins)
    return summary.fixed_edges(-1.0, 1.0, bins)


def histogram_sample(raw):
    """At most :data:`HIST_SAMPLE` elements of a batch-first tensor, for its histogram.

    Evenly spaced whole examples (rows along axis 0) when one example is small
    enough -- examples of a batch are exchangeable, so this is a fair sample and
    costs a view -- else :func:`paramlab.summary.sample`.
    """
    if raw.size <= HIST_SAMPLE:
        return raw
    per_example = raw.size // raw.shape[0]
    if raw.ndim >= 2 and 0 < per_example <= HIST_SAMPLE:
        rows = HIST_SAMPLE // per_example
        return raw[:: -(-raw.shape[0] // rows)]
    return summary.sample(raw, HIST_SAMPLE)


def summarize_tensor(raw, bins: int, bounded=None):
    """Exact statistics, and a histogram of :func:`histogram_sample`: ``(Stats, Histogram)``.

    The edges are the activation's range for a bounded activation, else
    :func:`standard_edges` of the tensor's RMS.
    """
    s = summary.stats(raw)
    if bounded is not None:
        edges = summary.fixed_edges(bounded[0], bounded[1], bins)
    else:
        edges = standard_edges(rms_of(s), bins)
    h = summary.histogram(histogram_sample(raw), edges)
    return s, h


def count_near_zero(raw, threshold: float) -> int:
    """Elements with ``|v| < threshold``."""
    xp = _backend.xp_of(raw)
    return int(xp.count_nonzero(xp.abs(raw) < threshold))


def count_saturated(raw, bounded, level: float) -> int:
    """Elements within ``(1 - level)`` half-ranges of either end of ``bounded``."""
    xp = _backend.xp_of(raw)
    mid, half = (bounded[0] + bounded[1]) / 2.0, (bounded[1] - bounded[0]) / 2.0
    return int(xp.count_nonzero(xp.abs(raw - mid) >= level * half))


def count_dead_units(raw) -> tuple[int, int] | None:
    """``(dead, units)``: units (axis 1) that are never positive in the batch."""
    if raw.ndim < 2:
        return None
    xp = _backend.xp_of(raw)
    axes = tuple(a for a in range(raw.ndim) if a != 1)
    alive = xp.any(raw > 0, axis=axes)
    units = int(raw.shape[1])
    return units - int(xp.count_nonzero(alive)), units


def identical_rows(raw) -> bool:
    """Whether every row of the ``(shape[0], -1)`` view equals the first (more than one row)."""
    if raw.ndim < 2 or raw.shape[0] < 2:
        return False
    xp = _backend.xp_of(raw)
    view = raw.reshape(raw.shape[0], -1)
    return bool(xp.all(view == view[:1]))
