"""The initializer protocol: :class:`InitDesc`, :class:`Initializer` and the name rules.

An initializer *fills arrays*; it does not read names. ``init(desc, arr)`` is a
thin adapter kept for MXNet code: it picks one of the overridable hooks
(``_init_weight``, ``_init_bias``, ...) and calls it with ``(desc, arr)``. Which
hook a name selects is decided by one table, :data:`NAME_RULES`:

* ``desc`` is an :class:`InitDesc` whose ``attrs['__init__']`` names an
  initializer: that initializer's ``_init_weight`` fills the array, whatever the
  name (this is how ``Parameter.initialize`` calls it);
* otherwise an :class:`InitDesc` is dispatched on its name suffix (``weight``,
  ``bias``, ``gamma``, ``beta``, ``min``, ``max``, ``weight_quantize``,
  ``bias_quantize``); any other name raises ValueError;
* a plain ``str`` name is MXNet's legacy calling convention: it warns
  (DeprecationWarning) and uses the legacy rows of the same table.

>>> import paramlab as mx
>>> arr = mx.nd.zeros((2, 3))
>>> mx.init.One()(mx.init.InitDesc('fc_weight'), arr)
>>> arr.asnumpy().tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
>>> mx.init.One()(mx.init.InitDesc('fc_bias'), arr)
>>> arr.asnumpy().sum()
np.float32(0.0)
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import operator
import types
import warnings

import numpy as np

from .. import _backend
from .. import random as _random
from .._autograd import state as _ag_state
from .._dtypes import canonical
from ..base import MXNetError
from ..context import current_context
from ..ndarray import creation as _creation
from ..ndarray.ndarray import NDArray
from . import _theory

__all__ = [
    "InitDesc",
    "Initializer",
    "InitializerDtypeError",
    "UnknownInitializerError",
    "NAME_RULES",
]

_FLOAT_DTYPES = ("float16", "float32", "float64")


class InitializerDtypeError(MXNetError, TypeError):
    """A random initializer was asked to draw into a non-floating-point array.

    It is both an :class:`~paramlab.base.MXNetError` (a ``RuntimeError``, what MXNet
    raises) and a ``TypeError``.
    """


class UnknownInitializerError(ValueError, KeyError):
    """``mx.init.create`` was given a name that is not registered (ValueError and KeyError)."""

    __str__ = ValueError.__str__


class InitDesc(str):
    """The name of an array to initialize, with its attributes (a ``str`` subclass).

    Parameters
    ----------
    name : str
        The parameter name; the descriptor compares equal to it.
    attrs : dict, optional
        Attributes; ``attrs['__init__']`` names the initializer that fills the
        array (an Initializer, a registered name or a ``dumps()`` JSON string).
    global_init : Initializer, optional
        The initializer to fall back to; set to the calling initializer when None.

    Examples
    --------
    >>> import paramlab as mx
    >>> d = mx.init.InitDesc('dense0_weight', attrs={'__init__': 'zeros'})
    >>> d == 'dense0_weight', d.attrs['__init__'], d.global_init is None
    (True, 'zeros', True)
    """

    def __new__(cls, name, attrs=None, global_init=None):
        if not isinstance(name, str):
            raise TypeError(f"InitDesc: name must be a str, got {type(name).__name__} {name!r}")
        if attrs is not None and not isinstance(attrs, dict):
            raise TypeError(f"InitDesc: attrs must be a dict or None, got {type(attrs).__name__}")
        desc = super().__new__(cls, name)
        desc.attrs = attrs or {}
        desc.global_init = global_init
        return desc


# --------------------------------------------------------------------------- name rules
MODERN, LEGACY, BOTH = "modern", "legacy", "both"

NAME_RULES: tuple[tuple[str, str, str, str], ...] = (
    # (name starts with, name ends with, hook, used for)
    ("upsampling", "", "_init_bilinear", LEGACY),
    ("stn_loc", "weight", "_init_zero", LEGACY),
    ("stn_loc", "bias", "_init_loc_bias", LEGACY),
    ("", "weight", "_init_weight", BOTH),
    ("", "bias", "_init_bias", BOTH),
    ("", "gamma", "_init_gamma", BOTH),
    ("", "beta", "_init_beta", BOTH),
    ("", "min", "_init_zero", BOTH),
    ("", "max", "_init_one", BOTH),
    ("", "weight_quantize", "_init_quantized_weight", MODERN),
    ("", "bias_quantize", "_init_quantized_bias", MODERN),
    ("", "moving_mean", "_init_zero", LEGACY),
    ("", "moving_var", "_init_one", LEGACY),
    ("", "moving_inv_var", "_init_zero", LEGACY),
    ("", "moving_avg", "_init_zero", LEGACY),
)
"""The one table from a name to a hook, in order: the first matching row wins.

