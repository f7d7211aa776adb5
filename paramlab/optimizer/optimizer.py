"""The ``Optimizer`` base class, the registry and the ``Updater`` that keeps states.

An optimizer turns ``(weight, gradient, state)`` into a new weight, in place. The
base class holds what every optimizer shares, with MXNet 1.9.1's meaning:

- ``learning_rate`` (or an ``lr_scheduler`` asked with ``num_update``), ``wd``,
  ``rescale_grad`` (the gradient is multiplied by it first), ``clip_gradient``
  (then clipped to ``[-clip, clip]``; ``None`` or a non-positive value turns it off);
- per-parameter multipliers: ``param_dict[index].lr_mult`` / ``.wd_mult`` (read at
  every update, so changing them later takes effect), else ``set_lr_mult`` /
  ``set_wd_mult`` tables;
- update counts per index and per context (``_index_update_count``), and
  ``num_update``, the largest of them, which schedulers and bias corrections read.

Concrete optimizers write one method, ``_step(w, g, states, lr, wd, t, work)``,
on raw arrays (NumPy or CuPy, through ``xp``): ``w`` and the ``states`` are
updated in place, ``g`` is only read, and ``work`` is a scratch array shaped
like ``w`` (or None), its contents undefined, that the caller keeps between
steps so that the hot path allocates nothing. The base class turns a row_sparse
gradient into an update of the rows it holds (lazy updates) or into a dense
gradient, and handles float16 weights with a float32 master copy
(``multi_precision=True``).

>>> import paramlab as mx
>>> opt = mx.optimizer.create('sgd', learning_rate=0.1, momentum=0.9)
>>> w, g = mx.nd.ones((2,)), mx.nd.ones((2,))
>>> state = opt.create_state(0, w)
>>> opt.update(0, w, g, state)
>>> w.asnumpy(), state.asnumpy()
(array([0.9, 0.9], dtype=float32), array([-0.1, -0.1], dtype=float32))
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import _backend
from ..base import LRSchedulerConflictError
from ..ndarray.ndarray import NDArray

__all__ = ["Optimizer", "Updater", "register", "create", "get_updater"]

_BASE_SETTINGS = (
    "lr",
    "wd",
    "rescale_grad",
    "clip_gradient",
    "multi_precision",
    "begin_num_update",
    "num_update",
)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_real(owner, name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if not _is_real(value):
        expected = "a number or None" if allow_none else "a number"
        raise TypeError(f"{owner}: {name} must be {expected}, got {value!r}")
    return value


class Optimizer:
    """The base class of every optimizer (MXNet's ``mx.optimizer.Optimizer``).

    Parameters
    ----------
    rescale_grad : float, default 1.0
        Gradients are multiplied by this first (the Trainer sets ``1 / batch_size``).
    param_idx2name : dict of int to str, optional
        Names of the indices (for name-keyed multipliers).
    wd : float, default 0.0
        Weight decay.
    clip_gradient : float, optional
        Clip the rescaled gradient to ``[-clip_gradient, clip_gradient]``.
    learning_rate : float, optional
        The rate; it replaces ``lr_scheduler.base_lr`` when both are given; 0.01
        when neither is.
    lr_scheduler : LRScheduler, optional
        Gives the rate as a function of ``num_update``.
    sym : Symbol, optional
        Its variables' ``__lr_mult__`` / ``__wd_mult__`` attributes become multipliers.
    begin_num_update : int, default 0
        The update count to start from.
    multi_precision : bool, default False
        Keep a float32 master copy of float16 weights and update that.
    param_dict : dict of int to Parameter, optional
        The Trainer's parameters by index; their ``lr_mult`` / ``wd_mult`` are read live.
    """

    opt_registry: dict = {}
    _hyper: tuple = ()  # the settings of a concrete optimizer, saved with Trainer states
    aggregate_num = 0

    def __init__(
        self,
        rescale_grad=1.0,
        param_idx2name=None,
        wd=0.0,
        clip_gradient=None,
        learning_rate=None,
        lr_scheduler=None,
        sym=None,
        begin_num_update=0,
        multi_precision=False,
        param_dict=None,
        use_fused_step=None,
    ):
        owner = type(self).__name__
        _check_real(owner, "rescale_grad", rescale_grad)
        _check_real(owner, "wd", wd)
        _check_real(owner, "clip_gradient", clip_gradient, allow_none=True)
        _check_real(owner, "learning_rate", learning_rate, allow_none=True)
        if not isinstance(begin_num_update, numbers.Integral) or isinstance(begin_num_update, bool):
            raise TypeError(f"{owner}: begin_num_update must be an int, got {begin_num_update!r}")
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError(
                f"{owner}: param_idx2name must be a dict of parameter indices to names, got "
                f"{type(param_idx2name).__name__}"
            )
        if lr_scheduler is not None and not callable(lr_scheduler):
            raise TypeError(f"{owner}: lr_scheduler must be an LRScheduler, got {lr_scheduler!r}")
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None:
            if getattr(lr_scheduler, "base_lr", learning_rate) != learning_rate:
                warnings.warn(
                    f"{owner}: learning rate from ``lr_scheduler`` has been overwritten by "
                    "``learning_rate`` in optimizer.",
                    UserWarning,
                    stacklevel=2,
                )
                lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult: dict = {}
        self.wd_mult: dict = {}
        self.begin_num_update = int(begin_num_update)
        self.num_update = int(begin_num_update)
        self._all_index_update_counts: dict = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = bool(multi_precision)
        self.use_fused_step = use_fused_step
        self.idx2name = dict(param_idx2name)
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ------------------------------------------------------------------ registry
    @staticmethod
    def register(klass):
        """Register an Optimizer subclass under its lower-cased class name; returns it."""
        if not isinstance(klass, type) or not issubclass(klass, Optimizer):
            raise TypeError(f"register: expected an Optimizer subclass, got {klass!r}")
        name = klass.__name__.lower()
        old = Optimizer.opt_registry.get(name)
        if old is not None and old is not klass:
            warnings.warn(
                f"New optimizer {klass.__module__}.{klass.__name__} is overriding existing "
                f"optimizer {old.__module__}.{old.__name__}",
                UserWarning,
                stacklevel=2,
            )
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An optimizer instance from its (case-insensitive) registered name."""
        if not isinstance(name, str):
            raise TypeError(f"create: the optimizer name must be a string, got {name!r}")
        klass = Optimizer.opt_registry.get(name.lower())
        if klass is None:
            raise ValueError(
                f"Cannot find optimizer {name}; registered optimizers are "
                f"{sorted(Optimizer.opt_registry)}"
            )
        return klass(**kwargs)

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        """The current rate: the scheduler's at ``num_update``, else ``lr``."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    @learning_rate.setter
    def learning_rate(self, lr):
        self.set_learning_rate(lr)

    def set_learning_rate(self, lr):
        """Set the rate; refused while an ``lr_scheduler`` decides it."""
        if self.lr_scheduler is not None:
            raise LRSchedulerConflictError(
                f"{type(self).__name__}: LRScheduler of the optimizer has already been defined. "
                "Note that set_learning_rate can mutate the value of the learning rate of the "
                "optimizer only when the LRScheduler of the optimizer is undefined."
            )
        _check_real(type(self).__name__, "learning rate", lr)
        self.lr = lr

    def set_lr_scale(self, args_lrscale):
        """Removed in MXNet; use :meth:`set_lr_mult`."""
        raise DeprecationWarning("set_lr_scale is deprecated; use set_lr_mult")

    def _symbol_mults(self, key):
        out = {}
        if self.sym_info:
            attrs, names = self.sym_info
            for name in names:
                if name in attrs and key in attrs[name]:
                    out[name] = float(attrs[name][key])
        return out

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers by index or name (a Parameter's ``lr_mult`` wins)."""
        if not isinstance(args_lr_mult, dict):
            raise TypeError(f"set_lr_mult: expected a dict, got {type(args_lr_mult).__name__}")
        self.lr_mult = self._symbol_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers by index or name (a Parameter's ``wd_mult`` wins).

        Names given through ``param_idx2name`` that end neither in ``_weight`` nor
        in ``_gamma`` get 0 (MXNet's Module rule; the Gluon Trainer uses ``param_dict``).
        """
        if not isinstance(args_wd_mult, dict):
            raise TypeError(f"set_wd_mult: expected a dict, got {type(args_wd_mult).__name__}")
        self.wd_mult = {
            n: 0.0
            for n in self.idx2name.values()
            if not (n.endswith("_weight") or n.endswith("_gamma"))
        }
        self.wd_mult.update(self._symbol_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _set_current_context(self, device_id):
        """Switch the update counts to those of one context (any hashable key)."""
        counts = self._all_index_update_counts.get(device_id)
        if counts is None:
            counts = self._all_index_update_counts[device_id] = {}
        self._index_update_count = counts

    def _update_count(self, index):
        """Count one more update of ``index`` (or of each index of a list)."""
        for idx in index if isinstance(index, (list, tuple)) else (index,):
            count = self._index_update_count.get(idx, self.begin_num_update) + 1
            self._index_update_count[idx] = count
            if count > self.num_update:
                self.num_update = count

    def _mult(self, index, attr, table):
        param = self.param_dict.get(index)
        if param is not None:
            return getattr(param, attr)
        if index in table:
            return table[index]
        name = self.idx2name.get(index)
        if name is not None:
            return table.get(name, 1.0)
        return 1.0

    def _get_lrs(self, indices):
        """The rates of ``indices`` (with their multipliers)."""
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        return [lr * self._mult(i, "lr_mult", self.lr_mult) for i in indices]

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        """The weight decays of ``indices`` (with their multipliers)."""
        return [self.wd * self._mult(i, "wd_mult", self.wd_mult) for i in indices]

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    def _clip(self):
        """The clipping bound, or None when clipping is off (None, 0 or negative)."""
        c = self.clip_gradient
        return float(c) if c is not None and c > 0 else None

    # ------------------------------------------------------------------ states
    def create_state(self, index, weight):
        """The auxiliary state of one weight (None, an NDArray or a tuple of them)."""
        return None

    def create_state_multi_precision(self, index, weight):
        """:meth:`create_state`, plus a float32 master copy for float16 weights when asked."""
        if self._master_precision(weight):
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if np.dtype(weight.dtype) == np.float16:
            warnings.warn(
                "Accumulating with float16 in optimizer can lead to poor accuracy or slow "
                "convergence. Consider using multi_precision=True option of the "
                f"{type(self).__name__} optimizer",
                UserWarning,
                stacklevel=2,
            )
        return self.create_state(index, weight)

    def _master_precision(self, weight):
        return self.multi_precision and np.dtype(weight.dtype) == np.float16

    def _zeros_like(self, weight, dtype=None):
        xp = _backend.xp_for(weight.context)
        with _backend.device_scope(weight.context):
            raw = xp.zeros(weight.shape, dtype or weight._data.dtype)
        return NDArray._wrap(raw, weight.context)

    # ------------------------------------------------------------------ updates
    def update(self, index, weight, grad, state):
        """Update ``weight`` in place from ``grad`` and ``state`` (MXNet's signature)."""
        self._update_count(index)
        with _backend.device_scope(weight.context):
            self._apply(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        """:meth:`update`, through the float32 master copy when there is one."""
        self.update(index, weight, grad, state)

    def _lazy(self, sparse_weight):
        """Whether a row_sparse gradient updates only its rows (else it is made dense)."""
        return False

    def _step(self, w, g, states, lr, wd, t, work):
        raise NotImplementedError(
            f"{type(self).__name__} must implement update() (or _step on raw arrays)"
        )

    def _step_rows(self, w, g, states, lr, wd, t):
        """:meth:`_step` on the gathered rows of a lazy update (MXNet's sparse kernels)."""
        self._step(w, g, states, lr, wd, t, None)

    def _apply(self, index, weight, grad, state, work=None, sparse_weight=False):
        """One update of ``weight`` (counts already bumped): lazy rows, master copies, bumps."""
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        t = self._index_update_count.get(index, self.num_update)
        target, inner = weight, state
        master = isinstance(state, tuple) and len(state) == 2 and self._master_precision(weight)
        if master:
            target, inner = state
        w = target._data
        states = _raws(inner)
        rows = _rows_of(grad)
        if rows is not None and self._lazy(sparse_weight):
            self._apply_rows(w, rows, states, lr, wd, t, weight._data if master else None)
        else:
            g = grad._data if rows is None else _densified(rows, w)
            if g.dtype != w.dtype:
                g = g.astype(w.dtype)
            self._step(w, g, states, float(lr), float(wd), t, work)
            if master:
                _backend.xp_of(w).copyto(weight._data, w, casting="unsafe")
        weight._bump()
        if master:
            target._bump()
        for s in _ndarrays(inner):
            s._bump()

    def _apply_rows(self, w, rows, states, lr, wd, t, low_precision):
        """A lazy update: :meth:`_step_rows` on the rows a row_sparse gradient holds.

        The updated rows are written back to ``w``, the states and, with a master
        copy, to the float16 weight ``low_precision``.
        """
        idx, values = rows
        if not idx.shape[0]:
            return
        wr = w[idx]
        sr = tuple(s[idx] for s in states)
        self._step_rows(wr, values.astype(w.dtype, copy=False), sr, float(lr), float(wd), t)
        w[idx] = wr
        for s, r in zip(states, sr):
            s[idx] = r
        if low_precision is not None:
            low_precision[idx] = wr.astype(low_precision.dtype)

    # ------------------------------------------------------------------ checkpoints
    def _settings(self) -> dict:
        """The settings and counters saved with Trainer states (JSON-safe)."""
        out = {}
        for name in _BASE_SETTINGS + tuple(self._hyper):
            value = getattr(self, name, None)
            if isinstance(value, (np.generic,)):
                value = value.item()
            out[name] = value
        out["lr_mult"] = [[k, v] for k, v in self.lr_mult.items()]
        out["wd_mult"] = [[k, v] for k, v in self.wd_mult.items()]
        return out

    def _restore_settings(self, settings: dict):
        for name, value in settings.items():
            if name in ("lr_mult", "wd_mult"):
                setattr(self, name, {k: v for k, v in value})
            else:
                setattr(self, name, value)

    def __repr__(self):
        parts = [f"learning_rate={self.lr}", f"wd={self.wd}"]
        parts += [f"{name}={getattr(self, name)!r}" for name in self._hyper]
        return f"{type(self).__name__}({', '.join(parts)})"


register = Optimizer.register
create = Optimizer.create_optimizer


def _raws(state):
    """The raw arrays of a state (None, an NDArray, or a tuple/list of them), flattened."""
    if state is None:
        return ()
    if isinstance(state, NDArray):
        return (state._data,)
    out = []
    for s in state:
        out.extend(_raws(s))
    return tuple(out)


def _ndarrays(state):
    if state is None:
        return ()
    if isinstance(state, NDArray):
        return (state,)
    out = []
    for s in state:
        out.extend(_ndarrays(s))
    return tuple(out)


def _rows_of(grad):
    """``(indices, values)`` raw arrays of a row_sparse gradient, or None for a dense one."""
    if isinstance(grad, NDArray) and grad.stype == "default":
        return None
    if hasattr(grad, "indices") and hasattr(grad, "values") and not isinstance(grad, NDArray):
        return grad.indices, grad.values  # an engine RowSparseGrad
    if getattr(grad, "stype", None) == "row_sparse":  # a RowSparseNDArray: its raw components
        return grad._indices.astype(np.int64, copy=False), grad._values
    raise TypeError(
        f"optimizer: gradients must be dense or row_sparse NDArrays, got "
        f"{getattr(grad, 'stype', type(grad).__name__)}"
    )


def _densified(rows, w):
    """The dense gradient shaped like ``w`` that holds the rows ``(indices, values)``."""
    idx, values = rows
    g = _backend.xp_of(w).zeros(w.shape, w.dtype)
    g[idx] = values
    return g


def rescaled(g, rescale, clip, out):
    """``out = clip(rescale * g)`` (raw arrays; ``clip`` None means no clipping)."""
    _backend.xp_of(g).multiply(g, rescale, out=out)
    return _clipped(out, clip)


def rescaled_with_decay(g, w, rescale, wd, clip, out, tmp):
    """``out = clip(rescale * g + wd * w)``: weight decay joins the gradient before clipping.

    ``tmp`` is scratch shaped like ``w``; ``clip`` None means no clipping.
    """
    _backend.xp_of(g).multiply(g, rescale, out=out)
    add_weight_decay(out, w, wd, tmp)
    return _clipped(out, clip)


def _clipped(out, clip):
    """``out`` clipped in place to ``[-clip, clip]`` (unchanged when ``clip`` is None)."""
    if clip is not None:
        _backend.xp_of(out).clip(out, -clip, clip, out=out)
    return out


def add_weight_decay(out, w, wd, tmp):
    """``out += wd * w`` when ``wd`` is nonzero (``tmp`` is scratch shaped like ``w``)."""
    if wd:
        _backend.xp_of(w).multiply(w, wd, out=tmp)
        out += tmp


def descend(w, step, lr, wd, tmp):
    """``w -= lr * (step + wd * w)``; ``step`` is overwritten and ``tmp`` is scratch."""
    add_weight_decay(step, w, wd, tmp)
    step *= lr
    w -= step


def scratch(w, work):
    """``work`` when it fits ``w``, else a new empty array like ``w``."""
    if work is not None:
        return work
    return _backend.xp_of(w).empty_like(w)


def bias_corrections(beta1, beta2, t):
    """``(1 - beta1**t, 1 - beta2**t)``."""
    return 1.0 - beta1**t, 1.0 - beta2**t


class Updater:
    """Holds one state per index and applies the optimizer (MXNet's ``get_updater``).

    ``updater(index, grad, weight)`` (indices, gradients and weights may be lists)
    creates the state of an index on first use and updates ``weight`` in place.
    The Trainer keeps one per context (or one for its store).
    """

    def __init__(self, optimizer, ctx_key=None):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Updater: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.states: dict = {}
        self.states_synced: dict = {}
        self.aggregate_updates = False
        self._ctx_key = ctx_key
        self._work: dict = {}

    def __call__(self, index, grad, weight):
        if isinstance(index, (list, tuple)):
            for i, g, w in zip(index, grad, weight):
                self._update(i, w, g)
        else:
            self._update(index, weight, grad)

    def _state_for(self, index, weight):
        state = self.states.get(index, _MISSING)
        if state is _MISSING:
            state = self.optimizer.create_state_multi_precision(index, weight)
            self.states[index] = state
            self.states_synced[index] = True
        elif not self.states_synced.get(index, True):
            state = self.states[index] = _to_context(state, weight.context)
            self.states_synced[index] = True
        return state

    def _workspace(self, w):
        """Scratch shaped like the raw weight ``w``: a view of a buffer shared by all indices.

        Updates run one at a time, so one buffer per backend, device and dtype,
        as large as the largest weight, serves every index; a buffer per index
        would keep a scratch copy of the whole model.
        """
        xp = _backend.xp_of(w)
        key = (xp, getattr(getattr(w, "device", None), "id", None), w.dtype)
        buf = self._work.get(key)
        if buf is None or buf.size < w.size:
            buf = self._work[key] = xp.empty(w.size, w.dtype)
        return buf[: w.size].reshape(w.shape)

    def _update(self, index, weight, grad, sparse_weight=False):
        """Update one weight; the Trainer's entry point."""
        opt = self.optimizer
        ctx = weight.context
        opt._set_current_context(self._ctx_key or (ctx.device_type, ctx.device_id))
        state = self._state_for(index, weight)
        if _uses_raw_steps(opt):
            opt._update_count(index)
            master = isinstance(state, tuple) and opt._master_precision(weight)
            with _backend.device_scope(ctx):
                work = None if master else self._workspace(weight._data)
                opt._apply(index, weight, grad, state, work, sparse_weight)
        else:
            with _backend.device_scope(ctx):
                opt.update_multi_precision(index, weight, grad, state)

    def sync_state_context(self, state, context):
        """``state`` with every array moved to ``context``."""
        return _to_context(state, context)

    def set_states(self, states):
        """Load states saved by :meth:`get_states` (paramlab's format; never a pickle)."""
        from ._states import decode_updater_states

        self.states = decode_updater_states(states, self.optimizer)
        self.states_synced = dict.fromkeys(self.states, False)

    def get_states(self, dump_optimizer=False):
        """The states as bytes in paramlab's format (``dump_optimizer`` adds the settings)."""
        from ._states import encode_updater_states

        return encode_updater_states(self.states, self.optimizer if dump_optimizer else None)


_MISSING = object()


def _uses_raw_steps(opt):
    """Whether ``opt`` updates through ``_step`` (not an overridden ``update``)."""
    cls = type(opt)
    return (
        cls.update is Optimizer.update
        and cls.update_multi_precision is Optimizer.update_multi_precision
        and cls._step is not Optimizer._step
    )


def _to_context(state, context):
    if state is None:
        return None
    if isinstance(state, NDArray):
        return state.as_in_context(context)
    moved = [_to_context(s, context) for s in state]
    return tuple(moved) if isinstance(state, tuple) else moved


def get_updater(optimizer):
    """An :class:`Updater` for ``optimizer``."""
    return Updater(optimizer)
