"""The graph and the backward walk, on raw arrays.

An operation is a :class:`Function` whose ``forward`` takes raw arrays and keeps
what ``backward`` needs, and whose ``backward`` returns one gradient per input
(``None`` where there is none). :func:`apply` runs it on NDArrays: it checks that
they share a context, runs ``forward`` on their raw arrays, wraps the results,
and -- only while recording and only if an input needs a gradient -- links the
results to a :class:`Node`. The node of an operation that keeps none of its
inputs for backward (``saves_inputs = False``, as ReLU, which keeps its output)
holds the inputs that earlier recorded operations produced weakly
(:class:`Recorded`), so that such an array nothing else refers to -- a Dense
layer's pre-activation -- is freed during the forward pass, not after backward.

:func:`backward_from` is the whole engine: order the nodes reachable from the
heads, seed the heads' gradients, walk back summing gradients per array, and
hand each leaf's total to its gradient buffer, whose ``grad_req`` alone decides
whether it is written or added. Unless ``retain_graph``, each node is released
as soon as its backward has run, so that the arrays it saved are freed while the
walk goes on rather than at its end.

A leaf whose whole gradient is one operation's result may have it computed
without a new array: the engine offers that operation (:meth:`Function.grad_buffer`)
the leaf's buffer when the gradient is written as is (``grad_req='write'``), and a
region of a scratch array kept between walks when it is added (``'add'``), which
the engine adds into the buffer as soon as the operation returns. Either way no
temporary the size of a weight is allocated per pass: a written gradient keeps it
out of the peak, an added one the page faults of fresh memory on every pass.
"""

from __future__ import annotations

import threading
import weakref

from .. import _backend
from ..base import ContextMismatchError, MXNetError
from .state import is_recording

__all__ = [
    "Function",
    "Node",
    "Recorded",
    "apply",
    "backward_from",
    "requires_grad",
    "common_context",
]


class Function:
    """One differentiable operation on raw arrays.

    Subclasses implement ``forward(*xs)`` returning a raw array (or a tuple of
    them) and ``backward(*gys)`` returning a tuple with one gradient per input.
    ``self.needs_input_grad`` tells ``backward`` which inputs want a gradient;
    ``self.grad_buffers``, set by the engine for the duration of ``backward``,
    holds per input a raw array its gradient may be written into (or None), read
    through :meth:`grad_buffer`. A subclass whose ``forward`` keeps nothing of
    its inputs sets ``saves_inputs = False``, so that its node does not keep
    them alive either.
    """

    needs_input_grad: tuple[bool, ...] = ()
    grad_buffers: tuple = ()
    saves_inputs: bool = True
    runs_user_code: bool = False  # True for user-written operations (autograd.Function)

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} has no gradient")

    def grad_buffer(self, index, dtype):
        """The raw array to write input ``index``'s gradient into, or None.

        Parameters
        ----------
        index : int
            Position of the input.
        dtype : numpy.dtype
            The dtype the gradient is computed in; a buffer of another dtype is
            not offered, so that no result is rounded differently.

        Returns
        -------
        array or None
            Where the gradient of a leaf that receives it alone may be computed:
            the leaf's buffer, or scratch memory that the engine adds into the
            buffer. ``backward`` may compute the gradient into it (``out=``) and
            return this very array, never a view of it (the scratch is reused
            by the next node). None where a new array must be returned.
        """
        buffers = self.grad_buffers
        buf = buffers[index] if index < len(buffers) else None
        return buf if buf is not None and buf.dtype == dtype else None


class Node:
    """A recorded application of a Function: its inputs and its outputs' metadata.

    ``inputs`` holds the input NDArrays, except that the results of earlier
    recorded operations are :class:`Recorded` links when the Function does not
    save its inputs.
    """

    __slots__ = ("__weakref__", "fn", "inputs", "out_meta")

    def __init__(self, fn, inputs, out_meta):
        self.fn = fn
        self.inputs = inputs
        self.out_meta = out_meta  # [(shape, dtype, xp)] per output

    @property
    def released(self) -> bool:
        return self.fn is None

    def release(self):
        self.fn = None
        self.inputs = ()


class Recorded:
    """An input of a node that an earlier recorded operation produced.

    The array is held weakly, next to the link (producing node, output index) it
    had when it was recorded: the consuming Function saved none of its inputs,
    so the walk needs only the link, not the array's memory. ``_node`` and
    ``_out_index`` read like an NDArray's: while the array lives they are its
    current ones, so re-linking it after the forward pass (a diagnostics tap)
    or making it a leaf (``attach_grad``) takes effect; once it is gone they are
    the recorded ones, the link MXNet's graph keeps.

    Parameters
    ----------
    x : NDArray
        A result of a recorded operation (``x._node`` is not None).
    """

    __slots__ = ("_link", "_ref")

    def __init__(self, x):
        self._ref = weakref.ref(x)
        self._link = (x._node, x._out_index)

    def array(self):
        """The NDArray, or None once it is gone."""
        return self._ref()

    @property
    def _node(self):
        x = self._ref()
        return self._link[0] if x is None else x._node

    @property
    def _out_index(self):
        x = self._ref()
        return self._link[1] if x is None else x._out_index


