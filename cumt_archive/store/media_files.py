"""media/: a file per URL (its name says which), and one copy per payload.

Files are named by the URL (`media_relpath`), so posts can link them and nothing a server says reaches
the file system. The same bytes under another URL (an image used by two articles, a cross-post, a copy
on another host) become a hard link to the file already holding them: one copy on disk, as the WARC
keeps one record per payload.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .files import TMP_MARK
from .index import ArchiveIndex


def file_sha1(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


class MediaFiles:
    def __init__(self, root: Path, index: ArchiveIndex) -> None:
        self.root = root
        self.index = index

    def share_payload(self, relpath: str, sha1: str | None = None) -> bool:
        """After media/relpath was written: make it a hard link to an earlier file with the same bytes, if
        there is one, else remember it as the payload's file. True when it now shares another's copy.
        sha1 (hex) is the file's digest when the caller already took it."""
        path = self.root / relpath
        sha1 = sha1 or file_sha1(path)
        holder = self.index.payload_file(sha1)
        if holder is not None and holder != relpath:
            source = self.root / holder
            try:
                same = source.stat()
                if same.st_size == path.stat().st_size and not os.path.samefile(source, path) \
                        and file_sha1(source) == sha1:
                    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
                    tmp.unlink(missing_ok=True)
                    os.link(source, tmp)
                    os.replace(tmp, path)  # atomic: the name holds the old copy or the link, never neither
                    return True
                if same.st_size == path.stat().st_size and os.path.samefile(source, path):
                    return True
            except OSError:
                pass  # the holder is gone or links are not possible here: this file becomes the holder
        self.index.remember_payload_file(sha1, relpath)
        return False
