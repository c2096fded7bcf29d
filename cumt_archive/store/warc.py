"""Raw capture: every exchange as gzipped WARC records, the archive's preservation copy.

A run writes `warc/<name>.warc.gz.open` and renames it on close, after an fsync of the file and then
of the folder. A file left `.open` by a killed run is cut back to its last whole record and renamed
by the next run, so no half record is ever read as content.

Records are serialized here rather than by warcio's writer: warcio reads a payload once for its
digests, then again into a buffer that is compressed and copied once more. Here each record's
header and payload go straight through one zlib stream into the file, and the digests are taken
in the same pass. warcio still reads every file (iteration, `warcio check`, pywb, cdxj-indexer).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_timestamp

from ..model import RawPage

OPEN_SUFFIX = ".open"
WARC_VERSION = "WARC/1.0"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
# Deflate, measured on this machine (2 shared cores, medians of 5 interleaved runs) over the 28 WebPlus/VSB
# corpus pages (1.3 MB) and 21 MB of random bytes standing in for JPEG/PNG/MP4 payloads:
#   HTML    zlib level 1: 156 MB/s, 0.180 of the size | zlib 6: 73 MB/s, 0.159 | zlib 0 (stored): 1.001
#           ISA-L (python-isal) level 1: 546 MB/s, 0.181 | level 2: 554 MB/s, 0.180 | level 3: 180 MB/s, 0.176
#   random  zlib level 1: 29 MB/s | ISA-L level 2: 510 MB/s | zlib level 0 (stored): 409 MB/s; all 1.000
# Text takes ISA-L's level 2: zlib level 1's size at 3.5 times its speed (the same gzip format: every reader
# of WARC files inflates it with zlib). Payloads that do not compress are stored (zlib level 0 still makes a
# valid gzip member), so capturing a video costs about what writing it does.
TEXT_LEVEL = 2
STORED_LEVEL = 0
_PROBE = 64 * 1024
_CHUNK = 1 << 20
# What cdxj-indexer says of a record without a payload (and so without a payload digest).
_EMPTY_DIGEST = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
_TEXT_TYPES = ("text/", "html", "xml", "json", "javascript", "css")
# The body we get is de-chunked: a Transfer-Encoding header would describe framing the record lacks.
_FRAMING_HEADERS = {"transfer-encoding"}
# Credentials of the proxy the crawl went through are none of the archive's business.
_PRIVATE_REQUEST_HEADERS = {"proxy-authorization"}


class WarcError(ValueError):
    """A WARC file or record that cannot be used; the message names the file and offset."""


@dataclass(frozen=True)
class WarcRef:
    file: str  # file name inside the warc folder, without the .open suffix
    offset: int


class FileBody(Protocol):
    """A body kept on disk while it downloads (store/spool.py): read in chunks, never whole."""

    @property
    def length(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...

    def head(self, size: int) -> bytes: ...


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as it went over the wire (body de-chunked, still in its content encoding).

    A large media body is not in `body` but in `body_file`, streamed into the record from disk.
    """

    url: str
    status: int
    response_headers: Sequence[tuple[str, str]]
    body: bytes
    method: str = "GET"
    request_headers: Sequence[tuple[str, str]] = ()
    request_body: bytes = b""
    protocol: str = "HTTP/1.1"
    fetched_at: str = ""
    body_file: FileBody | None = None

    @property
    def body_length(self) -> int:
        return self.body_file.length if self.body_file is not None else len(self.body)


@dataclass(frozen=True)
class Written:
    """Where a response (or revisit) record went, and what its payload is."""

    ref: WarcRef
    payload_digest: str  # "sha1:BASE32", as in the WARC-Payload-Digest header
    warc_date: str
    revisit: bool


