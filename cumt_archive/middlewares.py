"""Scrapy's OffsiteMiddleware, made to say so when a story redirects off-site.

Scrapy drops an off-site redirect silently at scheduling time; an archivist
wants it logged with the story's URL and recorded, so it is not asked for
again every day.
"""

from __future__ import annotations

import logging

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

from .urls import urlname

logger = logging.getLogger(__name__)


class RecordingOffsiteMiddleware(OffsiteMiddleware):
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            origins = request.meta.get("redirect_urls")
            run = getattr(self.crawler, "archive_run", None)
            if origins and run is not None:
                story = origins[0]
                run.index.record_outcome(urlname=urlname(story), url=story, status="not_article",
                                         reason=f"redirects off-site to {request.url}")
                run.count("offsite")
                logger.warning("redirects off-site, not followed: %s -> %s", story, request.url)
            raise
