"""Downloader middleware: stop asking a host that answered with a firewall challenge."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)


class HostChallengeMiddleware:
    """After an HTTP 412 script challenge, requests to that host are dropped for the rest of the run.

    Hammering a firewall that has started challenging us only gets the
    crawler blocked for longer; the stories are retried by the next run.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.blocked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "HostChallengeMiddleware":
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url).hostname or ""
        if host in self.blocked:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("cumt/challenge_skipped")
            raise IgnoreRequest(f"{host} answered a script challenge earlier in this run: {request.url} not requested")

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if response.status == 412:
            host = urlsplit(request.url).hostname or ""
            if host not in self.blocked:
                self.blocked.add(host)
                logger.error("HTTP 412 script challenge at %s: no more requests to %s in this run", request.url, host)
        return response
