"""Containers and basic layers: Sequential, Dense, Dropout, BatchNorm, LayerNorm, Embedding, ..."""

from __future__ import annotations

from ... import ndarray as nd
from ..block import Block, HybridBlock
from .activations import Activation

__all__ = [
    "Sequential", "HybridSequential", "Dense", "Dropout", "BatchNorm", "LayerNorm", "Embedding",
    "Flatten", "Lambda", "HybridLambda",
]  # fmt: skip


def _prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out


def _channel_param(block, name, init, learnable, **flags):
    """The per-channel parameter ``name`` of a normalization layer, shape ``(in_channels,)``.

    Its size may wait for the first input (``in_channels=0``). ``learnable=False``
    gives ``grad_req='null'``; ``flags`` (BatchNorm's ``differentiable``) are passed
    to ``ParameterDict.get`` as given.
    """
    return block.params.get(
        name,
        grad_req="write" if learnable else "null",
        shape=(block._in_channels,),
        init=init,
        allow_deferred_init=True,
        **flags,
    )


def _set_channels(x, axis, *params):
    """Give every per-channel parameter the length of ``x`` along ``axis``."""
    channels = x.shape[axis]
    for param in params:
        param.shape = (channels,)


class _SequentialMixin:
    """``add``, indexing (int, nested, slice) and ``len`` over the children, in order."""

    def add(self, *blocks):
        """Append blocks; they run in the order they were added."""
        for block in blocks:
            self.register_child(block)

    def forward(self, x, *args):
        for block in self._children.values():
            x = block(x, *args)
            args = ()
            if isinstance(x, (tuple, list)):
                x, *args = x
        return x

    def __getitem__(self, key):
        layers = list(self._children.values())
        if isinstance(key, slice):
            new = type(self)(prefix=self.prefix)
            with new.name_scope():
                new.add(*layers[key])
            return new
        try:
            return layers[key]
        except IndexError:
            raise IndexError(
                f"{type(self).__name__} index {key} out of range for {len(layers)} layers"
            ) from None

    def __len__(self):
        return len(self._children)


class Sequential(_SequentialMixin, Block):
    """Blocks run one after the other.

    >>> import paramlab as mx
    >>> net = mx.gluon.nn.Sequential()
    >>> net.add(mx.gluon.nn.Dense(4, in_units=3), mx.gluon.nn.Dense(2, in_units=4))
    >>> len(net), net[0].weight.shape
    (2, (4, 3))
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)


class HybridSequential(_SequentialMixin, HybridBlock):
    """Hybrid blocks run one after the other."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)


class Dense(HybridBlock):
    """A fully connected layer: ``activation(dot(x, weight.T) + bias)``.

    ``weight`` has shape ``(units, in_units)``; ``in_units=0`` defers it to the
    first forward pass. With ``flatten=True`` (the default) the input is collapsed
    to 2-D first.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        flatten=True,
        dtype="float32",
        weight_initializer=None,
        bias_initializer="zeros",
        in_units=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._units, self._in_units, self._flatten = units, in_units, flatten
        with self.name_scope():
            self.weight = self.params.get(
                "weight",
                shape=(units, in_units),
                init=weight_initializer,
                dtype=dtype,
                allow_deferred_init=True,
            )
            if use_bias:
                self.bias = self.params.get(
                    "bias",
                    shape=(units,),
                    init=bias_initializer,
                    dtype=dtype,
                    allow_deferred_init=True,
                )
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation else None

    def _in_features(self, x):
        return _prod(x.shape[1:]) if self._flatten else x.shape[-1]

    def infer_shape(self, x, *args):
        self.weight.shape = (self._units, self._in_features(x))

    def forward(self, x):
        ctx = x.context
        expected = self.weight.shape[1]
        if self._in_features(x) != expected:
            raise ValueError(
                f"{self.name}: expected inputs with {expected} features "
                f"({'flattened ' if self._flatten else 'last axis '}), got shape {x.shape}"
            )
        bias = self.bias.data(ctx) if self.bias is not None else None
        out = nd.FullyConnected(
            x,
            self.weight.data(ctx),
            bias,
            no_bias=bias is None,
            num_hidden=self._units,
            flatten=self._flatten,
        )
        return self.act(out) if self.act is not None else out

    def __repr__(self):
        shape = self.weight.shape
        act = repr(self.act) if self.act is not None else "linear"
        return f"Dense({shape[1] if shape[1] else None} -> {shape[0]}, {act})"


class Dropout(HybridBlock):
    """Zero a fraction ``rate`` of the inputs during training (scaled by 1/(1-rate))."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self._rate, self._axes = rate, tuple(axes)

    def forward(self, x):
        if self._rate == 0:
            return x
        return nd.Dropout(x, p=self._rate, axes=self._axes)

    def __repr__(self):
        return f"Dropout(p = {self._rate}, axes={self._axes})"


