"""The .npz and .safetensors checkpoint formats (ndarray._npzformat and _safetensorsformat)."""

from __future__ import annotations

import io
import json
import os
import random
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from paramlab.base import CheckpointFormatError
from paramlab.ndarray import _npzformat as npz
from paramlab.ndarray import _safetensorsformat as st
from paramlab.ndarray._mxformat import StoredArray

st_numpy = pytest.importorskip("safetensors.numpy")
safetensors = pytest.importorskip("safetensors")

FORMATS = {"npz": npz, "safetensors": st}
MiB = 1 << 20


@pytest.fixture(params=sorted(FORMATS))
def fmt(request):
    """(module, file extension) of each flat format."""
    return FORMATS[request.param], request.param


def roundtrip(module, ext, tmp_path, arrays, names=None):
    path = tmp_path / f"x.{ext}"
    module.write(path, arrays, names)
    return module.read(path)


def special_values():
    out = {
        "float16": np.array(
            [0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 2**-24, -(2**-14)], np.float16
        ),
        "float32": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4e38, 1e-45, -1.5], np.float32),
        "float64": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.8e308, 5e-324, 1 / 3]),
        "int8": np.array([-128, 127, 0, -1, 1, 2, 3, 4], np.int8),
        "uint8": np.array([0, 255, 1, 2, 3, 4, 5, 6], np.uint8),
        "int32": np.array([-(2**31), 2**31 - 1, 0, -1, 1, 2, 3, 4], np.int32),
        "int64": np.array([-(2**63), 2**63 - 1, 2**53 + 1, 0, -1, 1, 2, 3], np.int64),
        "bool": np.array([True, False, True, True, False, False, True, False]),
    }
    payload = np.frombuffer(np.uint32(0x7FC00123).tobytes(), np.float32)[0]
    out["float32"][4] = payload  # a NaN with a payload
    return out


# ----------------------------------------------------------------------------- round trips
def test_every_dtype_round_trips_bit_exact(fmt, tmp_path):
    module, ext = fmt
    specials = special_values()
    arrays, names = roundtrip(module, ext, tmp_path, list(specials.values()), list(specials))
    assert names == list(specials)
    for got, want in zip(arrays, specials.values()):
        assert got.stype == "default" and got.dtype == want.dtype
        assert got.data.tobytes() == want.tobytes()


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool"]
)
def test_random_bits_round_trip(fmt, tmp_path, dtype):
    module, ext = fmt
    raw = np.random.default_rng(1).integers(0, 256, size=3 * 5 * 8, dtype=np.uint8)
    if dtype == "bool":
        raw = raw % 2
    values = raw.view(dtype)[:15].reshape(3, 5)
    arrays, _ = roundtrip(module, ext, tmp_path, [values], ["v"])
    assert arrays[0].data.tobytes() == values.tobytes()
    assert arrays[0].data.flags.writeable and arrays[0].data.flags.c_contiguous


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (3, 0, 2), (1,), (2, 3, 4, 5)])
def test_shapes_round_trip(fmt, tmp_path, shape):
    module, ext = fmt
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    arrays, _ = roundtrip(module, ext, tmp_path, [values], ["a"])
    assert arrays[0].shape == shape and arrays[0].data.shape == shape
    assert arrays[0].data.tobytes() == values.tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "uint8", "bool"])
