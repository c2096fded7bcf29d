"""What both CMS families share: dates, page classification, list-item discovery."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable
from urllib.parse import unquote

from lxml import etree

from ..model import ListItem, Media, RawPage, Reason
from ..urls import is_web_url, join_url
from .body import Embedded
from .html import Element, iter_document, select, text_of

_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?"
)
_SPLIT_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s+((?:19|20)\d{2})(?!\d)")
_DATE_LABEL = re.compile(
    r"(发布时间|发布日期|发表时间|发表日期|发稿时间|更新时间|更新日期|日期|时间|"
    r"(?<![A-Za-z])(?:Date|Published|Posted|Updated|Release Date)(?![A-Za-z]))\s*[:：]?\s*", re.I)
# What else an article's info line holds, beside an unlabelled date: author, editor, source, a click counter.
_INFO_LINE = re.compile(r"责编|编辑|作者|来源|点击|浏览|阅读|发布者|发布人|审核|摄影|供稿|撰稿|访问|次数|Author|Views", re.I)
CAMPUS_ONLY = ("并非校内地址", "仅允许校内地址访问")  # the CMS's own notice, not any mention of campus access
CHALLENGE = ("请开启JavaScript", "请启用JavaScript", "安全验证", "访问验证", "WAF", "challenge")
ERROR_TITLES = ("404", "403", "500", "页面不存在", "找不到", "出错", "错误", "Not Found", "Forbidden", "Error")
DOC_EXTENSIONS = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".rar", ".7z",
    ".txt", ".wps", ".et", ".dps", ".csv", ".ofd", ".caj", ".tar", ".gz",
)


def parse_datetime(text: str) -> tuple[dt.datetime, str] | None:
    """The first date (and time of day, when written) in text, with the matched text."""
    match = _DATE.search(text)
    if match:
        y, mo, d, h, mi, s = match.groups()
        try:
            value = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        except ValueError:
            return None
        return value, match.group(0).strip()
    match = _SPLIT_DATE.search(text)
    if match:
        mo, d, y = match.groups()
        try:
            return dt.datetime(int(y), int(mo), int(d)), match.group(0)
        except ValueError:
            return None
    return None


def labelled_date(text: str) -> tuple[dt.datetime, str] | None:
    """A date that follows a label such as 发布时间： (ignores other dates in the text)."""
    for label in _DATE_LABEL.finditer(text):
        found = parse_datetime(text[label.end() : label.end() + 40])
        if found and text[label.end() :].lstrip().startswith(found[1][:4]):
            return found
    return None


def _has_script(doc: Element) -> bool:
    """Whether the document holds a <script> (XPath's boolean(//script))."""
    return next(iter_document(doc, "script"), None) is not None


def _has_link(doc: Element) -> bool:
    """Whether a <body> holds an <a href> (XPath's boolean(//body//a[@href]))."""
    return any(a.get("href") is not None for body in iter_document(doc, "body") for a in body.iter("a"))


def classify_blocked(page: RawPage, doc: Element, html_text: str) -> tuple[Reason, str] | None:
    """Pages that are never articles, whatever they hold: (reason, detail) or None."""
    if page.status == 412:
        return Reason.CHALLENGE, "HTTP 412 script challenge"
    if page.status >= 400:
        if any(marker in html_text for marker in CHALLENGE) and len(html_text) < 20000:
            return Reason.CHALLENGE, f"HTTP {page.status} script challenge"
        return Reason.ERROR, f"HTTP {page.status}"
    if re.search(r"/(cas|sso|authserver)/|/login", page.url.lower()):
        return Reason.LOGIN, "login page"
    # (Each test stops at the first node that answers it: a whole-document XPath, even a boolean() one,
    # walks every node, 50 µs on a small page.)
    if len(html_text) < 20000 and _has_script(doc) and not _has_link(doc):
        body = doc.find("body")
        if len(text_of(body)) < 400 and re.search(
            r"\b(eval|atob|document\.cookie|location\.(reload|href|replace))", html_text
        ):
            return Reason.CHALLENGE, "script-only page (firewall challenge)"
    return None


def why_no_article(doc: Element, html_text: str) -> tuple[Reason, str] | None:
    """For a page without an article body: what it is instead, when that can be told."""
    if is_campus_only(html_text):
        return Reason.CAMPUS_ONLY, "campus-only notice (校内地址)"
    if select(doc, "//input[@type='password']"):
        return Reason.LOGIN, "login form"
    title = text_of(doc.find(".//title"))
    if any(t in title for t in ERROR_TITLES):
        return Reason.ERROR, f"error page: {title}"
    return None


def is_campus_only(html_text: str) -> bool:
    return any(marker in html_text for marker in CAMPUS_ONLY)


def page_title(doc: Element) -> str:
    return text_of(doc.find(".//title"))


_LINE_TAGS = frozenset("div p td th li dd dt h1 h2 h3 h4 h5 h6 tr table ul ol form body section article".split())
_DATE_HINT = re.compile(r"(?:19|20)\d{2}\s*[-./年]|\d{1,2}\s*[-/.]\s*\d{1,2}\s+(?:19|20)\d{2}")
# The text nodes _DATE_HINT can match in, as an XPath test: every match holds "19" or "20".
_MAY_HOLD_DATE = "contains(., '19') or contains(., '20')"
_TEXT_NODES = {test: etree.XPath(f"descendant::text()[{test}]") for test in (_MAY_HOLD_DATE, "normalize-space()")}


def _text_nodes_outside(root: Element, body: Element | None, test: str) -> list[Any]:
    """root's text nodes that pass an XPath test (lxml filters them in C), in page order, leaving out
    those of body and its tail.

    The body is taken out of the tree for the length of the query: most of a long article's text
    nodes then never become Python strings only to be passed over. (Its tail goes with it: both
    callers skip a tail of the body anyway, as text of an element around the body.)
    """
    query = _TEXT_NODES[test]
    if body is None:
        return query(root)  # type: ignore[no-any-return]
    parent = body.getparent()
    if parent is None or root is body or body in root.iterancestors():
        return []  # root lies inside the body: all of its text is the body's
    index = parent.index(body)
    parent.remove(body)
    try:
        return query(root)  # type: ignore[no-any-return]
    finally:
        parent.insert(index, body)


def _date_lines(root: Element, body: Element | None,
                skip: Callable[[Element], bool] | None) -> list[tuple[Element, str]]:
    """(line element, its text) for each line of root outside body whose text nodes match _DATE_HINT, in
    page order.

    Works from the text nodes, so only the few lines that hold a match are ever joined into text: linear
    in the page however deep it nests (joining every element's text would not be).
    """
    around = set(body.iterancestors()) if body is not None else set()
    lines: dict[Element, None] = {}
    for node in _text_nodes_outside(root, body, _MAY_HOLD_DATE):
        if not _DATE_HINT.search(node):
            continue
        el = node.getparent()  # the element whose text or tail the node is
        if el is None or not isinstance(el.tag, str):
            continue
        if node.is_tail:
            el = el.getparent()
        while el is not None and el.tag not in _LINE_TAGS and el is not root:
            el = el.getparent()
        if el is None or el in lines or el in around or el is body or el.tag in ("script", "style"):
            continue
        if body is not None and body in el.iterancestors():
            continue
        if skip is not None and skip(el):
            continue
        lines[el] = None
    return [(el, text_of(el)) for el in lines]


def info_line_date(root: Element, body: Element | None,
                   skip: Callable[[Element], bool] | None = None) -> tuple[dt.datetime, str] | None:
    """The date of an article's info line: a line of root outside the body (and outside what skip says).

    Labelled first (发布时间：2021-06-01); else an unlabelled date in a short line that also holds the
    author, editor, source or the click counter (`2021年04月09日 17:40  责编：宣传部  点击：..`).
    """
    lines = _date_lines(root, body, skip)
    for _, text in lines:
        found = labelled_date(text)
        if found:
            return found
    for el, text in lines:
        if len(text) > 200:
            continue
        counter = any("_showDynClicks" in (s.text or "") for s in el.iter("script"))
        if counter or _INFO_LINE.search(text):
            found = parse_datetime(text)
            if found:
                return found
    return None


def title_lines(root: Element, body: Element | None, page_title: str) -> list[str]:
    """Texts of root's elements outside the body that `<title>` names (a table template's title cell).

    Starts from text nodes that are part of `<title>`, then widens to the largest enclosing element whose
    whole text `<title>` still names; only those few elements are ever joined into text.
    """
    if not page_title:
        return []
    around = set(body.iterancestors()) if body is not None else set()
    found: list[str] = []
    # Text nodes of nothing but XML whitespace (most, in indented HTML) join to "": lxml leaves them out in C.
    for node in _text_nodes_outside(root, body, "normalize-space()"):
        piece = " ".join(node.split())
        if len(piece) < 2 or piece not in page_title:
            continue
        el = node.getparent()
        if el is not None and node.is_tail:
            el = el.getparent()
        if el is None or not isinstance(el.tag, str) or el in around or el is body or el.tag in ("title", "script"):
            continue
        if body is not None and body in el.iterancestors():
            continue
        text = text_of(el)
        if not agrees_with_page_title(text, page_title):
            continue
        parent = el.getparent()
        while parent is not None and parent not in around and parent is not root:
            wider = text_of(parent)
            if not agrees_with_page_title(wider, page_title):
                break
            text, parent = wider, parent.getparent()
        found.append(text)
    return found


_TITLE_SEPARATORS = "-_|｜–—:："


def agrees_with_page_title(candidate: str, page_title: str) -> bool:
    """Whether `<title>` names this candidate: all of it, its start before a site-name separator, or
    (for a candidate long enough not to match by chance) a part of it."""
    if not candidate or not page_title:
        return False
    if candidate == page_title:
        return True
    if page_title.startswith(candidate) and page_title[len(candidate):].lstrip()[:1] in _TITLE_SEPARATORS:
        return True
    return len(candidate) >= 8 and candidate in page_title


def choose_title(primary: list[str], page_title: str, others: list[str] | tuple[str, ...] = ()) -> tuple[str, str]:
    """(title, problem) among an article area's title candidates, cross-checked with `<title>`.

    The longest candidate that `<title>` agrees with wins; else the one primary candidate, when the area
    shows only one; several primary candidates that disagree, with nothing to settle it, are a problem
    (a wrong title is worse than none). ("", "") when the area shows no candidate at all.
    """
    distinct = list(dict.fromkeys(t for t in primary if t))
    pool = list(dict.fromkeys(t for t in [*distinct, *others] if t))
    agreeing = [t for t in pool if agrees_with_page_title(t, page_title)]
    if agreeing:
        return max(agreeing, key=len), ""
    if len(distinct) == 1:
        return distinct[0], ""
    if distinct:
        shown = " / ".join(repr(t[:40]) for t in distinct[:3])
        return "", f"title candidates disagree ({shown}) and <title> {page_title[:60]!r} names none of them"
    return "", ""


_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|bmp|tiff?)$", re.I)


