"""Checkpoints as NumPy ``.npz`` archives, and the flat layout shared with safetensors.

NumPy's ``.npz`` and the safetensors format hold a flat mapping of names to
dense arrays. :func:`flatten` lays :class:`~paramlab.ndarray._mxformat.StoredArray`
records out in such a mapping: a dense array under its own name, a sparse
array as its parts ``name/data``, ``name/indices`` (and ``name/indptr`` for
csr), with a small JSON description (the names in order, the container kind,
the dense shape and storage type of each sparse array). :func:`unflatten`
checks that description against the arrays and rebuilds the records. A file
without the description (written by plain NumPy or another tool) reads as
dense arrays in file order.

In an ``.npz`` archive the description is the member ``__paramlab__``: the
UTF-8 bytes of the JSON as a 1-d uint8 array. Archives are written uncompressed
(as ``numpy.savez`` does), with fixed timestamps so that equal content gives
equal bytes. Reading never unpickles (``allow_pickle=False``) and checks every
member's size, compression, header and dtype before any array is allocated;
every problem raises :class:`~paramlab.base.CheckpointFormatError` naming the
file and the member.
"""

from __future__ import annotations

__all__ = [
    "META_KEY",
    "FORMAT_VERSION",
    "flatten",
    "unflatten",
    "decode_meta",
    "normalize",
    "read",
    "write",
]

import io
import json
import operator
import os
import struct
import zipfile
from collections.abc import Mapping, Sequence
from typing import BinaryIO, NoReturn

import numpy as np

from .._io import atomic_writer
from ..base import CheckpointFormatError
from ._mxformat import DTYPE_FLAGS, MAX_NDIM, StoredArray, as_record, source_label

META_KEY = "__paramlab__"
"""Name of the JSON description in a flat file."""

FORMAT_VERSION = 1
"""Version of the flat layout written here; files of a newer version are refused."""

_SPARSE_PARTS = {"row_sparse": ("data", "indices"), "csr": ("data", "indices", "indptr")}
_SUFFIX = ".npy"
_MAX_HEADER_BYTES = 10_000  # NumPy's own limit for .npy headers
_MAX_META_BYTES = 16 << 20
# Deflate cannot expand data more than about 1032:1; a member that claims more is lying.
_DEFLATE_MAX_RATIO = 1032
_DEFLATE_SLACK = 1 << 16
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    EOFError,
    struct.error,
    NotImplementedError,
    KeyError,
    IndexError,
    OverflowError,
    OSError,
)


def _fail(label: str, detail: str) -> NoReturn:
    raise CheckpointFormatError(f"{label}: {detail}")


# ----------------------------------------------------------------------------
# the flat layout
# ----------------------------------------------------------------------------


def _checked_names(names: Sequence[str] | None, count: int) -> list[str]:
    if names is None:
        return [str(i) for i in range(count)]
    if isinstance(names, (str, bytes)):
        raise TypeError("names must be a sequence of str, not a single string")
    names = list(names)
    if len(names) != count:
        raise ValueError(f"{len(names)} names given for {count} arrays")
    seen = set()
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"names[{index}] must be str, got {type(name).__name__}")
        if name in seen:
            raise ValueError(
                f"name {name!r} is given twice; .npz and .safetensors files need unique names"
            )
        seen.add(name)
    return names


def _parts(name: str, record: StoredArray) -> list[tuple[str, np.ndarray]]:
    """The flat (key, C-contiguous native array) pieces of one record."""
    data = np.asarray(record.data, dtype=record.dtype, order="C")  # keeps 0-d arrays 0-d
    if record.stype == "default":
        return [(name, data)]
    pieces = [(f"{name}/data", data), (f"{name}/indices", record.indices)]
    if record.stype == "csr":
        pieces.append((f"{name}/indptr", record.indptr))
    return [(key, np.asarray(a, order="C")) for key, a in pieces]