def _array(x):
    """The NDArray behind a node's input; None for a :class:`Recorded` one that is gone."""
    return x.array() if type(x) is Recorded else x


def requires_grad(x) -> bool:
    """Whether the NDArray ``x`` is part of a graph (a recorded result or a variable)."""
    return x._node is not None or x._grad_req != "null"


def common_context(inputs):
    """The context shared by ``inputs``; raise ContextMismatchError if they differ."""
    ctx = inputs[0]._ctx
    for x in inputs[1:]:
        if x._ctx != ctx:
            raise ContextMismatchError(
                f"operation over arrays on different contexts: {ctx} and {x._ctx}; "
                "move one with .copyto(ctx) or .as_in_context(ctx) first"
            )
    return ctx


def apply(fn: Function, *inputs, out_cls=None, out_ctx=None):
    """Run ``fn`` on NDArrays; record it when needed. Returns an NDArray or a tuple.

    ``out_ctx`` is given only by the copy between contexts; every other
    operation's results live on its inputs' shared context.
    """
    ctx = common_context(inputs) if len(inputs) > 1 else inputs[0]._ctx
    ctx = out_ctx or ctx
    raw = fn.forward(*[x._data for x in inputs])
    cls = out_cls or inputs[0]._result_cls
    many = isinstance(raw, tuple)
    outs = raw if many else (raw,)
    node = None
    if is_recording():
        needs = tuple(requires_grad(x) for x in inputs)
        if any(needs):
            fn.needs_input_grad = needs
            held = inputs
            if not fn.saves_inputs:
                held = tuple(Recorded(x) if x._node is not None else x for x in inputs)
            node = Node(fn, held, [(o.shape, o.dtype) for o in outs])
    results = tuple(cls._wrap(o, ctx, node, i) for i, o in enumerate(outs))
    return results if many else results[0]


