"""The archive run: owns the archive for the crawl, and reports the outcome."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings

from ..archive import Archive
from ..profile import ProfileError, load_profile
from ..render import LAYOUTS, MEDIA_LINKS
from ..store.files import ArchiveLayout
from ..status import output_settings, remembered_settings
from ..store.lock import ArchiveBusy, ArchiveLock
from .capture import PageCapture

logger = logging.getLogger(__name__)

COUNTS = ("new", "updated", "unchanged", "duplicates", "failed", "not_articles", "gone", "media", "media_failed",
          "lists", "offsite")


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


def archive_busy_message(settings: BaseSettings) -> str | None:
    """Probe the archive's lock without keeping it, so a second run can refuse before starting Scrapy."""
    lock = ArchiveLock(ArchiveLayout(Path(settings.get("ARCHIVE_DIR"))).lock)
    if not lock.path.exists():
        return None
    try:
        lock.acquire()
    except ArchiveBusy as exc:
        return str(exc)
    lock.release()
    return None


def get_run(crawler: Crawler) -> "ArchiveRun":
    run = getattr(crawler, "archive_run", None)
    if run is None:
        raise RuntimeError("cumt_archive.crawl.run.ArchiveRun is not enabled in EXTENSIONS")
    return run


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
        self.columns_done: set[str] = set()  # columns whose walk ended by a rule (last page, since, ...)
        self.columns_incomplete: set[str] = set()  # ... unless one of their list pages failed
        self.run_id = 0
        crawler.archive_run = self  # type: ignore[attr-defined]
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ArchiveRun":
        return cls(crawler)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"cumt/{key}", n)

    def spider_opened(self, spider: Spider) -> None:
        args: dict[str, Any] = getattr(spider, "run_arguments", {})
        self.run_id = self.index.start_run("crawl", args)
        logger.info("archive %s: run %d started (%s)", self.archive.layout.root, self.run_id, args or "defaults")

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        self.capture.response_received(response, request)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.capture.close()
        if reason == "finished":
            for list_url in self.columns_done - self.columns_incomplete:
                self.index.mark_column_walked(list_url)
        failed = self.counts["failed"]
        exit_status = 0 if reason == "finished" and failed == 0 else 1
        self.crawler.cumt_exit_status = exit_status  # type: ignore[attr-defined]
        self.index.finish_run(self.run_id, exit_status, dict(self.counts))
        summary = " ".join(f"{k}={self.counts[k]}" for k in COUNTS)
        # Logged by the crawl command once the engine has stopped, so that it is the log's last line.
        self.crawler.cumt_summary = f"run {self.run_id} {reason}: {summary}"  # type: ignore[attr-defined]
        self.archive.close()
