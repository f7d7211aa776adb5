"""Neural-network operators with MXNet 1.9.1's ``mx.nd`` spellings, and their ``mx.npx`` forms.

Every function validates its arguments (the error names the operator, what it
expected and what it got) before anything runs, then calls one differentiable
primitive from :mod:`paramlab.ops`. Results take the class of the first input, so
the ``npx`` forms return ``mx.np.ndarray`` for ``mx.np.ndarray`` inputs.

>>> import paramlab as mx
>>> x = mx.nd.array([[1.0, -2.0]])
>>> w = mx.nd.array([[1.0, 1.0], [2.0, 0.0]])
>>> mx.nd.FullyConnected(x, w, mx.nd.array([0.5, 0.0]), num_hidden=2)
<BLANKLINE>
[[-0.5  2. ]]
<NDArray 1x2 @cpu(0)>
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _backend
from .._autograd import apply, is_training
from .._dtypes import canonical
from ..ops import conv as conv_ops
from ..ops import elementwise as ew
from ..ops import nn as nn_ops
from ..ops import norm as norm_ops
from ._keywords import mxnet_keywords
from ._nn_args import (
    as_2d_geometry,
    check_array,
    check_bias,
    check_choice,
    check_positive_int,
    check_shape,
    draw_uniform,
    emit,
    spatial_rank,
    spatial_tuple,
)

__all__ = [
    "FullyConnected",
    "Activation",
    "LeakyReLU",
    "SoftmaxOutput",
    "Softmax",
    "softmax_cross_entropy",
    "Dropout",
    "BatchNorm",
    "LayerNorm",
    "Embedding",
    "Convolution",
    "Pooling",
]

ACTIVATIONS = {
    "relu": nn_ops.Relu,
    "sigmoid": ew.Sigmoid,
    "softrelu": ew.Softrelu,
    "softsign": ew.Softsign,
    "tanh": ew.Tanh,
}
LEAKY_TYPES = ("elu", "gelu", "leaky", "prelu", "rrelu", "selu")

# ----------------------------------------------------------------------------- dense


@mxnet_keywords("name")
def FullyConnected(
    data=None,
    weight=None,
    bias=None,
    num_hidden=None,
    no_bias=False,
    flatten=True,
    out=None,
    name=None,
    **kwargs,
):
    """A dense layer: ``data @ weight.T + bias``.

    Parameters
    ----------
    data : NDArray
        With ``flatten`` (default) all axes but the first are collapsed; otherwise
        the product applies to the last axis.
    weight : NDArray
        Shape ``(num_hidden, input_units)``.
    bias : NDArray, optional
        Shape ``(num_hidden,)``; required unless ``no_bias``.
    num_hidden : int
        The number of output units.

    >>> import paramlab as mx
    >>> mx.nd.FullyConnected(mx.nd.ones((2, 3, 4)), mx.nd.ones((5, 4)), num_hidden=5,
    ...                      no_bias=True, flatten=False).shape
    (2, 3, 5)
    """
    op = "FullyConnected"
    check_array(data, op, "data")
    check_array(weight, op, "weight")
    if num_hidden is None:
        raise TypeError(f"{op}: the required argument num_hidden is missing")
    num_hidden = check_positive_int(num_hidden, op, "num_hidden")
    bias = check_bias(bias, no_bias, op)
    if flatten:
        units = int(np.prod(data.shape[1:])) if data.ndim else 1
    else:
        units = data.shape[-1] if data.ndim else 1
    check_shape(weight, (num_hidden, units), op, "weight")
    if bias is not None:
        check_shape(bias, (num_hidden,), op, "bias")
    inputs = (data, weight) if bias is None else (data, weight, bias)
    return emit(apply(nn_ops.FullyConnected(bool(flatten)), *inputs), out)


# ----------------------------------------------------------------------------- activations


@mxnet_keywords("name")
def Activation(data=None, act_type=None, out=None, name=None, **kwargs):
    """Elementwise activation: ``relu``, ``sigmoid``, ``tanh``, ``softrelu`` or ``softsign``.

    >>> import paramlab as mx
    >>> mx.nd.Activation(mx.nd.array([-1.0, 2.0]), act_type='relu')
    <BLANKLINE>
    [0. 2.]
    <NDArray 2 @cpu(0)>
    """
    check_array(data, "Activation", "data")
    check_choice(act_type, ACTIVATIONS, "Activation", "act_type")
    return emit(apply(ACTIVATIONS[act_type](), data), out)


def _prelu_view(data, gamma, op):
    """The shape that broadcasts ``gamma`` over ``data``'s channel axis (1, or 0 for 1-D data)."""
    if gamma.size == 1:
        return (1,) * max(data.ndim, 1)
    axis = 1 if data.ndim >= 2 else 0
    channels = data.shape[axis] if data.ndim else 1
    if gamma.size != channels:
        raise ValueError(
            f"{op}: prelu's gamma must have 1 or {channels} elements (the channel "
            f"axis {axis} of data {data.shape}), got shape {gamma.shape}"
        )
    view = [1] * data.ndim
    view[axis] = channels
    return tuple(view)