An :class:`InitDesc` uses the ``modern`` and ``both`` rows, a plain ``str`` name
(legacy calls) the ``legacy`` and ``both`` rows; no match calls ``_init_default``.
"""


def _rule_for(name: str, legacy: bool) -> tuple[str, str]:
    """(hook name, label) for ``name``; ``('_init_default', 'default')`` when no row matches."""
    wanted = LEGACY if legacy else MODERN
    for prefix, suffix, hook, used in NAME_RULES:
        if used not in (wanted, BOTH):
            continue
        if name.startswith(prefix) and name.endswith(suffix):
            return hook, suffix or prefix
    return "_init_default", "default"


# --------------------------------------------------------------------------- helpers
def check_array(arr, who: str) -> NDArray:
    """``arr`` if it is an NDArray, TypeError otherwise."""
    if not isinstance(arr, NDArray):
        raise TypeError(
            f"{who}: the array to initialize must be an NDArray, got {type(arr).__name__}"
        )
    return arr


_FLOAT_TYPES = frozenset((np.float16, np.float32, np.float64))


def check_float(dtype, who: str, name) -> None:
    """InitializerDtypeError unless ``dtype`` is float16, float32 or float64."""
    if dtype in _FLOAT_TYPES:  # NDArray.dtype is one of these types: no dtype object to build
        return
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize not in (2, 4, 8):
        raise InitializerDtypeError(
            f"{who} cannot draw random values into {name}: the output dtype must be float16, "
            f"float32 or float64, got {dt.name}"
        )


def check_real(value, what: str, minimum: float | None = None) -> float:
    """``value`` as a float; TypeError for non-numbers, ValueError below ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating)):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    result = float(value)
    if math.isnan(result) or (minimum is not None and result < minimum):
        expected = f">= {minimum}" if minimum is not None else "a number"
        raise ValueError(f"{what} must be {expected}, got {value!r}")
    return result


def check_choice(value, choices, what: str, message: str) -> str:
    """``value`` if it is one of ``choices``; ValueError starting with ``message`` otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{message}: {what} must be one of {list(choices)}, got {value!r}")
    return value


def normalize_shape(shape, dtype, who: str) -> tuple[tuple, np.dtype]:
    """A shape tuple and a supported NumPy dtype for :meth:`Initializer.theory`."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{who}.theory: shape must be a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{who}.theory: dimensions must be non-negative, got {shape!r}")
    return dims, canonical(dtype, f"{who}.theory: dtype")


def fill_value(arr: NDArray, value) -> None:
    """Write a scalar into every element of ``arr`` and bump its version."""
    with _backend.device_scope(arr.context):
        arr._data[...] = value
    arr._bump()


def draw_uniform(arr: NDArray, low: float, high: float, who: str, name) -> None:
    """Fill ``arr`` with U[low, high) from its context's streams, in its own dtype."""
    raw = arr._data  # (raw fields, not properties: this runs once per parameter drawn)
    if raw.dtype.type not in _FLOAT_TYPES:  # stricter than fill_uniform's check: skip that one
        check_float(raw.dtype, who, name)
    _random._fill_uniform(raw, float(low), float(high), arr._ctx)
    arr._version += 1


def draw_normal(arr: NDArray, loc: float, scale: float, who: str, name) -> None:
    """Fill ``arr`` with N(loc, scale²) from its context's streams, in its own dtype."""
    raw = arr._data
    if raw.dtype.type not in _FLOAT_TYPES:  # stricter than fill_normal's check: skip that one
        check_float(raw.dtype, who, name)
    _random._fill_normal(raw, float(loc), float(scale), arr._ctx)
    arr._version += 1


def fills_everything(init, caller) -> bool:
    """Whether the fast, zero-free path of :func:`fill_parameter` applies.

    True when ``init`` is an instance of a class that itself declares
    ``_fills_everything = True`` (see :class:`Initializer`; the flag is not inherited, because
    a subclass may override ``_init_weight`` with one that writes part of the array, as
    d2l-style initializers do) and ``caller`` dispatches through the base class's
    ``__call__`` and ``_run``. Then the array to fill need not be zeroed first.
    """
    return (
        isinstance(init, Initializer)
        and type(init)._fills_everything  # the class's own flag (see __init_subclass__)
        and type(caller).__call__ is Initializer.__call__
        and type(caller)._run is Initializer._run
    )


