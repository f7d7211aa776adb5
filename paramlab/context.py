"""Contexts: where an array lives.

A :class:`Context` is a small immutable value (device type + id), equal and
hashed by value, printed the way MXNet prints it (``cpu(1)``). ``cpu(0)``,
``cpu(1)``, ... are distinct contexts with their own buffers, so every
multi-device path runs on a machine without a GPU. ``gpu(i)`` is CuPy on device
``i``; creating, comparing and printing it never fails, only the first
allocation on a missing GPU does.

>>> import paramlab as mx
>>> mx.cpu(1)
cpu(1)
>>> with mx.cpu(1):
...     mx.current_context()
cpu(1)
>>> mx.current_context()
cpu(0)
"""

from __future__ import annotations

import contextvars
import operator

from . import _backend

__all__ = [
    "Context",
    "Device",
    "cpu",
    "gpu",
    "cpu_pinned",
    "cpu_shared",
    "current_context",
    "current_device",
    "num_gpus",
    "as_context",
]

_DEVICE_TYPES = ("cpu", "gpu", "cpu_pinned", "cpu_shared")
_TYPE_IDS = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5}
_TYPE_NAMES = {v: k for k, v in _TYPE_IDS.items()}

_current: contextvars.ContextVar[Context | None] = contextvars.ContextVar(
    "paramlab_current_context", default=None
)
# the tokens of the enclosing `with ctx:` blocks, per thread (so one Context object can be
# entered from several threads, or nested in one)
_tokens: contextvars.ContextVar[tuple] = contextvars.ContextVar(
    "paramlab_context_tokens", default=()
)


class Context:
    """A device: ``Context('cpu', 1)``, ``Context('gpu', 0)`` or ``Context(other)``.

    Parameters
    ----------
    device_type : str or Context
        ``'cpu'``, ``'gpu'``, ``'cpu_pinned'`` or ``'cpu_shared'``; or a Context to copy.
    device_id : int, default 0
        A non-negative device number.
    """

    # plain slots rather than properties: these are read on every array operation and
    # every replica lookup, and a slot read costs no Python call
    __slots__ = {
        "_hash": "The hash of (device_type, device_id), computed once.",
        "_key": "``(kind, device_id)``: the key of this context's replica in a parameter's tables.",
        "device_id": "The device number.",
        "device_type": "``'cpu'``, ``'gpu'``, ``'cpu_pinned'`` or ``'cpu_shared'``.",
        "kind": "``'gpu'`` for GPUs, ``'cpu'`` for every host kind (cpu, pinned, shared).",
    }

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        elif isinstance(device_type, int) and not isinstance(device_type, bool):
            if device_type not in _TYPE_NAMES:
                raise ValueError(
                    f"Context: device type code must be one of {sorted(_TYPE_NAMES)}, "
                    f"got {device_type!r}"
                )
            device_type = _TYPE_NAMES[device_type]
        if not isinstance(device_type, str) or device_type not in _DEVICE_TYPES:
            raise ValueError(
                f"Context: device_type must be one of {list(_DEVICE_TYPES)}, got {device_type!r}"
            )
        try:
            if isinstance(device_id, bool):  # operator.index(True) would give 1
                raise TypeError
            device_id = operator.index(device_id)
        except TypeError:
            raise TypeError(
                f"Context: device_id must be a non-negative int, got {device_id!r}"
            ) from None
        if isinstance(device_id, bool) or device_id < 0:
            raise ValueError(f"Context: device_id must be a non-negative int, got {device_id!r}")
        device_id = int(device_id)
        object.__setattr__(self, "device_type", device_type)
        object.__setattr__(self, "device_id", device_id)
        object.__setattr__(self, "kind", "gpu" if device_type == "gpu" else "cpu")
        # contexts key the random streams and the replica tables: hash once, not per lookup
        object.__setattr__(self, "_hash", hash((device_type, device_id)))
        object.__setattr__(self, "_key", (self.kind, device_id))

    def __setattr__(self, name, value):
        raise AttributeError(f"Context is immutable; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"Context is immutable; cannot delete {name!r}")

    @property
    def device_typeid(self) -> int:
        """MXNet's integer code for the device type (cpu 1, gpu 2, ...)."""
        return _TYPE_IDS[self.device_type]

    def __eq__(self, other):
        return (
            isinstance(other, Context)
            and self.device_type == other.device_type
            and self.device_id == other.device_id
        )

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"{self.device_type}({self.device_id})"

    __str__ = __repr__

    def __reduce__(self):
        return (Context, (self.device_type, self.device_id))

    def __enter__(self):
        _tokens.set((*_tokens.get(), _current.set(self)))
        return self

    def __exit__(self, *exc):
        stack = _tokens.get()
        _tokens.set(stack[:-1])
        _current.reset(stack[-1])
        return False

    def empty_cache(self):
        """Release cached GPU memory blocks (a no-op for CPU contexts)."""
        if self.device_type == "gpu" and _backend.cupy_available():
            xp = _backend.xp_for(self)
            xp.get_default_memory_pool().free_all_blocks()


Device = Context
"""The MXNet 2.0 name of :class:`Context`."""


def cpu(device_id=0) -> Context:
    """The host context ``cpu(device_id)``; different ids are different contexts."""
    return Context("cpu", device_id)


def gpu(device_id=0) -> Context:
    """The GPU context ``gpu(device_id)`` (CuPy on that device)."""
    return Context("gpu", device_id)


def cpu_pinned(device_id=0) -> Context:
    """MXNet's pinned host memory context; paramlab stores it like ``cpu``."""
    return Context("cpu_pinned", device_id)


def cpu_shared(device_id=0) -> Context:
    """MXNet's shared host memory context; paramlab stores it like ``cpu``."""
    return Context("cpu_shared", device_id)


_DEFAULT = Context("cpu", 0)


def current_context() -> Context:
    """The context used when none is given: ``cpu(0)`` unless inside ``with ctx:``."""
    ctx = _current.get()
    return _DEFAULT if ctx is None else ctx


current_device = current_context


def num_gpus() -> int:
    """The number of GPUs that paramlab can use (0 without CuPy)."""
    return _backend.num_gpus()


def as_context(ctx, what="ctx") -> Context:
    """Return ``ctx`` as a Context, ``current_context()`` for None; raise TypeError otherwise."""
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    if isinstance(ctx, str):
        name, _, rest = ctx.partition("(")
        if rest.endswith(")") and rest[:-1].isdigit():
            return Context(name, int(rest[:-1]))
        return Context(ctx, 0)
    raise TypeError(f"{what} must be a Context such as mx.cpu(0), got {ctx!r}")


def as_context_list(ctx, what="ctx") -> list[Context]:
    """Normalise None, one Context or a list of Contexts to a non-empty list."""
    if ctx is None:
        return [current_context()]
    if isinstance(ctx, (list, tuple)):
        if not ctx:
            raise ValueError(f"{what} must name at least one context, got {ctx!r}")
        return [as_context(c, what) for c in ctx]
    return [as_context(ctx, what)]
