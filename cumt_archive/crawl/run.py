"""The archive run: owns the archive for the crawl, and reports the outcome."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings

from ..archive import Archive, IndexDamaged
from ..check import index_health
from ..profile import ProfileError, load_profile
from ..render import LAYOUTS, MEDIA_LINKS
from ..store.files import ArchiveLayout
from ..status import output_settings, remembered_settings
from ..store.lock import ArchiveLock
from ..walk import Stop
from .capture import PageCapture

logger = logging.getLogger(__name__)

COUNTS = ("new", "updated", "unchanged", "duplicates", "failed", "not_articles", "gone", "refused", "media",
          "media_failed", "lists", "offsite", "shown")


def validate_settings(settings: BaseSettings) -> None:
    """The archive settings, checked before anything starts; ValueError says which one is wrong and why."""
    try:
        load_profile(settings.get("SITE_PROFILE"))
    except ProfileError as exc:
        raise ValueError(f"SITE_PROFILE: {exc}") from exc
    root = Path(settings.get("ARCHIVE_DIR") or "")
    if not str(root):
        raise ValueError("ARCHIVE_DIR is empty")
    if root.exists() and not root.is_dir():
        raise ValueError(f"ARCHIVE_DIR={root}: exists and is not a directory")
    if settings.get("MARKDOWN_LAYOUT") not in LAYOUTS:
        raise ValueError(f"MARKDOWN_LAYOUT={settings.get('MARKDOWN_LAYOUT')!r}: use one of {', '.join(LAYOUTS)}")
    if settings.get("MARKDOWN_MEDIA_LINKS") not in MEDIA_LINKS:
        raise ValueError(f"MARKDOWN_MEDIA_LINKS={settings.get('MARKDOWN_MEDIA_LINKS')!r}: "
                         f"use one of {', '.join(MEDIA_LINKS)}")


def hold_archive(settings: BaseSettings) -> ArchiveLock:
    """Take the archive's lock for this process before Scrapy starts (the run takes it again inside).

    Raises ArchiveBusy when another run holds it, OSError when the archive cannot be created or written.
    """
    root = Path(settings.get("ARCHIVE_DIR"))
    root.mkdir(parents=True, exist_ok=True)
    layout = ArchiveLayout(root)
    lock = ArchiveLock(layout.lock)
    lock.acquire()
    damage = index_health(layout.index) if layout.index.exists() else None
    if damage is not None:
        lock.release()
        raise IndexDamaged(layout.index, damage)
    return lock


def get_run(crawler: Crawler) -> "ArchiveRun":
    run = getattr(crawler, "archive_run", None)
    if run is None:
        raise RuntimeError("cumt_archive.crawl.run.ArchiveRun is not enabled in EXTENSIONS")
    return run


STORAGE_ERRORS = (OSError, sqlite3.Error)  # disk full, read-only, I/O error: the archive cannot be written


class ArchiveRun:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        # The archive's own output settings stand unless this run sets them with -s (and then they stick).
        output = output_settings(settings, remembered_settings(Path(settings.get("ARCHIVE_DIR"))))
        self.archive = Archive(
            settings.get("ARCHIVE_DIR"),
            load_profile(settings.get("SITE_PROFILE")),
            output["render.layout"],
            output["render.media_links"],
        )
        self.archive.open()
        assert self.archive.index is not None
        self.index = self.archive.index
        for key, value in output.items():
            self.index.set_meta(key, value)
        self.index.set_meta("profile", settings.get("SITE_PROFILE"))
        self.capture = PageCapture(self.archive)
        self.counts: Counter[str] = Counter({k: 0 for k in COUNTS})
        self.walk_ends: dict[str, Stop] = {}  # column -> how its walk ended (see walk.py)
        self.columns_failed: set[str] = set()  # columns with a list page that could not be read
        self.storage_error: str | None = None  # the first write to the archive that failed
        self.redirect_targets: dict[str, str] = {}  # story URL -> where its last redirect pointed
        self.run_id = 0
        crawler.archive_run = self  # type: ignore[attr-defined]
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        # response_downloaded, not response_received: it comes before the downloader middlewares, so
        # redirects are captured too, and bodies are still as they came over the wire.
        crawler.signals.connect(self.response_received, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ArchiveRun":
        return cls(crawler)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"cumt/{key}", n)

    # -- columns ---------------------------------------------------------------------------

    def column_walk_ends(self, list_url: str, stop: Stop) -> None:
        self.walk_ends[list_url] = stop

    def column_failed(self, list_url: str) -> None:
        self.columns_failed.add(list_url)
        self.count("failed")

    def incomplete_columns(self) -> list[str]:
        """Columns this run had to walk and did not walk completely (a list page failed, or a limit cut it)."""
        out = set(self.columns_failed)
        out.update(url for url, stop in self.walk_ends.items() if not stop.complete)
        return sorted(out)

    # -- storage ---------------------------------------------------------------------------

    def storage_failed(self, exc: BaseException, what: str) -> None:
        """A write to the archive failed: say so once, and stop the run (the next run completes the work)."""
        if self.storage_error is None:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            self.storage_error = f"{what}: {detail}"
            logger.error("cannot write the archive %s (%s); stopping the run, nothing half-written is kept",
                         self.archive.layout.root, self.storage_error)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason="storage_error"))

    # -- signals ---------------------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        args: dict[str, Any] = getattr(spider, "run_arguments", {})
        self.run_id = self.index.start_run("crawl", args)
        logger.info("archive %s: run %d started (%s)", self.archive.layout.root, self.run_id, args or "defaults")

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        try:
            self.capture.response_received(response, request)
        except STORAGE_ERRORS as exc:
            request.meta["capture_failed"] = str(exc)
            self.storage_failed(exc, f"WARC capture of {response.url}")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        try:
            self.capture.close()
        except STORAGE_ERRORS as exc:
            self.storage_failed(exc, "closing the WARC file")
        incomplete = self.incomplete_columns()
        if reason == "finished" and self.storage_error is None:
            try:
                for list_url, stop in self.walk_ends.items():
                    if stop.complete and list_url not in self.columns_failed:
                        self.index.mark_column_complete(list_url, self.run_id)
            except STORAGE_ERRORS as exc:
                self.storage_failed(exc, "recording column walks in the index")
        for list_url in incomplete:
            if list_url not in self.columns_failed:  # a failed list page has said so already, in its own line
                logger.warning("column %s is not walked completely in this run (%s); the next run continues it",
                               list_url, self.walk_ends[list_url].value)
        failed = self.counts["failed"]
        exit_status = 0 if reason == "finished" and failed == 0 and self.storage_error is None else 1
        self.crawler.cumt_exit_status = exit_status  # type: ignore[attr-defined]
        try:
            self.index.finish_run(self.run_id, exit_status, dict(self.counts))
        except STORAGE_ERRORS as exc:
            self.storage_failed(exc, "recording the run in the index")
        summary = " ".join(f"{k}={self.counts[k]}" for k in COUNTS)
        if self.storage_error:
            summary += f"; archive not writable: {self.storage_error}"
        # Logged by the crawl command once the engine has stopped, so that it is the log's last line.
        self.crawler.cumt_summary = f"run {self.run_id} {reason}: {summary}"  # type: ignore[attr-defined]
        try:
            self.archive.close()
        except STORAGE_ERRORS:
            pass  # the lock dies with the process; the summary is what matters
