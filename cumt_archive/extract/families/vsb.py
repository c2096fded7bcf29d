"""VSB (Visual SiteBuilder, 博达) pages: news.cumt.edu.cn and several subsites."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from ...model import ListPage, Media
from ...urls import join_url
from .. import common
from ..body import BodyConverter, Embedded, drop_elements
from ..html import ClassIndex, Element, has_class, iter_document, select, text_of
from ..page import ArticleParts, ParsedPage

NAME = "vsb"
_CLASS_MARKERS = ("v_news_content", "pb_sys_common", "p_no", "p_no_d", "p_t", "vsbcontent_start", "img_vsb_content")
_MARKERS = ("form:_newscontent_fromname", "script:/system/resource/js/", "script:_showDynClicks",
            "comment:Visual SiteBuilder")
_ICON = re.compile(r"/system/resource/|/images/icon|fileicon", re.I)
_PAGER_TEXT = re.compile(r"共\s*\d+\s*条(?:&nbsp;|\s)*(\d+)\s*/\s*(\d+)")
_GOTOPAGE = re.compile(r"_simple_list_gotopage_fun\(\s*(\d+)")
_CLICK_COUNTER = re.compile(r"_showDynClicks\(\s*[\"']wbnews[\"']\s*,\s*\d+\s*,\s*(\d+)\s*\)")
_ARTICLE_URL = re.compile(r"/info/(\d+)/(\d+)\.htm$")
_ARTICLE_HREF = re.compile(r"(?:^|/)info/\d+/\d+\.htm|content\.jsp\?", re.I)
_DYNAMIC_ID = re.compile(r"[?&]wbnewsid=(\d+)")
_LIST_URL = re.compile(r"^(.*)\.(htm|html)$")
# (to the first `]` by a negated class: a lazy .*? under re.S would try the end at every character)
_PDF_IMAGES = re.compile(r"vsb_pdf_image_data\s*=\s*\[([^\]]*)\]")
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
_VIDEO = re.compile(r"showVsbVideo\(\s*[\"']([^\"']+)[\"']")


def image_source(el: Element, base_url: str) -> str | None:
    return common.image_url(el, base_url, "orisrc", _ICON)


ATTACHMENT_TAGS = frozenset(("a",))  # the only tags attachment_of answers for


def attachment_of(el: Element, base_url: str) -> Media | None:
    if el.tag != "a":
        return None
    return common.document_link(el, base_url, "download.jsp")


EMBED_TAGS = frozenset(("script", *common.MEDIA_TAGS))  # the only tags embedded_of answers for


def embedded_of(el: Element, base_url: str) -> Embedded | None:
    """VSB draws a PDF as page images listed in a script, and plays videos from a script call."""
    if el.tag == "script":
        code = el.text or ""
        if "vsb_pdf_image_data" in code:
            match = _PDF_IMAGES.search(code)
            urls = [join_url(base_url, u.strip()) for u in _QUOTED.findall(match.group(1))] if match else []
            return Embedded(images=tuple(Media(u) for u in urls if common.is_web_url(u)))
        if "showVsbVideo" in code:
            urls = [join_url(base_url, u.strip()) for u in _VIDEO.findall(code)]
            return Embedded(attachments=tuple(Media(u, common.file_name(u)) for u in urls if common.is_web_url(u)))
        return None
    if el.tag not in common.MEDIA_TAGS:
        return None
    return common.html_media(el, base_url)


def _innermost(found: list[Element]) -> Element | None:
    """The deepest of nested candidates (T2 pages nest the body twice: vsb_content > v_news_content > ...)."""
    if len(found) == 1:
        return found[0]
    # A candidate holds another one when it is among that one's ancestors: walking up from each
    # candidate costs the depth of the page, walking down from each would cost the size of the body.
    members = set(found)
    holders = {a for el in found for a in el.iterancestors() if a in members}
    for el in reversed(found):
        if el not in holders:
            return el
    return None


def _body(doc: Element, classes: ClassIndex) -> Element | None:
    el = _innermost(classes.all("v_news_content"))  # the usual case: no tree scan for ids
    if el is not None:
        return el
    for xpath in ("//*[starts-with(@id, 'vsb_content')]", "//*[@id='vsb_newscontent']"):
        el = _innermost(select(doc, xpath))
        if el is not None:
            return el
    return None


def _region(doc: Element, markers: frozenset[str], body: Element) -> Element:
    # (markers name every form of the page: the document is searched only when the news form is there, and
    # for forms alone, which lxml finds in C: an XPath predicate would be tried on every element)
    if "form:_newscontent_fromname" in markers:
        for form in iter_document(doc, "form"):
            if form.get("name") == "_newscontent_fromname":
                return form
    for ancestor in body.iterancestors():
        if ancestor.tag in ("form", "table"):
            return ancestor
    return doc


def _outside_body(els: list[Element], region: Element, body: Element) -> list[Element]:
    """Elements of the article's region that are not the body, nor inside it, nor around it."""
    around = set(body.iterancestors())
    return [el for el in els if el is not body and el not in around and body not in el.iterancestors()
            and (el is region or region in el.iterancestors())]


