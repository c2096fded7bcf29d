"""Rebuild Markdown from saved pages, offline, with today's extraction and rendering.

Two sources: the archive's own WARC captures, or a `wget -x` style tree of
saved pages (`host/path`). Neither touches the network; both publish through
`Archive.publish`, exactly as the crawl does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote, unquote, urlsplit

from warcio.exceptions import ArchiveLoadFailed

from .archive import Archive, Duplicate
from .extract import ListRefused, extract_list
from .model import Article, Media, NotArticle, RawPage
from .store.media_files import MediaFiles
from .store.replay import Capture, CaptureTable
from .store.cdxj import indexes_folder
from .store.files import read_file
from .store.spool import FileBytes
from .store.warc import (BuiltRecord, WarcCapture, WarcError, page_record, payload_digest_at, sha1_b32,
                         warc_files)
from .workers import Extracted, extract_in_order, extract_page, map_in_order

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
# What a saved page may be called: the CMS's own suffixes, no suffix (wget's `index`), and `.html` added
# by a browser's "save as" or `wget -E` (page.htm.html); anything else in the tree is not a page.
_PAGE_SUFFIXES = (".htm", ".html", ".shtml", ".psp", ".jsp", ".php", ".asp", ".aspx", "")
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I)
# The summary's keys; `lists` and `not_articles` mean what they mean in the crawl's summary.
SUMMARY_KEYS = ("pages", "articles", "new", "updated", "unchanged", "duplicates", "lists", "not_articles",
                "gone", "skipped", "media_copied", "errors")


@dataclass
class RegenerateReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)  # pages not archived, by reason

    def summary(self) -> str:
        text = " ".join(f"{k}={self.counts.get(k, 0)}" for k in SUMMARY_KEYS)
        if self.reasons:
            text += "; not archived: " + ", ".join(f"{reason}={n}" for reason, n in sorted(self.reasons.items()))
        return text

    def skip(self, problem: str) -> None:
        """A file of a --from-html tree that is left out, and why (said at the end, with the summary)."""
        self.counts["skipped"] += 1
        self.problems.append(problem)

    def not_archived(self, page: RawPage, result: NotArticle | None, where: str = "") -> None:
        """One page that gives no article: counted by reason and, unless it is a list page, logged with its URL."""
        self.not_archived_as(classify_not_archived(page, result), page.url, result, where)

    def not_archived_as(self, verdict: tuple[str, str], url: str, result: NotArticle | None, where: str = "") -> None:
        """not_archived, with the page's classify_not_archived verdict computed already (by a worker)."""
        kind, reason = verdict
        self.counts[kind] += 1
        if kind in ("lists", "skipped"):
            return
        self.reasons[reason] += 1
        detail = f": {result.detail}" if result is not None and result.detail else ""
        logger.warning("not archived (%s%s): %s%s", reason, detail, url, f" (file {where})" if where else "")


def classify_not_archived(page: RawPage, result: NotArticle | None) -> tuple[str, str]:
    """(summary key, reason) for a page that gave no article: a column's list page, an HTTP answer
    that is no page (robots.txt, 404...), or a page that is not an article (its extraction reason)."""
    if page.url.endswith("/robots.txt"):
        return "skipped", "robots.txt"
    if page.status in (404, 410):
        return "gone", f"HTTP {page.status}"
    if page.status != 200:
        return "not_articles", f"HTTP {page.status}"
    if result is not None and result.reason == "empty":
        try:
            if extract_list(page).items:
                return "lists", "list page"
        except (ListRefused, ValueError):
            pass
    return "not_articles", result.reason if result is not None else "not a page"


def _publish(archive: Archive, article: Article, report: RegenerateReport, warc_file: str | None,
             warc_offset: int | None, fetched_at: str) -> bool:
    try:
        published = archive.archive_article(article, warc_file=warc_file, warc_offset=warc_offset,
                                            fetched_at=fetched_at)
    except OSError as exc:
        report.counts["errors"] += 1
        report.problems.append(f"{article.url}: cannot write {archive.post_path(article)}: {exc}")
        return False
    if isinstance(published, Duplicate):
        report.counts["duplicates"] += 1
        return False
    report.counts["articles"] += 1
    report.counts["new" if published.created else "updated" if published.changed else "unchanged"] += 1
    return True


