"""MXNet's NDArray list/dict file format, on host NumPy arrays.

This is the format that ``mx.nd.save``/``mx.nd.load``, ``Block.save_parameters``
and ``Module.save_checkpoint`` use. :func:`read` parses a file into
:class:`StoredArray` records and names; :func:`write` is its exact inverse and
produces the bytes MXNet 1.9.1 writes for the same content. Wrapping records
into NDArrays on a context is done by the layer above.

Layout (all integers little-endian)::

    file   := u64 0x112, u64 0, u64 n_arrays, record * n_arrays,
              u64 n_names, (u64 length, UTF-8 bytes) * n_names
    record := u32 magic, i32 stype,           (no stype in V1 records)
              [storage shape if sparse], shape,
              i32 dev_type, i32 dev_id, i32 dtype flag,
              [(i32 aux dtype flag, aux shape) per aux array if sparse],
              raw data (C order; the stored rows/values if sparse),
              [raw aux data per aux array if sparse]
    shape  := i32 ndim, i64 * ndim

``n_names`` is 0 for a saved list. Record magics: ``0xF993FAC9`` (V2, legacy
shape semantics, where ``ndim == 0`` marks an empty placeholder array) and
``0xF993FACA`` (V3, NumPy shape semantics, written by MXNet for *every* record
while ``mx.util.np_shape`` is on). V1 records (``0xF993FAC8``, dense, no stype
field) from old MXNet versions are read too. Sparse aux arrays are the row ids
(row_sparse) or the row pointers then the column ids (csr), all int64.

Reading never trusts the file: every field is checked against the bytes that
remain before anything is allocated, nothing is unpickled, and every problem
raises :class:`~paramlab.base.CheckpointFormatError` naming the file, the field
and its byte offset.
"""

from __future__ import annotations

__all__ = [
    "DTYPE_FLAGS",
    "FILE_MAGIC",
    "FLAG_DTYPES",
    "MAX_NDIM",
    "MXNET1_DTYPE_FLAGS",
    "STYPES",
    "UNSUPPORTED_DTYPE_FLAGS",
    "V1_MAGIC",
    "V2_MAGIC",
    "V3_MAGIC",
    "StoredArray",
    "as_record",
    "read",
    "source_label",
    "write",
]

import dataclasses
import operator
import os
import struct
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NoReturn

import numpy as np

from paramlab._io import atomic_writer, mapped_file
from paramlab.base import CheckpointFormatError

FILE_MAGIC = 0x112
"""Magic number at the start of every NDArray list file."""

V1_MAGIC = 0xF993FAC8
"""Record magic of old dense-only files (read only)."""

V2_MAGIC = 0xF993FAC9
"""Record magic under legacy shape semantics."""

V3_MAGIC = 0xF993FACA
"""Record magic under NumPy shape semantics (``mx.util.np_shape(True)``)."""

MAX_NDIM = 32
"""Largest number of dimensions read or written (NumPy 1.x's limit)."""

DTYPE_FLAGS: dict[np.dtype, int] = {
    np.dtype(np.float32): 0,
    np.dtype(np.float64): 1,
    np.dtype(np.float16): 2,
    np.dtype(np.uint8): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int8): 5,
    np.dtype(np.int64): 6,
    np.dtype(np.bool_): 7,
    np.dtype(np.int16): 8,
    np.dtype(np.uint16): 9,
    np.dtype(np.uint32): 10,
    np.dtype(np.uint64): 11,
}
"""MXNet's dtype flag (mshadow ``TypeFlag``) for every dtype NumPy can hold.

Flags 0-7 are the ones MXNet 1.x reads and writes; 8-11 are defined by the
same enumeration and used by MXNet 2.x, but MXNet 1.9.1 refuses to load them
(see :data:`MXNET1_DTYPE_FLAGS`)."""

FLAG_DTYPES: dict[int, np.dtype] = {flag: dtype for dtype, flag in DTYPE_FLAGS.items()}
"""Inverse of :data:`DTYPE_FLAGS`: the NumPy dtype of each supported flag."""

UNSUPPORTED_DTYPE_FLAGS: dict[int, str] = {12: "bfloat16"}
"""Flags MXNet defines that have no NumPy dtype; files using them are rejected."""

MXNET1_DTYPE_FLAGS = frozenset(range(8))
"""The dtype flags that MXNet 1.x can load."""

STYPES = ("default", "row_sparse", "csr")
"""Storage types, indexed by MXNet's storage type code."""

