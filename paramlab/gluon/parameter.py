"""``Parameter`` and ``Constant``: one value, a replica on every context, a gradient per replica.

State is explicit data:

- ``_replicas``: a dict Context -> NDArray in context-list order (empty until initialized);
- gradients live on the replicas (``replica._grad``): a dense buffer is allocated on its
  first use (backward, ``grad()``, a Trainer step), as a zero buffer allocated up front would
  read; ``_grads`` is the table of all of them, allocated when read;
- ``_pending``: a frozen :class:`PendingInit` while initialization is deferred, else None.

Every method validates first and mutates after, so a call that raises leaves
every replica, gradient, shape and attribute as it was. Changes are announced
to weakly held observers (:meth:`Parameter.observe`); with none, nothing is done.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import operator
import sys
import warnings
import weakref

import numpy as np

from .. import _backend
from .. import initializer as _init
from .._autograd import state as _ag_state
from .._dtypes import canonical
from ..base import DeferredInitializationError
from ..context import Context, as_context_list, current_context
from ..initializer._base import Initializer, fill_parameter, fills_everything
from ..ndarray.ndarray import NDArray
from ..util import is_np_array, is_np_shape

__all__ = [
    "Parameter",
    "Constant",
    "DeferredInitializationError",
    "PendingInit",
    "tensor_types",
    "drawn_by",
]

tensor_types = (NDArray,)

_GRAD_REQS = ("write", "add", "null")
_DEFAULT_INIT = _init.Uniform()  # MXNet's default_init, shared (initializers hold no state)
_STYPES = ("default", "row_sparse", "csr")


@dataclasses.dataclass(frozen=True)
class PendingInit:
    """What a deferred ``initialize()`` asked for, applied once the shape is known."""

    init: object
    ctx_list: tuple
    default_init: object
    data: object = None  # values stashed by set_data while deferred (an NDArray)


# Gradient buffers allocated ahead by grads_allocated_together(): id(Parameter) -> {key: zeros}
_early_grads: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "paramlab_early_grads", default=None
)


@contextlib.contextmanager
def grads_allocated_together(params, ctx=None, force_reinit=False):
    """Allocate the host gradient buffers of ``params`` one after another, up front.

    ``ParameterDict.initialize`` runs its loop in this scope. Initializing parameters one
    by one would interleave each value with its gradient in memory; allocating the
    gradients first puts them next to each other, so that ``zero_grad`` and the optimizers,
    which sweep over all gradients, stream through memory (about twice as fast for many
    small parameters). Only the allocation order changes: every buffer is still its own
    zeroed array, taken by the parameter's ``initialize`` if shape and dtype match and
    dropped at the end of the scope otherwise.

    Parameters
    ----------
    params : iterable of Parameter
    ctx : Context or list of Context, optional
        The contexts ``initialize`` will be given (the current context when None).
    force_reinit : bool
        Whether initialized parameters are initialized again.
    """
    contexts = [c for c in as_context_list(ctx) if c.kind == "cpu"]
    early = {}
    for param in params:
        if (
            id(param) in early
            or (param._replicas and not force_reinit)
            or param._grad_req == "null"
            or param._grad_stype != "default"
            or param._stype != "default"  # sparse replicas get their buffers when made
            or not param._shape_known()
        ):
            continue
        early[id(param)] = {_ctx_key(c): np.zeros(param._shape, param._np_dtype) for c in contexts}
    token = _early_grads.set(early)
    try:
        yield
    finally:
        _early_grads.reset(token)


_ONE_CONTEXT: dict = {}  # Context -> the tuple (ctx,), shared by every parameter on ctx alone


def _one_context(ctx: Context) -> tuple:
    """``(ctx,)``, one shared tuple per context (a parameter keeps it as its context list)."""
    one = _ONE_CONTEXT.get(ctx)
    if one is None:
        one = _ONE_CONTEXT[ctx] = (ctx,)
    return one


def _ctx_key(ctx: Context):
    """Replica lookup key: cpu, cpu_pinned and cpu_shared share one class (as in MXNet).

    ``(kind, device_id)``, made once by the context itself (``Context._key``).
    """
    return ctx._key


_DTYPES_SEEN: dict = {}  # dtype spellings already accepted (str, type, np.dtype) -> np.dtype


def _canonical_dtype(dtype, name):
    """``canonical(dtype)`` for a parameter, remembering the spellings it has accepted."""
    if isinstance(dtype, (str, type, np.dtype)):
        dt = _DTYPES_SEEN.get(dtype)
        if dt is None:
            dt = _DTYPES_SEEN[dtype] = canonical(dtype, f"Parameter '{name}': dtype")
        return dt
    return canonical(dtype, f"Parameter '{name}': dtype")


def _shape_tuple(shape, name):
    """``shape`` as a tuple of ints (an int is a 1-d shape, None stays None)."""
    if type(shape) is tuple:
        for d in shape:
            if type(d) is not int:
                break
        else:
            return shape  # the usual spelling: nothing to convert
    if shape is None:
        return None
    if (
        type(shape) is not tuple  # the usual spelling: skip the slower tests below
        and isinstance(shape, (int, np.integer))
        and not isinstance(shape, bool)
    ):
        return (int(shape),)
    try:
        return tuple(map(operator.index, shape))
    except TypeError:
        raise TypeError(
            f"Parameter '{name}': shape must be an int or a tuple of ints, got {shape!r}"
        ) from None


def _stored_shape(shape, name):
    """A new parameter's ``shape`` as the parameter keeps it: ints, 0 for unknown dims.

    ``-1`` (NumPy-shape's unknown) is accepted and stored as 0; ValueError below -1.
    """
    shape = _shape_tuple(shape, name)
    if shape and min(shape) < 0:
        _check_dims(shape, name)
        shape = tuple(0 if d == -1 else d for d in shape)
    return shape


def _check_dims(shape, name):
    """ValueError if a dimension of ``shape`` (a tuple of ints or None) is below -1."""
    if shape and min(shape) < -1:
        raise ValueError(
            f"Parameter '{name}': shape dimensions must be >= 0 (or -1 for unknown), got {shape}"
        )


def _grad_written(param_ref, replica):
    """A replica's gradient hook (``functools.partial``-bound by ``Parameter._grad_hook``).

    Backward calls it after writing the replica's gradient. The parameter is held by a
    weak reference, so replicas do not point back to their parameter: a dropped parameter
    is freed at once by reference counting, with its buffers, instead of waiting in a
    reference cycle for the garbage collector. Its only effect is the 'grad_written'
    event, so replicas carry it only while their parameter has observers.
    """
    param = param_ref()
    if param is not None:
        param._on_grad_written(replica)


class Parameter:
    """A parameter of a Block: a value on each of its contexts, and their gradients.

    Parameters
    ----------
    name : str, default 'weight'
        The name (MXNet 1.x requires it; 2.0 defaults it).
    grad_req : {'write', 'add', 'null'}
    shape : int or tuple of int, optional
        Unknown dimensions are 0 (-1 under NumPy-shape semantics).
    dtype : dtype, default numpy.float32
    lr_mult, wd_mult : float
    init : Initializer, str or None
    allow_deferred_init : bool
    differentiable : bool
    stype, grad_stype : {'default', 'row_sparse', 'csr'}

    Examples
    --------
    >>> import paramlab as mx
    >>> w = mx.gluon.Parameter('fc_weight', shape=(2, 3), init=mx.init.One())
    >>> w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    >>> [d.context for d in w.list_data()]
    [cpu(0), cpu(1)]
    >>> w.data(mx.cpu(1)).asnumpy().sum()
    np.float32(6.0)
    """

    def __init__(
        self,
        name="weight",
        grad_req="write",
        shape=None,
        dtype=np.float32,
        lr_mult=1.0,
        wd_mult=1.0,
        init=None,
        allow_deferred_init=False,
        differentiable=True,
        stype="default",
        grad_stype="default",
    ):
        if not isinstance(name, str):
            raise TypeError(f"Parameter: name must be a string, got {name!r}")
        if grad_stype not in _STYPES or stype not in _STYPES:
            for what, value in (("grad_stype", grad_stype), ("stype", stype)):
                if value not in _STYPES:
                    raise ValueError(
                        f"Parameter '{name}': {what} must be one of {list(_STYPES)}, got {value!r}"
                    )
        self._np_dtype = _canonical_dtype(dtype, name)
        self.name = name
        self._shape = _stored_shape(shape, name)
        self._dtype = dtype
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.init = init
        self._allow_deferred_init = bool(allow_deferred_init)
        self._differentiable = bool(differentiable)
        self._stype = stype
        self._grad_stype = grad_stype
        self._replicas: dict[tuple, NDArray] = {}
        self._ctx_list: tuple[Context, ...] = ()
        self._pending: PendingInit | None = None
        self._observers: list | None = None
        self._var = None
        self._trainer = None
        # the fields of _init_record, set together by every initialization; all of an
        # instance's attributes are first set here, so that instances keep sharing one
        # attribute layout (an attribute first set later gives each instance a dict)
        self._init_ctx = self._init_by = self._init_default = self._init_versions = None
        self._grad_req = "null"
        self.grad_req = grad_req

    # ------------------------------------------------------------------ observers
    def observe(self, callback):
        """Call ``callback(param, event, info)`` on every change; held weakly.

        Events: 'initialized', 'deferred', 'data_set', 'grad_zeroed', 'grad_req',
        'cast', 'ctx_reset', 'grad_written', 'step'. Returns the callback.
        """
        ref = (
            weakref.WeakMethod(callback) if hasattr(callback, "__self__") else weakref.ref(callback)
        )
        if self._observers is None:
            self._observers = []
        self._observers.append(ref)
        if self._replicas and self._grad_req != "null":  # made while no one observed: no hook
            hook = self._grad_hook()
            for r in self._replicas.values():
                r._grad_hook = hook
        return callback

    def unobserve(self, callback):
        """Stop calling ``callback``."""
        if self._observers:
            self._observers = [r for r in self._observers if r() not in (None, callback)]

    def _notify(self, event, **info):
        if not self._observers:
            return
        alive = []
        for ref in self._observers:
            cb = ref()
            if cb is not None:
                alive.append(ref)
                cb(self, event, info)
        self._observers = alive

    def _on_grad_written(self, replica):
        if self._observers:
            self._notify("grad_written", ctx=replica.context)

    def _grad_hook(self):
        """A new hook that sends 'grad_written' for a replica (see :func:`_grad_written`)."""
        return functools.partial(_grad_written, weakref.ref(self))

    # ------------------------------------------------------------------ repr
    def __repr__(self):
        return f"{type(self).__name__} {self.name} (shape={self.shape}, dtype={self._dtype})"

    # ------------------------------------------------------------------ attributes
    @property
    def grad_req(self):
        """How backward writes gradients: 'write', 'add' or 'null'."""
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req):
        if req not in _GRAD_REQS:
            raise ValueError(
                f"Parameter '{self.name}': grad_req must be one of 'write', 'add', or 'null', "
                f"but got {req!r}"
            )
        if not self._differentiable:
            req = "null"
        if req == self._grad_req:
            return
        self._grad_req = req
        if self._replicas:  # new gradients (zero, as in MXNet), or none for 'null'
            self._attach(self._replicas, self._new_grads(self._replicas) if req != "null" else {})
            self._notify("grad_req", grad_req=req)

    @property
    def shape(self):
        """The shape; unknown dimensions read 0 (-1 under NumPy-shape semantics)."""
        if self._shape is None:
            return None
        if is_np_shape():
            return tuple(-1 if d == 0 else d for d in self._shape)
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        self._set_shape_checked(_shape_tuple(new_shape, self.name))

    def _merged_shape(self, new_shape):
        """The shape after assigning ``new_shape``: unknown dims filled, nothing else changed."""
        if self._shape is None or new_shape is None:
            return new_shape
        if len(self._shape) != len(new_shape) or any(
            cur not in (0, -1) and cur != new for cur, new in zip(self._shape, new_shape)
        ):
            raise ValueError(
                f"Parameter '{self.name}': expected shape {new_shape} is incompatible with "
                f"given shape {self.shape}"
            )
        return tuple(new if cur in (0, -1) else cur for cur, new in zip(self._shape, new_shape))

    def _set_shape_checked(self, new_shape):
        _check_dims(new_shape, self.name)
        merged = self._merged_shape(new_shape)
        if merged is not None and -1 in merged:
            merged = tuple(0 if d == -1 else d for d in merged)
        self._shape = merged

    def _shape_known(self):
        """Whether every dimension is known (> 0); a 0-d shape counts only under NumPy-shape."""
        shape = self._shape  # (as kept: dims >= 0, unknown ones 0)
        if shape is None:
            return False
        return 0 not in shape if shape else is_np_shape()

    @property
    def dtype(self):
        """The element type (as given); assigning casts."""
        return self._dtype

    @dtype.setter
    def dtype(self, dtype):
        self.cast(dtype)

    @property
    def stype(self):
        """The storage type of the values."""
        return self._stype

    @property
    def grad_stype(self):
        """The storage type of the gradients."""
        return self._grad_stype

    @property
    def allow_deferred_init(self):
        return self._allow_deferred_init

    @property
    def differentiable(self):
        return self._differentiable

    # ------------------------------------------------------------------ state checks
    def _check_initialized(self, what):
        if self._replicas:
            return
        if self._pending is not None:
            raise DeferredInitializationError(
                f"Parameter '{self.name}' has not been initialized yet because initialization "
                "was deferred. Actual initialization happens during the first forward pass. "
                "Please pass one batch of data through the network before accessing Parameters. "
                "You can also avoid deferred initialization by specifying in_units, "
                "num_features, etc., for network layers."
            )
        raise RuntimeError(
            f"Parameter '{self.name}' has not been initialized. Note that you should "
            "initialize parameters and create Trainer with Block.collect_params() instead of "
            "Block.params because the later does not include Parameters of nested child Blocks"
        )

    def _check_dense(self, what):
        if self._stype != "default":
            raise RuntimeError(
                f"Cannot return a copy of Parameter '{self.name}' via {what}() because its "
                f"storage type is {self._stype}. Please use row_sparse_data() instead."
            )

    def _lookup(self, table, ctx, what):
        if ctx is None:
            if len(self._ctx_list) == 1:
                return table[_ctx_key(self._ctx_list[0])]
            ctx = current_context()
        ctx = as_context_list(ctx, f"Parameter '{self.name}': {what}: ctx")[0]
        try:
            return table[_ctx_key(ctx)]
        except KeyError:
            raise RuntimeError(
                f"Parameter '{self.name}' was not initialized on context {ctx}. It was only "
                f"initialized on {list(self._ctx_list)}."
            ) from None

    def _check_grad(self):
        if self._grad_req == "null":
            raise RuntimeError(
                f"Cannot get gradient array for Parameter '{self.name}' because grad_req='null'"
            )

    # ------------------------------------------------------------------ data and gradients
    def data(self, ctx=None):
        """The live replica on ``ctx`` (the only one, or the current context's)."""
        self._check_dense("data")
        self._check_initialized("data")
        return self._lookup(self._replicas, ctx, "data")

    def list_data(self):
        """The replicas, in context-list order."""
        self._check_dense("list_data")
        self._check_initialized("list_data")
        return [self._replicas[_ctx_key(c)] for c in self._ctx_list]

    def grad(self, ctx=None):
        """The gradient buffer on ``ctx``."""
        self._check_initialized("grad")
        self._check_grad()
        return self._lookup(self._replicas, ctx, "grad")._grad_buffer()

    def list_grad(self):
        """The gradient buffers, in context-list order."""
        self._check_initialized("list_grad")
        self._check_grad()
        return [self._replicas[_ctx_key(c)]._grad_buffer() for c in self._ctx_list]

    @property
    def _grads(self):
        """``{key: gradient buffer}`` in context order (allocating deferred ones); {} for 'null'."""
        if self._grad_req == "null":
            return {}
        return {key: r._grad_buffer() for key, r in self._replicas.items()}

    def list_ctx(self):
        """The contexts this parameter lives on (the pending list while deferred)."""
        if self._replicas:
            return list(self._ctx_list)
        if self._pending is not None:
            return list(self._pending.ctx_list)
        raise RuntimeError(f"Parameter '{self.name}' has not been initialized")

    list_device = list_ctx

    def zero_grad(self):
        """Set every gradient buffer to 0 (a no-op without gradients)."""
        if not self._replicas or self._grad_req == "null":
            return
        dense = self._grad_stype == "default"
        for r in self._replicas.values():
            g = r._grad
            if g is None:  # not allocated yet: zero already
                continue
            if dense or g.stype == "default":
                g._data.fill(0)
                g._version += 1
            else:
                g._zero_grad()
        if self._observers:
            self._notify("grad_zeroed")

    # ------------------------------------------------------------------ initialization
    def initialize(
        self,
        init=None,
        ctx=None,
        default_init=None,
        force_reinit=False,
        device=None,
        structural_name="",
    ):
        """Create the replicas (and gradients) on ``ctx``.

        The initializer is ``init`` if given, else the parameter's own ``init``,
        else ``default_init`` (``Uniform()``). With an unknown shape and
        ``allow_deferred_init`` the request is stored until the shape is known.
        """
        if self._replicas and not force_reinit:
            warnings.warn(
                f"Parameter '{self.name}' is already initialized, ignoring. "
                "Set force_reinit=True to re-initialize.",
                UserWarning,
                stacklevel=2,
            )
            return
        if ctx is None:
            ctx = device
        if isinstance(ctx, Context):  # the common case: one context, nothing to normalise
            ctx_list = _one_context(ctx)
        else:
            ctx_list = tuple(as_context_list(ctx, f"Parameter '{self.name}': initialize: ctx"))
            if len(ctx_list) > 1 and len({_ctx_key(c) for c in ctx_list}) != len(ctx_list):
                raise ValueError(
                    f"Parameter '{self.name}': initialize: contexts must be distinct, got "
                    f"{list(ctx_list)}"
                )
        for c in ctx_list:
            if c.kind == "gpu":  # host contexts can always hold arrays
                _backend.check_device(c)
        default_init = _DEFAULT_INIT if default_init is None else default_init
        chosen = (
            init if init is not None else (self.init if self.init is not None else default_init)
        )
        if not self._shape_known():
            if not self._allow_deferred_init:
                raise ValueError(
                    f"Cannot initialize Parameter '{self.name}' because it has invalid shape: "
                    f"{self.shape}."
                )
            self._replicas, self._ctx_list = {}, ()
            self._pending = PendingInit(chosen, ctx_list, default_init)
            self._notify("deferred", ctx=list(ctx_list))
            return
        self._complete_from(chosen, ctx_list, default_init, None)

    def _finish_deferred_init(self):
        """Complete a deferred initialization once the shape is known (used by blocks)."""
        if self._pending is None:
            return
        if not self._shape_known():
            raise ValueError(
                f"Cannot initialize Parameter '{self.name}' because it has invalid shape: "
                f"{self.shape}. Please specify in_units, in_channels, etc for Blocks."
            )
        self._complete(self._pending)
        self._notify("deferred_done")

    def _initial_value(self, init, ctx_list, default_init, data):
        """The first replica's value, computed without touching the current state.

        Returns
        -------
        value : NDArray
            The value on ``ctx_list[0]``.
        owned : bool
            Whether nothing else can hold the wrapper ``value``: a built-in initializer
            filled it (:func:`fills_everything`) and no verbose log was shown it. It may
            then become the first replica itself instead of a new wrapper of its buffer.
        """
        first = ctx_list[0]
        if data is not None:
            return data.copyto(first).astype(self._dtype, copy=False), False
        caller = default_init
        if not isinstance(caller, Initializer):  # a name or JSON
            caller = _init.create(caller)
        fast = fills_everything(init, caller)  # then every element is written: no zeroing
        if first.kind == "gpu":
            xp = _backend.xp_for(first)
            with _backend.device_scope(first):
                raw = (xp.empty if fast else xp.zeros)(self._shape, self._np_dtype)
        else:
            raw = (np.empty if fast else np.zeros)(self._shape, self._np_dtype)
        arr = NDArray._wrap(raw, first)
        fill_parameter(caller, init, self.name, arr, fast)
        return arr, fast and not caller._verbose

    def _complete(self, request: PendingInit):
        """Initialize as ``request`` says (a pending request, or a copy of ``request.data``)."""
        self._complete_from(request.init, request.ctx_list, request.default_init, request.data)

    def _complete_from(self, init, ctx_list, default_init, data):
        """Create the replicas and gradients from the fields of a :class:`PendingInit`."""
        first_value, owned = self._initial_value(init, ctx_list, default_init, data)  # may raise
        cls = self._dense_cls() if self._stype == "default" else None
        if (
            owned
            and len(ctx_list) == 1
            and type(first_value) is cls
            and self._grad_stype == "default"
            and not self._observers
            and not _early_grads.get()
        ):  # the usual case, in short: the drawn value is the replica, with no gradient yet
            first_value._version = 0  # (its fill was a write; a new replica starts at 0)
            first_value._grad_req = self._grad_req
            replicas = {_ctx_key(ctx_list[0]): first_value}
        else:
            replicas = self._new_replicas(first_value, owned, ctx_list, cls)
            grads = self._new_grads(replicas) if self._grad_req != "null" else {}
            self._attach(replicas, grads)
        self._replicas = replicas
        self._ctx_list = ctx_list if type(ctx_list) is tuple else tuple(ctx_list)
        self._pending = None
        # the fields of _init_record; _ctx_list is a tuple (replaced, never changed)
        self._init_ctx = self._ctx_list
        if data is None:
            self._init_by, self._init_default = init, default_init
        else:
            self._init_by = self._init_default = None
        self._init_versions = (
            None if cls is not None else {k: getattr(r, "version", 0) for k, r in replicas.items()}
        )
        if self._observers:
            self._notify("initialized", ctx=list(self._ctx_list))

    def _new_replicas(self, first_value, owned, ctx_list, cls):
        """``{key: replica}``: ``first_value`` on ``ctx_list[0]``, a copy of it on the others.

        ``cls`` is the class of dense replicas, None for sparse ones. ``owned`` says that
        the wrapper ``first_value`` is held nowhere else (see :meth:`_initial_value`); a
        dense first replica is then that wrapper itself.
        """
        first, rest = ctx_list[0], ctx_list[1:]
        if cls is None:
            replicas = {_ctx_key(first): self._to_stype(first_value)}
            for c in rest:
                replicas[_ctx_key(c)] = self._to_stype(first_value.copyto(c))
            return replicas
        if owned and type(first_value) is cls:
            first_value._version = 0  # its fill was a write; a new replica starts at 0
            replicas = {_ctx_key(first): first_value}
        else:
            replicas = {_ctx_key(first): cls._wrap(first_value._data, first_value._ctx)}
        for c in rest:
            key = _ctx_key(c)
            raw = self._reusable_buffer(key, c, first_value)
            if raw is None:
                raw = first_value.copyto(c)._data
            else:  # a copy cannot fail: the old replica is overwritten only now
                _backend.copy_into(raw, first_value._data, c, first_value._ctx)
            replicas[key] = cls._wrap(raw, c)
        return replicas

    def _reusable_buffer(self, key, ctx, like):
        """The raw buffer of the current replica ``key`` (on ``ctx``) if nothing else reaches it.

        Re-initializing (``force_reinit``, ``reset_ctx`` to the same contexts) copies the
        new value into the replicas after the first one. When the old replica there is
        held by this parameter alone (no user variable, graph, view or raw handle refers
        to the wrapper or its array) and has the new value's shape and dtype, its memory
        takes the copy: no one can see the difference, and the re-initialization needs
        no fresh memory (which costs page faults, a full pass, per replica).
        """
        old = self._replicas.get(key)
        if old is None or type(old) is not type(like) or old._ctx != ctx:
            return None
        raw = old._data
        if (
            raw.shape != like._data.shape
            or raw.dtype != like._data.dtype
            or getattr(raw, "base", None) is not None
            or not raw.flags.c_contiguous
            or not raw.flags.writeable
        ):
            return None
        # held by the table, by `old` and by getrefcount's argument; the array by `old`
        # alone (plus `raw` and the argument)
        if sys.getrefcount(old) > 3 or sys.getrefcount(raw) > 3:
            return None
        return raw

    @property
    def _init_record(self):
        """How the replicas were last initialized (None before the first time).

        ``(source, versions)``: ``source`` is ``(init, default_init)``, what drew the
        values, or None when they were copied from data; ``versions`` maps the key of
        each replica to its version right after. Read by :func:`drawn_by` and
        ``paramlab.widgets`` (to overlay the initializer's theory); built when read,
        which is rare, from fields that initialization sets.
        """
        if self._init_ctx is None:
            return None
        versions = self._init_versions
        if versions is None:  # dense replicas start at version 0
            versions = dict.fromkeys(map(_ctx_key, self._init_ctx), 0)
        drawn = self._init_default is not None  # drawing needs a default_init (the caller)
        return ((self._init_by, self._init_default) if drawn else None), versions

    @staticmethod
    def _dense_cls():
        """Replicas made under NumPy-array semantics are ``mx.np.ndarray`` (as in MXNet)."""
        if is_np_array():
            from ..numpy import ndarray

            return ndarray
        return NDArray

    def _to_stype(self, value):
        if self._stype == "default":
            return self._dense_cls()._wrap(value._data, value.context)
        return value.tostype(self._stype)

    def _new_grads(self, replicas):
        """The gradient buffers to allocate now: ``{key: zero buffer}``.

        Dense buffers of dense replicas are deferred to their first use (left out; see
        ``NDArray._grad_buffer``), except host ones that :func:`grads_allocated_together`
        allocated ahead. Sparse buffers, and those of sparse replicas, are made now.
        """
        if self._grad_stype == "default" and self._stype == "default":
            early = _early_grads.get()
            early = early.pop(id(self), None) if early else None
            if not early:
                return {}
            grads = {}
            for key, r in replicas.items():
                raw = early.pop(key, None)
                if raw is not None and raw.shape == r.shape and raw.dtype == self._np_dtype:
                    grads[key] = type(r)._wrap(raw, r._ctx)
            return grads
        if self._grad_stype == "default":
            cls = self._dense_cls()
            grads = {}
            for key, r in replicas.items():
                with _backend.device_scope(r._ctx):
                    raw = _backend.xp_for(r._ctx).zeros(r.shape, self._np_dtype)
                grads[key] = cls._wrap(raw, r._ctx)
            return grads
        from ..ndarray import sparse

        return {
            key: sparse.zeros(self._grad_stype, r.shape, ctx=r.context, dtype=r.dtype)
            for key, r in replicas.items()
        }

    def _attach(self, replicas, grads):
        """Make ``replicas`` variables of this parameter's ``grad_req``; ``grads``: their
        buffers allocated now (a replica left out gets its buffer on first use)."""
        req = self._grad_req
        if req == "null":
            for r in replicas.values():
                r._node, r._grad, r._grad_req, r._grad_hook = None, None, "null", None
            return
        # the hook only reports to observers: without any, backward needs none (observe adds it)
        hook = self._grad_hook() if self._observers else None
        for key, r in replicas.items():
            r._node, r._grad, r._grad_req, r._grad_hook = None, grads.get(key), req, hook

    # ------------------------------------------------------------------ set_data, cast, reset_ctx
    def _as_value(self, data, what):
        if isinstance(data, NDArray):
            return data if data.stype == "default" else data.tostype("default")
        if isinstance(data, np.ndarray) or _backend.is_gpu_array(data):
            from ..ndarray import creation

            return creation.array(data, dtype=data.dtype)
        if isinstance(data, (list, tuple)):
            from ..ndarray import creation

            return creation.array(data)
        raise TypeError(
            f"Parameter '{self.name}': {what} expects an NDArray or a NumPy array, got "
            f"{type(data).__name__}"
        )

    def set_data(self, data):
        """Write ``data`` into every replica (converted to the parameter's dtype)."""
        value = self._as_value(data, "set_data")
        merged = self._merged_shape(tuple(value.shape))
        if not self._replicas and self._pending is None:
            raise RuntimeError(
                f"Parameter '{self.name}' has not been initialized; call initialize() before "
                "set_data()"
            )
        if self._pending is not None:
            self._shape = merged
            self._pending = dataclasses.replace(self._pending, data=value.copy())
            self._notify("data_set", deferred=True)
            return
        if tuple(value.shape) != self._shape:
            raise ValueError(
                f"Parameter '{self.name}': set_data expects shape {self._shape}, got {value.shape}"
            )
        for c in self._ctx_list:
            r = self._replicas[_ctx_key(c)]
            if r.stype == "default":
                _backend.copy_into(r._data, value._data, r.context, value.context)
                r._version += 1
            else:
                r[:] = value.as_in_context(r.context)
        if self._trainer is not None:
            trainer = self._trainer()
            if trainer is not None and hasattr(trainer, "_reset_kvstore"):
                trainer._reset_kvstore()
        self._notify("data_set")

    def cast(self, dtype):
        """Convert the values (and gradients) to ``dtype``; before init, only record it."""
        dt = canonical(dtype, f"Parameter '{self.name}': cast")
        self._var = None
        if not self._replicas:
            self._dtype, self._np_dtype = dtype, dt
            return
        replicas = {
            k: self._to_stype(r.astype(dt)) if r.stype == "default" else r.astype(dt)
            for k, r in self._replicas.items()
        }
        grads = {
            k: r._grad.astype(dt) for k, r in self._replicas.items() if r._grad is not None
        }  # deferred ones stay deferred
        self._attach(replicas, grads)
        self._replicas, self._dtype, self._np_dtype = replicas, dtype, dt
        self._notify("cast", dtype=dt)

    def _reduce(self):
        """The value on cpu(0): the single replica, or the average of several (as MXNet)."""
        from ..context import cpu

        target = cpu(0)
        trainer = self._trainer() if self._trainer is not None else None
        if self._stype == "row_sparse" and trainer is not None:
            # replicas hold only the rows pulled last: take every row from the Trainer (as MXNet)
            from ..ndarray import arange, sparse

            full = sparse.zeros("row_sparse", self._shape, ctx=target, dtype=self._dtype)
            rows = arange(self._shape[0], ctx=target, dtype="int64")
            return trainer._row_sparse_pull(self, full, rows, full_idx=True).tostype("default")
        values = [
            r if r.stype == "default" else r.tostype("default")
            for r in (self._replicas[_ctx_key(c)] for c in self._ctx_list)
        ]
        prev = _ag_state.set_recording(False)
        try:
            total = values[0].copyto(target)
            for v in values[1:]:
                total += v.as_in_context(target)
            if len(values) > 1:
                total /= len(values)
        finally:
            _ag_state.set_recording(prev)
        return NDArray._wrap(total._data, target)

    def reset_ctx(self, ctx=None):
        """Move the parameter to ``ctx`` (several replicas are averaged first)."""
        ctx_list = tuple(as_context_list(ctx, f"Parameter '{self.name}': reset_ctx: ctx"))
        if self._replicas:
            for c in ctx_list:
                _backend.check_device(c)
            self._complete(PendingInit(None, ctx_list, None, data=self._reduce()))
            self._notify("ctx_reset", ctx=list(ctx_list))
        elif self._pending is not None:
            self._pending = dataclasses.replace(self._pending, ctx_list=ctx_list)
            self._notify("ctx_reset", ctx=list(ctx_list))
        else:
            raise ValueError(
                f"Cannot reset context for Parameter '{self.name}' because it has not been "
                "initialized."
            )

    reset_device = reset_ctx

    # ------------------------------------------------------------------ symbols and sparse rows
    def var(self):
        """A symbol variable describing this parameter (cached until cast)."""
        if self._var is None:
            from .. import symbol

            self._var = symbol.var(
                self.name,
                shape=self.shape,
                dtype=self._dtype,
                lr_mult=self.lr_mult,
                wd_mult=self.wd_mult,
                init=self.init,
                stype=self._stype,
            )
        return self._var

    def _check_row_sparse(self, what):
        if self._stype != "row_sparse":
            raise RuntimeError(
                f"Cannot return copies of Parameter '{self.name}' via {what}() because its "
                f"storage type is {self._stype}. Please use data() instead."
            )

    def _owning_trainer(self, what):
        trainer = self._trainer() if self._trainer is not None else None
        if trainer is None:
            raise RuntimeError(
                f"Cannot get row_sparse data for Parameter '{self.name}' when no Trainer is "
                "created with it."
            )
        return trainer

    def row_sparse_data(self, row_id):
        """The rows ``row_id`` of a row_sparse parameter, in the replica on row_id's context."""
        self._check_row_sparse("row_sparse_data")
        if not isinstance(row_id, NDArray):
            raise TypeError(
                f"Parameter '{self.name}': row_id must have NDArray type, got "
                f"{type(row_id).__name__}"
            )
        self._check_initialized("row_sparse_data")
        replica = self._lookup(self._replicas, row_id.context, "row_sparse_data")
        trainer = self._owning_trainer("row_sparse_data")
        return trainer._row_sparse_pull(self, replica, row_id)

    def list_row_sparse_data(self, row_id):
        """The rows ``row_id`` pulled into every replica."""
        self._check_row_sparse("list_row_sparse_data")
        if not isinstance(row_id, NDArray):
            raise TypeError(
                f"Parameter '{self.name}': row_id must have NDArray type, got "
                f"{type(row_id).__name__}"
            )
        self._check_initialized("list_row_sparse_data")
        trainer = self._owning_trainer("list_row_sparse_data")
        return [
            trainer._row_sparse_pull(self, self._replicas[_ctx_key(c)], row_id, full_idx=True)
            for c in self._ctx_list
        ]

    def _set_trainer(self, trainer):
        """Record the Trainer that owns this parameter (one Trainer per row_sparse parameter)."""
        current = self._trainer() if self._trainer is not None else None
        if self._stype != "default" and current is not None and current is not trainer:
            raise RuntimeError(
                f"Failed to set the trainer for Parameter '{self.name}' because it was already "
                "set. More than one trainers for a row_sparse Parameter is not supported."
            )
        self._trainer = weakref.ref(trainer) if trainer is not None else None


class Constant(Parameter):
    """A parameter that autograd and the Trainer leave alone (``grad_req`` is always 'null').

    ``Constant(value)`` or ``Constant(name, value)``. Non-NDArray values become
    float32 (as MXNet 1.x's ``nd.array``); an NDArray keeps its dtype.
    ``set_data`` still changes the replicas (not ``value``).

    >>> import paramlab as mx
    >>> c = mx.gluon.Constant('c', [[1, 2], [3, 4]])
    >>> c.initialize()
    >>> c.data().asnumpy().tolist(), c.grad_req
    ([[1.0, 2.0], [3.0, 4.0]], 'null')
    """

    def __init__(self, name, value=None):
        if value is None and not isinstance(name, str):
            name, value = "const", name
        if value is None:
            raise TypeError(f"Constant '{name}': a value is required")
        from ..ndarray import creation

        if not isinstance(value, NDArray):
            value = creation.array(value)
        self.value = value
        super().__init__(
            name,
            grad_req="null",
            shape=value.shape,
            dtype=value.dtype,
            init=_ConstantValue(value),
            differentiable=False,
        )

    @Parameter.grad_req.setter
    def grad_req(self, req):
        if req != "null":
            warnings.warn(
                f"Constant parameter '{self.name}' does not support grad_req other than "
                f"'null', and new value {req!r} is ignored.",
                UserWarning,
                stacklevel=2,
            )
            return
        Parameter.grad_req.fset(self, "null")


class _ConstantValue(_init.Initializer):
    """The private initializer of a Constant: copies its value."""

    def __init__(self, value):
        super().__init__()
        self._value = value

    def _init_weight(self, name, arr):
        arr[:] = (
            self._value.copyto(arr.context) if self._value.context != arr.context else self._value
        )

    def dumps(self):
        import json

        return json.dumps(["constant", {"value": self._value.asnumpy().tolist()}])


def drawn_by(param, current=False):
    """The initializer that drew ``param``'s values (None if unknown or copied from data).

    Follows what :meth:`Parameter.initialize` does: the explicit ``init``, else
    the default initializer's by-name rule (weights drawn, biases/beta zero,
    gamma one). With ``current=True`` it answers for the values the replicas
    hold now: None once any replica was written since initialization (its
    version counter moved).
    """
    from ..initializer._base import _rule_for  # the one name table

    record = getattr(param, "_init_record", None)
    if record is not None and current:
        versions = record[1]
        if any(
            param._replicas[k].version != v for k, v in versions.items() if k in param._replicas
        ):
            return None
    if record is not None:
        info = record[0]
    elif getattr(param, "_pending", None) is not None:
        info = (param._pending.init, param._pending.default_init)
    else:
        info = (param.init, None)
    if info is None:
        return None
    init, default = info
    try:
        if init not in (None, ""):
            return _init.create(init)
        if default is None:
            return None
        hook, _ = _rule_for(param.name, legacy=False)
        if hook == "_init_weight":
            return _init.create(default)
        if hook in ("_init_bias", "_init_beta", "_init_zero"):
            return _init.Zero()
        if hook in ("_init_gamma", "_init_one"):
            return _init.One()
    except (ValueError, TypeError, KeyError):
        return None
    return None
