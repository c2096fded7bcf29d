"""Rebuild Markdown from saved pages, offline, with today's extraction and rendering.

Two sources: the archive's own WARC captures, or a `wget -x` style tree of
saved pages (`host/path`). Neither touches the network; both publish through
`Archive.publish`, exactly as the crawl does.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote, unquote, urlsplit

from .archive import Archive, Duplicate
from .model import Article, Media, RawPage
from .store.warc import WarcCapture, iter_pages, warc_files
from .workers import extract_in_order

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
_PAGE_SUFFIXES = (".htm", ".html", ".shtml", ".psp", ".jsp", ".php", ".asp", ".aspx", "")


@dataclass
class RegenerateReport:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        keys = ("pages", "articles", "new", "updated", "unchanged", "duplicates", "not_articles", "media_copied",
                "errors")
        return " ".join(f"{k}={self.counts.get(k, 0)}" for k in keys)


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
    """Every article page captured in the archive's WARC files -> Markdown, in one streaming pass.

    Files and records are read oldest first, so an article captured again (a revision) ends as its
    newest capture that is still an article. Nothing is kept per page, so memory stays flat however
    large the archive is; counts are per capture (a revised article counts once per capture).
    """
    report = RegenerateReport()
    files = warc_files(archive.layout.warc)
    # Extraction runs in `jobs` worker processes; results come back in capture order (see workers.py).
    captures = (((number, path.name, offset), page) for number, path in enumerate(files, 1)
                for offset, page in iter_pages(path))
    done_files = 0
    for (number, name, offset), page, result in extract_in_order(captures, jobs):
        for done_files in range(done_files + 1, number):
            if progress:
                progress(done_files, len(files))
        report.counts["pages"] += 1
        if isinstance(result, Article):
            _publish(archive, result, report, name, offset, page.fetched_at)
        else:
            report.counts["not_articles"] += 1
    if progress:
        for done_files in range(done_files + 1, len(files) + 1):
            progress(done_files, len(files))
    return report


_SELF_URL = re.compile(
    rb"<link[^>]+rel=[\"']canonical[\"'][^>]+href=[\"'](https?://[^\"']+)|"
    rb"<meta[^>]+property=[\"']og:url[\"'][^>]+content=[\"'](https?://[^\"']+)", re.I)
LOOSE_HOST = "saved-pages.invalid"


def _url_for(rel: Path, body: bytes) -> str:
    """The page's URL from its place in a wget -x tree (host/path); a loose file names itself if it can."""
    if len(rel.parts) == 1:
        match = _SELF_URL.search(body[:65536])
        if match:
            return (match.group(1) or match.group(2)).decode("utf-8", "replace")
        return f"http://{LOOSE_HOST}/{quote(rel.name)}"
    host, *rest = rel.parts
    path = "/".join(rest)
    if "?" in path:
        path, query = path.split("?", 1)
        return f"http://{host.lower()}/{quote(path, safe='/%')}?{query}"
    return f"http://{host.lower()}/{quote(path, safe='/%')}"


def _saved_pages(source: Path) -> Iterator[tuple[Path, Path]]:
    """(file, path relative to source) of every saved page, streamed in a stable order."""
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            suffix = os.path.splitext(name)[1].lower()
            if suffix in _PAGE_SUFFIXES or "?" in name:
                path = Path(folder, name)
                yield path, path.relative_to(source)


def from_html(archive: Archive, source: Path, progress: Progress | None = None,
              jobs: int = 1) -> RegenerateReport:
    """A `wget -x` tree (host/path) -> Markdown; media found in the same tree are copied in.

    The pages are also captured into the archive's WARC so that later
    `regenerate --archive` runs find them.
    """
    if not source.is_dir():
        raise NotADirectoryError(f"{source}: --from-html needs a directory of saved pages laid out host/path")
    report = RegenerateReport()
    total = sum(1 for _ in _saved_pages(source)) if progress else 0
    warc = WarcCapture(archive.layout.warc, prefix="import")
    holds_media = _holds_media(source)
    try:
        saved = ((path, _saved_page(path, rel)) for path, rel in _saved_pages(source))
        # Extraction runs in `jobs` worker processes; results come back in file order (see workers.py).
        for done, (path, page, result) in enumerate(extract_in_order(saved, jobs), 1):
            report.counts["pages"] += 1
            ref = warc.write(page)
            assert archive.index is not None
            archive.index.record_capture(page.url, page.status, page.fetched_at, ref.file, ref.offset)
            if isinstance(result, Article):
                for media in result.media if holds_media else ():
                    report.counts["media_copied"] += _copy_media(archive, source, media.url, media.name)
                _publish(archive, result, report, ref.file, ref.offset, page.fetched_at)
            else:
                report.counts["not_articles"] += 1
                logger.info("not an article (%s): %s", result.reason, path)
            if progress:
                progress(done, total)
    finally:
        warc.close()
    return report


def _saved_page(path: Path, rel: Path) -> RawPage:
    body = path.read_bytes()
    # The file's time says when it was saved; it is kept as the capture time, never as a date.
    mtime = path.stat().st_mtime
    return RawPage(url=_url_for(rel, body), body=body, status=200,
                   fetched_at=dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _holds_media(source: Path) -> bool:
    """Whether the tree holds any file that is not plainly an HTML page: if not, no media can be copied, and
    probing for each image of each page (a path resolution of a dozen stat calls apiece) is skipped."""
    return any(True for _, _, files in os.walk(source) for name in files
               if not name.startswith(".") and not name.lower().endswith((".htm", ".html", ".shtml")))


def _copy_media(archive: Archive, source: Path, url: str, name: str) -> int:
    parts = urlsplit(url)
    candidate = source / (parts.hostname or "") / unquote(parts.path.lstrip("/"))
    if parts.query:
        candidate = candidate.with_name(candidate.name + "?" + parts.query)
    if not candidate.is_file():  # one stat, before the dearer check that it stays inside the tree
        return 0
    try:
        resolved = candidate.resolve()
        resolved.relative_to(source.resolve())
    except (ValueError, OSError):
        return 0
    if not resolved.is_file():
        return 0
    target = archive.media_path(Media(url, name))
    if target.exists():
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-copy")
    shutil.copyfile(resolved, tmp)
    tmp.replace(target)
    return 1


def print_progress(done: int, total: int) -> None:
    if done == total or done % 100 == 0:
        print(f"\rregenerate: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