_STYPE_CODES = {name: code for code, name in enumerate(STYPES)}
_AUX_COUNTS = {"default": 0, "row_sparse": 1, "csr": 2}
_INDEX_FLAG = DTYPE_FLAGS[np.dtype(np.int64)]
_INDEX_DTYPE = np.dtype("<i8")
_DEVICE_TYPES = {1: "cpu", 2: "gpu", 3: "cpu_pinned", 5: "cpu_shared"}
_CPU_DEVICE = (1, 0)
_MAX_NBYTES = sys.maxsize
# Smallest possible valid record: a V3 0-d record of a 1-byte dtype.
_MIN_RECORD_BYTES = 4 + 4 + 4 + 8 + 4 + 1
_NAME_LENGTH_BYTES = 8

_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_FILE_HEADER = struct.Struct("<QQQ")
_RECORD_HEAD = struct.Struct("<Ii")
_DEVICE_AND_FLAG = struct.Struct("<iii")

Source = str | os.PathLike | bytes | bytearray | memoryview


# ----------------------------------------------------------------------------
# records
# ----------------------------------------------------------------------------


def _native(dtype: np.dtype) -> np.dtype:
    """Return ``dtype`` in the machine's byte order."""
    return dtype if dtype.isnative else dtype.newbyteorder("=")


def _lookup_dtype(dtype: object) -> np.dtype:
    """Return the native NumPy dtype for ``dtype``, or raise ``ValueError``."""
    resolved = _native(np.dtype(dtype))
    if resolved not in DTYPE_FLAGS:
        supported = ", ".join(str(d) for d in DTYPE_FLAGS)
        raise ValueError(
            f"dtype {resolved} cannot be stored in an MXNet file; supported: {supported}"
        )
    return resolved


