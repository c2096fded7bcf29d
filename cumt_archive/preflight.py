"""Checks made before a command touches an archive, so that a run that cannot work creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

from .store.files import ArchiveLayout


def archive_write_problem(root: Path) -> str | None:
    """Why the archive at `root` cannot be written (one line naming the path), or None.

    `os.access` answers for read-only mounts too (EROFS), whoever runs it. Nothing is created.
    """
    root = Path(root)
    if root.exists():
        if not root.is_dir():
            return f"{root}: exists and is not a directory"
        layout = ArchiveLayout(root)
        for path in (root, layout.index, layout.lock, layout.posts, layout.media, layout.warc):
            if path.exists() and not os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0)):
                return f"{path}: cannot write here (read-only or no permission)"
        return None
    parent = root.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent}: is not a directory, cannot create {root}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent}: cannot create {root} here (read-only or no permission)"
    return None