def test_sparse_records_round_trip(fmt, tmp_path, dtype):
    module, ext = fmt
    rsp = StoredArray.from_row_sparse(np.arange(6).reshape(3, 2).astype(dtype), [0, 2, 4], (5, 2))
    csr = StoredArray.from_csr(np.array([1, 2, 3]).astype(dtype), [3, 0, 1], [0, 1, 1, 3], (3, 4))
    empty = StoredArray.from_row_sparse(np.zeros((0, 3), dtype), np.zeros(0, np.int64), (4, 3))
    dense = np.ones((2, 2), dtype)
    arrays, names = roundtrip(
        module, ext, tmp_path, [rsp, dense, csr, empty], ["emb", "w", "adj", "none"]
    )
    assert names == ["emb", "w", "adj", "none"]
    for got, want in zip(arrays, [rsp, StoredArray.from_dense(dense), csr, empty]):
        assert (got.stype, got.shape, got.dtype) == (want.stype, want.shape, want.dtype)
        assert got.data.tobytes() == want.data.tobytes()
        for part in ("indices", "indptr"):
            a, b = getattr(got, part), getattr(want, part)
            assert (a is None) == (b is None)
            if a is not None:
                assert a.dtype == np.int64 and a.tolist() == b.tolist()


def test_lists_round_trip_as_lists(fmt, tmp_path):
    module, ext = fmt
    arrays, names = roundtrip(module, ext, tmp_path, [np.ones(2), np.zeros((1, 2), np.int8)])
    assert names is None and [a.shape for a in arrays] == [(2,), (1, 2)]
    arrays, names = roundtrip(module, ext, tmp_path, [])
    assert names is None and arrays == []
    arrays, names = roundtrip(module, ext, tmp_path, [], [])
    assert names == [] and arrays == []


def test_names_keep_their_order_and_characters(fmt, tmp_path):
    module, ext = fmt
    names = ["z.weight", "a/b", "ünï ©ode", "", "0.bias", "arg:fc_weight"]
    arrays, got = roundtrip(module, ext, tmp_path, [np.full(1, i) for i in range(6)], names)
    assert got == names
    assert [int(a.data[0]) for a in arrays] == list(range(6))


def test_non_contiguous_and_big_endian_inputs(fmt, tmp_path):
    module, ext = fmt
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    inputs = [base[:, ::2], base.T, base.astype(">f8"), np.asfortranarray(base)]
    arrays, _ = roundtrip(module, ext, tmp_path, inputs, ["a", "b", "c", "d"])
    for got, want in zip(arrays, inputs):
        assert got.data.dtype.isnative and got.data.flags.c_contiguous
        np.testing.assert_array_equal(got.data, want)


def test_file_or_bytes_sources_for_npz(tmp_path):
    buffer = io.BytesIO()
    npz.write(buffer, [np.arange(3)], ["a"])
    arrays, names = npz.read(buffer.getvalue())
    assert names == ["a"] and arrays[0].data.tolist() == [0, 1, 2]
    assert npz.read(memoryview(buffer.getvalue()))[1] == ["a"]


def test_npz_writes_are_deterministic(tmp_path):
    values = [np.arange(5.0), StoredArray.from_row_sparse(np.ones((1, 2)), [1], (3, 2))]
    npz.write(tmp_path / "a.npz", values, ["x", "y"])
    npz.write(tmp_path / "b.npz", values, ["x", "y"])
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_npz_is_a_plain_uncompressed_numpy_archive(tmp_path):
    path = tmp_path / "x.npz"
    rsp = StoredArray.from_row_sparse(np.ones((1, 2), np.float32), [1], (3, 2))
    npz.write(path, [np.arange(3), rsp], ["w", "emb"])
    with np.load(path, allow_pickle=False) as loaded:
        assert loaded.files == ["__paramlab__", "w", "emb/data", "emb/indices"]
        meta = json.loads(loaded["__paramlab__"].tobytes())
    assert meta["sparse"] == {"emb": {"stype": "row_sparse", "shape": [3, 2]}}
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}


def test_safetensors_metadata_describes_sparse_arrays(tmp_path):
    path = tmp_path / "x.safetensors"
    csr = StoredArray.from_csr(np.ones(2, np.float32), [0, 1], [0, 1, 2], (2, 2))
    st.write(path, [csr], ["adj"])
    with safetensors.safe_open(str(path), framework="np") as f:
        assert sorted(f.keys()) == ["adj/data", "adj/indices", "adj/indptr"]
        meta = json.loads(f.metadata()["__paramlab__"])
    assert meta["names"] == ["adj"] and meta["sparse"]["adj"]["stype"] == "csr"