def _normalize_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of non-negative Python ints."""
    dims = tuple(operator.index(d) for d in shape)
    if len(dims) > MAX_NDIM:
        raise ValueError(
            f"shape {dims} has {len(dims)} dimensions; at most {MAX_NDIM} are supported"
        )
    if any(d < 0 for d in dims):
        raise ValueError(f"shape {dims} has a negative dimension")
    return dims


def _index_array(values: object, what: str) -> np.ndarray:
    """Return ``values`` as a 1-d int64 array, or raise ``ValueError``."""
    array = np.asarray(values)
    if array.size == 0 and array.ndim == 1:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{what} must be integers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{what} must be 1-d, got shape {array.shape}")
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{what} has values beyond the int64 range")
    return array.astype(np.int64, copy=False)


def _row_ids_problem(row_ids: np.ndarray, n_rows: int) -> str | None:
    """Describe why ``row_ids`` are not valid row_sparse row ids, or return None."""
    if row_ids.size == 0:
        return None
    if int(row_ids[0]) < 0 or int(row_ids[-1]) >= n_rows:
        return f"row ids must lie in [0, {n_rows}), got {int(row_ids.min())}..{int(row_ids.max())}"
    if row_ids.size > 1 and not bool(np.all(row_ids[1:] > row_ids[:-1])):
        return "row ids are not strictly increasing"
    return None


def _indptr_problem(indptr: np.ndarray, nnz: int) -> str | None:
    """Describe why ``indptr`` is not a valid csr row pointer array, or return None."""
    if int(indptr[0]) != 0:
        return f"row pointers must start at 0, got {int(indptr[0])}"
    if indptr.size > 1 and not bool(np.all(indptr[1:] >= indptr[:-1])):
        return "row pointers are not non-decreasing"
    if int(indptr[-1]) != nnz:
        return f"row pointers must end at the number of stored values {nnz}, got {int(indptr[-1])}"
    return None


def _column_ids_problem(column_ids: np.ndarray, n_columns: int) -> str | None:
    """Describe why ``column_ids`` are out of range, or return None."""
    if column_ids.size == 0:
        return None
    low, high = int(column_ids.min()), int(column_ids.max())
    if low < 0 or high >= n_columns:
        return f"column ids must lie in [0, {n_columns}), got {low}..{high}"
    return None


def _storage_shape(stype: str, shape: tuple[int, ...], n_stored: int) -> tuple[int, ...]:
    """Return the shape of the stored values of an array."""
    if stype == "row_sparse":
        return (n_stored, *shape[1:])
    if stype == "csr":
        return (n_stored,)
    return shape


@dataclasses.dataclass(frozen=True, eq=False)
class StoredArray:
    """One array as it is stored in an MXNet NDArray file, on the host.

    Instances are validated on construction (``ValueError`` when inconsistent).
    They compare by identity: compare fields to compare content.

    Parameters
    ----------
    stype : {'default', 'row_sparse', 'csr'}
        Storage type.
    shape : tuple of int
        The dense shape.
    dtype : numpy.dtype
        Element type; a key of :data:`DTYPE_FLAGS` (stored in native byte order).
    data : numpy.ndarray
        ``default``: the full array of ``shape``; ``row_sparse``: the stored rows,
        shape ``(n_rows, *shape[1:])``; ``csr``: the stored values, shape ``(nnz,)``.
        Its dtype must be ``dtype``.
    indices : numpy.ndarray of int64, optional
        ``row_sparse``: the strictly increasing ids of the stored rows;
        ``csr``: the column id of each stored value. None for ``default``.
    indptr : numpy.ndarray of int64, optional
        ``csr`` only: row pointers, shape ``(shape[0] + 1,)``, from 0 to ``nnz``.

    See Also
    --------
    StoredArray.from_dense, StoredArray.from_row_sparse, StoredArray.from_csr
    """

    stype: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray
    indices: np.ndarray | None = None
    indptr: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.stype not in _STYPE_CODES:
            raise ValueError(f"stype must be one of {STYPES}, got {self.stype!r}")
        object.__setattr__(self, "shape", _normalize_shape(self.shape))
        object.__setattr__(self, "dtype", _lookup_dtype(self.dtype))
        if not isinstance(self.data, np.ndarray):
            raise TypeError(f"data must be a numpy.ndarray, got {type(self.data).__name__}")
        if _native(self.data.dtype) != self.dtype:
            raise ValueError(f"data has dtype {self.data.dtype}, expected {self.dtype}")
        for field in ("indices", "indptr"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, _index_array(value, field))
        self.validate()

    # -- construction helpers -------------------------------------------------

    @classmethod
    def from_dense(cls, array: object) -> StoredArray:
        """Wrap a dense host array (converted with ``numpy.asarray``)."""
        data = np.asarray(array)
        return cls("default", data.shape, data.dtype, data)

    @classmethod
    def from_row_sparse(cls, data: object, indices: object, shape: Sequence[int]) -> StoredArray:
        """Build a row_sparse record from its stored rows and their row ids."""
        values = np.asarray(data)
        return cls("row_sparse", tuple(shape), values.dtype, values, indices=indices)

    @classmethod
    def from_csr(
        cls, data: object, indices: object, indptr: object, shape: Sequence[int]
    ) -> StoredArray:
        """Build a csr record from its values, column ids and row pointers."""
        values = np.asarray(data)
        return cls("csr", tuple(shape), values.dtype, values, indices=indices, indptr=indptr)

    # -- views --------------------------------------------------------------

    @property
    def storage_shape(self) -> tuple[int, ...]:
        """Shape of :attr:`data` as stored in the file."""
        return _storage_shape(self.stype, self.shape, self.data.shape[0] if self.data.ndim else 0)

    def to_dense(self) -> np.ndarray:
        """Return the dense array of :attr:`shape` (a new array for sparse records)."""
        if self.stype == "default":
            return self.data
        dense = np.zeros(self.shape, dtype=self.dtype)
        if self.stype == "row_sparse":
            dense[self.indices] = self.data
        else:
            rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
            dense[rows, self.indices] = self.data
        return dense

    # -- validation -----------------------------------------------------------

    def validate(self) -> None:
        """Check that all fields agree; raise ``ValueError`` otherwise.

        Runs on construction; call it again if the arrays were mutated since.
        """
        problem = self._structure_problem() or self._values_problem()
        if problem:
            raise ValueError(f"invalid {self.stype} array of shape {self.shape}: {problem}")

    def _structure_problem(self) -> str | None:
        """Describe a mismatch between the shapes of the fields, or return None."""
        needs_indices = self.stype != "default"
        if (self.indices is not None) != needs_indices:
            return "indices must be given exactly for sparse arrays"
        if (self.indptr is not None) != (self.stype == "csr"):
            return "indptr must be given exactly for csr arrays"
        if self.stype == "row_sparse" and not self.shape:
            return "a row_sparse array needs at least one dimension"
        if self.stype == "csr" and len(self.shape) != 2:
            return "a csr array must be 2-d"
        n_stored = self.indices.shape[0] if needs_indices else 0
        expected = _storage_shape(self.stype, self.shape, n_stored)
        if self.data.shape != expected:
            return f"data has shape {self.data.shape}, expected {expected}"
        if self.stype == "row_sparse" and n_stored > self.shape[0]:
            return f"{n_stored} stored rows exceed the {self.shape[0]} rows"
        if self.stype == "csr" and self.indptr.shape != (self.shape[0] + 1,):
            return f"indptr has shape {self.indptr.shape}, expected ({self.shape[0] + 1},)"
        return None

    def _values_problem(self) -> str | None:
        """Describe invalid sparse indices, or return None."""
        if self.stype == "row_sparse":
            return _row_ids_problem(self.indices, self.shape[0])
        if self.stype == "csr":
            return _indptr_problem(self.indptr, self.indices.shape[0]) or _column_ids_problem(
                self.indices, self.shape[1]
            )
        return None


# ----------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------


class _Cursor:
    """A bounds-checked reading position in an untrusted buffer."""

    __slots__ = ("buffer", "label", "pos", "size")

    def __init__(self, buffer: bytes | memoryview, size: int, label: str) -> None:
        self.buffer = buffer
        self.size = size
        self.pos = 0
        self.label = label

    @property
    def remaining(self) -> int:
        """Bytes left after the current position."""
        return self.size - self.pos

    def fail(self, field: str, offset: int, detail: str) -> NoReturn:
        """Raise the error for a bad ``field`` that starts at ``offset``."""
        raise CheckpointFormatError(
            f"{self.label}: invalid {field} at byte offset {offset}: {detail}"
        )

    def need(self, field: str, nbytes: int) -> None:
        """Fail unless ``nbytes`` bytes remain for ``field``."""
        if nbytes > self.remaining:
            self.fail(
                field,
                self.pos,
                f"needs {nbytes} bytes but only {self.remaining} remain (truncated file?)",
            )

    def unpack(self, layout: struct.Struct, field: str) -> int:
        """Read one integer with ``layout``."""
        self.need(field, layout.size)
        (value,) = layout.unpack_from(self.buffer, self.pos)
        self.pos += layout.size
        return value

    def raw(self, field: str, nbytes: int) -> bytes:
        """Read ``nbytes`` bytes as a new ``bytes`` object."""
        self.need(field, nbytes)
        chunk = bytes(self.buffer[self.pos : self.pos + nbytes])
        self.pos += nbytes
        return chunk

    def array(self, field: str, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        """Copy the next C-ordered array of ``dtype`` and ``shape`` out of the buffer."""
        count = _product(shape)
        self.need(field, count * dtype.itemsize)
        if count == 0:
            flat = np.empty(0, dtype=dtype)
        elif dtype.kind == "b":
            # Any nonzero byte is True; NumPy bools must hold exactly 0 or 1.
            flat = np.frombuffer(self.buffer, dtype=np.uint8, count=count, offset=self.pos) != 0
        else:
            stored = dtype.newbyteorder("<") if dtype.byteorder != "|" else dtype
            flat = np.frombuffer(self.buffer, dtype=stored, count=count, offset=self.pos)
            flat = flat.astype(dtype)
        self.pos += count * dtype.itemsize
        return flat.reshape(shape)


def _product(dims: Sequence[int]) -> int:
    """Product of ``dims`` as a Python int (1 for no dims)."""
    result = 1
    for d in dims:
        result *= d
    return result


def source_label(source: Source) -> str:
    """Name of ``source`` (a path or the file's bytes) for error messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{memoryview(source).nbytes} bytes in memory>"
    return repr(os.fspath(source))


def read(source: Source) -> tuple[list[StoredArray], list[str] | None]:
    """Read an MXNet NDArray list/dict file.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray or memoryview
        A file path (memory-mapped, so peak memory is about the size of the
        arrays) or the file's bytes.

    Returns
    -------
    arrays : list of StoredArray
        The records in file order; their arrays are new, writable host arrays.
    names : list of str or None
        The names in file order (they may repeat, as in MXNet), or None for a
        saved list (also for an empty dict, which MXNet stores as an empty list).

    Raises
    ------
    CheckpointFormatError
        The data is not a well-formed file: the message names the file, the
        offending field and its byte offset.
    OSError
        The file cannot be opened.
    """
    label = source_label(source)
    if isinstance(source, memoryview):
        with source.cast("B") as view:
            return _parse(_Cursor(view, len(view), label))
    if isinstance(source, (bytes, bytearray)):
        return _parse(_Cursor(source, len(source), label))
    with mapped_file(source) as buffer:
        return _parse(_Cursor(buffer, len(buffer), label))


def _parse(cursor: _Cursor) -> tuple[list[StoredArray], list[str] | None]:
    """Parse a whole file from ``cursor``."""
    n_arrays = _read_file_header(cursor)
    arrays: list[StoredArray] = []
    file_magic: list[int] = []
    for index in range(n_arrays):
        arrays.append(_read_record(cursor, index, file_magic))
    names = _read_names(cursor, n_arrays)
    if cursor.remaining:
        cursor.fail("end of file", cursor.pos, f"{cursor.remaining} unexpected trailing bytes")
    return arrays, names


def _read_file_header(cursor: _Cursor) -> int:
    """Check the file magic and reserved word; return the array count."""
    magic = cursor.unpack(_U64, "file magic")
    if magic != FILE_MAGIC:
        cursor.fail("file magic", 0, f"expected {FILE_MAGIC:#x}, got {magic:#x}")
    reserved = cursor.unpack(_U64, "reserved header word")
    if reserved != 0:
        cursor.fail("reserved header word", 8, f"expected 0, got {reserved}")
    offset = cursor.pos
    n_arrays = cursor.unpack(_U64, "array count")
    room = max(cursor.remaining - _NAME_LENGTH_BYTES, 0) // _MIN_RECORD_BYTES
    if n_arrays > room:
        cursor.fail(
            "array count",
            offset,
            f"{n_arrays} arrays cannot fit in the {cursor.remaining} bytes that remain",
        )
    return n_arrays


def _read_record(cursor: _Cursor, index: int, file_magic: list[int]) -> StoredArray:
    """Read and validate one array record."""
    field = f"array[{index}]"
    magic = _read_record_magic(cursor, field, file_magic)
    stype = _read_stype(cursor, field, magic)
    n_aux = _AUX_COUNTS[stype]
    storage_shape = _read_shape(cursor, f"{field} storage shape", magic) if n_aux else None
    shape_offset = cursor.pos
    shape = _read_shape(cursor, f"{field} shape", magic, placeholder_check=True)
    if storage_shape is not None:
        _check_sparse_shapes(cursor, field, shape_offset, stype, shape, storage_shape)
    else:
        _check_dense_size(cursor, f"{field} shape", shape_offset, shape)
    _read_device(cursor, field)
    dtype = _read_dtype(cursor, f"{field} dtype flag")
    _check_numpy_limit(cursor, f"{field} shape", shape_offset, shape, dtype.itemsize)
    aux_shapes = _read_aux_headers(cursor, field, stype, shape, storage_shape)
    data = cursor.array(f"{field} data", dtype, storage_shape or shape)
    if stype == "default":
        return StoredArray("default", shape, dtype, data)
    return _read_sparse_tail(cursor, field, stype, shape, dtype, data, aux_shapes)


def _read_record_magic(cursor: _Cursor, field: str, file_magic: list[int]) -> int:
    """Read a record magic; legacy (V1/V2) and V3 records must not be mixed."""
    offset = cursor.pos
    magic = cursor.unpack(_U32, f"{field} magic")
    if magic not in (V1_MAGIC, V2_MAGIC, V3_MAGIC):
        cursor.fail(
            f"{field} magic",
            offset,
            f"expected {V2_MAGIC:#x} or {V3_MAGIC:#x} (or {V1_MAGIC:#x}), got {magic:#x}",
        )
    if not file_magic:
        file_magic.append(magic)
    elif (magic == V3_MAGIC) != (file_magic[0] == V3_MAGIC):
        cursor.fail(
            f"{field} magic",
            offset,
            f"{magic:#x} mixes NumPy-shape (V3) and legacy records in one file; "
            f"the first record has {file_magic[0]:#x}",
        )
    return magic


def _read_stype(cursor: _Cursor, field: str, magic: int) -> str:
    """Read the storage type code (absent in V1 records)."""
    if magic == V1_MAGIC:
        return "default"
    offset = cursor.pos
    code = cursor.unpack(_I32, f"{field} stype")
    if not 0 <= code < len(STYPES):
        cursor.fail(f"{field} stype", offset, f"unknown storage type code {code}")
    if magic == V3_MAGIC and code != 0:
        cursor.fail(
            f"{field} stype",
            offset,
            f"{STYPES[code]} storage in a NumPy-shape (V3) record, which MXNet never writes",
        )
    return STYPES[code]


def _read_shape(
    cursor: _Cursor, field: str, magic: int, placeholder_check: bool = False
) -> tuple[int, ...]:
    """Read ``i32 ndim`` and ``ndim`` non-negative ``i64`` dims."""
    offset = cursor.pos
    ndim = cursor.unpack(_I32, f"{field} ndim")
    if ndim == 0 and placeholder_check and magic != V3_MAGIC:
        cursor.fail(
            f"{field} ndim",
            offset,
            "ndim 0 in a legacy record marks an empty placeholder NDArray, "
            "which holds no data (MXNet cannot load it either)",
        )
    if ndim < 0 or ndim > MAX_NDIM:
        cursor.fail(f"{field} ndim", offset, f"expected 0..{MAX_NDIM}, got {ndim}")
    dims_offset = cursor.pos
    cursor.need(f"{field} dims", 8 * ndim)
    dims = struct.unpack_from(f"<{ndim}q", cursor.buffer, dims_offset)
    for axis, dim in enumerate(dims):
        if dim < 0:
            cursor.fail(f"{field} dim[{axis}]", dims_offset + 8 * axis, f"negative size {dim}")
    cursor.pos += 8 * ndim
    return dims


def _check_dense_size(cursor: _Cursor, field: str, offset: int, shape: tuple[int, ...]) -> None:
    """Fail early when a dense shape cannot fit in the rest of the file."""
    elements = _product(shape)
    if elements > cursor.remaining:
        cursor.fail(
            field,
            offset,
            f"shape {shape} has {elements} elements but only {cursor.remaining} bytes remain",
        )


def _check_numpy_limit(
    cursor: _Cursor, field: str, offset: int, shape: tuple[int, ...], itemsize: int
) -> None:
    """Fail when NumPy could not describe an array of ``shape`` (zero-size ones too)."""
    if _product([max(d, 1) for d in shape]) * itemsize > _MAX_NBYTES:
        cursor.fail(field, offset, f"shape {shape} is too large for any array")


def _check_sparse_shapes(
    cursor: _Cursor,
    field: str,
    offset: int,
    stype: str,
    shape: tuple[int, ...],
    storage_shape: tuple[int, ...],
) -> None:
    """Check a sparse record's dense shape against its storage shape."""
    name = f"{field} shape"
    if stype == "csr":
        if len(shape) != 2:
            cursor.fail(name, offset, f"a csr array must be 2-d, got shape {shape}")
        if len(storage_shape) != 1:
            cursor.fail(name, offset, f"csr storage shape {storage_shape} is not 1-d")
        return
    if len(storage_shape) != len(shape) or storage_shape[1:] != shape[1:]:
        cursor.fail(name, offset, f"row_sparse storage shape {storage_shape} does not fit {shape}")
    if storage_shape[0] > shape[0]:
        cursor.fail(name, offset, f"{storage_shape[0]} stored rows exceed the {shape[0]} rows")


def _read_device(cursor: _Cursor, field: str) -> None:
    """Read and check the device the array was saved from (ignored otherwise)."""
    offset = cursor.pos
    dev_type = cursor.unpack(_I32, f"{field} device type")
    if dev_type not in _DEVICE_TYPES:
        cursor.fail(f"{field} device type", offset, f"unknown device type {dev_type}")
    offset = cursor.pos
    dev_id = cursor.unpack(_I32, f"{field} device id")
    if dev_id < 0:
        cursor.fail(f"{field} device id", offset, f"negative device id {dev_id}")


def _read_dtype(cursor: _Cursor, field: str) -> np.dtype:
    """Read a dtype flag and return its NumPy dtype."""
    offset = cursor.pos
    flag = cursor.unpack(_I32, field)
    if flag in FLAG_DTYPES:
        return FLAG_DTYPES[flag]
    if flag in UNSUPPORTED_DTYPE_FLAGS:
        cursor.fail(
            field,
            offset,
            f"dtype {UNSUPPORTED_DTYPE_FLAGS[flag]} (flag {flag}) "
            "has no NumPy equivalent and is not supported",
        )
    cursor.fail(field, offset, f"unknown dtype flag {flag}")


def _expected_aux_shapes(
    stype: str, shape: tuple[int, ...], storage_shape: tuple[int, ...]
) -> list[tuple[int, ...]]:
    """Shapes the aux arrays must have: row ids, or row pointers and column ids."""
    if stype == "row_sparse":
        return [(storage_shape[0],)]
    return [(shape[0] + 1,), (storage_shape[0],)]


def _read_aux_headers(
    cursor: _Cursor,
    field: str,
    stype: str,
    shape: tuple[int, ...],
    storage_shape: tuple[int, ...] | None,
) -> list[tuple[int, ...]]:
    """Read and check the dtype and shape of every aux array."""
    if storage_shape is None:
        return []
    expected = _expected_aux_shapes(stype, shape, storage_shape)
    for aux, want in enumerate(expected):
        name = f"{field} aux[{aux}]"
        offset = cursor.pos
        flag = cursor.unpack(_I32, f"{name} dtype flag")
        if flag != _INDEX_FLAG:
            cursor.fail(f"{name} dtype flag", offset, f"expected {_INDEX_FLAG} (int64), got {flag}")
        offset = cursor.pos
        got = _read_shape(cursor, f"{name} shape", V2_MAGIC)
        if got != want:
            cursor.fail(f"{name} shape", offset, f"expected {want}, got {got}")
    return expected


def _read_sparse_tail(
    cursor: _Cursor,
    field: str,
    stype: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    data: np.ndarray,
    aux_shapes: list[tuple[int, ...]],
) -> StoredArray:
    """Read and check the aux arrays that follow a sparse record's data."""
    offset = cursor.pos
    first = cursor.array(f"{field} aux[0] data", _INDEX_DTYPE, aux_shapes[0])
    if stype == "row_sparse":
        _fail_on(cursor, f"{field} row ids", offset, _row_ids_problem(first, shape[0]))
        return StoredArray("row_sparse", shape, dtype, data, indices=first)
    _fail_on(cursor, f"{field} csr row pointers", offset, _indptr_problem(first, data.shape[0]))
    offset = cursor.pos
    columns = cursor.array(f"{field} aux[1] data", _INDEX_DTYPE, aux_shapes[1])
    _fail_on(cursor, f"{field} csr column ids", offset, _column_ids_problem(columns, shape[1]))
    return StoredArray("csr", shape, dtype, data, indices=columns, indptr=first)


def _fail_on(cursor: _Cursor, field: str, offset: int, problem: str | None) -> None:
    """Fail with ``problem`` if there is one."""
    if problem:
        cursor.fail(field, offset, problem)


def _read_names(cursor: _Cursor, n_arrays: int) -> list[str] | None:
    """Read the name table; None when it is empty."""
    offset = cursor.pos
    n_names = cursor.unpack(_U64, "name count")
    if n_names == 0:
        return None
    if n_names != n_arrays:
        cursor.fail("name count", offset, f"{n_names} names for {n_arrays} arrays")
    names = []
    for index in range(n_names):
        field = f"name[{index}]"
        offset = cursor.pos
        length = cursor.unpack(_U64, f"{field} length")
        if length > cursor.remaining:
            cursor.fail(
                f"{field} length", offset, f"{length} bytes but only {cursor.remaining} remain"
            )
        offset = cursor.pos
        raw = cursor.raw(field, length)
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            cursor.fail(field, offset + error.start, "not valid UTF-8")
    return names


# ----------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------


def as_record(item: object, index: int) -> StoredArray:
    """Return ``item`` as a validated StoredArray (dense host arrays are wrapped)."""
    if isinstance(item, StoredArray):
        item.validate()
        return item
    if isinstance(item, (np.ndarray, np.generic)):
        return StoredArray.from_dense(item)
    raise TypeError(
        f"arrays[{index}] must be a StoredArray or numpy.ndarray, got {type(item).__name__}"
    )


def _check_names(names: Sequence[str] | None, n_arrays: int) -> list[bytes]:
    """Return the names encoded as UTF-8, checked against the array count."""
    if names is None:
        return []
    if isinstance(names, (str, bytes)):
        raise TypeError("names must be a sequence of str, not a single string")
    names = list(names)
    if len(names) != n_arrays:
        raise ValueError(f"{len(names)} names given for {n_arrays} arrays")
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"names[{index}] must be str, got {type(name).__name__}")
    return [name.encode("utf-8") for name in names]


