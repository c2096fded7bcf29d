"""`cumt-archive status`: what an archive holds and how its runs went, read-only.

The index is opened with SQLite's `mode=ro` (and, on a read-only filesystem where SQLite cannot make
its WAL side files, `immutable=1`), so status works on an archive nobody may write, never takes the
run lock, and never changes a byte.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .archive import IndexDamaged
from .store.files import ArchiveLayout

RUNS_SHOWN = 5
LISTED = 20  # failed stories, missing media... listed in the table (all of them in --json)


class StatusError(ValueError):
    """No archive here; the message names the path."""


class IndexUnreadable(StatusError):
    """An index SQLite cannot read (damaged, not a database); the message names the file."""


@dataclass(frozen=True)
class RunRow:
    id: int
    kind: str
    started: str
    finished: str | None
    exit_status: int | None
    args: dict[str, Any]
    counts: dict[str, int]


@dataclass(frozen=True)
class StoryRow:
    url: str
    reason: str
    attempts: int = 0


@dataclass
class ArchiveStatus:
    archive: str
    stories: dict[str, int]  # by index status: archived, failed, not_article, gone, alias
    not_archived: dict[str, int]  # not articles and gone, by reason
    failed: list[StoryRow]
    missing_media: list[StoryRow]
    columns_not_walked: list[str]
    files: dict[str, int]
    runs: list[RunRow] = field(default_factory=list)
    damage: list[StoryRow] = field(default_factory=list)  # what the last check found: what, file or URL

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def reason_key(reason: str | None) -> str:
    """The kind of a recorded reason, for counting: `campus_only: 校内地址...` -> `campus_only`,
    `redirects off-site to https://...` -> `redirects off-site`, `HTTP 404` stays."""
    if not reason:
        return "unknown"
    text = reason.split(": ", 1)[0].strip()
    for cut in (" to http", " (", " -> "):
        if cut in text:
            text = text.split(cut, 1)[0]
    return text or "unknown"


def columns_asked(args: dict[str, Any], profile_name: str | None) -> list[str]:
    """The column entry pages a crawl with these arguments set out to walk: `lists`, the profile's
    `columns` by key, or every column of the profile. [] when the profile cannot be read."""
    if args.get("lists"):
        return list(args["lists"])
    from .profile import ProfileError, load_profile

    try:
        profile = load_profile(profile_name)
    except ProfileError:
        return []
    keys = set(args.get("columns") or ())
    return [c.list_url for c in profile.columns if not keys or c.key in keys]


def connect_read_only(index: Path) -> sqlite3.Connection:
    base = "file:" + quote(str(index.resolve()))
    try:
        db = sqlite3.connect(base + "?mode=ro", uri=True)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError:
        pass
    # A WAL database on a read-only filesystem: nobody can be writing it, so read it as immutable.
    try:
        db = sqlite3.connect(base + "?mode=ro&immutable=1", uri=True)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.DatabaseError as exc:
        raise IndexUnreadable(str(IndexDamaged(index, exc))) from exc


def _count_files(folder: Path, pattern: str) -> int:
    try:
        return sum(1 for p in folder.rglob(pattern) if p.is_file() and not p.name.startswith("."))
    except OSError:
        return 0


def read_status(root: Path) -> ArchiveStatus:
    layout = ArchiveLayout(Path(root))
    if not layout.index.is_file():
        raise StatusError(f"{root}: no archive here (no {layout.index.name})")
    db = connect_read_only(layout.index)
    try:
        stories = {("archived" if status == "ok" else status): n for status, n in
                   db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status ORDER BY status")}
        not_archived: dict[str, int] = {}
        for status, reason, n in db.execute(
                "SELECT status, reason, COUNT(*) FROM articles WHERE status IN ('not_article', 'gone') "
                "GROUP BY status, reason"):
            key = reason_key(reason) if status == "not_article" else f"gone ({reason or 'unknown'})"
            not_archived[key] = not_archived.get(key, 0) + n
        failed = [StoryRow(url, reason or "", attempts) for url, reason, attempts in db.execute(
            "SELECT url, reason, attempts FROM articles WHERE status='failed' ORDER BY url")]
        missing = [StoryRow(url, f"{n} media file(s) missing", 0) for url, n in db.execute(
            "SELECT url, media_missing FROM articles WHERE status='ok' AND media_missing > 0 ORDER BY url")]
        walked = {url for (url,) in db.execute("SELECT list_url FROM columns WHERE walked_to_end IS NOT NULL")}
        seen = {url for (url,) in db.execute("SELECT DISTINCT list_url FROM sightings")}
        last_crawl = db.execute("SELECT args FROM runs WHERE kind='crawl' ORDER BY id DESC LIMIT 1").fetchone()
        profile = db.execute("SELECT value FROM meta WHERE key='profile'").fetchone()
        asked = columns_asked(json.loads(last_crawl[0] or "{}") if last_crawl else {}, profile[0] if profile else None)
        columns = sorted((seen | set(asked)) - walked)
        try:
            damage = [StoryRow(place, f"{what}: {detail}") for what, place, detail in db.execute(
                "SELECT what, place, detail FROM damage ORDER BY what, place")]
        except sqlite3.OperationalError:  # an archive from before damage was recorded
            damage = []
        runs = [RunRow(i, kind, started, finished, exit_status, json.loads(args or "{}"), json.loads(counts or "{}"))
                for i, kind, started, finished, exit_status, args, counts in db.execute(
                    "SELECT id, kind, started, finished, exit_status, args, counts FROM runs ORDER BY id DESC LIMIT ?",
                    (RUNS_SHOWN,))]
    except sqlite3.DatabaseError as exc:
        raise IndexUnreadable(str(IndexDamaged(layout.index, exc))) from exc
    finally:
        db.close()
    files = {"posts": _count_files(layout.posts, "*.md"), "media": _count_files(layout.media, "*"),
             "warc": _count_files(layout.warc, "*.warc.gz")}
    return ArchiveStatus(str(layout.root.resolve()), stories, dict(sorted(not_archived.items())), failed, missing,
                         columns, files, runs, damage)


def _counts_text(counts: dict[str, int]) -> str:
    shown = {k: v for k, v in counts.items() if v}
    return " ".join(f"{k}={v}" for k, v in shown.items()) or "nothing done"


def format_table(status: ArchiveStatus) -> str:
    """The report for a person: sections, aligned, each list cut at LISTED lines."""
    s = status.stories
    lines = [f"archive {status.archive}",
             f"  stories    {s.get('archived', 0)} archived, {s.get('failed', 0)} failed (retried next run), "
             f"{s.get('not_article', 0)} not articles, {s.get('gone', 0)} gone, "
             f"{s.get('alias', 0)} cross-posts of archived stories",
             f"  files      {status.files['posts']} Markdown, {status.files['media']} media, "
             f"{status.files['warc']} WARC"]
    if status.not_archived:
        lines.append("  not archived, by reason:")
        width = max(len(k) for k in status.not_archived)
        lines += [f"    {k:<{width}}  {n}" for k, n in status.not_archived.items()]
    for title, rows in (("failed stories (retried next run)", status.failed),
                        ("articles with missing media (fetched again next run)", status.missing_media),
                        ("damage found by the last check (`cumt-archive check --repair` mends what it can)",
                         status.damage)):
        if rows:
            lines.append(f"  {title}: {len(rows)}")
            lines += [f"    {r.url}  {r.reason}" for r in rows[:LISTED]]
            if len(rows) > LISTED:
                lines.append(f"    ... and {len(rows) - LISTED} more (status --json lists all)")
    if status.columns_not_walked:
        lines.append(f"  columns not walked to the end yet: {len(status.columns_not_walked)}")
        lines += [f"    {url}" for url in status.columns_not_walked[:LISTED]]
    lines.append("  last runs:")
    if not status.runs:
        lines.append("    none")
    for run in status.runs:
        state = f"exit {run.exit_status}" if run.finished else "did not finish"
        lines.append(f"    #{run.id:<4} {run.kind:<10} {run.started}  {state:<14} {_counts_text(run.counts)}")
    return "\n".join(lines)


# The output settings an archive remembers (written by every crawl and regenerate), by meta key.
REMEMBERED = {"profile": "profile", "render.layout": "layout", "render.media_links": "media links"}


def remembered_settings(root: Path) -> dict[str, str]:
    """The archive's own output settings (profile, layout, media links), read-only; {} for a new archive."""
    index = ArchiveLayout(Path(root)).index
    if not index.is_file():
        return {}
    db = connect_read_only(index)
    try:
        keys = tuple(REMEMBERED)
        rows = db.execute(f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(keys))})", keys)
        return {key: value for key, value in rows}
    except sqlite3.DatabaseError:
        return {}
    finally:
        db.close()


def output_settings(settings: Any, remembered: dict[str, str]) -> dict[str, str]:
    """A crawl's layout and media links: `-s MARKDOWN_...` on the command line (or any priority above
    settings.py) wins and is remembered; otherwise the archive's own; otherwise settings.py's default."""
    from scrapy.settings import SETTINGS_PRIORITIES

    chosen = {}
    for key, name in (("render.layout", "MARKDOWN_LAYOUT"), ("render.media_links", "MARKDOWN_MEDIA_LINKS")):
        explicit = (settings.getpriority(name) or 0) > SETTINGS_PRIORITIES["project"]
        chosen[key] = settings.get(name) if explicit or key not in remembered else remembered[key]
    return chosen
