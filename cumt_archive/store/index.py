"""The archive's SQLite index: articles, where they were seen, runs, column walks.

Every change is one transaction, so a killed run leaves the index as it was
after its last whole step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    urlname TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT,
    published TEXT,
    status TEXT NOT NULL,            -- ok | not_article | gone | alias | failed
    reason TEXT,                     -- why not an article / the last error
    content_sha1 TEXT,               -- of the rendered Markdown
    path TEXT,                       -- Markdown file, relative to the archive
    warc_file TEXT,
    warc_offset INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_fetched TEXT,
    last_fetched TEXT,
    media_missing INTEGER NOT NULL DEFAULT 0,  -- images/attachments that failed; fetched again next run
    story_key TEXT                             -- same story under another URL (VSB cross-posts) shares it
);
CREATE TABLE IF NOT EXISTS captures (        -- every WARC response record: URL -> where it is
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    PRIMARY KEY (warc_file, warc_offset)
);
CREATE INDEX IF NOT EXISTS captures_url ON captures (url);
CREATE TABLE IF NOT EXISTS sightings (
    urlname TEXT NOT NULL,
    list_url TEXT NOT NULL,
    column_key TEXT,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (urlname, list_url)
);
CREATE TABLE IF NOT EXISTS columns (
    list_url TEXT PRIMARY KEY,
    walked_to_end TEXT              -- when a run last followed this column to its last page
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    exit_status INTEGER,
    args TEXT,
    counts TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

KNOWN = ("ok", "not_article", "gone", "alias")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ArticleRow:
    urlname: str
    url: str
    title: str | None
    published: str | None
    status: str
    reason: str | None
    content_sha1: str | None
    path: str | None
    warc_file: str | None
    warc_offset: int | None
    attempts: int
    first_fetched: str | None
    last_fetched: str | None
    media_missing: int
    story_key: str | None


class ArchiveIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        for name, kind in (("media_missing", "INTEGER NOT NULL DEFAULT 0"), ("story_key", "TEXT")):
            if name not in columns:  # archives made before this column existed
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
        self.db.execute("CREATE INDEX IF NOT EXISTS articles_story ON articles (story_key)")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several changes that must land together (the connection otherwise commits each statement)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- articles -------------------------------------------------------------

    def article(self, urlname: str) -> ArticleRow | None:
        row = self.db.execute("SELECT * FROM articles WHERE urlname=?", (urlname,)).fetchone()
        return ArticleRow(*row) if row else None

    def is_known(self, urlname: str) -> bool:
        row = self.db.execute("SELECT status FROM articles WHERE urlname=?", (urlname,)).fetchone()
        return bool(row) and row[0] in KNOWN

    def articles(self, status: str | None = None) -> Iterator[ArticleRow]:
        query = "SELECT * FROM articles" + (" WHERE status=?" if status else "") + " ORDER BY urlname"
        for row in self.db.execute(query, (status,) if status else ()):
            yield ArticleRow(*row)

    def record_article(
        self, *, urlname: str, url: str, title: str, published: str, content_sha1: str, path: str,
        warc_file: str | None, warc_offset: int | None, fetched_at: str, media_missing: int | None = None,
        story_key: str | None = None,
    ) -> None:
        self.db.execute(
            """INSERT INTO articles (urlname, url, title, published, status, reason, content_sha1, path,
                   warc_file, warc_offset, attempts, first_fetched, last_fetched, media_missing, story_key)
               VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?, ?, 1, ?, ?, COALESCE(?, 0), ?)
               ON CONFLICT(urlname) DO UPDATE SET url=excluded.url, title=excluded.title,
                   published=excluded.published, status='ok', reason=NULL, content_sha1=excluded.content_sha1,
                   path=excluded.path, warc_file=COALESCE(excluded.warc_file, warc_file),
                   warc_offset=COALESCE(excluded.warc_offset, warc_offset), attempts=attempts+1,
                   first_fetched=COALESCE(first_fetched, excluded.first_fetched), last_fetched=excluded.last_fetched,
                   media_missing=COALESCE(?, media_missing), story_key=excluded.story_key""",
            (urlname, url, title, published, content_sha1, path, warc_file, warc_offset, fetched_at, fetched_at,
             media_missing, story_key, media_missing),
        )

    def story_owner(self, story_key: str, urlname: str) -> ArticleRow | None:
        """Another archived article holding the same story, if any."""
        row = self.db.execute(
            "SELECT * FROM articles WHERE story_key=? AND urlname!=? AND status='ok' ORDER BY url LIMIT 1",
            (story_key, urlname)).fetchone()
        return ArticleRow(*row) if row else None

    def orphaned_posts(self) -> list[str]:
        """Markdown files of stories that moved to a better URL but whose old file a killed run left behind."""
        return [r[0] for r in self.db.execute(
            "SELECT path FROM articles WHERE status='alias' AND path IS NOT NULL "
            "AND path NOT IN (SELECT path FROM articles WHERE status='ok' AND path IS NOT NULL)")]

    def status_of(self, urlname: str) -> str | None:
        row = self.db.execute("SELECT status FROM articles WHERE urlname=?", (urlname,)).fetchone()
        return row[0] if row else None

    def articles_missing_media(self) -> list[ArticleRow]:
        rows = self.db.execute(
            "SELECT * FROM articles WHERE status='ok' AND media_missing > 0 AND warc_file IS NOT NULL ORDER BY url")
        return [ArticleRow(*row) for row in rows]

    def record_capture(self, url: str, status: int, fetched_at: str, warc_file: str, warc_offset: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO captures (url, status, fetched_at, warc_file, warc_offset) VALUES (?, ?, ?, ?, ?)",
            (url, status, fetched_at, warc_file, warc_offset),
        )

    def capture_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0])

    def captures_of(self, url: str) -> list[tuple[str, int]]:
        """(WARC file, offset) of every capture of a URL, oldest first."""
        return list(self.db.execute(
            "SELECT warc_file, warc_offset FROM captures WHERE url=? ORDER BY fetched_at, warc_file, warc_offset",
            (url,)))

    def record_outcome(self, *, urlname: str, url: str, status: str, reason: str, fetched_at: str | None = None) -> None:
        """A page that is not (or not yet) an archived article: not_article, gone or failed."""
        existing = self.article(urlname)
        if existing is not None and existing.status == "ok" and status == "failed":
            # A failed refetch never demotes an article we already hold.
            self.db.execute("UPDATE articles SET reason=? WHERE urlname=?", (reason, urlname))
            return
        self.db.execute(
            """INSERT INTO articles (urlname, url, status, reason, attempts, first_fetched, last_fetched)
               VALUES (?, ?, ?, ?, 1, ?, ?)
               ON CONFLICT(urlname) DO UPDATE SET status=excluded.status, reason=excluded.reason,
                   attempts=attempts+1, last_fetched=COALESCE(excluded.last_fetched, last_fetched)""",
            (urlname, url, status, reason, fetched_at, fetched_at),
        )

    def failed_urls(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT url FROM articles WHERE status='failed' ORDER BY url")]

    def record_sighting(self, urlname: str, list_url: str, column_key: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sightings (urlname, list_url, column_key, first_seen) VALUES (?, ?, ?, ?)",
            (urlname, list_url, column_key, now()),
        )

    # -- columns and runs ----------------------------------------------------------

    def column_walked(self, list_url: str) -> bool:
        row = self.db.execute("SELECT walked_to_end FROM columns WHERE list_url=?", (list_url,)).fetchone()
        return bool(row and row[0])

    def mark_column_walked(self, list_url: str) -> None:
        self.db.execute(
            "INSERT INTO columns (list_url, walked_to_end) VALUES (?, ?) "
            "ON CONFLICT(list_url) DO UPDATE SET walked_to_end=excluded.walked_to_end",
            (list_url, now()),
        )

    def start_run(self, kind: str, args: dict[str, Any]) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (kind, started, args) VALUES (?, ?, ?)", (kind, now(), json.dumps(args, ensure_ascii=False))
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, exit_status: int, counts: dict[str, int]) -> None:
        self.db.execute(
            "UPDATE runs SET finished=?, exit_status=?, counts=? WHERE id=?",
            (now(), exit_status, json.dumps(counts, ensure_ascii=False, sort_keys=True), run_id),
        )

    def runs(self, limit: int = 5) -> list[tuple[Any, ...]]:
        return list(self.db.execute(
            "SELECT id, kind, started, finished, exit_status, counts FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        ))

    def status_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status").fetchall())

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
