"""``mx.autograd``: record operations, then back-propagate into gradient buffers.

>>> import paramlab as mx
>>> x = mx.nd.array([1.0, 2.0, 3.0])
>>> x.attach_grad()
>>> with mx.autograd.record():
...     y = (x * x).sum()
>>> y.backward()
>>> x.grad.asnumpy().tolist()
[2.0, 4.0, 6.0]
"""

from __future__ import annotations

import contextlib

from . import _backend
from ._autograd import backward_from, is_recording, is_training, set_recording, set_training
from ._autograd.engine import Function as _EngineFunction
from ._autograd.engine import apply, common_context
from .base import ContextMismatchError, MXNetError
from .ndarray.ndarray import NDArray

__all__ = [
    "record",
    "pause",
    "train_mode",
    "predict_mode",
    "is_recording",
    "is_training",
    "set_recording",
    "set_training",
    "mark_variables",
    "backward",
    "grad",
    "Function",
]


@contextlib.contextmanager
def _scope(recording, training):
    prev_r = set_recording(recording) if recording is not None else None
    prev_t = set_training(training) if training is not None else None
    try:
        yield
    finally:
        if recording is not None:
            set_recording(prev_r)
        if training is not None:
            set_training(prev_t)


def record(train_mode=True):
    """Record operations for ``backward`` inside the ``with`` block (training mode by default)."""
    return _scope(True, train_mode)


def pause(train_mode=False):
    """Stop recording inside the ``with`` block."""
    return _scope(False, train_mode)


def train_mode():
    """Training-mode behaviour (Dropout, BatchNorm) inside the ``with`` block."""
    return _scope(None, True)


def predict_mode():
    """Inference-mode behaviour inside the ``with`` block."""
    return _scope(None, False)


def mark_variables(variables, gradients, grad_reqs="write"):
    """Make ``variables`` leaves whose gradients go to ``gradients``."""
    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not len(variables) == len(gradients) == len(grad_reqs):
        raise ValueError(
            f"mark_variables: got {len(variables)} variables, {len(gradients)} gradients and "
            f"{len(grad_reqs)} grad_reqs; they must have the same length"
        )
    for v, g, req in zip(variables, gradients, grad_reqs):
        if req not in ("write", "add", "null"):
            raise ValueError(
                f"mark_variables: grad_req must be 'write', 'add' or 'null', got {req!r}"
            )
        if g.shape != v.shape:
            raise ValueError(
                f"mark_variables: gradient shape {g.shape} differs from variable shape {v.shape}"
            )
    for v, g, req in zip(variables, gradients, grad_reqs):
        v._node = None
        v._grad, v._grad_req = (None, "null") if req == "null" else (g, req)


def _seed_grads(heads, head_grads):
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif isinstance(head_grads, NDArray):
        head_grads = [head_grads]
    if len(head_grads) != len(heads):
        raise ValueError(f"backward: got {len(heads)} heads but {len(head_grads)} head gradients")
    seeds = []
    for h, g in zip(heads, head_grads):
        if g is None:
            xp = _backend.xp_of(h._data)
            with _backend.device_scope(h.context):
                seeds.append(xp.ones_like(h._data))
            continue
        if not isinstance(g, NDArray):
            raise TypeError(f"backward: head gradients must be NDArrays, got {type(g).__name__}")
        if g.shape != h.shape:
            raise ValueError(
                f"backward: head gradient shape {g.shape} does not match head shape {h.shape}"
            )
        if g.context != h.context:
            raise ContextMismatchError(
                f"backward: head gradient on {g.context} but head on {h.context}"
            )
        seeds.append(g._data)
    return seeds


def _heads(heads):
    heads = [heads] if isinstance(heads, NDArray) else list(heads)
    if not heads:
        raise ValueError("backward: at least one head is required")
    for h in heads:
        if not isinstance(h, NDArray):
            raise TypeError(f"backward: heads must be NDArrays, got {type(h).__name__}")
    return heads


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Back-propagate from ``heads`` into every reached variable's gradient buffer."""
    heads = _heads(heads)
    seeds = _seed_grads(heads, head_grads)
    with _scope(False, train_mode):
        backward_from(heads, seeds, retain_graph)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """Gradients of ``heads`` with respect to ``variables``, returned (buffers untouched)."""
    if create_graph:
        raise NotImplementedError(
            "autograd.grad: create_graph=True (higher-order gradients) is not supported"
        )
    heads = _heads(heads)
    single = isinstance(variables, NDArray)
    variables = [variables] if single else list(variables)
    for v in variables:
        if not isinstance(v, NDArray) or v._grad_req == "null":
            raise ValueError(
                "autograd.grad: every variable must be an NDArray with attach_grad() called"
            )
    seeds = _seed_grads(heads, head_grads)
    with _scope(False, train_mode):
        raws = backward_from(heads, seeds, bool(retain_graph), variables=variables)
    out = []
    for v, r in zip(variables, raws):
        xp = _backend.xp_of(v._data)
        out.append(type(v)._result_cls._wrap(xp.zeros_like(v._data) if r is None else r, v.context))
    return out


class Function:
    """A user-written operation with its own gradient (MXNet's ``autograd.Function``).

    Subclass it and write ``forward(self, *inputs)`` and ``backward(self, *output_grads)``
    on NDArrays; call ``self.save_for_backward(...)`` in ``forward`` to keep arrays,
    read them from ``self.saved_tensors`` in ``backward``.
    """

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        self.saved_tensors = args

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward must be written")

    def backward(self, *output_grads):
        raise NotImplementedError(f"{type(self).__name__}.backward must be written")

    def __call__(self, *inputs):
        for x in inputs:
            if not isinstance(x, NDArray):
                raise TypeError(f"{type(self).__name__}: inputs must be NDArrays")
        if len(inputs) > 1:
            common_context(inputs)
        return apply(_UserOp(self, inputs[0].context), *inputs)


class _UserOp(_EngineFunction):
    """Adapts a user :class:`Function` (NDArray level) to the raw-array engine."""

    runs_user_code = True

    def __init__(self, user: Function, ctx):
        self.user, self.ctx = user, ctx

    def forward(self, *xs):
        wrapped = [NDArray._wrap(x, self.ctx) for x in xs]
        self.ctx_free_inputs = wrapped
        with pause():
            out = self.user.forward(*wrapped)
        if isinstance(out, (list, tuple)):
            return tuple(o._data for o in out)
        return out._data

    def backward(self, *gys):
        with pause():
            grads = self.user.backward(*[NDArray._wrap(g, self.ctx) for g in gys])
        if isinstance(grads, NDArray):
            grads = (grads,)
        if len(grads) != len(self.ctx_free_inputs):
            raise MXNetError(
                f"{type(self.user).__name__}.backward returned {len(grads)} gradients for "
                f"{len(self.ctx_free_inputs)} inputs"
            )
        return tuple(None if g is None else g._data for g in grads)
