"""The ``mx.npx`` spellings of the neural-network operators (MXNet 2.0's names and defaults).

They call the ``mx.nd`` spellings of :mod:`paramlab.ndarray.nn`; given
``mx.np.ndarray`` inputs they return ``mx.np.ndarray`` results.
"""

from __future__ import annotations

from ._nn_args import check_array
from .nn import (
    Activation,
    BatchNorm,
    Convolution,
    Dropout,
    Embedding,
    FullyConnected,
    LayerNorm,
    LeakyReLU,
    Pooling,
)

__all__ = [
    "fully_connected",
    "activation",
    "leaky_relu",
    "dropout",
    "batch_norm",
    "layer_norm",
    "embedding",
    "convolution",
    "pooling",
]


def fully_connected(x, weight, bias=None, num_hidden=None, no_bias=None, flatten=True, **kwargs):
    """``mx.npx.fully_connected``: :func:`FullyConnected` with ``num_hidden`` from ``weight``.

    ``no_bias`` defaults to whether ``bias`` is None.
    """
    check_array(weight, "fully_connected", "weight")
    num_hidden = weight.shape[0] if num_hidden is None else num_hidden
    no_bias = bias is None if no_bias is None else no_bias
    return FullyConnected(
        x, weight, bias, num_hidden=num_hidden, no_bias=no_bias, flatten=flatten, **kwargs
    )


def activation(data, act_type="relu", **kwargs):
    """``mx.npx.activation``: :func:`Activation` (``act_type`` defaults to ``'relu'``)."""
    return Activation(data, act_type=act_type, **kwargs)


def leaky_relu(*args, **kwargs):
    """``mx.npx.leaky_relu``: :func:`LeakyReLU`, with its arguments and defaults."""
    return LeakyReLU(*args, **kwargs)


def dropout(data, p=0.5, axes=None, mode="training", cudnn_off=True, **kwargs):
    """``mx.npx.dropout``: :func:`Dropout`."""
    return Dropout(data, p=p, mode=mode, axes=axes or (), **kwargs)


def batch_norm(x, gamma, beta, running_mean, running_var, *args, **kwargs):
    """``mx.npx.batch_norm``: :func:`BatchNorm`, with its arguments and defaults.

    Only the arrays are spelled differently: ``x`` is ``data`` and
    ``running_mean`` / ``running_var`` are ``moving_mean`` / ``moving_var``.
    """
    return BatchNorm(x, gamma, beta, running_mean, running_var, *args, **kwargs)


def layer_norm(
    data=None, gamma=None, beta=None, axis=-1, eps=1e-5, output_mean_var=False, **kwargs
):
    """``mx.npx.layer_norm``: :func:`LayerNorm`."""
    return LayerNorm(
        data, gamma, beta, axis=axis, eps=eps, output_mean_var=output_mean_var, **kwargs
    )


def embedding(
    data, weight, input_dim=None, output_dim=None, dtype="float32", sparse_grad=False, **kwargs
):
    """``mx.npx.embedding``: :func:`Embedding` with the dimensions read from ``weight``."""
    check_array(weight, "embedding", "weight")
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D (input_dim, output_dim), got shape {weight.shape}"
        )
    input_dim = weight.shape[0] if input_dim is None else input_dim
    output_dim = weight.shape[1] if output_dim is None else output_dim
    return Embedding(
        data,
        weight,
        input_dim=input_dim,
        output_dim=output_dim,
        dtype=dtype,
        sparse_grad=sparse_grad,
        **kwargs,
    )


def convolution(
    data=None,
    weight=None,
    bias=None,
    kernel=None,
    stride=None,
    dilate=None,
    pad=None,
    num_filter=None,
    num_group=1,
    workspace=1024,
    no_bias=None,
    cudnn_tune=None,
    cudnn_off=False,
    layout=None,
    **kwargs,
):
    """``mx.npx.convolution``: :func:`Convolution` with defaults read from ``weight``.

    ``kernel`` and ``num_filter`` default to ``weight``'s; ``no_bias`` to whether
    ``bias`` is None.
    """
    check_array(weight, "convolution", "weight")
    kernel = tuple(weight.shape[2:]) if kernel is None else kernel
    num_filter = weight.shape[0] if num_filter is None else num_filter
    no_bias = bias is None if no_bias is None else no_bias
    return Convolution(
        data,
        weight,
        bias,
        kernel=kernel,
        stride=stride or (),
        dilate=dilate or (),
        pad=pad or (),
        num_filter=num_filter,
        num_group=num_group,
        no_bias=no_bias,
        layout=layout,
        **kwargs,
    )


def pooling(
    data=None,
    kernel=None,
    stride=None,
    pad=None,
    pool_type="max",
    pooling_convention="valid",
    global_pool=False,
    cudnn_off=False,
    p_value=None,
    count_include_pad=None,
    layout=None,
    **kwargs,
):
    """``mx.npx.pooling``: :func:`Pooling`."""
    return Pooling(
        data,
        kernel=kernel or (),
        pool_type=pool_type,
        global_pool=global_pool,
        pooling_convention=pooling_convention,
        stride=stride or (),
        pad=pad or (),
        p_value=p_value,
        count_include_pad=count_include_pad,
        layout=layout,
        **kwargs,
    )