def from_warc(archive: Archive, progress: Progress | None = None, jobs: int = 1) -> RegenerateReport:
    """Every article page captured in the archive's WARC files -> Markdown, and its media -> media/.

    Reads the WARC files alone. A first streaming pass notes every response and revisit record in a
    temporary SQLite table (URL, status, digest, where); the second publishes the article pages in
    archive order, oldest first, so an article captured again (a revision) ends as its newest capture
    that is still an article, and writes each article's images and attachments from their newest
    capture (following archived redirects, and revisit records to the bytes they stand for). Nothing
    is kept in memory per page or per capture; counts are per capture.
    """
    report = RegenerateReport()
    files = warc_files(archive.layout.warc)
    with tempfile.TemporaryDirectory(prefix="cumt-regenerate-") as tmp:
        table = CaptureTable(Path(tmp) / "captures.sqlite", archive.layout.warc)
        try:
            for path in files:
                try:
                    table.add_file(path)
                except Exception as exc:  # noqa: BLE001 - see iter_records: damage of any kind, said once
                    # One damaged file must not hide the others: say which, keep what it held before, go on.
                    assert archive.index is not None
                    archive.index.add_damage([("warc", path.name, f"unreadable: {type(exc).__name__}: {exc}")])
                    report.counts["errors"] += 1
                    report.problems.append(f"{path}: damaged ({type(exc).__name__}: {exc}); the records before "
                                           "the damage are used; `cumt-archive check` tells more")
            total = table.page_count() if progress else 0
            pages = _captured_pages(table, files, report)
            # Extraction runs in `jobs` worker processes; results come back in capture order (see workers.py),
            # and everything that writes happens here, in that order: the output does not depend on jobs.
            assert archive.index is not None
            with archive.index.batched() as step:
                for capture, page, result in extract_in_order(pages, jobs):
                    _archive_capture(archive, table, capture, page, result, report)
                    step()
                    if progress:
                        progress(report.counts["pages"], max(total, report.counts["pages"]))
        finally:
            table.close()
    return report


def _captured_pages(table: CaptureTable, files: list[Path], report: RegenerateReport
                    ) -> Iterator[tuple[Capture, RawPage]]:
    """Every page capture, in archive order, read from its WARC file (an unreadable one is reported)."""
    for path in files:
        for capture in table.captures(path.name):
            if not capture.is_page:
                continue
            try:
                yield capture, table.page(capture)
            except (WarcError, OSError, ArchiveLoadFailed, ValueError, AttributeError, EOFError) as exc:
                report.counts["pages"] += 1
                report.counts["errors"] += 1
                report.problems.append(str(exc))


def _archive_capture(archive: Archive, table: CaptureTable, capture: Capture, page: RawPage,
                     result: Article | NotArticle | None, report: RegenerateReport) -> None:
    report.counts["pages"] += 1
    if not isinstance(result, Article):
        report.not_archived(page, result)
        return
    # The crawl stores an article's media before it decides whether the story is a duplicate: so here.
    for media in result.media:
        source = table.latest(media.url)
        if source is None:
            continue  # never downloaded (failed, off limits): the crawl has no file either
        try:
            target = archive.media_path(media)
            report.counts["media_copied"] += table.copy_payload(source, target)
            MediaFiles(archive.layout.media, archive.index).share_payload(  # type: ignore[arg-type]
                str(target.relative_to(archive.layout.media)))
        except (WarcError, OSError) as exc:
            report.counts["errors"] += 1
            report.problems.append(f"{media.url} (in {result.url}): {exc}")
    # The index keeps pointing at the response record that holds the page's bytes.
    ref_file, ref_offset = table.payload_location(capture)
    _publish(archive, result, report, ref_file, ref_offset, page.fetched_at)


_SELF_URL = re.compile(
    rb"<link[^>]+rel=[\"']canonical[\"'][^>]+href=[\"'](https?://[^\"']+)|"
    rb"<meta[^>]+property=[\"']og:url[\"'][^>]+content=[\"'](https?://[^\"']+)", re.I)
LOOSE_HOST = "saved-pages.invalid"
_HOST_DIR = re.compile(r"^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                       r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+(?::\d{1,5})?$", re.I)
_UNMAPPABLE = re.compile(r"[\x00-\x1f\x7f]")
_SERVER_SUFFIXES = (".htm", ".shtml", ".psp", ".jsp", ".php", ".asp", ".aspx")


class SourceError(ValueError):
    """A --from-html source that is not a tree of saved pages; the message names it."""


