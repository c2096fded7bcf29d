"""WebPlus Pro (Sudy) pages: xwzx, www, zwb and most older cumt subsites."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit, urlunsplit

from ...model import ListPage, Media
from ...urls import join_url
from .. import common
from ..body import BodyConverter, Embedded
from ..html import PORTLET, ClassIndex, Element, drop_tree, has_class, select, text_of
from ..page import ArticleParts, ParsedPage

NAME = "webplus"
_CLASS_MARKERS = (
    "wp_articlecontent", "wp_paging", "wp_article_list", "wp_article_list_table", "Article_Content", "wp_pdf_player",
    "wp_video_player", "arti_title", "arti_metas", "all_pages", "WP_VisitCount", "wp_column_article", "wp_listcolumn",
)
_MARKERS = ("sudy-wp-siteid", "script:/_js/", "script:/_visitcount")
_ICON = re.compile(r"/_ueditor/|/fileicons?/|icon_[a-z]+\.(gif|png)|/_images/|/images/file", re.I)
_ARTICLE_URL = re.compile(r"/c(\d+)a(\d+)/page\.(htm|psp)$")
_ARTICLE_HREF = re.compile(r"c\d+a\d+/page\.(?:htm|psp)|/_redirect\?|/page\.(?:htm|psp)$", re.I)
_LIST_URL = re.compile(r"^(.*/)list\d*\.(htm|html|psp)$")
_TITLE_CLASSES = ("arti_title", "Article_Title", "arti-title", "article_title", "news_title", "biaoti", "infotitle")
# Lists of other articles (sidebars, related links) whose titles must never be taken for the article's.
_LIST_CONTAINERS = ("wp_article_list", "wp_article_list_table", "news_list", "wp_listcolumn")


def image_source(el: Element, base_url: str) -> str | None:
    return common.image_url(el, base_url, "original-src", _ICON)


ATTACHMENT_TAGS = frozenset(("a", "div"))  # the only tags attachment_of answers for


def attachment_of(el: Element, base_url: str) -> Media | None:
    pdf = el.get("pdfsrc") if el.tag == "div" else None
    if pdf:
        url = join_url(base_url, pdf.strip())
        if common.is_web_url(url):
            return Media(url, common.sudyfile_title(el) or common.file_name(url))
    if el.tag != "a":
        return None
    return common.document_link(el, base_url, "/_upload/article/files/")


def embedded_of(el: Element, base_url: str) -> Embedded | None:
    """The WebPlus player (`div.wp_video_player`, older `<img sudyplayer=..>`) holds a video or audio file."""
    src = (el.get("sudy-wp-src") or "").strip()
    if src:
        url = join_url(base_url, src)
        if common.is_web_url(url):
            return Embedded(attachments=(Media(url, common.sudyfile_title(el) or common.file_name(url)),))
        return Embedded()
    if el.tag not in common.MEDIA_TAGS:
        return None
    return common.html_media(el, base_url)


def _body(classes: ClassIndex) -> Element | None:
    for name in ("wp_articlecontent", "Article_Content", "read", "entry"):
        el = classes.first(name)
        if el is not None:
            return el
    return None


_CHROME_TEXT = re.compile(r"^\s*(上一篇|下一篇|上一条|下一条|分享|打印|关闭|【关闭】|返回|责任编辑|新闻来源|来源[:：])")


def _spilled(body: Element) -> list[Element]:
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


_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/c\d+a\d+/page\.(?:htm|psp)")


def url_date(url: str) -> tuple[dt.datetime, str] | None:
    """Sites that file articles by date (`/2026/0313/c13475a290241/page.htm`) state it in the URL."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return dt.datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))), match.group(0)
    except ValueError:
        return None


def _in_list(el: Element) -> bool:
    for ancestor in el.iterancestors():
        if ancestor.tag == "li" or ancestor.get("portletmode") == "simpleList":
            return True
        if any(c in _LIST_CONTAINERS for c in (ancestor.get("class") or "").split()):
            return True
    return False


def _title(page: ParsedPage, body: Element) -> tuple[str, str, Element | None]:
    """(title, problem, its element). Candidates are headings and title cells outside lists, cross-checked
    with <title> (which WebPlus fills with the bare title); an old table template's sidebar
    `Article_Title` is not one."""
    classes = page.classes
    explicit = [el for name in ("arti_title", "Article_Title", "arti-title") for el in classes.all(name)]
    named = [el for name in _TITLE_CLASSES[3:] for el in classes.all(name)]
    named += [el for el in classes.prefixed("title", "td")]
    candidates = [el for el in [*explicit, *named] if body not in el.iterancestors() and el is not body
                  and not _in_list(el)]
    page_title = common.page_title(page.doc)
    texts = {el: text_of(el) for el in candidates}
    title, problem = common.choose_title([texts[el] for el in candidates if el in explicit], page_title,
                                         others=list(texts.values()))
    if title or problem:
        return title, problem, next((el for el in candidates if texts[el] == title), None)
    return page_title, "", None


