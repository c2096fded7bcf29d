"""`cumt-archive export --wacz FILE`: the archive as one WACZ 1.1 package, made by Webrecorder's `wacz`.

The package holds the WARC files as they are (archive/), their CDXJ index (indexes/index.cdx.gz, with
its index.idx), pages/pages.jsonl with one entry per archived article (URL, title, date, and the
capture time the `wacz` tool finds for it) and datapackage.json with every file's sha256 digest.
ReplayWeb.page opens it as is. Only closed WARC files go in: a crawl running meanwhile is not
disturbed, and its file is in the next export.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wacz.main import main as wacz_main

from .store.files import ArchiveLayout
from .store.index import ArchiveIndex
from .store.warc import warc_files


class ExportError(ValueError):
    """The archive cannot be exported; the message names the path."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    warc_files: int
    pages: int


def write_pages(index: ArchiveIndex, out: io.TextIOBase) -> int:
    """pages.jsonl (json-pages-1.0): a header line, then one line per archived article, streamed."""
    out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles"}) + "\n")
    count = 0
    for row in index.articles("ok"):
        entry = {"url": row.url, "title": row.title or row.url}
        if row.published:
            entry["date"] = row.published  # as the page shows it, Asia/Shanghai
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_wacz(root: Path, target: Path, title: str = "") -> ExportReport:
    layout = ArchiveLayout(root)
    if not layout.index.exists():
        raise ExportError(f"{root}: no archive here (no {layout.index.name})")
    warcs = warc_files(layout.warc)
    if not warcs:
        raise ExportError(f"{layout.warc}: no closed WARC file to export")
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    index = ArchiveIndex(layout.index)
    with tempfile.TemporaryDirectory(prefix="cumt-export-") as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        try:
            with open(pages_file, "w", encoding="utf-8") as out:
                pages = write_pages(index, out)
        finally:
            index.close()
        partial = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        args = ["create", "-o", str(partial), "-p", str(pages_file), "--title", title or f"cumt-archive {root.name}",
                *map(str, warcs)]
        # The wacz tool narrates on stdout; ours is for the summary line.
        with contextlib.redirect_stdout(sys.stderr):
            status = wacz_main(args)
        if status != 0:
            partial.unlink(missing_ok=True)
            raise ExportError(f"{target}: the wacz tool failed (status {status})")
        os.replace(partial, target)
    return ExportReport(target, len(warcs), pages)


def export_command(archive: Path, wacz: Path) -> int:
    """The CLI's `export`: 0 when written, 2 when the archive cannot be exported."""
    try:
        report = export_wacz(archive, wacz)
    except ExportError as exc:
        print(f"cumt-archive: {exc}", file=sys.stderr)
        return 2
    print(f"export {archive}: {report.path} warc_files={report.warc_files} pages={report.pages}")
    return 0