def image_url(el: Element, base_url: str, original_attr: str, icons: re.Pattern[str]) -> str | None:
    """An <img>'s absolute URL: the original upload when the page names one (the CMS attribute, or a
    link around a thumbnail that points at the full image); None for icons and non-web URLs."""
    parent = el.getparent()
    linked = (parent.get("href") or "").strip() if parent is not None and parent.tag == "a" else ""
    if not _IMAGE_FILE.search(linked.split("?", 1)[0]):
        linked = ""
    src = (el.get(original_attr) or "").strip() or linked or (el.get("src") or "").strip()
    if not src or icons.search(src):
        return None
    url = join_url(base_url, src)
    return url if is_web_url(url) else None  # data:, file:, javascript: ... are never fetched


def resolve(base_url: str, href: str | None) -> str:
    return join_url(base_url, (href or "").strip())


def is_document_link(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(DOC_EXTENSIONS)


_SUDYFILE_TITLE = re.compile(r"'title'\s*:\s*'([^']*)'")


def sudyfile_title(el: Element) -> str:
    """The file title WebPlus writes into `sudyfile-attr="{'title':'name.docx'}"`."""
    match = _SUDYFILE_TITLE.search(el.get("sudyfile-attr") or "")
    return match.group(1).strip() if match else ""


def file_name(url: str) -> str:
    return unquote(url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1])