class UnmappableName(ValueError):
    """A saved file whose name cannot be part of a URL (control characters, undecodable bytes...)."""


def is_host_dir(name: str) -> bool:
    """`xwzx.cumt.edu.cn`, `127.0.0.1:8000`: a folder a `wget -x` tree names after a host."""
    return bool(_HOST_DIR.match(name))


def check_source(source: Path) -> None:
    """Refuse, before anything is created, a source that is not a tree of saved pages laid out host/path."""
    if not source.is_dir():
        raise SourceError(f"{source}: --from-html needs a directory of saved pages laid out host/path (wget -x)")
    entries = list(os.scandir(source))
    if any(e.is_dir(follow_symlinks=False) and is_host_dir(e.name) for e in entries):
        return
    if any(e.is_file(follow_symlinks=False) and _is_page_name(e.name) for e in entries):
        return  # loose saved pages, named by their canonical link
    raise SourceError(f"{source}: no host folders (like xwzx.cumt.edu.cn/) and no saved pages at its top; "
                      "--from-html needs pages saved host/path, as wget -x saves them")


def _is_page_name(name: str) -> bool:
    return not name.startswith(".") and (os.path.splitext(name)[1].lower() in _PAGE_SUFFIXES or "?" in name)


def _server_name(name: str) -> str:
    """The name the server used: `page.htm.html` (wget -E, browsers) was `page.htm`, `list.htm?p=2.html` too."""
    if name.lower().endswith(".html"):
        stem = name[:-5]
        if "?" in stem or stem.lower().endswith(_SERVER_SUFFIXES):
            return stem
    return name


def url_for(rel: Path, body: bytes) -> str:
    """The page's URL from its place in a wget -x tree (host/path); a loose file names itself if it can.

    Raises UnmappableName for names no URL can hold: control characters (a CR/LF would forge WARC
    headers) or bytes that are not UTF-8.
    """
    for part in rel.parts:
        if _UNMAPPABLE.search(part):
            raise UnmappableName(f"{rel!r}: control character in the name")
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            raise UnmappableName(f"{rel!r}: name is not UTF-8") from None
    if len(rel.parts) == 1:
        match = _SELF_URL.search(body[:65536])
        if match:
            found = (match.group(1) or match.group(2)).decode("utf-8", "replace")
            if not _UNMAPPABLE.search(found):
                return found
        return f"http://{LOOSE_HOST}/{quote(_server_name(rel.name))}"
    host, *rest = rel.parts
    if not is_host_dir(host):
        raise UnmappableName(f"{host}: not a host name")
    path = "/".join([*rest[:-1], _server_name(rest[-1])])
    if "?" in path:
        path, query = path.split("?", 1)
        return f"http://{host.lower()}/{quote(path, safe='/%')}?{quote(query, safe='=&%/:+,;')}"
    return f"http://{host.lower()}/{quote(path, safe='/%')}"


def _saved_pages(source: Path, report: RegenerateReport) -> Iterator[tuple[str, str]]:
    """(file, its path relative to source) of every saved page, streamed in a stable order: a folder's
    files by name, then its folders by name.

    Symbolic links are never followed out of the tree; folders at the top that are not host names
    and files that are not HTML pages are left out (the former are reported). Read with os.scandir,
    whose entries know their type: no stat call per file, in trees of a million files.
    """
    root = source.resolve()

    def walk(folder: str, prefix: str) -> Iterator[tuple[str, str]]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return  # (as os.walk: a folder that cannot be listed has no pages to give)
        folders = []
        for entry in entries:
            if entry.is_dir():  # a link to a folder too, as os.walk lists it (never entered, below)
                folders.append(entry)
                continue
            if not _is_page_name(entry.name):
                continue
            if entry.is_symlink():
                try:
                    Path(entry.path).resolve(strict=True).relative_to(root)
                except (ValueError, OSError):
                    report.skip(f"{entry.path}: symbolic link out of the source tree, not followed")
                    continue
            if entry.is_file():
                yield entry.path, prefix + entry.name
        for entry in folders:
            if prefix == "":
                # `page_files/` beside a page a browser saved holds its assets, not pages: no need to say so.
                if entry.name.startswith(".") or entry.name.endswith("_files"):
                    continue
                if not is_host_dir(entry.name):
                    report.skip(f"{entry.path}: not a host name, folder skipped")
                    continue
            if not entry.is_symlink():
                yield from walk(entry.path, f"{prefix}{entry.name}/")

    yield from walk(str(source), "")


