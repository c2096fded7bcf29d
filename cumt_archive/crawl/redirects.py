"""Where each story's redirects led, so a redirect the duplicate filter drops still gets an outcome.

WebPlus lists on www.cumt.edu.cn point at xwzx articles through `/_redirect?...` links. When the target
is already requested under its own URL, Scrapy's duplicate filter drops the redirected request without a
callback; remembering the Location lets the spider record the link as an alias of its target (and a
later run then asks for neither), while a chain that leads back to where it started is a redirect loop.
"""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response

from .run import ArchiveRun, get_run


class RedirectMemoryMiddleware:
    """Sits just outside RedirectMiddleware (a higher number sees the 3xx response first)."""

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RedirectMemoryMiddleware":
        return cls(get_run(crawler))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            origin = (request.meta.get("redirect_urls") or [request.url])[0]
            self.run.redirect_targets[origin] = urljoin(request.url, location.decode("latin-1"))
        return response
