"""Index references that no WARC file backs any more, found and dropped when an archive is opened.

The index is written as the crawl goes, the WARC file synced only when the run closes it: after a
power cut (or a WARC file cut back by `recover_open_files`, or lost) the index may point past a
file's end or into a file that is not there. Such capture rows are dropped, and the articles whose
page they held are marked failed, so the next run fetches them again; the other articles of that
file have their media checked again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .payloads import PayloadStore


def _missing(db: sqlite3.Connection, table: str, sizes: dict[str, int]) -> list[tuple[str, int]]:
    bad = []
    for file, offset in db.execute(f"SELECT warc_file, warc_offset FROM {table} WHERE warc_file IS NOT NULL"):
        if file not in sizes or offset is None or int(offset) >= sizes[file]:
            bad.append((file, int(offset or 0)))
    return bad


def repair_dangling_refs(db: sqlite3.Connection, warc_folder: Path) -> list[str]:
    """Drop captures and payloads pointing past a WARC file's end or into a missing file; mark their
    articles for refetching. Returns one note per WARC file concerned."""
    PayloadStore(db)  # the payloads table exists from here on
    sizes = {p.name: p.stat().st_size for p in warc_folder.glob("*.warc.gz")} if warc_folder.exists() else {}
    notes: dict[str, list[int]] = {}
    for table in ("captures", "payloads", "articles"):
        for file, offset in _missing(db, table, sizes):
            counts = notes.setdefault(file, [0, 0, 0])
            counts[("captures", "payloads", "articles").index(table)] += 1
            if table == "articles":
                db.execute("UPDATE articles SET status='failed', reason=?, warc_file=NULL, warc_offset=NULL "
                           "WHERE warc_file=? AND warc_offset=?",
                           (f"its capture in {file} is lost; fetched again next run", file, offset))
            else:
                db.execute(f"DELETE FROM {table} WHERE warc_file=? AND warc_offset=?", (file, offset))
    for file, (captures, _, _) in notes.items():
        if captures:
            # Images and attachments captured past the cut are lost too, and their owners are not known
            # here: the articles of this file have their media looked at again (only media the WARC files
            # no longer hold are fetched: see OriginalMediaPipeline.media_to_download).
            db.execute("UPDATE articles SET media_missing=MAX(media_missing, 1) WHERE status='ok' AND warc_file=?",
                       (file,))
    return [f"{file}: {'missing' if file not in sizes else f'{sizes[file]} bytes'}; dropped {c} capture rows and "
            f"{p} stored-payload rows, {a} articles to be fetched again"
            for file, (c, p, a) in sorted(notes.items())]
