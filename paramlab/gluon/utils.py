"""``mx.gluon.utils``: split batches over contexts, clip gradients by their global norm."""

from __future__ import annotations

import itertools
import math
import warnings

from .. import ndarray as nd
from ..context import as_context_list
from ..ndarray.ndarray import NDArray

__all__ = ["split_data", "split_and_load", "clip_global_norm"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split ``data`` into ``num_slice`` slices along ``batch_axis``.

    With ``even_split=False`` the last slice takes the remainder.
    """
    if not isinstance(data, NDArray):
        raise TypeError(f"split_data: expected an NDArray, got {type(data).__name__}")
    if num_slice < 1:
        raise ValueError(f"split_data: num_slice must be at least 1, got {num_slice}")
    size = data.shape[batch_axis]
    if even_split and size % num_slice:
        raise ValueError(
            f"data with shape {data.shape} cannot be evenly split into {num_slice} slices along "
            f"axis {batch_axis}. Use a batch size that's multiple of {num_slice} or set "
            "even_split=False to allow uneven partitioning of data."
        )
    if size < num_slice:
        raise ValueError(
            f"split_data: {size} samples along axis {batch_axis} cannot fill {num_slice} slices"
        )
    step = size // num_slice
    bounds = [i * step for i in range(num_slice)] + [size]
    index = [slice(None)] * data.ndim
    out = []
    for lo, hi in itertools.pairwise(bounds):
        index[batch_axis] = slice(lo, hi)
        out.append(data[tuple(index)])
    return out


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split ``data`` along ``batch_axis`` and put slice i on ``ctx_list[i]``."""
    ctx_list = as_context_list(ctx_list, "split_and_load: ctx_list")
    if not isinstance(data, NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Scale ``arrays`` in place so that their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping (a float).
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("clip_global_norm: at least one array is required")
    total = 0.0
    for a in arrays:
        if not isinstance(a, NDArray):
            raise TypeError(f"clip_global_norm: expected NDArrays, got {type(a).__name__}")
        total += float((a.astype("float64").square().sum()).asscalar())
    norm = math.sqrt(total)
    if check_isfinite and not math.isfinite(norm):
        warnings.warn(
            UserWarning("nan or inf is detected. Clipping results will be undefined."),
            stacklevel=2,
        )
    scale = max_norm / (norm + 1e-8)
    if scale < 1.0:
        for a in arrays:
            a *= scale
    return norm
