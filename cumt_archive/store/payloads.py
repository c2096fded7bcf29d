"""Which payloads the archive already holds, so a refetch of the same bytes becomes a revisit record.

A table of its own in the archive's index: payload digest -> the response record holding it. This is
the identical-payload-digest deduplication of Heritrix and Browsertrix: the bytes are stored once,
later captures of them (a refresh, the same image in two articles, a cross-post) say where they are.
"""

from __future__ import annotations

import sqlite3

from .warc import RevisitTarget, WarcRef

SCHEMA = """
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT PRIMARY KEY,        -- WARC-Payload-Digest of the response record, sha1:BASE32
    url TEXT NOT NULL,
    warc_date TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL
);
"""


class PayloadStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SCHEMA)

    def find(self, digest: str) -> RevisitTarget | None:
        row = self.db.execute("SELECT url, warc_date, warc_file, warc_offset FROM payloads WHERE digest=?",
                              (digest,)).fetchone()
        if row is None:
            return None
        return RevisitTarget(row[0], row[1], digest, WarcRef(row[2], int(row[3])))

    def add(self, digest: str, url: str, warc_date: str, ref: WarcRef) -> None:
        self.db.execute("INSERT OR IGNORE INTO payloads (digest, url, warc_date, warc_file, warc_offset) "
                        "VALUES (?, ?, ?, ?, ?)", (digest, url, warc_date, ref.file, ref.offset))
