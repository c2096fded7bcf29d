"""HTTP download handler: stops talking to a host once it answers with a firewall challenge, and
streams large media bodies to disk instead of holding them in memory.

The check sits in the download handler, not a middleware: a middleware sees a
request when it enters the downloader, possibly long before its slot lets it
out, while this runs just before the bytes go on the wire. The first request
to each host goes alone; the others wait for its answer, so a host that
challenges at once receives no second request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.crawler import Crawler
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.web.client import Response as TxResponse
from twisted.web.iweb import UNKNOWN_LENGTH

from ..store.spool import SpooledBody
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
        if request.meta.get(SPOOL_DIR_META):
            response = await self._download_spooling(request)
        else:
            response = await super().download_request(request)
        if response.status == CHALLENGE_STATUS and host not in self.challenged:
            self.challenged.add(host)
            logger.error("HTTP 412 script challenge at %s: no more requests to %s in this run", request.url, host)
        return response

    async def _download_spooling(self, request: Request) -> Response:
        """HTTP11DownloadHandler.download_request with an agent that may stream the body to disk."""
        agent = _SpoolingAgent(
            contextFactory=self._contextFactory, bindAddress=self._bind_address, pool=self._pool,
            maxsize=self._default_maxsize, warnsize=self._default_warnsize, fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler, tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            logger.warning(get_dataloss_msg(request.url))
            raise


# -- streaming large bodies to disk ----------------------------------------------------------

# Set by the media pipeline on its requests: the folder large bodies are spooled into.
SPOOL_DIR_META = "spool_dir"
# Bodies at most this long (by Content-Length) stay in memory: a small image costs no file of its own.
SPOOL_THRESHOLD_META = "spool_threshold"
DEFAULT_SPOOL_THRESHOLD = 1 << 20


class SpooledResponse(Response):
    """A response whose body is on disk (`spool`), not in `body` (which is empty)."""

    __slots__ = ("spool",)
    attributes = (*Response.attributes, "spool")

    def __init__(self, *args: Any, spool: SpooledBody, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spool = spool


def spooled_body(response: Response) -> SpooledBody | None:
    return response.spool if isinstance(response, SpooledResponse) else None


def should_spool(content_length: int | None, content_encoding: bytes | None, threshold: int) -> bool:
    """Stream to disk a body that is large or of unknown length, unless it is content-encoded: Scrapy
    decodes those in memory after the download (and media requests ask for identity anyway)."""
    if content_encoding and content_encoding.strip().lower() not in (b"", b"identity"):
        return False
    return content_length is None or content_length > threshold


class _SpoolingAgent(_ScrapyAgent):
    """Scrapy's agent, whose body reader writes into a SpooledBody instead of a BytesIO.

    Scrapy's reader keeps the body in `_bodybuf`, a BytesIO it writes to, truncates past the size limit
    and reads with getvalue() at the end; SpooledBody answers those three calls with a file. Everything
    else (proxies, TLS, timeouts, size limits, data-loss checks, signals) stays Scrapy's own.
    """

    _spool: SpooledBody | None = None  # this download's, when its body streams to disk

    def _cb_bodyready(self, txresponse: TxResponse, request: Request) -> Any:
        length = None if txresponse.length == UNKNOWN_LENGTH else int(txresponse.length)
        encoding = txresponse.headers.getRawHeaders(b"content-encoding", [None])[0]
        threshold = int(request.meta.get(SPOOL_THRESHOLD_META, DEFAULT_SPOOL_THRESHOLD))
        spool = SpooledBody(Path(request.meta[SPOOL_DIR_META])) \
            if length != 0 and should_spool(length, encoding, threshold) else None
        in_memory_limit = self._maxsize  # DOWNLOAD_MAXSIZE: what any body held in memory may reach
        deliver = txresponse.deliverBody

        def deliver_into(protocol: Any) -> None:
            if spool is not None:
                protocol._bodybuf = spool
            elif in_memory_limit:
                # Not streamed (content-encoded): held in memory, so the page limit applies, not MEDIA_MAXSIZE.
                protocol._maxsize = min(protocol._maxsize or in_memory_limit, in_memory_limit)
            deliver(protocol)

        txresponse.deliverBody = deliver_into  # type: ignore[method-assign]
        self._spool = spool
        return super()._cb_bodyready(txresponse, request)

    def _cb_bodydone(self, result: Any, url: str) -> Response:
        response = super()._cb_bodydone(result, url)
        spool = self._spool
        if spool is None:
            return response
        spool.finish()
        return SpooledResponse(url=response.url, status=response.status, headers=response.headers, body=b"",
                               flags=response.flags, request=response.request, certificate=response.certificate,
                               ip_address=response.ip_address, protocol=response.protocol, spool=spool)