def fill_parameter(caller, init, name: str, arr: NDArray, fast: bool) -> None:
    """Initialize ``arr``, a value of the parameter ``name``: MXNet's parameter protocol.

    This is ``caller(InitDesc(name, attrs={'__init__': init}), arr)`` with autograd
    recording paused. With ``fast`` (:func:`fills_everything` holds) the call is made
    directly as ``init._init_weight(name, arr)`` plus ``caller``'s verbose log, which is
    what the generic call reduces to for those classes: their hook writes ``arr``'s raw
    buffer on ``arr``'s own context (so neither the current context nor recording matters)
    and uses the name only in messages.
    """
    if fast:
        init._init_weight(name, arr)
        if caller._verbose:
            caller._verbose_print(name, init, arr)
        return
    desc = InitDesc(name, attrs={"__init__": init})
    prev = _ag_state.set_recording(False)
    try:
        caller(desc, arr)
    finally:
        _ag_state.set_recording(prev)


def _plain(value):
    """A JSON-ready copy of a constructor argument (arrays become nested lists)."""
    if isinstance(value, NDArray):
        return value.asnumpy().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Initializer):
        return value.dumps()
    return value


def _rms_statistic(arr: NDArray) -> str:
    """MXNet's default verbose statistic: ||x||₂ / sqrt(size)."""
    xp = _backend.xp_of(arr._data)
    with _backend.device_scope(arr.context):
        total = xp.sum(xp.square(arr._data.astype(np.float64)))
    return str(float(math.sqrt(float(total) / max(arr.size, 1))))


