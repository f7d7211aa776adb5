"""Shape and indexing: reshape, transpose, broadcast, slicing, concat/stack/split, take, pick."""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of
from ._broadcast import unbroadcast


class Reshape(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, a):
        self.in_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = None if axes is None or axes == () else tuple(axes)

    def forward(self, a):
        self.ndim = a.ndim
        return a.transpose(self.axes)

    def backward(self, g):
        if self.axes is None:
            return (g.transpose(),)
        inverse = [0] * self.ndim
        for i, ax in enumerate(self.axes):
            inverse[ax % self.ndim] = i
        return (g.transpose(inverse),)


class SwapAxes(Function):
    def __init__(self, dim1, dim2):
        self.d1, self.d2 = dim1, dim2

    def forward(self, a):
        return a.swapaxes(self.d1, self.d2)

    def backward(self, g):
        return (g.swapaxes(self.d1, self.d2),)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, a):
        self.in_shape = a.shape
        return xp_of(a).broadcast_to(a, self.shape).copy()

    def backward(self, g):
        return (unbroadcast(g, self.in_shape),)


def _is_basic(key):
    """Whether ``key`` is basic indexing (ints, slices, None, Ellipsis): no duplicates."""
    keys = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in keys)


class GetItem(Function):
    def __init__(self, key):
        self.key = key

    def forward(self, a):
        self.in_shape, self.dtype = a.shape, a.dtype
        out = a[self.key]
        xp = xp_of(a)
        return out.copy() if isinstance(out, xp.ndarray) else xp.asarray(out)

    def backward(self, g):
        xp = xp_of(g)
        full = xp.zeros(self.in_shape, self.dtype)
        if _is_basic(self.key):
            full[self.key] = g
        else:
            xp.add.at(full, self.key, g)
        return (full,)


class Concat(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp_of(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        cuts = []
        total = 0
        for n in self.sizes[:-1]:
            total += n
            cuts.append(total)
        return tuple(xp.split(g, cuts, axis=self.axis))


class Stack(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return xp_of(xs[0]).stack(xs, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        n = g.shape[self.axis]
        return tuple(xp.take(g, i, axis=self.axis) for i in range(n))


class Split(Function):
    def __init__(self, num_outputs, axis, squeeze_axis):
        self.n, self.axis, self.squeeze = num_outputs, axis, squeeze_axis

    def forward(self, a):
        parts = xp_of(a).split(a, self.n, axis=self.axis)
        if self.squeeze:
            parts = [p.squeeze(axis=self.axis) for p in parts]
        return tuple(p.copy() for p in parts)

    def backward(self, *gs):
        xp = xp_of(gs[0])
        if self.squeeze:
            gs = [xp.expand_dims(g, self.axis) for g in gs]
        return (xp.concatenate(gs, axis=self.axis),)


class Take(Function):
    """``take(a, indices, axis)``; indices are clipped (MXNet's default mode)."""

    def __init__(self, axis=0, mode="clip"):
        self.axis, self.mode = axis, mode

    def forward(self, a, indices):
        xp = xp_of(a)
        n = a.shape[self.axis]
        idx = indices.astype(xp.int64)
        idx = xp.clip(idx, 0, n - 1) if self.mode == "clip" else idx % n
        self.idx, self.in_shape, self.dtype = idx, a.shape, a.dtype
        return xp.take(a, idx, axis=self.axis)

    def backward(self, g):
        xp = xp_of(g)
        full = xp.zeros(self.in_shape, self.dtype)
        moved = xp.moveaxis(full, self.axis, 0)
        gm = xp.moveaxis(
            g, tuple(range(self.axis, self.axis + self.idx.ndim)), tuple(range(self.idx.ndim))
        )
        xp.add.at(moved, self.idx, gm)
        return full, None


class Pick(Function):
    """``pick(a, index, axis)``: one element per position along ``axis``."""

    def __init__(self, axis=-1, keepdims=False, mode="clip"):
        self.axis, self.keepdims, self.mode = axis, keepdims, mode

    def forward(self, a, index):
        xp = xp_of(a)
        axis = self.axis % a.ndim
        n = a.shape[axis]
        idx = index.astype(xp.int64)
        idx = xp.clip(idx, 0, n - 1) if self.mode == "clip" else idx % n
        self.idx = xp.expand_dims(
            idx.reshape([s for i, s in enumerate(a.shape) if i != axis]), axis
        )
        self.in_shape, self.dtype, self.ax = a.shape, a.dtype, axis
        out = xp.take_along_axis(a, self.idx, axis=axis)
        return out if self.keepdims else out.squeeze(axis=axis)

    def backward(self, g):
        xp = xp_of(g)
        full = xp.zeros(self.in_shape, self.dtype)
        gk = g if self.keepdims else xp.expand_dims(g, self.ax)
        xp.put_along_axis(full, self.idx, gk, axis=self.ax)
        return full, None
