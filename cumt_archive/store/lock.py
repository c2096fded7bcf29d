"""One run at a time per archive: an flock that the kernel drops when its process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ArchiveBusy(RuntimeError):
    """Another crawl or regenerate holds the archive."""


# Locks this process holds, by path: the crawl command takes the lock before Scrapy starts (so a second
# run refuses at once, even when both start in the same instant) and the archive run takes it again inside.
_HELD: dict[str, list[int]] = {}  # path -> [fd, holders]


class ArchiveLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def _key(self) -> str:
        return os.path.abspath(self.path)

    def acquire(self) -> None:
        if self._fd is not None:
            return
        held = _HELD.get(self._key)
        if held is not None:
            held[1] += 1
            self._fd = held[0]
            return
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
        _HELD[self._key] = [fd, 1]

    def release(self) -> None:
        if self._fd is None:
            return
        held = _HELD.get(self._key)
        self._fd = None
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del _HELD[self._key]
            fcntl.flock(held[0], fcntl.LOCK_UN)
            os.close(held[0])

    def __enter__(self) -> "ArchiveLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
