"""Thin item pipelines around the pure core: once per run, original media bytes, Markdown + index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from io import BytesIO
from os import PathLike
from pathlib import Path
from typing import Any, NoReturn

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.pipelines.media import FileException, MediaPipeline, _MediaRequestFiltered
from scrapy.utils.defer import ensure_awaitable
from twisted.python.failure import Failure

from ..archive import Duplicate
from .handlers import DEFAULT_SPOOL_THRESHOLD, SPOOL_DIR_META, SPOOL_THRESHOLD_META, spooled_body
from .refusals import media_failure_verdict
from .run import STORAGE_ERRORS, get_run
from ..model import Article
from ..store.files import atomic_write
from ..store.media_files import MediaFiles
from ..store.spool import SpooledBody
from ..store.warc import WarcRef
from ..outcomes import Outcome
from ..urls import canonical_url, media_relpath, urlname

logger = logging.getLogger(__name__)


@dataclass
class ArticleItem:
    article: Article
    list_url: str = ""
    column: str = ""
    fetched_at: str = ""
    warc_ref: WarcRef | None = None
    aliases: list[str] = field(default_factory=list)  # URLs that redirected to this article
    media_missing: int = 0  # images/attachments that could not be downloaded (retried next run)
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    # Files this run has already stored for an earlier article: their results, not asked for again.
    files_known: list[dict[str, Any]] = field(default_factory=list)


class OncePerRunPipeline:
    """The same article listed by several columns or hosts is handled once per run (before its media)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: ArticleItem, spider: Spider | None = None) -> ArticleItem:
        article = item.article
        if article.urlname in self.seen:
            raise DropItem(f"{article.url}: already archived in this run")
        self.seen.add(article.urlname)
        return item


class MediaHTTPStatus(FileException):
    """A media URL answered with something other than 200 and a body."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}" if status != 200 else "empty body")
        self.status = status


class AtomicFSFilesStore(FSFilesStore):
    """FilesPipeline's file store, writing through a temporary file so a kill never leaves half a file."""

    media_files: MediaFiles | None = None  # set by the pipeline: the same bytes under two URLs are one copy

    def persist_file(self, path: str | PathLike[str], buf: BytesIO, info: MediaPipeline.SpiderInfo, meta: Any = None,
                     headers: Any = None) -> None:
        atomic_write(Path(self.basedir) / path, buf.getvalue(), skip_if_same=False)
        if self.media_files is not None:
            self.media_files.share_payload(str(path))

    def persist_spooled(self, path: str, spool: SpooledBody) -> None:
        """persist_file for a body the download streamed to disk: a link to that file, no copy."""
        spool.link_to(Path(self.basedir) / path)
        if self.media_files is not None:
            self.media_files.share_payload(path, spool.sha1.hexdigest())


