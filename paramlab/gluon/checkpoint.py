"""Saving and loading the parameters of a Block or a ParameterDict.

``Block.save_parameters`` / ``load_parameters`` and ``ParameterDict.save`` /
``load`` delegate here. The file format follows the file's extension:

=================  ==============================================================
``.npz``           NumPy archive, uncompressed (:mod:`paramlab.ndarray._npzformat`)
``.safetensors``   safetensors (:mod:`paramlab.ndarray._safetensorsformat`)
anything else      MXNet's binary format, as MXNet 1.9.1 writes it (``.params``)
=================  ==============================================================

Names follow MXNet 1.9.1. ``save_parameters`` writes *structural* names
(``0.weight``, ``encoder.bias``); a parameter shared by several layers is
written under each of its names, or once (under its last name) with
``deduplicate=True``. ``load_parameters`` takes MXNet's 1.x legacy path when no
key of the file contains a ``'.'``: keys (without any ``arg:``/``aux:`` prefix,
as ``HybridBlock.export`` and Module write them) are matched against the full
parameter names with the block's prefix put in front. ``ParameterDict.save`` and
``load`` use full names. The value written for a parameter is its ``_reduce()``:
its replicas averaged on ``cpu(0)``.

Loading never half-applies: the whole file is read and checked against the
whole block (missing and extra names, shapes, dtypes, storage types, contexts)
before any parameter changes, and every error names the parameter, the key,
the file, the expected and the given value. Writing goes through a temporary
file that is fsynced and renamed (:mod:`paramlab._io`), so a failed save leaves
the previous file as it was.

>>> import os, tempfile
>>> import paramlab as mx
>>> net = mx.gluon.nn.Dense(2, in_units=3)
>>> net.initialize(mx.init.One())
>>> path = os.path.join(tempfile.mkdtemp(), 'dense.npz')
>>> net.save_parameters(path)
>>> clone = mx.gluon.nn.Dense(2, in_units=3)
>>> clone.load_parameters(path)
>>> clone.weight.data().asnumpy().tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

import dataclasses
import os
import struct

import numpy as np

from .. import _backend
from .._autograd import state as _ag_state
from .._dtypes import canonical
from ..base import CheckpointFormatError
from ..context import Context, as_context_list, cpu
from ..ndarray import _mxformat, _npzformat, _safetensorsformat
from ..ndarray.ndarray import NDArray
from ..util import is_np_shape
from .parameter import Parameter, PendingInit

__all__ = [
    "FORMATS",
    "format_of",
    "read_file",
    "write_file",
    "save_parameters",
    "load_parameters",
    "save_parameter_dict",
    "load_parameter_dict",
]

FORMATS = ("mxnet", "npz", "safetensors")
"""The checkpoint formats, as :func:`format_of` names them."""

_READERS = {"mxnet": _mxformat.read, "npz": _npzformat.read, "safetensors": _safetensorsformat.read}
_WRITERS = {
    "mxnet": _mxformat.write,
    "npz": _npzformat.write,
    "safetensors": _safetensorsformat.write,
}
_SUFFIXES = {"npz": ".npz", "safetensors": ".safetensors", "mxnet": ".params"}
_MODULE_PREFIXES = ("arg:", "aux:")


# ----------------------------------------------------------------------------
# formats
# ----------------------------------------------------------------------------


def _path(filename, what: str) -> str:
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"{what}: filename must be a str or os.PathLike, got {filename!r}")
    return os.fspath(filename)


def format_of(filename) -> str:
    """The format a file name selects: ``'npz'``, ``'safetensors'`` or ``'mxnet'``.

    >>> format_of('model.safetensors'), format_of('net.NPZ'), format_of('net-0000.params')
    ('safetensors', 'npz', 'mxnet')
    """
    name = _path(filename, "format_of").lower()
    for fmt in ("npz", "safetensors"):
        if name.endswith(_SUFFIXES[fmt]):
            return fmt
    return "mxnet"


def _sniff(path: str) -> str | None:
    """The format the first bytes of a file look like, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(9)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    if head[:8] == struct.pack("<Q", _mxformat.FILE_MAGIC):
        return "mxnet"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return None


