"""ReplayWeb.page opens the WACZ that `cumt-archive export --wacz` writes. In Debian's headless Chromium
(driven by playwright-core through tests/replayweb/replay.mjs) its <replay-web-page> embed lists the
package's pages, replays archived articles of both CMS families with their title and text, answers
their images and attachments with the original bytes, and reports a page and an image the package
does not hold as not archived. Everything on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import lxml.html
import pytest

from test_crawl_site import EXPECTED, site_bytes

CHROMIUM = Path("/usr/bin/chromium")
DRIVER_DIR = Path(__file__).parent / "replayweb"
DRIVER = DRIVER_DIR / "replay.mjs"
# Of each CMS family an article with images (WebPlus: the seed, its three images on another host) and
# one with an attachment (VSB: served by download.jsp with a query string and Content-Disposition).
WEBPLUS = "http://xwzx.cumt.edu.cn/33/a2/c523a537506/page.htm"
VSB = "http://news.cumt.edu.cn/info/1002/72015.htm"
ARTICLES = [WEBPLUS, VSB, "http://xwzx.cumt.edu.cn/33/88/c523a537480/page.htm",
            "http://news.cumt.edu.cn/info/1002/71850.htm"]
MISSING_IMAGE = "http://zwb.cumt.edu.cn/_upload/article/images/5f/b6/08baf15a4ef9bf80a88df055529d/not-archived.jpg"
MISSING_PAGE = "http://xwzx.cumt.edu.cn/33/a2/c523a999999/page.htm"


def require_browser_and_driver() -> None:
    """Fail, not skip: CI must prove that ReplayWeb.page opens the package."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; `make test` does)")
    if shutil.which("node") is None:
        pytest.fail("node is missing: install Debian's nodejs and npm")
    for package in ("replaywebpage", "playwright-core"):
        if not (DRIVER_DIR / "node_modules" / package / "package.json").exists():
            pytest.fail(f"{DRIVER_DIR / 'node_modules' / package} is missing: run `make test` "
                        f"(or `cd {DRIVER_DIR} && npm ci`)")


def paragraphs(html: bytes) -> list[str]:
    """The text of the original page's <p> elements, whitespace collapsed, longest first."""
    tree = lxml.html.fromstring(html)
    texts = (" ".join("".join(p.xpath(".//text()[not(ancestor::script)]")).split()) for p in tree.iter("p"))
    return sorted((t for t in texts if len(t) >= 20), key=len, reverse=True)


def collapsed(text: str) -> str:
    return " ".join(text.split())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def media(url: str) -> list[str]:
    """The article's images and attachments: what the archive holds besides the page."""
    want = EXPECTED["articles"][url]
    return want["images"] + [attachment["url"] for attachment in want["attachments"]]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, crawled_fixture_site):
    require_browser_and_driver()
    base = tmp_path_factory.mktemp("replaywebpage")
    archive = base / "archive"
    shutil.copytree(crawled_fixture_site, archive)  # export opens the archive: not the shared copy
    package = base / "cumt.wacz"
    export = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "export", "--archive", str(archive),
                             "--wacz", str(package)], capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr

    (base / "profile").mkdir()  # a fresh --user-data-dir: no service worker or cache from an earlier run
    (base / "screenshots").mkdir()
    request = {
        "wacz": str(package), "chromium": str(CHROMIUM), "profile": str(base / "profile"),
        "screenshots": str(base / "screenshots"),
        "pages": [{"url": url, "fetch": media(url)} for url in ARTICLES], "page_count": len(EXPECTED["articles"]),
        "missing_image": MISSING_IMAGE, "missing_page": MISSING_PAGE, "timeout_ms": 30000,
    }
    (base / "request.json").write_text(json.dumps(request), encoding="utf-8")
    proc = subprocess.run(["node", str(DRIVER), str(base / "request.json")], capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "error" not in result, (f"{result['error']}\nsteps done (ms): {result['step_ms']}\n"
                                   f"answers >= 400: {result['failed_responses']}")
    if result["worker_bypassed"]:  # recovered by opening the embed again (replay.mjs says why): shown, not hidden
        warnings.warn(f"ReplayWeb.page's service worker let navigations through: {result['worker_bypassed']}")
    return result


def test_the_package_page_list_is_every_article_with_its_title(replayed):
    # ReplayWeb.page's own page list (its Pages view), read from the package's pages/pages.jsonl.
    listed = {entry["url"]: entry["title"] for entry in replayed["page_list"]}
    assert listed == {url: want["title"] for url, want in EXPECTED["articles"].items()}


def test_every_request_of_browser_and_replay_stayed_on_loopback(replayed):
    assert replayed["off_loopback_requests"] == []
    assert any(line.startswith("GET /archive.wacz") for line in replayed["served"])


@pytest.mark.parametrize("url", ARTICLES)
def test_article_replays_in_the_embed_with_its_title_and_text(replayed, url):
    seen = replayed["pages"][url]
    want = EXPECTED["articles"][url]
    # The innermost frame is ReplayWeb.page's replay of the archived URL, shown at a visible size.
    assert seen["frame_url"].startswith(replayed["origin"] + "/replay/w/")
    assert seen["frame_url"].endswith("mp_/" + url)
    assert seen["frame_box"]["width"] > 0 and seen["frame_box"]["height"] > 0
    assert want["title"] in seen["title"]
    text = collapsed(seen["text"])  # innerText: what is rendered, not hidden markup
    assert want["title"] in text
    original = paragraphs(site_bytes(url))
    assert original, f"no paragraph of text in the fixture page {url}"
    assert original[0] in text


@pytest.mark.parametrize("url", ARTICLES)
def test_every_image_and_attachment_of_the_article_replays_with_its_original_bytes(replayed, url):
    # Fetched inside the replayed page, as its scripts would: what the archive answers for each.
    fetched = replayed["pages"][url]["fetched"]
    assert media(url)
    for item in media(url):
        assert fetched[item]["status"] == 200, (item, fetched[item])
        assert fetched[item]["sha256"] == sha256(site_bytes(item)), f"{item} replays with other bytes"


def test_the_images_shown_on_a_webplus_article_load_in_the_replay(replayed):
    by_src = {img["src"]: img for img in replayed["pages"][WEBPLUS]["images"]}
    for image in EXPECTED["articles"][WEBPLUS]["images"]:
        assert image in by_src, f"{image} is not an <img> of the replayed {WEBPLUS}"
        assert by_src[image]["complete"] and by_src[image]["naturalWidth"] > 0, by_src[image]


def test_the_image_shown_on_a_vsb_article_loads_in_the_replay(replayed):
    """VSB shows a scaled copy (<img src>) and names the original in orisrc: media/ keeps the original,
    and the copy the page shows is captured into the WARC too, so the replay shows the page as it was."""
    images = replayed["pages"][VSB]["images"]
    content = [img for img in images if "/__local/" in img["src"]]  # the article's own images, not the logo
    assert content
    assert all(img["complete"] and img["naturalWidth"] > 0 for img in content), content


def test_negative_control_an_image_not_in_the_archive_does_not_load(replayed):
    missing = replayed["missing_image"]
    assert missing["outcome"] == "error" and missing["naturalWidth"] == 0, missing
    assert missing["fetched"]["status"] == 404, missing


def test_negative_control_a_page_not_in_the_archive_is_reported_not_archived(replayed):
    missing = replayed["missing_page"]
    assert missing["title"] == "Archived Page Not Found"
    assert "not found in this archive" in missing["text"]
    assert MISSING_PAGE in missing["text"]
    assert all(EXPECTED["articles"][url]["title"] not in missing["text"] for url in ARTICLES)
