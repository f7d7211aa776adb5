"""2-D convolution and pooling on raw arrays (NCHW), by kernel-tap slicing.

A ``kh x kw`` kernel is handled as ``kh * kw`` strided slices of the padded input,
one per kernel tap: the convolution gathers them into columns (im2col) and does one
batched matrix product; pooling folds them with max / sum. The backward passes add
the slices back (col2im). Only basic slicing is used, so the same code runs on
NumPy and CuPy. A 1-D input (NCW) is treated as an image of height 1.
"""

from __future__ import annotations

from .._autograd import Function
from .._backend import xp_of

__all__ = ["Convolution", "Pooling", "conv_output_size", "pool_output_size"]


def conv_output_size(size, kernel, stride, dilate, pad):
    """Output length of a convolution along one axis (may be < 1 for invalid settings)."""
    return (size + 2 * pad - dilate * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride, pad, convention):
    """Output length of a pooling along one axis (``'valid'`` floors, ``'full'`` ceils)."""
    span = size + 2 * pad - kernel
    if convention == "full":
        return -(-span // stride) + 1
    return span // stride + 1


def _as_4d(a):
    """An NCW array viewed as NCHW with H = 1; NCHW arrays unchanged."""
    return a.reshape(a.shape[:2] + (1, a.shape[2])) if a.ndim == 3 else a


def _tap_slices(i, j, out_hw, stride, dilate):
    """The slices of the padded input that kernel tap ``(i, j)`` reads for every output."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilate
    return (
        Ellipsis,
        slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
    )


def _taps(kernel):
    kh, kw = kernel
    return [(i, j) for i in range(kh) for j in range(kw)]


def _pad(x, before, after, value=0):
    """Pad the two spatial axes of an NCHW array (``before``/``after`` per axis)."""
    if not any(before) and not any(after):
        return x
    widths = ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1]))
    return xp_of(x).pad(x, widths, mode="constant", constant_values=value)


def _crop(xpad, before, shape):
    """The inverse of :func:`_pad` for a gradient: the interior of ``shape``."""
    h, w = shape[-2:]
    return xpad[..., before[0] : before[0] + h, before[1] : before[1] + w]


def im2col(xpad, kernel, stride, dilate, out_hw):
    """Columns ``(N, C, kh, kw, OH, OW)``: the input under each tap at each output."""
    xp = xp_of(xpad)
    n, c = xpad.shape[:2]
    cols = xp.empty((n, c) + tuple(kernel) + tuple(out_hw), xpad.dtype)
    for i, j in _taps(kernel):
        cols[:, :, i, j] = xpad[_tap_slices(i, j, out_hw, stride, dilate)]
    return cols


def col2im(cols, padded_shape, kernel, stride, dilate):
    """Sum columns ``(N, C, kh, kw, OH, OW)`` back onto a zero array of ``padded_shape``."""
    xp = xp_of(cols)
    out = xp.zeros(padded_shape, cols.dtype)
    out_hw = cols.shape[-2:]
    for i, j in _taps(kernel):
        out[_tap_slices(i, j, out_hw, stride, dilate)] += cols[:, :, i, j]
    return out


class Convolution(Function):
    """Grouped 2-D convolution (cross-correlation) of NCHW data with (F, C/G, kh, kw) weights."""

    def __init__(self, kernel, stride, dilate, pad, num_group=1):
        self.kernel, self.stride, self.dilate = tuple(kernel), tuple(stride), tuple(dilate)
        self.pad, self.groups = tuple(pad), num_group

    def forward(self, x, w, b=None):
        self.x_shape, self.w_shape = x.shape, w.shape
        x4, w4 = _as_4d(x), _as_4d(w)
        n, _, h, wd = x4.shape
        f = w4.shape[0]
        out_hw = tuple(
            conv_output_size(s, k, st, d, p)
            for s, k, st, d, p in zip((h, wd), self.kernel, self.stride, self.dilate, self.pad)
        )
        xpad = _pad(x4, self.pad, self.pad)
        self.padded_shape, self.out_hw = xpad.shape, out_hw
        cols = im2col(xpad, self.kernel, self.stride, self.dilate, out_hw)
        g = self.groups
        self.cols = cols.reshape(n, g, -1, out_hw[0] * out_hw[1])  # (N, G, Cg*kh*kw, L)
        self.wmat = w4.reshape(g, f // g, -1)  # (G, Fg, Cg*kh*kw)
        out = (self.wmat @ self.cols).reshape((n, f) + out_hw)
        if b is not None:
            out += b.reshape(1, f, 1, 1)
        return out.reshape(out.shape[:2] + out.shape[3:]) if x.ndim == 3 else out

    def backward(self, grad):
        need = self.needs_input_grad
        n, g = self.cols.shape[:2]
        g4 = grad.reshape(n, g, self.wmat.shape[1], -1)  # (N, G, Fg, L)
        gx = gw = gb = None
        if need[0]:
            gcols = self.wmat.swapaxes(-1, -2) @ g4  # (N, G, Cg*kh*kw, L)
            c = self.padded_shape[1]
            gcols = gcols.reshape((n, c) + self.kernel + self.out_hw)
            gxpad = col2im(gcols, self.padded_shape, self.kernel, self.stride, self.dilate)
            gx = _crop(gxpad, self.pad, _as_4d_shape(self.x_shape)).reshape(self.x_shape)
        if need[1]:
            gw = (g4 @ self.cols.swapaxes(-1, -2)).sum(axis=0).reshape(self.w_shape)
        if len(need) > 2 and need[2]:
            gb = g4.sum(axis=(0, 3)).reshape(-1)
        return (gx, gw, gb)[: len(need)]


def _as_4d_shape(shape):
    return shape[:2] + (1, shape[2]) if len(shape) == 3 else shape


def _lowest(dtype, xp):
    """The max-pooling pad value: the dtype's lowest finite value (MXNet's result for a
    window that lies entirely in the padding)."""
    return xp.finfo(dtype).min if dtype.kind == "f" else xp.iinfo(dtype).min


def _window_counts(xp, out_len, kernel, stride, lo, hi):
    """Per output position, how many of a window's taps fall inside ``[lo, hi)`` (padded coords)."""
    start = xp.arange(out_len) * stride
    return xp.maximum(xp.minimum(start + kernel, hi) - xp.maximum(start, lo), 0)