@mxnet_keywords("name")
def LeakyReLU(
    data=None,
    gamma=None,
    act_type="leaky",
    slope=0.25,
    lower_bound=0.125,
    upper_bound=0.334,
    out=None,
    name=None,
    **kwargs,
):
    """Leaky rectifiers: ``leaky``, ``prelu``, ``elu``, ``selu``, ``gelu`` or ``rrelu``.

    ``slope`` is the negative slope of ``leaky`` and the scale of ``elu``. ``rrelu``
    draws one slope per element from U[lower_bound, upper_bound) in training and
    uses their mean otherwise; as in MXNet it returns ``[output, slopes]``
    (the slopes are zeros outside training). ``gelu`` is ``x * Phi(x)``.

    >>> import paramlab as mx
    >>> mx.nd.LeakyReLU(mx.nd.array([-2.0, 3.0]), act_type='leaky', slope=0.1)
    <BLANKLINE>
    [-0.2  3. ]
    <NDArray 2 @cpu(0)>
    """
    op = "LeakyReLU"
    check_array(data, op, "data")
    check_choice(act_type, LEAKY_TYPES, op, "act_type")
    if act_type == "prelu":
        if gamma is None:
            raise ValueError(f"{op}: act_type='prelu' needs the gamma array (the slopes)")
        check_array(gamma, op, "gamma")
        fn = nn_ops.PReLU(_prelu_view(data, gamma, op))
        return emit(apply(fn, data, gamma), out)
    if gamma is not None:
        raise ValueError(f"{op}: gamma is used only by act_type='prelu', got act_type={act_type!r}")
    if act_type == "rrelu":
        if not lower_bound <= upper_bound:
            raise ValueError(
                f"{op}: lower_bound must not exceed upper_bound, got "
                f"{lower_bound!r} > {upper_bound!r}"
            )
        if is_training():
            slope_arg = draw_uniform(
                data.shape, data._data.dtype, lower_bound, upper_bound, data.context
            ).astype(data._data.dtype, copy=False)
        else:
            slope_arg = (lower_bound + upper_bound) / 2.0
        return list(apply(nn_ops.RReLU(slope_arg), data))
    fn = {
        "leaky": lambda: nn_ops.LeakyReLU(float(slope)),
        "elu": lambda: nn_ops.ELU(float(slope)),
        "selu": nn_ops.SELU,
        "gelu": nn_ops.GELU,
    }[act_type]()
    return emit(apply(fn, data), out)


# ----------------------------------------------------------------------------- losses


def _softmax_output_layout(data, label, multi_output, preserve_shape, op):
    """The class axis and the label shapes MXNet accepts for this data."""
    if data.ndim < 2:
        raise ValueError(f"{op}: data must have at least 2 dimensions, got shape {data.shape}")
    if preserve_shape:
        return -1, [data.shape[:-1]]
    if multi_output:
        rest = data.shape[2:]
        return 1, [(data.shape[0],) + rest, (data.shape[0], int(np.prod(rest)))]
    if data.ndim > 2:
        raise ValueError(
            f"{op}: data of shape {data.shape} needs multi_output=True (classes on "
            "axis 1) or preserve_shape=True (classes on the last axis)"
        )
    return 1, [data.shape[:1]]


