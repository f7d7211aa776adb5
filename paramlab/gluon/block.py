"""``Block`` and ``HybridBlock``: parameters and child blocks, named the MXNet 1.x way.

Naming: a block made outside any ``name_scope()`` takes a process-wide name
from a per-class counter (``dense0``, ``dense1``, ...); a block made inside its
parent's ``name_scope()`` takes a counter local to that parent and the parent's
prefix (``mlp0_dense0``). Parameters are named ``<prefix><name>``.

Structural names (``0.weight``, ``hidden.bias``) are the attribute paths that
``save_parameters`` writes; ``collect_params()`` accepts them as aliases.
"""

from __future__ import annotations

import collections
import itertools
import re
import threading
import warnings

from ..ndarray.ndarray import NDArray
from .parameter import Parameter
from .parameter_dict import ParameterDict

__all__ = ["Block", "HybridBlock", "HookHandle", "name_counter_reset"]

_global_counters: collections.Counter = collections.Counter()
_scope = threading.local()


def name_counter_reset():
    """Restart the process-wide per-class name counters (``dense0`` again)."""
    _global_counters.clear()


class _BlockScope:
    """The naming scope a block opens with ``name_scope()``."""

    def __init__(self, block):
        self._block = block
        self._counter: collections.Counter = collections.Counter()
        self._old = None

    @staticmethod
    def current():
        return getattr(_scope, "current", None)

    @staticmethod
    def create(prefix, params, hint):
        """The prefix and ParameterDict of a new block of kind ``hint``."""
        current = _BlockScope.current()
        if current is None:
            if prefix is None:
                prefix = f"{hint}{_global_counters[hint]}_"
                _global_counters[hint] += 1
            own = ParameterDict(prefix) if params is None else ParameterDict(params.prefix, params)
            return prefix, own
        if prefix is None:
            prefix = f"{hint}{current._counter[hint]}_"
            current._counter[hint] += 1
        parent = current._block
        if params is None:
            own = ParameterDict(parent.params.prefix + prefix, parent.params._shared)
        else:
            own = ParameterDict(params.prefix, params)
        return parent.prefix + prefix, own

    def __enter__(self):
        if self._block._empty_prefix:
            return self
        self._old = _BlockScope.current()
        _scope.current = self
        return self

    def __exit__(self, *exc):
        if self._block._empty_prefix:
            return False
        _scope.current = self._old
        return False


