"""Tests of crash-safe writing and bounded reading (paramlab._io)."""

from __future__ import annotations

import os
import stat

import pytest

from paramlab import _io


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture
def existing(tmp_path):
    """A target file with known old content."""
    target = tmp_path / "model.params"
    target.write_bytes(b"old content")
    return target


def test_writer_creates_a_new_file(tmp_path):
    target = tmp_path / "new.bin"
    with _io.atomic_writer(target) as handle:
        handle.write(b"hello")
    assert target.read_bytes() == b"hello"
    assert listing(tmp_path) == ["new.bin"]


def test_writer_replaces_an_existing_file(existing):
    with _io.atomic_writer(str(existing)) as handle:
        handle.write(b"new")
    assert existing.read_bytes() == b"new"
    assert listing(existing.parent) == ["model.params"]


def test_target_is_untouched_until_the_block_ends(existing):
    with _io.atomic_writer(existing) as handle:
        handle.write(b"partial")
        handle.flush()
        assert existing.read_bytes() == b"old content"
        temps = [n for n in listing(existing.parent) if n != "model.params"]
        assert len(temps) == 1 and temps[0].startswith(".model.params.")


def test_temporary_file_lives_in_the_target_folder(existing, monkeypatch):
    seen = []
    real_replace = os.replace

    def spying_replace(src, dst):
        seen.append((os.path.dirname(src), os.path.dirname(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(_io.os, "replace", spying_replace)
    with _io.atomic_writer(existing) as handle:
        handle.write(b"x")
    assert seen == [(str(existing.parent), str(existing.parent))]


@pytest.mark.parametrize("error", [RuntimeError("writer failed"), KeyboardInterrupt()])
def test_writer_raising_part_way_keeps_the_old_file(existing, error):
    with pytest.raises(type(error)), _io.atomic_writer(existing) as handle:
        handle.write(b"half of the new")
        raise error
    assert existing.read_bytes() == b"old content"
    assert listing(existing.parent) == ["model.params"]


def test_writer_raising_leaves_no_new_file(tmp_path):
    target = tmp_path / "never.bin"
    with pytest.raises(ValueError), _io.atomic_writer(target) as handle:
        handle.write(b"abc")
        raise ValueError("stop")
    assert listing(tmp_path) == []


def test_failing_replace_keeps_the_old_file(existing, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("simulated rename failure")

    monkeypatch.setattr(_io.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated rename"), _io.atomic_writer(existing) as handle:
        handle.write(b"new")
    assert existing.read_bytes() == b"old content"
    assert listing(existing.parent) == ["model.params"]


def test_failing_fsync_keeps_the_old_file(existing, monkeypatch):
    def broken_fsync(fd):
        raise OSError("simulated fsync failure")

    monkeypatch.setattr(_io.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated fsync"):
        _io.atomic_write(existing, lambda handle: handle.write(b"new"))
    assert existing.read_bytes() == b"old content"
    assert listing(existing.parent) == ["model.params"]


def test_failing_write_keeps_the_old_file(existing):
    def writer(handle):
        handle.write(b"a" * 100)
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        _io.atomic_write(existing, writer)
    assert existing.read_bytes() == b"old content"
    assert listing(existing.parent) == ["model.params"]


def test_file_and_folder_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(_io.os, "fsync", recording_fsync)
    _io.atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"data"))
    assert synced == [False, True]


def test_failing_folder_fsync_is_tolerated(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def fsync_files_only(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError("directories cannot be synced here")
        real_fsync(fd)

    monkeypatch.setattr(_io.os, "fsync", fsync_files_only)
    _io.atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"data"))
    assert (tmp_path / "f.bin").read_bytes() == b"data"


def test_atomic_write_returns_the_writer_result(tmp_path):
    assert _io.atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"four")) == 4


def test_new_file_mode_follows_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        _io.atomic_write(tmp_path / "f.bin", lambda handle: handle.write(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o640


def test_existing_file_mode_is_kept(existing):
    existing.chmod(0o604)
    _io.atomic_write(existing, lambda handle: handle.write(b"x"))
    assert stat.S_IMODE(existing.stat().st_mode) == 0o604


def test_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        _io.atomic_write(tmp_path / "no" / "f.bin", lambda handle: handle.write(b"x"))
    assert listing(tmp_path) == []


def test_mapped_file_gives_the_bytes(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"\x00\x01payload")
    with _io.mapped_file(target) as buffer:
        assert bytes(buffer[:]) == b"\x00\x01payload"
        assert len(buffer) == 9


def test_mapped_empty_file_is_empty_bytes(tmp_path):
    target = tmp_path / "empty.bin"
    target.write_bytes(b"")
    with _io.mapped_file(target) as buffer:
        assert buffer == b""


def test_mapped_file_survives_a_leaked_view(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"abcd")
    with _io.mapped_file(target) as buffer:
        view = memoryview(buffer)
    assert bytes(view) == b"abcd"
    view.release()


def test_read_bytes_checked_reads_everything(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"x" * 1000)
    assert _io.read_bytes_checked(target) == b"x" * 1000


def test_read_bytes_checked_refuses_large_files(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"x" * 1000)
    with pytest.raises(ValueError, match="1000 bytes, more than 999"):
        _io.read_bytes_checked(target, max_bytes=999)
