"""``ParameterDict``: parameters by their 1.x prefixed names, with the 1.x helpers.

Keys are full names (``dense0_weight``). Structural names (``0.weight``),
which ``save_parameters`` writes, are accepted as aliases for lookup.

>>> import paramlab as mx
>>> params = mx.gluon.ParameterDict('net_')
>>> w = params.get('weight', shape=(2, 3))
>>> w.name, params.get('weight') is w
('net_weight', True)
"""

from __future__ import annotations

import collections
import re

from ..context import as_context_list
from .parameter import Constant, Parameter, grads_allocated_together

__all__ = ["ParameterDict"]


class ParameterDict:
    """An ordered mapping of full names to Parameters, with bulk helpers."""

    def __init__(self, prefix="", shared=None):
        if not isinstance(prefix, str):
            raise TypeError(f"ParameterDict: prefix must be a string, got {prefix!r}")
        self._prefix = prefix
        self._params: dict[str, Parameter] = collections.OrderedDict()
        self._aliases: dict[str, str] = {}
        self._shared = shared

    # ------------------------------------------------------------------ mapping
    @property
    def prefix(self):
        """The prefix prepended to names created by :meth:`get`."""
        return self._prefix

    def _resolve(self, key):
        if key in self._params:
            return key
        if key in self._aliases:
            return self._aliases[key]
        return None

    def __getitem__(self, key):
        full = self._resolve(key)
        if full is None:
            raise KeyError(
                f"ParameterDict has no parameter {key!r}; it holds {list(self._params)[:10]}"
                + (" ..." if len(self._params) > 10 else "")
            )
        return self._params[full]

    def __contains__(self, key):
        return self._resolve(key) is not None

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def keys(self):
        return self._params.keys()

    def values(self):
        return self._params.values()

    def items(self):
        return self._params.items()

    def __eq__(self, other):
        if isinstance(other, ParameterDict):
            return list(self.items()) == list(other.items())
        if isinstance(other, dict):
            return dict(self.items()) == other
        return NotImplemented

    def __repr__(self):
        head = f"{self._prefix} " if self._prefix else ""
        body = "\n".join(f"  {p!r}" for p in self._params.values())
        return f"{head}(\n{body}\n)"

    def _add(self, name, param, alias=None):
        existing = self._params.get(name)
        if existing is not None and existing is not param:
            raise ValueError(
                f"ParameterDict: cannot add {param!r} under {name!r}: that name already holds "
                f"a different parameter {existing!r}"
            )
        self._params[name] = param
        if alias and alias != name:
            self._aliases[alias] = name

    def _get_impl(self, name):
        if name in self._params:
            return self._params[name]
        if self._shared is not None and name in self._shared._params:
            param = self._shared._params[name]
            self._params[name] = param
            return param
        return None

    # ------------------------------------------------------------------ creation
    def get(self, name, **kwargs):
        """The parameter ``prefix + name``, created with ``kwargs`` if it does not exist.

        For an existing parameter, given attributes must agree (unknown shape
        dimensions are filled in).
        """
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            param = Parameter(full, **kwargs)
            self._params[full] = param
            return param
        for key, value in kwargs.items():
            if key == "shape" and value is not None:
                param.shape = value  # raises ValueError when incompatible
                continue
            current = getattr(param, key, None)
            if key == "dtype" and value is not None:
                import numpy as np

                if np.dtype(current) == np.dtype(value):
                    continue
            if value is not None and current != value:
                raise ValueError(
                    f"ParameterDict.get: parameter '{full}' exists with {key}={current!r}, "
                    f"which differs from the given {key}={value!r}"
                )
        return param

    def get_constant(self, name, value=None):
        """The Constant ``prefix + name``, created from ``value`` if it does not exist."""
        full = self._prefix + name
        param = self._get_impl(full)
        if param is None:
            if value is None:
                raise KeyError(
                    f"ParameterDict.get_constant: no constant '{full}' exists and no value was "
                    "given to create it"
                )
            param = Constant(full, value)
            self._params[full] = param
        elif not isinstance(param, Constant):
            raise TypeError(f"ParameterDict.get_constant: '{full}' exists but is not a Constant")
        return param

    def update(self, other):
        """Add every parameter of ``other`` (same name and different object: ValueError)."""
        items = other.items() if hasattr(other, "items") else other
        items = list(items)
        for name, param in items:
            existing = self._params.get(name)
            if existing is not None and existing is not param:
                raise ValueError(
                    f"Cannot update self with other because they have different Parameters "
                    f"with the same name '{name}'"
                )
        for name, param in items:
            self._params[name] = param
        if isinstance(other, ParameterDict):
            self._aliases.update(other._aliases)

    def select(self, pattern):
        """A new dict of the parameters whose full names ``re.match`` ``pattern``."""
        regex = re.compile(pattern)
        out = ParameterDict(self._prefix)
        for name, param in self._params.items():
            if regex.match(name):
                out._params[name] = param
        out._aliases = {a: n for a, n in self._aliases.items() if n in out._params}
        return out

    # ------------------------------------------------------------------ bulk helpers
    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False, device=None):
        """Initialize every parameter; ``init`` is the default for those without their own."""
        from .. import initializer

        init = initializer.Uniform() if init is None else init
        if verbose and hasattr(init, "set_verbosity"):
            init.set_verbosity(verbose=verbose)
        ctx = device if ctx is None else ctx
        if ctx is not None:
            as_context_list(ctx, "ParameterDict.initialize: ctx")
        params = self._params.values()
        with grads_allocated_together(params, ctx, force_reinit):
            for param in params:
                param.initialize(None, ctx, init, force_reinit=force_reinit)

    def zero_grad(self):
        """Zero every gradient buffer."""
        for param in self._params.values():
            param.zero_grad()

    def reset_ctx(self, ctx):
        """Move every parameter to ``ctx``."""
        ctx_list = as_context_list(ctx, "ParameterDict.reset_ctx: ctx")
        for param in self._params.values():
            param.reset_ctx(ctx_list)

    reset_device = reset_ctx

    def list_ctx(self):
        """Every context used by any parameter (first-seen order)."""
        seen = []
        for param in self._params.values():
            for c in param.list_ctx():
                if c not in seen:
                    seen.append(c)
        return seen

    list_device = list_ctx

    def setattr(self, name, value):
        """Set attribute ``name`` to ``value`` on every parameter (e.g. 'grad_req', 'lr_mult')."""
        if name not in ("grad_req", "lr_mult", "wd_mult", "dtype", "init", "shape") and not all(
            hasattr(p, name) for p in self._params.values()
        ):
            raise AttributeError(f"ParameterDict.setattr: parameters have no attribute {name!r}")
        if name == "grad_req" and value not in ("write", "add", "null"):
            raise ValueError(
                f"ParameterDict.setattr: grad_req must be 'write', 'add' or 'null', got {value!r}"
            )
        for param in self._params.values():
            setattr(param, name, value)

    # ------------------------------------------------------------------ checkpoints
    def save(self, filename, strip_prefix=""):
        """Save every parameter by full name minus ``strip_prefix`` (see gluon.checkpoint)."""
        from .checkpoint import save_parameter_dict

        save_parameter_dict(self, filename, strip_prefix)

    def load(
        self,
        filename,
        ctx=None,
        allow_missing=False,
        ignore_extra=False,
        restore_prefix="",
        cast_dtype=False,
        dtype_source="current",
    ):
        """Load parameters saved by :meth:`save` (or MXNet) by full name (see gluon.checkpoint)."""
        from .checkpoint import load_parameter_dict

        load_parameter_dict(
            self,
            filename,
            ctx,
            allow_missing,
            ignore_extra,
            restore_prefix,
            cast_dtype,
            dtype_source,
        )