def _area(body: Element, title_el: Element | None) -> Element:
    """The article's own part of the page: the lowest element holding both its title and its body."""
    if title_el is None:
        return body.getroottree().getroot()
    title_line = set(title_el.iterancestors())
    for ancestor in body.iterancestors():
        if ancestor in title_line:
            return ancestor
    return body.getroottree().getroot()


def _date(doc: Element, classes: ClassIndex, area: Element, body: Element) -> tuple | None:
    def in_area(el: Element) -> bool:
        return (el is area or area in el.iterancestors()) and not _in_list(el)

    for name, unlabelled_ok in (("arti_update", True), ("news_xx", True), ("Article_PublishDate", True),
                                ("arti_metas", False)):
        for el in classes.all(name):
            if not in_area(el):
                continue
            text = text_of(el)
            found = common.labelled_date(text) or (common.parse_datetime(text) if unlabelled_ok else None)
            if found:
                return found
    for el in [el for el in classes.all(PORTLET) if el.get("portletmode") == "simpleArticleAttri"]:
        found = common.labelled_date(text_of(el)) or common.parse_datetime(text_of(el))
        if found:
            return found
    # Any other info line of the article's area (a table template's date cell), never the body's text.
    return common.info_line_date(area, body, skip=_in_list)


class WebPlus:
    name = NAME

    def score(self, page: ParsedPage) -> int:
        classes, markers = page.classes, page.markers
        return (sum(classes.has(name) for name in _CLASS_MARKERS) + sum(m in markers for m in _MARKERS)
                + classes.has(PORTLET))

    def article_parts(self, page: ParsedPage) -> ArticleParts | None:
        classes = page.classes
        body = _body(classes)
        if body is None:
            return None
        title, problem, title_el = _title(page, body)
        found = _date(page.doc, classes, _area(body, title_el), body) or url_date(page.url)
        for el in [*classes.all("arti_metas"), *classes.all("news_xx")]:
            if body in el.iterancestors() and el.getparent() is not None:
                drop_tree(el)
        converter = BodyConverter(page.url, image_source, attachment_of, embedded_of, hooks_ignore_runs=True,
                                  attachment_tags=ATTACHMENT_TAGS)
        blocks, attachments = converter.convert(body, *_spilled(body))
        return ArticleParts(title=title, date=found, blocks=blocks, attachments=attachments, link_shell=False,
                            title_problem=problem)

    def list_page(self, page: ParsedPage) -> ListPage:
        doc = page.doc
        portlets = select(doc, "//*[@portletmode='simpleList']")
        scope = max(portlets, key=lambda p: len(select(p, ".//a"))) if portlets else doc
        entries = common.find_list_entries(scope, f".//*[{has_class('wp_paging')}]", self.is_article_url)
        if not entries:
            # A column of downloads (a calendar's files) links documents, not articles: the list
            # portlet's (`wp_news_w{n}`) children are its items all the same.
            for portlet in select(doc, "//*[starts-with(@id, 'wp_news_w')]"):
                for item in portlet:
                    anchor = next(item.iter("a"), None) if isinstance(item.tag, str) else None
                    if anchor is not None and (anchor.get("href") or "").strip() and (
                            anchor.get("title") or text_of(anchor)):  # a bare focus image is no item
                        entries.append((anchor, item))
        total = None
        for em in select(doc, f"//em[{has_class('all_pages')}]"):
            if text_of(em).isdigit():
                total = int(text_of(em))
                break
        next_url = None
        for anchor in select(doc, f"//*[{has_class('wp_paging')}]//a[{has_class('next')}]"):
            href = (anchor.get("href") or "").strip()
            if href and not href.startswith("javascript"):
                next_url = join_url(page.url, href)
                break
        return ListPage(page.url, NAME, tuple(common.list_items(entries, page.url)), total, next_url)

    def page_url(self, entry_url: str, page_no: int, total_pages: int | None) -> str | None:
        """WebPlus numbers forward: list.htm, list2.htm, ..."""
        if page_no < 2:
            return entry_url
        parts = urlsplit(entry_url)
        match = _LIST_URL.match(parts.path)
        if not match or (total_pages is not None and page_no > total_pages):
            return None
        return urlunsplit((parts.scheme, parts.netloc, f"{match.group(1)}list{page_no}.{match.group(2)}", "", ""))

    def is_article_url(self, url: str) -> bool:
        return bool(_ARTICLE_HREF.search(url))

    def article_id(self, url: str) -> str | None:
        match = _ARTICLE_URL.search(urlsplit(url).path)
        return match.group(2) if match else None

    def file_stem(self, url: str) -> str | None:
        parts = urlsplit(url)
        match = _ARTICLE_URL.search(parts.path) if not parts.query else None
        if not match:
            return None
        return f"c{match.group(1)}a{match.group(2)}" + ("-psp" if match.group(3) == "psp" else "")


WEBPLUS = WebPlus()
