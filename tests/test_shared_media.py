"""A file several articles show is fetched once a run, and every one of those articles gets it."""

from __future__ import annotations

import re
import sqlite3

from conftest import run_crawl
from cumt_archive.urls import media_relpath
from sitegen import GeneratedSite, tiny_png

SHARED = {"xwzx.cumt.edu.cn": "/_upload/article/images/aa/bb/shared.png",
          "news.cumt.edu.cn": "/__local/A/BB/CC/SHARED_1234ABCD_9F.png"}


def test_an_image_many_articles_show_is_fetched_once_and_stored_for_all(tmp_path, mirror_factory):
    site = GeneratedSite.two_columns(tmp_path / "site", 4)
    for story in site.stories:  # every story of a host shows that host's one shared image
        host = story.url.split("/")[2]
        page = site.root / host / story.url.split(host, 1)[1].lstrip("/")
        page.write_text(page.read_text(encoding="utf-8").replace(story.image_path, SHARED[host]), encoding="utf-8")
    for n, (host, path) in enumerate(SHARED.items()):
        (site.root / host / path.lstrip("/")).write_bytes(tiny_png(200 + n))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"

    # One request at a time: each article's files are stored before the next article is fetched, so all
    # but the first article of a host find the image stored already (Scrapy's own cache is not reached).
    # DEBUG: Scrapy's stats dump, which counts those, is in the log.
    result = run_crawl(archive, site.list_urls, mirror.proxy_url, "-s", "CONCURRENT_REQUESTS=1", "-s", "LOG_LEVEL=DEBUG")

    assert result.returncode == 0, result.log
    for host, path in SHARED.items():
        assert mirror.requests.count(f"http://{host}{path}") == 1, mirror.requests
    posts = sorted((archive / "posts").glob("*.md"))
    assert len(posts) == 8
    shown = {f"http://{host}{path}" for host, path in SHARED.items()}
    for post in posts:  # each shows its host's shared image, which media/ holds
        links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", post.read_text(encoding="utf-8"))
        assert len(links) == 1 and links[0] in shown, links
    for n, url in enumerate(sorted(shown, key=lambda u: list(SHARED).index(u.split("/")[2]))):
        assert (archive / "media" / media_relpath(url)).read_bytes() == tiny_png(200 + n)
    reused = re.search(r"'cumt/media_reused': (\d+)", result.log)
    assert reused and int(reused[1]) >= 2, result.log  # at least one article of each host
    # Counted once per article that has it, as when each article fetched its own: 8 images, 4 attachments.
    assert re.search(r"\bmedia=12\b", result.log) and re.search(r"\bmedia_failed=0\b", result.log), result.log
    with sqlite3.connect(archive / "index.sqlite") as db:
        assert db.execute("SELECT count(*) FROM articles WHERE media_missing > 0").fetchone() == (0,)
