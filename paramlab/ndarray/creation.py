"""Creating arrays, and the functions that combine several: concat, stack, split, dot."""

from __future__ import annotations

import math
import operator

import numpy as np

from .. import _backend
from .._autograd import apply
from .._dtypes import canonical, default_float
from ..context import as_context
from ..ops import linalg
from ..ops import shape as shape_ops
from ..util import is_np_shape
from ._keywords import mxnet_keywords
from .ndarray import NDArray

__all__ = [
    "array",
    "empty",
    "zeros",
    "ones",
    "full",
    "arange",
    "eye",
    "zeros_like",
    "ones_like",
    "full_like",
    "concat",
    "concatenate",
    "stack",
    "split",
    "dot",
    "batch_dot",
    "one_hot",
    "from_numpy",
    "from_dlpack",
    "waitall",
]


def normalize_shape(shape, what="shape") -> tuple:
    """An int or a sequence of ints as a tuple; ValueError for negative dims."""
    if shape is None:
        raise ValueError(f"{what}: a shape is required, got None")
    try:
        dims = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(
            operator.index(d) for d in shape
        )
    except TypeError:
        raise TypeError(f"{what}: shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{what}: dimensions must be non-negative, got {shape!r}")
    return dims


def _new(cls, raw, ctx):
    return cls._wrap(raw, ctx)


def _filled(shape, ctx, dtype, fill, cls=NDArray, what="zeros"):
    ctx = as_context(ctx, f"{what}: ctx")
    shape = normalize_shape(shape, what)
    dt = canonical(default_float if dtype is None else dtype, f"{what}: dtype")
    xp = _backend.xp_for(ctx)
    with _backend.device_scope(ctx):
        if fill is None:
            raw = xp.empty(shape, dt)
        elif fill == 0:
            raw = xp.zeros(shape, dt)
        else:
            raw = xp.full(shape, fill, dt)
    return _new(cls, raw, ctx)


@mxnet_keywords("name")
def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of zeros (float32 by default)."""
    out = _filled(shape, ctx, dtype, 0, what="zeros")
    return out if stype in (None, "default") else out.tostype(stype)


@mxnet_keywords("name")
def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones (float32 by default)."""
    return _filled(shape, ctx, dtype, 1, what="ones")


@mxnet_keywords("name")
def full(shape, val, ctx=None, dtype=None, out=None, **kwargs):
    """An array filled with ``val`` (float32 by default)."""
    result = _filled(shape, ctx, dtype, val, what="full")
    if out is not None:
        out[:] = result
        return out
    return result


@mxnet_keywords("name", stype="default")
def empty(shape, ctx=None, dtype=None, **kwargs):
    """An uninitialized array (float32 by default)."""
    return _filled(shape, ctx, dtype, None, what="empty")


@mxnet_keywords("name")
def zeros_like(data, **kwargs):
    """Zeros with ``data``'s shape, dtype and context."""
    return _filled(data.shape, data.context, data.dtype, 0, type(data)._result_cls)


@mxnet_keywords("name")
def ones_like(data, **kwargs):
    """Ones with ``data``'s shape, dtype and context."""
    return _filled(data.shape, data.context, data.dtype, 1, type(data)._result_cls)


@mxnet_keywords("name")
def full_like(data, fill_value, **kwargs):
    """``fill_value`` with ``data``'s shape, dtype and context."""
    return _filled(data.shape, data.context, data.dtype, fill_value, type(data)._result_cls)


def _host_source(source, dt):
    try:
        return np.asarray(source, dtype=dt)
    except OverflowError:  # Python ints out of range: wrap around, as MXNet (NumPy 1.x) does
        return np.asarray(source).astype(dt)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"array: cannot build a {dt} array from {type(source).__name__} "
            f"({str(exc).splitlines()[0]})"
        ) from None