def warc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha1_b32(hasher: "hashlib._Hash") -> str:
    return "sha1:" + base64.b32encode(hasher.digest()).decode("ascii")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _latin1(text: str) -> bytes:
    # Header values came off the wire as latin-1 (Scrapy keeps bytes); anything else is percent-safe UTF-8.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def compression_level(headers: Iterable[tuple[str, str]], body: bytes) -> int:
    """TEXT_LEVEL for text and for bodies that compress; STORED_LEVEL for the already compressed
    (images, video, archives), told by trying the first 64 KiB."""
    for name, value in headers:
        if name.lower() == "content-type" and any(t in value.lower() for t in _TEXT_TYPES):
            return TEXT_LEVEL
    if len(body) < 4096:
        return TEXT_LEVEL
    sample = memoryview(body)[:_PROBE]
    return STORED_LEVEL if len(isal_zlib.compress(sample, 1)) > 0.9 * len(sample) else TEXT_LEVEL


def http_response_head(status: int, headers: Iterable[tuple[str, str]], body_length: int,
                       protocol: str = "HTTP/1.1") -> bytes:
    """The HTTP response head as stored: the headers as received, less de-chunked framing."""
    lines = [f"{protocol or 'HTTP/1.1'} {status} {_reason(status)}".encode("ascii")]
    has_length = False
    for name, value in headers:
        lname = name.lower()
        if lname in _FRAMING_HEADERS:
            continue
        has_length = has_length or lname == "content-length"
        lines.append(_latin1(name) + b": " + _latin1(value))
    if not has_length:
        lines.append(f"Content-Length: {body_length}".encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def http_request_head(method: str, url: str, headers: Iterable[tuple[str, str]]) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1".encode("latin-1", "replace")]
    names = set()
    for name, value in headers:
        if name.lower() in _PRIVATE_REQUEST_HEADERS:
            continue
        names.add(name.lower())
        lines.append(_latin1(name) + b": " + _latin1(value))
    if "host" not in names:
        lines.insert(1, b"Host: " + _latin1(parts.netloc))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _warc_head(warc_type: str, url: str, date: str, content_type: str, head_parts: Sequence[bytes],
               payload_parts: Iterable[bytes | memoryview], extra: Sequence[tuple[str, str]] = (),
               record_id: str | None = None, payload_digest: str | None = None) -> tuple[bytes, str | None]:
    """The WARC header block of a record whose block is head_parts + payload_parts, and its payload
    digest; digests are taken here (both over each payload chunk while it is in cache; the payload's
    only when not given)."""
    block = hashlib.sha1()
    length = 0
    for part in head_parts:
        block.update(part)
        length += len(part)
    payload = hashlib.sha1() if payload_parts and payload_digest is None else None
    for payload_part in payload_parts:
        view = memoryview(payload_part)
        for start in range(0, len(view), _CHUNK):
            chunk = view[start:start + _CHUNK]
            block.update(chunk)
            if payload is not None:
                payload.update(chunk)
        length += len(view)
    headers = [("WARC-Type", warc_type), ("WARC-Record-ID", record_id or f"<urn:uuid:{uuid.uuid4()}>"),
               ("WARC-Date", date)]
    if url:
        headers.append(("WARC-Target-URI", url))
    headers += list(extra)
    if payload is not None:
        payload_digest = sha1_b32(payload)
    if payload_digest:
        headers.append(("WARC-Payload-Digest", payload_digest))
    headers += [("WARC-Block-Digest", sha1_b32(block)), ("Content-Type", content_type),
                ("Content-Length", str(length))]
    head = (WARC_VERSION + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8")
    return head, payload_digest


def _gzip_member(warc_head: bytes, head_parts: Sequence[bytes], payload_parts: Iterable[bytes | memoryview],
                 level: int) -> Iterator[bytes]:
    """The record (WARC head, block, the closing CRLFs) as the pieces of one gzip member."""
    compressor = (zlib.compressobj(0, zlib.DEFLATED, zlib.MAX_WBITS | 16) if level == STORED_LEVEL
                  else isal_zlib.compressobj(level, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS | 16))
    yield compressor.compress(warc_head)
    for any_part in itertools.chain(head_parts, payload_parts):  # not a tuple: a FileBody streams
        view = memoryview(any_part)
        # 1 MiB at a time: the compressor's output stays in cache (measured: 32 MiB stored in 56 ms
        # instead of 100 ms in one call).
        for start in range(0, len(view), _CHUNK):
            yield compressor.compress(view[start:start + _CHUNK])
    yield compressor.compress(b"\r\n\r\n") + compressor.flush()


def _saved_response_head(page: RawPage) -> bytes:
    # The body is decoded already: headers about its wire encoding would lie.
    headers = [(k, v) for k, v in page.headers.items() if k.lower() not in ("content-encoding", "content-length")]
    return http_response_head(page.status or 200, headers, len(page.body))


@dataclass(frozen=True)
class BuiltRecord:
    """A response record made ready to append, and what its CDXJ line says of it."""

    member: bytes  # the whole record, one gzip member
    url: str
    warc_date: str
    status: int
    mime: str | None
    payload_digest: str | None
    surt_key: str  # of the URL, for the CDXJ line (surt_key): taken where the record is built


def surt_key(url: str) -> str:
    """The SURT key cdxj-indexer gives a URL; the URL itself when surt cannot read it, as cdxj-indexer does."""
    # Loaded on first use, not at import: surt imports tldextract, which loads requests and urllib3 (0.3 s,
    # as long as the rest of regenerate's start-up). Regenerate's workers take the keys of the pages, so
    # the writing process loads it only for media it captures itself.
    import surt

    try:
        return surt.surt(url)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - whatever surt raises on a URL it cannot read
        return url


def page_record(page: RawPage) -> BuiltRecord:
    """The response record WarcCapture.write(page) writes, as one whole gzip member, built anywhere: a
    worker process builds it (digests and compression included) and the writer only appends it
    (WarcCapture.append_record). For pages, whose bodies are bounded; write() streams large media."""
    head = _saved_response_head(page)
    body = [memoryview(page.body)] if page.body else []
    date = page.fetched_at or warc_now()
    warc_head, digest = _warc_head("response", page.url, date, "application/http; msgtype=response", [head], body)
    return BuiltRecord(b"".join(_gzip_member(warc_head, [head], body, TEXT_LEVEL)), page.url, date,
                       page.status or 200, _mime(page.headers.items()), digest, surt_key(page.url))


class WarcCapture:
    """The run's WARC file, open for appending whole gzip members, one per record."""

    def __init__(self, folder: Path, prefix: str = "cumt", index_folder: Path | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S%f")  # sorts runs, even within a second
        self.name = f"{prefix}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}.warc.gz"
        self.folder = folder
        self.path = folder / self.name
        self._open_path = folder / (self.name + OPEN_SUFFIX)
        self._handle: BinaryIO = open(self._open_path, "ab")
        self._position = self._handle.tell()
        self.records = 0
        self._last_length = 0
        self._last_digest: str | None = None  # the payload digest of the last record _append wrote
        # CDXJ lines of this file, written as its records are (reading the file again costs more than the
        # crawl's own writing); sorted into indexes/<name>.cdxj when the file is closed.
        self._cdxj: CdxjSink | None = CdxjSink(index_folder, self.name) if index_folder is not None else None
        info = (b"software: cumt-archive (Scrapy)\r\nformat: WARC File Format 1.0\r\n"
                b"description: every exchange of the cumt-archive crawl, headers and bodies as received "
                b"(bodies de-chunked, still in their content encoding)\r\n")
        self._append("warcinfo", "", warc_now(), "application/warc-fields", [info], [],
                     extra=[("WARC-Filename", self.name)])

    # -- writing -----------------------------------------------------------------------

    def _append(self, warc_type: str, url: str, date: str, content_type: str, head_parts: list[bytes],
                payload_parts: Iterable[bytes | memoryview], extra: Sequence[tuple[str, str]] = (),
                record_id: str | None = None, payload_digest: str | None = None, level: int = TEXT_LEVEL) -> int:
        """One record as one gzip member (so each can be read alone), flushed; returns its offset.

        The block is head_parts + payload_parts; the digests are computed here, in one pass over the
        payload each, and nothing is copied but into the compressor. payload_parts is read twice (digests,
        then the compressor): a list of buffers, or a FileBody that reads its file again.
        """
        warc_head, self._last_digest = _warc_head(warc_type, url, date, content_type, head_parts, payload_parts,
                                                  extra, record_id, payload_digest)
        offset = self._position
        write = self._handle.write
        written = 0
        try:
            for compressed in _gzip_member(warc_head, head_parts, payload_parts, level):
                written += write(compressed)
            self._handle.flush()
        except OSError:
            self._cut_back(offset)  # disk full mid-record: the file keeps whole records only
            raise
        self._position += written
        self._last_length = written
        self.records += 1
        return offset

    def append_record(self, record: BuiltRecord) -> WarcRef:
        """A whole record built elsewhere (page_record, in a worker process) appended as it is, flushed.

        Gzip members concatenate: the file is exactly what write() would have made of the same record.
        """
        offset = self._position
        try:
            written = self._handle.write(record.member)
            self._handle.flush()
        except OSError:
            self._cut_back(offset)
            raise
        self._position += written
        self._last_length = written
        self.records += 1
        if self._cdxj is not None:
            self._cdxj.add(record.url, record.warc_date, record.mime, record.status,
                           record.payload_digest or _EMPTY_DIGEST, written, offset, key=record.surt_key)
        return WarcRef(self.name, offset)

    def _cut_back(self, offset: int) -> None:
        """Drop what a failed write left after offset, buffered bytes included (they must never reach the file)."""
        handle = self._handle
        self._handle = open(self._open_path, "r+b")
        try:
            handle.close()
        except OSError:
            pass  # the buffer could not be flushed: exactly what we want gone
        try:
            self._handle.truncate(offset)
            self._handle.seek(offset)
        except OSError:
            pass  # the next run's recovery cuts it back instead

    def write_exchange(self, exchange: Exchange, revisit_of: "RevisitTarget | None" = None,
                       payload_digest: str | None = None) -> Written:
        """The response (or, for a payload already archived, a revisit) record, then its request record."""
        date = exchange.fetched_at or warc_now()
        response_id = f"<urn:uuid:{uuid.uuid4()}>"
        head = http_response_head(exchange.status, exchange.response_headers, exchange.body_length, exchange.protocol)
        content_type = "application/http; msgtype=response"
        if revisit_of is not None:
            extra = [("WARC-Profile", REVISIT_PROFILE), ("WARC-Refers-To-Target-URI", revisit_of.target_url),
                     ("WARC-Refers-To-Date", revisit_of.warc_date)]
            offset = self._append("revisit", exchange.url, date, content_type, [head], [], extra, response_id,
                                  payload_digest=revisit_of.payload_digest)
            digest = revisit_of.payload_digest
        else:
            file_body = exchange.body_file
            payload: Iterable[bytes | memoryview] = (
                file_body if file_body is not None and file_body.length else
                [memoryview(exchange.body)] if exchange.body else [])
            probe = file_body.head(_PROBE) if file_body is not None else exchange.body
            offset = self._append("response", exchange.url, date, content_type, [head], payload, [], response_id,
                                  payload_digest=payload_digest,
                                  level=compression_level(exchange.response_headers, probe))
            digest = self._last_digest or _EMPTY_DIGEST  # given, or taken as the record was written
        if self._cdxj is not None:
            self._cdxj.add(exchange.url, date, "warc/revisit" if revisit_of is not None else
                           _mime(exchange.response_headers), exchange.status, digest, self._last_length, offset)
        request_head = http_request_head(exchange.method, exchange.url, exchange.request_headers)
        self._append("request", exchange.url, date, "application/http; msgtype=request", [request_head],
                     [exchange.request_body] if exchange.request_body else [],
                     [("WARC-Concurrent-To", response_id)])
        return Written(WarcRef(self.name, offset), digest, date, revisit_of is not None)

    def write(self, page: RawPage) -> WarcRef:
        """A page known only by its decoded body and headers (saved pages): one response record."""
        return self.append_record(page_record(page))

    def write_file(self, url: str, body: FileBody, headers: dict[str, str], fetched_at: str,
                   payload_digest: str | None = None) -> WarcRef:
        """A file known only by its bytes (a media file of a saved tree): one response record whose payload
        streams from the file, a chunk at a time."""
        head = http_response_head(200, list(headers.items()), body.length)
        date = fetched_at or warc_now()
        level = compression_level(headers.items(), body.head(_PROBE))
        offset = self._append("response", url, date, "application/http; msgtype=response", [head],
                              body if body.length else [], payload_digest=payload_digest, level=level)
        if self._cdxj is not None:
            self._cdxj.add(url, date, _mime(headers.items()), 200, self._last_digest or _EMPTY_DIGEST,
                           self._last_length, offset)
        return WarcRef(self.name, offset)

    def close(self) -> None:
        """fsync the file, rename it to its final name, fsync the folder: only then is it durable."""
        if self._handle.closed:
            return
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if self.records > 1:  # more than the warcinfo record
            os.replace(self._open_path, self.path)
        else:
            self._open_path.unlink(missing_ok=True)
        fsync_dir(self.folder)
        if self._cdxj is not None:
            self._cdxj.close(keep=self.records > 1)


def _mime(headers: Iterable[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return re.split(r"[;\s]", value, maxsplit=1)[0].strip()
    return None


class CdxjSink:
    """CDXJ lines for one WARC file, exactly as cdxj-indexer writes them (SURT key, 14-digit time, JSON),
    appended to `<name>.cdxj.open` as records are written and sorted into `<name>.cdxj` on close."""

    def __init__(self, folder: Path, warc_name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{warc_name}.cdxj"
        self.warc_name = warc_name
        self._open_path = folder / f"{warc_name}.cdxj{OPEN_SUFFIX}"
        self._handle = open(self._open_path, "w", encoding="utf-8")

    def add(self, url: str, warc_date: str, mime: str | None, status: int, digest: str, length: int,
            offset: int, key: str | None = None) -> None:
        """One record's line; key: the URL's SURT key when the caller has it already (surt_key)."""
        entry = {"url": url}
        if mime:
            entry["mime"] = mime
        entry.update({"status": str(status), "digest": digest, "length": str(length), "offset": str(offset),
                      "filename": self.warc_name})
        if key is None:
            key = surt_key(url)
        self._handle.write(f"{key} {iso_date_to_timestamp(warc_date)} {json.dumps(entry)}\n")

    def close(self, keep: bool) -> None:
        self._handle.close()
        if not keep:
            self._open_path.unlink(missing_ok=True)
            return
        with open(self._open_path, encoding="utf-8") as handle:
            lines = sorted(handle)  # one run's lines: bounded by the run, not by the archive
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as out:
            out.writelines(lines)
        os.replace(tmp, self.path)
        self._open_path.unlink()


@dataclass(frozen=True)
class RevisitTarget:
    """The earlier capture a revisit record points to."""

    target_url: str
    warc_date: str
    payload_digest: str
    ref: WarcRef


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the file itself is synced
    finally:
        os.close(fd)


# -- reading ---------------------------------------------------------------------------------


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


def iter_records(handle: BinaryIO, path: Path, check_digests: bool = False
                 ) -> Iterator[tuple[ArchiveIterator, ArcWarcRecord]]:
    """(iterator, record) for every record of an open WARC file; the iterator tells the record's offset.

    warcio meets damage in many ways: an exception of almost any kind, or silence (a file cut inside a
    record, or inside a gzip trailer, just ends). Here every kind of damage raises ArchiveLoadFailed
    (WarcTruncated for a cut), after every whole record before it has been yielded; with check_digests,
    a record garbled in place raises too.
    """
    iterator = ArchiveIterator(handle, check_digests="raise" if check_digests else False)
    records = iter(iterator)
    last = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except ArchiveLoadFailed:
            raise
        except (AttributeError, ValueError, EOFError, zlib.error) as exc:  # how warcio meets garbage
            raise ArchiveLoadFailed(f"{path}: garbled record after byte {iterator.offset}: {exc}") from exc
        yield iterator, record
        last = iterator.get_record_offset()
    ensure_whole(handle, path, iterator.offset, last)


def ensure_whole(handle: BinaryIO, path: Path, end: int, last: int | None) -> None:
    """WarcTruncated unless the records warcio read (the last one at offset `last`, all of them ending at
    `end`) are the whole file, the last one's gzip member with its trailer: warcio stops at a cut without
    a word."""
    size = os.fstat(handle.fileno()).st_size
    if end < size:
        raise WarcTruncated(f"{path}: bytes {end}-{size} are not whole WARC records")
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


def iter_pages(path: Path) -> Iterator[tuple[int, RawPage]]:
    """(offset, page) for every response record of a WARC file, in file order, digests checked.

    Raises ArchiveLoadFailed (after every whole record) when the file is damaged: see iter_records.
    """
    with open(path, "rb") as handle:
        for iterator, record in iter_records(handle, path, check_digests=True):
            if record.rec_type == "response":
                page = _to_page(record)  # before asking the offset, which makes warcio skip the payload
                yield iterator.get_record_offset(), page


@contextmanager
def record_at(handle: BinaryIO, path: Path | str, offset: int) -> Iterator[ArcWarcRecord]:
    """The record at offset of an open WARC file (path names it in errors), for the length of the with block;
    WarcError when there is none.

    Its iterator is closed after: warcio's ArchiveIterator and its generator hold each other, so one left
    behind keeps its inflater (zlib's, some 40 KB) until the cyclic collector's next full pass, which a
    long run makes rare (collector.py): 600 were alive at once, 25 MB, in a regenerate from the WARC.
    """
    handle.seek(offset)
    records = ArchiveIterator(handle)
    try:
        for record in records:
            yield record
            return
    finally:
        records.close()  # its reader and inflater
        iter(records).close()  # its generator, whose frame holds the iterator: nothing is left for the collector
    raise WarcError(f"{path}@{offset}: no WARC record there")


def payload_digest_at(path: Path, offset: int) -> str | None:
    """The WARC-Payload-Digest of the record at offset: what it holds, without reading the payload."""
    with open(path, "rb") as handle, record_at(handle, path, offset) as record:
        return record.rec_headers.get_header("WARC-Payload-Digest")  # type: ignore[no-any-return]


def read_page(path: Path, offset: int) -> RawPage:
    """The response record at offset, as a page (body decoded from its content encoding)."""
    with open(path, "rb") as handle, record_at(handle, path, offset) as record:
        if record.rec_type != "response":
            raise WarcError(f"{path}@{offset}: a {record.rec_type} record, not a response")
        return _to_page(record)


def warc_files(folder: Path) -> list[Path]:
    """Closed WARC files, oldest first (names start with a UTC timestamp)."""
    if not folder.exists():
        return []
    return sorted((p for p in folder.glob("*.warc.gz")), key=lambda p: p.name.split("-", 1)[-1])


def recover_open_files(folder: Path) -> list[str]:
    """Cut WARC files left open by a killed run back to whole records, sync and close them."""
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
            handle.flush()
            os.fsync(handle.fileno())
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        if good_end:
            os.replace(path, final)
        else:
            path.unlink()
        fsync_dir(folder)
        recovered.append(f"{path.name}: closed with {good_end} bytes")
    return recovered