class BatchNorm(HybridBlock):
    """Batch normalization over ``axis``, with running statistics per context.

    The running mean and variance are updated in the training forward pass
    (``autograd.record()``) of each context's replica.
    """

    def __init__(
        self,
        axis=1,
        momentum=0.9,
        epsilon=1e-5,
        center=True,
        scale=True,
        use_global_stats=False,
        beta_initializer="zeros",
        gamma_initializer="ones",
        running_mean_initializer="zeros",
        running_variance_initializer="ones",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._kwargs = {
            "axis": axis,
            "eps": epsilon,
            "momentum": momentum,
            "fix_gamma": not scale,
            "use_global_stats": use_global_stats,
        }
        self._in_channels = in_channels
        with self.name_scope():
            self.gamma = _channel_param(
                self, "gamma", gamma_initializer, scale, differentiable=scale
            )
            self.beta = _channel_param(
                self, "beta", beta_initializer, center, differentiable=center
            )
            self.running_mean = _channel_param(
                self, "running_mean", running_mean_initializer, False, differentiable=False
            )
            self.running_var = _channel_param(
                self, "running_var", running_variance_initializer, False, differentiable=False
            )

    def infer_shape(self, x, *args):
        _set_channels(
            x, self._kwargs["axis"], self.gamma, self.beta, self.running_mean, self.running_var
        )

    def cast(self, dtype):
        # statistics stay float32 for float16 inputs, as in MXNet
        if str(dtype) == "float16":
            dtype = "float32"
        super().cast(dtype)

    def forward(self, x):
        ctx = x.context
        return nd.BatchNorm(
            x,
            self.gamma.data(ctx),
            self.beta.data(ctx),
            self.running_mean.data(ctx),
            self.running_var.data(ctx),
            **self._kwargs,
        )

    def __repr__(self):
        k = self._kwargs
        channels = self.gamma.shape[0] or None
        return (
            f"BatchNorm(axis={k['axis']}, eps={k['eps']}, momentum={k['momentum']}, "
            f"fix_gamma={k['fix_gamma']}, use_global_stats={k['use_global_stats']}, "
            f"in_channels={channels})"
        )


class LayerNorm(HybridBlock):
    """Layer normalization over ``axis`` with learnable ``gamma`` and ``beta``."""

    def __init__(
        self,
        axis=-1,
        epsilon=1e-5,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._axis, self._eps, self._center, self._scale = axis, epsilon, center, scale
        self._in_channels = in_channels
        with self.name_scope():
            self.gamma = _channel_param(self, "gamma", gamma_initializer, scale)
            self.beta = _channel_param(self, "beta", beta_initializer, center)

    def infer_shape(self, x, *args):
        _set_channels(x, self._axis, self.gamma, self.beta)

    def forward(self, x):
        ctx = x.context
        return nd.LayerNorm(
            x, self.gamma.data(ctx), self.beta.data(ctx), axis=self._axis, eps=self._eps
        )

    def __repr__(self):
        return (
            f"LayerNorm(eps={self._eps}, axis={self._axis}, center={self._center}, "
            f"scale={self._scale}, in_channels={self.gamma.shape[0]})"
        )


class Embedding(HybridBlock):
    """A lookup table: row ``i`` of ``weight`` for index ``i``.

    With ``sparse_grad=True`` the weight's gradient is row_sparse: only the rows
    that were looked up are stored.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        dtype="float32",
        weight_initializer=None,
        sparse_grad=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._input_dim, self._output_dim, self._dtype = input_dim, output_dim, dtype
        self._sparse_grad = sparse_grad
        with self.name_scope():
            self.weight = self.params.get(
                "weight",
                shape=(input_dim, output_dim),
                init=weight_initializer,
                dtype=dtype,
                allow_deferred_init=True,
                grad_stype="row_sparse" if sparse_grad else "default",
            )

    def forward(self, x):
        return nd.Embedding(
            x,
            self.weight.data(x.context),
            input_dim=self._input_dim,
            output_dim=self._output_dim,
            dtype=self._dtype,
            sparse_grad=self._sparse_grad,
        )

    def __repr__(self):
        return f"Embedding({self._input_dim} -> {self._output_dim}, {self._dtype})"


class Flatten(HybridBlock):
    """Collapse all but the first axis."""

    def forward(self, x):
        return x.flatten() if not x._np_semantics else x.reshape(x.shape[0], -1)

    def __repr__(self):
        return "Flatten"


class Lambda(Block):
    """Wrap a function (or the name of an ``mx.nd`` function) as a block."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not hasattr(nd, function):
                raise ValueError(f"Lambda: mx.nd has no function named {function!r}")
            self._func = getattr(nd, function)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = getattr(function, "__name__", repr(function))
        else:
            raise TypeError(f"Lambda: expected a function or its name, got {function!r}")

    def forward(self, *args):
        return self._func(*args)

    def __repr__(self):
        return f"{type(self).__name__}({self._func_name})"


class HybridLambda(HybridBlock):
    """Wrap ``function(F, *args)`` (or the name of an ``mx.nd`` function) as a block."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not hasattr(nd, function):
                raise ValueError(f"HybridLambda: mx.nd has no function named {function!r}")
            name = function
            self._func = lambda F, *args: getattr(F, name)(*args)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = getattr(function, "__name__", repr(function))
        else:
            raise TypeError(f"HybridLambda: expected a function or its name, got {function!r}")

    def forward(self, *args):
        return self._func(nd, *args)

    def __repr__(self):
        return f"{type(self).__name__}({self._func_name})"
