"""A callback that fails to write the archive (disk full, read-only) stops the run with one line, not a traceback."""

from __future__ import annotations

from typing import Any, Iterable

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from .run import STORAGE_ERRORS, ArchiveRun, get_run


class StorageErrorSpiderMiddleware:
    def __init__(self, run: ArchiveRun) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorageErrorSpiderMiddleware":
        return cls(get_run(crawler))

    def process_spider_exception(self, response: Response, exception: Exception,
                                 spider: Spider | None = None) -> Iterable[Any] | None:
        if isinstance(exception, STORAGE_ERRORS):
            self.run.storage_failed(exception, f"while handling {response.url}")
            return []
        return None