def _already_captured(archive: Archive, url: str, payload_digest: str | None) -> tuple[str, int] | None:
    """Where the WARC already holds the bytes with this payload digest for this URL, if it does (told by
    the records' own WARC-Payload-Digest, so no payload is read)."""
    assert archive.index is not None
    if payload_digest is None:
        return None
    for warc_file, offset in archive.index.captures_of(url):
        try:
            held = payload_digest_at(archive.layout.warc / warc_file, offset)
        except (OSError, ValueError):
            continue
        if held == payload_digest:
            return warc_file, offset
    return None


# What read_saved_pages's workers load before they start, beside this module: surt, for the SURT key
# each page's record carries (store/warc.py:surt_key), so the parent never loads it.
WORKER_PRELOAD = ("surt",)


@dataclass(frozen=True)
class SavedPage:
    """What a worker makes of one saved file: all the parent needs to write it, but not its bytes."""

    url: str
    fetched_at: str
    result: Extracted
    record: BuiltRecord  # its WARC response record, ready to append (store.warc.page_record)
    verdict: tuple[str, str] | None  # classify_not_archived's, when it gives no article


@dataclass(frozen=True)
class NotSaved:
    """A file of the tree that gives nothing: problem says why it is skipped, None when it is no page."""

    problem: str | None


def read_saved_pages(jobs: list[tuple[str, str]]) -> list[SavedPage | NotSaved]:
    """(file, its path relative to the source) of each saved file -> everything regenerate writes for it:
    URL, extraction, WARC record. Pure but for reading the files: run in worker processes (a chunk of
    files at a time, see workers.map_in_order), so the parent only writes.

    Done in stages over a group of files: all the reads, then all the extractions, then all the records
    (each stage keeps its code and data in the processor's caches for the whole group). A group ends
    once its pages hold STAGE_BYTES, so a tree of huge saved pages holds about that much more at once,
    not a chunk of huge pages.
    """
    done: list[SavedPage | NotSaved] = []
    pending = iter(jobs)
    while True:
        group: list[RawPage | NotSaved] = []
        held = 0
        for job in pending:
            page = _read_saved_file(job)
            group.append(page)
            if isinstance(page, RawPage):
                held += len(page.body)
                if held >= STAGE_BYTES:
                    break
        if not group:
            return done
        results = [extract_page(page) if isinstance(page, RawPage) else None for page in group]
        for page, result in zip(group, results):
            if isinstance(page, NotSaved):
                done.append(page)
                continue
            verdict = None if isinstance(result, Article) else classify_not_archived(page, result)
            done.append(SavedPage(page.url, page.fetched_at, result, page_record(page), verdict))


STAGE_BYTES = 4 << 20


def _read_saved_file(job: tuple[str, str]) -> RawPage | NotSaved:
    path, rel = Path(job[0]), Path(job[1])
    try:
        body, status = read_file(job[0])
    except OSError as exc:
        return NotSaved(f"{path}: cannot read: {exc.strerror or exc}")
    if not _HTML_START.search(body[:4096]):
        return NotSaved(None)  # not a page, whatever its name (a text file, an image saved without suffix)
    try:
        url = url_for(rel, body)
    except UnmappableName as exc:
        return NotSaved(f"{path}: cannot map to a URL: {exc}")
    # The file's time says when it was saved; it is kept as the capture time, never as a date.
    saved = dt.datetime.fromtimestamp(status.st_mtime, dt.timezone.utc)
    return RawPage(url=url, body=body, status=200, fetched_at=saved.strftime("%Y-%m-%dT%H:%M:%SZ"))


