"""2-D convolution and pooling layers (NCHW)."""

from __future__ import annotations

from ... import ndarray as nd
from ..block import HybridBlock
from .activations import Activation

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "GlobalMaxPool2D"]


def _pair(value, what):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return value


class Conv2D(HybridBlock):
    """2-D convolution over NCHW images; ``in_channels=0`` defers to the first batch."""

    def __init__(
        self,
        channels,
        kernel_size,
        strides=(1, 1),
        padding=(0, 0),
        dilation=(1, 1),
        groups=1,
        layout="NCHW",
        activation=None,
        use_bias=True,
        weight_initializer=None,
        bias_initializer="zeros",
        in_channels=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if layout != "NCHW":
            raise ValueError(f"Conv2D: only layout 'NCHW' is supported, got {layout!r}")
        if in_channels and in_channels % groups:
            raise ValueError(
                f"Conv2D: in_channels {in_channels} is not divisible by groups {groups}"
            )
        self._channels, self._in_channels, self._groups = channels, in_channels, groups
        self._kernel = _pair(kernel_size, "Conv2D: kernel_size")
        self._strides = _pair(strides, "Conv2D: strides")
        self._padding = _pair(padding, "Conv2D: padding")
        self._dilation = _pair(dilation, "Conv2D: dilation")
        with self.name_scope():
            self.weight = self.params.get(
                "weight",
                shape=(channels, in_channels // groups, *self._kernel),
                init=weight_initializer,
                allow_deferred_init=True,
            )
            self.bias = (
                self.params.get(
                    "bias", shape=(channels,), init=bias_initializer, allow_deferred_init=True
                )
                if use_bias
                else None
            )
            self.act = Activation(activation, prefix=activation + "_") if activation else None

    def infer_shape(self, x, *args):
        if x.ndim != 4 or x.shape[1] % self._groups:
            raise ValueError(
                f"{self.name}: expected NCHW input with channels divisible by {self._groups}, "
                f"got shape {x.shape}"
            )
        self.weight.shape = (self._channels, x.shape[1] // self._groups, *self._kernel)

    def forward(self, x):
        ctx = x.context
        expected = self.weight.shape[1] * self._groups
        if x.ndim != 4 or x.shape[1] != expected:
            raise ValueError(
                f"{self.name}: expected NCHW input with {expected} channels, got shape {x.shape}"
            )
        bias = self.bias.data(ctx) if self.bias is not None else None
        out = nd.Convolution(
            x,
            self.weight.data(ctx),
            bias,
            kernel=self._kernel,
            stride=self._strides,
            dilate=self._dilation,
            pad=self._padding,
            num_filter=self._channels,
            num_group=self._groups,
            no_bias=bias is None,
        )
        return self.act(out) if self.act is not None else out

    def __repr__(self):
        in_ch = self.weight.shape[1] * self._groups or None
        s = f"Conv2D({in_ch} -> {self._channels}, kernel_size={self._kernel}"
        s += f", stride={self._strides}"
        if self._padding != (0, 0):
            s += f", padding={self._padding}"
        if self._dilation != (1, 1):
            s += f", dilation={self._dilation}"
        if self._groups != 1:
            s += f", groups={self._groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.act is not None:
            s += f", {self.act!r}"
        return s + ")"


class _Pool2D(HybridBlock):
    def __init__(
        self,
        pool_size,
        strides,
        padding,
        ceil_mode,
        global_pool,
        pool_type,
        layout="NCHW",
        count_include_pad=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if layout != "NCHW":
            raise ValueError(f"{type(self).__name__}: only layout 'NCHW' is supported")
        self._size = _pair(pool_size, f"{type(self).__name__}: pool_size")
        self._strides = _pair(
            self._size if strides is None else strides, f"{type(self).__name__}: strides"
        )
        self._padding = _pair(padding, f"{type(self).__name__}: padding")
        self._ceil, self._global, self._type = ceil_mode, global_pool, pool_type
        self._count_include_pad = count_include_pad

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected NCHW input, got shape {x.shape}")
        kwargs = {}
        if self._count_include_pad is not None:
            kwargs["count_include_pad"] = self._count_include_pad
        return nd.Pooling(
            x,
            kernel=self._size,
            pool_type=self._type,
            stride=self._strides,
            pad=self._padding,
            global_pool=self._global,
            pooling_convention="full" if self._ceil else "valid",
            **kwargs,
        )

    def __repr__(self):
        return (
            f"{type(self).__name__}(size={self._size}, stride={self._strides}, "
            f"padding={self._padding}, ceil_mode={self._ceil}, global_pool={self._global}, "
            f"pool_type={self._type}, layout=NCHW)"
        )


class MaxPool2D(_Pool2D):
    """Max pooling over ``pool_size`` windows (stride defaults to the window)."""

    def __init__(
        self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW", ceil_mode=False, **kwargs
    ):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class AvgPool2D(_Pool2D):
    """Average pooling over ``pool_size`` windows."""

    def __init__(
        self,
        pool_size=(2, 2),
        strides=None,
        padding=0,
        layout="NCHW",
        ceil_mode=False,
        count_include_pad=True,
        **kwargs,
    ):
        super().__init__(
            pool_size,
            strides,
            padding,
            ceil_mode,
            False,
            "avg",
            layout,
            count_include_pad,
            **kwargs,
        )


class GlobalMaxPool2D(_Pool2D):
    """Maximum over each channel's whole image."""

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__((1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalAvgPool2D(_Pool2D):
    """Mean over each channel's whole image."""

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__((1, 1), None, 0, True, True, "avg", layout, **kwargs)