class Pooling(Function):
    """2-D max / avg / sum pooling of NCHW data.

    Parameters
    ----------
    pool_type : {'max', 'avg', 'sum'}
    kernel, stride, pad : pairs of ints
    convention : {'valid', 'full'}
        ``'full'`` adds windows over the bottom/right edge (padding them as needed).
    count_include_pad : bool
        For ``'avg'``: divide by the window's size within the padded input (True)
        or by its number of real elements (False). Windows reaching past the padded
        input (``'full'``) never count the part outside it.
    """

    def __init__(self, pool_type, kernel, stride, pad, convention="valid", count_include_pad=True):
        self.pool_type, self.kernel = pool_type, tuple(kernel)
        self.stride, self.pad = tuple(stride), tuple(pad)
        self.convention, self.count_include_pad = convention, count_include_pad

    def _geometry(self, h, w):
        out_hw = tuple(
            pool_output_size(s, k, st, p, self.convention)
            for s, k, st, p in zip((h, w), self.kernel, self.stride, self.pad)
        )
        after = tuple(
            max(p, (o - 1) * st + k - s - p)
            for o, st, k, s, p in zip(out_hw, self.stride, self.kernel, (h, w), self.pad)
        )
        return out_hw, after

    def forward(self, x):
        xp = xp_of(x)
        self.x_shape = x.shape
        x4 = _as_4d(x)
        h, w = x4.shape[-2:]
        out_hw, self.after = self._geometry(h, w)
        self.out_hw = out_hw
        fill = _lowest(x.dtype, xp) if self.pool_type == "max" else 0
        xpad = _pad(x4, self.pad, self.after, fill)
        self.padded_shape = xpad.shape
        ones = (1, 1)  # pooling windows are not dilated
        if self.pool_type == "max":
            out = self._max(xpad, out_hw, xp)
        else:
            out = xp.zeros(xpad.shape[:2] + out_hw, x.dtype)
            for i, j in _taps(self.kernel):
                out += xpad[_tap_slices(i, j, out_hw, self.stride, ones)]
            if self.pool_type == "avg":
                self.count = self._counts(h, w, xp).astype(x.dtype)
                out /= self.count
        return out.reshape(out.shape[:2] + out.shape[3:]) if x.ndim == 3 else out

    def _max(self, xpad, out_hw, xp):
        best = arg = None
        for k, (i, j) in enumerate(_taps(self.kernel)):
            win = xpad[_tap_slices(i, j, out_hw, self.stride, (1, 1))]
            if best is None:
                best, arg = win.copy(), xp.zeros(win.shape, xp.int32)
                continue
            better = win > best  # strict: ties keep the first tap
            best = xp.where(better, win, best)
            arg = xp.where(better, k, arg).astype(xp.int32, copy=False)
        self.arg = arg
        return best

    def _counts(self, h, w, xp):
        (ph, pw), (oh, ow) = self.pad, self.out_hw
        if self.count_include_pad:
            bounds = ((0, h + 2 * ph), (0, w + 2 * pw))
        else:
            bounds = ((ph, ph + h), (pw, pw + w))
        ch = _window_counts(xp, oh, self.kernel[0], self.stride[0], *bounds[0])
        cw = _window_counts(xp, ow, self.kernel[1], self.stride[1], *bounds[1])
        return xp.maximum(ch[:, None] * cw[None, :], 1)

    def backward(self, grad):
        xp = xp_of(grad)
        g4 = _as_4d(grad)
        if self.pool_type == "avg":
            g4 = g4 / self.count
        gxpad = xp.zeros(self.padded_shape, grad.dtype)
        for k, (i, j) in enumerate(_taps(self.kernel)):
            window = _tap_slices(i, j, self.out_hw, self.stride, (1, 1))
            if self.pool_type == "max":
                gxpad[window] += xp.where(self.arg == k, g4, 0)
            else:
                gxpad[window] += g4
        gx = _crop(gxpad, self.pad, _as_4d_shape(self.x_shape))
        return (gx.reshape(self.x_shape),)
