"""Atomic file writes, and the archive's directory layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TMP_MARK = ".tmp-"


def atomic_write(path: Path, data: bytes, *, skip_if_same: bool = True, durable: bool = True) -> bool:
    """Write via a temporary file in the same directory and rename; False when the file already held data.

    The rename makes the write atomic for any crash of the process; `durable` also syncs the data to
    disk first, so a power cut cannot leave an empty file behind the new name either.
    """
    if skip_if_same:
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    return True


@dataclass(frozen=True)
class ArchiveLayout:
    """Where everything lives below ARCHIVE_DIR."""

    root: Path

    @property
    def posts(self) -> Path:
        return self.root / "posts"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def warc(self) -> Path:
        return self.root / "warc"

    @property
    def index(self) -> Path:
        return self.root / "index.sqlite"

    @property
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
        return removed
