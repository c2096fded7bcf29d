"""HTTP download handler that stops talking to a host once it answers with a firewall challenge.

The check sits in the download handler, not a middleware: a middleware sees a
request when it enters the downloader, possibly long before its slot lets it
out, while this runs just before the bytes go on the wire. The first request
to each host goes alone; the others wait for its answer, so a host that
challenges at once receives no second request.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from .refusals import ChallengedHost

logger = logging.getLogger(__name__)
CHALLENGE_STATUS = 412


class ChallengeAwareHTTPHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.challenged: set[str] = set()
        self._answered: set[str] = set()
        self._waiting: dict[str, list[Deferred[None]]] = {}

    async def download_request(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        # robots.txt is asked for before anything else and says nothing about challenges: it is no probe.
        if host not in self._answered and parts.path != "/robots.txt":
            if host in self._waiting:
                waiter: Deferred[None] = Deferred()
                self._waiting[host].append(waiter)
                await maybe_deferred_to_future(waiter)
            else:
                self._waiting[host] = []
                try:
                    return await self._fetch(request, host)
                finally:
                    self._answered.add(host)
                    for waiter in self._waiting.pop(host):
                        waiter.callback(None)
        return await self._fetch(request, host)

    async def _fetch(self, request: Request, host: str) -> Response:
        if host in self.challenged:
            if self._crawler.stats is not None:
                self._crawler.stats.inc_value("cumt/challenge_skipped")
            raise ChallengedHost(f"{host} answered a script challenge earlier in this run: {request.url} not requested")
        response = await super().download_request(request)
        if response.status == CHALLENGE_STATUS and host not in self.challenged:
            self.challenged.add(host)
            logger.error("HTTP 412 script challenge at %s: no more requests to %s in this run", request.url, host)
        return response
