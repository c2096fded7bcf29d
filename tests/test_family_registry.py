"""CMS families are plug-ins: a third family, defined only here, is reached through the registry alone.

Extraction (articles and lists), pagination and file naming find it once it is registered, and not
before: nothing outside the registry knows the family exists.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin, urlsplit

import pytest

from cumt_archive.extract import REGISTRY, extract_article, extract_list
from cumt_archive.extract.body import BodyConverter
from cumt_archive.extract.common import parse_datetime
from cumt_archive.extract.families import Family, Registry
from cumt_archive.extract.html import text_of
from cumt_archive.extract.page import ArticleParts, ParsedPage
from cumt_archive.model import Article, ListItem, ListPage, Media, NotArticle, RawPage
from cumt_archive.pagination import page_url
from cumt_archive.archive import post_name

_ARTICLE = re.compile(r"/toy/article/(\d+)$")


class ToyCms:
    """A made-up CMS: `<meta name="generator" content="ToyCMS">`, `?page=n` paging, /toy/article/N."""

    name = "toycms"

    def score(self, page: ParsedPage) -> int:
        return 5 * len(page.doc.xpath("//meta[@name='generator' and @content='ToyCMS']"))

    def article_parts(self, page: ParsedPage) -> ArticleParts | None:
        body = page.classes.first("toy-body")
        if body is None:
            return None
        date = parse_datetime(text_of(page.doc.find(".//time")))
        blocks, attachments = BodyConverter(page.url, lambda el, base: urljoin(base, el.get("src")),
                                            lambda el, base: None).convert(body)
        return ArticleParts(title=text_of(page.classes.first("toy-title")), date=date, blocks=blocks,
                            attachments=attachments, link_shell=False)

    def list_page(self, page: ParsedPage) -> ListPage:
        items = tuple(ListItem(urljoin(page.url, a.get("href")), text_of(a), dt.date.fromisoformat(a.get("data-date")))
                      for a in page.doc.xpath("//ul[@class='toy-list']/li/a"))
        total = int(page.doc.xpath("string(//*[@class='toy-pages']/@data-total)") or 0) or None
        return ListPage(page.url, self.name, items, total, None)

    def page_url(self, entry_url: str, page_no: int, total_pages: int | None) -> str | None:
        return entry_url if page_no < 2 else f"{entry_url}?page={page_no}"

    def is_article_url(self, url: str) -> bool:
        return bool(_ARTICLE.search(urlsplit(url).path))

    def article_id(self, url: str) -> str | None:
        match = _ARTICLE.search(urlsplit(url).path)
        return match.group(1) if match else None

    def file_stem(self, url: str) -> str | None:
        article_id = self.article_id(url)
        return f"toy-{article_id}" if article_id else None


HEAD = '<html><head><meta name="generator" content="ToyCMS"><title>玩具</title></head><body>'
ARTICLE_PAGE = RawPage(
    "https://www.toy.example/toy/article/42",
    (HEAD + '<h1 class="toy-title">玩具新闻</h1><time>2024-05-06 08:09</time>'
     '<div class="toy-body"><p>第一段</p><p><img src="/p.jpg"></p></div></body></html>').encode("utf-8"),
)
LIST_PAGE = RawPage(
    "https://www.toy.example/toy/news",
    (HEAD + '<ul class="toy-list"><li><a href="/toy/article/42" data-date="2024-05-06">玩具新闻</a></li>'
     '<li><a href="/toy/article/41" data-date="2024-05-01">旧闻</a></li></ul>'
     '<div class="toy-pages" data-total="3"></div></body></html>').encode("utf-8"),
)


@pytest.fixture
def toy_registered():
    REGISTRY.register(ToyCms())
    try:
        yield
    finally:
        REGISTRY.unregister("toycms")


def test_the_test_family_implements_the_interface():
    assert isinstance(ToyCms(), Family)
    with pytest.raises(TypeError):
        Registry([object()])  # type: ignore[list-item]


def test_an_unregistered_family_is_unknown():
    result = extract_article(ARTICLE_PAGE)
    assert isinstance(result, NotArticle) and result.reason == "unknown_cms"
    assert page_url("https://www.toy.example/toy/news", "toycms", 2, 3) is None


def test_extraction_reaches_a_registered_family(toy_registered):
    article = extract_article(ARTICLE_PAGE)
    assert isinstance(article, Article), article
    assert (article.family, article.title, str(article.published)) == ("toycms", "玩具新闻", "2024-05-06 08:09:00")
    assert article.text_blocks == ["第一段"]
    assert article.images == [Media("https://www.toy.example/p.jpg")]


def test_list_parsing_and_pagination_reach_a_registered_family(toy_registered):
    listing = extract_list(LIST_PAGE)
    assert listing.family == "toycms" and listing.total_pages == 3
    assert [(i.url, i.title, i.date) for i in listing.items] == [
        ("https://www.toy.example/toy/article/42", "玩具新闻", dt.date(2024, 5, 6)),
        ("https://www.toy.example/toy/article/41", "旧闻", dt.date(2024, 5, 1)),
    ]
    assert page_url(LIST_PAGE.url, listing.family, 2, listing.total_pages) == "https://www.toy.example/toy/news?page=2"


def test_file_names_and_article_ids_come_from_the_family(toy_registered):
    assert post_name("https://www.toy.example/toy/article/42", ["toy.example"]) == "www-toy-42.md"
    assert REGISTRY.article_id("https://www.toy.example/toy/article/42") == "42"


def test_registered_families_keep_their_own_shapes():
    assert post_name("http://xwzx.cumt.edu.cn/33/a2/c523a537506/page.htm", ["cumt.edu.cn"]) == "xwzx-c523a537506.md"
    assert post_name("https://news.cumt.edu.cn/info/1002/71704.htm", ["cumt.edu.cn"]) == "news-1002-71704.md"
    assert REGISTRY.article_id("https://news.cumt.edu.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1&wbnewsid=7") == "7"
