"""Initializers made of others: ``FusedRNN`` (pieces of one flat vector), ``Mixed``
(by name pattern) and ``Load`` (from saved arrays). None of them has a single law;
their theories say so and, for FusedRNN, describe every piece.

>>> import paramlab as mx
>>> init = mx.init.Mixed(['.*bias', '.*'], [mx.init.Zero(), mx.init.One()])
>>> b, w = mx.nd.ones((2,)), mx.nd.zeros((2,))
>>> init(mx.init.InitDesc('fc_bias'), b); init(mx.init.InitDesc('fc_weight'), w)
>>> b.asnumpy().tolist(), w.asnumpy().tolist()
([0.0, 0.0], [1.0, 1.0])
"""

from __future__ import annotations

import logging
import os
import re

import numpy as np

from .. import _backend
from ..ndarray.ndarray import NDArray
from . import _theory
from ._base import InitDesc, Initializer, check_array, check_real, normalize_shape
from ._registry import create, register

__all__ = ["FusedRNN", "Mixed", "Load"]

_GATES = {"rnn_relu": ("",), "rnn_tanh": ("",), "lstm": ("_i", "_f", "_c", "_o"),
          "gru": ("_r", "_z", "_o")}  # fmt: skip


def _positive_int(value, what) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


@register
class FusedRNN(Initializer):
    """Initializes the flat parameter vector of a fused RNN layer, piece by piece.

    The vector holds every weight first (per layer, per direction: the i2h gate
    matrices, then the h2h ones), then every bias in the same order. Each piece is
    filled by ``init`` (or the global initializer) through name dispatch, so
    weights get its weight rule and biases 0; in ``'lstm'`` mode every forget-gate
    bias (i2h and h2h) gets ``forget_bias``.

    Parameters
    ----------
    init : Initializer, str or None
        The initializer of the pieces (a name or a ``dumps()`` string works too);
        None uses the global initializer of the call.
    num_hidden, num_layers : int
    mode : {'rnn_relu', 'rnn_tanh', 'lstm', 'gru'}
    bidirectional : bool, default False
    forget_bias : float, default 1.0

    Examples
    --------
    >>> import paramlab as mx
    >>> init = mx.init.FusedRNN(mx.init.One(), num_hidden=1, num_layers=1, mode='lstm')
    >>> p = mx.nd.zeros((16,))      # 1 input, 4 gates: 4 + 4 weights, 4 + 4 biases
    >>> init(mx.init.InitDesc('lstm_parameters_weight'), p)
    >>> p.asnumpy().tolist()[8:]
    [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if init is not None:
            init = create(init)
        num_hidden = _positive_int(num_hidden, "FusedRNN: num_hidden")
        num_layers = _positive_int(num_layers, "FusedRNN: num_layers")
        if mode not in _GATES:
            raise ValueError(f"FusedRNN: mode must be one of {list(_GATES)}, got {mode!r}")
        check_real(forget_bias, "FusedRNN: forget_bias")
        super().__init__(
            init=init.dumps() if init is not None else None,
            num_hidden=num_hidden,
            num_layers=num_layers,
            mode=mode,
            bidirectional=bidirectional,
            forget_bias=forget_bias,
        )
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bool(bidirectional)
        self._forget_bias = forget_bias

    def _pieces(self, size, name) -> list[tuple[str, int, tuple]]:
        """(piece name, start offset, piece shape) for a flat vector of ``size`` elements."""
        h, layers = self._num_hidden, self._num_layers
        gates = _GATES[self._mode]
        directions = ("l", "r") if self._bidirectional else ("l",)
        b, m = len(directions), len(gates)
        num_input = size // b // h // m - (layers - 1) * (h + b * h + 2) - h - 2
        total = (num_input + h + 2) * h * m * b + (layers - 1) * m * h * (h + b * h + 2) * b
        if num_input < 1 or total != size:
            raise ValueError(
                f"FusedRNN: {name} has {size} elements, which is not the size of a fused "
                f"{self._mode} layer with num_hidden={h}, num_layers={layers}, "
                f"bidirectional={self._bidirectional} for any input size"
            )
        pieces, offset = [], 0

        def add(piece, shape):
            nonlocal offset
            pieces.append((piece, offset, shape))
            offset += int(np.prod(shape))

        for kind in ("weight", "bias"):
            for layer in range(layers):
                columns = num_input if layer == 0 else b * h
                for direction in directions:
                    for group, cols in (("i2h", columns), ("h2h", h)):
                        for gate in gates:
                            shape = (h, cols) if kind == "weight" else (h,)
                            add(f"{direction}{layer}_{group}{gate}_{kind}", shape)
        return pieces

    def _is_forget_bias(self, piece) -> bool:
        return self._mode == "lstm" and piece.endswith("_f_bias")

    def _init_weight(self, desc, arr):
        pieces = self._pieces(arr.size, desc)
        inner = self._init if self._init is not None else getattr(desc, "global_init", None)
        if inner is None or inner is self:
            raise ValueError(
                f"FusedRNN: cannot initialize the pieces of {desc}: give FusedRNN an init= or "
                "call it through another (global) initializer"
            )
        global_init = getattr(desc, "global_init", None)
        xp, ctx = _backend.xp_of(arr._data), arr.context
        with _backend.device_scope(ctx):
            scratch = xp.empty(arr.size, arr._data.dtype)
            for piece, start, shape in pieces:  # fill a scratch copy: a failure changes nothing
                raw = scratch[start : start + int(np.prod(shape))].reshape(shape)
                if self._is_forget_bias(piece):
                    raw[...] = self._forget_bias
                else:
                    inner(InitDesc(piece, global_init=global_init), NDArray._wrap(raw, ctx))
            arr._data[...] = scratch.reshape(arr.shape)
        arr._bump()

    def theory(self, shape, dtype="float32"):
        """No single law; ``params['pieces']`` holds (name, start, shape, Theory or None).

        A weight piece's theory is that of ``init`` (None when ``init`` is None: the
        global initializer is only known at call time); biases are 0, LSTM
        forget-gate biases ``forget_bias``.
        """
        shape, dt = normalize_shape(shape, dtype, "FusedRNN")
        pieces = []
        for piece, start, piece_shape in self._pieces(int(np.prod(shape)), "the vector"):
            if self._is_forget_bias(piece):
                law = _theory.constant_theory(self._forget_bias, piece_shape, dt)
            elif piece.endswith("_bias"):
                law = _theory.constant_theory(0.0, piece_shape, dt)
            elif self._init is not None:
                law = self._init.theory(piece_shape, dt)
            else:
                law = None
            pieces.append((piece, start, piece_shape, law))
        return _theory.no_theory(
            shape,
            dt,
            "no single law: each piece of the fused vector follows its own theory "
            "(see params['pieces'])",
            pieces=tuple(pieces),
        )


def _as_callable_init(init, what):
    if isinstance(init, (str, dict)):
        return create(init)
    if not callable(init):
        raise TypeError(f"{what} must be an Initializer or a callable, got {type(init).__name__}")
    return init


class Mixed:
    """Initializes each array with the first initializer whose pattern matches its name.

    Patterns are regular expressions matched at the start of the name
    (``re.match``); the matching initializer is called with the name as given.

    Parameters
    ----------
    patterns : list of str
        Regular expressions.
    initializers : list of Initializer
        One per pattern (registered names and JSON strings work too).
    """

    def __init__(self, patterns, initializers):
        patterns, initializers = list(patterns), list(initializers)
        if len(patterns) != len(initializers):
            raise ValueError(
                f"Mixed: patterns and initializers must have the same length, got "
                f"{len(patterns)} patterns and {len(initializers)} initializers"
            )
        compiled = []
        for p in patterns:
            try:
                compiled.append(re.compile(p))
            except (re.error, TypeError) as exc:
                raise ValueError(f"Mixed: {p!r} is not a valid regular expression: {exc}") from None
        inits = [_as_callable_init(i, "Mixed: each initializer") for i in initializers]
        self.map = list(zip(compiled, inits))

    def _pick(self, name):
        for prog, init in self.map:
            if prog.match(name):
                return init
        raise ValueError(
            f"Mixed: parameter name {name} did not match any pattern "
            f"{[p.pattern for p, _ in self.map]}. Consider adding a '.*' pattern at the end "
            "with a default initializer."
        )

    def __call__(self, name, arr):
        if not isinstance(name, str):
            raise TypeError(f"Mixed: name must be a str, got {type(name).__name__}")
        check_array(arr, "Mixed")
        self._pick(name)(name, arr)

    def theory(self, shape, dtype="float32"):
        """No single law: the initializer is chosen per name (see :meth:`theory_for`)."""
        shape, dt = normalize_shape(shape, dtype, "Mixed")
        return _theory.no_theory(
            shape,
            dt,
            "no single law: the first pattern that matches the parameter name picks the "
            "initializer (see Mixed.theory_for)",
            patterns=tuple(p.pattern for p, _ in self.map),
        )

    def theory_for(self, name, shape, dtype="float32"):
        """The theory of the initializer that ``name`` selects."""
        init = self._pick(name)
        if hasattr(init, "theory"):
            return init.theory(shape, dtype)
        shape, dt = normalize_shape(shape, dtype, "Mixed")
        return _theory.no_theory(shape, dt, f"{init!r} does not state its theory")


class Load:
    """Initializes arrays by copying saved ones, by name.

    Names beginning with ``arg:`` or ``aux:`` are stored without that prefix.
    An array whose name was not saved is passed to ``default_init``.

    Parameters
    ----------
    param : str or dict of str to NDArray
        A file written by ``mx.nd.save`` (read with ``mx.nd.load``) or a dict.
    default_init : Initializer, optional
        Used for names that were not saved.
    verbose : bool, default False
        Log where each array came from.
    """

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, (str, os.PathLike)):
            param = _load_file(param)
        if not isinstance(param, dict):
            raise TypeError(
                f"Load: param must be a dict of NDArrays or a file name, got {type(param).__name__}"
            )
        self.param = {}
        for name, value in param.items():
            if not isinstance(name, str):
                raise TypeError(f"Load: names must be str, got {type(name).__name__} {name!r}")
            if not isinstance(value, (NDArray, np.ndarray)):
                raise TypeError(
                    f"Load: the value of {name!r} must be an NDArray, got {type(value).__name__}"
                )
            key = name[4:] if name.startswith(("arg:", "aux:")) else name
            self.param[key] = value
        if default_init is not None:
            default_init = _as_callable_init(default_init, "Load: default_init")
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if not isinstance(name, str):
            raise TypeError(f"Load: name must be a str, got {type(name).__name__}")
        check_array(arr, "Load")
        if name in self.param:
            self._copy(name, arr)
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise ValueError(
                f"Load: cannot initialize {name}: it is not among the loaded arrays "
                f"{sorted(self.param)} and no default_init was given"
            )
        self.default_init(name, arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)

    def _copy(self, name, arr):
        source = self.param[name]
        if tuple(source.shape) != tuple(arr.shape):
            raise ValueError(
                f"Load: parameter {name} cannot be initialized from loading: shape mismatch, "
                f"target {arr.shape} vs loaded {tuple(source.shape)}"
            )
        arr._check_write()
        if isinstance(source, NDArray):
            _backend.copy_into(arr._data, source._data, arr.context, source.context)
        else:
            _backend.copy_into(arr._data, source)
        arr._bump()

    def theory(self, shape, dtype="float32"):
        """No law: values are copied from the loaded arrays."""
        shape, dt = normalize_shape(shape, dtype, "Load")
        return _theory.no_theory(
            shape,
            dt,
            "no law: values are copied from the loaded array of the same name; other names "
            "fall back to default_init",
            names=tuple(sorted(self.param)),
        )


def _load_file(path):
    """``paramlab.ndarray.load(path)`` (imported when first needed)."""
    from .. import ndarray

    loader = getattr(ndarray, "load", None)
    if loader is None:
        raise RuntimeError(
            f"Load: cannot read {os.fspath(path)!r}: paramlab.ndarray.load is not available "
            "in this build; pass a dict of NDArrays instead"
        )
    return loader(path)
