"""The WARC is the archive: every exchange captured, payloads stored once, everything else derived from it.

Crawls are real `scrapy crawl cumt` processes through the mirror proxy on 127.0.0.1; the WARC files are
read back with warcio, the standard library for them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from warcio.archiveiterator import ArchiveIterator

from cumt_archive.archive import Archive
from cumt_archive.crawl.capture import PageCapture
from cumt_archive.profile import load_profile
from cumt_archive.store.cdxj import INDEX_NAME, index_warc
from cumt_archive.store.replay import CaptureTable
from cumt_archive.store.warc import warc_files
from cumt_archive.urls import media_relpath
from conftest import REPO, run_crawl, tree_bytes
from sitegen import GeneratedSite
from test_crawl_site import EXPECTED, site_bytes


def records(archive: Path) -> list[dict]:
    """Every record of the archive's WARC files: type, headers, raw payload (as stored) and where it is."""
    out = []
    for path in warc_files(archive / "warc"):
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                http = record.http_headers if record.rec_type in ("response", "revisit") else None
                raw = record.raw_stream.read()
                out.append({"type": record.rec_type, "url": record.rec_headers.get_header("WARC-Target-URI"),
                            "id": record.rec_headers.get_header("WARC-Record-ID"),
                            "concurrent": record.rec_headers.get_header("WARC-Concurrent-To"),
                            "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                            "status": int(http.get_statuscode()) if http else None,
                            "payload": raw, "file": path.name, "offset": iterator.get_record_offset()})
    return out


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def offline_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})  # no network
    return env


def regenerate(archive: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive", str(archive), "--quiet"],
                          capture_output=True, text=True, env=offline_env(), timeout=120)


@pytest.fixture
def crawled(crawled_fixture_site):
    return crawled_fixture_site


def media_urls() -> list[str]:
    return [u for a in EXPECTED["articles"].values() for u in a["images"] + [x["url"] for x in a["attachments"]]]


def test_every_exchange_is_captured_with_its_request_and_digests(crawled):
    recs = records(crawled)
    responses = [r for r in recs if r["type"] == "response"]
    by_url = {r["url"]: r for r in responses}
    # Pages, images, attachments with their exact bytes; robots.txt of every host; the redirect itself.
    for url in [*EXPECTED["articles"], *media_urls()]:
        assert by_url[url]["status"] == 200, url
        assert by_url[url]["payload"] == site_bytes(url), url
    for url in EXPECTED["lists"]:
        assert by_url[url]["status"] == 200
    hosts = {u.split("/")[2] for u in [*EXPECTED["articles"], *EXPECTED["lists"]]}
    assert {f"http://{h}/robots.txt" for h in hosts} <= set(by_url)
    assert any(300 <= r["status"] < 400 for r in responses), "the fixture's redirect is not captured"
    # Every response has its request record, and its payload digest is that of the bytes stored.
    concurrent = {r["concurrent"] for r in recs if r["type"] == "request"}
    for r in responses:
        assert r["id"] in concurrent, r["url"]
        assert r["digest"] == sha1_b32(r["payload"]), r["url"]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v",
                            *map(str, warc_files(crawled / "warc"))], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "digest fail" not in check.stdout


def test_index_has_a_capture_row_for_every_response(crawled):
    db = sqlite3.connect(crawled / "index.sqlite")
    rows = {(f, o) for f, o in db.execute("SELECT warc_file, warc_offset FROM captures")}
    assert rows == {(r["file"], r["offset"]) for r in records(crawled) if r["type"] == "response"}


