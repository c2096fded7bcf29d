"""The fixture mirror of cumt's hosts (both CMS families), crawled by `scrapy crawl cumt` through a proxy."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from cumt_archive.urls import media_relpath, urlname
from conftest import FIXTURES, run_crawl
from hexo_client import hexo_read

SITE = FIXTURES / "site"
EXPECTED = json.loads((SITE / "EXPECTED.json").read_text(encoding="utf-8"))


def site_bytes(url: str) -> bytes:
    parts = urlsplit(url)
    host_dir = SITE / parts.hostname
    routes_file = host_dir / "_routes.json"
    routes = json.loads(routes_file.read_text(encoding="utf-8")) if routes_file.exists() else {}
    key = parts.path + ("?" + parts.query if parts.query else "")
    if key in routes and "file" in routes[key]:
        return (host_dir / routes[key]["file"]).read_bytes()
    return (host_dir / unquote(parts.path.lstrip("/"))).read_bytes()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from cumt_archive.mirror import MirrorServer

    archive = tmp_path_factory.mktemp("site") / "archive"
    with MirrorServer(SITE) as mirror:
        result = run_crawl(archive, EXPECTED["lists"], mirror.proxy_url)
        requests = list(mirror.requests)
    return archive, result, requests


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def test_every_article_once_with_front_matter_text_and_media(crawled):
    archive, result, _ = crawled
    assert result.returncode == 0, result.log
    posts = {front_matter(p)["urlname"]: p for p in (archive / "posts").glob("*.md")}
    assert len(posts) == len(list((archive / "posts").glob("*.md")))  # no duplicates
    assert set(posts) == {urlname(u) for u in EXPECTED["articles"]}
    for url, want in EXPECTED["articles"].items():
        path = posts[urlname(url)]
        text = path.read_text(encoding="utf-8")
        meta = front_matter(path)
        assert meta["title"] == f"中国矿业大学->{want['title']} | cumt.net.cn"
        assert f"{meta['date']:%Y-%m-%d %H:%M:%S}" == want["date"]
        assert text.endswith(f"[转入文章首发地址]({url})")
        for image in want["images"]:
            assert f"![图]({image})" in text
            assert (archive / "media" / media_relpath(image)).read_bytes() == site_bytes(image)
        for attachment in want["attachments"]:
            assert f"[{attachment['name']}]({attachment['url']})" in text
            stored = archive / "media" / media_relpath(attachment["url"], attachment["name"])
            assert stored.read_bytes() == site_bytes(attachment["url"])


def test_seed_article_comes_back_as_the_seed_document(crawled):
    archive, _, _ = crawled
    seed = (FIXTURES / "pages" / "seed-xwzx" / "expected.md").read_bytes()
    assert (archive / "posts" / "xwzx-c523a537506.md").read_bytes() == seed


def test_non_articles_and_off_site_items(crawled):
    archive, result, requests = crawled
    written = {front_matter(p)["urlname"] for p in (archive / "posts").glob("*.md")}
    for url in EXPECTED["not_articles"]:
        assert urlname(url) not in written
        assert url in result.log  # counted and logged with its URL
    for url in EXPECTED["offsite"]:
        assert url not in requests
        assert url in result.log
    assert f"not_articles={len(EXPECTED['not_articles'])}" in result.log


def test_hexo_parses_every_crawled_file(crawled):
    archive, _, _ = crawled
    files = sorted((archive / "posts").glob("*.md"))
    seen = hexo_read(files)
    for path in files:
        assert seen[str(path)]["ok"] and seen[str(path)]["titleType"] == "string"
        assert seen[str(path)]["nunjucksUnchanged"]


def test_every_listed_story_has_an_outcome_and_a_no_change_run_asks_only_for_list_pages(crawled, tmp_path):
    """`/_redirect` items on www lead to xwzx stories requested under their own URL: they are recorded as
    aliases, so the next run asks for nothing but one list page per column (plus robots.txt)."""
    import sqlite3

    from cumt_archive.mirror import MirrorServer

    archive, _, _ = crawled
    db = sqlite3.connect(archive / "index.sqlite")
    redirects = db.execute("SELECT url, status, reason FROM articles WHERE url LIKE '%/_redirect%'").fetchall()
    db.close()
    assert redirects and all(status == "alias" and reason.startswith("redirects to ") for _, status, reason in redirects)
    with MirrorServer(SITE) as mirror:
        again = run_crawl(archive, EXPECTED["lists"], mirror.proxy_url)
        requests = [u for u in mirror.requests if not u.endswith("/robots.txt")]
    assert again.returncode == 0, again.log
    assert sorted(requests) == sorted(set(EXPECTED["lists"])), requests