# ---------------------------------------------------------------------- files from other tools
def test_plain_numpy_archives_read_as_dense(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones((2, 2), np.float16), b=np.arange(3))
    np.savez_compressed(tmp_path / "packed.npz", w=np.zeros(1000), b=np.arange(3))
    for name in ("plain.npz", "packed.npz"):
        arrays, names = npz.read(tmp_path / name)
        assert names == ["w", "b"] and arrays[1].data.tolist() == [0, 1, 2]


def test_plain_safetensors_files_read_as_dense(tmp_path):
    data = st_numpy.save(
        {"b": np.arange(3), "a": np.ones(2, np.float16)}, metadata={"format": "pt"}
    )
    (tmp_path / "hf.safetensors").write_bytes(data)
    arrays, names = st.read(tmp_path / "hf.safetensors")
    assert sorted(names) == ["a", "b"]
    assert dict(zip(names, (a.data.tolist() for a in arrays)))["b"] == [0, 1, 2]


def test_bool_bytes_other_than_0_and_1_read_as_true(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([True, False, True]))
    body = bytearray(buffer.getvalue())
    body[-3] = 7
    bad = tmp_path / "b7.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("m.npy", bytes(body))
    arrays, _ = npz.read(bad)
    assert arrays[0].data.tolist() == [True, False, True]
    assert arrays[0].data.view(np.uint8).tolist() == [1, 0, 1]