def test_regenerate_rebuilds_posts_and_media_byte_identical_offline(crawled, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(crawled, copy)
    before = tree_bytes(copy, "posts", "media")
    assert any(k.startswith("media/") for k in before) and any(k.startswith("posts/") for k in before)
    shutil.rmtree(copy / "posts")
    shutil.rmtree(copy / "media")
    proc = regenerate(copy)
    assert proc.returncode == 0, proc.stderr
    assert f"articles={len(EXPECTED['articles'])}" in proc.stdout
    assert tree_bytes(copy, "posts", "media") == before


def test_cdxj_lines_written_by_the_crawl_are_those_cdxj_indexer_writes(crawled, tmp_path):
    (warc,) = warc_files(crawled / "warc")
    ours = (crawled / "indexes" / f"{warc.name}.cdxj").read_text(encoding="utf-8")
    index_warc(warc, tmp_path / "theirs.cdxj")  # Webrecorder's cdxj-indexer over the same file
    assert ours == (tmp_path / "theirs.cdxj").read_text(encoding="utf-8")
    assert not list((crawled / "indexes").glob("*.open"))


def test_cdxj_index_points_at_every_capture(crawled):
    lines = (crawled / "indexes" / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    indexed = {e["url"] for e in entries}
    assert set(EXPECTED["articles"]) | set(media_urls()) <= indexed
    by_offset = {(r["file"], r["offset"]): r for r in records(crawled)}
    for entry in entries:
        record = by_offset[(entry["filename"], int(entry["offset"]))]
        assert record["url"] == entry["url"]


@pytest.fixture
def site(tmp_path):
    return GeneratedSite.two_columns(tmp_path / "site", 4)


def test_refresh_writes_revisits_not_second_copies(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    media_before = tree_bytes(archive, "media")
    refresh = run_crawl(archive, site.list_urls, mirror.proxy_url, "-a", "refresh=1")
    assert refresh.returncode == 0, refresh.log
    first, second = warc_files(archive / "warc")
    second_run = [r for r in records(archive) if r["file"] == second.name]
    refetched_media = [r for r in second_run if r["type"] in ("response", "revisit") and
                       (".png" in r["url"] or "download.jsp" in r["url"])]
    assert len(refetched_media) == len(media_before)  # every image and attachment fetched again...
    assert {r["type"] for r in refetched_media} == {"revisit"}  # ... and none stored twice
    article_urls = {s.url for s in site.stories}
    revisited_pages = {r["url"] for r in second_run if r["type"] == "revisit"} & article_urls
    assert revisited_pages == article_urls  # unchanged pages too
    assert tree_bytes(archive, "media") == media_before
    # Everything still comes back from the WARC files alone, revisits resolved to the bytes they stand for.
    before = tree_bytes(archive, "posts", "media")
    shutil.rmtree(archive / "posts")
    shutil.rmtree(archive / "media")
    assert regenerate(archive).returncode == 0
    assert tree_bytes(archive, "posts", "media") == before


def _response(url: str, body: bytes, content_type: bytes = b"image/png") -> tuple[Response, Request]:
    request = Request(url, headers={"User-Agent": "test"})
    return Response(url, status=200, headers={"Content-Type": content_type}, body=body, request=request), request


def test_the_same_image_under_two_urls_is_stored_once_and_read_back_under_both(tmp_path):
    archive = Archive(tmp_path / "archive", load_profile("cumt"))
    archive.open()
    try:
        capture = PageCapture(archive)
        image = b"\x89PNG same bytes in two articles" * 100
        for url in ("http://a.cumt.edu.cn/1.png", "http://b.cumt.edu.cn/2.png"):
            capture.response_received(*_response(url, image))
        capture.close()
    finally:
        archive.close()
    recs = records(tmp_path / "archive")
    assert [r["type"] for r in recs if r["type"] != "request"] == ["warcinfo", "response", "revisit"]
    table = CaptureTable(tmp_path / "t.sqlite", tmp_path / "archive" / "warc")
    for path in warc_files(tmp_path / "archive" / "warc"):
        table.add_file(path)
    for url in ("http://a.cumt.edu.cn/1.png", "http://b.cumt.edu.cn/2.png"):
        capture_row = table.latest(url)
        assert capture_row is not None
        target = tmp_path / "out" / media_relpath(url)
        table.copy_payload(capture_row, target)
        assert target.read_bytes() == image
    table.close()


def test_media_size_limit_is_separate_from_the_page_limit(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    png_size = len((site.root / "xwzx.cumt.edu.cn" / site.stories[0].image_path.lstrip("/")).read_bytes())
    result = run_crawl(archive, site.list_urls, mirror.proxy_url, "-s", f"MEDIA_MAXSIZE={png_size - 1}")
    assert len(list((archive / "posts").glob("*.md"))) == 8  # pages are far larger than that: still fetched
    assert list((archive / "media").rglob("*.png")) == []  # every image is over the media limit
    assert len(list((archive / "media").rglob("*.pdf"))) == 4  # the tiny attachments are not
    assert "media_failed=8" in result.log


def test_index_pointing_past_a_warc_files_end_is_repaired_and_refetched(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    before = tree_bytes(archive, "posts", "media")
    (warc,) = warc_files(archive / "warc")
    db = sqlite3.connect(archive / "index.sqlite")
    offsets = [o for (o,) in db.execute("SELECT warc_offset FROM articles WHERE status='ok' ORDER BY warc_offset")]
    cut = offsets[len(offsets) // 2]  # as if the tail of the file (from an article on) never reached the disk
    lost = db.execute("SELECT COUNT(*) FROM articles WHERE status='ok' AND warc_offset >= ?", (cut,)).fetchone()[0]
    db.close()
    assert lost > 0
    with open(warc, "r+b") as handle:
        handle.truncate(cut)
    mirror.requests.clear()
    rerun = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert rerun.returncode == 0, rerun.log
    assert "index pointed past the end of a WARC file, repaired" in rerun.log
    assert len([u for u in mirror.requests if "/info/" in u or "/page.htm" in u]) == lost  # refetched
    db = sqlite3.connect(archive / "index.sqlite")
    sizes = {p.name: p.stat().st_size for p in warc_files(archive / "warc")}
    assert all(o < sizes[f] for f, o in db.execute("SELECT warc_file, warc_offset FROM captures"))
    assert db.execute("SELECT COUNT(*) FROM articles WHERE status='ok'").fetchone()[0] == 8
    assert tree_bytes(archive, "posts", "media") == before
    shutil.rmtree(archive / "posts")
    shutil.rmtree(archive / "media")
    assert regenerate(archive).returncode == 0
    assert tree_bytes(archive, "posts", "media") == before


def test_the_same_image_bytes_under_two_urls_are_one_copy_in_media(site, tmp_path, mirror_factory):
    first, second = site.of("webplus")[:2]
    host = site.root / "xwzx.cumt.edu.cn"
    (host / second.image_path.lstrip("/")).write_bytes((host / first.image_path.lstrip("/")).read_bytes())
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0

    def linked(root: Path) -> bool:
        a = root / "media" / media_relpath(f"http://xwzx.cumt.edu.cn{first.image_path}")
        b = root / "media" / media_relpath(f"http://xwzx.cumt.edu.cn{second.image_path}")
        return a != b and a.read_bytes() == b.read_bytes() and os.path.samefile(a, b) and a.stat().st_nlink == 2

    assert linked(archive)
    before = tree_bytes(archive, "posts", "media")
    shutil.rmtree(archive / "media")
    regen = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive", str(archive),
                            "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert regen.returncode == 0, regen.stderr
    assert tree_bytes(archive, "posts", "media") == before and linked(archive)


def test_reading_a_record_by_its_offset_leaves_nothing_for_the_cyclic_collector(tmp_path):
    """warcio's ArchiveIterator and its generator hold each other: an iterator left behind after reading one
    record keeps its inflater until the cyclic collector runs, which a long run (collector.py) makes rare.
    With the collector off, every way of reading one record by its offset must leave no iterator alive."""
    import gc

    from warcio.archiveiterator import ArchiveIterator as Iterator_

    from cumt_archive.check import record_head
    from cumt_archive.model import RawPage
    from cumt_archive.store.warc import WarcCapture, WarcError, payload_digest_at, read_page, record_at

    warc = WarcCapture(tmp_path / "warc")
    refs = [warc.write(RawPage(url=f"http://a.cumt.edu.cn/{i}.htm", body=b"<html>%d</html>" % i * 50,
                               headers={"Content-Type": "text/html"}, fetched_at="2024-05-06T00:00:00Z"))
            for i in range(3)]
    warc.close()
    path = warc_files(tmp_path / "warc")[0]
    table = CaptureTable(tmp_path / "t.sqlite", tmp_path / "warc")
    table.add_file(path)
    captures = [c for c in table.captures(path.name) if c.is_page]
    assert len(captures) == 3

    def alive() -> int:
        return sum(isinstance(o, Iterator_) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = alive()
        for _ in range(20):
            for ref, capture in zip(refs, captures):
                assert read_page(path, ref.offset).url == capture.url
                assert payload_digest_at(path, ref.offset) == capture.digest
                assert record_head(path, ref.offset).url == capture.url
                assert table.page(capture).body.startswith(b"<html>")
                table.copy_payload(capture, tmp_path / "out" / f"{ref.offset}.htm")
        with open(path, "rb") as handle, pytest.raises(WarcError, match=f"{path.name}@"):
            with record_at(handle, path, path.stat().st_size):  # past the last record: none there
                pass
        assert alive() == before
    finally:
        gc.enable()
        table.close()