class HookHandle:
    """Returned by ``register_forward_hook``; ``detach()`` removes the hook."""

    _ids = itertools.count()

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._id = next(HookHandle._ids)
        hooks[self._id] = hook

    def detach(self):
        """Remove the hook (idempotent)."""
        self._hooks.pop(self._id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


class Block:
    """The base of every layer and model.

    Subclasses create parameters (``self.params.get(...)`` or by assigning a
    ``Parameter``), child blocks (by assigning them) and write ``forward``.
    """

    def __init__(self, prefix=None, params=None):
        object.__setattr__(self, "_children", collections.OrderedDict())
        self._empty_prefix = prefix == ""
        self._prefix, self._params = _BlockScope.create(prefix, params, self._alias())
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix
        self._scope = _BlockScope(self)
        self._reg_params: dict[str, Parameter] = collections.OrderedDict()
        self._forward_hooks: dict = collections.OrderedDict()
        self._forward_pre_hooks: dict = collections.OrderedDict()

    def _alias(self):
        return type(self).__name__.lower()

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        children = self.__dict__.get("_children")
        if isinstance(value, Block):
            if children is None:
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() before assigning child blocks"
                )
            self.register_child(value, name)
        elif isinstance(value, Parameter) and "_reg_params" in self.__dict__:
            existing = self._reg_params.get(name)
            if existing is not None and existing is not value:
                warnings.warn(
                    f"{type(self).__name__}: attribute '{name}' replaces parameter "
                    f"'{existing.name}' with '{value.name}'",
                    UserWarning,
                    stacklevel=2,
                )
            self._reg_params[name] = value
        object.__setattr__(self, name, value)

    def register_child(self, block, name=None):
        """Register ``block`` as a child (named by its position when ``name`` is None)."""
        if not isinstance(block, Block):
            raise TypeError(f"register_child: expected a Block, got {type(block).__name__}")
        if name is None:
            name = str(len(self._children))
        self._children[name] = block

    def register_forward_pre_hook(self, hook):
        """Call ``hook(block, inputs)`` before each forward; returns a HookHandle."""
        return HookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(block, inputs, outputs)`` after each forward; returns a HookHandle."""
        return HookHandle(self._forward_hooks, hook)

    def apply(self, fn):
        """Call ``fn(block)`` on every descendant then on this block; return self."""
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ names and parameters
    @property
    def prefix(self):
        """The prefix of this block's parameter names (``dense0_``)."""
        return self._prefix

    @property
    def name(self):
        """The block's name (``dense0``)."""
        return self._name

    @property
    def params(self):
        """This block's own ParameterDict (not its children's)."""
        return self._params

    def name_scope(self):
        """A scope in which child blocks take this block's prefix."""
        return self._scope

    def _own_params(self):
        """(structural name, Parameter) of this block's own parameters."""
        seen = {}
        for attr, p in self._reg_params.items():
            seen.setdefault(id(p), (attr, p))
        for full, p in self._params.items():
            if id(p) not in seen:
                short = (
                    full[len(self._params.prefix) :]
                    if full.startswith(self._params.prefix)
                    else full
                )
                seen[id(p)] = (short, p)
        return list(seen.values())

    def _collect_params_with_prefix(self, prefix=""):
        """Structural name -> Parameter for this block and its descendants (deduplicated)."""
        out = collections.OrderedDict()
        seen = set()
        self._walk_params(prefix, out, seen)
        return out

    def _walk_params(self, prefix, out, seen):
        for short, p in self._own_params():
            if id(p) not in seen:
                seen.add(id(p))
                out[prefix + short] = p
        for name, child in self._children.items():
            child._walk_params(f"{prefix}{name}.", out, seen)

    def collect_params(self, select=None):
        """Every parameter of this block and its descendants, by full name (deduplicated).

        ``select`` keeps those whose full name ``re.match``es the pattern.
        Structural names (``0.weight``) work as aliases for lookup.
        """
        structural = self._collect_params_with_prefix()
        ret = ParameterDict(self._params.prefix)
        regex = re.compile(select) if select is not None else None
        for alias, p in structural.items():
            if regex is not None and not regex.match(p.name):
                continue
            ret._add(p.name, p, alias)
        return ret

    def share_parameters(self, shared):
        """Use the Parameters in ``shared`` (structural name -> Parameter) instead of our own."""
        if shared is None:
            return self
        if isinstance(shared, Block):
            shared = shared.collect_params()
        if not isinstance(shared, dict) and not isinstance(shared, ParameterDict):
            raise TypeError(
                f"share_parameters: expected a dict of Parameters, got {type(shared).__name__}"
            )
        mine = self._collect_params_with_prefix()
        if isinstance(shared, ParameterDict) and shared._aliases:
            items = {alias: shared[alias] for alias in shared._aliases}  # structural names
        else:
            items = dict(shared.items())
        unknown = [k for k in items if k not in mine]
        if unknown:
            raise KeyError(f"share_parameters: this block has no parameters named {unknown}")
        for key, param in items.items():
            self._replace_param(key.split("."), param)
        return self

    def _replace_param(self, path, param):
        if len(path) > 1:
            self._children[path[0]]._replace_param(path[1:], param)
            return
        attr = path[0]
        old = self._reg_params.get(attr)
        if old is not None:
            self._reg_params[attr] = param
            object.__setattr__(self, attr, param)
        for full, p in list(self._params.items()):
            if p is old:
                self._params._params[full] = param

    # ------------------------------------------------------------------ bulk operations
    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False, device=None):
        """Initialize every parameter (``init`` is the default for those without their own)."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit, device=device)

    def zero_grad(self):
        """Zero every gradient buffer of the model."""
        for p in self._collect_params_with_prefix().values():
            p.zero_grad()

    def setattr(self, name, value):
        """Set an attribute (e.g. 'grad_req', 'lr_mult') on every parameter."""
        self.collect_params().setattr(name, value)

    def reset_ctx(self, ctx):
        """Move every parameter to ``ctx``."""
        self.collect_params().reset_ctx(ctx)

    reset_device = reset_ctx

    def cast(self, dtype):
        """Cast every parameter (and child) to ``dtype``."""
        for child in self._children.values():
            child.cast(dtype)
        for _, p in self._own_params():
            p.cast(dtype)

    def hybridize(self, active=True, **kwargs):
        """Accepted for compatibility: paramlab always runs imperatively."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    # ------------------------------------------------------------------ running
    def infer_shape(self, *args):
        """Fill unknown parameter dimensions from the inputs (layers override this)."""
        raise RuntimeError(
            f"{self.name}: cannot infer the shapes of its parameters from the inputs; give "
            "their full shapes (in_units, in_channels, ...) or override infer_shape()"
        )

    def _prepare_params(self, args):
        """Say how to initialize an uninitialized block; finish deferred initialization."""
        pending = []
        for _, p in self._own_params():
            if p._pending is not None:
                pending.append(p)
            elif not p._replicas:
                raise RuntimeError(
                    f"Parameter '{p.name}' of block '{self.name}' has not been initialized: "
                    f"call .initialize() on this block or on the model that contains it "
                    f"(e.g. net.initialize(ctx=mx.cpu())) before running it"
                )
        if pending and any(isinstance(a, NDArray) for a in args):
            self.infer_shape(*args)
            for p in pending:
                p._finish_deferred_init()

    def __call__(self, *args, **kwargs):
        if self._reg_params or len(self._params):
            self._prepare_params(args)
        for hook in list(self._forward_pre_hooks.values()):
            hook(self, args)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            hook(self, args, out)
        return out

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    # ------------------------------------------------------------------ display
    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for key, child in self._children.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({key}): {body}")
        lines.append(")")
        return "\n".join(lines)

    def __getitem__(self, key):
        raise TypeError(f"{type(self).__name__} does not support indexing")

    def summary(self, *inputs):
        """Print each layer's output shape and parameter count for one forward pass."""
        from .summary import print_summary

        print_summary(self, *inputs)

    # ------------------------------------------------------------------ checkpoints
    def save_parameters(self, filename, deduplicate=False):
        """Save the parameters under their structural names (see paramlab.gluon.checkpoint)."""
        from .checkpoint import save_parameters

        save_parameters(self, filename, deduplicate)

    def load_parameters(
        self,
        filename,
        ctx=None,
        allow_missing=False,
        ignore_extra=False,
        cast_dtype=False,
        dtype_source="current",
    ):
        """Load parameters saved by ``save_parameters`` (or MXNet)."""
        from .checkpoint import load_parameters

        load_parameters(self, filename, ctx, allow_missing, ignore_extra, cast_dtype, dtype_source)

    save_params = save_parameters
    load_params = load_parameters


class HybridBlock(Block):
    """A block whose computation is written once for any array namespace.

    Write ``forward(self, x)`` (2.0 style) or ``hybrid_forward(self, F, x, **params)``
    (1.x style: ``F`` is ``mx.nd``, which also carries ``F.np`` and ``F.npx``; the
    parameters arrive as arrays on ``x``'s context). Unknown input sizes are
    inferred on the first call through :meth:`infer_shape`.
    """

    def hybridize(self, active=True, **kwargs):
        """Accepted for compatibility: paramlab always runs imperatively."""
        self._active = active
        super().hybridize(active, **kwargs)

    def forward(self, x, *args):
        if type(self).hybrid_forward is HybridBlock.hybrid_forward:
            raise NotImplementedError(
                f"{type(self).__name__} must implement forward() or hybrid_forward()"
            )
        from .. import ndarray as F  # noqa: N812 - MXNet's name for the namespace

        ctx = x.context
        params = {attr: p.data(ctx) for attr, p in self._reg_params.items()}
        return self.hybrid_forward(F, x, *args, **params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError
