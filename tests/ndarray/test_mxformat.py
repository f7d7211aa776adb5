"""Tests of the MXNet NDArray file format reader/writer (paramlab.ndarray._mxformat)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from paramlab.base import CheckpointFormatError
from paramlab.ndarray import _mxformat as fmt
from paramlab.ndarray._mxformat import DTYPE_FLAGS, StoredArray

DATA = Path(__file__).resolve().parent.parent / "data" / "mxnet-params"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))["files"]
FIXTURES = sorted(EXPECTED)
ALL_DTYPES = sorted(DTYPE_FLAGS, key=DTYPE_FLAGS.get)
MXNET1_DTYPES = [d for d in ALL_DTYPES if DTYPE_FLAGS[d] in fmt.MXNET1_DTYPE_FLAGS]
V2 = struct.pack("<I", fmt.V2_MAGIC)
V3 = struct.pack("<I", fmt.V3_MAGIC)
MiB = 1 << 20


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


def to_bytes(arrays, names=None) -> bytes:
    buffer = io.BytesIO()
    fmt.write(buffer, arrays, names)
    return buffer.getvalue()


def assert_same_record(got: StoredArray, want: StoredArray) -> None:
    """Bit-exact equality of two records."""
    assert got.stype == want.stype
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert got.data.dtype == want.data.dtype
    assert got.data.shape == want.data.shape
    assert got.data.tobytes() == want.data.tobytes()
    for field in ("indices", "indptr"):
        a, b = getattr(got, field), getattr(want, field)
        assert (a is None) == (b is None), field
        if a is not None:
            assert a.dtype == np.int64
            assert np.array_equal(a, b), field


def assert_same_content(got, want) -> None:
    got_arrays, got_names = got
    want_arrays, want_names = want
    assert got_names == want_names
    assert len(got_arrays) == len(want_arrays)
    for a, b in zip(got_arrays, want_arrays):
        assert_same_record(a, b)


def roundtrip(arrays, names=None):
    """Write then read; also check that writing the result again is byte-stable."""
    raw = to_bytes(arrays, names)
    loaded = fmt.read(raw)
    assert to_bytes(*loaded) == raw
    return loaded


def special_values(dtype: np.dtype) -> np.ndarray:
    """Extreme and special values of ``dtype`` (NaN payloads and -0.0 for floats)."""
    if dtype.kind == "b":
        return np.array([True, False, True, True], dtype=dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = [info.min, info.max, 0, 1, info.max - 1, info.min + 1]
        if dtype.itemsize == 8 and dtype.kind == "i":
            values += [2**53 + 1, -(2**53) - 1, 2**62]
        return np.array(values, dtype=dtype)
    info = np.finfo(dtype)
    finite = [0.0, -0.0, 1.0, -1.0, info.max, -info.max, info.tiny, -info.tiny]
    finite += [info.smallest_subnormal, info.eps, np.inf, -np.inf]
    bits_dtype = np.dtype(f"u{dtype.itemsize}")
    exponent = ((1 << info.nexp) - 1) << info.nmant
    quiet = 1 << (info.nmant - 1)
    sign = 1 << (8 * dtype.itemsize - 1)
    nans = [exponent | quiet | 1, exponent | 1, sign | exponent | quiet, exponent | quiet | 0x2A]
    return np.concatenate(
        [np.array(finite, dtype=dtype), np.array(nans, dtype=bits_dtype).view(dtype)]
    )


# A tiny independent encoder, so that hostile files can be built field by field.


def enc_shape(shape) -> bytes:
    return struct.pack(f"<i{len(shape)}q", len(shape), *shape)


def header(n_arrays: int) -> list[tuple[str, bytes]]:
    return [
        ("file magic", struct.pack("<Q", 0x112)),
        ("reserved", struct.pack("<Q", 0)),
        ("count", struct.pack("<Q", n_arrays)),
    ]


def dense_parts(key, values: np.ndarray, magic=V2, dev=(1, 0)) -> list[tuple[str, bytes]]:
    values = np.asarray(values)
    return [
        (f"{key}.magic", magic),
        (f"{key}.stype", struct.pack("<i", 0)),
        (f"{key}.ndim", struct.pack("<i", values.ndim)),
        (f"{key}.dims", struct.pack(f"<{values.ndim}q", *values.shape)),
        (f"{key}.dev_type", struct.pack("<i", dev[0])),
        (f"{key}.dev_id", struct.pack("<i", dev[1])),
        (f"{key}.flag", struct.pack("<i", DTYPE_FLAGS[values.dtype])),
        (f"{key}.data", values.tobytes()),
    ]


def rsp_parts(key, rows: np.ndarray, row_ids, n_rows: int) -> list[tuple[str, bytes]]:
    rows = np.asarray(rows, dtype=np.float32)
    shape = (n_rows, *rows.shape[1:])
    return [
        (f"{key}.magic", V2),
        (f"{key}.stype", struct.pack("<i", 1)),
        (f"{key}.sshape", enc_shape(rows.shape)),
        (f"{key}.shape", enc_shape(shape)),
        (f"{key}.dev", struct.pack("<ii", 1, 0)),
        (f"{key}.flag", struct.pack("<i", 0)),
        (f"{key}.aux0.flag", struct.pack("<i", 6)),
        (f"{key}.aux0.shape", enc_shape((len(row_ids),))),
        (f"{key}.data", rows.tobytes()),
        (f"{key}.aux0.data", np.asarray(row_ids, dtype="<i8").tobytes()),
    ]


def csr_parts(key, values, columns, indptr, shape) -> list[tuple[str, bytes]]:
    values = np.asarray(values, dtype=np.float32)
    return [
        (f"{key}.magic", V2),
        (f"{key}.stype", struct.pack("<i", 2)),
        (f"{key}.sshape", enc_shape(values.shape)),
        (f"{key}.shape", enc_shape(shape)),
        (f"{key}.dev", struct.pack("<ii", 1, 0)),
        (f"{key}.flag", struct.pack("<i", 0)),
        (f"{key}.aux0.flag", struct.pack("<i", 6)),
        (f"{key}.aux0.shape", enc_shape((len(indptr),))),
        (f"{key}.aux1.flag", struct.pack("<i", 6)),
        (f"{key}.aux1.shape", enc_shape((len(columns),))),
        (f"{key}.data", values.tobytes()),
        (f"{key}.aux0.data", np.asarray(indptr, dtype="<i8").tobytes()),
        (f"{key}.aux1.data", np.asarray(columns, dtype="<i8").tobytes()),
    ]


def names_parts(names) -> list[tuple[str, bytes]]:
    parts = [("names.count", struct.pack("<Q", len(names)))]
    for i, name in enumerate(names):
        raw = name if isinstance(name, bytes) else name.encode()
        parts += [(f"name{i}.length", struct.pack("<Q", len(raw))), (f"name{i}", raw)]
    return parts


def join(parts) -> tuple[bytes, dict[str, int]]:
    offsets, chunks, pos = {}, [], 0
    for key, raw in parts:
        offsets[key] = pos
        chunks.append(raw)
        pos += len(raw)
    offsets["end"] = pos
    return b"".join(chunks), offsets


def replace(parts, key, raw):
    assert key in dict(parts), key
    return [(k, raw if k == key else v) for k, v in parts]


F32 = np.array([1.0, 2.0], dtype=np.float32)


def one_dense_file(values=F32, magic=V2):
    return header(1) + dense_parts("a0", values, magic) + names_parts([])


# ----------------------------------------------------------------------------
# fixtures written by MXNet 1.9.1
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_matches_recorded_size_and_sha256(name):
    raw = fixture_bytes(name)
    assert len(raw) == EXPECTED[name]["size_bytes"]
    assert hashlib.sha256(raw).hexdigest() == EXPECTED[name]["sha256"]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_container_and_names(name):
    arrays, names = fmt.read(DATA / name)
    expected = EXPECTED[name]
    if expected["container"] == "list":
        assert names is None
        assert len(arrays) == len(expected["arrays"])
    else:
        assert sorted(names) == sorted(expected["arrays"])
        assert len(names) == len(set(names)) == len(arrays)


def expected_pairs(name):
    """(record, expected entry) pairs in file order for a fixture."""
    arrays, names = fmt.read(DATA / name)
    expected = EXPECTED[name]["arrays"]
    if names is None:
        return list(zip(arrays, expected))
    return [(array, expected[key]) for array, key in zip(arrays, names)]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_shapes_dtypes_stypes(name):
    for array, want in expected_pairs(name):
        assert array.shape == tuple(want["shape"])
        assert array.dtype == np.dtype(want["dtype"])
        assert array.stype == want["stype"]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_values_are_exact(name):
    for array, want in expected_pairs(name):
        dense = array.to_dense()
        expected = np.array(want["values"], dtype=want["dtype"]).reshape(want["shape"])
        assert dense.dtype == expected.dtype
        assert dense.shape == expected.shape
        assert np.array_equal(dense, expected)


@pytest.mark.parametrize("name", [n for n in FIXTURES if "sparse" in n])
def test_fixture_sparse_parts_are_exact(name):
    for array, want in expected_pairs(name):
        if array.stype == "default":
            continue
        assert array.indices.tolist() == want["indices"]
        assert array.data.tolist() == want["data"]
        if array.stype == "csr":
            assert array.indptr.tolist() == want["indptr"]


def test_list_fixture_keeps_file_order():
    arrays, _ = fmt.read(DATA / "nd_list.nd")
    assert [a.dtype.name for a in arrays] == ["float32", "int64", "float16"]


@pytest.mark.parametrize("name", FIXTURES)
def test_rewriting_fixture_reproduces_its_bytes(name):
    assert to_bytes(*fmt.read(DATA / name)) == fixture_bytes(name)


@pytest.mark.parametrize("name", FIXTURES)
def test_rewriting_fixture_to_path_reproduces_its_bytes(name, tmp_path):
    target = tmp_path / name
    fmt.write(target, *fmt.read(DATA / name))
    assert target.read_bytes() == fixture_bytes(name)
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("name", FIXTURES)
def test_reading_bytes_path_and_str_agree(name):
    from_path = fmt.read(DATA / name)
    assert_same_content(fmt.read(str(DATA / name)), from_path)
    assert_same_content(fmt.read(fixture_bytes(name)), from_path)
    assert_same_content(fmt.read(bytearray(fixture_bytes(name))), from_path)
    assert_same_content(fmt.read(memoryview(fixture_bytes(name))), from_path)


def record_magics(raw: bytes) -> set[bytes]:
    return {raw[i : i + 4] for i in range(len(raw) - 3) if raw[i : i + 4] in (V2, V3)}


def test_np_shape_fixture_uses_v3_for_every_record():
    raw = fixture_bytes("nd_dict_np_shape.nd")
    assert raw.count(V3) == 3 and raw.count(V2) == 0


@pytest.mark.parametrize("name", [n for n in FIXTURES if not EXPECTED[n]["np_shape"]])
def test_legacy_fixtures_use_v2(name):
    assert record_magics(fixture_bytes(name)) == {V2}


# ----------------------------------------------------------------------------
# V2/V3 choice
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arrays", "magic"),
    [
        ([np.ones(3, np.float32)], V2),
        ([np.zeros((0, 3), np.float32)], V2),
        ([np.zeros((2, 0), np.int8), np.ones(2)], V2),
        ([np.float32(2.5)], V3),
        ([np.ones(3, np.float32), np.array(1, np.int64)], V3),
        ([np.zeros((0, 3)), np.array(True)], V3),
    ],
    ids=["plain", "zero-size", "zero-size-2", "0-d", "0-d-with-others", "0-d-and-zero-size"],
)
def test_magic_is_v3_for_every_record_exactly_when_a_record_is_0d(arrays, magic):
    raw = to_bytes(arrays)
    assert raw[24:28] == magic
    assert raw.count(magic) >= len(arrays)
    assert raw.count(V3 if magic == V2 else V2) == 0


def test_0d_with_sparse_is_refused():
    rsp = StoredArray.from_row_sparse(np.ones((1, 2), np.float32), [0], (3, 2))
    with pytest.raises(ValueError, match="0-d"):
        to_bytes([np.float32(1), rsp])


# ----------------------------------------------------------------------------
# round trips
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_special_values_round_trip_bit_exact(dtype):
    values = special_values(dtype)
    (got,), _ = roundtrip([values])
    assert got.data.tobytes() == values.tobytes()
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_random_bits_round_trip_for_every_dtype(dtype):
    bits = np.random.default_rng(7).integers(0, 256, size=(3, 5, 4 * dtype.itemsize))
    values = bits.astype(np.uint8).view(dtype) if dtype.kind != "b" else bits % 2 == 1
    (got,), _ = roundtrip([values])
    assert got.data.tobytes() == values.tobytes()


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_written_dtype_flag_is_the_table_entry(dtype):
    raw = to_bytes([np.zeros(2, dtype)])
    assert struct.unpack_from("<i", raw, 24 + 4 + 4 + 4 + 8 + 8)[0] == DTYPE_FLAGS[dtype]


def test_dtype_table_and_inverse_agree():
    assert {f: d for d, f in DTYPE_FLAGS.items()} == fmt.FLAG_DTYPES
    expected = ["float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool"]
    assert [fmt.FLAG_DTYPES[f].name for f in range(8)] == expected
    assert 12 in fmt.UNSUPPORTED_DTYPE_FLAGS


@pytest.mark.parametrize(
    "shape",
    [(), (0,), (0, 3), (3, 0, 2), (1,) * fmt.MAX_NDIM, (2, 1, 3, 1, 2), (7,)],
    ids=str,
)
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)])
def test_dense_shapes_round_trip(shape, dtype):
    values = (np.arange(int(np.prod(shape))) % 3).astype(dtype).reshape(shape)
    (got,), names = roundtrip([values], ["x"])
    assert names == ["x"]
    assert got.shape == shape
    assert got.data.tobytes() == values.tobytes()


@pytest.mark.parametrize(
    ("rows", "row_ids", "shape"),
    [
        (np.zeros((0, 2)), [], (5, 2)),
        (np.ones((1, 2)), [4], (5, 2)),
        (np.arange(10.0).reshape(5, 2), [0, 1, 2, 3, 4], (5, 2)),
        (np.arange(12.0).reshape(2, 3, 2), [0, 7], (8, 3, 2)),
        (np.array([3.0]), [2], (3,)),
        (np.zeros((0, 4)), [], (0, 4)),
    ],
    ids=["no-rows", "last-row", "all-rows", "3d", "1d", "zero-size"],
)
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.int32)])
def test_row_sparse_round_trips(rows, row_ids, shape, dtype):
    record = StoredArray.from_row_sparse(rows.astype(dtype), row_ids, shape)
    (got,), _ = roundtrip([record])
    assert_same_record(got, record)


@pytest.mark.parametrize(
    ("values", "columns", "indptr", "shape"),
    [
        ([], [], [0, 0, 0, 0], (3, 4)),
        ([1.0, 2.0], [3, 0], [0, 0, 2, 2], (3, 4)),
        ([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1], [0, 2, 4], (2, 2)),
        ([], [], [0], (0, 4)),
        ([], [], [0, 0], (1, 0)),
    ],
    ids=["all-empty", "empty-rows", "full", "no-rows", "no-columns"],
)
@pytest.mark.parametrize("dtype", [np.dtype(np.float64), np.dtype(np.uint8)])
def test_csr_round_trips(values, columns, indptr, shape, dtype):
    record = StoredArray.from_csr(np.array(values, dtype=dtype), columns, indptr, shape)
    (got,), _ = roundtrip([record], ["m"])
    assert_same_record(got, record)


def test_sparse_to_dense():
    rsp = StoredArray.from_row_sparse(np.array([[1, 2], [3, 4]], np.float32), [1, 3], (4, 2))
    assert rsp.to_dense().tolist() == [[0, 0], [1, 2], [0, 0], [3, 4]]
    csr = StoredArray.from_csr(np.array([5, 6], np.int8), [2, 0], [0, 1, 1, 2], (3, 3))
    assert csr.to_dense().tolist() == [[0, 0, 5], [0, 0, 0], [6, 0, 0]]


@pytest.mark.parametrize("names", [None, ["w", "b", "s"]], ids=["list", "dict"])
def test_mixed_containers_round_trip(names):
    arrays = [
        np.arange(6, dtype=np.float64).reshape(2, 3),
        StoredArray.from_row_sparse(np.ones((1, 3), np.float32), [1], (4, 3)),
        StoredArray.from_csr(np.ones(1, np.int64), [2], [0, 1], (1, 3)),
    ]
    got, got_names = roundtrip(arrays, names)
    assert got_names == names
    assert [a.stype for a in got] == ["default", "row_sparse", "csr"]


@pytest.mark.parametrize("names", [None, []], ids=["empty-list", "empty-dict"])
def test_empty_containers_are_written_as_mxnet_does(names):
    raw = to_bytes([], names)
    assert raw == struct.pack("<QQQQ", 0x112, 0, 0, 0)
    assert fmt.read(raw) == ([], None)


@pytest.mark.parametrize(
    "names",
    [["ä/β.权重", "emoji😀", ""], ["dup", "dup", "x"], ["arg:fc_weight", "aux:x", "a b\nc"]],
    ids=["unicode", "duplicates", "punctuation"],
)
def test_names_round_trip(names):
    arrays = [np.full(2, i, np.int32) for i in range(len(names))]
    got, got_names = roundtrip(arrays, names)
    assert got_names == names
    assert [int(a.data[0]) for a in got] == list(range(len(names)))


def test_non_contiguous_and_big_endian_inputs_write_the_same_bytes():
    values = np.arange(24, dtype=np.float32).reshape(4, 6)
    reference = to_bytes([values])
    assert to_bytes([np.asfortranarray(values)]) == reference
    assert to_bytes([values.astype(">f4")]) == reference
    strided = np.zeros((4, 12), np.float32)
    strided[:, ::2] = values
    assert to_bytes([strided[:, ::2]]) == reference


def test_loaded_arrays_are_writable_copies():
    raw = fixture_bytes("nd_list.nd")
    arrays, _ = fmt.read(raw)
    arrays[0].data[...] = 0
    assert fmt.read(raw)[0][0].data.tolist() == [[1, 2], [3, 4]]
    assert arrays[0].data.flags.writeable


def test_hypothesis_dense_round_trip():
    hypothesis = pytest.importorskip("hypothesis")
    hnp = pytest.importorskip("hypothesis.extra.numpy")
    strategies = pytest.importorskip("hypothesis.strategies")

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(
        hnp.arrays(
            dtype=strategies.sampled_from(ALL_DTYPES),
            shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4),
        )
    )
    def check(values):
        (got,), _ = roundtrip([values])
        assert got.shape == values.shape
        assert got.data.tobytes() == values.tobytes()

    check()


# ----------------------------------------------------------------------------
# writer input validation
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.complex64, np.float128 if hasattr(np, "float128") else np.complex128, object]
)
def test_unsupported_dtypes_are_refused(dtype):
    with pytest.raises(ValueError, match="cannot be stored"):
        to_bytes([np.zeros(2, dtype=dtype)])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: StoredArray.from_row_sparse(np.ones((2, 2)), [1, 1], (3, 2)), "increasing"),
        (lambda: StoredArray.from_row_sparse(np.ones((1, 2)), [3], (3, 2)), "row ids"),
        (lambda: StoredArray.from_row_sparse(np.ones((1, 3)), [0], (3, 2)), "data has shape"),
        (lambda: StoredArray.from_csr(np.ones(1), [4], [0, 1], (1, 4)), "column ids"),
        (lambda: StoredArray.from_csr(np.ones(1), [0], [0, 2], (1, 4)), "end at"),
        (lambda: StoredArray.from_csr(np.ones(2), [0, 1], [0, 2, 1, 2], (3, 4)), "non-decreasing"),
        (lambda: StoredArray.from_csr(np.ones(1), [0], [1, 1], (1, 4)), "start at 0"),
        (lambda: StoredArray.from_csr(np.ones(1), [0], [0, 1], (1, 4, 1)), "2-d"),
        (lambda: StoredArray.from_csr(np.ones(1), [0.5], [0, 1], (1, 4)), "integers"),
        (lambda: StoredArray("default", (2,), np.float32, np.ones(3, np.float32)), "shape"),
        (lambda: StoredArray("default", (2,), np.float32, np.ones(2, np.float64)), "dtype"),
        (lambda: StoredArray("dense", (2,), np.float32, np.ones(2, np.float32)), "stype"),
        (lambda: StoredArray("default", (-2,), np.float32, np.ones(2, np.float32)), "negative"),
    ],
)
def test_inconsistent_records_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_names_count_must_match():
    with pytest.raises(ValueError, match="2 names given for 1 arrays"):
        to_bytes([np.ones(1)], ["a", "b"])


def test_bad_items_are_refused():
    with pytest.raises(TypeError, match=r"arrays\[0\]"):
        to_bytes([[1.0, 2.0]])
    with pytest.raises(TypeError, match="str"):
        to_bytes([np.ones(1)], [b"a"])


def test_refused_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.params"
    with pytest.raises(ValueError):
        fmt.write(target, [np.ones(1)], ["a", "b"])
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "out.params"
    fmt.write(target, [np.ones(3)], ["old"])
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise OSError("simulated rename failure")

    monkeypatch.setattr("paramlab._io.os.replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        fmt.write(target, [np.zeros(5)], ["new"])
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.params"]


# ----------------------------------------------------------------------------
# hostile files: each field, one by one
# ----------------------------------------------------------------------------

RSP = header(1) + rsp_parts("a0", np.ones((2, 2)), [1, 3], 5) + names_parts(["r"])
CSR = header(1) + csr_parts("a0", [1.0, 2.0, 3.0], [0, 2, 1], [0, 2, 2, 3], (3, 4))
CSR = CSR + names_parts([])
TWO = header(2) + dense_parts("a0", F32) + dense_parts("a1", F32) + names_parts(["x", "y"])
TWO_YZ = TWO[:-5] + names_parts(["x", "yz"])
I = struct.Struct("<i")


def i8(*values: int) -> bytes:
    """Little-endian int64 values."""
    return np.array(values, dtype="<i8").tobytes()


def q(value: int) -> bytes:
    """An 8-byte field holding ``value`` modulo 2**64."""
    return (value % 2**64).to_bytes(8, "little")


NO_NAMES = header(1) + dense_parts("a0", F32)
THREE = one_dense_file(np.ones(3, np.float32))

HOSTILE = {
    # name: (parts, key to replace, new bytes, field text, offset key, offset delta)
    "file-magic": (one_dense_file(), "file magic", q(0x113), "file magic", "file magic", 0),
    "reserved": (one_dense_file(), "reserved", q(1), "reserved", "reserved", 0),
    "count-huge": (one_dense_file(), "count", q(2**62), "array count", "count", 0),
    "count-negative": (one_dense_file(), "count", q(-1), "array count", "count", 0),
    "count-too-big": (one_dense_file(), "count", q(2), "array count", "count", 0),
    "record-magic": (one_dense_file(), "a0.magic", b"\x00" * 4, "array[0] magic", "a0.magic", 0),
    "stype-unknown": (one_dense_file(), "a0.stype", I.pack(3), "array[0] stype", "a0.stype", 0),
    "stype-negative": (one_dense_file(), "a0.stype", I.pack(-1), "stype", "a0.stype", 0),
    "ndim-negative": (one_dense_file(), "a0.ndim", I.pack(-1), "shape ndim", "a0.ndim", 0),
    "ndim-huge": (one_dense_file(), "a0.ndim", I.pack(2**31 - 1), "shape ndim", "a0.ndim", 0),
    "ndim-33": (one_dense_file(), "a0.ndim", I.pack(33), "shape ndim", "a0.ndim", 0),
    "ndim-0-legacy": (one_dense_file(), "a0.ndim", I.pack(0), "placeholder", "a0.ndim", 0),
    "dim-negative": (one_dense_file(), "a0.dims", q(-2), "shape dim[0]", "a0.dims", 0),
    "dim-huge": (one_dense_file(), "a0.dims", q(2**62), "array[0] shape", "a0.ndim", 0),
    "dev-type": (one_dense_file(), "a0.dev_type", I.pack(4), "device type", "a0.dev_type", 0),
    "dev-id": (one_dense_file(), "a0.dev_id", I.pack(-1), "device id", "a0.dev_id", 0),
    "dtype-bf16": (one_dense_file(), "a0.flag", I.pack(12), "bfloat16", "a0.flag", 0),
    "dtype-unknown": (one_dense_file(), "a0.flag", I.pack(99), "dtype flag", "a0.flag", 0),
    "dtype-negative": (one_dense_file(), "a0.flag", I.pack(-1), "dtype flag", "a0.flag", 0),
    "dtype-wider": (THREE, "a0.flag", I.pack(1), "array[0] data", "a0.data", 0),
    "data-short": (NO_NAMES, "a0.data", b"\0" * 7, "array[0] data", "a0.data", 0),
    "names-count": (TWO, "names.count", q(1), "name count", "names.count", 0),
    "names-huge": (TWO, "names.count", q(2**63), "name count", "names.count", 0),
    "name-length": (TWO, "name0.length", q(2**40), "name[0] length", "name0.length", 0),
    "name-utf8": (TWO, "name1", b"\xff", "name[1]", "name1", 0),
    "name-utf8-late": (TWO_YZ, "name1", b"y\xc3", "name[1]", "name1", 1),
    "mixed-magic": (TWO, "a1.magic", V3, "array[1] magic", "a1.magic", 0),
    "trailing": (TWO, "name1", b"y\0", "end of file", "end", -1),
    "rsp-v3": (RSP, "a0.magic", V3, "array[0] stype", "a0.stype", 0),
    "rsp-ids-range": (RSP, "a0.aux0.data", i8(1, 5), "row ids", "a0.aux0.data", 0),
    "rsp-ids-order": (RSP, "a0.aux0.data", i8(3, 1), "increasing", "a0.aux0.data", 0),
    "rsp-ids-neg": (RSP, "a0.aux0.data", i8(-1, 1), "row ids", "a0.aux0.data", 0),
    "rsp-aux-dtype": (RSP, "a0.aux0.flag", I.pack(4), "aux[0] dtype", "a0.aux0.flag", 0),
    "rsp-aux-shape": (RSP, "a0.aux0.shape", enc_shape((3,)), "aux[0] shape", "a0.aux0.shape", 0),
    "rsp-too-many": (RSP, "a0.shape", enc_shape((1, 2)), "stored rows", "a0.shape", 0),
    "rsp-columns": (RSP, "a0.shape", enc_shape((5, 3)), "storage shape", "a0.shape", 0),
    "rsp-sshape-0d": (RSP, "a0.sshape", enc_shape(()), "storage shape", "a0.shape", 0),
    "csr-3d": (CSR, "a0.shape", enc_shape((3, 4, 1)), "2-d", "a0.shape", 0),
    "csr-sshape-2d": (CSR, "a0.sshape", enc_shape((3, 1)), "not 1-d", "a0.shape", 0),
    "csr-indptr-start": (CSR, "a0.aux0.data", i8(1, 2, 2, 3), "start at 0", "a0.aux0.data", 0),
    "csr-indptr-order": (CSR, "a0.aux0.data", i8(0, 3, 2, 3), "non-decr", "a0.aux0.data", 0),
    "csr-indptr-end": (CSR, "a0.aux0.data", i8(0, 1, 2, 2), "end at", "a0.aux0.data", 0),
    "csr-columns": (CSR, "a0.aux1.data", i8(0, 4, 1), "column ids", "a0.aux1.data", 0),
    "csr-aux-shape": (CSR, "a0.aux0.shape", enc_shape((5,)), "aux[0] shape", "a0.aux0.shape", 0),
    "csr-rows-huge": (CSR, "a0.shape", enc_shape((2**40, 4)), "aux[0] shape", "a0.aux0.shape", 0),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_field_is_reported_with_file_field_and_offset(case):
    parts, key, new, field, offset_key, delta = HOSTILE[case]
    parts = replace(parts, key, new)
    raw, offsets = join(parts)
    with pytest.raises(CheckpointFormatError) as caught:
        fmt.read(raw)
    message = str(caught.value)
    assert message.startswith(f"<{len(raw)} bytes in memory>: invalid ")
    assert field in message
    assert f"at byte offset {offsets[offset_key] + delta}:" in message


def test_hostile_parts_are_valid_before_mutation():
    for parts in (one_dense_file(), RSP, CSR, TWO):
        fmt.read(join(parts)[0])


def test_error_names_the_path(tmp_path):
    target = tmp_path / "broken.params"
    target.write_bytes(fixture_bytes("nd_list.nd")[:-1])
    with pytest.raises(CheckpointFormatError, match=r"broken\.params.*offset"):
        fmt.read(target)


def test_empty_and_tiny_files_are_rejected(tmp_path):
    target = tmp_path / "empty.params"
    target.write_bytes(b"")
    with pytest.raises(CheckpointFormatError, match="file magic at byte offset 0"):
        fmt.read(target)
    with pytest.raises(CheckpointFormatError, match="file magic"):
        fmt.read(b"\x12\x01")


def test_v1_records_from_old_mxnet_are_read():
    record = struct.pack("<I", fmt.V1_MAGIC) + enc_shape((2,)) + struct.pack("<iii", 1, 0, 0)
    raw = join(header(1))[0] + record + F32.tobytes() + struct.pack("<Q", 0)
    (got,), names = fmt.read(raw)
    assert names is None and got.data.tolist() == [1.0, 2.0]


def test_v3_dense_without_0d_is_read_and_rewritten_as_v2():
    raw = join(one_dense_file(magic=V3))[0]
    arrays, names = fmt.read(raw)
    assert arrays[0].data.tolist() == [1.0, 2.0]
    assert to_bytes(arrays, names) == join(one_dense_file(magic=V2))[0]


def test_bool_bytes_other_than_0_and_1_read_as_true():
    parts = replace(one_dense_file(np.ones(3, bool)), "a0.data", b"\x00\x02\xff")
    (got,), _ = fmt.read(join(parts)[0])
    assert got.data.tobytes() == b"\x00\x01\x01"


def test_gpu_saved_records_load():
    parts = header(1) + dense_parts("a0", F32, dev=(2, 3)) + names_parts([])
    (got,), _ = fmt.read(join(parts)[0])
    assert got.data.tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------
# memory: absurd sizes never allocate
# ----------------------------------------------------------------------------

ABSURD = {
    "dense-dims": replace(one_dense_file(), "a0.dims", q(2**31)),
    "count": replace(one_dense_file(), "count", q(2**40)),
    "name-length": replace(TWO, "name0.length", q(2**62)),
    "rsp-rows": replace(RSP, "a0.sshape", enc_shape((2**35, 2))),
    "rsp-rows-claimed": replace(
        replace(
            replace(RSP, "a0.shape", enc_shape((2**35, 2))), "a0.sshape", enc_shape((2**35, 2))
        ),
        "a0.aux0.shape",
        enc_shape((2**35,)),
    ),
    "csr-rows": replace(
        replace(CSR, "a0.shape", enc_shape((2**35, 4))), "a0.aux0.shape", enc_shape((2**35 + 1,))
    ),
    "csr-nnz": replace(
        replace(CSR, "a0.sshape", enc_shape((2**35,))), "a0.aux1.shape", enc_shape((2**35,))
    ),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_absurd_sizes_fail_without_allocating(case):
    raw = join(ABSURD[case])[0]
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointFormatError):
            fmt.read(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MiB


def test_reading_a_large_file_allocates_about_its_size(tmp_path):
    values = np.arange(4 * MiB, dtype=np.float32)  # 16 MiB
    target = tmp_path / "big.params"
    fmt.write(target, [values, values[: MiB // 4]], ["a", "b"])
    size = target.stat().st_size
    tracemalloc.start()
    try:
        arrays, _ = fmt.read(target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(arrays[0].data, values)
    assert size * 0.95 <= peak < size * 1.05 + MiB


def test_writing_a_large_array_does_not_copy_it(tmp_path):
    values = np.arange(4 * MiB, dtype=np.float32)  # 16 MiB
    tracemalloc.start()
    try:
        fmt.write(tmp_path / "big.params", [values], ["a"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MiB


# ----------------------------------------------------------------------------
# fuzzing
# ----------------------------------------------------------------------------

HUGE_VALUES = [2**63 - 1, 2**64 - 1, 2**62, 2**32, 2**31, 2**31 - 1, 1 << 40, 0, 1, 3]


def check_attempt(raw: bytes, outcomes: dict) -> None:
    """Read ``raw``: it must load self-consistently or raise CheckpointFormatError."""
    try:
        loaded = fmt.read(raw)
    except CheckpointFormatError as error:
        assert "byte offset" in str(error)
        outcomes["rejected"] += 1
        return
    outcomes["loaded"] += 1
    rewritten = to_bytes(*loaded)
    assert_same_content(fmt.read(rewritten), loaded)


def mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    kind = rng.randrange(6)
    pos = rng.randrange(len(data))
    if kind == 0:  # flip a few bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # insert random bytes
        data[pos:pos] = rng.randbytes(rng.choice([1, 4, 8, rng.randint(1, 32)]))
    elif kind == 2:  # delete a range
        del data[pos : pos + rng.choice([1, 4, 8, rng.randint(1, 32)])]
    elif kind == 3:  # overwrite an 8-byte field with a huge or negative value
        value = rng.choice(HUGE_VALUES) if rng.random() < 0.7 else -rng.randint(1, 2**63)
        data[pos : pos + 8] = (value % 2**64).to_bytes(8, "little")
    elif kind == 4:  # overwrite a 4-byte field
        value = rng.choice([2**31 - 1, 2**32 - 1, 0, 1, 2, 7, 12, 33, 2**31])
        data[pos : pos + 4] = value.to_bytes(4, "little")
    else:  # random bytes over a range
        length = rng.randint(1, 16)
        data[pos : pos + length] = rng.randbytes(length)
    return bytes(data)


def test_fuzz_truncation_at_every_offset_is_rejected():
    attempts = 0
    for name in FIXTURES:
        raw = fixture_bytes(name)
        for cut in range(len(raw)):
            with pytest.raises(CheckpointFormatError):
                fmt.read(raw[:cut])
            attempts += 1
    assert attempts == sum(EXPECTED[n]["size_bytes"] for n in FIXTURES)


FUZZ_PER_FIXTURE = 4000


@pytest.mark.parametrize("name", FIXTURES)
def test_fuzz_random_mutations_load_consistently_or_raise_format_error(name):
    rng = random.Random(f"paramlab-{name}")
    raw = fixture_bytes(name)
    outcomes = {"loaded": 0, "rejected": 0}
    started = time.perf_counter()
    for attempt in range(FUZZ_PER_FIXTURE):
        mutated = mutate(raw, rng)
        try:
            check_attempt(mutated, outcomes)
        except Exception as error:  # report any failure with its reproducer
            detail = f"{name} attempt {attempt}: {type(error).__name__}: {error}\n{mutated!r}"
            raise AssertionError(detail) from error
    assert sum(outcomes.values()) == FUZZ_PER_FIXTURE
    assert outcomes["rejected"] > 0
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("name", FIXTURES)
def test_fuzz_huge_field_overwrites_stay_small_in_memory(name):
    raw = fixture_bytes(name)
    outcomes = {"loaded": 0, "rejected": 0}
    tracemalloc.start()
    try:
        for pos in range(0, len(raw), 4):
            for value in (2**63 - 1, 2**40, 2**31 - 1, -(2**62)):
                for width in (4, 8):
                    field = (value % 2**64).to_bytes(8, "little")[:width]
                    check_attempt(raw[:pos] + field + raw[pos + width :], outcomes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * MiB
    assert outcomes["rejected"] > 0


# ----------------------------------------------------------------------------
# differential tests against the real MXNet 1.9.1
# ----------------------------------------------------------------------------

MXNET_PYTHON = os.environ.get("PARAMLAB_MXNET_PYTHON")
needs_mxnet = pytest.mark.skipif(
    not MXNET_PYTHON,
    reason="PARAMLAB_MXNET_PYTHON is unset (it names a Python interpreter with mxnet 1.9.1)",
)

# Runs in the MXNet interpreter. Input (stdin, JSON): {"load": [paths]} or
# {"save": [{"path", "np_shape", "names", "arrays": [spec]}]}. Output: JSON on stdout.
MXNET_SCRIPT = r"""
import base64, json, sys
import numpy as np
import mxnet as mx

