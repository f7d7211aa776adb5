"""``InitializerView``: an initializer's draw against the law it states (PROTOCOL.md section 4)."""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import traitlets as t

from .. import initializer as _init
from .._autograd import set_recording
from ..context import Context, cpu
from ..ndarray import creation
from . import _static
from ._base import ViewBase
from ._cards import (
    _range_edges,
    _survey,
    _theory_edges,
    clean,
    hist_payload,
    stats_payload,
    theory_payload,
    thumb_payload,
)
from ._transport import array_payload, esm_source

__all__ = ["InitializerView"]

_CHOICES = {
    "rnd_type": ("uniform", "gaussian"),
    "factor_type": ("avg", "in", "out"),
    "rand_type": ("uniform", "normal"),
    "mode": ("rnn_relu", "rnn_tanh", "lstm", "gru"),
}
_INT_ARGS = ("num_hidden", "num_layers")
_NONNEGATIVE = ("magnitude", "sigma", "scale")
_CHECK_KIND = {
    "uniform": "ks",
    "normal": "ks",
    "constant": "max_deviation",
    "discrete": "max_deviation",
    "bilinear": "max_deviation",
    "orthogonal": "orthogonality",
}
_FLOAT_DTYPES = ("float16", "float32", "float64")
_CURVE_POINTS = 256


def _as_initializer(init):
    if isinstance(init, _init.Initializer):
        return init
    if isinstance(init, str):
        return _init.create(init)
    if isinstance(init, type) and issubclass(init, _init.Initializer):
        return init()
    raise TypeError(
        "InitializerView expects an Initializer, its class, or a registered name such as "
        f"'xavier'; got {type(init).__name__} {init!r:.80}"
    )


def _arg_specs(initializer) -> list[dict]:
    """The scalar constructor arguments of ``initializer``, in signature order."""
    try:
        signature = inspect.signature(type(initializer).__init__)
    except (TypeError, ValueError):
        return []
    current = dict(initializer._kwargs)
    specs = []
    for name, p in signature.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = None if p.default is p.empty else p.default
        value = current.get(name, default)
        if isinstance(value, bool):
            kind = "bool"
        elif isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
            kind = "int" if name in _INT_ARGS else "float"
        elif isinstance(value, str):
            kind = "choice" if name in _CHOICES else "str"
        else:
            continue  # arrays, nested initializers: kept as given, not a control
        specs.append(
            {
                "name": name,
                "kind": kind,
                "default": clean(default),
                "value": clean(value),
                "choices": list(_CHOICES[name]) if kind == "choice" else None,
                "min": 0.0 if name in _NONNEGATIVE else None,
                "max": None,
            }
        )
    return specs


def _trait_for(spec):
    help_text = f"Initializer argument {spec['name']!r}; setting it draws again."
    kind, value = spec["kind"], spec["value"]
    if kind == "bool":
        return t.Bool(bool(value), help=help_text).tag(sync=True)
    if kind == "int":
        return t.Int(int(value), help=help_text).tag(sync=True)
    if kind == "float":
        return t.Float(float(value), help=help_text).tag(sync=True)
    return t.Unicode(str(value), help=help_text).tag(sync=True)


def _check_shape(shape) -> list[int]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    try:
        dims = [int(d) for d in shape]
    except (TypeError, ValueError):
        raise TypeError(f"InitializerView: shape must be a tuple of ints; got {shape!r}") from None
    if not dims or any(d < 1 for d in dims) or any(isinstance(d, bool) for d in shape):
        raise ValueError(
            f"InitializerView: shape must have at least one dimension, each >= 1; got {shape!r}"
        )
    return dims


