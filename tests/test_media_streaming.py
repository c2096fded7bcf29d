"""Large media stream to disk as they download: into the WARC and media/, never whole in memory.

The decision (what streams) and the spool file are tested in process; the crawl tests run the real
engine against the mirror on 127.0.0.1, serving a 96 MiB image with a Content-Length and a 48 MiB
attachment in chunked transfer encoding (length unknown until the end), and measure the crawl's
peak resident memory: holding those bodies the way Scrapy does by default (a buffer, then a copy of
it) costs far more than the limit asserted.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from cumt_archive.crawl.handlers import should_spool
from cumt_archive.store.spool import SpooledBody
from cumt_archive.store.warc import warc_files
from conftest import REPO, crawl_command, crawl_env, tree_bytes
from sitegen import GeneratedSite
from test_hostile import _maxrss_run
from test_warc_capture import offline_env

BIG_IMAGE = 96 << 20
BIG_ATTACHMENT = 48 << 20
# Measured here: a crawl of the same site with a tiny image peaks at 94 MB, this one at 99 MB; with the
# bodies held in memory as Scrapy holds them by default, at 208 MB.
PEAK_LIMIT_KB = 150 * 1024
# regenerate with the same 96 MiB image: 51 MB streamed; 147 MB with the image read whole.
REGENERATE_PEAK_LIMIT_KB = 100 * 1024


# -- in process: what streams, and the spool file ---------------------------------------------

@pytest.mark.parametrize("length, encoding, expected", [
    (None, None, True),            # chunked: no length, could be anything
    (5 << 20, None, True),         # larger than the threshold
    (1 << 20, None, False),        # at the threshold: kept in memory
    (10, None, False),
    (5 << 20, b"gzip", False),     # Scrapy decodes content encodings in memory
    (5 << 20, b"identity", True),
    (None, b" Identity ", True),
])
def test_which_bodies_stream_to_disk(length, encoding, expected):
    assert should_spool(length, encoding, 1 << 20) is expected


def test_a_spooled_body_takes_its_digests_links_and_cleans_up(tmp_path):
    data = random.Random(3).randbytes(3 << 20)
    spool = SpooledBody(tmp_path / ".spool")
    for start in range(0, len(data), 65536):
        spool.write(data[start:start + 65536])
    assert spool.getvalue() == b""  # what the downloader is handed: the body stays on disk
    assert spool.length == len(data)
    assert spool.sha1.digest() == hashlib.sha1(data).digest()
    assert spool.md5_hex == hashlib.md5(data).hexdigest()
    assert b"".join(spool) == data and spool.head(10) == data[:10]
    target = tmp_path / "media" / "a" / "video.mp4"
    spool.link_to(target)
    assert target.read_bytes() == data
    path = spool.path
    del spool  # the last holder lets go: the spool file goes, the linked copy stays
    assert not path.exists() and target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["video.mp4"]


def test_a_body_over_the_size_limit_is_not_kept(tmp_path):
    spool = SpooledBody(tmp_path)
    spool.write(b"x" * 1000)
    spool.truncate(0)  # what the downloader does past DOWNLOAD_MAXSIZE
    assert spool.length == 0 and spool.path.stat().st_size == 0
    spool.discard()
    assert not spool.path.exists()


# -- a real crawl -------------------------------------------------------------------------------

def _serve_attachment(site: GeneratedSite, data: bytes, name: str, route: dict) -> str:
    """The VSB story's attachment answered with data by the mirror as route says; its URL."""
    vsb = site.of("vsb")[0]
    (site.root / "news.cumt.edu.cn" / name).write_bytes(data)
    routes_file = site.root / "news.cumt.edu.cn" / "_routes.json"
    routes = json.loads(routes_file.read_text())
    key = f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid={vsb.number}"
    routes[key] = {"file": name, **route}
    routes_file.write_text(json.dumps(routes))
    return f"http://news.cumt.edu.cn{key}"


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("bigsite")
    site = GeneratedSite.two_columns(root, 1)
    webplus, vsb = site.of("webplus")[0], site.of("vsb")[0]
    image = random.Random(1).randbytes(BIG_IMAGE)
    (root / "xwzx.cumt.edu.cn" / webplus.image_path.lstrip("/")).write_bytes(image)
    attachment = random.Random(2).randbytes(BIG_ATTACHMENT)
    attachment_url = _serve_attachment(site, attachment, "big.pdf", {"chunked": True, "headers": {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f"attachment; filename=story{vsb.number}.pdf"}})
    return site, {f"http://xwzx.cumt.edu.cn{webplus.image_path}": hashlib.sha256(image).hexdigest(),
                  attachment_url: hashlib.sha256(attachment).hexdigest()}


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _warc_payloads(archive: Path) -> dict[str, list[tuple[str, str | None]]]:
    """URL -> [(record type, sha256 of the payload as stored)] over every WARC file, in order."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for path in warc_files(archive / "warc"):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type not in ("response", "revisit"):
                    continue
                digest = hashlib.sha256()
                stream = record.content_stream()
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
                url = record.rec_headers.get_header("WARC-Target-URI")
                out.setdefault(url, []).append((record.rec_type, digest.hexdigest() if record.rec_type == "response"
                                                else None))
    return out


@pytest.fixture(scope="module")
def crawled_big(big_site, tmp_path_factory):
    from cumt_archive.mirror import MirrorServer

    site, _ = big_site
    archive = tmp_path_factory.mktemp("bigcrawl") / "archive"
    with MirrorServer(site.root) as mirror:
        code, log, maxrss_kb = _maxrss_run(crawl_command(archive, site.list_urls), env=crawl_env(mirror.proxy_url))
        assert code == 0, log
        refresh = _maxrss_run(crawl_command(archive, site.list_urls, "-a", "refresh=1"),
                              env=crawl_env(mirror.proxy_url))
    return archive, log, maxrss_kb, refresh


def test_large_media_stream_into_the_warc_and_media_with_bounded_memory(big_site, crawled_big):
    _, originals = big_site
    archive, log, maxrss_kb, _ = crawled_big
    assert maxrss_kb < PEAK_LIMIT_KB, f"crawl peaked at {maxrss_kb // 1024} MB with {BIG_IMAGE >> 20} MiB media"
    stored = {_sha256_file(path) for path in (archive / "media").rglob("*") if path.is_file()}
    assert set(originals.values()) <= stored
    payloads = _warc_payloads(archive)
    for url, sha in originals.items():
        assert payloads[url][0] == ("response", sha), url
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, warc_files(archive / "warc"))],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert not any((archive / ".spool").iterdir()), "spool files left behind"


def test_a_refresh_writes_revisits_not_second_copies(big_site, crawled_big):
    _, originals = big_site
    archive, _, _, (code, log, maxrss_kb) = crawled_big
    assert code == 0, log
    assert maxrss_kb < PEAK_LIMIT_KB
    payloads = _warc_payloads(archive)
    for url in originals:
        assert [kind for kind, _ in payloads[url]] == ["response", "revisit"], url
    total = sum(p.stat().st_size for p in warc_files(archive / "warc"))
    assert total < BIG_IMAGE + BIG_ATTACHMENT + (4 << 20)  # the big payloads are stored once


def _assert_rebuilt_from_the_warc_in_bounded_memory(archive: Path) -> None:
    """posts/ and media/ deleted, then `regenerate --archive` offline: the same bytes, in bounded memory."""
    before = tree_bytes(archive, "posts", "media")
    shutil.rmtree(archive / "posts")
    shutil.rmtree(archive / "media")
    code, log, maxrss_kb = _maxrss_run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive",
                                        str(archive), "--quiet"], env=offline_env())
    assert code == 0, log
    assert maxrss_kb < REGENERATE_PEAK_LIMIT_KB, maxrss_kb
    assert tree_bytes(archive, "posts", "media") == before


def test_regenerate_rebuilds_large_media_from_the_warc_in_bounded_memory(crawled_big, tmp_path):
    archive, *_ = crawled_big
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    _assert_rebuilt_from_the_warc_in_bounded_memory(copy)



def test_a_large_body_cut_off_in_transit_is_failed_and_leaves_no_spool_file(tmp_path, mirror_factory):
    site = GeneratedSite.two_columns(tmp_path / "site", 1)
    vsb = site.of("vsb")[0]
    _serve_attachment(site, random.Random(4).randbytes(4 << 20), "cut.pdf",
                      {"truncate": True, "headers": {"Content-Type": "application/pdf"}})
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    proc = subprocess.run(crawl_command(archive, site.list_urls), cwd=REPO, env=crawl_env(mirror.proxy_url),
                          capture_output=True, text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert "media_failed=1" in log, log
    from test_hostile import db_rows

    rows = db_rows(archive, "SELECT url, status FROM media")
    assert [(url.rsplit("=", 1)[1], status) for url, status in rows] == [(str(vsb.number), "failed")]
    assert list((archive / ".spool").iterdir()) == []
    assert not any(p.stat().st_size >= 2 << 20 for p in (archive / "media").rglob("*") if p.is_file())


def test_opening_the_archive_removes_bodies_a_killed_run_was_spooling(tmp_path):
    from cumt_archive.archive import Archive
    from cumt_archive.profile import load_profile

    archive = Archive(tmp_path / "archive", load_profile("cumt"))
    archive.layout.create()
    left = SpooledBody(archive.layout.spool)
    left.write(b"half a video")
    left.finish()
    leftover = left.path
    left._finalizer.detach()  # as after SIGKILL: nobody deletes it
    del left
    archive.open()
    try:
        assert not leftover.exists()
        assert list(archive.layout.spool.iterdir()) == []
    finally:
        archive.close()


def test_media_that_cannot_stream_are_held_to_the_page_limit(tmp_path, mirror_factory):
    """A content-encoded body is decoded in memory by Scrapy: so it may not grow past DOWNLOAD_MAXSIZE,
    even though MEDIA_MAXSIZE is larger."""
    import gzip

    site = GeneratedSite.two_columns(tmp_path / "site", 1)
    _serve_attachment(site, gzip.compress(random.Random(5).randbytes(3 << 20), 1), "packed.pdf",
                      {"chunked": True, "headers": {"Content-Type": "application/pdf", "Content-Encoding": "gzip"}})
    mirror = mirror_factory(site.root)
    limited = subprocess.run(crawl_command(tmp_path / "limited", site.list_urls, "-s", "DOWNLOAD_MAXSIZE=2000000"),
                             cwd=REPO, env=crawl_env(mirror.proxy_url), capture_output=True, text=True, timeout=120)
    assert "media_failed=1" in limited.stdout + limited.stderr, limited.stdout + limited.stderr
    # Under the page limit, the same answer is archived, decoded (the WARC keeps it as sent).
    plain = subprocess.run(crawl_command(tmp_path / "plain", site.list_urls), cwd=REPO,
                           env=crawl_env(mirror.proxy_url), capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    sizes = sorted(p.stat().st_size for p in (tmp_path / "plain" / "media").rglob("*.pdf"))
    assert sizes == [3 << 20], sizes


def test_a_vsb_image_keeps_its_original_and_names_the_copy_the_page_shows():
    from cumt_archive.crawl.pipelines import _wanted_files
    from cumt_archive.extract import extract_article
    from cumt_archive.model import Article, RawPage

    url = "http://news.cumt.edu.cn/info/1002/72015.htm"  # src and orisrc differ
    body = (REPO / "tests/fixtures/site/news.cumt.edu.cn/info/1002/72015.htm").read_bytes()
    article = extract_article(RawPage(url=url, body=body))
    assert isinstance(article, Article)
    image = article.images[0]
    assert image.shown and image.shown != image.url and "/__local/" in image.shown
    wanted = _wanted_files(article)
    originals = [u for u, _, shown in wanted if not shown]
    copies = [u for u, _, shown in wanted if shown]
    assert originals == [m.url for m in article.media]  # media/ gets the originals
    assert copies == [m.shown for m in article.images if m.shown]  # the WARC gets what the page shows too


def test_from_html_imports_a_large_media_file_in_bounded_memory(tmp_path):
    """A saved tree with a 96 MiB image: into the WARC and media/ a chunk at a time, then rebuilt from the
    WARC alone; importing the tree again captures nothing twice."""
    site = GeneratedSite.two_columns(tmp_path / "saved", 1)
    story = site.of("webplus")[0]
    image = random.Random(6).randbytes(BIG_IMAGE)
    (site.root / "xwzx.cumt.edu.cn" / story.image_path.lstrip("/")).write_bytes(image)
    for routes in site.root.rglob("_routes.json"):
        routes.unlink()  # the mirror's configuration, not a saved page
    archive = tmp_path / "archive"
    command = [sys.executable, "-m", "cumt_archive.cli", "regenerate", "--from-html", str(site.root),
               "--archive", str(archive), "--quiet"]
    code, log, maxrss_kb = _maxrss_run(command, env=offline_env())
    assert code == 0, log
    assert maxrss_kb < REGENERATE_PEAK_LIMIT_KB, f"regenerate --from-html peaked at {maxrss_kb // 1024} MB"
    url = f"http://xwzx.cumt.edu.cn{story.image_path}"
    assert _warc_payloads(archive)[url] == [("response", hashlib.sha256(image).hexdigest())]
    stored = {_sha256_file(p) for p in (archive / "media").rglob("*") if p.is_file()}
    assert hashlib.sha256(image).hexdigest() in stored
    code, log, _ = _maxrss_run(command, env=offline_env())
    assert code == 0, log
    assert len(_warc_payloads(archive)[url]) == 1  # the same bytes are not captured again
    _assert_rebuilt_from_the_warc_in_bounded_memory(archive)
