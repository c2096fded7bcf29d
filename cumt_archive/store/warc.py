"""Raw capture: every fetched page as gzipped WARC records, readable by any web-archive tool.

A run writes `warc/<name>.warc.gz.open` and renames it on close. A file left
`.open` by a killed run is cut back to its last whole record and renamed by
the next run, so no half record is ever read as content.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ..model import RawPage

OPEN_SUFFIX = ".open"
# Scrapy hands us decoded bodies; headers that described the wire encoding would lie in the archive.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class WarcRef:
    file: str  # file name inside the warc folder, without the .open suffix
    offset: int


def _warc_date(fetched_at: str) -> str:
    if fetched_at:
        return fetched_at
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcCapture:
    def __init__(self, folder: Path, prefix: str = "cumt") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S%f")  # sorts runs, even within a second
        self.name = f"{prefix}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.warc.gz"
        self.folder = folder
        self._path = folder / (self.name + OPEN_SUFFIX)
        self._handle = open(self._path, "ab")
        self._writer = WARCWriter(None, gzip=False)  # makes records; _append compresses and writes them
        self.records = 0
        self._append(self._writer.create_warcinfo_record(self.name, {
            "software": "cumt-archive (Scrapy)",
            "format": "WARC File Format 1.1",
            "description": "pages fetched for the cumt-archive news archive, exactly as received "
                           "(bodies decoded from their transfer/content encoding)",
        }))

    def _append(self, record) -> int:  # type: ignore[no-untyped-def]
        """One record as one gzip member (so each can be read alone), flushed; returns its offset.

        Compressed here at zlib's default level rather than by warcio, whose level 9 costs more
        time than extracting the page does, for a few percent of size.
        """
        raw = io.BytesIO()
        WARCWriter(raw, gzip=False).write_record(record)
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        offset = self._handle.tell()
        try:
            self._handle.write(compressor.compress(raw.getvalue()) + compressor.flush())
            self._handle.flush()
        except OSError:
            # Disk full mid-record: cut the partial record off, so the file stays whole records only.
            try:
                self._handle.seek(offset)
                self._handle.truncate(offset)
            except OSError:
                pass  # the next run's recovery cuts it back instead
            raise
        return offset

    def write(self, page: RawPage, method: str = "GET") -> WarcRef:
        headers = [(k, v) for k, v in page.headers.items() if k.lower() not in _WIRE_HEADERS]
        headers.append(("Content-Length", str(len(page.body))))
        http_headers = StatusAndHeaders(f"{page.status} {_reason(page.status)}", headers, protocol="HTTP/1.1")
        record = self._writer.create_warc_record(
            page.url,
            "response",
            payload=io.BytesIO(page.body),
            length=len(page.body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": _warc_date(page.fetched_at)},
        )
        offset = self._append(record)
        self.records += 1
        return WarcRef(self.name, offset)

    def close(self) -> None:
        if self._handle.closed:
            return
        self._handle.close()
        if self.records:
            os.replace(self._path, self.folder / self.name)
        else:
            self._path.unlink(missing_ok=True)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _to_page(record) -> RawPage:  # type: ignore[no-untyped-def]
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http else 0
    headers = dict(http.headers) if http else {}
    return RawPage(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        body=record.content_stream().read(),
        status=status,
        headers=headers,
        fetched_at=record.rec_headers.get_header("WARC-Date") or "",
    )


class WarcTruncated(ArchiveLoadFailed):
    """A WARC file that ends inside a record: warcio stops there without a word, this says so."""


def iter_pages(path: Path) -> Iterator[tuple[int, RawPage]]:
    """(offset, page) for every response record of a WARC file, in file order.

    Digests are checked as the records are read (a record garbled in place raises ArchiveLoadFailed), and
    WarcTruncated is raised, after every whole record, when the file does not end on a record boundary.
    """
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle, check_digests="raise")
        last = None
        records = iter(iterator)
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except ArchiveLoadFailed:
                raise
            except (AttributeError, ValueError, EOFError, zlib.error) as exc:  # how warcio meets garbage
                raise ArchiveLoadFailed(f"{path}: garbled record after byte {iterator.offset}: {exc}") from exc
            if record.rec_type == "response":
                page = _to_page(record)  # before asking the offset, which makes warcio skip the payload
                last = iterator.get_record_offset()
                yield last, page
            else:
                last = iterator.get_record_offset()
        size = os.fstat(handle.fileno()).st_size
        if iterator.offset < size:
            raise WarcTruncated(f"{path}: bytes {iterator.offset}-{size} are not whole WARC records")
        if last is not None and path.name.endswith(".gz") and not _gzip_member_whole(handle, last):
            raise WarcTruncated(f"{path}: the last record (at byte {last}) lacks its gzip trailer")


def _gzip_member_whole(handle: BinaryIO, offset: int) -> bool:
    """warcio reads a gzip member without checking its trailer; a cut that removes only the trailer shows here."""
    handle.seek(offset)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    while not inflater.eof:
        chunk = handle.read(1 << 20)
        if not chunk:
            return False
        try:
            inflater.decompress(chunk)
        except zlib.error:
            return False
    return True


def read_page(path: Path, offset: int) -> RawPage:
    with open(path, "rb") as handle:
        handle.seek(offset)
        for record in ArchiveIterator(handle):
            return _to_page(record)
    raise ArchiveLoadFailed(f"{path}@{offset}: no WARC record there")


def warc_files(folder: Path) -> list[Path]:
    """Closed WARC files, oldest first (names start with a UTC timestamp)."""
    if not folder.exists():
        return []
    return sorted((p for p in folder.glob("*.warc.gz")), key=lambda p: p.name.split("-", 1)[-1])


def recover_open_files(folder: Path) -> list[str]:
    """Cut WARC files left open by a killed run back to whole records and close them."""
    recovered = []
    for path in sorted(folder.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        good_end = 0
        try:
            with open(path, "rb") as handle:
                iterator = ArchiveIterator(handle)
                for record in iterator:
                    record.content_stream().read()
                    good_end = iterator.get_record_offset() + iterator.get_record_length()
        except Exception as exc:  # noqa: BLE001 - warcio raises many kinds on a torn record; all mean "cut here"
            recovered.append(f"{path.name}: cut at byte {good_end} ({type(exc).__name__})")
        with open(path, "r+b") as handle:
            handle.truncate(good_end)
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        if good_end:
            os.replace(path, final)
        else:
            path.unlink()
        recovered.append(f"{path.name}: closed with {good_end} bytes")
    return recovered