@mxnet_keywords("name")
def SoftmaxOutput(
    data=None,
    label=None,
    grad_scale=1.0,
    ignore_label=-1.0,
    multi_output=False,
    use_ignore=False,
    preserve_shape=False,
    normalization="null",
    out_grad=False,
    smooth_alpha=0.0,
    out=None,
    name=None,
    **kwargs,
):
    """Softmax whose gradient is that of cross-entropy with ``label``: ``softmax - one_hot``.

    The head gradient is ignored (unless ``out_grad``, which multiplies by it); the
    gradient is scaled by ``grad_scale`` and, with ``normalization='batch'``, divided
    by the number of labels, with ``'valid'`` by the number of labels different from
    ``ignore_label`` (with ``multi_output``, ``'null'`` divides by the number of
    positions per sample, as MXNet 1.9.1 does).
    ``use_ignore`` zeroes the gradient of those samples. Labels are truncated to
    integers; a label outside ``[0, classes)`` contributes no one-hot term.

    >>> import paramlab as mx
    >>> x = mx.nd.array([[0.0, 0.0]])
    >>> x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = mx.nd.SoftmaxOutput(x, mx.nd.array([1]))
    >>> y.backward()
    >>> x.grad
    <BLANKLINE>
    [[ 0.5 -0.5]]
    <NDArray 1x2 @cpu(0)>
    """
    op = "SoftmaxOutput"
    check_array(data, op, "data")
    check_array(label, op, "label")
    check_choice(normalization, ("null", "batch", "valid"), op, "normalization")
    axis, shapes = _softmax_output_layout(data, label, multi_output, preserve_shape, op)
    if tuple(label.shape) not in [tuple(s) for s in shapes]:
        wanted = " or ".join(str(tuple(s)) for s in shapes)
        raise ValueError(
            f"{op}: label must have shape {wanted} for data of shape {data.shape}, "
            f"got {label.shape}"
        )
    if smooth_alpha and data.shape[axis] < 2:
        raise ValueError(f"{op}: smooth_alpha needs at least 2 classes, got {data.shape[axis]}")
    fn = nn_ops.SoftmaxOutput(
        axis,
        bool(multi_output and not preserve_shape),
        float(grad_scale),
        float(ignore_label),
        bool(use_ignore),
        normalization,
        bool(out_grad),
        float(smooth_alpha),
    )
    return emit(apply(fn, data, label), out)


Softmax = SoftmaxOutput


@mxnet_keywords("name")
def softmax_cross_entropy(data=None, label=None, out=None, name=None, **kwargs):
    """Total cross-entropy ``sum_i -log softmax(data_i)[label_i]`` of a 2-D batch, shape ``(1,)``.

    Labels are truncated to integers and clipped to ``[0, classes)``.

    >>> import paramlab as mx
    >>> mx.nd.softmax_cross_entropy(mx.nd.array([[0.0, 0.0]]), mx.nd.array([1])).shape
    (1,)
    """
    op = "softmax_cross_entropy"
    check_array(data, op, "data")
    check_array(label, op, "label")
    if data.ndim != 2:
        raise ValueError(f"{op}: data must be 2-D (batch, classes), got shape {data.shape}")
    check_shape(label, data.shape[:1], op, "label")
    return emit(apply(nn_ops.SoftmaxCrossEntropy(), data, label), out)


# ----------------------------------------------------------------------------- dropout