# ---------------------------------------------------------------------- refusals when writing
@pytest.mark.parametrize(
    "names, error, message",
    [
        (["a", "a"], ValueError, "given twice"),
        (["a"], ValueError, "1 names given for 2 arrays"),
        ("ab", TypeError, "single string"),
        (["a", 3], TypeError, "names\\[1\\]"),
        (["__paramlab__", "b"], ValueError, "__paramlab__"),
        (["x/data", "x"], ValueError, "key 'x/data'"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(fmt, tmp_path, names, error, message):
    module, ext = fmt
    rsp = StoredArray.from_row_sparse(np.ones((1, 2)), [0], (2, 2))
    with pytest.raises(error, match=message):
        module.write(tmp_path / f"x.{ext}", [np.ones(1), rsp], names)
    assert os.listdir(tmp_path) == []


def test_bad_items_are_refused(fmt, tmp_path):
    module, ext = fmt
    with pytest.raises(TypeError, match="arrays\\[0\\]"):
        module.write(tmp_path / f"x.{ext}", [[1, 2]], ["a"])
    with pytest.raises(ValueError, match="complex"):
        module.write(tmp_path / f"x.{ext}", [np.ones(2, np.complex64)], ["a"])
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(fmt, tmp_path, monkeypatch):
    module, ext = fmt
    path = tmp_path / f"x.{ext}"
    module.write(path, [np.ones(3)], ["old"])
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("simulated fsync failure")

    monkeypatch.setattr("paramlab._io.os.fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        module.write(path, [np.zeros(100)], ["new"])
    assert path.read_bytes() == before and os.listdir(tmp_path) == [path.name]


def test_npz_write_failing_part_way_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "x.npz"
    npz.write(path, [np.ones(3)], ["old"])
    before = path.read_bytes()
    real = np.lib.format.write_array
    calls = []

    def fail_on_second_array(fp, array, **kwargs):
        calls.append(array.shape)
        if len(calls) == 3:
            fp.write(b"half")
            raise OSError("simulated disk full")
        real(fp, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        npz.write(path, [np.zeros(10), np.zeros(20), np.zeros(30)], ["a", "b", "c"])
    assert path.read_bytes() == before and os.listdir(tmp_path) == [path.name]


# ----------------------------------------------------------------------------- hostile files
def meta_npz(tmp_path, meta, arrays, name="m.npz"):
    """An archive with a hand-written description."""
    path = tmp_path / name
    blob = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, __paramlab__=blob, **arrays)
    return path


def meta_st(tmp_path, meta, arrays, name="m.safetensors"):
    path = tmp_path / name
    path.write_bytes(st_numpy.save(arrays, metadata={"__paramlab__": json.dumps(meta)}))
    return path


def good_meta(**changes):
    meta = {"format": "paramlab", "version": 1, "container": "dict", "names": ["w"], "sparse": {}}
    meta.update(changes)
    return meta


HOSTILE_META = [
    (good_meta(version=2), {"w": np.ones(1)}, "newer paramlab"),
    (good_meta(version="1"), {"w": np.ones(1)}, "version"),
    (good_meta(format="other"), {"w": np.ones(1)}, "not a paramlab description"),
    (good_meta(container="set"), {"w": np.ones(1)}, "container"),
    (good_meta(names="w"), {"w": np.ones(1)}, "names must be a list"),
    (good_meta(names=["w", "w"]), {"w": np.ones(1)}, "repeat"),
    (good_meta(names=["w", "v"]), {"w": np.ones(1)}, "missing"),
    (good_meta(), {"w": np.ones(1), "v": np.ones(1)}, "not listed in the metadata"),
    (good_meta(container="list"), {"w": np.ones(1)}, "'0', '1'"),
    (good_meta(sparse=[]), {"w": np.ones(1)}, "sparse must be an object"),
    (good_meta(sparse={"q": {"stype": "csr", "shape": [1, 1]}}), {"w": np.ones(1)}, "not listed"),
    (good_meta(sparse={"w": {"stype": "coo", "shape": [2]}}), {"w": np.ones(1)}, "stype"),
    (
        good_meta(sparse={"w": {"stype": "row_sparse", "shape": [-1, 2]}}),
        {"w/data": np.ones((1, 2)), "w/indices": np.zeros(1, np.int64)},
        "shape",
    ),
    (
        good_meta(sparse={"w": {"stype": "row_sparse", "shape": [3, 2]}}),
        {"w/data": np.ones((2, 2)), "w/indices": np.array([2, 1])},
        "strictly increasing",
    ),
    (
        good_meta(sparse={"w": {"stype": "row_sparse", "shape": [3, 2]}}),
        {"w/data": np.ones((1, 2)), "w/indices": np.array([5])},
        "row ids must lie",
    ),
    (
        good_meta(sparse={"w": {"stype": "row_sparse", "shape": [3, 2]}}),
        {"w/data": np.ones((1, 2)), "w/indices": np.array([0.5])},
        "integers",
    ),
    (
        good_meta(sparse={"w": {"stype": "csr", "shape": [2, 2]}}),
        {"w/data": np.ones(2), "w/indices": np.array([0, 9]), "w/indptr": np.array([0, 1, 2])},
        "column ids",
    ),
    (
        good_meta(sparse={"w": {"stype": "csr", "shape": [2, 2]}}),
        {"w/data": np.ones(2), "w/indices": np.array([0, 1]), "w/indptr": np.array([0, 2, 1])},
        "row pointers",
    ),
    (
        good_meta(sparse={"w": {"stype": "csr", "shape": [2, 2, 2]}}),
        {"w/data": np.ones(2), "w/indices": np.array([0, 1]), "w/indptr": np.array([0, 1, 2])},
        "2-d",
    ),
]


@pytest.mark.parametrize("meta, arrays, message", HOSTILE_META)
def test_hostile_descriptions_are_refused(fmt, tmp_path, meta, arrays, message):
    module, ext = fmt
    path = (meta_npz if ext == "npz" else meta_st)(tmp_path, meta, arrays)
    with pytest.raises(CheckpointFormatError, match=message) as info:
        module.read(path)
    assert path.name in str(info.value)


@pytest.mark.parametrize("fmt_name", ["npz", "safetensors"])
def test_description_that_is_not_json_is_refused(tmp_path, fmt_name):
    if fmt_name == "npz":
        path = tmp_path / "m.npz"
        np.savez(path, __paramlab__=np.frombuffer(b"{not json", np.uint8), w=np.ones(1))
        module = npz
    else:
        path = tmp_path / "m.safetensors"
        path.write_bytes(st_numpy.save({"w": np.ones(1)}, metadata={"__paramlab__": "[[[["}))
        module = st
    with pytest.raises(CheckpointFormatError, match="JSON"):
        module.read(path)


def test_npz_description_must_be_uint8(tmp_path):
    np.savez(tmp_path / "m.npz", __paramlab__=np.zeros(3, np.float32), w=np.ones(1))
    with pytest.raises(CheckpointFormatError, match="uint8"):
        npz.read(tmp_path / "m.npz")


def test_npz_object_arrays_are_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"x": 1}], dtype=object), allow_pickle=True)
    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    with pytest.raises(CheckpointFormatError, match="dtype object"):
        npz.read(path)