class InitializerView(ViewBase):
    """Draw an initializer on a context and hold the result against its stated law.

    Parameters
    ----------
    init : Initializer, Initializer subclass or str
        The initializer (a registered name such as ``"xavier"`` is created with
        its defaults).
    shape : tuple of int
        Shape to draw, default ``(256, 256)``.
    ctx : Context, optional
        Where to draw (default ``mx.cpu()``); only the summaries leave it.
    dtype : str
        ``float16``, ``float32`` (default) or ``float64``.
    **kwargs
        Initial trait values (``bins``, ``rate``, ...).

    Notes
    -----
    Every scalar constructor argument (``magnitude``, ``factor_type``,
    ``rnd_type``, ``sigma``, ``scale``, ...) is a synced trait of the same
    name; setting one, or ``shape`` or ``dtype``, draws again. Invalid values
    set :attr:`error` and keep the last good draw.

    Examples
    --------
    >>> import paramlab as mx
    >>> from paramlab.widgets import InitializerView
    >>> v = InitializerView(mx.init.Xavier(magnitude=3), shape=(128, 64))
    >>> v.theory["family"], v.check_kind, v.ks < 0.05
    ('uniform', 'ks', True)
    >>> v.magnitude = 6.0                  # re-draws with the new argument
    >>> v.draws, round(v.theory["params"]["high"] ** 2 * 96, 6)
    (2, 6.0)
    >>> v.close()
    """

    _esm = esm_source("initializer_view.js")

    init_name = t.Unicode("", help="Registered name of the initializer, e.g. 'xavier'.").tag(
        sync=True
    )
    arg_specs = t.List(help="The initializer's scalar arguments (ArgSpec objects).").tag(sync=True)
    shape = t.List(t.Int(), help="Shape drawn; setting it draws again.").tag(sync=True)
    dtype = t.Unicode("float32", help="dtype drawn; setting it draws again.").tag(sync=True)
    ctx = t.Unicode("cpu(0)", help="Context the draw happens on.").tag(sync=True)
    draws = t.Int(0, help="Number of draws made so far.").tag(sync=True)
    edges = t.Dict(allow_none=True, default_value=None, help="Histogram edges (float64).").tag(
        sync=True
    )
    hist = t.Dict(allow_none=True, default_value=None, help="Empirical histogram (Hist).").tag(
        sync=True
    )
    stats = t.Dict(allow_none=True, default_value=None, help="Measured statistics (Stats).").tag(
        sync=True
    )
    theory = t.Dict(allow_none=True, default_value=None, help="The stated law (Theory).").tag(
        sync=True
    )
    pdf_curve = t.Dict(
        allow_none=True, default_value=None, help="The density on a fine grid: {x, y}."
    ).tag(sync=True)
    ks = t.Float(None, allow_none=True, help="theory.check(draw): KS distance or deviation.").tag(
        sync=True
    )
    check_kind = t.Unicode("", help="What ks measures: ks, max_deviation or orthogonality.").tag(
        sync=True
    )
    thumb = t.Dict(allow_none=True, default_value=None, help="Thumbnail of the draw.").tag(
        sync=True
    )
    bins = t.Int(64, help="Histogram bins.").tag(sync=True)

    def __init__(self, init, shape=(256, 256), ctx=None, dtype="float32", **kwargs):
        initializer = _as_initializer(init)
        if ctx is None:
            ctx = cpu()
        if not isinstance(ctx, Context):
            raise TypeError(f"InitializerView: ctx must be a Context; got {type(ctx).__name__}")
        if dtype not in _FLOAT_DTYPES:
            raise ValueError(
                f"InitializerView: dtype must be one of {_FLOAT_DTYPES}; got {dtype!r}"
            )
        self._context = ctx
        self._initializer = initializer
        self._fixed = dict(initializer._kwargs)
        specs = _arg_specs(initializer)
        reserved = set(self.trait_names()) | set(dir(type(self)))
        specs = [s for s in specs if s["name"] not in reserved]
        self._arg_names = [s["name"] for s in specs]
        self.add_traits(**{s["name"]: _trait_for(s) for s in specs})
        self._pending_draw = None
        dims = _check_shape(shape)
        bins = kwargs.get("bins", 64)
        first = self._draw(initializer, dims, dtype, bins, draws=1)
        super().__init__(
            init_name=type(initializer).__name__.lower(),
            arg_specs=specs,
            shape=dims,
            dtype=dtype,
            ctx=str(ctx),
            seq=1,
            **first,
            **kwargs,
        )
        self.observe(self._on_arg, names=[*self._arg_names, "shape", "dtype", "bins"])

    # ------------------------------------------------------------ drawing
    def _draw(self, initializer, shape, dtype, bins, draws) -> dict:
        arr = creation.zeros(tuple(shape), ctx=self._context, dtype=dtype)
        prev = set_recording(False)
        try:
            initializer(_init.InitDesc("weight"), arr)
        finally:
            set_recording(prev)
        theory = initializer.theory(tuple(shape), dtype)
        raw = arr._data
        edges = _theory_edges(theory, bins)
        if edges is None:
            from .. import summary

            edges = _range_edges(summary.stats(raw), bins, False)
        v = _survey(raw, edges)
        s, h = v.stats, v.histogram
        check = theory.check(arr)
        curve = None
        if theory.pdf is not None:
            x = np.linspace(edges[0], edges[-1], _CURVE_POINTS)
            with np.errstate(all="ignore"):
                y = np.asarray(theory.pdf(x), dtype=np.float64)
            curve = {"x": array_payload(x), "y": array_payload(y)}
        return {
            "edges": array_payload(np.asarray(edges, dtype=np.float64)),
            "hist": hist_payload(h, s),
            "stats": stats_payload(s),
            "theory": theory_payload(theory, edges, h.binned, initializer),
            "pdf_curve": curve,
            "ks": None if check is None else float(check),
            "check_kind": _CHECK_KIND.get(theory.family, "") if check is not None else "",
            "thumb": thumb_payload(v.thumbnail, v.sampled),
            "draws": draws,
            "error": "",
        }

    def _current_initializer(self):
        kwargs = dict(self._fixed)
        kwargs.update({name: getattr(self, name) for name in self._arg_names})
        return type(self._initializer)(**kwargs)

    def redraw(self) -> None:
        """Draw again with the current arguments (new random numbers)."""
        self._pending_draw = True
        self.update()

    def _on_arg(self, change):
        if change["name"] == "shape":
            try:
                _check_shape(change["new"])
            except (TypeError, ValueError) as exc:
                self.error = str(exc)
                return
        if change["name"] == "dtype" and change["new"] not in _FLOAT_DTYPES:
            self.error = (
                f"InitializerView: dtype must be one of {_FLOAT_DTYPES}; got {change['new']!r}"
            )
            return
        self.redraw()

    def _compute(self, force):
        if not (self._pending_draw or force):
            return None
        self._pending_draw = None
        try:
            initializer = self._current_initializer()
            values = self._draw(
                initializer, list(self.shape), self.dtype, self.bins, self.draws + 1
            )
        except (ValueError, TypeError) as exc:
            return {"error": f"{type(self._initializer).__name__}: {exc}"}
        self._initializer = initializer
        return values

    def _handle_command(self, content):
        if isinstance(content, dict) and content.get("type") == "redraw":
            self.redraw()
        else:
            super()._handle_command(content)

    # ------------------------------------------------------------ static face
    def _state(self) -> dict:
        return {
            "init": repr(self._initializer),
            "shape": self.shape,
            "dtype": self.dtype,
            "ctx": self.ctx,
            "stats": self.stats,
            "theory": self.theory,
            "ks": self.ks,
            "check_kind": self.check_kind,
            "edges": self.edges,
            "hist": self.hist,
            "pdf_curve": self.pdf_curve,
            "error": self.error,
        }

    def summary_text(self) -> str:
        """Text summary: the stated law, the measured statistics and the check."""
        return _static.initializer_text(self._state())

    def _static_figure(self):
        return _static.initializer_figure(self._state(), self.log_scale)