@mxnet_keywords("name")
def Dropout(
    data=None, p=0.5, mode="training", axes=(), cudnn_off=False, out=None, name=None, **kwargs
):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1/(1-p)``.

    Active in training (``autograd.is_training()``) or always with ``mode='always'``;
    otherwise a copy. ``axes`` lists axes along which one mask value is shared.
    The mask is drawn from the context's random stream.

    >>> import paramlab as mx
    >>> mx.nd.Dropout(mx.nd.ones((2, 2)), p=0.5)  # inference: identity
    <BLANKLINE>
    [[1. 1.]
     [1. 1.]]
    <NDArray 2x2 @cpu(0)>
    """
    op = "Dropout"
    check_array(data, op, "data")
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")
    check_choice(mode, ("always", "training"), op, "mode")
    axes = () if axes is None else ((axes,) if isinstance(axes, numbers.Integral) else tuple(axes))
    for a in axes:
        if not -data.ndim <= a < data.ndim:
            raise ValueError(f"{op}: axes {axes} out of range for data of shape {data.shape}")
    if not (mode == "always" or is_training()) or p == 0:
        return emit(apply(ew.Identity(), data), out)
    shared = {a % data.ndim for a in axes}
    mask_shape = tuple(1 if i in shared else n for i, n in enumerate(data.shape))
    dtype = data._data.dtype
    if p == 1:
        xp = _backend.xp_of(data._data)
        with _backend.device_scope(data.context):
            mask = xp.zeros(mask_shape, dtype)
    else:
        keep = draw_uniform(mask_shape, dtype, 0.0, 1.0, data.context) >= p
        mask = keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))
    return emit(apply(nn_ops.Dropout(mask), data), out)


# ----------------------------------------------------------------------------- normalisation


def _norm_axis(axis, data, op):
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -data.ndim <= axis < data.ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for data of shape {data.shape}")
    return axis % data.ndim


@mxnet_keywords("name")
def BatchNorm(
    data=None,
    gamma=None,
    beta=None,
    moving_mean=None,
    moving_var=None,
    eps=1e-3,
    momentum=0.9,
    fix_gamma=True,
    use_global_stats=False,
    output_mean_var=False,
    axis=1,
    cudnn_off=False,
    min_calib_range=None,
    max_calib_range=None,
    out=None,
    name=None,
    **kwargs,
):
    """Batch normalisation over every axis but ``axis`` (the channels).

    In training (``autograd.is_training()`` and not ``use_global_stats``) the batch
    mean and biased variance normalise the data, and ``moving_mean`` /
    ``moving_var`` are updated in place in this forward pass:
    ``moving = momentum * moving + (1 - momentum) * batch`` (MXNet 1.9.1 applies the
    update in the backward pass instead). Otherwise the moving statistics are used.
    ``fix_gamma`` (the default, as in MXNet's operator) uses ``gamma = 1`` and gives
    it a zero gradient. With ``output_mean_var`` the result is
    ``[out, mean, 1 / sqrt(var + eps)]``.

    >>> import paramlab as mx
    >>> x = mx.nd.array([[1.0], [3.0]])
    >>> mean, var = mx.nd.zeros((1,)), mx.nd.ones((1,))
    >>> with mx.autograd.train_mode():
    ...     y = mx.nd.BatchNorm(x, mx.nd.ones((1,)), mx.nd.zeros((1,)), mean, var, eps=0)
    >>> print(y.asnumpy().ravel(), mean.asnumpy())
    [-1.  1.] [0.2]
    """
    op = "BatchNorm"
    for arr, arg in (
        (data, "data"),
        (gamma, "gamma"),
        (beta, "beta"),
        (moving_mean, "moving_mean"),
        (moving_var, "moving_var"),
    ):
        check_array(arr, op, arg)
    if data.ndim < 2:
        raise ValueError(f"{op}: data must have at least 2 dimensions, got shape {data.shape}")
    axis = _norm_axis(axis, data, op)
    channels = (data.shape[axis],)
    for arr, arg in (
        (gamma, "gamma"),
        (beta, "beta"),
        (moving_mean, "moving_mean"),
        (moving_var, "moving_var"),
    ):
        check_shape(arr, channels, op, arg)
    use_batch = is_training() and not use_global_stats
    fn = norm_ops.BatchNorm(axis, float(eps), bool(fix_gamma), use_batch, bool(output_mean_var))
    result = apply(fn, data, gamma, beta, moving_mean, moving_var)
    if use_batch:
        for running, batch in ((moving_mean, fn.batch_mean), (moving_var, fn.batch_var)):
            norm_ops.update_running(running._data, batch, float(momentum))
            running._bump()
    return list(result) if output_mean_var else emit(result, out)


@mxnet_keywords("name")
def LayerNorm(
    data=None,
    gamma=None,
    beta=None,
    axis=-1,
    eps=1e-5,
    output_mean_var=False,
    out=None,
    name=None,
    **kwargs,
):
    """Layer normalisation along ``axis``: ``(x - mean) / sqrt(var + eps) * gamma + beta``.

    With ``output_mean_var`` the result is ``[out, mean, std]``, the statistics
    keeping ``axis`` with length 1.

    >>> import paramlab as mx
    >>> mx.nd.LayerNorm(mx.nd.array([[1.0, 3.0]]), mx.nd.ones((2,)), mx.nd.zeros((2,)), eps=0)
    <BLANKLINE>
    [[-1.  1.]]
    <NDArray 1x2 @cpu(0)>
    """
    op = "LayerNorm"
    for arr, arg in ((data, "data"), (gamma, "gamma"), (beta, "beta")):
        check_array(arr, op, arg)
    if data.ndim < 1:
        raise ValueError(f"{op}: data must have at least 1 dimension, got shape {data.shape}")
    axis = _norm_axis(axis, data, op)
    check_shape(gamma, (data.shape[axis],), op, "gamma")
    check_shape(beta, (data.shape[axis],), op, "beta")
    fn = norm_ops.LayerNorm(axis, float(eps), bool(output_mean_var))
    result = apply(fn, data, gamma, beta)
    return list(result) if output_mean_var else emit(result, out)


# ----------------------------------------------------------------------------- embedding


@mxnet_keywords("name")
def Embedding(
    data=None,
    weight=None,
    input_dim=None,
    output_dim=None,
    dtype="float32",
    sparse_grad=False,
    out=None,
    name=None,
    **kwargs,
):
    """Rows of ``weight`` (``(input_dim, output_dim)``) picked by the indices in ``data``.

    Indices are truncated to integers and clipped to ``[0, input_dim)``; the result
    has shape ``data.shape + (output_dim,)`` and ``weight``'s dtype. With
    ``sparse_grad`` the weight's gradient holds only the touched rows (a
    row_sparse gradient buffer keeps them sparse; a dense one receives them dense).

    >>> import paramlab as mx
    >>> w = mx.nd.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> mx.nd.Embedding(mx.nd.array([2, 0]), w, input_dim=3, output_dim=2)
    <BLANKLINE>
    [[4. 5.]
     [0. 1.]]
    <NDArray 2x2 @cpu(0)>
    """
    op = "Embedding"
    check_array(data, op, "data")
    check_array(weight, op, "weight")
    for value, arg in ((input_dim, "input_dim"), (output_dim, "output_dim")):
        if value is None:
            raise TypeError(f"{op}: the required argument {arg} is missing")
    input_dim = check_positive_int(input_dim, op, "input_dim")
    output_dim = check_positive_int(output_dim, op, "output_dim")
    canonical(dtype, f"{op}: dtype")
    check_shape(weight, (input_dim, output_dim), op, "weight")
    return emit(apply(nn_ops.Embedding(bool(sparse_grad)), data, weight), out)


# ----------------------------------------------------------------------------- convolution


@mxnet_keywords("name")
def Convolution(
    data=None,
    weight=None,
    bias=None,
    kernel=None,
    stride=(),
    dilate=(),
    pad=(),
    num_filter=None,
    num_group=1,
    workspace=1024,
    no_bias=False,
    cudnn_tune=None,
    cudnn_off=False,
    layout=None,
    out=None,
    name=None,
    **kwargs,
):
    """1-D (NCW) or 2-D (NCHW) convolution, with groups, strides, dilation and zero padding.

    ``weight`` has shape ``(num_filter, channels // num_group) + kernel``; the output
    length along each spatial axis is ``(size + 2 pad - dilate (kernel - 1) - 1) // stride + 1``.

    >>> import paramlab as mx
    >>> x = mx.nd.ones((1, 1, 3, 3))
    >>> mx.nd.Convolution(x, mx.nd.ones((1, 1, 2, 2)), kernel=(2, 2), num_filter=1,
    ...                   no_bias=True).asnumpy().tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    op = "Convolution"
    check_array(data, op, "data")
    check_array(weight, op, "weight")
    rank = spatial_rank(data, op, layout)
    if kernel is None or kernel == ():
        raise TypeError(f"{op}: the required argument kernel is missing")
    kernel = spatial_tuple(kernel, rank, op, "kernel", 1, 1)
    stride = spatial_tuple(stride, rank, op, "stride", 1, 1)
    dilate = spatial_tuple(dilate, rank, op, "dilate", 1, 1)
    pad = spatial_tuple(pad, rank, op, "pad", 0, 0)
    if num_filter is None:
        raise TypeError(f"{op}: the required argument num_filter is missing")
    num_filter = check_positive_int(num_filter, op, "num_filter")
    groups = check_positive_int(num_group, op, "num_group")
    channels = data.shape[1]
    if channels % groups or num_filter % groups:
        raise ValueError(
            f"{op}: num_group={groups} must divide both the data channels "
            f"({channels}) and num_filter ({num_filter})"
        )
    check_shape(weight, (num_filter, channels // groups) + kernel, op, "weight")
    bias = check_bias(bias, no_bias, op)
    if bias is not None:
        check_shape(bias, (num_filter,), op, "bias")
    spatial = data.shape[2:]
    sizes = [conv_ops.conv_output_size(*args) for args in zip(spatial, kernel, stride, dilate, pad)]
    if min(sizes) < 1:
        raise ValueError(
            f"{op}: kernel {kernel} with dilate {dilate} is larger than the padded "
            f"input {tuple(s + 2 * p for s, p in zip(spatial, pad))}"
        )
    geometry = as_2d_geometry((kernel, stride, dilate, pad))
    fn = conv_ops.Convolution(*geometry, num_group=groups)
    inputs = (data, weight) if bias is None else (data, weight, bias)
    return emit(apply(fn, *inputs), out)


@mxnet_keywords("name")
def Pooling(
    data=None,
    kernel=(),
    pool_type="max",
    global_pool=False,
    cudnn_off=False,
    pooling_convention="valid",
    stride=(),
    pad=(),
    p_value=None,
    count_include_pad=None,
    layout=None,
    out=None,
    name=None,
    **kwargs,
):
    """1-D (NCW) or 2-D (NCHW) max, average or sum pooling.

    ``pooling_convention='valid'`` floors the output size, ``'full'`` ceils it
    (windows may run past the bottom/right edge). ``global_pool`` pools each whole
    feature map. For ``'avg'``, ``count_include_pad`` (default True) divides by the
    window's size within the padded input, else by its number of real elements.
    The max gradient goes to the first maximum of each window.

    >>> import paramlab as mx
    >>> x = mx.nd.arange(16).reshape((1, 1, 4, 4))
    >>> mx.nd.Pooling(x, kernel=(2, 2), stride=(2, 2)).asnumpy().tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    op = "Pooling"
    check_array(data, op, "data")
    rank = spatial_rank(data, op, layout)
    if pool_type == "lp":
        raise ValueError(f"{op}: pool_type 'lp' is not supported; use 'avg', 'max' or 'sum'")
    check_choice(pool_type, ("avg", "max", "sum"), op, "pool_type")
    check_choice(pooling_convention, ("full", "valid"), op, "pooling_convention")
    spatial = data.shape[2:]
    if global_pool:
        kernel, stride, pad = tuple(spatial), (1,) * rank, (0,) * rank
    else:
        if kernel is None or kernel == ():
            raise TypeError(f"{op}: kernel is required unless global_pool=True")
        kernel = spatial_tuple(kernel, rank, op, "kernel", 1, 1)
        stride = spatial_tuple(stride, rank, op, "stride", 1, 1)
        pad = spatial_tuple(pad, rank, op, "pad", 0, 0)
    padded = tuple(s + 2 * p for s, p in zip(spatial, pad))
    if any(k > s for k, s in zip(kernel, padded)):
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input {padded}")
    kernel, stride, _, pad = as_2d_geometry((kernel, stride, (1,) * rank, pad))
    include = True if count_include_pad is None else bool(count_include_pad)
    fn = conv_ops.Pooling(pool_type, kernel, stride, pad, pooling_convention, include)
    return emit(apply(fn, data), out)
