"""One run at a time per archive: an flock that the kernel drops when its process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ArchiveBusy(RuntimeError):
    """Another crawl or regenerate holds the archive."""


class ArchiveLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise ArchiveBusy(
                f"{self.path.parent}: another run holds the archive (pid {holder or 'unknown'}); try again when it ends"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "ArchiveLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
