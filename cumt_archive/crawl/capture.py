"""WARC capture during a crawl: every exchange, as it comes off the wire, into the run's WARC and index.

Connected to Scrapy's `response_downloaded` signal, which the downloader sends before any downloader
middleware sees the response: so redirects (3xx), error answers, robots.txt, list and article pages,
images and attachments are all captured, with the headers as received and the body still in its
content encoding (HttpCompressionMiddleware decodes it only afterwards). A 200 response whose payload
the archive already holds is written as a revisit record instead of a second copy.

A page comes with its whole body in memory (bounded by DOWNLOAD_MAXSIZE); the record is compressed
from that buffer straight into the file, with no further copy. A large media body (a video) never is
in memory: the download handler streamed it to a spool file, taking its digests on the way, and the
record is compressed from that file, a chunk at a time.
"""

from __future__ import annotations

import hashlib
import logging

from scrapy import Request
from scrapy.http import Response

from ..archive import Archive
from ..store.cdxj import indexes_folder, update_cdxj
from ..store.payloads import PayloadStore
from ..store.warc import Exchange, WarcCapture, sha1_b32, warc_now
from .handlers import spooled_body

logger = logging.getLogger(__name__)


def _header_pairs(headers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(key.decode("latin-1"), value.decode("latin-1")) for key, values in headers.items() for value in values]


def exchange_of(response: Response, request: Request) -> Exchange:
    return Exchange(
        body_file=spooled_body(response),
        url=response.url,
        status=response.status,
        response_headers=_header_pairs(response.headers),
        body=response.body,
        method=request.method,
        request_headers=_header_pairs(request.headers),
        request_body=request.body or b"",
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        fetched_at=warc_now(),
    )


def deduplicable(exchange: Exchange) -> bool:
    """Only whole, successful payloads are worth a revisit; an empty body or an error page is cheaper as is."""
    return exchange.status == 200 and exchange.body_length > 0


def _is_page(exchange: Exchange) -> bool:
    for name, value in exchange.response_headers:
        if name.lower() == "content-type":
            return "html" in value.lower()
    return True


class PageCapture:
    def __init__(self, archive: Archive) -> None:
        assert archive.index is not None
        self.index = archive.index
        self.warc = WarcCapture(archive.layout.warc, index_folder=indexes_folder(archive.layout.root))
        self.payloads = PayloadStore(self.index.db)
        self.archive_root = archive.layout.root
        self.revisits = 0

    def response_received(self, response: Response, request: Request) -> None:
        exchange = exchange_of(response, request)
        spool = spooled_body(response)
        dedupe = deduplicable(exchange)
        if spool is not None:  # its digest was taken as it streamed in
            digest: str | None = sha1_b32(spool.sha1)
        else:
            digest = sha1_b32(hashlib.sha1(exchange.body)) if dedupe else None
        earlier = self.payloads.find(digest) if dedupe and digest else None
        if earlier is not None and earlier.target_url != exchange.url and _is_page(exchange):
            # A page is read back by reference as the URL it was captured under; only media (never
            # read as pages) are deduplicated across URLs.
            earlier = None
        written = self.warc.write_exchange(exchange, revisit_of=earlier, payload_digest=digest)
        with self.index.transaction():  # one commit for both rows
            if written.revisit:
                self.revisits += 1
            elif dedupe and digest:
                self.payloads.add(digest, exchange.url, written.warc_date, written.ref)
            self.index.record_capture(exchange.url, exchange.status, written.warc_date, written.ref.file,
                                      written.ref.offset)
        # The callback reads this page back by reference: point it at the record that holds the bytes.
        request.meta["warc_ref"] = earlier.ref if earlier is not None else written.ref

    def close(self) -> None:
        self.warc.close()
        if self.revisits:
            logger.info("%d refetched payloads were already archived: written as revisit records", self.revisits)
        update_cdxj(self.archive_root)  # after the file is closed and synced under its final name