def flatten(
    arrays: Sequence[StoredArray | np.ndarray], names: Sequence[str] | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """Lay records out as flat named dense arrays plus their JSON description.

    Parameters
    ----------
    arrays : sequence of StoredArray or numpy.ndarray
        The records in order (plain arrays are dense).
    names : sequence of str, optional
        Unique names; None stores a list (keys ``'0'``, ``'1'``, ...).

    Returns
    -------
    flat : dict of str to numpy.ndarray
        C-contiguous native-order arrays in order.
    meta : dict
        The JSON-ready description (see the module docstring).

    Raises
    ------
    TypeError, ValueError
        A bad item or name, repeated names, or a key that two arrays would share.
    """
    records = [as_record(item, index) for index, item in enumerate(arrays)]
    keys = _checked_names(names, len(records))
    flat: dict[str, np.ndarray] = {}
    sparse: dict[str, dict] = {}
    for name, record in zip(keys, records):
        if record.stype != "default":
            sparse[name] = {"stype": record.stype, "shape": list(record.shape)}
        for key, array in _parts(name, record):
            if key in flat or key == META_KEY:
                raise ValueError(
                    f"array {name!r} would be stored under the key {key!r}, which another "
                    "array (or the metadata) already uses; rename one of them"
                )
            flat[key] = array
    meta = {
        "format": "paramlab",
        "version": FORMAT_VERSION,
        "container": "list" if names is None else "dict",
        "names": keys,
        "sparse": sparse,
    }
    return flat, meta


def _check_meta(meta: object, label: str) -> tuple[list[str], dict[str, dict], bool]:
    """Validate a decoded description; return (names, sparse layouts, is_list)."""
    if not isinstance(meta, dict) or meta.get("format") != "paramlab":
        _fail(label, f"metadata {META_KEY!r} is not a paramlab description")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(label, f"metadata version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        _fail(
            label,
            f"written by a newer paramlab (layout version {version}); "
            f"this one reads version {FORMAT_VERSION}",
        )
    container, names, sparse = meta.get("container"), meta.get("names"), meta.get("sparse", {})
    if container not in ("dict", "list"):
        _fail(label, f"metadata container must be 'dict' or 'list', got {container!r}")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        _fail(label, "metadata names must be a list of strings")
    if len(set(names)) != len(names):
        _fail(label, "metadata names repeat a name")
    if container == "list" and names != [str(i) for i in range(len(names))]:
        _fail(label, "metadata of a list must name its arrays '0', '1', ...")
    if not isinstance(sparse, dict):
        _fail(label, "metadata sparse must be an object")
    for name, layout in sparse.items():
        _check_layout(name, layout, names, label)
    return names, sparse, container == "list"


def _check_layout(name: str, layout: object, names: list[str], label: str) -> None:
    if name not in names:
        _fail(label, f"metadata describes a sparse array {name!r} that is not listed")
    if not isinstance(layout, dict) or layout.get("stype") not in _SPARSE_PARTS:
        _fail(label, f"sparse array {name!r}: stype must be 'row_sparse' or 'csr'")
    shape = layout.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_NDIM
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        _fail(
            label,
            f"sparse array {name!r}: shape must be a list of non-negative integers, got {shape!r}",
        )


def _expected_keys(names: list[str], sparse: dict[str, dict]) -> list[str]:
    keys = []
    for name in names:
        if name in sparse:
            keys.extend(f"{name}/{part}" for part in _SPARSE_PARTS[sparse[name]["stype"]])
        else:
            keys.append(name)
    return keys


def _build(name: str, layout: dict | None, arrays: Mapping[str, np.ndarray], label: str):
    try:
        if layout is None:
            return StoredArray.from_dense(arrays[name])
        data, indices = arrays[f"{name}/data"], arrays[f"{name}/indices"]
        for part, value in (("indices", indices), ("indptr", arrays.get(f"{name}/indptr"))):
            if value is not None and value.dtype.kind not in "iu":
                raise ValueError(f"{part} must be integers, got dtype {value.dtype}")
        if layout["stype"] == "row_sparse":
            return StoredArray.from_row_sparse(data, indices, layout["shape"])
        return StoredArray.from_csr(data, indices, arrays[f"{name}/indptr"], layout["shape"])
    except (ValueError, TypeError) as error:
        _fail(label, f"array {name!r}: {error}")


def unflatten(
    arrays: Mapping[str, np.ndarray], meta: object, label: str
) -> tuple[list[StoredArray], list[str] | None]:
    """Rebuild records from flat arrays and their description (None: all dense).

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        The flat arrays in file order (without the description).
    meta : dict or None
        The decoded JSON description, or None when the file has none.
    label : str
        The file's name for error messages.

    Returns
    -------
    records : list of StoredArray
    names : list of str or None
        None for a stored list.

    Raises
    ------
    CheckpointFormatError
        The description is malformed or does not match the arrays.
    """
    if meta is None:
        return [_build(key, None, arrays, label) for key in arrays], list(arrays)
    names, sparse, is_list = _check_meta(meta, label)
    expected = _expected_keys(names, sparse)
    missing = [key for key in expected if key not in arrays]
    if missing:
        _fail(label, f"arrays {missing[:5]} listed in the metadata are missing")
    extra = sorted(set(arrays) - set(expected))
    if extra:
        _fail(label, f"arrays {extra[:5]} are not listed in the metadata")
    records = [_build(name, sparse.get(name), arrays, label) for name in names]
    return records, None if is_list else names


def decode_meta(raw: bytes, label: str) -> object:
    """Parse the JSON description (UTF-8 bytes)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        _fail(label, f"metadata {META_KEY!r} is not valid UTF-8 JSON: {error}")


def normalize(array: np.ndarray) -> np.ndarray:
    """A loaded array made native-order, C-contiguous, writable, with bools 0 or 1."""
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    array = np.require(array, requirements=("C", "W"))
    if array.dtype.kind == "b" and array.size:
        raw = array.view(np.uint8)
        np.minimum(raw, 1, out=raw)  # any nonzero byte is True
    return array


# ----------------------------------------------------------------------------
# reading .npz
# ----------------------------------------------------------------------------


def _check_member(info: zipfile.ZipInfo, size: int, label: str) -> None:
    """Refuse members whose declared sizes or compression could not be honest."""
    member = f"member {info.filename!r}"
    if not info.filename.endswith(_SUFFIX):
        _fail(label, f"{member} is not a .npy array")
    if info.flag_bits & 0x1:
        _fail(label, f"{member} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            _fail(
                label,
                f"{member} is stored with {info.compress_size} bytes but claims {info.file_size}",
            )
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + _DEFLATE_SLACK:
            _fail(
                label,
                f"{member} claims {info.file_size} bytes from {info.compress_size} "
                "compressed bytes, more than deflate can produce",
            )
    else:
        _fail(
            label,
            f"{member} uses zip compression method {info.compress_type}; only "
            "stored and deflated members are read",
        )
    if info.header_offset + info.compress_size > size:
        _fail(label, f"{member} extends past the end of the file")


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str):
    """Parse and check a member's .npy header; return (shape, dtype)."""
    member = f"member {info.filename!r}"
    with zf.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
        except ValueError as error:
            _fail(label, f"{member} is not a .npy array: {error}")
        if version == (1, 0):
            read = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            read = np.lib.format.read_array_header_2_0
        else:
            _fail(label, f"{member} has unsupported .npy version {version}")
        try:
            shape, _, dtype = read(fp, max_header_size=_MAX_HEADER_BYTES)
        except (ValueError, SyntaxError, TypeError) as error:
            _fail(label, f"{member} has an invalid .npy header: {error}")
        header_bytes = fp.tell()
    if not dtype.isnative and dtype.byteorder != "|":
        native = dtype.newbyteorder("=")
    else:
        native = dtype
    if dtype.hasobject or native not in DTYPE_FLAGS:
        _fail(
            label,
            f"{member} has dtype {dtype}, which a checkpoint cannot hold; "
            f"supported: {', '.join(str(d) for d in DTYPE_FLAGS)}",
        )
    if len(shape) > MAX_NDIM or any(operator.index(d) < 0 for d in shape):
        _fail(label, f"{member} has an invalid shape {shape}")
    count = 1
    for d in shape:
        count *= d
    if header_bytes + count * dtype.itemsize != info.file_size:
        _fail(
            label,
            f"{member} holds {info.file_size - header_bytes} data bytes but its "
            f"header declares shape {shape} of {dtype} ({count * dtype.itemsize} bytes)",
        )
    return shape, native


def _read_zip(zf: zipfile.ZipFile, size: int, label: str):
    infos = zf.infolist()
    seen = set()
    for info in infos:
        if info.filename in seen:
            _fail(label, f"member {info.filename!r} appears twice")
        seen.add(info.filename)
        _check_member(info, size, label)
    for info in infos:
        _read_header(zf, info, label)  # every header is checked before any data is read
    meta, arrays = None, {}
    for info in infos:
        key = info.filename[: -len(_SUFFIX)]
        with zf.open(info) as fp:
            array = np.lib.format.read_array(
                fp, allow_pickle=False, max_header_size=_MAX_HEADER_BYTES
            )
        if key == META_KEY:
            if array.dtype != np.uint8 or array.ndim != 1 or array.size > _MAX_META_BYTES:
                _fail(
                    label,
                    f"metadata {META_KEY!r} must be a 1-d uint8 array of at most "
                    f"{_MAX_META_BYTES} bytes",
                )
            meta = decode_meta(array.tobytes(), label)
        else:
            arrays[key] = normalize(array)
    return unflatten(arrays, meta, label)


def read(source) -> tuple[list[StoredArray], list[str] | None]:
    """Read an ``.npz`` checkpoint.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray or memoryview
        A path or the file's bytes.

    Returns
    -------
    arrays : list of StoredArray
        New, writable host arrays in order.
    names : list of str or None
        The names, or None for a stored list.

    Raises
    ------
    CheckpointFormatError
        The file is not a valid archive of supported arrays, or its description
        does not match (the message names the file and the member).
    OSError
        The file cannot be opened.
    """
    label = source_label(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        handle: BinaryIO = io.BytesIO(data)
        size = len(data)
    else:
        handle = open(os.fspath(source), "rb")
        size = os.fstat(handle.fileno()).st_size
    with handle:
        try:
            with zipfile.ZipFile(handle) as zf:
                return _read_zip(zf, size, label)
        except (CheckpointFormatError, MemoryError):
            raise
        except READ_ERRORS as error:
            _fail(label, f"not a valid .npz archive: {type(error).__name__}: {error}")


# ----------------------------------------------------------------------------
# writing .npz
# ----------------------------------------------------------------------------


def write_member(zf: zipfile.ZipFile, key: str, array: np.ndarray) -> None:
    """Store ``array`` as the uncompressed member ``key.npy`` (fixed time stamp, no pickle)."""
    info = zipfile.ZipInfo(key + _SUFFIX, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16
    with zf.open(info, mode="w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


def _write_archive(handle: BinaryIO, flat: dict[str, np.ndarray], meta: dict) -> None:
    encoded = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        write_member(zf, META_KEY, encoded)
        for key, array in flat.items():
            write_member(zf, key, array)


def write(
    path_or_file: str | os.PathLike | BinaryIO,
    arrays: Sequence[StoredArray | np.ndarray],
    names: Sequence[str] | None = None,
) -> None:
    """Write records as an uncompressed ``.npz`` archive.

    Parameters
    ----------
    path_or_file : str, os.PathLike or seekable binary file
        A path is replaced atomically (see :func:`paramlab._io.atomic_writer`).
    arrays : sequence of StoredArray or numpy.ndarray
        The records, in order.
    names : sequence of str, optional
        Unique names (a dict); None stores a list.

    Raises
    ------
    TypeError, ValueError
        See :func:`flatten`; nothing is written.
    """
    flat, meta = flatten(arrays, names)
    if hasattr(path_or_file, "write"):
        _write_archive(path_or_file, flat, meta)
        return
    with atomic_writer(path_or_file) as handle:
        _write_archive(handle, flat, meta)