def _choose_magic(records: Sequence[StoredArray]) -> int:
    """Pick the record magic for a file, the way MXNet 1.9.1 would have written it.

    MXNet writes V3 for every record of a file saved under NumPy shape semantics
    and V2 otherwise, and it can only save a 0-d array under NumPy shape
    semantics. So a file holding a 0-d array is written all-V3 (as MXNet wrote
    it); every other file is written V2, which MXNet loads without np-shape
    (zero-size arrays included). MXNet cannot save sparse arrays under NumPy
    shape semantics, nor load a file that mixes V2 and V3 records, so a 0-d
    array and a sparse array cannot share a file.
    """
    if not any(record.shape == () for record in records):
        return V2_MAGIC
    sparse = [i for i, record in enumerate(records) if record.stype != "default"]
    if sparse:
        raise ValueError(
            f"arrays {sparse} are sparse and another array is 0-d: MXNet stores 0-d arrays "
            "only in NumPy-shape (V3) files, which cannot hold sparse arrays; save them "
            "in separate files"
        )
    return V3_MAGIC


def _shape_bytes(shape: tuple[int, ...]) -> bytes:
    """Encode ``i32 ndim`` + ``i64`` dims."""
    return struct.pack(f"<i{len(shape)}q", len(shape), *shape)


