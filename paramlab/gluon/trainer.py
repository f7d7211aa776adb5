"""``gluon.Trainer``: applies an optimizer to a set of Parameters, keeping replicas identical.

MXNet's modes, decided at the first step (or row_sparse pull):

- **one context**, ``kvstore`` 'device' or 'local' (no row_sparse weight): no store;
  each step updates the replica with its own gradient.
- **several contexts**, ``update_on_kvstore`` (the default): the gradients of all
  replicas are summed on the first context, the optimizer runs once there (one
  state per parameter) on the first replica, which is then copied into the
  others. Gradient buffers keep each replica's own gradient.
- **several contexts**, ``update_on_kvstore=False``: the sum is written into every
  gradient buffer and each context applies the same update with its own state.
- ``kvstore=None``: no reduction at all; each replica follows its own gradient and
  replicas drift apart.
- a **row_sparse weight** always has a store holding the full weight (also on one
  context); the replicas only hold the rows pulled by ``row_sparse_data``.

The first step copies replica 0 into every replica. Either summed mode leaves the
replicas bitwise identical. The "store" is :class:`_Store`, a small in-process
stand-in for MXNet's kvstore: every copy between contexts goes through
:mod:`paramlab._backend` and is counted.

Stale gradients (a replica whose gradient buffer was not written by ``backward``
since the last step) are detected in every mode and raise
:class:`~paramlab.base.StaleGradientError` before any parameter changes, unless
``ignore_stale_grad=True`` skips those parameters.

>>> import paramlab as mx
>>> w = mx.gluon.Parameter('w', shape=(2,), init=mx.init.One())
>>> w.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
>>> trainer = mx.gluon.Trainer([w], 'sgd', {'learning_rate': 0.5})
>>> with mx.autograd.record():
...     losses = [(w.data(c) * mx.nd.array([1.0, 2.0], ctx=c)).sum() for c in w.list_ctx()]
>>> for loss in losses:
...     loss.backward()
>>> trainer.step(batch_size=1)  # summed gradient [2, 4]: w = 1 - 0.5 * [2, 4]
>>> [d.asnumpy().tolist() for d in w.list_data()]
[[0.0, -1.0], [0.0, -1.0]]
"""

from __future__ import annotations

import collections.abc
import numbers
import os

import numpy as np

from .. import _backend
from .. import optimizer as opt
from .._io import atomic_writer, read_bytes_checked
from ..base import StaleGradientError
from ..ndarray.ndarray import NDArray
from ..ops.sparse_grad import RowSparseGrad
from ..optimizer import _states
from .parameter import Parameter, _ctx_key
from .parameter_dict import ParameterDict

__all__ = ["Trainer"]

_KVSTORES = ("device", "local")
_LOCAL_DENSE_LIMIT = 1024 * 1024 * 16  # MXNet's 'local' store stops updating on the store above


def _stale_message(param, ctx):
    return (
        f"Gradient of Parameter `{param.name}` on context {ctx} has not been updated by "
        "backward since last `step`. This could mean a bug in your model that made it only "
        "use a subset of the Parameters (Blocks) for this iteration. If you are intentionally "
        "only using a subset, call step with ignore_stale_grad=True to suppress this warning "
        "and skip updating of Parameters with stale gradient"
    )


# ----------------------------------------------------------------------------- sparse helpers
def _rows(grad):
    """``(indices, values)``: the raw components of a RowSparseNDArray (not copied)."""
    return grad._indices.astype(np.int64, copy=False), grad._values


def _write_rows(target, idx, values):
    """Make the RowSparseNDArray ``target`` store exactly ``values`` at rows ``idx``, in place.

    ``idx`` is sorted, unique int64 and both live on ``target``'s context; the
    object stays the same (MXNet's pulls refresh the replica buffer itself).
    """
    target._set_parts(values.astype(target._values.dtype, copy=False), idx)
    target._bump()


