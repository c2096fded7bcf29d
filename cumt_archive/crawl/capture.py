"""WARC capture during a crawl: each response, as it arrives, into the run's WARC file and the index."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

from ..archive import Archive
from ..store.warc import WarcCapture
from .scrapy_page import raw_page


class PageCapture:
    def __init__(self, archive: Archive) -> None:
        assert archive.index is not None
        self.index = archive.index
        self.warc = WarcCapture(archive.layout.warc)

    def response_received(self, response: Response, request: Request) -> None:
        if not request.meta.get("capture"):
            return
        page = raw_page(response)
        ref = self.warc.write(page)
        request.meta["warc_ref"] = ref
        self.index.record_capture(page.url, page.status, page.fetched_at, ref.file, ref.offset)

    def close(self) -> None:
        self.warc.close()
