"""VSB (Visual SiteBuilder, 博达) pages: news.cumt.edu.cn and several subsites."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..model import ListPage, Media, RawPage
from . import common
from .body import BodyConverter, drop_elements
from .html import ClassIndex, has_class, text_of
from .page import ArticleParts

FAMILY = "vsb"
_MARKERS = (
    b"visual sitebuilder", b"_newscontent_fromname", b"vsb_content", b"/system/resource/js/", b"_jsq_(",
    b"vsb_newscontent", b'id="line_u', b"_showdynclick", b"/__local/", b"v_news_content", b"statpagedown",
    b"pb_sys_", b"wbnewsid",
)
_ICON = re.compile(r"/system/resource/|/images/icon|fileicon", re.I)
_PAGER_TEXT = re.compile(r"共\s*\d+\s*条(?:&nbsp;|\s)*(\d+)\s*/\s*(\d+)")
_GOTOPAGE = re.compile(r"_simple_list_gotopage_fun\(\s*(\d+)")
_CLICK_COUNTER = re.compile(r"_showDynClicks\(\s*[\"']wbnews[\"']\s*,\s*\d+\s*,\s*(\d+)\s*\)")


def score(lower_body: bytes) -> int:
    return common.marker_score(lower_body, _MARKERS)


def image_source(el: HtmlElement, base_url: str) -> str | None:
    return common.image_url(el, base_url, "orisrc", _ICON)


def attachment_of(el: HtmlElement, base_url: str) -> Media | None:
    return common.document_link(el, base_url, "download.jsp")


def _innermost(found: list[HtmlElement]) -> HtmlElement | None:
    """The deepest of nested candidates (T2 pages nest the body twice: vsb_content > v_news_content > ...)."""
    members = set(found)
    for el in reversed(found):
        if not any(d in members for d in el.iterdescendants()):
            return el
    return None


def _body(doc: HtmlElement, classes: ClassIndex) -> HtmlElement | None:
    for found in (classes.all("v_news_content"), doc.xpath("//*[@id='vsb_content']"),
                  doc.xpath("//*[@id='vsb_newscontent']")):
        el = _innermost(found)
        if el is not None:
            return el
    return None


def _region(doc: HtmlElement, body: HtmlElement) -> HtmlElement:
    forms = doc.xpath("//form[@name='_newscontent_fromname']")
    if forms:
        return forms[0]
    for ancestor in body.iterancestors():
        if ancestor.tag in ("form", "table"):
            return ancestor
    return doc


def _outside_body(els: list[HtmlElement], region: HtmlElement, body: HtmlElement) -> list[HtmlElement]:
    """Elements of the article's region that are not the body, nor inside it, nor around it."""
    around = set(body.iterancestors())
    return [el for el in els if el is not body and el not in around and body not in el.iterancestors()
            and (el is region or region in el.iterancestors())]


def _title(doc: HtmlElement, classes: ClassIndex, region: HtmlElement, body: HtmlElement) -> str:
    """The article's heading: the one `<title>` (title-站点名) names, else the nearest one above the body."""
    page_title = common.page_title(doc)
    site_less = page_title.rsplit("-", 1)[0].strip() if "-" in page_title else page_title
    heading_in_art_tit = [h for el in classes.all("art-tit") for h in el.iter("h3")]
    groups = (heading_in_art_tit, classes.prefixed("titlestyle", "td"), classes.all("title"),
              region.xpath(".//h1 | .//h2 | .//h3"))
    candidates = [(el, text_of(el)) for group in groups for el in _outside_body(group, region, body)]
    candidates = [(el, text) for el, text in candidates if text]
    for _, text in candidates:
        if text == site_less or (len(text) > 4 and page_title.startswith(text)):
            return text
    order = {el: i for i, el in enumerate(region.iter())}
    headings = [(el, text) for el, text in candidates if el.tag in ("h1", "h2", "h3")]
    before_body = [(el, text) for el, text in headings if order.get(el, -1) < order.get(body, -1)]
    if candidates and (candidates[0][0].tag not in ("h1", "h2", "h3") or not before_body):
        return candidates[0][1]
    if before_body:
        return before_body[-1][1]
    return site_less


