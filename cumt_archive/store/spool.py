"""A response body written to disk as it arrives, with its digests taken on the way.

Large media (videos, big attachments) must not sit in memory while they download, nor be copied
there afterwards: the downloader writes their bytes here chunk by chunk, the WARC record is
compressed from this file, and media/ gets a hard link to it. The file lives in the archive's
`.spool/` folder, on the same file system as media/, so the link costs no copy; it is deleted when
the last holder lets go of it, and a killed run's leftovers are removed by the next run.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .files import TMP_MARK

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileBytes:
    """A file's bytes as a WARC payload (store.warc.FileBody): read in chunks, never whole."""

    path: Path
    length: int

    @classmethod
    def of(cls, path: Path) -> "FileBytes":
        return cls(path, path.stat().st_size)

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def head(self, size: int) -> bytes:
        with open(self.path, "rb") as handle:
            return handle.read(size)


class SpooledBody:
    """A growing file with the running sha1 (WARC payload digest) and md5 (FilesPipeline's checksum)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"body{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex}"
        self._handle = open(self.path, "wb")
        self.length = 0
        self._sha1 = hashlib.sha1()
        self._md5 = hashlib.md5()
        # Whoever drops the last reference (a response, a failed download) takes the file with it.
        self._finalizer = weakref.finalize(self, _discard, self._handle, self.path)

    # -- the file-like side the downloader writes to ---------------------------------------

    def write(self, data: bytes) -> int:
        self._handle.write(data)
        self._sha1.update(data)
        self._md5.update(data)
        self.length += len(data)
        return len(data)

    def truncate(self, size: int = 0) -> None:
        """What the downloader calls when a body grew past its size limit: the bytes are not kept."""
        self._handle.truncate(size)
        self._handle.seek(size)
        if size == 0:
            self.length = 0
            self._sha1, self._md5 = hashlib.sha1(), hashlib.md5()

    def getvalue(self) -> bytes:
        """The downloader asks for the body when the response ends: the body stays on disk."""
        self.finish()
        return b""

    def finish(self) -> None:
        if not self._handle.closed:
            self._handle.close()

    # -- reading it back --------------------------------------------------------------------

    @property
    def sha1(self) -> "hashlib._Hash":
        return self._sha1.copy()

    @property
    def md5_hex(self) -> str:
        return self._md5.hexdigest()

    def head(self, size: int) -> bytes:
        return FileBytes(self.path, self.length).head(size)

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks()

    def chunks(self) -> Iterator[bytes]:
        return iter(FileBytes(self.path, self.length))

    def link_to(self, target: Path) -> None:
        """target becomes these bytes, atomically (a hard link, or a copy where links cannot be made)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}{TMP_MARK}{os.getpid()}")
        tmp.unlink(missing_ok=True)
        try:
            os.link(self.path, tmp)
        except OSError:
            with open(tmp, "wb") as out:
                for chunk in self.chunks():
                    out.write(chunk)
        os.replace(tmp, target)

    def discard(self) -> None:
        self._finalizer()


def _discard(handle, path: Path) -> None:  # type: ignore[no-untyped-def]
    try:
        handle.close()
    except OSError:
        pass
    path.unlink(missing_ok=True)