def _title(doc: Element, classes: ClassIndex, region: Element, body: Element) -> tuple[str, str]:
    """(title, problem): the heading of the article's region that `<title>` (title-站点名) names.

    Old table templates put the title in a styled cell with no class: any element of the region that
    agrees with `<title>` is a candidate too. When the region's headings disagree and none agrees with
    `<title>`, nothing settles it.
    """
    page_title = common.page_title(doc)
    heading_in_art_tit = [h for el in classes.all("art-tit") for h in el.iter("h3")]
    groups = (heading_in_art_tit, classes.prefixed("titlestyle", "td"), classes.all("title"),
              select(region, ".//h1 | .//h2 | .//h3"), classes.prefixed("article_ContBox_title"))
    heading_els = [el for group in groups for el in _outside_body(group, region, body)]
    headings = [text_of(el) for el in heading_els]
    cells: list[str] = []
    if not any(common.agrees_with_page_title(t, page_title) for t in headings):
        cells = common.title_lines(region, body, page_title)
    title, problem = common.choose_title(headings, page_title, others=cells)
    if problem:
        # `<title>` names none (it may hold only the site's name): the heading right above the body, inside
        # the article's own form, is the article's (a column name stands further up).
        order = {el: i for i, el in enumerate(region.iter())}
        above = [el for el in heading_els if el.tag in ("h1", "h2", "h3") and text_of(el)
                 and order.get(el, -1) < order.get(body, -1)]
        if above and region.tag == "form":
            return text_of(above[-1]), ""
    if title or problem:
        return title, problem
    # Nothing on the page names it: `<title>` without its site suffix.
    return (page_title.split("-", 1)[0].strip() if "-" in page_title else page_title), ""


def _date(classes: ClassIndex, region: Element, body: Element) -> tuple | None:
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
    return common.info_line_date(region, body)


def _redirects(lowered_page: bytes) -> bool:
    return b"getnewslinkurl" in lowered_page or b"window.location" in lowered_page


