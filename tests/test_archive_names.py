"""One file per story, provably: readable names that collide get distinct, stable names."""

from __future__ import annotations

import datetime as dt

from cumt_archive.archive import Archive
from cumt_archive.model import Article, TextBlock
from cumt_archive.profile import load_profile
from cumt_archive.urls import canonical_url, urlname


def article(url: str, title: str) -> Article:
    return Article(url=url, canonical_url=canonical_url(url), urlname=urlname(url), family="webplus", title=title,
                   published=dt.datetime(2024, 5, 1), published_raw="2024-05-01", blocks=(TextBlock(title + "。"),),
                   attachments=())


COLLIDING = [
    ("http://a-b.cumt.edu.cn/2c/a1/c1a1/page.htm", "http://a.b.cumt.edu.cn/2c/a1/c1a1/page.htm"),
    ("http://xwzx.cumt.edu.cn/p1/c1a2/page.htm", "http://xwzx.cumt.edu.cn/p2/c1a2/page.htm"),
]


def test_colliding_names_get_distinct_stable_files(tmp_path):
    archive = Archive(tmp_path / "archive", load_profile("cumt"))
    archive.open()
    try:
        archive.index.start_run("test", {})  # type: ignore[union-attr]
        paths = {}
        for first, second in COLLIDING:
            a = archive.archive_article(article(first, "第一篇"), warc_file=None, warc_offset=None, fetched_at="")
            b = archive.archive_article(article(second, "第二篇"), warc_file=None, warc_offset=None, fetched_at="")
            assert a.path != b.path, (first, second)
            assert "第一篇" in a.path.read_text() and "第二篇" in b.path.read_text()
            paths[first], paths[second] = a.path, b.path
        # Written again (a refresh, a regenerate), each story keeps the name it was given.
        for url, path in paths.items():
            again = archive.archive_article(article(url, "第一篇" if url in dict(COLLIDING) else "第二篇"),
                                            warc_file=None, warc_offset=None, fetched_at="")
            assert again.path == path and not again.changed
        assert len(list((tmp_path / "archive" / "posts").glob("*.md"))) == 4
    finally:
        archive.close()