def read_file(filename) -> tuple[list[_mxformat.StoredArray], list[str] | None]:
    """Read every array of a checkpoint in the format its extension selects.

    Returns
    -------
    arrays : list of StoredArray
        Host records (new, writable arrays), in file order.
    names : list of str or None
        The names, or None for a file holding an unnamed list.

    Raises
    ------
    CheckpointFormatError
        The file is not valid in that format (the message says so when its
        content looks like another format).
    OSError
        The file cannot be read.
    """
    path = _path(filename, "read_file")
    fmt = format_of(path)
    try:
        return _READERS[fmt](path)
    except CheckpointFormatError as error:
        looks = _sniff(path)
        if looks is None or looks == fmt:
            raise
        raise CheckpointFormatError(
            f"{error}; the file's content looks like the {looks} format: give it a "
            f"{_SUFFIXES[looks]} name to read it"
        ) from error


def write_file(filename, arrays, names=None) -> None:
    """Write arrays (StoredArray records or NumPy arrays) atomically, in the format of the name."""
    path = _path(filename, "write_file")
    _WRITERS[format_of(path)](path, arrays, names)


# ----------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------


def _structural_params(block, prefix: str = "", out: dict | None = None) -> dict[str, Parameter]:
    """Structural name -> Parameter, a shared parameter under every one of its names."""
    out = {} if out is None else out
    own = dict(block._reg_params)
    registered = {id(p) for p in own.values()}
    for short, param in block._own_params():
        if id(param) not in registered:
            own.setdefault(short, param)
    for short, param in own.items():
        out[prefix + short] = param
    for name, child in block._children.items():
        _structural_params(child, f"{prefix}{name}.", out)
    return out


def _deduplicate(entries: dict[str, Parameter]) -> dict[str, Parameter]:
    """Each parameter once, under its last name, in order of first appearance (as MXNet)."""
    last: dict[int, str] = {}
    by_id: dict[int, Parameter] = {}
    for name, param in entries.items():
        last[id(param)] = name
        by_id[id(param)] = param
    return {name: by_id[key] for key, name in last.items()}


def _brief(names, limit: int = 10) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return f"[{shown}{more}]"


# ----------------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------------


def _stored_value(param: Parameter) -> _mxformat.StoredArray:
    """The host record of ``param._reduce()`` (a lone CPU replica is used in place)."""
    if len(param._replicas) == 1:
        (replica,) = param._replicas.values()
        if replica.stype == "default" and not _backend.is_gpu_array(replica._data):
            return _mxformat.StoredArray.from_dense(_backend.to_host(replica._data))
    return _mxformat.StoredArray.from_dense(_backend.to_host(param._reduce()._data))


def _save(entries: dict[str, Parameter], path: str) -> None:
    for param in entries.values():
        if not param._replicas:
            param._check_initialized("save")  # RuntimeError or DeferredInitializationError
    values: dict[int, _mxformat.StoredArray] = {}
    for param in entries.values():
        if id(param) not in values:
            values[id(param)] = _stored_value(param)
    write_file(path, [values[id(p)] for p in entries.values()], list(entries))


def save_parameters(block, filename, deduplicate: bool = False) -> None:
    """Save a block's parameters under their structural names.

    Parameters
    ----------
    block : Block
    filename : str or os.PathLike
        ``.npz``, ``.safetensors``, or anything else for MXNet's format.
    deduplicate : bool
        Save a shared parameter once (under its last structural name) instead
        of under each of its names.

    Raises
    ------
    RuntimeError
        A parameter is not initialized (DeferredInitializationError when its
        initialization is deferred). Nothing is written.
    """
    path = _path(filename, "save_parameters")
    entries = _structural_params(block)
    if deduplicate:
        entries = _deduplicate(entries)
    _save(entries, path)