class Vsb:
    name = NAME

    def score(self, page: ParsedPage) -> int:
        classes, markers = page.classes, page.markers
        return sum(classes.has(name) for name in _CLASS_MARKERS) + sum(m in markers for m in _MARKERS)

    def article_parts(self, page: ParsedPage) -> ArticleParts | None:
        doc, classes = page.doc, page.classes
        body = _body(doc, classes)
        if body is None:
            return None
        region = _region(doc, page.markers, body)
        title, problem = _title(doc, classes, region, body)
        date = _date(classes, region, body)
        # (The vote box found by its id attribute: libxml2 selects attributes far faster than it tests
        # every element against an attribute predicate.)
        drop_elements(body, "descendant::*/@id[.='div_vote_id']/.. | descendant::dl[contains(@class,'page')]")
        converter = BodyConverter(page.url, image_source, attachment_of, embedded_of, hooks_ignore_runs=True,
                                  attachment_tags=ATTACHMENT_TAGS, embed_tags=EMBED_TAGS)
        blocks, attachments = converter.convert(body)
        # VSB lists attachments after the body (附件【name】已下载N次), still inside the article's form.
        for anchor in region.iter("a"):
            if body in anchor.iterancestors():
                continue
            media = attachment_of(anchor, page.url)
            if media is not None and "download.jsp" in media.url and all(m.url != media.url for m in attachments):
                attachments.append(media)
        # (the page's bytes are lower-cased only for a page without a body: a copy of the whole page)
        link_shell = not blocks and not attachments and _redirects(page.raw.body.lower())
        counter = _CLICK_COUNTER.search(page.text)
        return ArticleParts(title=title, date=date, blocks=blocks, attachments=attachments, link_shell=link_shell,
                            origin_id=counter.group(1) if counter else "", title_problem=problem)

    def list_page(self, page: ParsedPage) -> ListPage:
        doc = page.doc
        # Items are `li` or `tr` with ids line_u{module}_{n}; a page may show several list modules
        # (sidebars too): the module with most items is the column's list.
        modules: dict[str, list[Element]] = {}
        for el in select(doc, "//*[starts-with(@id, 'line_u')]"):
            modules.setdefault(el.get("id", "").rsplit("_", 1)[0], []).append(el)
        line_items = max(modules.values(), key=len) if modules else []
        pager = f".//*[{has_class('pb_sys_common')} or starts-with(@id, 'fanye')]"
        if line_items:
            entries = []
            for li in line_items:
                anchors = [a for a in li.iter("a") if (a.get("tppabs") or a.get("href"))]
                if anchors:
                    entries.append((anchors[0], li))
        else:
            entries = common.find_list_entries(doc, pager, self.is_article_url)
        next_url = None
        for anchor in doc.iter("a"):
            if text_of(anchor) in ("下页", "下一页", ">", "»"):
                href = (anchor.get("tppabs") or anchor.get("href") or "").strip()
                if href and not href.startswith("javascript"):
                    next_url = join_url(page.url, href)
                    break
        return ListPage(page.url, NAME, tuple(common.list_items(entries, page.url)),
                        _total_pages(doc, page.text, page.classes), next_url)

    def page_url(self, entry_url: str, page_no: int, total_pages: int | None) -> str | None:
        """VSB numbers its static files from the OLDEST page: page n >= 2 of T is `{slug}/{T-n+1}.htm`."""
        if page_no < 2:
            return entry_url
        parts = urlsplit(entry_url)
        match = _LIST_URL.match(parts.path)
        if not match or total_pages is None or page_no > total_pages:
            return None
        return urlunsplit(
            (parts.scheme, parts.netloc, f"{match.group(1)}/{total_pages - page_no + 1}.{match.group(2)}", "", ""))

    def is_article_url(self, url: str) -> bool:
        return bool(_ARTICLE_HREF.search(url))

    def article_id(self, url: str) -> str | None:
        parts = urlsplit(url)
        match = _ARTICLE_URL.search(parts.path)
        if match:
            return match.group(2)
        dynamic = _DYNAMIC_ID.search("?" + parts.query) if parts.query else None
        return dynamic.group(1) if dynamic else None

    def file_stem(self, url: str) -> str | None:
        parts = urlsplit(url)
        match = _ARTICLE_URL.search(parts.path) if not parts.query else None
        return f"{match.group(1)}-{match.group(2)}" if match else None


_CURRENT_OF_TOTAL = re.compile(r"(\d+)\s*/\s*(\d+)")
_NUMBERED_FILE = re.compile(r"(?:^|/)(\d+)\.htm$")


def _total_pages(doc: Element, html_text: str, classes: ClassIndex) -> int | None:
    """Total pages as the column's first page states it; None on deeper pages, whose counts go stale.

    Pagers differ: `共299条 1/30`, `<span class="p_t">1/54</span>`, the go-to-page script, or only a
    window of numbered links, each of which states the total (page k lives in file T-k+1).
    """
    match = _PAGER_TEXT.search(html_text)
    if match:
        return int(match.group(2)) if match.group(1) == "1" else None
    for el in [*classes.all("p_t"), *select(doc, "//*[starts-with(@id, 'fanye')]")]:
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


VSB = Vsb()
