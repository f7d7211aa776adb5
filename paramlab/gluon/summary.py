"""``Block.summary()``: each layer's output shape and parameter count for one forward pass."""

from __future__ import annotations

from .. import autograd

__all__ = ["print_summary"]


def _shape_of(out):
    if isinstance(out, (list, tuple)):
        return [_shape_of(o) for o in out]
    return getattr(out, "shape", None)


def _count(params):
    total = 0
    for p in params:
        n = 1
        for d in p.shape or ():
            n *= d
        total += n
    return total


def print_summary(block, *inputs, print_fn=print):
    """Run ``block`` on ``inputs`` with hooks and print a per-layer table."""
    rows, handles, seen_params = [], [], {}
    counter = [0]

    def hook(b, args, out):
        counter[0] += 1
        params = [p for _, p in b._own_params()]
        for p in params:
            seen_params.setdefault(id(p), p)
        trainable = [p for p in params if p.grad_req != "null"]
        rows.append(
            (
                f"{type(b).__name__}-{counter[0]}",
                _shape_of(out),
                _count(params),
                _count(trainable),
                params,
            )
        )

    def attach(b):
        if b is not block or not b._children:
            handles.append(b.register_forward_hook(hook))

    block.apply(attach)
    try:
        with autograd.pause():
            block(*inputs)
    finally:
        for h in handles:
            h.detach()
    line = "-" * 80
    print_fn(line)
    print_fn(f"{'Layer (type)':>20}{'Output Shape':>42}{'Param #':>15}")
    print_fn("=" * 80)
    shapes = _shape_of(inputs[0] if len(inputs) == 1 else list(inputs))
    print_fn(f"{'Input':>20}{shapes!s:>42}{0:>15}")
    total = trainable = 0
    for name, shape, n, t, _ in rows:
        print_fn(f"{name:>20}{shape!s:>42}{n:>15}")
        total += n
        trainable += t
    unique = _count(seen_params.values())
    print_fn("=" * 80)
    print_fn("Parameters in forward computation graph, duplicate included")
    print_fn(f"   Total params: {total}")
    print_fn(f"   Trainable params: {trainable}")
    print_fn(f"   Non-trainable params: {total - trainable}")
    print_fn(f"Shared params in forward computation graph: {total - unique}")
    print_fn(f"Unique parameters in model: {unique}")
    print_fn(line)
