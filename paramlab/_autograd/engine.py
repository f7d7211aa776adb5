"""The graph and the backward walk, on raw arrays.

An operation is a :class:`Function` whose ``forward`` takes raw arrays and keeps
what ``backward`` needs, and whose ``backward`` returns one gradient per input
(``None`` where there is none). :func:`apply` runs it on NDArrays: it checks that
they share a context, runs ``forward`` on their raw arrays, wraps the results,
and -- only while recording and only if an input needs a gradient -- links the
results to a :class:`Node`.

:func:`backward_from` is the whole engine: order the nodes reachable from the
heads, seed the heads' gradients, walk back summing gradients per array, and
hand each leaf's total to its gradient buffer, whose ``grad_req`` alone decides
whether it is written or added. The graph is released afterwards unless
``retain_graph``.
"""

from __future__ import annotations

from ..base import ContextMismatchError, MXNetError
from .state import is_recording

__all__ = ["Function", "Node", "apply", "backward_from", "requires_grad", "common_context"]


class Function:
    """One differentiable operation on raw arrays.

    Subclasses implement ``forward(*xs)`` returning a raw array (or a tuple of
    them) and ``backward(*gys)`` returning a tuple with one gradient per input.
    ``self.needs_input_grad`` tells ``backward`` which inputs want a gradient.
    """

    needs_input_grad: tuple[bool, ...] = ()

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} has no gradient")


class Node:
    """A recorded application of a Function: its inputs and its outputs' metadata."""

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


def requires_grad(x) -> bool:
    """Whether the NDArray ``x`` is part of a graph (a recorded result or a variable)."""
    return x._node is not None or x._grad is not None


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
            node = Node(fn, inputs, [(o.shape, o.dtype) for o in outs])
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
    for h in heads:
        if h._node is None and h._grad is None:
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
    order = _topological(heads)
    node_grads: dict[int, list] = {id(n): [None] * len(n.out_meta) for n in order}
    leaf_grads: dict[int, list] = {}  # id(leaf) -> [leaf, total]

    def send(x, g):
        if x._node is not None:
            slot = node_grads[id(x._node)]
            slot[x._out_index] = _add(slot[x._out_index], g)
        elif x._grad is not None:
            entry = leaf_grads.setdefault(id(x), [x, None])
            entry[1] = _add(entry[1], g)

    for h, g in zip(heads, head_grads):
        send(h, g)
    for node in reversed(order):
        gys = node_grads.pop(id(node))
        if all(g is None for g in gys):
            continue
        xp = _xp_of(node)
        gys = [
            xp.zeros(shape, dtype) if g is None else g
            for g, (shape, dtype) in zip(gys, node.out_meta)
        ]
        gxs = node.fn.backward(*gys)
        for x, gx, need in zip(node.inputs, gxs, node.fn.needs_input_grad):
            if need and gx is not None:
                send(x, gx)
    if not retain_graph:
        for node in order:
            node.release()
    if variables is not None:
        return [leaf_grads.get(id(v), [v, None])[1] for v in variables]
    for leaf, total in leaf_grads.values():
        leaf._grad._receive_grad(total, leaf._grad_req)
        hook = leaf._grad_hook
        if hook is not None:
            hook(leaf)
    return None


def _xp_of(node):
    from .. import _backend

    for x in node.inputs:
        return _backend.xp_of(x._data)
    import numpy

    return numpy