def _topological(heads):
    order, seen = [], set()
    for head in heads:
        if head._node is None or id(head._node) in seen:
            continue
        stack = [(head._node, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for x in node.inputs:
                if x._node is not None and id(x._node) not in seen:
                    stack.append((x._node, False))
    return order  # inputs before the nodes that use them


def _add(total, g):
    return g if total is None else total + g


def backward_from(heads, head_grads, retain_graph=False, variables=None):
    """Back-propagate from ``heads`` (NDArrays) seeded with raw ``head_grads``.

    Without ``variables`` every reached leaf hands its gradient to its buffer.
    With ``variables`` (a list of leaves) nothing is written; their gradients
    are returned as raw arrays instead (zeros for a leaf that was not reached).
    """
    _check_heads(heads)
    order = _topological(heads)
    buffers = {} if variables is not None else _writable_buffers(order, heads, head_grads)
    node_grads: dict[int, list] = {id(n): [None] * len(n.out_meta) for n in order}
    leaf_grads: dict[int, list] = {}  # id(leaf) -> [leaf, total]

    def send(x, g):
        node = x._node
        if node is not None:
            slot = node_grads[id(node)]
            slot[x._out_index] = _add(slot[x._out_index], g)
            return
        leaf = _array(x)  # an input without a node is alive: a gone one has its link
        if leaf._grad_req != "null":
            entry = leaf_grads.setdefault(id(leaf), [leaf, None])
            entry[1] = _add(entry[1], g)

    for h, g in zip(heads, head_grads):
        send(h, g)
    for node in reversed(order):
        gys = node_grads.pop(id(node))
        if any(g is not None for g in gys):
            _backward_node(node, gys, buffers, send)
        if not retain_graph:
            node.release()  # the walk never comes back to it: free what it saved now
    if variables is not None:
        return [leaf_grads.get(id(v), [v, None])[1] for v in variables]
    for leaf, total in leaf_grads.values():
        buf = leaf._grad_buffer()
        # a total already in its buffer (written or added during the walk) is a no-op copy
        buf._receive_grad(total, "write" if total is buf._data else leaf._grad_req)
        hook = leaf._grad_hook
        if hook is not None:
            hook(leaf)
    return None


def _check_heads(heads):
    for h in heads:
        if h._node is None and h._grad_req == "null":
            raise MXNetError(
                "Cannot differentiate node because it is not in a computational graph. "
                "You need to set is_recording to true or use autograd.record() to save "
                "computational graphs for backward."
            )
        if h._node is not None and h._node.released:
            raise MXNetError(
                "the graph of this array was released by an earlier backward; "
                "pass retain_graph=True to backward to run it again"
            )


def _backward_node(node, gys, buffers, send):
    """Run ``node``'s backward on its output gradients; send each input its gradient."""
    xp = _backend.xp_of(next(g for g in gys if g is not None))
    gys = [
        xp.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(gys, node.out_meta)
    ]
    fn = node.fn
    offers = _offers(node, buffers) if buffers else ()
    fn.grad_buffers = offers
    try:
        gxs = fn.backward(*gys)
    finally:
        fn.grad_buffers = ()
    for i, (x, gx, need) in enumerate(zip(node.inputs, gxs, fn.needs_input_grad)):
        if need and gx is not None:
            if offers and gx is offers[i]:
                gx = _land(_array(x), gx)
            send(x, gx)


def _offers(node, buffers):
    """Per input of ``node``, the raw array its gradient may be computed into, or None.

    A leaf in ``buffers`` that writes its gradient is offered its buffer; one that
    adds it, a region of the scratch (disjoint regions: one backward may fill several).
    """
    needs = node.fn.needs_input_grad
    leaves = [_array(x) if need else None for x, need in zip(node.inputs, needs)]
    offers = [None if leaf is None else buffers.get(id(leaf)) for leaf in leaves]
    added = [i for i, buf in enumerate(offers) if buf is not None and leaves[i]._grad_req == "add"]
    if added:
        regions = _scratch_regions([offers[i] for i in added], leaves[added[0]]._ctx)
        for i, region in zip(added, regions):
            offers[i] = region
    return tuple(offers)


def _land(leaf, gx):
    """The leaf's buffer once ``gx``, computed into what the leaf was offered, is in it.

    A gradient computed into the scratch is added into the buffer now, before the
    next node reuses the scratch; one computed into the buffer is there already.
    """
    buf = leaf._grad._data
    if gx is not buf:
        buf += gx
    return buf


_ALIGN = 64  # bytes between scratch regions: every dtype's alignment, one cache line
_scratch = threading.local()  # per thread: {(array module, device): flat uint8 array}


def _scratch_regions(bufs, ctx):
    """Disjoint arrays shaped and typed like the raw ``bufs``, views of one scratch array.

    The scratch is kept per thread (walks of two threads never share it), backend and
    device, and grows to the most one node needs; every later walk reuses it, so an
    added gradient costs no new memory once the first pass has run.
    """
    starts, end = [], 0
    for buf in bufs:
        starts.append(end)
        end += -(-buf.nbytes // _ALIGN) * _ALIGN
    xp = _backend.xp_of(bufs[0])
    key = (xp, getattr(getattr(bufs[0], "device", None), "id", None))
    arrays = _scratch.__dict__.setdefault("arrays", {})
    flat = arrays.get(key)
    if flat is None or flat.size < end:
        with _backend.device_scope(ctx):
            flat = arrays[key] = xp.empty(end, xp.uint8)
    return [flat[s : s + b.nbytes].view(b.dtype).reshape(b.shape) for s, b in zip(starts, bufs)]


def _writable_buffers(order, heads, head_grads):
    """The gradient buffers backward may write directly, keyed by ``id`` of their leaf.

    A leaf qualifies when it receives exactly one gradient in this walk, which it
    writes or adds (``grad_req`` 'write' or 'add') into a dense buffer of its own
    shape and dtype, and no array the walk reads (a node's input, a head gradient)
    shares the buffer's memory: changing the buffer before the walk ends then changes
    nothing computed after it, and the result is the one the final copy or addition
    would have made.

    No buffer is offered when the walk runs user-written code: a user ``backward``
    may raise part-way, and a failed backward must leave every gradient buffer as
    it was (paramlab's operators raise nothing once the forward pass succeeded).
    """
    if any(node.fn.runs_user_code for node in order):
        return {}
    counts: dict[int, list] = {}  # id(leaf) -> [leaf, gradients it receives]
    read = {id(_owner(g)) for g in head_grads}
    for h in heads:
        if h._node is None:
            counts.setdefault(id(h), [h, 0])[1] += 1
    for node in order:
        if node.released:
            continue
        for x, need in zip(node.inputs, node.fn.needs_input_grad):
            x = _array(x)
            if x is None:  # a gone result: new memory, or a view of an input read upstream
                continue
            read.add(id(_owner(x._data)))
            if need and x._node is None and x._grad_req != "null":
                counts.setdefault(id(x), [x, 0])[1] += 1
    buffers = {}
    for key, (leaf, count) in counts.items():
        if count != 1 or leaf._grad_req not in ("write", "add"):
            continue
        buf = leaf._grad_buffer()  # a deferred buffer is allocated here, zeroed
        raw = buf._data
        if (
            buf.stype == "default"
            and raw.shape == leaf._data.shape
            and raw.dtype == leaf._data.dtype
            and id(_owner(raw)) not in read
        ):
            buffers[key] = raw
    return buffers


def _owner(raw):
    """The object owning ``raw``'s memory: ``raw`` itself unless it is a view."""
    while getattr(raw, "base", None) is not None:
        raw = raw.base
    return raw