def _raw_bytes(array: np.ndarray, dtype: np.dtype) -> memoryview:
    """A little-endian C-ordered byte view of ``array`` (copied only if needed)."""
    stored = dtype.newbyteorder("<") if dtype.byteorder != "|" else dtype
    contiguous = np.ascontiguousarray(array, dtype=stored)
    return memoryview(contiguous.reshape(-1).view(np.uint8))


def _record_chunks(record: StoredArray, magic: int) -> Iterator[bytes | memoryview]:
    """Yield the bytes of one record."""
    head = [_RECORD_HEAD.pack(magic, _STYPE_CODES[record.stype])]
    aux_arrays: list[np.ndarray] = []
    if record.stype == "row_sparse":
        aux_arrays = [record.indices]
    elif record.stype == "csr":
        aux_arrays = [record.indptr, record.indices]
    if aux_arrays:
        head.append(_shape_bytes(record.storage_shape))
    head.append(_shape_bytes(record.shape))
    head.append(_DEVICE_AND_FLAG.pack(*_CPU_DEVICE, DTYPE_FLAGS[record.dtype]))
    for aux in aux_arrays:
        head.append(_I32.pack(_INDEX_FLAG) + _shape_bytes(aux.shape))
    yield b"".join(head)
    yield _raw_bytes(record.data, record.dtype)
    for aux in aux_arrays:
        yield _raw_bytes(aux, _INDEX_DTYPE)


