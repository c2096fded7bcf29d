"""Pure extraction: RawPage -> Article | NotArticle, and RawPage -> ListPage.

No Scrapy, no network. The spider and `cumt-archive regenerate` call exactly
these functions. The CMS family is read off the page itself, so a host that
no profile names works as long as it runs WebPlus or VSB.
"""

from __future__ import annotations

from ..model import Article, ListPage, NotArticle, RawPage
from ..urls import canonical_url, urlname
from . import common, vsb, webplus
from .html import decode, parse_text

__all__ = ["detect_family", "extract_article", "extract_list", "UnknownFamily"]


class UnknownFamily(ValueError):
    """The page carries the markers of neither WebPlus nor VSB."""


def detect_family(page: RawPage) -> str | None:
    lower = page.body.lower()
    scores = {webplus.FAMILY: webplus.score(lower), vsb.FAMILY: vsb.score(lower)}
    family, best = max(scores.items(), key=lambda kv: kv[1])
    return family if best > 0 else None


def _is_html(page: RawPage) -> bool:
    ctype = (page.header("Content-Type") or "text/html").lower()
    return "html" in ctype or "xml" in ctype or ctype.startswith("text/")


def extract_article(page: RawPage) -> Article | NotArticle:
    """The article on a page, or the reason the page is not one."""
    if not _is_html(page):
        return NotArticle(page.url, "not_html", page.header("Content-Type") or "")
    html_text = decode(page)
    doc = parse_text(html_text)
    blocked = common.classify_blocked(page, doc, html_text)
    if blocked:
        return NotArticle(page.url, *blocked)
    family = detect_family(page)
    module = webplus if family == webplus.FAMILY else vsb
    parts = module.article_parts(page, doc) if family else None
    if family is None or parts is None or (not parts.blocks and not parts.attachments) or (
        common.is_campus_only(html_text) and len("".join(parts.text_blocks)) < 300
    ):
        # A campus-only notice or a login form is served in the site's own chrome, in place of the body.
        why = common.why_no_article(doc, html_text)
        if why is not None:
            return NotArticle(page.url, *why)
        if family is None:
            return NotArticle(page.url, "unknown_cms", "neither WebPlus nor VSB markers")
        if parts is None:
            return NotArticle(page.url, "empty", f"{family} page without an article body")
        if parts.link_shell:
            return NotArticle(page.url, "link_shell", "link-type article: a redirect stub with no body")
        return NotArticle(page.url, "empty", "article body holds no text, image or attachment")
    if not parts.title:
        return NotArticle(page.url, "empty", "no title")
    date = parts.date or common.url_date(page.url)  # never a header or file time: those say when it was saved
    if date is None:
        return NotArticle(page.url, "no_date", "no publication date on the page")
    return Article(
        url=page.url,
        canonical_url=canonical_url(page.url),
        urlname=urlname(page.url),
        family=family,
        title=parts.title,
        published=date[0],
        published_raw=date[1],
        blocks=tuple(parts.blocks),
        attachments=tuple(parts.attachments),
        origin_id=parts.origin_id,
    )


def extract_list(page: RawPage) -> ListPage:
    """Items and pager of a column's list page. Raises UnknownFamily for other pages."""
    family = detect_family(page)
    if family is None:
        raise UnknownFamily(f"{page.url}: not a WebPlus or VSB list page")
    text = decode(page)
    doc = parse_text(text)
    if family == webplus.FAMILY:
        return webplus.list_page(page, doc)
    return vsb.list_page(page, doc, text)