def save_parameter_dict(params, filename, strip_prefix: str = "") -> None:
    """Save a ParameterDict under full names, without ``strip_prefix`` (``ParameterDict.save``).

    Raises
    ------
    ValueError
        A parameter's name does not start with ``strip_prefix``.
    RuntimeError
        A parameter is not initialized.
    """
    path = _path(filename, "ParameterDict.save")
    entries = {}
    for param in params.values():
        if not param.name.startswith(strip_prefix):
            raise ValueError(
                f"ParameterDict.save: strip_prefix is {strip_prefix!r} but Parameter "
                f"'{param.name}' does not start with it; this may be due to a Block sharing "
                "Parameters with other Blocks, or to child blocks created outside "
                "name_scope(). Pass a common prefix, or strip_prefix=''."
            )
        entries[param.name[len(strip_prefix) :]] = param
    _save(entries, path)


# ----------------------------------------------------------------------------
# loading: options and plans
# ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Options:
    ctx: tuple[Context, ...] | None
    allow_missing: bool
    ignore_extra: bool
    cast_dtype: bool
    dtype_source: str


def _options(what, ctx, allow_missing, ignore_extra, cast_dtype, dtype_source) -> _Options:
    if dtype_source not in ("current", "saved"):
        raise ValueError(f"{what}: dtype_source must be 'current' or 'saved', got {dtype_source!r}")
    ctx_list = None
    if ctx is not None:
        ctx_list = tuple(as_context_list(ctx, f"{what}: ctx"))
        if len(set(ctx_list)) != len(ctx_list):
            raise ValueError(f"{what}: ctx must list distinct contexts, got {list(ctx_list)}")
        for c in ctx_list:
            _backend.check_device(c)
    return _Options(
        ctx_list, bool(allow_missing), bool(ignore_extra), bool(cast_dtype), dtype_source
    )


@dataclasses.dataclass
class _Plan:
    """What loading one file entry does to one parameter (all checked beforehand)."""

    param: Parameter
    record: _mxformat.StoredArray | None
    shape: tuple[int, ...]
    dtype: np.dtype  # the parameter's dtype after loading
    cast_param: bool  # dtype_source='saved' switches the parameter's dtype
    ctx_list: tuple[Context, ...] | None  # where an uninitialized parameter is created
    value: NDArray | None = None


def _merged_shape(param: Parameter, saved: tuple[int, ...], where: str) -> tuple[int, ...]:
    current = param._shape
    if current is None or (current == () and not is_np_shape()):
        return saved  # nothing known (an empty legacy shape means "unknown")
    if len(current) != len(saved) or any(c not in (0, s) for c, s in zip(current, saved)):
        raise ValueError(
            f"{where}: shape incompatible: the parameter has shape {param.shape}, "
            f"the file holds shape {saved}"
        )
    return tuple(s if c == 0 else c for c, s in zip(current, saved))


def _target_dtype(param, saved: np.dtype, options: _Options, where: str):
    """(dtype after loading, whether the parameter is cast to it)."""
    current = canonical(param.dtype, f"{where}: dtype")
    if saved == current:
        return current, False
    if not options.cast_dtype:
        raise TypeError(
            f"{where}: dtype incompatible: the parameter is {current}, the file holds {saved}. "
            f"Set cast_dtype=True to cast the dtype of saved params (dtype_source='current' "
            f"converts the saved values to {current}; 'saved' casts the parameter to {saved})."
        )
    if options.dtype_source == "current":
        return current, False
    return canonical(saved, f"{where}: saved dtype (dtype_source='saved')"), True


def _target_contexts(param, options: _Options, where: str):
    """The contexts an uninitialized parameter gets; None for an initialized one."""
    given = options.ctx
    if param._replicas:
        if given is not None and set(given) != set(param._ctx_list):
            raise ValueError(
                f"{where}: cannot load on {list(given)} because the parameter is already "
                f"initialized on {list(param._ctx_list)}; pass ctx=None (or the same contexts), "
                "or call reset_ctx() first"
            )
        return None
    if param._pending is not None:
        pending = param._pending.ctx_list
        if given is not None and set(given) != set(pending):
            raise ValueError(
                f"{where}: cannot load on {list(given)} because the parameter's deferred "
                f"initialization is on {list(pending)}; pass ctx=None or the same contexts"
            )
        return tuple(pending)
    return given if given is not None else (cpu(0),)