def array(source_array, ctx=None, dtype=None, cls=NDArray, keep_int=False):
    """An array with a copy of ``source_array``'s values.

    As in MXNet 1.x, the dtype is float32 unless given, except that an NDArray
    source keeps its own dtype.

    >>> import paramlab as mx
    >>> mx.nd.array([1, 2, 3]).dtype
    <class 'numpy.float32'>
    """
    if isinstance(source_array, NDArray):
        if source_array.stype != "default":
            source_array = source_array.tostype("default")
        dt = canonical(source_array.dtype if dtype is None else dtype, "array: dtype")
        ctx = source_array.context if ctx is None else as_context(ctx, "array: ctx")
        moved = source_array.copyto(ctx) if ctx != source_array.context else source_array
        raw = moved._data.astype(dt, copy=True) if moved is source_array else moved._data
        if raw.dtype != dt:
            raw = raw.astype(dt)
        return _new(cls, raw, ctx)
    ctx = as_context(ctx, "array: ctx")
    if dtype is None:
        src_dt = getattr(source_array, "dtype", None)
        if keep_int and src_dt is not None:  # mx.np.array keeps a NumPy source's dtype
            dtype = src_dt
        else:
            dtype = default_float
    dt = canonical(dtype, "array: dtype")
    if _backend.is_gpu_array(source_array):
        raw = _backend.to_context(source_array, ctx, dtype=dt, copy=True)
    else:
        host = _host_source(source_array, dt)
        if host.ndim == 0 and not is_np_shape() and not cls._np_semantics:
            host = host.reshape(1)
        raw = _backend.to_context(host, ctx, copy=True)
    return _new(cls, raw, ctx)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=None,
           cls=NDArray):
    """Evenly spaced values in [start, stop) (float32 by default)."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    dt = canonical(default_float if dtype is None else dtype, "arange: dtype")
    ctx = as_context(ctx, "arange: ctx")
    count = max(0, math.ceil((stop - start) / step))  # NumPy's and MXNet's length
    # MXNet computes start + i * step in the target dtype (bit-exact with its float32 values)
    with np.errstate(over="ignore", invalid="ignore"):
        host = (dt.type(start) + np.arange(count).astype(dt) * dt.type(step)).astype(dt)
    if repeat != 1:
        host = np.repeat(host, int(repeat))
    return _new(cls, _backend.to_context(host, ctx), ctx)


@mxnet_keywords("name")
def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    """A 2-D array with ones on the ``k``-th diagonal."""
    ctx = as_context(ctx, "eye: ctx")
    dt = canonical(default_float if dtype is None else dtype, "eye: dtype")
    xp = _backend.xp_for(ctx)
    with _backend.device_scope(ctx):
        raw = xp.eye(int(N), int(M) or None, int(k), dtype=dt)
    return _new(NDArray, raw, ctx)


def _arrays(what, data):
    if not data:
        raise ValueError(f"{what}: at least one array is required")
    for d in data:
        if not isinstance(d, NDArray):
            raise TypeError(f"{what}: expected NDArrays, got {type(d).__name__}")
    return data


@mxnet_keywords("name", "num_args")
def concat(*data, dim=1, **kwargs):
    """Join arrays along ``dim`` (MXNet's ``concat``)."""
    data = _arrays("concat", data)
    ref = data[0].shape
    for d in data[1:]:
        if d.ndim != len(ref) or any(
            a != b for i, (a, b) in enumerate(zip(d.shape, ref)) if i != dim % len(ref)
        ):
            raise ValueError(
                f"concat: shapes {[x.shape for x in data]} differ outside dim {dim}"
            )
    return apply(shape_ops.Concat(dim), *data)


@mxnet_keywords("name", "always_copy")
def concatenate(arrays, axis=0, **kwargs):
    """Join a list of arrays along ``axis``."""
    return concat(*arrays, dim=axis)


@mxnet_keywords("name", "num_args")
def stack(*data, axis=0, **kwargs):
    """Stack arrays of equal shape along a new ``axis``."""
    data = _arrays("stack", data)
    shapes = {d.shape for d in data}
    if len(shapes) != 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {sorted(shapes)}")
    return apply(shape_ops.Stack(axis), *data)


def split(data, num_outputs, axis=1, squeeze_axis=False):
    """Split into ``num_outputs`` equal parts (a list, or one array if num_outputs is 1)."""
    n = data.shape[axis]
    if num_outputs <= 0 or n % num_outputs:
        raise ValueError(
            f"split: axis {axis} of length {n} cannot be split into {num_outputs} equal parts"
        )
    if squeeze_axis and n != num_outputs:
        raise ValueError("split: squeeze_axis needs num_outputs equal to the axis length")
    parts = apply(shape_ops.Split(num_outputs, axis, squeeze_axis), data)
    return parts[0] if num_outputs == 1 else list(parts)


def _check_dot(lhs, rhs, ta, tb, what):
    for x in (lhs, rhs):
        if not isinstance(x, NDArray):
            raise TypeError(f"{what}: expected NDArrays, got {type(x).__name__}")
    a = lhs.shape[::-1] if ta else lhs.shape
    b = rhs.shape[::-1] if tb else rhs.shape
    if a and b and a[-1] != b[0]:
        raise ValueError(f"{what}: shapes {lhs.shape} and {rhs.shape} are not aligned "
                         f"(transpose_a={ta}, transpose_b={tb})")


@mxnet_keywords("name", "forward_stype")
def dot(lhs, rhs, transpose_a=False, transpose_b=False, **kwargs):
    """Matrix product: the last axis of ``lhs`` with the first axis of ``rhs``."""
    _check_dot(lhs, rhs, transpose_a, transpose_b, "dot")
    if lhs.stype != "default" or rhs.stype != "default":
        from . import sparse

        return sparse.dot(lhs, rhs, transpose_a, transpose_b)
    out = apply(linalg.Dot(transpose_a, transpose_b), lhs, rhs)
    if out.ndim == 0 and not lhs._np_semantics:
        out = apply(shape_ops.Reshape((1,)), out)  # MXNet 1.x: a 1-D dot has shape (1,)
    return out


@mxnet_keywords("name", "forward_stype")
def batch_dot(lhs, rhs, transpose_a=False, transpose_b=False, **kwargs):
    """Batched matrix product of 3-D arrays."""
    if lhs.ndim != 3 or rhs.ndim != 3:
        raise ValueError(f"batch_dot: expected 3-D arrays, got {lhs.shape} and {rhs.shape}")
    a = lhs.shape[2] if not transpose_a else lhs.shape[1]
    b = rhs.shape[1] if not transpose_b else rhs.shape[2]
    if lhs.shape[0] != rhs.shape[0] or a != b:
        raise ValueError(f"batch_dot: shapes {lhs.shape} and {rhs.shape} are not aligned")
    return apply(linalg.BatchDot(transpose_a, transpose_b), lhs, rhs)


@mxnet_keywords("name")
def one_hot(indices, depth, on_value=1.0, off_value=0.0, dtype="float32", **kwargs):
    """One-hot encoding: a new last axis of length ``depth``."""
    dt = canonical(dtype, "one_hot: dtype")
    xp = _backend.xp_of(indices._data)
    idx = indices._data.astype(np.int64)
    with _backend.device_scope(indices.context):
        out = xp.full(idx.shape + (int(depth),), off_value, dtype=dt)
        valid = (idx >= 0) & (idx < depth)
        hot = xp.arange(int(depth)) == xp.where(valid, idx, -1)[..., None]
        out[hot] = on_value
    return _new(type(indices)._result_cls, out, indices.context)


def from_numpy(ndarray, zero_copy=True, array_cls=NDArray):
    """An NDArray on cpu(0) sharing memory with a NumPy array (when ``zero_copy``)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    canonical(ndarray.dtype, "from_numpy: dtype")
    from ..context import cpu

    raw = np.ascontiguousarray(ndarray) if zero_copy else ndarray.copy()
    return _new(array_cls, raw, cpu(0))


def from_dlpack(dlpack, array_cls=NDArray):
    """An NDArray sharing memory with any DLPack producer (CPU or GPU)."""
    from ..context import Context

    raw = _backend.from_dlpack(dlpack)
    ctx = Context("gpu", raw.device.id) if _backend.is_gpu_array(raw) else Context("cpu", 0)
    return _new(array_cls, raw, ctx)


def waitall():
    """Wait for every pending operation (a GPU synchronisation; a no-op on CPU)."""
    from ..context import gpu

    for i in range(_backend.num_gpus()):
        with _backend.device_scope(gpu(i)):
            _backend.xp_for(gpu(i)).cuda.get_current_stream().synchronize()