# --------------------------------------------------------------------------- base class
class Initializer:
    """The base class of initializers: subclasses override ``_init_weight``.

    Parameters
    ----------
    **kwargs
        The constructor arguments, kept for :meth:`dumps`, equality and ``repr``.

    Examples
    --------
    A d2l-style initializer that writes through ``data[:]``:

    >>> import paramlab as mx
    >>> class Halves(mx.init.Initializer):
    ...     def _init_weight(self, name, data):
    ...         data[:] = 0.5
    >>> w = mx.nd.zeros((2, 2))
    >>> Halves()(mx.init.InitDesc('w_weight'), w)
    >>> w.asnumpy().tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """

    _kwargs = types.MappingProxyType({})
    _verbose = False
    _print_func = None
    _fills_everything = False
    """Declared True by a class (never inherited, see :func:`fills_everything`) whose
    ``_init_weight(name, arr)`` writes every element of ``arr``'s raw buffer on ``arr``'s
    own context, reads none of them, records nothing, and uses ``name`` only in messages."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_fills_everything" not in cls.__dict__:  # not declared: not inherited either
            cls._fills_everything = False

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    # ------------------------------------------------------------------ calling
    def __call__(self, desc, arr):
        """Initialize ``arr`` (an NDArray) as the name or attributes of ``desc`` say.

        Parameters
        ----------
        desc : InitDesc or str
            The descriptor; a plain ``str`` is MXNet's deprecated legacy convention.
        arr : NDArray
            The array to fill in place.
        """
        who = type(self).__name__
        if not isinstance(desc, InitDesc):
            warnings.warn(
                "Calling an initializer with init(str, NDArray) is deprecated; use "
                "init(mx.init.InitDesc(name), NDArray) instead.",
                DeprecationWarning,
                stacklevel=2,
            )
            if not isinstance(desc, str):
                raise TypeError(f"{who}: name must be a str, got {type(desc).__name__}")
            check_array(arr, who)
            hook, label = _rule_for(desc, legacy=True)
            self._run(getattr(self, hook), desc, arr, label)
            return
        check_array(arr, who)
        if desc.global_init is None:
            desc.global_init = self
        chosen = desc.attrs.get("__init__", "")
        if chosen:
            if not isinstance(chosen, Initializer):  # a name or JSON: build it
                from ._registry import create

                chosen_init = create(chosen)
            else:
                chosen_init = chosen
            self._run(chosen_init._init_weight, desc, arr, chosen)
            return
        hook, label = _rule_for(desc, legacy=False)
        self._run(getattr(self, hook), desc, arr, label)

    def _run(self, hook, desc, arr, label):
        """Call ``hook(desc, arr)`` with ``arr``'s context current, then log if verbose.

        A sparse ``arr`` (row_sparse, csr) is filled through a dense array of its shape,
        written into it once the hook has succeeded: every element gets its value, as
        MXNet's storage fallback gives, and the array keeps its storage type.
        """
        arr._check_write()
        ctx = arr.context
        target = arr if arr.stype == "default" else _creation.zeros_like(arr)  # dense
        if current_context() == ctx:  # already current (the usual case): nothing to enter
            hook(desc, target)
        else:
            with ctx:
                hook(desc, target)
        if target is not arr:
            arr[:] = target
        self._verbose_print(desc, label, arr)

    # ------------------------------------------------------------------ hooks
    def _init_weight(self, name, arr):
        """Fill a weight; subclasses override this."""
        raise NotImplementedError(
            f"{type(self).__name__} must override _init_weight(self, name, arr) to initialize "
            f"{name}"
        )

    def _init_bias(self, _, arr):
        fill_value(arr, 0.0)

    def _init_gamma(self, _, arr):
        fill_value(arr, 1.0)

    def _init_beta(self, _, arr):
        fill_value(arr, 0.0)

    def _init_zero(self, _, arr):
        fill_value(arr, 0.0)

    def _init_one(self, _, arr):
        fill_value(arr, 1.0)

    def _init_quantized_bias(self, _, arr):
        fill_value(arr, 0)

    def _init_quantized_weight(self, _, arr):
        """Integers drawn uniformly from [-127, 127), one per element."""
        raw = _random.draw_integers(arr.shape, -127, 127, np.int32, arr.context)
        with _backend.device_scope(arr.context):
            arr._data[...] = raw.astype(np.int8)
        arr._bump()

    def _init_bilinear(self, name, arr):
        from ._builtin import Bilinear

        Bilinear()._init_weight(name, arr)

    def _init_loc_bias(self, name, arr):
        if arr.shape != (6,):
            raise ValueError(
                f"{type(self).__name__}: the spatial-transformer bias {name} must have shape "
                f"(6,), got {arr.shape}"
            )
        with _backend.device_scope(arr.context):
            arr._data[...] = _backend.to_context(
                np.array([1.0, 0, 0, 0, 1.0, 0], dtype=arr._data.dtype), arr.context
            )
        arr._bump()

    def _init_default(self, name, _):
        raise ValueError(
            f"Unknown initialization pattern for {name}. Default initialization is now limited "
            'to "weight", "bias", "gamma" (1.0), and "beta" (0.0). Give the parameter its own '
            "initializer (Parameter(init=...), or InitDesc attrs={'__init__': ...})."
        )

    # ------------------------------------------------------------------ theory
    def theory(self, shape, dtype="float32") -> _theory.Theory:
        """What ``_init_weight`` writes into an array of ``shape`` and ``dtype``.

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        dtype : str or numpy dtype, default 'float32'
            The array's dtype.

        Returns
        -------
        Theory
            The family, parameters, mean, std, support, ``pdf``/``cdf`` where a
            density exists, and an invariant sentence. The base class states that
            it has no theory (family ``'none'``); built-in initializers override it.
        """
        shape, dt = normalize_shape(shape, dtype, type(self).__name__)
        return _theory.no_theory(
            shape,
            dt,
            f"{type(self).__name__} does not state its theory (override theory() to do so)",
        )

    # ------------------------------------------------------------------ description
    def _config(self) -> dict:
        return {k: _plain(v) for k, v in self._kwargs.items()}

    def dumps(self) -> str:
        """The JSON string ``[lowercase class name, constructor arguments]``, as MXNet writes it.

        >>> import paramlab as mx
        >>> mx.init.Normal(0.5).dumps()
        '["normal", {"sigma": 0.5}]'
        """
        return json.dumps([type(self).__name__.lower(), self._config()])

    def __eq__(self, other):
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._config() == other._config()

    __hash__ = None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def set_verbosity(self, verbose=False, print_func=None):
        """Log a statistic of every array this initializer fills (``logging.info``).

        Parameters
        ----------
        verbose : bool, default False
            Switch logging on or off.
        print_func : callable, optional
            Maps the filled NDArray to a str; defaults to ``||x||₂ / sqrt(size)``.

        Returns
        -------
        Initializer
            ``self``.
        """
        if print_func is not None and not callable(print_func):
            raise TypeError(
                f"set_verbosity: print_func must be callable, got {type(print_func).__name__}"
            )
        self._verbose = bool(verbose)
        self._print_func = print_func if print_func is not None else _rms_statistic
        return self

    def _verbose_print(self, desc, label, arr):
        if self._verbose and self._print_func is not None:
            logging.info("Initialized %s as %s: %s", desc, label, self._print_func(arr))
