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
from typing import Any, Callable, Iterator

from ..outcomes import SETTLED, Outcome

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    urlname TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT,
    published TEXT,
    status TEXT NOT NULL,            -- an Outcome: ok | not_article | gone | alias | failed
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
    first_run INTEGER,              -- the run that first saw it on this column (NULL: before runs were kept)
    PRIMARY KEY (urlname, list_url)
);
CREATE TABLE IF NOT EXISTS columns (
    list_url TEXT PRIMARY KEY,
    walked_to_end TEXT,             -- when a run last completed a walk of this column
    complete_walk_run INTEGER       -- which run that was (see walk.py)
);
CREATE TABLE IF NOT EXISTS media (           -- media files that are not (yet) archived, and why
    url TEXT PRIMARY KEY,                    -- canonical URL
    status TEXT NOT NULL,                    -- an Outcome: gone (404/410, never asked again) | failed
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_run INTEGER
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
CREATE TABLE IF NOT EXISTS payload_files (   -- which media/ file holds each payload (others link to it)
    sha1 TEXT PRIMARY KEY,
    path TEXT NOT NULL                       -- relative to media/
);
CREATE TABLE IF NOT EXISTS damage (          -- what the last `check` (or a regenerate) found wrong
    what TEXT NOT NULL,                      -- a check.Damage value: warc, digest, post_differs, ...
    place TEXT NOT NULL,                     -- the file or URL
    detail TEXT NOT NULL,
    found TEXT NOT NULL,
    PRIMARY KEY (what, place)
);
"""

MAX_BACKOFF_RUNS = 16  # a story or media file that keeps failing is still tried at least every 16 runs


def retry_due(attempts: int, last_run: int | None, current_run: int) -> bool:
    """Retry a failure now? After n failed attempts, wait 1, 2, 4, ... (at most 16) runs: bounded back-off."""
    if last_run is None or attempts <= 0:
        return True
    wait = min(2 ** (attempts - 1), MAX_BACKOFF_RUNS)
    return current_run - last_run >= wait


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
    last_run: int | None = None
    media_attempts: int = 0


class ArchiveIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.run_id = 0  # the run in progress, set by start_run
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        for name, kind in (("media_missing", "INTEGER NOT NULL DEFAULT 0"), ("story_key", "TEXT"),
                           ("last_run", "INTEGER"),
                           ("media_attempts", "INTEGER NOT NULL DEFAULT 0")):
            if name not in columns:  # archives made before this column existed
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {name} {kind}")
        if "first_run" not in {row[1] for row in self.db.execute("PRAGMA table_info(sightings)")}:
            self.db.execute("ALTER TABLE sightings ADD COLUMN first_run INTEGER")
        if "complete_walk_run" not in {row[1] for row in self.db.execute("PRAGMA table_info(columns)")}:
            self.db.execute("ALTER TABLE columns ADD COLUMN complete_walk_run INTEGER")
            # A column walked before runs were remembered: what was archived then (settled_run NULL) is old.
            self.db.execute("UPDATE columns SET complete_walk_run=0 WHERE walked_to_end IS NOT NULL")
        self.db.execute("CREATE INDEX IF NOT EXISTS articles_story ON articles (story_key)")
        self.db.execute("CREATE INDEX IF NOT EXISTS articles_path ON articles (path)")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several changes that must land together (the connection otherwise commits each statement).

        Inside a batch (or another transaction) it is a savepoint: all or nothing still, committed with
        the batch."""
        if self.db.in_transaction:
            self.db.execute("SAVEPOINT nested")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK TO nested")
                self.db.execute("RELEASE nested")
                raise
            self.db.execute("RELEASE nested")
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextlib.contextmanager
    def batched(self, every: int = 500) -> Iterator[Callable[[], None]]:
        """Many small writes (a regenerate's pages) committed every `every` steps instead of one by one:
        the caller calls the yielded function once a step. What a crash loses is redone by running again
        (regenerate writes nothing the index alone would know)."""
        steps = 0

        def step() -> None:
            nonlocal steps
            steps += 1
            if steps % every == 0:
                self.db.execute("COMMIT")
                self.db.execute("BEGIN IMMEDIATE")

        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield step
        except BaseException:
            try:
                self.db.execute("COMMIT")  # what was done is done: the files of those pages are written
            except sqlite3.Error:
                self.db.execute("ROLLBACK")  # the next regenerate writes it again
            raise
        self.db.execute("COMMIT")

    # -- articles -------------------------------------------------------------

    def article(self, urlname: str) -> ArticleRow | None:
        row = self.db.execute("SELECT * FROM articles WHERE urlname=?", (urlname,)).fetchone()
        return ArticleRow(*row) if row else None

    def is_known(self, urlname: str) -> bool:
        row = self.db.execute("SELECT status FROM articles WHERE urlname=?", (urlname,)).fetchone()
        return bool(row) and row[0] in SETTLED

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
                   warc_file, warc_offset, attempts, first_fetched, last_fetched, media_missing, story_key,
                   last_run, media_attempts)
               VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?, ?, 1, ?, ?, COALESCE(?, 0), ?, ?,
                       CASE WHEN COALESCE(?, 0) > 0 THEN 1 ELSE 0 END)
               ON CONFLICT(urlname) DO UPDATE SET url=excluded.url, title=excluded.title,
                   published=excluded.published, status='ok', reason=NULL, content_sha1=excluded.content_sha1,
                   path=excluded.path, warc_file=COALESCE(excluded.warc_file, warc_file),
                   warc_offset=COALESCE(excluded.warc_offset, warc_offset), attempts=attempts+1,
                   first_fetched=COALESCE(first_fetched, excluded.first_fetched), last_fetched=excluded.last_fetched,
                   media_missing=COALESCE(?, media_missing), story_key=excluded.story_key,
                   last_run=excluded.last_run,
                   media_attempts=CASE WHEN ? IS NULL THEN media_attempts WHEN ? > 0 THEN media_attempts+1 ELSE 0 END""",
            (urlname, url, title, published, content_sha1, path, warc_file, warc_offset, fetched_at, fetched_at,
             media_missing, story_key, self.run_id, media_missing, media_missing, media_missing,
             media_missing),
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
        """Archived articles with media still worth asking for (failed, not gone), whose back-off is over."""
        rows = self.db.execute(
            "SELECT * FROM articles WHERE status='ok' AND media_missing > 0 AND warc_file IS NOT NULL ORDER BY url")
        out = [ArticleRow(*row) for row in rows]
        return [r for r in out if retry_due(r.media_attempts, r.last_run, self.run_id)]

    def path_owner(self, path: str) -> str | None:
        """The URL of the archived article that holds this Markdown path, if any."""
        row = self.db.execute("SELECT url FROM articles WHERE path=? AND status='ok' LIMIT 1", (path,)).fetchone()
        return row[0] if row else None

    # -- media that are not archived ---------------------------------------------------------

    def media_outcome(self, url: str) -> tuple[Outcome, str | None, int, int | None] | None:
        row = self.db.execute("SELECT status, reason, attempts, last_run FROM media WHERE url=?", (url,)).fetchone()
        return (Outcome(row[0]), row[1], row[2], row[3]) if row else None

    def media_settled(self, url: str) -> bool:
        """Gone (404/410) or refused by policy: plain runs do not ask for it again."""
        state = self.media_outcome(url)
        return state is not None and state[0] in (Outcome.GONE, Outcome.REFUSED)

    def record_media(self, url: str, outcome: Outcome, reason: str = "") -> None:
        """A media file's outcome; an archived file needs no row (its bytes are the record)."""
        if outcome is Outcome.ARCHIVED:
            self.db.execute("DELETE FROM media WHERE url=?", (url,))
            return
        self.db.execute(
            """INSERT INTO media (url, status, reason, attempts, last_run) VALUES (?, ?, ?, 1, ?)
               ON CONFLICT(url) DO UPDATE SET status=excluded.status, reason=excluded.reason,
                   attempts=attempts+1, last_run=excluded.last_run""",
            (url, outcome.value, reason, self.run_id))

    def media_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM media GROUP BY status").fetchall())

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

    def record_outcome(self, *, urlname: str, url: str, status: Outcome, reason: str,
                       fetched_at: str | None = None) -> None:
        """A page that is not (or not yet) an archived article: not_article, gone, alias or failed."""
        status = Outcome(status)
        existing = self.article(urlname)
        if existing is not None and existing.status == Outcome.ARCHIVED and status is Outcome.FAILED:
            # A failed refetch never demotes an article we already hold.
            self.db.execute("UPDATE articles SET reason=? WHERE urlname=?", (reason, urlname))
            return
        # Attempts count consecutive failures (the back-off); a settled outcome starts the count again.
        self.db.execute(
            """INSERT INTO articles (urlname, url, status, reason, attempts, first_fetched, last_fetched, last_run)
               VALUES (?, ?, ?, ?, 1, ?, ?, ?)
               ON CONFLICT(urlname) DO UPDATE SET status=excluded.status, reason=excluded.reason,
                   attempts=CASE WHEN excluded.status='failed' AND status='failed' THEN attempts+1 ELSE 1 END,
                   last_fetched=COALESCE(excluded.last_fetched, last_fetched),
                   last_run=excluded.last_run""",
            (urlname, url, status.value, reason, fetched_at, fetched_at, self.run_id),
        )

    def failed_urls(self, due_only: bool = True) -> list[str]:
        """Stories that failed in earlier runs and are due for another try (bounded back-off)."""
        rows = self.db.execute("SELECT url, attempts, last_run FROM articles WHERE status='failed' ORDER BY url")
        return [url for url, attempts, last_run in rows
                if not due_only or retry_due(attempts, last_run, self.run_id)]

    def record_sighting(self, urlname: str, list_url: str, column_key: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sightings (urlname, list_url, column_key, first_seen, first_run) "
            "VALUES (?, ?, ?, ?, ?)",
            (urlname, list_url, column_key, now(), self.run_id),
        )

    def sighting_run(self, urlname: str, list_url: str) -> int | None:
        """The run that first saw this story on this column (0: before runs were kept); None: never seen."""
        row = self.db.execute("SELECT first_run FROM sightings WHERE urlname=? AND list_url=?",
                              (urlname, list_url)).fetchone()
        if not row:
            return None
        return row[0] if row[0] is not None else 0

    # -- columns and runs ----------------------------------------------------------

    def complete_walk_run(self, list_url: str) -> int | None:
        """The run that last completed a walk of this column (see walk.py); None if none ever did."""
        row = self.db.execute("SELECT complete_walk_run FROM columns WHERE list_url=?", (list_url,)).fetchone()
        return row[0] if row else None

    def columns_incomplete(self) -> list[str]:
        """Columns seen by some run that no run has walked completely yet."""
        return [r[0] for r in self.db.execute(
            "SELECT list_url FROM columns WHERE complete_walk_run IS NULL ORDER BY list_url")]

    def note_column(self, list_url: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO columns (list_url) VALUES (?)", (list_url,))

    def mark_column_complete(self, list_url: str, run_id: int) -> None:
        self.db.execute(
            "INSERT INTO columns (list_url, walked_to_end, complete_walk_run) VALUES (?, ?, ?) "
            "ON CONFLICT(list_url) DO UPDATE SET walked_to_end=excluded.walked_to_end, "
            "complete_walk_run=excluded.complete_walk_run",
            (list_url, now(), run_id),
        )

    def start_run(self, kind: str, args: dict[str, Any]) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (kind, started, args) VALUES (?, ?, ?)", (kind, now(), json.dumps(args, ensure_ascii=False))
        )
        self.run_id = int(cur.lastrowid or 0)
        return self.run_id

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

    def payload_file(self, sha1: str) -> str | None:
        row = self.db.execute("SELECT path FROM payload_files WHERE sha1=?", (sha1,)).fetchone()
        return row[0] if row else None

    def remember_payload_file(self, sha1: str, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO payload_files (sha1, path) VALUES (?, ?)", (sha1, path))

    def replace_damage(self, findings: list[tuple[str, str, str]]) -> None:
        """The damage a full check found, (what, place, detail) each, in place of what was known before."""
        with self.transaction():
            self.db.execute("DELETE FROM damage")
            self.add_damage(findings)

    def add_damage(self, findings: list[tuple[str, str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO damage (what, place, detail, found) VALUES (?, ?, ?, ?)",
                            [(what, place, detail, now()) for what, place, detail in findings])

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
