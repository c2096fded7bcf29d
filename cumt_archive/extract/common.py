"""What both CMS families share: dates, page classification, list-item discovery."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..model import ListItem, Media, RawPage
from .html import text_of

_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?"
)
_SPLIT_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})\s+((?:19|20)\d{2})(?!\d)")
_DATE_LABEL = re.compile(r"(发布时间|发布日期|发表时间|更新时间|日期|时间)\s*[:：]?\s*")
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


_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/c\d+a\d+/page\.(?:htm|psp)")


def url_date(url: str) -> tuple[dt.datetime, str] | None:
    """WebPlus sites that file articles by date (`/2026/0313/c13475a290241/page.htm`) state it in the URL."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return dt.datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))), match.group(0)
    except ValueError:
        return None


def classify_blocked(page: RawPage, doc: HtmlElement, html_text: str) -> tuple[str, str] | None:
    """Pages that are never articles, whatever they hold: (reason, detail) or None."""
    if page.status == 412:
        return "challenge", "HTTP 412 script challenge"
    if page.status >= 400:
        if any(marker in html_text for marker in CHALLENGE) and len(html_text) < 20000:
            return "challenge", f"HTTP {page.status} script challenge"
        return "error", f"HTTP {page.status}"
    if re.search(r"/(cas|sso|authserver)/|/login", page.url.lower()):
        return "login", "login page"
    if len(html_text) < 20000 and doc.xpath("//script") and not doc.xpath("//body//a[@href]"):
        body = doc.find("body")
        if len(text_of(body)) < 400 and re.search(
            r"\b(eval|atob|document\.cookie|location\.(reload|href|replace))", html_text
        ):
            return "challenge", "script-only page (firewall challenge)"
    return None


def why_no_article(doc: HtmlElement, html_text: str) -> tuple[str, str] | None:
    """For a page without an article body: what it is instead, when that can be told."""
    if is_campus_only(html_text):
        return "campus_only", "campus-only notice (校内地址)"
    if doc.xpath("//input[@type='password']"):
        return "login", "login form"
    title = text_of(doc.find(".//title"))
    if any(t in title for t in ERROR_TITLES):
        return "error", f"error page: {title}"
    return None


def is_campus_only(html_text: str) -> bool:
    return any(marker in html_text for marker in CAMPUS_ONLY)


def page_title(doc: HtmlElement) -> str:
    return text_of(doc.find(".//title"))


def marker_score(lower_body: bytes, markers: tuple[bytes, ...]) -> int:
    """How many of a CMS family's fingerprints a page carries."""
    return sum(marker in lower_body for marker in markers)


_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|bmp|tiff?)$", re.I)


def image_url(el: HtmlElement, base_url: str, original_attr: str, icons: re.Pattern[str]) -> str | None:
    """An <img>'s absolute URL: the original upload when the page names one (the CMS attribute, or a
    link around a thumbnail that points at the full image); None for icons and non-web URLs."""
    parent = el.getparent()
    linked = (parent.get("href") or "").strip() if parent is not None and parent.tag == "a" else ""
    if not _IMAGE_FILE.search(linked.split("?", 1)[0]):
        linked = ""
    src = (el.get(original_attr) or "").strip() or linked or (el.get("src") or "").strip()
    if not src or icons.search(src):
        return None
    url = urljoin(base_url, src)
    return url if is_web_url(url) else None  # data:, file:, javascript: ... are never fetched


def is_web_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def resolve(base_url: str, href: str | None) -> str:
    return urljoin(base_url, (href or "").strip())


def is_document_link(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(DOC_EXTENSIONS)


_ATTACHMENT_PREFIX = re.compile(r"^\s*附件\s*\d*\s*[:：、.]\s*(?=\S)")


def document_link(el: HtmlElement, base_url: str, marker: str) -> Media | None:
    """An <a> that points at an uploaded document (marker in the path, or a document extension)."""
    if el.tag != "a":
        return None
    href = (el.get("tppabs") or el.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "#", "mailto:")):
        return None
    url = resolve(base_url, href)
    if not is_web_url(url) or (marker not in url and not is_document_link(url)):
        return None
    name = _ATTACHMENT_PREFIX.sub("", text_of(el))
    attr = re.search(r"'title'\s*:\s*'([^']*)'", el.get("sudyfile-attr") or "")
    if attr and (not name or name in ("下载", "点击下载", "附件")):
        name = attr.group(1)
    if not name:
        name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return Media(url, name)


_DATE_ONLY = re.compile(r"^[\s\[\]【】()（）]*(?:(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}\s*日?|"
                        r"\d{1,2}\s*[-/.]\s*\d{1,2})[\s\[\]【】()（）]*$")


def _item_date(anchor: HtmlElement, item: HtmlElement | None) -> dt.date | None:
    """The date written beside a list link, looking no wider than its list item.

    A text node that is nothing but a date wins over dates inside titles or excerpts; the split
    card style (`<p>03/10</p><span>2025</span>`) is read from the item's text nodes joined by spaces.
    """
    node: HtmlElement | None = anchor
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


def list_items(entries: list[tuple[HtmlElement, HtmlElement]], base_url: str) -> list[ListItem]:
    """(anchor, list item element) pairs -> items: absolute URL, title, date beside the link."""
    items: list[ListItem] = []
    seen: set[str] = set()
    for anchor, item in entries:
        href = (anchor.get("tppabs") or anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")):
            continue
        url = resolve(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        title = (anchor.get("title") or "").strip() or text_of(anchor)
        items.append(ListItem(url, title, _item_date(anchor, item)))
    return items


ARTICLE_HREF = re.compile(
    r"c\d+a\d+/page\.(?:htm|psp)|/_redirect\?|/page\.(?:htm|psp)$|(?:^|/)info/\d+/\d+\.htm|content\.jsp\?", re.I
)


def _href(anchor: HtmlElement) -> str:
    return (anchor.get("tppabs") or anchor.get("href") or "").strip()


def find_list_entries(scope: HtmlElement, pager_xpath: str) -> list[tuple[HtmlElement, HtmlElement]]:
    """The main list of a list page, whatever its template: (anchor, item element) pairs.

    Article-shaped links are found first; the element that holds several of
    them is the list, and each of its children one item (so off-site items in
    the same list are found too). The list with most items wins over sidebars.
    """
    pager = set(scope.xpath(pager_xpath)) if pager_xpath else set()
    def in_pager(el: HtmlElement) -> bool:
        return any(anc in pager for anc in el.iterancestors())
    matches = [a for a in scope.iter("a") if ARTICLE_HREF.search(_href(a)) and not in_pager(a)]
    match_set = set(matches)
    containers: dict[HtmlElement, None] = {}
    for anchor in matches:
        own = _href(anchor)
        for ancestor in anchor.iterancestors():
            # Image lists link one story several times: only another story marks the list.
            if any(a in match_set and _href(a) != own for a in ancestor.iter("a")):
                containers.setdefault(ancestor)
                break
    if not containers:
        return [(a, a.getparent() if a.getparent() is not None else a) for a in matches]
    best: list[tuple[HtmlElement, HtmlElement]] = []
    for container in containers:
        entries: list[tuple[HtmlElement, HtmlElement]] = []
        for item in container:
            if not isinstance(item.tag, str):
                continue
            anchors = [item] if item.tag == "a" else list(item.iter("a"))
            anchors = [a for a in anchors if _href(a) and not in_pager(a)]
            if anchors:
                preferred = next((a for a in anchors if ARTICLE_HREF.search(_href(a))), anchors[0])
                entries.append((preferred, item))
        if len(entries) > len(best):
            best = entries
    return best