def _check_stype(param, shape, where: str) -> None:
    if param._stype == "row_sparse" and not shape:
        raise ValueError(
            f"{where}: a row_sparse parameter needs at least 1 dimension, the file "
            f"holds shape {shape}"
        )
    if param._stype == "csr" and len(shape) != 2:
        raise ValueError(f"{where}: a csr parameter must be 2-d, the file holds shape {shape}")


def _plan(param: Parameter, key: str, record, label: str, options: _Options) -> _Plan:
    where = f"Parameter '{param.name}' (key '{key}' in file {label})"
    shape = _merged_shape(param, record.shape, where)
    dtype, cast_param = _target_dtype(param, record.dtype, options, where)
    _check_stype(param, shape, where)
    ctx_list = _target_contexts(param, options, where)
    return _Plan(param, record, shape, dtype, cast_param, ctx_list)


def _value(plan: _Plan) -> NDArray:
    """The loaded values as a dense cpu(0) NDArray of the target dtype (no copy if possible)."""
    dense = plan.record.to_dense()
    if dense.dtype != plan.dtype:
        dense = dense.astype(plan.dtype)
    return NDArray._wrap(dense, cpu(0))


def _apply(plans: list[_Plan]) -> None:
    """Build every value (nothing changes if that fails), then assign them in order."""
    for plan in plans:
        plan.value = _value(plan)
        plan.record = None  # release the file's copy as soon as it is wrapped or converted
    previous = _ag_state.set_recording(False)
    try:
        for plan in plans:
            param, value = plan.param, plan.value
            plan.value = None
            if plan.cast_param:
                param.cast(plan.dtype)
            if param._replicas:
                param.set_data(value)
            else:
                param._shape = plan.shape  # already checked against the known dims
                param._complete(PendingInit(None, plan.ctx_list, None, data=value))
    finally:
        _ag_state.set_recording(previous)


def _named(records, names, label: str) -> list[str]:
    if names is not None:
        return names
    if records:
        raise CheckpointFormatError(
            f"{label}: the file holds an unnamed list of {len(records)} arrays; parameters "
            "load only from named arrays (a file saved from a dict)"
        )
    return []  # MXNet stores an empty dict as an empty list


def _last_plans(plans: list[_Plan]) -> list[_Plan]:
    """Keep the last plan of each parameter (a shared one may be saved under several keys)."""
    last = {}
    for plan in plans:
        last.pop(id(plan.param), None)
        last[id(plan.param)] = plan
    return list(last.values())


# ----------------------------------------------------------------------------
# loading: the two key schemes
# ----------------------------------------------------------------------------


def _load_dict(params, records, names, label, options, restore_prefix: str, owner: str) -> None:
    """MXNet 1.x ``ParameterDict.load_dict``: keys are full names minus ``restore_prefix``."""
    if not isinstance(restore_prefix, str):
        raise TypeError(f"{owner}: restore_prefix must be a string, got {restore_prefix!r}")
    for name in params.keys():
        if not name.startswith(restore_prefix):
            raise ValueError(
                f"{owner}: restore_prefix is {restore_prefix!r} but Parameter '{name}' does not "
                "start with it; make sure source and target networks have the same prefix"
            )
    loaded: dict[str, int] = {}
    for index, key in enumerate(names):
        short = key[4:] if key.startswith(_MODULE_PREFIXES) else key
        loaded.pop(restore_prefix + short, None)
        loaded[restore_prefix + short] = index
    cut = len(restore_prefix)
    if not options.allow_missing:
        missing = [name for name in params.keys() if name not in loaded]
        if missing:
            raise ValueError(
                f"{owner}: Parameters {_brief(n[cut:] for n in missing)} are missing in file "
                f"{label}, which contains parameters {_brief(names)}. Make sure source and "
                "target networks have the same prefix, or set allow_missing=True to ignore "
                "missing parameters."
            )
    table = params._params if hasattr(params, "_params") else dict(params.items())
    extra = [name for name in loaded if name not in table]
    if extra and not options.ignore_extra:
        raise ValueError(
            f"{owner}: Parameters {_brief(n[cut:] for n in extra)} loaded from file {label} "
            f"are not present in the ParameterDict, which contains {_brief(table)}. Set "
            "ignore_extra=True to ignore them."
        )
    plans = [
        _plan(table[name], names[index], records[index], label, options)
        for name, index in loaded.items()
        if name in table
    ]
    records.clear()
    _apply(_last_plans(plans))


