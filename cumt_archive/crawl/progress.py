"""A progress line about once a minute during a crawl (PROGRESS_INTERVAL seconds; 0 turns it off).

`progress: 340 pages, 57 queued, 12 new stories, 1 failure; about 1m30s left at 0.6 pages/s`

Scrapy's own LogStats line ("Crawled N pages (at M pages/min)") is hidden with the rest of Scrapy's
INFO lines; this one says what an operator wants: what is done, what is waiting, what went wrong.
The timer is Twisted's LoopingCall (Scrapy's reactor), so nothing else runs a clock.
"""

from __future__ import annotations

import logging
import time

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from ..progress import duration_text

logger = logging.getLogger(__name__)


def progress_line(pages: int, queued: int, new: int, failures: int, elapsed: float) -> str:
    """The line, pure. The estimate is shown only when it means something: pages are waiting and some
    were fetched (the queue of a column walk grows as lists are read, so it is a lower bound)."""
    rate = pages / elapsed if elapsed > 0 else 0.0
    line = (f"progress: {pages} pages, {queued} queued, {new} new {'story' if new == 1 else 'stories'}, "
            f"{failures} {'failure' if failures == 1 else 'failures'}")
    if queued and rate > 0:
        line += f"; at least {duration_text(queued / rate)} left at {rate:.1f} pages/s"
    elif pages:
        line += f"; {rate:.1f} pages/s"
    return line


class CrawlProgress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = 0.0
        self.task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "CrawlProgress":
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 60.0)
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.task = task.LoopingCall(self.log_progress)
        self.task.start(self.interval, now=False)

    def snapshot(self) -> tuple[int, int, int, int]:
        """(pages fetched, requests queued, new stories, failures) as the engine and the run know them."""
        stats = self.crawler.stats
        pages = int(stats.get_value("response_received_count", 0)) if stats else 0
        engine = self.crawler.engine
        queued = 0
        scheduler = engine.scheduler if engine is not None else None
        if engine is not None and scheduler is not None:
            queued = (len(scheduler) if hasattr(scheduler, "__len__") else 0) + len(engine.downloader.active)
        run = getattr(self.crawler, "archive_run", None)
        counts = run.counts if run is not None else {}
        return pages, queued, counts.get("new", 0), counts.get("failed", 0) + counts.get("media_failed", 0)

    def log_progress(self) -> None:
        logger.info(progress_line(*self.snapshot(), time.monotonic() - self.started))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
