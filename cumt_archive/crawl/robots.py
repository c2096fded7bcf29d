"""robots.txt, as Scrapy obeys it, with a typed refusal the spider can record."""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import RobotParser

from .refusals import ForbiddenByRobots


class TypedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except ForbiddenByRobots:
            raise
        except IgnoreRequest as exc:
            raise ForbiddenByRobots(f"forbidden by robots.txt: {request.url}") from exc