def load_parameters(
    block,
    filename,
    ctx=None,
    allow_missing=False,
    ignore_extra=False,
    cast_dtype=False,
    dtype_source="current",
) -> None:
    """Load a block's parameters from a file written by ``save_parameters`` or MXNet.

    Parameters
    ----------
    block : Block
    filename : str or os.PathLike
        ``.npz``, ``.safetensors``, or anything else for MXNet's format.
    ctx : Context or list of Context, optional
        Where uninitialized parameters are created (default ``cpu(0)``, as in
        MXNet, not the current context). Initialized and deferred parameters
        stay where they are; a different set of contexts is an error.
    allow_missing : bool
        Leave parameters that the file lacks unchanged instead of raising.
    ignore_extra : bool
        Skip arrays of the file that the block lacks instead of raising.
    cast_dtype : bool
        Accept a dtype that differs from the parameter's.
    dtype_source : {'current', 'saved'}
        With ``cast_dtype``: convert the saved values to the parameter's dtype
        ('current') or cast the parameter to the saved dtype ('saved').

    Raises
    ------
    ValueError
        A missing or extra parameter, a shape that does not fit, contexts that
        differ from the parameter's (nothing is changed).
    TypeError
        A dtype that differs without ``cast_dtype`` (nothing is changed).
    CheckpointFormatError
        The file is not a valid checkpoint (a ValueError).
    OSError
        The file cannot be read.
    """
    what = f"{type(block).__name__}.load_parameters"
    path = _path(filename, what)
    options = _options(what, ctx, allow_missing, ignore_extra, cast_dtype, dtype_source)
    records, names = read_file(path)
    label = repr(path)
    names = _named(records, names, label)
    params = _structural_params(block)
    if not names and not params:
        return
    if not any("." in name for name in names):
        _load_dict(block.collect_params(), records, names, label, options, block.prefix, what)
        return
    known = set(names)
    if not options.allow_missing:
        aliases: dict[int, list[str]] = {}
        for name, param in params.items():
            aliases.setdefault(id(param), []).append(name)
        missing = [group[0] for group in aliases.values() if not known.intersection(group)]
        if missing:
            raise ValueError(
                f"{what}: Parameters {_brief(missing)} are missing in file {label}, which "
                f"contains parameters {_brief(names)}. Set allow_missing=True to ignore "
                "missing parameters."
            )
    extra = [name for name in names if name not in params]
    if extra and not options.ignore_extra:
        raise ValueError(
            f"{what}: Parameters {_brief(extra)} loaded from file {label} are not present in "
            f"the block, which contains parameters {_brief(params)}. Set ignore_extra=True to "
            "ignore them."
        )
    plans = [
        _plan(params[name], name, record, label, options)
        for name, record in zip(names, records)
        if name in params
    ]
    records.clear()
    _apply(_last_plans(plans))


def load_parameter_dict(
    params,
    filename,
    ctx=None,
    allow_missing=False,
    ignore_extra=False,
    restore_prefix="",
    cast_dtype=False,
    dtype_source="current",
) -> None:
    """Load a ParameterDict from full-name keys (``ParameterDict.load``, MXNet 1.x).

    Each key of the file (without any ``arg:``/``aux:`` prefix) with
    ``restore_prefix`` in front names a parameter. The other arguments and the
    errors are those of :func:`load_parameters`.
    """
    what = "ParameterDict.load"
    path = _path(filename, what)
    options = _options(what, ctx, allow_missing, ignore_extra, cast_dtype, dtype_source)
    records, names = read_file(path)
    label = repr(path)
    names = _named(records, names, label)
    _load_dict(params, records, names, label, options, restore_prefix, what)
