"""pywb, the standard replay tool, given the archive's WARC files and CDXJ index, replays every article
with all its images and attachments: 200 and the original bytes. All on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cumt_archive.store.cdxj import INDEX_NAME
from cumt_archive.store.warc import warc_files
from test_crawl_site import EXPECTED, site_bytes

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture(scope="module")
def wayback(tmp_path_factory, crawled_fixture_site):
    base = tmp_path_factory.mktemp("pywb")
    archive = crawled_fixture_site
    # A pywb collection made by pywb's own wb-manager, holding our WARC files and our CDXJ index.
    root = base / "pywb"
    root.mkdir()
    subprocess.run([str(BIN / "wb-manager"), "init", "cumt"], cwd=root, check=True, capture_output=True)
    collection = root / "collections" / "cumt"
    for warc in warc_files(archive / "warc"):
        shutil.copy(warc, collection / "archive" / warc.name)
    shutil.copy(archive / "indexes" / INDEX_NAME, collection / "indexes" / INDEX_NAME)
    port = free_port()
    log = open(base / "wayback.log", "wb")
    server = subprocess.Popen([str(BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                              stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/cumt"
    deadline = time.monotonic() + 60
    while True:  # wait for the server to listen (not a timing assertion: it only bounds a hung start)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"wayback did not start: {(base / 'wayback.log').read_text(errors='replace')}")
            time.sleep(0.1)
    yield base_url
    server.terminate()
    server.wait(10)
    log.close()


def test_every_article_replays_with_its_images_and_attachments(wayback):
    for url, want in EXPECTED["articles"].items():
        status, body = fetch(f"{wayback}/2100id_/{url}")  # id_: the capture exactly as archived
        assert (status, body) == (200, site_bytes(url)), url
        status, page = fetch(f"{wayback}/2100mp_/{url}")  # the page a reader sees in the replay frame
        assert status == 200 and want["title"].encode("utf-8") in page, url
        for media in [*want["images"], *(a["url"] for a in want["attachments"])]:
            status, body = fetch(f"{wayback}/2100id_/{media}")
            assert status == 200, media
            assert body == site_bytes(media), media


def test_an_archived_redirect_replays_as_a_redirect(wayback):
    status, _ = fetch(f"{wayback}/2100id_/http://www.cumt.edu.cn/_redirect?siteId=44&columnId=19673&articleId=579438")
    assert status == 302