def _date(classes: ClassIndex, region: HtmlElement, body: HtmlElement) -> tuple | None:
    meta = _outside_body(
        [*classes.all("attribute"), *classes.all("time"), *classes.prefixed("timestyle", "span"),
         *classes.all("art-tit")], region, body)
    for el in meta:
        found = common.labelled_date(text_of(el))
        if found:
            return found
    for el in meta:
        found = common.parse_datetime(text_of(el))
        if found:
            return found
    outside = " ".join(text_of(el) for el in _outside_body(
        [el for el in region.iter("div", "span", "p", "td")], region, body))
    return common.labelled_date(outside)


def article_parts(page: RawPage, doc: HtmlElement) -> ArticleParts | None:
    classes = ClassIndex(doc)
    body = _body(doc, classes)
    if body is None:
        return None
    region = _region(doc, body)
    title = _title(doc, classes, region, body)
    date = _date(classes, region, body)
    drop_elements(body, ".//*[@id='div_vote_id'] | .//dl[contains(@class,'page')]")
    blocks, attachments = BodyConverter(page.url, image_source, attachment_of).convert(body)
    # VSB lists attachments after the body (附件【name】已下载N次), still inside the article's form.
    for anchor in region.iter("a"):
        if body in anchor.iterancestors():
            continue
        media = attachment_of(anchor, page.url)
        if media is not None and "download.jsp" in media.url and all(m.url != media.url for m in attachments):
            attachments.append(media)
    script = page.body.lower()
    link_shell = not blocks and not attachments and (b"getnewslinkurl" in script or b"window.location" in script)
    counter = _CLICK_COUNTER.search(page.body.decode("latin-1"))
    return ArticleParts(title=title, date=date, blocks=blocks, attachments=attachments, link_shell=link_shell,
                        origin_id=counter.group(1) if counter else "")


_CURRENT_OF_TOTAL = re.compile(r"(\d+)\s*/\s*(\d+)")
_NUMBERED_FILE = re.compile(r"(?:^|/)(\d+)\.htm$")


def _total_pages(doc: HtmlElement, html_text: str, classes: ClassIndex) -> int | None:
    """Total pages as the column's first page states it; None on deeper pages, whose counts go stale.

    Pagers differ: `共299条 1/30`, `<span class="p_t">1/54</span>`, the go-to-page script, or only a
    window of numbered links, each of which states the total (page k lives in file T-k+1).
    """
    match = _PAGER_TEXT.search(html_text)
    if match:
        return int(match.group(2)) if match.group(1) == "1" else None
    for el in [*classes.all("p_t"), *doc.xpath("//*[starts-with(@id, 'fanye')]")]:
        match = _CURRENT_OF_TOTAL.search(text_of(el))
        if match:
            return int(match.group(2)) if match.group(1) == "1" else None
    match = _GOTOPAGE.search(html_text)
    if match:
        return int(match.group(1))
    stated = []
    for anchor in [a for el in classes.all("p_no") for a in el.iter("a")]:
        number, file_match = text_of(anchor), _NUMBERED_FILE.search(anchor.get("href") or "")
        if number.isdigit() and file_match:
            stated.append(int(number) + int(file_match.group(1)) - 1)
    if stated:
        return max(set(stated), key=stated.count)
    numbers = [int(text_of(el)) for el in [*classes.all("p_no"), *classes.all("p_no_d")] if text_of(el).isdigit()]
    return max(numbers) if numbers else None


def list_page(page: RawPage, doc: HtmlElement, html_text: str) -> ListPage:
    line_items = doc.xpath("//li[starts-with(@id, 'line_u')]")
    pager = f".//*[{has_class('pb_sys_common')} or starts-with(@id, 'fanye')]"
    if line_items:
        entries = []
        for li in line_items:
            anchors = [a for a in li.iter("a") if (a.get("tppabs") or a.get("href"))]
            if anchors:
                entries.append((anchors[0], li))
    else:
        entries = common.find_list_entries(doc, pager)
    next_url = None
    for anchor in doc.xpath("//a"):
        if text_of(anchor) in ("下页", "下一页", ">", "»"):
            href = (anchor.get("tppabs") or anchor.get("href") or "").strip()
            if href and not href.startswith("javascript"):
                next_url = urljoin(page.url, href)
                break
    return ListPage(
        page.url, FAMILY, tuple(common.list_items(entries, page.url)), _total_pages(doc, html_text, ClassIndex(doc)),
        next_url,
    )
