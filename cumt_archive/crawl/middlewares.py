"""Downloader middlewares: Scrapy's own, adjusted for an archive that must explain itself."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import IgnoreRequest

from .refusals import OffsiteRedirect

logger = logging.getLogger(__name__)


class ContactUserAgentMiddleware(UserAgentMiddleware):
    """USER_AGENT with the operator's CONTACT setting filled in, so `-s CONTACT=...` is all it takes."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ContactUserAgentMiddleware":
        settings = crawler.settings
        middleware = cls(settings.get("USER_AGENT", "").replace("{contact}", settings.get("CONTACT", "")))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware


class RecordingOffsiteMiddleware(OffsiteMiddleware):
    """An off-site redirect of a story is logged with the story's URL and refused with a typed reason,
    which the spider records so that it is not asked for again every day."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            origins = request.meta.get("redirect_urls")
            run = getattr(self.crawler, "archive_run", None)
            if origins and run is not None:
                story = origins[0]
                logger.warning("redirects off-site, not followed: %s -> %s", story, request.url)
                raise OffsiteRedirect(f"redirects off-site to {request.url}")
            raise
