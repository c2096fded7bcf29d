"""Atomic file writes, and the archive's directory layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

TMP_MARK = ".tmp-"


def atomic_write(path: Path, data: bytes, *, skip_if_same: bool = True) -> bool:
    """Write via a temporary file in the same directory and rename; False when the file already held data
    (not asked when skip_if_same is False: the caller knows there is no such file, or wants it written).

    The rename makes the write atomic whenever the process dies (SIGKILL included). Files are not
    fsynced one by one: that blocks the crawl on every file; after a power cut, `cumt-archive
    regenerate` rewrites from the WARC any file whose bytes are not what they should be.
    """
    if skip_if_same:
        try:
            if path.stat().st_size == len(data) and read_file(path)[0] == data:
                return False
        except FileNotFoundError:
            pass
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        fd = os.open(tmp, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:  # the folder's first file (not asked first: the folder is almost always there)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _WRITE_FLAGS, 0o666)
    # os-level calls, not open(): a buffered file object asks the system three more questions (size,
    # terminal, position) for every file, and a regenerate writes thousands.
    try:
        view = memoryview(data)
        while view:  # (one call writes it all, but for a signal or a full disk)
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    return True


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def read_file(path: Path | str) -> tuple[bytes, os.stat_result]:
    """A file's bytes and its status, from one open (four system calls, where read_bytes() and stat()
    make eleven: regenerate reads every saved page of a tree)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        want = status.st_size + 1  # one more than its size: a short read says the end is reached
        chunks = []
        while True:
            chunk = os.read(fd, want)
            chunks.append(chunk)
            if len(chunk) < want:
                break
        return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), status
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ArchiveLayout:
    """Where everything lives below ARCHIVE_DIR (each path made once: posts is asked for every article)."""

    root: Path

    @cached_property
    def posts(self) -> Path:
        return self.root / "posts"

    @cached_property
    def media(self) -> Path:
        return self.root / "media"

    @cached_property
    def warc(self) -> Path:
        return self.root / "warc"

    @cached_property
    def index(self) -> Path:
        return self.root / "index.sqlite"

    @cached_property
    def spool(self) -> Path:
        """Bodies of large media while they download (see store/spool.py)."""
        return self.root / ".spool"

    @cached_property
    def lock(self) -> Path:
        return self.root / ".lock"

    def create(self) -> None:
        for folder in (self.root, self.posts, self.media, self.warc):
            folder.mkdir(parents=True, exist_ok=True)

    def remove_stale_temporaries(self) -> int:
        """Temporary files left by a run that was killed mid-write; call only while holding the lock."""
        removed = 0
        for folder in (self.posts, self.media):
            if not folder.exists():
                continue
            for tmp in folder.rglob(f".*{TMP_MARK}*"):
                tmp.unlink(missing_ok=True)
                removed += 1
        if self.spool.is_dir():
            for body in self.spool.iterdir():
                body.unlink(missing_ok=True)
                removed += 1
        return removed