MEDIA_TAGS = frozenset(("video", "audio", "source", "embed"))


def html_media(el: Element, base_url: str) -> "Embedded | None":
    """`<video>`, `<audio>` (with their `<source>`s) and a stray `<source>`: the files they play, as attachments."""
    if el.tag not in MEDIA_TAGS:
        return None
    found: list[Media] = []
    for node in [el, *el.iter("source")]:
        src = (node.get("src") or "").strip()
        url = join_url(base_url, src) if src else ""
        if url and is_web_url(url) and all(m.url != url for m in found):
            found.append(Media(url, (el.get("title") or "").strip() or file_name(url)))
    return Embedded(attachments=tuple(found))


def document_link(el: Element, base_url: str, marker: str) -> Media | None:
    """An <a> that points at an uploaded document (marker in the path, or a document extension)."""
    if el.tag != "a":
        return None
    href = (el.get("tppabs") or el.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "#", "mailto:")):
        return None
    url = resolve(base_url, href)
    if not is_web_url(url) or (marker not in url and not is_document_link(url)):
        return None
    # The name the page shows, exactly (`附件1：申领表.docx`, `附件.zip`); the file's own title only
    # when the link shows no text (an icon).
    name = text_of(el) or sudyfile_title(el) or file_name(url)
    return Media(url, name)