def from_html(archive: Archive, source: Path, progress: Progress | None = None,
              jobs: int = 1) -> RegenerateReport:
    """A `wget -x` tree (host/path) -> Markdown; media found in the same tree are copied in.

    The pages are also captured into the archive's WARC so that later `regenerate --archive` runs
    find them; a page whose bytes the WARC already holds for its URL is not captured again.
    """
    check_source(source)
    report = RegenerateReport()
    total = sum(1 for _ in _saved_pages(source, RegenerateReport())) if progress else 0
    # CDXJ lines are written with the records (as the crawl writes them): no second reading of the file.
    warc = WarcCapture(archive.layout.warc, prefix="import", index_folder=indexes_folder(archive.layout.root))
    assert archive.index is not None
    # Asked when the first article with media is written, not before the first page is read: with workers,
    # the walk runs while they extract, not before they start.
    holds_media: bool | None = None
    done = 0
    try:
        files = ((rel, (path, rel)) for path, rel in _saved_pages(source, report))
        # Each file is read, extracted and made into its WARC record by `jobs` worker processes; the
        # results come back in file order (see workers.py) and everything is written here, in that
        # order: the output does not depend on jobs.
        with archive.index.batched() as step:
            for (rel, _), saved in map_in_order(read_saved_pages, files, jobs, preload=WORKER_PRELOAD):
                if isinstance(saved, NotSaved):
                    if saved.problem is not None:
                        report.skip(saved.problem)
                    continue
                done += 1
                report.counts["pages"] += 1
                held = _already_captured(archive, saved.url, payload_digest=saved.record.payload_digest)
                if held is None:
                    ref = warc.append_record(saved.record)
                    archive.index.record_capture(saved.url, 200, saved.fetched_at, ref.file, ref.offset)
                    held = (ref.file, ref.offset)
                else:
                    report.counts["already_captured"] += 1
                if isinstance(saved.result, Article):
                    article_media = saved.result.media
                    if article_media and holds_media is None:
                        holds_media = _holds_media(source)
                    for media in article_media if holds_media else ():
                        _import_media(archive, warc, source, media, saved.fetched_at, report)
                    _publish(archive, saved.result, report, held[0], held[1], saved.fetched_at)
                else:
                    assert saved.verdict is not None
                    report.not_archived_as(saved.verdict, saved.url, saved.result, where=str(rel))
                step()
                if progress:
                    progress(done, max(total, done))
    finally:
        warc.close()
    return report


def _holds_media(source: Path) -> bool:
    """Whether the tree holds any file that is not plainly an HTML page: if not, no media can be copied, and
    probing for each image of each page (a path resolution of a dozen stat calls apiece) is skipped."""
    folders = [str(source)]
    while folders:  # (os.walk's listing, with no lists built, ending at the first such file)
        try:
            with os.scandir(folders.pop()) as listing:
                for entry in listing:
                    if entry.is_dir():
                        if not entry.is_symlink():  # a link to a folder is listed, never entered, as os.walk does
                            folders.append(entry.path)
                    elif not entry.name.startswith(".") and not entry.name.lower().endswith(_PLAIN_PAGE_SUFFIXES):
                        return True
        except OSError:
            continue  # (as os.walk: a folder that cannot be listed holds nothing to copy)
    return False


_PLAIN_PAGE_SUFFIXES = (".htm", ".html", ".shtml")


def _media_file(source: Path, url: str) -> Path | None:
    """The file a wget -x tree holds for a media URL, if it holds one inside the tree."""
    parts = urlsplit(url)
    candidate = source / (parts.hostname or "") / unquote(parts.path.lstrip("/"))
    if parts.query:
        candidate = candidate.with_name(candidate.name + "?" + parts.query)
    if not candidate.is_file():  # one stat, before the dearer check that it stays inside the tree
        return None
    try:
        resolved = candidate.resolve()
        resolved.relative_to(source.resolve())
    except (ValueError, OSError):
        return None
    return resolved if resolved.is_file() else None


def _import_media(archive: Archive, warc: WarcCapture, source: Path, media: Media, fetched_at: str,
                  report: RegenerateReport) -> None:
    """A media file of the tree into the WARC (unless it holds these bytes already) and into media/.

    The WARC is the archive: a later `regenerate --archive` rebuilds media/ from it, as for a crawl."""
    path = _media_file(source, media.url)
    if path is None:
        return
    assert archive.index is not None
    with open(path, "rb") as handle:  # a video is read in chunks, never whole
        sha1 = hashlib.file_digest(handle, "sha1")
    digest = sha1_b32(sha1)
    if _already_captured(archive, media.url, digest) is None:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        ref = warc.write_file(media.url, FileBytes.of(path), {"Content-Type": content_type}, fetched_at,
                              payload_digest=digest)
        archive.index.record_capture(media.url, 200, fetched_at, ref.file, ref.offset)
        report.counts["media_captured"] += 1
    target = archive.media_path(media)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-copy")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    MediaFiles(archive.layout.media, archive.index).share_payload(str(target.relative_to(archive.layout.media)),
                                                                  sha1.hexdigest())
    report.counts["media_copied"] += 1