def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()

def describe(a):
    out = {"stype": a.stype, "shape": list(a.shape), "dtype": np.dtype(a.dtype).name}
    if a.stype == "default":
        out["data"] = b64(a.asnumpy())
    else:
        out["data"] = b64(a.data.asnumpy())
        out["indices"] = a.indices.asnumpy().astype(np.int64).tolist()
        if a.stype == "csr":
            out["indptr"] = a.indptr.asnumpy().astype(np.int64).tolist()
    return out

def load(path):
    try:
        loaded = mx.nd.load(path)
        mode = "legacy"
    except mx.base.MXNetError:
        with mx.util.np_shape(True):
            loaded = mx.nd.load(path)
            mode = "np_shape"
    names = list(loaded) if isinstance(loaded, dict) else None
    values = list(loaded.values()) if isinstance(loaded, dict) else loaded
    return {"mode": mode, "names": names, "arrays": [describe(v) for v in values]}

def build(spec):
    dtype = np.dtype(spec["dtype"])
    data = np.frombuffer(base64.b64decode(spec["data"]), dtype=dtype)
    if spec["stype"] == "default":
        return mx.nd.array(data.reshape(spec["shape"]), dtype=dtype)
    if spec["stype"] == "row_sparse":
        rows = data.reshape([len(spec["indices"])] + spec["shape"][1:])
        return mx.nd.sparse.row_sparse_array(
            (rows, np.array(spec["indices"], np.int64)), shape=spec["shape"], dtype=dtype)
    return mx.nd.sparse.csr_matrix(
        (data, np.array(spec["indices"], np.int64), np.array(spec["indptr"], np.int64)),
        shape=spec["shape"], dtype=dtype)

