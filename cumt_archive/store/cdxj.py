"""The archive's CDXJ index of its WARC files, in the format pywb and `cdxj-indexer` read and write.

`indexes/<warc file>.cdxj` holds each closed WARC file's lines (written by the crawl as it writes
the records, in cdxj-indexer's exact format; for any other WARC file, by Webrecorder's cdxj-indexer
itself), and `indexes/index.cdxj` all of them merged in sort order: the index a replay tool
loads (pywb: `cdx-indexer`-style "cdxj" source, or copy it beside the WARCs). It is brought up to
date after every run; merging streams the sorted files, so memory does not grow with the archive.
"""

from __future__ import annotations

import heapq
import logging
import os
from contextlib import ExitStack
from pathlib import Path

from .warc import warc_files

logger = logging.getLogger(__name__)
INDEX_NAME = "index.cdxj"


def indexes_folder(root: Path) -> Path:
    return root / "indexes"


def index_warc(warc: Path, out: Path) -> None:
    """One WARC file -> its sorted CDXJ lines, written atomically."""
    from cdxj_indexer import CDXJIndexer  # only for WARC files the crawl did not index as it wrote them

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    CDXJIndexer(output=str(tmp), inputs=[str(warc)], sort=True, post_append=True).process_all()
    os.replace(tmp, out)


def update_cdxj(root: Path) -> Path:
    """Index every WARC file not indexed yet, drop the lines of files that are gone, merge: indexes/index.cdxj."""
    folder = indexes_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    warcs = warc_files(root / "warc")
    names = {w.name for w in warcs}
    for warc in warcs:
        part = folder / f"{warc.name}.cdxj"
        # A WARC file changed after it was indexed (cut back after a crash) is indexed again.
        if not part.exists() or part.stat().st_mtime_ns < warc.stat().st_mtime_ns:
            index_warc(warc, part)
    for stale in folder.glob("*.warc.gz.cdxj"):
        if stale.name[: -len(".cdxj")] not in names:
            stale.unlink()
    for partial in folder.glob("*.cdxj.open"):  # lines of a run that was killed: its file was indexed above
        partial.unlink()
    merged = folder / INDEX_NAME
    tmp = merged.with_name(f".{merged.name}.tmp-{os.getpid()}")
    with ExitStack() as stack, open(tmp, "w", encoding="utf-8") as out:
        parts = [stack.enter_context(open(folder / f"{w.name}.cdxj", encoding="utf-8")) for w in warcs]
        out.writelines(line for line in heapq.merge(*parts) if not line.startswith("!"))
    os.replace(tmp, merged)
    return merged
