"""`cumt-archive check`: is the archive what it claims to be? And `--repair`: make it so, from the WARC files.

Checks, without the network:
- every WARC file reads to its end, and every record's block and payload digests are right;
- every index reference (articles and captures) points at a readable response record of that URL;
- every archived article's Markdown is what regenerate would write from its capture;
- every media file an archived article links exists (and, where the WARC holds its bytes, matches them).

`--repair` rebuilds a lost or damaged index from the WARC files, rewrites posts that differ, and marks
articles whose media files are missing so that the next plain crawl fetches them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator

from .archive import Archive
from .extract import extract_article
from .model import Article
from .outcomes import Outcome
from .status import IndexUnreadable, connect_read_only
from .store.index import ArchiveIndex
from .store.warc import ensure_whole, iter_pages, read_page, record_at, sha1_b32, warc_files

logger = logging.getLogger(__name__)


class Damage(StrEnum):
    INDEX = "index"  # index.sqlite missing or not a sound SQLite database
    WARC = "warc"  # a WARC file that cannot be read to its end
    DIGEST = "digest"  # a record whose block or payload digest is wrong
    REFERENCE = "reference"  # an index row pointing at no readable record of its URL
    POST_MISSING = "post_missing"  # an archived article without its Markdown file
    POST_DIFFERS = "post_differs"  # a Markdown file that is not what regenerate would write
    MEDIA_MISSING = "media_missing"  # an archived article's media file is not in media/
    MEDIA_DIFFERS = "media_differs"  # a media file whose bytes are not the ones the WARC holds


@dataclass(frozen=True)
class Finding:
    damage: Damage
    where: str  # the file, or URL, it is about
    detail: str

    def __str__(self) -> str:
        return f"{self.damage.value}: {self.where}: {self.detail}"


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)

    def add(self, damage: Damage, where: str, detail: str) -> None:
        self.findings.append(Finding(damage, where, detail))

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        checked = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        damaged = Counter(f.damage.value for f in self.findings)
        found = " ".join(f"{k}={v}" for k, v in sorted(damaged.items())) or "none"
        fixed = " ".join(f"{k}={v}" for k, v in sorted(self.repaired.items()))
        return f"checked {checked}; damage {found}" + (f"; repaired {fixed}" if fixed else "")


def index_health(path: Path) -> str | None:
    """None when index.sqlite is a sound SQLite database, else what is wrong (read-only check)."""
    if not path.exists():
        return "missing"
    try:
        db = connect_read_only(path)  # as status opens it: works on a read-only archive too
    except IndexUnreadable as exc:
        return str(exc.__cause__ or exc)
    try:
        result = db.execute("PRAGMA quick_check").fetchone()
        db.execute("SELECT COUNT(*) FROM articles").fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None if result and result[0] == "ok" else str(result[0] if result else "no answer")


def scan_warc(path: Path, report: CheckReport) -> None:
    """Read a WARC file to its end, checking every record's digests, and that the file ends with a whole
    record (a cut that leaves whole records but the last one's gzip trailer reads as if nothing were amiss)."""
    last: int | None = None  # the offset of the last record read
    try:
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle, check_digests=True)
            for record in iterator:
                last = iterator.get_record_offset()
                record.content_stream().read()
                report.counts["records"] += 1
                checker = getattr(record, "digest_checker", None)
                if checker is not None and checker.passed is False:
                    uri = record.rec_headers.get_header("WARC-Target-URI") or "-"
                    report.add(Damage.DIGEST, f"{path.name}@{last}", f"{uri}: {'; '.join(checker.problems)}")
            ensure_whole(handle, path, iterator.offset, last)
    except Exception as exc:  # noqa: BLE001 - warcio raises many kinds on a torn or garbled file
        report.add(Damage.WARC, path.name, f"unreadable after byte {last or 0}: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class RecordHead:
    rec_type: str
    url: str
    payload_digest: str


def record_head(path: Path, offset: int) -> RecordHead:
    """The type, target and payload digest of the record at offset (its payload is not read)."""
    with open(path, "rb") as handle, record_at(handle, path, offset) as record:
        headers = record.rec_headers
        return RecordHead(record.rec_type, headers.get_header("WARC-Target-URI") or "",
                          headers.get_header("WARC-Payload-Digest") or "")


def _archived_rows(index: ArchiveIndex) -> Iterator[tuple[str, str, str | None, str | None, int | None]]:
    rows = index.db.execute(
        "SELECT urlname, url, path, warc_file, warc_offset FROM articles WHERE status='ok' ORDER BY url")
    yield from rows.fetchall()


def _media_findings(archive: Archive, article: Article, report: CheckReport) -> list[str]:
    """The media of an archived article that are missing or differ from their captured bytes."""
    assert archive.index is not None
    missing = []
    for media in article.media:
        if archive.index.media_outcome(media.url) is not None:
            continue  # recorded as failed, gone or refused: known, and reported by status
        path = archive.media_path(media)
        report.counts["media"] += 1
        if not path.exists():
            report.add(Damage.MEDIA_MISSING, media.url, f"{path.relative_to(archive.layout.root)} (in {article.url})")
            missing.append(media.url)
            continue
        capture = archive.index.db.execute(
            "SELECT warc_file, warc_offset FROM captures WHERE url=? AND status=200 ORDER BY fetched_at DESC LIMIT 1",
            (media.url,)).fetchone()
        if capture is not None:
            try:
                head = record_head(archive.layout.warc / capture[0], capture[1])
            except Exception:  # noqa: BLE001 - reported as a reference problem by the capture check
                continue
            if head.payload_digest and head.payload_digest != sha1_b32(hashlib.sha1(path.read_bytes())):
                report.add(Damage.MEDIA_DIFFERS, media.url, f"{path.relative_to(archive.layout.root)}: not the bytes "
                           f"captured in {capture[0]}")
                missing.append(media.url)
    return missing


def check_archive(archive: Archive, repair: bool = False) -> CheckReport:
    """Verify an opened archive (see the module docstring); with repair, fix what can be fixed."""
    assert archive.index is not None
    index = archive.index
    report = CheckReport()
    for path in warc_files(archive.layout.warc):
        report.counts["warc_files"] += 1
        scan_warc(path, report)
    for (warc_file, offset, url) in index.db.execute(
            "SELECT warc_file, warc_offset, url FROM captures ORDER BY warc_file, warc_offset").fetchall():
        report.counts["captures"] += 1
        try:
            head = record_head(archive.layout.warc / warc_file, offset)
        except Exception as exc:  # noqa: BLE001
            report.add(Damage.REFERENCE, url, f"{warc_file}@{offset}: {type(exc).__name__}: {exc}")
            continue
        if head.url != url or head.rec_type not in ("response", "revisit"):
            report.add(Damage.REFERENCE, url, f"{warc_file}@{offset} holds a {head.rec_type} record of {head.url}")
    for urlname, url, relpath, warc_file, offset in _archived_rows(index):
        report.counts["articles"] += 1
        if warc_file is None or offset is None:
            continue  # archived before captures were kept: nothing to check it against
        try:
            page = read_page(archive.layout.warc / warc_file, offset)
            result = extract_article(page)
        except Exception as exc:  # noqa: BLE001
            report.add(Damage.REFERENCE, url, f"{warc_file}@{offset}: {type(exc).__name__}: {exc}")
            if repair:  # the story is fetched again by the next plain run (its file stays until then)
                index.db.execute("UPDATE articles SET status='failed', attempts=0, reason=? WHERE urlname=?",
                                 (f"capture unreadable ({warc_file}@{offset})", urlname))
                report.repaired["stories_to_refetch"] += 1
            continue
        if not isinstance(result, Article):
            continue  # the extraction has changed its mind: regenerate's business, not damage
        post = archive.layout.root / relpath if relpath else archive.post_path(result)
        want = archive.render(result)
        if not post.exists():
            report.add(Damage.POST_MISSING, str(post.relative_to(archive.layout.root)), url)
        elif post.read_bytes() != want:
            report.add(Damage.POST_DIFFERS, str(post.relative_to(archive.layout.root)), url)
        else:
            post = None  # type: ignore[assignment]
        if repair and post is not None:
            archive.publish(result, index.article(result.urlname))
            report.repaired["posts"] += 1
        missing = _media_findings(archive, result, report)
        if repair and missing:
            for media in result.media:
                if media.url in missing:
                    archive.media_path(media).unlink(missing_ok=True)
                    index.record_media(media.url, Outcome.FAILED, "missing from media/ (check --repair)")
            index.db.execute("UPDATE articles SET media_missing=?, media_attempts=0 WHERE urlname=?",
                             (len(missing), urlname))
            report.repaired["media_to_refetch"] += len(missing)
    return report


def set_aside_damaged_index(path: Path) -> Path | None:
    """Move a damaged index (and its WAL files) out of the way; the caller rebuilds it."""
    if not path.exists():
        return None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + suffix))
    return aside


def rebuild_index(archive: Archive, report: CheckReport) -> None:
    """A new index from the WARC files alone: every capture, then every article (as regenerate does)."""
    from .regenerate import from_warc

    assert archive.index is not None
    for path in warc_files(archive.layout.warc):
        try:
            with archive.index.transaction():
                for offset, page in iter_pages(path):
                    archive.index.record_capture(page.url, page.status, page.fetched_at, path.name, offset)
        except Exception as exc:  # noqa: BLE001 - the scan reports the file; what was read before is kept
            logger.warning("%s: read up to a damaged record (%s)", path.name, exc)
    regenerated = from_warc(archive)
    report.repaired["index_rebuilt"] += 1
    report.repaired["articles_indexed"] += regenerated.counts.get("articles", 0)