@pytest.mark.parametrize(
    "dtype",
    [
        "complex64",
        "U3",
        "float128" if hasattr(np, "float128") else "complex128",
        [("a", "f4"), ("b", "i4")],
    ],
)
def test_npz_unsupported_dtypes_are_refused(tmp_path, dtype):
    path = tmp_path / "odd.npz"
    np.savez(path, w=np.zeros(2, dtype=dtype))
    with pytest.raises(CheckpointFormatError, match=r"'w\.npy' has dtype"):
        npz.read(path)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_npz_other_compressions_are_refused(tmp_path, method):
    path = tmp_path / "odd.npz"
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ones(3))
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr("w.npy", buffer.getvalue())
    with pytest.raises(CheckpointFormatError, match="compression method"):
        npz.read(path)


def test_npz_member_that_is_not_npy_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointFormatError, match=r"'readme\.txt' is not a \.npy array"):
        npz.read(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "n.npz", "w") as zf:
        zf.writestr("w.npy", b"not an npy file at all")
    with pytest.raises(CheckpointFormatError, match=r"'w\.npy' is not a \.npy array"):
        npz.read(tmp_path / "n.npz")


def _npy_bytes_claiming(shape, dtype="<f8", data=b"\0" * 16):
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


@pytest.mark.parametrize("shape", ["(10**12,)", "(1000000, 1000000)", "(3,)", "(-2,)"])
def test_npz_header_that_disagrees_with_its_size_fails_without_allocating(tmp_path, shape):
    shape_text = shape.replace("10**12", str(10**12))
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as zf:
        zf.writestr("w.npy", _npy_bytes_claiming(shape_text))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointFormatError, match=r"'w\.npy'"):
            npz.read(tmp_path / "m.npz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MiB


def test_npz_deflate_member_claiming_too_much_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("w.npy", _npy_bytes_claiming("(2,)"))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    claimed = struct.pack("<I", 2**31)
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24 : central + 28] = claimed  # uncompressed size in the central directory
    raw[info.header_offset + 22 : info.header_offset + 26] = claimed
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointFormatError, match="more than deflate can produce"):
        npz.read(path)


def test_npz_duplicate_members_are_refused(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ones(2))
    with pytest.warns(UserWarning), zipfile.ZipFile(tmp_path / "d.npz", "w") as zf:
        zf.writestr("w.npy", buffer.getvalue())
        zf.writestr("w.npy", buffer.getvalue())
    with pytest.raises(CheckpointFormatError, match="appears twice"):
        npz.read(tmp_path / "d.npz")


def test_safetensors_unsupported_dtype_is_refused(tmp_path):
    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "bf.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(CheckpointFormatError, match="'x' has dtype BF16"):
        st.read(tmp_path / "bf.safetensors")