class OriginalMediaPipeline(FilesPipeline):
    """Images and attachments with their original bytes (FilesPipeline, not the re-encoding ImagesPipeline)."""

    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": AtomicFSFilesStore, "file": AtomicFSFilesStore}
    LOG_FAILED_RESULTS = False  # each failure is logged once, in media_failed, with its article

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "OriginalMediaPipeline":
        cls._update_stores(crawler.settings)
        run = get_run(crawler)
        pipeline = cls(str(run.archive.layout.media), crawler=crawler)
        pipeline.run = run  # type: ignore[attr-defined]
        if isinstance(pipeline.store, AtomicFSFilesStore):
            pipeline.store.media_files = MediaFiles(run.archive.layout.media, run.index)
        # Media have their own size limit (videos may be larger than any page should be); unset, the
        # page limit DOWNLOAD_MAXSIZE applies to them too.
        pipeline.media_maxsize = crawler.settings.getint(  # type: ignore[attr-defined]
            "MEDIA_MAXSIZE", crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        # Bodies above this size stream to disk as they download (crawl/handlers.py), never whole in memory.
        pipeline.spool_meta = {SPOOL_DIR_META: str(run.archive.layout.spool),  # type: ignore[attr-defined]
                               SPOOL_THRESHOLD_META: crawler.settings.getint("MEDIA_SPOOL_THRESHOLD",
                                                                             DEFAULT_SPOOL_THRESHOLD)}
        # A file many articles show (a shared photo, a banner) is asked for once a run: its result, by URL.
        # FilesPipeline would answer a second request from its own cache too, but only after building,
        # fingerprinting and scheduling it, which at zero delay is the reactor's time taken from downloads.
        pipeline.stored_this_run = {}  # type: ignore[attr-defined]
        return pipeline

    def get_media_requests(self, item: ArticleItem, info: MediaPipeline.SpiderInfo) -> list[Request]:
        refresh = getattr(info.spider, "refresh", False)
        if refresh:
            self.expires = 0  # -a refresh=1: stored media count as expired and are fetched again
        index = self.run.index  # type: ignore[attr-defined]
        maxsize = getattr(self, "media_maxsize", 0)
        stored: dict[str, dict[str, Any]] = self.stored_this_run  # type: ignore[attr-defined]
        requests = []
        for url, name, shown in _wanted_files(item.article):
            key = canonical_url(url)
            known = stored.get(key)
            if known is not None and known.get(SHOWN_COPY_META, False) == shown:
                item.files_known.append(known)
                self.crawler.stats.inc_value("cumt/media_reused")  # type: ignore[union-attr]
                continue
            if not refresh and index.media_settled(key):
                continue  # gone (404/410) or refused earlier: plain runs do not ask again
            # identity: the original bytes, which a large body can stream to disk as they come
            requests.append(Request(url, headers={"Accept-Encoding": "identity"},
                                    meta={"media_name": name, "allow_offsite": True, SHOWN_COPY_META: shown,
                                          "article_url": item.article.url, **self.spool_meta,  # type: ignore[attr-defined]
                                          **({"download_maxsize": maxsize} if maxsize else {})}))
        return requests

    def media_to_download(self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None) -> Any:
        """A stored file counts as done only if the WARC files hold it too (the WARC is the archive):
        media stored before they were captured, or whose capture a crash lost, are fetched again."""
        captured = self.run.index.db.execute(  # type: ignore[attr-defined]
            "SELECT 1 FROM captures WHERE url=? AND status BETWEEN 200 AND 399 LIMIT 1", (request.url,)).fetchone()
        if captured is None:
            return None
        if request.meta.get(SHOWN_COPY_META):  # kept in the WARC only: captured is all it needs
            return None if self.expires == 0 else _shown_copy_info(request.url, "uptodate")
        return super().media_to_download(request, info, item=item)

    async def media_downloaded(self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *,
                               item: Any = None) -> Any:
        spool = spooled_body(response)
        if response.status != 200 or not (spool.length if spool is not None else response.body):
            raise MediaHTTPStatus(response.status)
        if request.meta.get(SHOWN_COPY_META):
            return _shown_copy_info(request.url, "downloaded")  # the capture has put it in the WARC
        # FilesPipeline's own steps, written out: its media_downloaded refuses an empty response.body (a
        # spooled body is on disk), and logs a failure to store the file with a traceback, while
        # file_downloaded has already stopped the run with one clear line (a full disk) and media_failed
        # gives the file its one line too.
        status = "cached" if "cached" in response.flags else "downloaded"
        self.inc_stats(status)
        path = self.file_path(request, response=response, info=info, item=item)
        checksum = await self.file_downloaded(response, request, info, item=item)
        return {"url": request.url, "path": path, "status": status, "checksum": checksum}

    async def file_downloaded(self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *,
                              item: Any = None) -> str:
        try:
            spool = spooled_body(response)
            if spool is None:
                # FilesPipeline's gives an awaitable (Scrapy 2.19): the store writes the file when it is
                # awaited, so a storage failure is raised here, where it is caught, not by the caller.
                downloaded = super().file_downloaded(response, request, info, item=item)
                checksum: str = await ensure_awaitable(downloaded)
                return checksum
            self.store.persist_spooled(self.file_path(request, response=response, info=info, item=item),  # type: ignore[attr-defined]
                                       spool)
            return spool.md5_hex
        except STORAGE_ERRORS as exc:
            self.run.storage_failed(exc, f"writing media {request.url}")  # type: ignore[attr-defined]
            raise FileException(f"cannot write media: {exc}") from exc

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> NoReturn:
        exc = failure.value
        status = exc.status if isinstance(exc, MediaHTTPStatus) else None
        verdict = media_failure_verdict(exc, status)
        try:
            self.run.index.record_media(canonical_url(request.url), verdict.outcome, verdict.reason)  # type: ignore[attr-defined]
        except STORAGE_ERRORS as err:
            self.run.storage_failed(err, f"recording media {request.url}")  # type: ignore[attr-defined]
        article = request.meta.get("article_url")
        if verdict.outcome is Outcome.FAILED:
            logger.warning("media not downloaded (%s), kept as a link and retried by a later run: %s in %s",
                           verdict.reason, request.url, article)
        else:
            logger.warning("media %s (%s), kept as a link and not asked for again: %s in %s",
                           verdict.outcome.value, verdict.reason, request.url, article)
        # Scrapy logs a traceback for any other exception; this failure has had its one line above.
        raise _MediaRequestFiltered(verdict.reason)

    def file_path(self, request: Request, response: Any = None, info: Any = None, *, item: Any = None) -> str:
        return media_relpath(request.url, request.meta.get("media_name", ""))

    def item_completed(self, results: list[Any], item: ArticleItem, info: MediaPipeline.SpiderInfo) -> ArticleItem:
        run = self.run  # type: ignore[attr-defined]
        stored: dict[str, dict[str, Any]] = self.stored_this_run  # type: ignore[attr-defined]
        fetched = [r for ok, r in results if ok]
        for ok, result in results:
            run.count(("shown" if result.get(SHOWN_COPY_META) else "media") if ok else "media_failed")
        for result in fetched:
            key = canonical_url(result["url"])
            run.index.record_media(key, Outcome.ARCHIVED)
            stored[key] = result
        for result in item.files_known:  # counted as the file's every article counts it; recorded already
            run.count("shown" if result.get(SHOWN_COPY_META) else "media")
        fetched += item.files_known
        item.files = [r for r in fetched if not r.get(SHOWN_COPY_META)]
        # The article is written all the same: a missing image must not lose its story. Only files that
        # may still come (failed, not gone or refused) bring the article back in later runs.
        have = {canonical_url(r["url"]) for r in fetched}
        item.media_missing = sum(1 for url, _, _ in _wanted_files(item.article)
                                 if canonical_url(url) not in have and not run.index.media_settled(canonical_url(url)))
        return item


# On a media request: the file is the image as the page shows it (a scaled copy), not an original.
SHOWN_COPY_META = "shown_copy"


def _wanted_files(article: Article) -> list[tuple[str, str, bool]]:
    """(URL, name, shown copy?) of every file an article needs: its originals (media/ and the WARC), then
    the copies its page displays instead of them (the WARC only, so a replay shows the page as seen)."""
    originals = [(m.url, m.name, False) for m in article.media]
    have = {url for url, _, _ in originals}
    shown = [(m.shown, "", True) for m in article.images if m.shown and m.shown not in have]
    return [*originals, *dict.fromkeys(shown)]


def _shown_copy_info(url: str, status: str) -> dict[str, Any]:
    return {"url": url, "path": "", "checksum": None, "status": status, SHOWN_COPY_META: True}


class MarkdownPipeline:
    """One Markdown file per article, written atomically, then recorded in the index."""

    def __init__(self, crawler: Crawler) -> None:
        self.run = get_run(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "MarkdownPipeline":
        return cls(crawler)

    def process_item(self, item: ArticleItem, spider: Spider | None = None) -> ArticleItem:
        try:
            return self._archive(item)
        except STORAGE_ERRORS as exc:  # the file is written; the index could not record all of it
            self.run.storage_failed(exc, f"recording {item.article.url} in the index")
            raise DropItem(f"{item.article.url}: cannot record in the index: {exc}") from exc

    def _archive(self, item: ArticleItem) -> ArticleItem:
        article = item.article
        archive, index = self.run.archive, self.run.index
        try:
            published = archive.archive_article(
                article, warc_file=item.warc_ref.file if item.warc_ref else None,
                warc_offset=item.warc_ref.offset if item.warc_ref else None, fetched_at=item.fetched_at,
                media_missing=item.media_missing,
            )
        except STORAGE_ERRORS as exc:
            self.run.count("failed")
            self.run.storage_failed(exc, f"writing {article.url}")
            try:
                index.record_outcome(urlname=article.urlname, url=article.url, status=Outcome.FAILED,
                                     reason=f"write failed: {exc}")
            except STORAGE_ERRORS:
                pass  # not even the index can be written: the story is unknown, and the next run fetches it
            raise DropItem(f"{article.url}: cannot write Markdown: {exc}") from exc
        if isinstance(published, Duplicate):
            self.run.count("duplicates")
            logger.info("same story as %s, not written again: %s", published.owner_url, article.url)
            return item
        for alias in item.aliases:
            index.record_outcome(urlname=urlname(alias), url=alias, status=Outcome.ALIAS,
                                 reason=f"redirects to {article.canonical_url}")
        if item.list_url:
            index.record_sighting(article.urlname, item.list_url, item.column)
        if published.replaces:
            self.run.count("duplicates")
            logger.info("same story as %s, which is a copy: the story now lives at %s -> %s", published.replaces,
                        article.url, published.relpath)
        if published.created:
            self.run.count("new")
            logger.info("new article %s -> %s", article.url, published.relpath)
        elif published.changed:
            self.run.count("updated")
            logger.info("updated article %s -> %s", article.url, published.relpath)
        else:
            self.run.count("unchanged")
        return item