def save(job):
    arrays = [build(s) for s in job["arrays"]]
    content = dict(zip(job["names"], arrays)) if job["names"] is not None else arrays
    if job["np_shape"]:
        with mx.util.np_shape(True):
            mx.nd.save(job["path"], content)
    else:
        mx.nd.save(job["path"], content)
    return True

request = json.load(sys.stdin)
if "load" in request:
    result = [load(p) for p in request["load"]]
else:
    result = [save(job) for job in request["save"]]
print(json.dumps(result))
"""


def run_mxnet(request: dict):
    completed = subprocess.run(
        [MXNET_PYTHON, "-c", MXNET_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def spec_of(record: StoredArray) -> dict:
    spec = {
        "stype": record.stype,
        "shape": list(record.shape),
        "dtype": record.dtype.name,
        "data": base64.b64encode(np.ascontiguousarray(record.data).tobytes()).decode(),
    }
    if record.stype != "default":
        spec["indices"] = record.indices.tolist()
    if record.stype == "csr":
        spec["indptr"] = record.indptr.tolist()
    return spec


def assert_matches_mxnet(described: dict, records, names) -> None:
    assert described["names"] == names
    assert len(described["arrays"]) == len(records)
    for got, record in zip(described["arrays"], records):
        assert got["stype"] == record.stype
        assert tuple(got["shape"]) == record.shape
        assert got["dtype"] == record.dtype.name
        assert base64.b64decode(got["data"]) == np.ascontiguousarray(record.data).tobytes()
        if record.stype != "default":
            assert got["indices"] == record.indices.tolist()
        if record.stype == "csr":
            assert got["indptr"] == record.indptr.tolist()


def random_dense(rng: np.random.Generator, dtype: np.dtype, shape) -> np.ndarray:
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "f":
        values = rng.standard_normal(size=shape).astype(dtype)
        flat = values.reshape(-1)
        flat[: min(flat.size, 12)] = special_values(dtype)[: min(flat.size, 12)]
        return values
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    flat = values.reshape(-1)
    flat[:2] = [info.min, info.max][: flat.size]
    return values


def random_records(seed: int) -> list[StoredArray]:
    rng = np.random.default_rng(seed)
    records = []
    for dtype in MXNET1_DTYPES:
        shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 5))))
        records.append(StoredArray.from_dense(random_dense(rng, dtype, shape)))
    for dtype in (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.int64)):
        n_rows = int(rng.integers(1, 8))
        row_ids = np.sort(rng.choice(n_rows, size=int(rng.integers(0, n_rows + 1)), replace=False))
        rows = random_dense(rng, dtype, (len(row_ids), 3))
        records.append(StoredArray.from_row_sparse(rows, row_ids, (n_rows, 3)))
        dense = np.where(rng.random((4, 5)) < 0.4, random_dense(rng, dtype, (4, 5)), 0)
        dense = dense.astype(dtype)
        columns = [np.nonzero(row)[0] for row in dense]
        indptr = np.concatenate([[0], np.cumsum([len(c) for c in columns])])
        values = np.concatenate([row[c] for row, c in zip(dense, columns)]).astype(dtype)
        records.append(StoredArray.from_csr(values, np.concatenate(columns), indptr, (4, 5)))
    return records


@pytest.mark.mxnet_ref
@needs_mxnet
def test_mxnet_loads_what_paramlab_writes(tmp_path):
    jobs = []
    for seed, named in ((1, True), (2, False)):
        records = random_records(seed)
        names = [f"p{i}.w" for i in range(len(records))] if named else None
        path = tmp_path / f"paramlab_{seed}.params"
        fmt.write(path, records, names)
        jobs.append((str(path), records, names))
    np_shape_records = [
        StoredArray.from_dense(np.array(2.5, np.float32)),
        StoredArray.from_dense(np.zeros((0, 3), np.int64)),
        StoredArray.from_dense(np.arange(4, dtype=np.float64)),
    ]
    path = tmp_path / "paramlab_np_shape.params"
    fmt.write(path, np_shape_records, ["scalar", "empty", "vec"])
    jobs.append((str(path), np_shape_records, ["scalar", "empty", "vec"]))
    zero_size = [StoredArray.from_dense(np.zeros((2, 0), np.float32))]
    path = tmp_path / "paramlab_zero_size.params"
    fmt.write(path, zero_size, ["z"])
    jobs.append((str(path), zero_size, ["z"]))

    results = run_mxnet({"load": [job[0] for job in jobs]})
    for (_, records, names), described in zip(jobs, results):
        assert_matches_mxnet(described, records, names)
    assert [r["mode"] for r in results] == ["legacy", "legacy", "np_shape", "legacy"]


@pytest.mark.mxnet_ref
@needs_mxnet
def test_paramlab_reads_what_mxnet_writes_and_rewrites_it_byte_identically(tmp_path):
    jobs = []
    for seed, named in ((3, True), (4, False)):
        records = random_records(seed)
        names = [f"layer{i}.weight" for i in range(len(records))] if named else None
        jobs.append((str(tmp_path / f"mxnet_{seed}.params"), records, names, False))
    np_shape_records = [
        StoredArray.from_dense(np.array(-7, np.int32)),
        StoredArray.from_dense(np.ones((3, 0, 2), np.float16)),
        StoredArray.from_dense(np.arange(6, dtype=np.uint8).reshape(2, 3)),
    ]
    jobs.append((str(tmp_path / "mxnet_np.params"), np_shape_records, ["s", "e", "m"], True))
    request = {
        "save": [
            {"path": p, "np_shape": np_mode, "names": names, "arrays": [spec_of(r) for r in recs]}
            for p, recs, names, np_mode in jobs
        ]
    }
    run_mxnet(request)
    for path, records, names, _ in jobs:
        arrays, got_names = fmt.read(path)
        assert got_names == names
        for got, want in zip(arrays, records):
            assert_same_record(got, want)
        assert to_bytes(arrays, got_names) == Path(path).read_bytes()


@pytest.mark.mxnet_ref
@needs_mxnet
def test_mxnet_reads_every_fixture_rewritten_by_paramlab(tmp_path):
    paths = []
    for name in FIXTURES:
        target = tmp_path / name
        fmt.write(target, *fmt.read(DATA / name))
        paths.append(str(target))
    results = run_mxnet({"load": paths})
    for name, described in zip(FIXTURES, results):
        arrays, names = fmt.read(DATA / name)
        assert_matches_mxnet(described, arrays, names)


def test_mxnet_script_is_valid_python():
    compile(MXNET_SCRIPT, "<mxnet script>", "exec")
    assert sys.version_info >= (3, 8)