def _file_chunks(
    records: Sequence[StoredArray], encoded_names: list[bytes], magic: int
) -> Iterator[bytes | memoryview]:
    """Yield the bytes of a whole file."""
    yield _FILE_HEADER.pack(FILE_MAGIC, 0, len(records))
    for record in records:
        yield from _record_chunks(record, magic)
    yield _U64.pack(len(encoded_names))
    for name in encoded_names:
        yield _U64.pack(len(name)) + name


def write(
    path_or_file: str | os.PathLike | BinaryIO,
    arrays: Sequence[StoredArray | np.ndarray],
    names: Sequence[str] | None = None,
) -> None:
    """Write arrays in MXNet's NDArray list/dict format.

    The bytes are those MXNet 1.9.1 writes for the same content on CPU: a list
    when ``names`` is None, a dict otherwise (an empty dict is stored as an
    empty list, as in MXNet). Records use the V2 magic unless some array is
    0-d, in which case every record uses the V3 (np-shape) magic.

    Parameters
    ----------
    path_or_file : str, os.PathLike or binary file
        A path is replaced atomically (see :func:`paramlab._io.atomic_writer`);
        a file object is written to at its current position.
    arrays : sequence of StoredArray or numpy.ndarray
        The records, in order; plain arrays are stored dense.
    names : sequence of str, optional
        One name per array, for a dict.

    Raises
    ------
    ValueError
        Inconsistent records, a dtype without an MXNet flag, a names/arrays
        count mismatch, or a 0-d array together with a sparse array.
    TypeError
        An item is neither a StoredArray nor a NumPy array, or a name is no str.
    """
    records = [as_record(item, index) for index, item in enumerate(arrays)]
    encoded_names = _check_names(names, len(records))
    magic = _choose_magic(records)
    chunks = _file_chunks(records, encoded_names, magic)
    if hasattr(path_or_file, "write"):
        _write_chunks(path_or_file, chunks)
        return
    with atomic_writer(path_or_file) as handle:
        _write_chunks(handle, chunks)


def _write_chunks(handle: BinaryIO, chunks: Iterator[bytes | memoryview]) -> None:
    """Write every chunk to ``handle``."""
    handle.writelines(chunks)
