"""Downloader middlewares: Scrapy's own, adjusted for an archive that must explain itself."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from .refusals import ForbiddenByRobots, OffsiteRedirect

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


class QuietRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, but a host it cannot reach is one log line, not a traceback,
    and a refusal is a typed ForbiddenByRobots that the spider records.

    The line names the host and the network error once per host; the pages of that host then fail
    on their own, each with its column or story in one line of the spider's.
    """

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except ForbiddenByRobots:
            raise
        except IgnoreRequest as exc:
            raise ForbiddenByRobots(f"forbidden by robots.txt: {request.url}") from exc

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots_request = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                                     meta={"dont_obey_robotstxt": True}, callback=NO_CALLBACK)
            try:
                assert self.crawler.engine is not None
                response = await self.crawler.engine.download_async(robots_request)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:  # noqa: BLE001 - any failure means "no robots.txt", as in Scrapy
                if not isinstance(exc, IgnoreRequest):
                    logger.error("cannot reach %s: %s", url.hostname or netloc, network_error_text(exc))
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser


def network_error_text(exc: BaseException) -> str:
    """A network failure as one short phrase (`DNS lookup failed: ...`), without a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
