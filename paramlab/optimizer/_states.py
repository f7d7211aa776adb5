"""paramlab's optimizer-states format: a ``.npz`` archive with a JSON header.

The archive (uncompressed zip, as ``numpy.savez`` writes) holds the member
``header.npy`` -- the UTF-8 bytes of a JSON document as a 1-d uint8 array -- and
one ``.npy`` member per state array (``a0``, ``a1``, ...). The header says
everything else: the optimizer (registered name, settings, counters, learning
rate scheduler), the parameters in order (names, shapes, dtypes), and for each
*slot* (one per context, or one for the Trainer's store) the update counts and
the layout of every state (None, an array, or a tuple/list of them).

Reading never unpickles: members are parsed with ``allow_pickle=False`` after
their declared shape and dtype were checked against the header, so a truncated,
forged or foreign file (such as MXNet's pickled states, which begins with the
pickle protocol byte 0x80) raises :class:`~paramlab.base.CheckpointFormatError`
before anything is allocated or changed.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from .. import lr_scheduler as _lrs
from .._dtypes import SUPPORTED, canonical
from ..base import CheckpointFormatError
from ..ndarray._npzformat import READ_ERRORS, write_member
from .optimizer import _BASE_SETTINGS

__all__ = [
    "FORMAT",
    "VERSION",
    "encode",
    "decode",
    "state_spec",
    "check_spec",
    "build_state",
    "optimizer_record",
    "check_optimizer_record",
    "apply_optimizer_record",
    "encode_updater_states",
    "decode_updater_states",
]

FORMAT = "paramlab.optimizer_states"
VERSION = 1
_HEADER = "header"
_MAX_HEADER_BYTES = 64 << 20
_READ_ERRORS = (*READ_ERRORS, TypeError)
_PICKLE_PROTO = 0x80


# ----------------------------------------------------------------------------- writing
def encode(handle, header: dict, arrays: dict) -> None:
    """Write ``header`` (JSON-safe) and ``arrays`` (name -> NumPy array) to ``handle``."""
    raw = np.frombuffer(json.dumps(header, allow_nan=True).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        write_member(zf, _HEADER, raw)
        for key, array in arrays.items():
            write_member(zf, key, np.ascontiguousarray(array))


# ----------------------------------------------------------------------------- reading
def _fail(label, detail):
    raise CheckpointFormatError(f"{label}: {detail}")


def _member_header(zf, name, label):
    with zf.open(name) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            _fail(label, f"member {name!r} has an unsupported .npy version {version}")
    if dtype.hasobject:
        _fail(label, f"member {name!r} holds Python objects; refusing to unpickle")
    return tuple(shape), dtype


def _read_member(zf, name):
    with zf.open(name) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def decode(data: bytes, label: str):
    """Parse the bytes of a states file: ``(header, {name: numpy array})``.

    Raises CheckpointFormatError for anything that is not a complete file in this format.
    """
    if data[:1] == bytes([_PICKLE_PROTO]):
        _fail(
            label,
            "this is a pickled file (MXNet's Trainer.save_states format, which starts "
            "with the pickle protocol byte 0x80); paramlab never unpickles files. "
            "Save the states again with paramlab's Trainer.save_states",
        )
    if data[:4] != b"PK\x03\x04":
        _fail(
            label,
            "not a paramlab optimizer-states file (expected a .npz archive written "
            "by Trainer.save_states)",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if _HEADER + ".npy" not in names:
                _fail(
                    label, "the archive has no 'header' member: not written by Trainer.save_states"
                )
            shape, dtype = _member_header(zf, _HEADER + ".npy", label)
            if dtype != np.uint8 or len(shape) != 1 or shape[0] > _MAX_HEADER_BYTES:
                _fail(label, f"the header member is malformed (dtype {dtype}, shape {shape})")
            header = json.loads(_read_member(zf, _HEADER + ".npy").tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                _fail(label, f"the header does not describe {FORMAT!r} content")
            if header.get("version") != VERSION:
                _fail(
                    label,
                    f"format version {header.get('version')!r} is not supported "
                    f"(this paramlab reads version {VERSION})",
                )
            declared = header.get("arrays")
            if not isinstance(declared, dict):
                _fail(label, "the header lists no arrays")
            arrays = {}
            for key, meta in declared.items():
                member = f"{key}.npy"
                if member not in names:
                    _fail(label, f"array {key!r} is missing from the archive (truncated file?)")
                shape, dtype = _member_header(zf, member, label)
                want_shape, want_dtype = tuple(meta["shape"]), np.dtype(meta["dtype"])
                if want_dtype not in SUPPORTED:
                    _fail(label, f"array {key!r} has the unsupported dtype {want_dtype}")
                if shape != want_shape or dtype != want_dtype:
                    _fail(
                        label,
                        f"array {key!r} is {dtype}{list(shape)} in the archive but the "
                        f"header says {want_dtype}{list(want_shape)}",
                    )
                arrays[key] = _read_member(zf, member)
    except CheckpointFormatError:
        raise
    except _READ_ERRORS as exc:
        _fail(
            label,
            f"not a valid states archive (truncated or corrupted): {type(exc).__name__}: {exc}",
        )
    return header, arrays


# ----------------------------------------------------------------------------- state layouts
def state_spec(state, arrays: dict, meta: dict):
    """The JSON layout of ``state``; its arrays are added to ``arrays`` (host copies)."""
    from ..ndarray.ndarray import NDArray

    if state is None:
        return None
    if isinstance(state, NDArray):
        if state.stype != "default":
            state = state.tostype("default")
        key = f"a{len(arrays)}"
        host = state.asnumpy()
        arrays[key] = host
        meta[key] = {"shape": list(host.shape), "dtype": host.dtype.name}
        return {"array": key}
    if isinstance(state, (tuple, list)):
        kind = "tuple" if isinstance(state, tuple) else "list"
        return {kind: [state_spec(s, arrays, meta) for s in state]}
    raise TypeError(
        f"save_states: optimizer states must be None, NDArrays or tuples/lists of them, got "
        f"{type(state).__name__}"
    )


def check_spec(spec, arrays: dict, label: str, where: str):
    """Validate a layout against the loaded arrays (raises CheckpointFormatError)."""
    if spec is None:
        return
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, value),) = spec.items()
        if kind == "array" and value in arrays:
            return
        if kind in ("tuple", "list") and isinstance(value, list):
            for s in value:
                check_spec(s, arrays, label, where)
            return
    _fail(label, f"the state layout of {where} is malformed: {spec!r:.200}")


def build_state(spec, arrays: dict, make):
    """Rebuild a state from its layout; ``make(numpy array)`` creates each NDArray."""
    if spec is None:
        return None
    ((kind, value),) = spec.items()
    if kind == "array":
        return make(arrays[value])
    parts = [build_state(s, arrays, make) for s in value]
    return tuple(parts) if kind == "tuple" else parts


# ----------------------------------------------------------------------------- optimizer
def optimizer_record(opt) -> dict:
    """The registered name, settings and scheduler of ``opt`` (JSON-safe)."""
    sched = opt.lr_scheduler
    if sched is None:
        sched_rec = None
    else:
        state = sched._state() if hasattr(sched, "_state") else None
        sched_rec = {"class": type(sched).__name__, "state": state}
    return {
        "name": type(opt).__name__.lower(),
        "class": type(opt).__name__,
        "settings": opt._settings(),
        "lr_scheduler": sched_rec,
    }


def check_optimizer_record(rec, opt, label):
    """Raise CheckpointFormatError / ValueError if ``rec`` cannot be applied to ``opt``."""
    if not isinstance(rec, dict) or not isinstance(rec.get("settings"), dict):
        _fail(label, "the optimizer description is missing or malformed")
    name = type(opt).__name__.lower()
    if rec.get("name") != name:
        raise ValueError(
            f"{label}: the states were saved for optimizer {rec.get('class', rec.get('name'))!r} "
            f"but this Trainer uses {type(opt).__name__!r}; create the Trainer with the same "
            "optimizer to load them"
        )
    allowed = set(_BASE_SETTINGS) | set(type(opt)._hyper)
    for key, value in rec["settings"].items():
        if key in ("lr_mult", "wd_mult"):
            if not isinstance(value, list) or not all(
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], (int, str))
                and _scalar(item[1])
                for item in value
            ):
                _fail(label, f"the optimizer setting {key!r} is malformed")
        elif key not in allowed:
            raise ValueError(
                f"{label}: the states hold the setting {key!r}, which {type(opt).__name__} does "
                "not have"
            )
        elif not _scalar(value):
            _fail(label, f"the optimizer setting {key!r} is malformed: {value!r:.80}")
    sched = rec.get("lr_scheduler")
    if sched is not None:
        if not isinstance(sched, dict) or not isinstance(sched.get("class"), str):
            _fail(label, "the lr_scheduler description is malformed")
        current = opt.lr_scheduler
        same = current is not None and type(current).__name__ == sched["class"]
        builtin = isinstance(getattr(_lrs, sched["class"], None), type)
        if not same and not (builtin and isinstance(sched.get("state"), dict)):
            raise ValueError(
                f"{label}: the states were saved with an lr_scheduler of class "
                f"{sched['class']!r}, which cannot be rebuilt here; give the optimizer an "
                "instance of that class before loading"
            )


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def apply_optimizer_record(rec, opt):
    """Put the settings, counters and scheduler of ``rec`` into ``opt`` (validated before)."""
    opt._restore_settings(rec["settings"])
    sched = rec.get("lr_scheduler")
    if sched is None:
        opt.lr_scheduler = None
        return
    current = opt.lr_scheduler
    if current is None or type(current).__name__ != sched["class"]:
        cls = getattr(_lrs, sched["class"])
        current = cls.__new__(cls)
        opt.lr_scheduler = current
    if sched.get("state") is not None and hasattr(current, "_restore"):
        current._restore(sched["state"])


# ----------------------------------------------------------------------------- Updater bytes
def encode_updater_states(states: dict, optimizer=None) -> bytes:
    """The bytes of one Updater's states (and optimizer settings when given)."""
    arrays, meta = {}, {}
    entries = [[_json_key(k), state_spec(s, arrays, meta)] for k, s in states.items()]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "arrays": meta,
        "optimizer": optimizer_record(optimizer) if optimizer is not None else None,
        "slots": [{"counts": None, "states": entries}],
        "params": None,
    }
    buf = io.BytesIO()
    encode(buf, header, arrays)
    return buf.getvalue()


def decode_updater_states(data, optimizer):
    """The states dict encoded by :func:`encode_updater_states` (NDArrays on cpu(0))."""
    from ..context import cpu
    from ..ndarray.ndarray import NDArray

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"Updater.set_states: expected bytes, got {type(data).__name__}")
    label = "Updater.set_states"
    header, arrays = decode(bytes(data), label)
    slots = header.get("slots")
    if not isinstance(slots, list) or len(slots) != 1:
        _fail(label, "expected the states of exactly one updater")
    entries = slots[0].get("states")
    if not isinstance(entries, list):
        _fail(label, "the states list is malformed")
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 2:
            _fail(label, "the states list is malformed")
        check_spec(entry[1], arrays, label, f"index {entry[0]!r}")
    rec = header.get("optimizer")
    if rec is not None:
        check_optimizer_record(rec, optimizer, label)
        apply_optimizer_record(rec, optimizer)

    def make(host):
        return NDArray._wrap(np.array(host, dtype=canonical(host.dtype)), cpu(0))

    return {_from_json_key(k): build_state(spec, arrays, make) for k, spec in entries}


def _json_key(key):
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str):
        return key
    raise TypeError(f"save_states: state keys must be ints or strings, got {key!r}")


def _from_json_key(key):
    return key
