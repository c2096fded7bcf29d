"""WebPlus Pro (Sudy) pages: xwzx, www, zwb and most older cumt subsites."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..model import ListPage, Media, RawPage
from . import common
from .body import BodyConverter
from .html import ClassIndex, has_class, text_of
from .page import ArticleParts

FAMILY = "webplus"
_MARKERS = (
    b"sudy-wp-siteid", b"wp_articlecontent", b'portletmode="simplearticleattri"', b"portletmode='simplearticleattri'",
    b"/_visitcount?", b"wp_paging", b"wp_article_list", b'portletmode="simplelist"', b"/_upload/article/",
    b"article_content", b"wp_pdf_player", b"/_js/_portletplugs/", b"sudyplayer",
)
_ICON = re.compile(r"/_ueditor/|/fileicons?/|icon_[a-z]+\.(gif|png)|/_images/|/images/file", re.I)


def score(lower_body: bytes) -> int:
    return common.marker_score(lower_body, _MARKERS)


def image_source(el: HtmlElement, base_url: str) -> str | None:
    return common.image_url(el, base_url, "original-src", _ICON)


def attachment_of(el: HtmlElement, base_url: str) -> Media | None:
    if el.tag == "div" and el.get("pdfsrc") and common.is_web_url(urljoin(base_url, el.get("pdfsrc", "").strip())):
        url = urljoin(base_url, el.get("pdfsrc", "").strip())
        title = re.search(r"'title'\s*:\s*'([^']*)'", el.get("sudyfile-attr") or "")
        return Media(url, title.group(1) if title else url.rsplit("/", 1)[-1])
    return common.document_link(el, base_url, "/_upload/article/files/")


def _body(classes: ClassIndex) -> HtmlElement | None:
    for name in ("wp_articlecontent", "Article_Content", "read", "entry"):
        el = classes.first(name)
        if el is not None:
            return el
    return None


_CHROME_TEXT = re.compile(r"^\s*(上一篇|下一篇|上一条|下一条|分享|打印|关闭|【关闭】|返回|责任编辑|新闻来源|来源[:：])")


def _spilled(body: HtmlElement) -> list[HtmlElement]:
    """Body paragraphs that a stray </div> pushed out of the body: they land right after it in div.read.

    Only plain, class-less paragraphs count, up to the first thing that looks like page chrome
    (meta lines, share boxes, previous/next links), which templates also put there.
    """
    parent = body.getparent()
    if parent is None or not {"read", "entry"} & set((parent.get("class") or "").split()):
        return []
    spilled = []
    for el in body.itersiblings():
        if not isinstance(el.tag, str):
            continue
        if el.tag not in ("p", "table", "ul", "ol", "h2", "h3", "h4", "blockquote") or el.get("class") \
                or el.get("id") or _CHROME_TEXT.match(text_of(el)):
            break
        spilled.append(el)
    return spilled


def _title(doc: HtmlElement, classes: ClassIndex) -> str:
    candidates = [*classes.all("arti_title", "h1"), *classes.all("arti_title"), *classes.all("Article_Title"),
                  *classes.all("arti-title")]
    for el in candidates:
        text = text_of(el)
        if text:
            return text
    return common.page_title(doc)


def _date(doc: HtmlElement, classes: ClassIndex) -> tuple | None:
    for name, unlabelled_ok in (("arti_update", True), ("news_xx", True), ("Article_PublishDate", True),
                                ("arti_metas", False)):
        for el in classes.all(name):
            text = text_of(el)
            found = common.labelled_date(text) or (common.parse_datetime(text) if unlabelled_ok else None)
            if found:
                return found
    for el in doc.xpath("//*[@portletmode='simpleArticleAttri']"):
        found = common.labelled_date(text_of(el)) or common.parse_datetime(text_of(el))
        if found:
            return found
    body = doc.find("body")
    return common.labelled_date(text_of(body)) if body is not None else None


def article_parts(page: RawPage, doc: HtmlElement) -> ArticleParts | None:
    classes = ClassIndex(doc)
    body = _body(classes)
    if body is None:
        return None
    found = _date(doc, classes)
    title = _title(doc, classes)
    for el in [*classes.all("arti_metas"), *classes.all("news_xx")]:
        if body in el.iterancestors() and el.getparent() is not None:
            el.drop_tree()
    blocks, attachments = BodyConverter(page.url, image_source, attachment_of).convert(body, *_spilled(body))
    return ArticleParts(title=title, date=found, blocks=blocks, attachments=attachments, link_shell=False)


def list_page(page: RawPage, doc: HtmlElement) -> ListPage:
    portlets = doc.xpath("//*[@portletmode='simpleList']")
    scope = max(portlets, key=lambda p: len(p.xpath(".//a"))) if portlets else doc
    entries = common.find_list_entries(scope, f".//*[{has_class('wp_paging')}]")
    total = None
    for em in doc.xpath(f"//em[{has_class('all_pages')}]"):
        if text_of(em).isdigit():
            total = int(text_of(em))
            break
    next_url = None
    for anchor in doc.xpath(f"//*[{has_class('wp_paging')}]//a[{has_class('next')}]"):
        href = (anchor.get("href") or "").strip()
        if href and not href.startswith("javascript"):
            next_url = urljoin(page.url, href)
            break
    return ListPage(page.url, FAMILY, tuple(common.list_items(entries, page.url)), total, next_url)