@pytest.mark.parametrize("shape, end", [([10**12], 4 * 10**12), ([2], 16), ([4], 8)])
def test_safetensors_sizes_that_disagree_fail_without_allocating(tmp_path, shape, end):
    header = json.dumps({"x": {"dtype": "F32", "shape": shape, "data_offsets": [0, end]}})
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"\0" * 16)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointFormatError, match=r"big\.safetensors"):
            st.read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MiB


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        struct.pack("<Q", 2**40) + b"{}",
        struct.pack("<Q", 2) + b"[]",
        b"PK\x03\x04broken",
    ],
)
def test_garbage_is_a_format_error(fmt, tmp_path, content):
    module, ext = fmt
    path = tmp_path / f"g.{ext}"
    path.write_bytes(content)
    with pytest.raises(CheckpointFormatError, match=f"g.{ext}"):
        module.read(path)


def test_missing_file_is_an_os_error(fmt, tmp_path):
    module, ext = fmt
    with pytest.raises(FileNotFoundError):
        module.read(tmp_path / f"none.{ext}")


# ----------------------------------------------------------------------------- fuzzing
def sample_file(module, ext, tmp_path):
    rsp = StoredArray.from_row_sparse(np.arange(4, dtype=np.float32).reshape(2, 2), [0, 3], (4, 2))
    csr = StoredArray.from_csr(np.array([1.5, -2.0]), [1, 0], [0, 1, 1, 2], (3, 2))
    path = tmp_path / f"sample.{ext}"
    module.write(
        path,
        [np.arange(6, dtype=np.int8).reshape(2, 3), rsp, csr, np.array([True, False])],
        ["a.w", "emb", "adj", "m"],
    )
    return path.read_bytes()


def check_consistent_or_format_error(module, path):
    """A mutated file either loads into valid records or raises CheckpointFormatError."""
    try:
        arrays, names = module.read(path)
    except CheckpointFormatError:
        return False
    assert names is None or len(names) == len(arrays)
    for record in arrays:
        record.validate()
    return True


def test_fuzz_truncations_raise_format_errors(fmt, tmp_path):
    module, ext = fmt
    data = sample_file(module, ext, tmp_path)
    path = tmp_path / f"cut.{ext}"
    cuts = sorted(set(range(0, len(data), max(1, len(data) // 150))) | {len(data) - 1})
    for cut in cuts:
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointFormatError):
            module.read(path)


def test_fuzz_random_mutations_load_consistently_or_raise_format_errors(fmt, tmp_path):
    module, ext = fmt
    data = sample_file(module, ext, tmp_path)
    rng = random.Random(1234)
    path = tmp_path / f"mut.{ext}"
    loaded = 0
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(mutated))
            mutated[at] = rng.choice([0, 1, 0x7F, 0xFF, rng.randrange(256)])
        path.write_bytes(bytes(mutated))
        loaded += check_consistent_or_format_error(module, path)
    assert loaded < 400  # some mutations must have been caught


def test_fuzz_hypothesis_descriptions(tmp_path):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as s

    json_values = s.recursive(
        s.none() | s.booleans() | s.integers(-3, 5) | s.text(max_size=6),
        lambda inner: (
            s.lists(inner, max_size=4) | s.dictionaries(s.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
    descriptions = s.fixed_dictionaries(
        {
            "format": s.just("paramlab"),
            "version": s.integers(0, 2),
            "container": s.sampled_from(["dict", "list", "x"]),
            "names": s.lists(s.sampled_from(["w", "0", "emb", 3]), max_size=3),
            "sparse": s.dictionaries(s.sampled_from(["w", "emb"]), json_values, max_size=2),
        }
    )
    arrays = {
        "w": np.ones(2),
        "0": np.zeros(1),
        "emb/data": np.ones((1, 2)),
        "emb/indices": np.array([1]),
    }

    @hypothesis.settings(max_examples=150, deadline=None, database=None)
    @hypothesis.given(descriptions)
    def check(meta):
        try:
            records, _ = npz.unflatten(arrays, meta, "<fuzz>")
        except CheckpointFormatError:
            return
        for record in records:
            record.validate()

    check()