# ----------------------------------------------------------------------------- the store
class _Store:
    """Sums gradients on the first context and keeps what MXNet's kvstore would.

    Holds, per parameter index: a merge buffer and a receive buffer for dense
    gradients (allocated once), and the full dense weight of row_sparse
    parameters. Every cross-context copy is a counted ``_backend`` copy.
    """

    def __init__(self, contexts):
        self.ctx = contexts[0]
        self._merge: dict = {}
        self._recv: dict = {}
        self.sparse_weights: dict = {}  # index -> dense NDArray on the first context
        self.sparse_versions: dict = {}  # index -> version of replica 0 after our last write

    def _buffer(self, table, index, like):
        buf = table.get(index)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            xp = _backend.xp_for(self.ctx)
            with _backend.device_scope(self.ctx):
                buf = table[index] = xp.empty(like.shape, like.dtype)
        return buf

    # dense gradients ----------------------------------------------------------
    def sum_into(self, index, target, grads):
        """Write the sum of the raw ``grads`` (replica order) into raw ``target`` on ctx 0."""
        xp = _backend.xp_of(target)
        if target is not grads[0]._data:
            xp.copyto(target, grads[0]._data)
        recv = self._buffer(self._recv, index, target) if len(grads) > 1 else None
        for g in grads[1:]:
            _backend.copy_into(recv, g._data, self.ctx, g.context)
            target += recv
        return target

    def merged_dense(self, index, grads):
        """The sum of the gradients as an NDArray on ctx 0 (the buffer itself for one)."""
        if len(grads) == 1:
            return grads[0]
        merge = self._buffer(self._merge, index, grads[0]._data)
        self.sum_into(index, merge, grads)
        return NDArray._wrap(merge, self.ctx)

    def allreduce_dense(self, index, grads):
        """Write the sum into every gradient buffer (``update_on_kvstore=False``)."""
        if len(grads) == 1:
            return
        first = grads[0]
        self.sum_into(index, first._data, grads)
        first._bump()
        for g in grads[1:]:
            _backend.copy_into(g._data, first._data, g.context, self.ctx)
            g._bump()

    # row_sparse gradients -----------------------------------------------------
    def merged_rows(self, grads):
        """The union of the rows of row_sparse gradients, summed, on ctx 0."""
        parts = []
        for g in grads:
            idx, values = _rows(g)
            if g.context != self.ctx:
                idx = _backend.copy_to_context(idx, g.context, self.ctx)
                values = _backend.copy_to_context(values, g.context, self.ctx)
            parts.append((idx, values))
        shape = tuple(grads[0].shape)
        if len(parts) == 1:
            return RowSparseGrad(parts[0][0], parts[0][1], shape)
        xp = _backend.xp_for(self.ctx)
        return RowSparseGrad.from_rows(
            xp.concatenate([p[0] for p in parts]), xp.concatenate([p[1] for p in parts]), shape
        )

    def allreduce_rows(self, grads):
        """Write the merged rows into every row_sparse gradient buffer."""
        if len(grads) == 1:
            return
        merged = self.merged_rows(grads)
        for g in grads:
            idx, values = merged.indices, merged.values
            if g.context != self.ctx:
                idx = _backend.copy_to_context(idx, self.ctx, g.context)
                values = _backend.copy_to_context(values, self.ctx, g.context)
            _write_rows(g, idx, values)


