"""Reading an archive's WARC files back as a web archive: which capture of a URL holds which bytes.

`CaptureTable` is built in one streaming pass over the WARC files, into a temporary SQLite file, so
looking up a URL (following redirects and revisit records to the bytes) needs no memory per capture.
Only the WARC files are read: the archive's own index is not needed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import urljoin

from ..model import RawPage
from .warc import WarcError, iter_records, record_at

MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Capture:
    row: int  # order of the record in the archive (files oldest first, records in file order)
    url: str
    status: int
    rec_type: str  # response | revisit
    file: str
    offset: int
    digest: str
    content_type: str
    location: str
    warc_date: str

    @property
    def is_page(self) -> bool:
        """A successful capture of an HTML page (saved pages carry no Content-Type at all)."""
        return self.status == 200 and (not self.content_type or "html" in self.content_type.lower())


class CaptureTable:
    def __init__(self, db_path: Path, warc_folder: Path) -> None:
        self.folder = warc_folder
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript("""
            CREATE TABLE captures (row INTEGER PRIMARY KEY, url TEXT, status INTEGER, rec_type TEXT, file TEXT,
                                   off INTEGER, digest TEXT, content_type TEXT, location TEXT, warc_date TEXT);
            CREATE TABLE payloads (digest TEXT PRIMARY KEY, file TEXT, off INTEGER);
            CREATE INDEX captures_url ON captures (url);
            CREATE INDEX captures_file ON captures (file, row);
        """)

    def close(self) -> None:
        self.db.close()

    def add_file(self, path: Path) -> None:
        """Every response and revisit record of a WARC file (payloads are skipped, not read)."""
        rows: list[tuple] = []  # type: ignore[type-arg]
        payloads: list[tuple] = []  # type: ignore[type-arg]
        with open(path, "rb") as handle:
            try:
                self._add_records(handle, path, rows, payloads)
            finally:  # a damaged file keeps the records read before the damage
                self._flush(rows, payloads)

    def _add_records(self, handle: BinaryIO, path: Path, rows: list[tuple], payloads: list[tuple]  # type: ignore[type-arg]
                     ) -> None:
        for iterator, record in iter_records(handle, path):
            if record.rec_type not in ("response", "revisit"):
                continue
            headers, http = record.rec_headers, record.http_headers
            offset = iterator.get_record_offset()
            digest = headers.get_header("WARC-Payload-Digest") or ""
            status = int(http.get_statuscode() or 0) if http else 0
            rows.append((headers.get_header("WARC-Target-URI"), status, record.rec_type, path.name, offset,
                         digest, (http.get_header("Content-Type") or "") if http else "",
                         (http.get_header("Location") or "") if http else "", headers.get_header("WARC-Date") or ""))
            if record.rec_type == "response" and digest:
                payloads.append((digest, path.name, offset))
            if len(rows) >= 1000:
                self._flush(rows, payloads)

    def _flush(self, rows: list[tuple], payloads: list[tuple]) -> None:  # type: ignore[type-arg]
        with self.db:
            self.db.executemany("INSERT INTO captures (url, status, rec_type, file, off, digest, content_type, "
                                "location, warc_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany("INSERT OR IGNORE INTO payloads (digest, file, off) VALUES (?, ?, ?)", payloads)
        rows.clear()
        payloads.clear()

    def page_count(self) -> int:
        """How many captures are HTML pages (what regenerate reads), for its progress."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM captures WHERE status=200 AND (content_type='' OR lower(content_type) LIKE "
            "'%html%')").fetchone()[0])

    def captures(self, file: str | None = None) -> Iterator[Capture]:
        query = "SELECT * FROM captures" + (" WHERE file=?" if file else "") + " ORDER BY row"
        for row in self.db.execute(query, (file,) if file else ()):
            yield Capture(*row)

    def latest(self, url: str, depth: int = 0) -> Capture | None:
        """The newest successful capture of url, following archived redirects; None if never fetched."""
        for row in self.db.execute("SELECT * FROM captures WHERE url=? AND (status=200 OR status BETWEEN 300 AND 399) "
                                   "ORDER BY row DESC", (url,)):
            capture = Capture(*row)
            if capture.status == 200:
                return capture
            if capture.location and depth < MAX_REDIRECTS:
                target = self.latest(urljoin(url, capture.location), depth + 1)
                if target is not None:
                    return target
        return None

    def payload_location(self, capture: Capture) -> tuple[str, int]:
        return self._payload_record(capture)

    def _payload_record(self, capture: Capture) -> tuple[str, int]:
        if capture.rec_type == "response":
            return capture.file, capture.offset
        row = self.db.execute("SELECT file, off FROM payloads WHERE digest=?", (capture.digest,)).fetchone()
        if row is None:
            raise WarcError(f"{capture.file}@{capture.offset}: revisit of {capture.url} refers to payload "
                            f"{capture.digest}, which no WARC file holds")
        return row[0], int(row[1])

    def page(self, capture: Capture) -> RawPage:
        """The capture as a page: a revisit gets the bytes of the record it refers to."""
        file, offset = self._payload_record(capture)
        with open(self.folder / file, "rb") as handle, record_at(handle, file, offset) as record:
            http = record.http_headers
            return RawPage(url=capture.url, body=record.content_stream().read(), status=capture.status,
                           headers=dict(http.headers) if http else {}, fetched_at=capture.warc_date)

    def copy_payload(self, capture: Capture, target: Path) -> bool:
        """The capture's payload (decoded from its content encoding, as Scrapy hands it over) into target,
        streamed through a temporary file; False when target already held exactly these bytes."""
        file, offset = self._payload_record(capture)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        with open(self.folder / file, "rb") as handle, record_at(handle, file, offset) as record, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(record.content_stream(), out, 1 << 20)
        if _same_file(tmp, target):
            tmp.unlink()
            return False
        os.replace(tmp, target)
        return True


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            chunk_a, chunk_b = fa.read(1 << 20), fb.read(1 << 20)
            if chunk_a != chunk_b:
                return False
            if not chunk_a:
                return True