_DATE_ONLY = re.compile(r"^[\s\[\]【】()（）]*(?:(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?|"
                        r"\d{1,2}\s*[-/.]\s*\d{1,2})[\s\[\]【】()（）]*$")


def _item_date(anchor: Element, item: Element | None) -> dt.date | None:
    """The date written beside a list link, looking no wider than its list item.

    A text node that is nothing but a date wins over dates inside titles or excerpts; the split
    card style (`<p>03/10</p><span>2025</span>`) is read from the item's text nodes joined by spaces.
    """
    node: Element | None = anchor
    for _ in range(4):
        node = node.getparent() if node is not None else None
        if node is None:
            break
        pieces = [t.strip() for t in node.itertext() if t.strip()]
        for i, piece in enumerate(pieces):
            if _DATE_ONLY.match(piece):
                year = pieces[i + 1] if i + 1 < len(pieces) and re.fullmatch(r"(19|20)\d{2}", pieces[i + 1]) else ""
                found = parse_datetime(f"{piece} {year}".strip())
                if found:
                    return found[0].date()
        found = parse_datetime(" ".join(pieces))
        if found:
            return found[0].date()
        if node is item:
            break
    return None


def list_items(entries: list[tuple[Element, Element]], base_url: str) -> list[ListItem]:
    """(anchor, list item element) pairs -> items: absolute URL, title, date beside the link."""
    items: list[ListItem] = []
    seen: set[str] = set()
    seen_hrefs: set[str] = set()
    for anchor, item in entries:
        href = (anchor.get("tppabs") or anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")) or href in seen_hrefs:
            continue
        seen_hrefs.add(href)
        url = resolve(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        title = (anchor.get("title") or "").strip() or text_of(anchor)
        items.append(ListItem(url, title, _item_date(anchor, item)))
    return items


def _href(anchor: Element) -> str:
    return (anchor.get("tppabs") or anchor.get("href") or "").strip()


_MANY = object()  # more than one distinct story below an element


def find_list_entries(scope: Element, pager_xpath: str,
                      is_article_href: Callable[[str], bool]) -> list[tuple[Element, Element]]:
    """The main list of a list page, whatever its template: (anchor, item element) pairs.

    Article-shaped links (the family says which) are found first; the lowest element that holds two
    different stories is the list, and each of its children one item (so off-site items in the same
    list are found too). The list with most items wins over sidebars. Linear in the page: each link
    walks its ancestors once, so a page of 10,000 links to one story costs no more than its size.
    """
    pager = set(select(scope, pager_xpath)) if pager_xpath else set()
    if pager:
        pager_anchors = {a for p in pager for a in p.iter("a")}
    else:
        pager_anchors = set()
    hrefs: dict[Element, str] = {}
    for anchor in scope.iter("a"):
        href = _href(anchor)
        if href and anchor not in pager_anchors and is_article_href(href):
            hrefs[anchor] = href
    # Which story lies below each ancestor: one href, or _MANY once two different ones meet there.
    below: dict[Element, object] = {}
    for anchor, href in hrefs.items():
        for ancestor in anchor.iterancestors():
            seen = below.get(ancestor)
            if seen is None:
                below[ancestor] = href
            elif seen is not _MANY and seen != href:
                below[ancestor] = _MANY
            else:
                break  # this ancestor (and so every one above it) already knows this href or several
    containers: dict[Element, None] = {}
    for anchor in hrefs:
        for ancestor in anchor.iterancestors():
            # Image lists link one story several times: only another story marks the list.
            if below.get(ancestor) is _MANY:
                containers.setdefault(ancestor)
                break
    if not containers:
        return [(a, a.getparent() if a.getparent() is not None else a) for a in hrefs]
    best: list[tuple[Element, Element]] = []
    for container in containers:
        entries: list[tuple[Element, Element]] = []
        for item in container:
            if not isinstance(item.tag, str):
                continue
            anchors = [item] if item.tag == "a" else list(item.iter("a"))
            anchors = [a for a in anchors if _href(a) and a not in pager_anchors]
            if anchors:
                preferred = next((a for a in anchors if a in hrefs), anchors[0])
                entries.append((preferred, item))
        if len(entries) > len(best):
            best = entries
    return best