# ----------------------------------------------------------------------------- the Trainer
class Trainer:
    """Applies an optimizer to a set of Parameters (MXNet's ``gluon.Trainer``).

    Parameters
    ----------
    params : ParameterDict, dict or list of Parameter
        A dict is taken in sorted-key order, a list in its own order. Every
        parameter must live on the same list of contexts.
    optimizer : str or Optimizer
        A registered name (``'sgd'``, ``'adam'``, ...) or an instance.
    optimizer_params : dict, optional
        Keyword arguments for the optimizer (only with a name).
    kvstore : {'device', 'local'} or None, default 'device'
        How replicas are kept in step; None updates each replica on its own.
    compression_params : None
        Gradient compression is not supported (only None or {}).
    update_on_kvstore : bool, optional
        With several contexts, whether the update runs once on the store (default)
        or on every context after the gradients are summed into every buffer.
    """

    def __init__(
        self,
        params,
        optimizer,
        optimizer_params=None,
        kvstore="device",
        compression_params=None,
        update_on_kvstore=None,
    ):
        param_list = self._param_list(params)
        if kvstore is not None and kvstore not in _KVSTORES:
            raise ValueError(
                f"Trainer: kvstore {kvstore!r} is not supported; paramlab supports "
                f"{list(_KVSTORES)} and None (distributed, nccl and horovod stores do not exist "
                "here)"
            )
        if compression_params:
            raise ValueError(
                f"Trainer: gradient compression is not supported, got compression_params="
                f"{compression_params!r}; pass None"
            )
        if update_on_kvstore is not None and not isinstance(update_on_kvstore, bool):
            raise TypeError(
                f"Trainer: update_on_kvstore must be True, False or None, got {update_on_kvstore!r}"
            )
        if optimizer_params is not None and not isinstance(optimizer_params, dict):
            raise TypeError(
                f"Trainer: optimizer_params must be a dict, got {type(optimizer_params).__name__}"
            )
        sparse_weight = any(p._stype != "default" for p in param_list)
        sparse_grad = any(p._grad_stype != "default" for p in param_list)
        if sparse_weight and kvstore is None:
            raise ValueError(
                "Trainer: kvstore=None cannot be used with row_sparse parameters, which are "
                f"always updated on a store; use one of {list(_KVSTORES)}"
            )
        if sparse_weight and update_on_kvstore is False:
            raise ValueError(
                "Trainer: cannot set update_on_kvstore=False when sparse weights are present."
            )
        contexts = self._check_contexts(param_list)
        param_dict = dict(enumerate(param_list))
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError(
                    "Trainer: optimizer_params must be None if optimizer is an instance of "
                    f"Optimizer instead of str, got {optimizer_params!r}"
                )
        elif isinstance(optimizer, str):
            optimizer = opt.create(optimizer, param_dict=param_dict, **(optimizer_params or {}))
        else:
            raise TypeError(
                f"Trainer: optimizer must be a name or an Optimizer, got {type(optimizer).__name__}"
            )
        self._set_trainers(param_list)  # may raise for a row_sparse parameter; undone then
        optimizer.param_dict = param_dict
        self._params = param_list
        self._param2idx = {id(p): i for i, p in enumerate(param_list)}
        self._contexts = contexts
        self._optimizer = optimizer
        self._scale = optimizer.rescale_grad
        self._contains_sparse_weight = sparse_weight
        self._contains_sparse_grad = sparse_grad
        self._compression_params = compression_params
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._updaters = [opt.Updater(optimizer, ctx_key=_ctx_key(c)) for c in contexts]
        self._store_updater = opt.Updater(optimizer, ctx_key=("store",) + _ctx_key(contexts[0]))
        self._mode_decided = False
        self._kv_initialized = False
        self._kvstore = None
        self._update_on_kvstore = None
        self._distributed = False
        self._params_to_init = list(param_list)

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _param_list(params):
        if isinstance(params, (ParameterDict, collections.abc.Mapping)):
            params = [params[key] for key in sorted(params.keys())]
        if not isinstance(params, (list, tuple)):
            raise ValueError(
                f"First argument must be a list or dict of Parameters, got {type(params)}."
            )
        seen = set()
        for p in params:
            if not isinstance(p, Parameter):
                raise ValueError(
                    f"First argument must be a list or dict of Parameters, got list of {type(p)}."
                )
            if id(p) in seen:
                raise ValueError(f"Trainer: Parameter '{p.name}' is listed more than once")
            seen.add(id(p))
        if not params:
            raise ValueError("Trainer: got no Parameters to optimize")
        return list(params)

    @staticmethod
    def _check_contexts(params):
        contexts = None
        first = None
        for p in params:
            ctx = p.list_ctx()  # RuntimeError for an uninitialized parameter
            if contexts is not None and ctx != contexts:
                raise ValueError(
                    "All Parameters must be initialized on the same set of contexts, but "
                    f"Parameter {p.name} is initialized on {ctx} while previous Parameters "
                    f"(such as {first.name}) are initialized on {contexts}."
                )
            if contexts is None:
                contexts, first = ctx, p
        return contexts

    def _set_trainers(self, params):
        previous = [p._trainer for p in params]
        try:
            for p in params:
                p._set_trainer(self)
        except Exception:
            for p, old in zip(params, previous):
                p._trainer = old
            raise

    # ------------------------------------------------------------------ properties
    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        """The optimizer."""
        return self._optimizer

    def set_learning_rate(self, lr):
        """Set the learning rate (refused while an lr_scheduler is set)."""
        self._optimizer.set_learning_rate(lr)

    # ------------------------------------------------------------------ the store
    def _reset_kvstore(self):
        """Forget the store's copies so that the next step starts from the replicas' values."""
        self._kv_initialized = False
        self._params_to_init = list(self._params)

    def _decide_mode(self):
        """Create the store (or decide there is none), as MXNet's ``_init_kvstore`` does."""
        if self._mode_decided:
            return
        kind = self._kvstore_params["kvstore"]
        explicit = self._kvstore_params["update_on_kvstore"]
        n = len(self._contexts)
        if kind is None:
            store, on_store = False, None
        elif self._contains_sparse_weight:
            store, on_store = True, True
        elif self._contains_sparse_grad:
            store = n > 1
            on_store = (bool(explicit) if explicit is not None else False) if store else None
        elif n == 1:
            store, on_store = False, None
        else:
            store = True
            on_store = bool(int(os.environ.get("MXNET_UPDATE_ON_KVSTORE", "1")))
            if kind == "local" and max(_size(p) for p in self._params) > _LOCAL_DENSE_LIMIT:
                on_store = False
            if explicit is not None:
                on_store = explicit
        self._kvstore = _Store(self._contexts) if store else None
        self._update_on_kvstore = on_store
        self._mode_decided = True

    def _init_kvstore(self):
        self._decide_mode()
        self._kv_initialized = True

    def _init_params(self):
        """Synchronise the replicas (or the store's copies) with replica 0."""
        pending = []
        for p in self._params_to_init:
            if not p._replicas:
                pending.append(p)  # deferred (or never initialized): retried later
                continue
            if self._kvstore is None:
                continue
            i = self._param2idx[id(p)]
            replicas = [p._replicas[_ctx_key(c)] for c in p._ctx_list]
            if p._stype != "default":
                self._init_sparse_weight(i, replicas[0])
                continue
            first = replicas[0]
            for r in replicas[1:]:
                _backend.copy_into(r._data, first._data, r.context, first.context)
                r._bump()
        self._params_to_init = pending

    def _init_sparse_weight(self, index, replica):
        store = self._kvstore
        if store.sparse_versions.get(index) == (id(replica), replica.version):
            return  # replica 0 holds only rows we pulled: the store's copy is the truth
        dense = replica.tostype("default")  # a new array; replica 0 lives on the store's context
        store.sparse_weights[index] = NDArray._wrap(dense._data, store.ctx)
        store.sparse_versions[index] = (id(replica), replica.version)

    def _ensure_store(self):
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()

    def _row_sparse_pull(self, parameter, out, row_id, full_idx=False):
        """Pull rows ``row_id`` of ``parameter`` from the store into the replica ``out``.

        ``out`` ends up storing exactly the sorted unique rows of ``row_id`` (other
        rows read zero) and is returned. ``full_idx`` (a hint that every row is
        asked for) changes nothing: the rows asked for are the rows pulled.
        """
        index = self._param2idx.get(id(parameter))
        if index is None:
            raise RuntimeError(
                f"Trainer: Parameter '{parameter.name}' does not belong to this Trainer"
            )
        rows = self._row_ids(parameter, row_id)  # validated before anything changes
        self._ensure_store()
        store = self._kvstore
        weight = store.sparse_weights.get(index)
        if weight is None:
            raise RuntimeError(
                f"Parameter '{parameter.name}' is not initialized in the Trainer's store yet"
            )
        if row_id.context != store.ctx:
            rows = _backend.copy_to_context(rows, row_id.context, store.ctx)
        with _backend.device_scope(store.ctx):
            values = weight._data[rows]  # a gather: always a new array
        if out.context != store.ctx:
            rows = _backend.copy_to_context(rows, store.ctx, out.context)
            values = _backend.copy_to_context(values, store.ctx, out.context)
        _write_rows(out, rows, values)
        replicas = parameter._replicas
        first = replicas.get(_ctx_key(parameter._ctx_list[0]))
        if first is out:
            store.sparse_versions[index] = (id(out), out.version)
        return out

    @staticmethod
    def _row_ids(parameter, row_id):
        """Sorted unique int64 row ids (raw, on row_id's context); IndexError if out of range."""
        raw = row_id._data
        xp = _backend.xp_of(raw)
        with _backend.device_scope(row_id.context):
            return Trainer._checked_ids(parameter, raw, xp)

    @staticmethod
    def _checked_ids(parameter, raw, xp):
        if raw.dtype.kind == "f":
            ids = raw.astype(np.int64)
            if bool((ids != raw).any()):
                raise ValueError(
                    f"Parameter '{parameter.name}': row_id must hold whole numbers, got "
                    f"{_backend.to_host(raw)!r:.80}"
                )
        elif raw.dtype.kind in "iu":
            ids = raw.astype(np.int64, copy=False)
        else:
            raise TypeError(
                f"Parameter '{parameter.name}': row_id must hold integers, got dtype {raw.dtype}"
            )
        ids = xp.unique(ids.reshape(-1))
        n = parameter.shape[0]
        if ids.size and (int(ids[0]) < 0 or int(ids[-1]) >= n):
            raise IndexError(
                f"Parameter '{parameter.name}': row ids must lie in [0, {n}), got "
                f"{int(ids[0])}..{int(ids[-1])}"
            )
        return ids

    # ------------------------------------------------------------------ steps
    def _rescale_for(self, batch_size):
        if not isinstance(batch_size, numbers.Real) or isinstance(batch_size, bool):
            raise TypeError(f"Trainer: batch_size must be a number, got {batch_size!r}")
        if not batch_size > 0:
            raise ValueError(f"Trainer: batch_size must be positive, got {batch_size}")
        return self._scale / batch_size

    def _plan(self, ignore_stale_grad):
        """Check every parameter and list what to update; raises before anything changes.

        Returns a list of ``(index, param, replicas, grads, fresh)`` where ``fresh``
        is None (update every replica) or a per-replica list of booleans (kvstore=None).
        """
        contexts = self._contexts
        per_replica = self._kvstore is None
        plan = []
        for i, p in enumerate(self._params):
            if p._grad_req == "null":
                continue
            self._check_param(p)
            keys = [_ctx_key(c) for c in contexts]
            replicas = [p._replicas[k] for k in keys]
            # a buffer not allocated yet was never written by backward: stale
            fresh = [r._grad is not None and r._grad._fresh_grad for r in replicas]
            if all(fresh):
                plan.append((i, p, replicas, [r._grad for r in replicas], None))
                continue
            if not ignore_stale_grad:
                ctx = contexts[fresh.index(False)]
                raise StaleGradientError(_stale_message(p, ctx))
            if per_replica and any(fresh):
                plan.append((i, p, replicas, [r._grad_buffer() for r in replicas], fresh))
        return plan

    def _check_param(self, p):
        if not p._replicas:
            p._check_initialized("step")  # DeferredInitializationError or RuntimeError
        if list(p._ctx_list) != self._contexts:
            raise RuntimeError(
                f"Trainer: Parameter '{p.name}' now lives on {list(p._ctx_list)} but the Trainer "
                f"was created for {self._contexts}; create a new Trainer after reset_ctx()"
            )

    def _finish(self):
        for p in self._params:
            for r in p._replicas.values():
                if r._grad is not None:
                    r._grad._fresh_grad = False
        for p in self._params:
            if p._observers:
                p._notify("step", trainer=self)

    def step(self, batch_size, ignore_stale_grad=False):
        """Reduce the gradients across contexts, then update every parameter once.

        Parameters
        ----------
        batch_size : int
            Gradients are scaled by ``1 / batch_size``.
        ignore_stale_grad : bool, default False
            Skip parameters whose gradient was not written by backward since the
            last step (else StaleGradientError, before any update).
        """
        rescale = self._rescale_for(batch_size)
        self._decide_mode()
        plan = self._plan(ignore_stale_grad)
        self._optimizer.rescale_grad = rescale
        self._ensure_store()
        if self._kvstore is not None and self._update_on_kvstore:
            self._update_on_store(plan)
        else:
            if self._kvstore is not None:
                self._allreduce(plan)
            self._update_locally(plan)
        self._finish()

    def allreduce_grads(self):
        """Sum the gradients across contexts into every gradient buffer.

        Only with ``update_on_kvstore=False`` (or without a store); follow it with
        :meth:`update`.
        """
        self._decide_mode()
        self._refuse_on_store("allreduce_grads")
        plan = self._plan_all()
        self._ensure_store()
        if self._kvstore is not None:
            self._allreduce(plan)

    def _plan_all(self):
        """Every initialized parameter with gradients, stale or not (for allreduce_grads)."""
        out = []
        for i, p in enumerate(self._params):
            if p._grad_req == "null":
                continue
            self._check_param(p)
            keys = [_ctx_key(c) for c in self._contexts]
            replicas = [p._replicas[k] for k in keys]
            out.append((i, p, replicas, [r._grad_buffer() for r in replicas], None))
        return out

    def update(self, batch_size, ignore_stale_grad=False):
        """Update every parameter from its (already reduced) gradients; see :meth:`step`."""
        rescale = self._rescale_for(batch_size)
        self._decide_mode()
        self._refuse_on_store("update")
        plan = self._plan(ignore_stale_grad)
        self._optimizer.rescale_grad = rescale
        self._ensure_store()
        self._update_locally(plan)
        self._finish()

    def _refuse_on_store(self, what):
        if self._kvstore is not None and self._update_on_kvstore:
            raise RuntimeError(
                f"Trainer.{what}() is not supported when parameters are updated on the store "
                "(several contexts with update_on_kvstore=True); create the Trainer with "
                "update_on_kvstore=False"
            )

    def _allreduce(self, plan):
        store = self._kvstore
        with _backend.device_scope(store.ctx):
            for i, _, _, grads, _ in plan:
                if grads[0].stype != "default":
                    store.allreduce_rows(grads)
                else:
                    store.allreduce_dense(i, grads)

    def _update_locally(self, plan):
        updaters = self._updaters
        for i, p, replicas, grads, fresh in plan:
            if p._stype != "default":
                raise RuntimeError(
                    f"Trainer: row_sparse Parameter '{p.name}' can only be updated on the store"
                )
            for k, upd in enumerate(updaters):
                if fresh is None or fresh[k]:
                    upd._update(i, replicas[k], grads[k])

    def _update_on_store(self, plan):
        store = self._kvstore
        upd = self._store_updater
        for i, p, replicas, grads, _ in plan:
            with _backend.device_scope(store.ctx):
                if grads[0].stype != "default":
                    merged = store.merged_rows(grads)
                else:
                    merged = store.merged_dense(i, grads)
            if p._stype != "default":
                upd._update(i, store.sparse_weights[i], merged, sparse_weight=True)
                continue
            first = replicas[0]
            upd._update(i, first, merged)
            for r in replicas[1:]:
                _backend.copy_into(r._data, first._data, r.context, first.context)
                r._bump()

    # ------------------------------------------------------------------ states
    def _slots(self):
        if self._kvstore is not None and self._update_on_kvstore:
            return [self._store_updater]
        return self._updaters

    def _slot_contexts(self):
        if self._kvstore is not None and self._update_on_kvstore:
            return [self._contexts[0]]
        return list(self._contexts)

    def save_states(self, fname):
        """Save the optimizer's settings, counters and states to ``fname`` (atomically).

        The file is paramlab's own format (a ``.npz`` archive with a JSON header);
        it holds no pickle.
        """
        self._decide_mode()
        optimizer = self._optimizer
        arrays, meta = {}, {}
        slots = []
        for upd in self._slots():
            counts = optimizer._all_index_update_counts.get(upd._ctx_key, {})
            states = [
                [i, _states.state_spec(s, arrays, meta)] for i, s in sorted(upd.states.items())
            ]
            slots.append({"counts": [[i, c] for i, c in counts.items()], "states": states})
        header = {
            "format": _states.FORMAT,
            "version": _states.VERSION,
            "arrays": meta,
            "optimizer": _states.optimizer_record(optimizer),
            "params": [_param_record(p) for p in self._params],
            "slots": slots,
        }
        with atomic_writer(fname) as handle:
            _states.encode(handle, header, arrays)

    def _check_state_shapes(self, state, index, label):
        """Built-in optimizers keep states shaped like their parameter."""
        if not opt.optimizer._uses_raw_steps(self._optimizer):
            return
        shape = tuple(self._params[index].shape)
        for arr in _flat_states(state):
            if tuple(arr.shape) != shape:
                raise _states.CheckpointFormatError(
                    f"{label}: a state of parameter {self._params[index].name!r} has shape "
                    f"{tuple(arr.shape)}, not the parameter's {shape}"
                )

    def load_states(self, fname):
        """Load what :meth:`save_states` wrote; on any problem nothing changes.

        Raises
        ------
        CheckpointFormatError
            Not a complete paramlab states file (MXNet's pickled files are refused).
        ValueError
            Saved for another optimizer or another set of parameters.
        """
        label = f"Trainer.load_states({os.fspath(fname)!r})"
        header, arrays = _states.decode(read_bytes_checked(fname), label)
        self._decide_mode()
        _states.check_optimizer_record(header.get("optimizer"), self._optimizer, label)
        saved = header.get("params")
        mine = [_param_record(p) for p in self._params]
        if saved != mine:
            raise ValueError(
                f"{label}: the states were saved for other parameters: "
                f"{_describe(saved)} in the file, {_describe(mine)} in this Trainer"
            )
        slots = header.get("slots")
        targets = self._slots()
        contexts = self._slot_contexts()
        if not isinstance(slots, list) or not slots:
            raise _states.CheckpointFormatError(f"{label}: the file holds no optimizer states")
        if len(slots) == len(targets):
            sources = slots
        elif len(slots) == 1 or len(targets) == 1:
            sources = [slots[0]] * len(targets)
        else:
            raise ValueError(
                f"{label}: the file holds the states of {len(slots)} contexts but this Trainer "
                f"has {len(targets)}"
            )
        n_params = len(self._params)
        built = []
        for slot, ctx in zip(sources, contexts):
            entries, counts = slot.get("states"), slot.get("counts")
            if not isinstance(entries, list) or not isinstance(counts, list):
                raise _states.CheckpointFormatError(f"{label}: a slot is malformed")
            states = {}
            for entry in entries:
                if (
                    not isinstance(entry, list)
                    or len(entry) != 2
                    or not isinstance(entry[0], int)
                    or not 0 <= entry[0] < n_params
                ):
                    raise _states.CheckpointFormatError(f"{label}: a state entry is malformed")
                _states.check_spec(entry[1], arrays, label, f"parameter {entry[0]}")
                state = _states.build_state(entry[1], arrays, _maker(ctx))
                self._check_state_shapes(state, entry[0], label)
                states[entry[0]] = state
            count_map = {}
            for item in counts:
                if not (
                    isinstance(item, list)
                    and len(item) == 2
                    and all(isinstance(v, int) for v in item)
                ):
                    raise _states.CheckpointFormatError(f"{label}: update counts are malformed")
                count_map[item[0]] = item[1]
            built.append((states, count_map))
        # everything is valid: apply
        _states.apply_optimizer_record(header["optimizer"], self._optimizer)
        self._optimizer.param_dict = dict(enumerate(self._params))
        for upd, (states, count_map) in zip(targets, built):
            upd.states = states
            upd.states_synced = dict.fromkeys(states, True)
            self._optimizer._all_index_update_counts[upd._ctx_key] = count_map
        self._optimizer._set_current_context(targets[0]._ctx_key)


def _flat_states(state):
    if state is None:
        return []
    if isinstance(state, NDArray):
        return [state]
    return [x for s in state for x in _flat_states(s)]


def _size(p):
    shape = p.shape or ()
    out = 1
    for d in shape:
        out *= max(int(d), 0)
    return out


def _param_record(p):
    return {
        "name": p.name,
        "shape": list(p.shape) if p.shape is not None else None,
        "dtype": np.dtype(p.dtype).name,
        "stype": p._stype,
    }


def _describe(records):
    if not isinstance(records, list):
        return repr(records)
    names = [r.get("name") if isinstance(r, dict) else r for r in records]
    return f"{len(records)} parameters {names[:6]}{' ...' if len(names) > 6 else ''}"


def _maker(ctx):
    def make(host):
        return NDArray._wrap(_backend.to_context(host, ctx, copy=True), ctx)

    return make
