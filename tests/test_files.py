"""store/files.py: the archive's atomic writes and its one-open reads, in process."""

from __future__ import annotations

import errno
import os

import pytest

from cumt_archive.store import files
from cumt_archive.store.files import atomic_write, read_file


def test_atomic_write_creates_the_folder_replaces_and_tells_an_unchanged_file(tmp_path):
    post = tmp_path / "posts" / "deep" / "a.md"
    assert atomic_write(post, b"first") is True  # the folder did not exist
    assert post.read_bytes() == b"first"
    assert atomic_write(post, b"first") is False  # same bytes: nothing written
    assert atomic_write(post, b"second, longer") is True
    assert post.read_bytes() == b"second, longer"
    assert atomic_write(post, b"second, longer", skip_if_same=False) is True  # the caller asked for a write
    assert sorted(p.name for p in post.parent.iterdir()) == ["a.md"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    post = tmp_path / "a.md"
    post.write_bytes(b"archived")
    calls = []

    def full_disk(fd: int, data: memoryview) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return 3  # a short write first: the rest must follow
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full_disk)
    with pytest.raises(OSError) as raised:
        atomic_write(post, b"a new version")
    assert raised.value.errno == errno.ENOSPC
    assert calls == [13, 10]  # the rest of the bytes, after the short write
    monkeypatch.undo()
    assert post.read_bytes() == b"archived"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_a_short_write_is_completed(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(files.os, "write", lambda fd, data: real_write(fd, data[:4]))
    atomic_write(tmp_path / "a.md", b"0123456789")
    monkeypatch.undo()
    assert (tmp_path / "a.md").read_bytes() == b"0123456789"


@pytest.mark.parametrize("size", [0, 1, 4096, 1 << 20])
def test_read_file_gives_the_bytes_and_the_status(tmp_path, size):
    path = tmp_path / "page.htm"
    data = os.urandom(size)
    path.write_bytes(data)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    body, status = read_file(path)
    assert body == data
    assert status.st_size == size and status.st_mtime == 1_600_000_000


def test_read_file_reads_past_a_size_that_changed(tmp_path, monkeypatch):
    """A file that grows after its size is asked: every byte is read, not the size first told."""
    path = tmp_path / "page.htm"
    path.write_bytes(b"x" * 10)
    real_fstat = os.fstat

    def grown(fd: int) -> os.stat_result:
        status = real_fstat(fd)
        with open(path, "ab") as more:
            more.write(b"y" * 25)
        return status

    monkeypatch.setattr(files.os, "fstat", grown)
    body, status = read_file(path)
    assert body == b"x" * 10 + b"y" * 25
    assert status.st_size == 10


def test_read_file_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        read_file(tmp_path / "gone.htm")
    assert "gone.htm" in str(raised.value)
