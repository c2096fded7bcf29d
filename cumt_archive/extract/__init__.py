"""Pure extraction: RawPage -> Article | NotArticle, and RawPage -> ListPage.

No Scrapy, no network. The spider and `cumt-archive regenerate` call exactly
these functions. The CMS family is read off the page itself (a registry of
family plug-ins scores the parsed page), so a host that no profile names works
as long as it runs a registered family.
"""

from __future__ import annotations

from ..model import Article, ListPage, NotArticle, Reason, RawPage
from ..urls import canonical_url, urlname
from . import common
from .families import REGISTRY, Family, Registry
from .page import ParsedPage

__all__ = [
    "detect_family", "extract_article", "extract_list", "ListRefused", "UnknownFamily", "PageTooLarge",
    "MAX_PAGE_BYTES", "MAX_ELEMENTS", "REGISTRY", "Family", "Registry",
]

# A page beyond either limit is refused before parsing: a 50 MB page of tiny elements never reaches lxml.
MAX_PAGE_BYTES = 8 * 1024 * 1024  # decompressed body
MAX_ELEMENTS = 200_000  # counted as b"<" in the body, an upper bound on tags, comments and scripts' "<"


class ListRefused(ValueError):
    """A page that cannot be read as a list page; `reason` says why (a NotArticle reason)."""

    reason: Reason = Reason.UNKNOWN_CMS

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{url}: {detail}")
        self.url = url
        self.detail = detail

    def __reduce__(self) -> tuple[type[ListRefused], tuple[str, str]]:
        # Raised in a crawl's worker process and re-raised in the spider: rebuilt from both arguments.
        return type(self), (self.url, self.detail)


class UnknownFamily(ListRefused):
    """The page carries the markers of no registered CMS family."""

    reason = Reason.UNKNOWN_CMS


class PageTooLarge(ListRefused):
    """The page is larger (bytes or elements) than extraction reads."""

    reason = Reason.TOO_LARGE


def oversize(page: RawPage, max_bytes: int = MAX_PAGE_BYTES, max_elements: int = MAX_ELEMENTS) -> str | None:
    """Why a page is too large to parse, or None. Cheap: a length and one byte count, no parsing."""
    if len(page.body) > max_bytes:
        return f"{len(page.body)} bytes, more than the limit of {max_bytes}"
    if len(page.body) <= max_elements:
        return None  # fewer bytes than the limit: fewer "<" too (counting them reads the whole page)
    tags = page.body.count(b"<")
    if tags > max_elements:
        return f"{tags} tags, more than the limit of {max_elements}"
    return None


def detect_family(page: RawPage | ParsedPage, registry: Registry = REGISTRY) -> str | None:
    parsed = page if isinstance(page, ParsedPage) else ParsedPage.of(page)
    family = registry.detect(parsed)
    return family.name if family else None


def _is_html(page: RawPage) -> bool:
    ctype = (page.header("Content-Type") or "text/html").lower()
    return "html" in ctype or "xml" in ctype or ctype.startswith("text/")


def extract_article(page: RawPage, registry: Registry = REGISTRY, max_bytes: int = MAX_PAGE_BYTES,
                    max_elements: int = MAX_ELEMENTS) -> Article | NotArticle:
    """The article on a page, or the reason the page is not one."""
    if not _is_html(page):
        return NotArticle(page.url, Reason.NOT_HTML, page.header("Content-Type") or "")
    too_large = oversize(page, max_bytes, max_elements)
    if too_large:
        return NotArticle(page.url, Reason.TOO_LARGE, too_large)
    parsed = ParsedPage.of(page)
    html_text, doc = parsed.text, parsed.doc
    blocked = common.classify_blocked(page, doc, html_text)
    if blocked:
        return NotArticle(page.url, *blocked)
    family = registry.detect(parsed)
    parts = family.article_parts(parsed) if family else None
    if family is None or parts is None or (not parts.blocks and not parts.attachments) or (
        len("".join(parts.text_blocks)) < 300 and common.is_campus_only(html_text)
    ):
        # A campus-only notice or a login form is served in the site's own chrome, in place of the body.
        why = common.why_no_article(doc, html_text)
        if why is not None:
            return NotArticle(page.url, *why)
        if family is None:
            names = ", ".join(f.name for f in registry)
            return NotArticle(page.url, Reason.UNKNOWN_CMS, f"no marker of any known CMS family ({names})")
        if parts is None:
            return NotArticle(page.url, Reason.EMPTY, f"{family.name} page without an article body")
        if parts.link_shell:
            return NotArticle(page.url, Reason.LINK_SHELL, "link-type article: a redirect stub with no body")
        return NotArticle(page.url, Reason.EMPTY, "article body holds no text, image, video or attachment")
    if parts.title_problem:
        return NotArticle(page.url, Reason.AMBIGUOUS_TITLE, parts.title_problem)
    if not parts.title:
        return NotArticle(page.url, Reason.NO_TITLE, f"{family.name} article with no title on the page or in <title>")
    date = parts.date  # never a header or file time: those say when it was saved
    if date is None:
        return NotArticle(page.url, Reason.NO_DATE, "no publication date on the page (info line, meta or URL)")
    return Article(
        url=page.url,
        canonical_url=canonical_url(page.url),
        urlname=urlname(page.url),
        family=family.name,
        title=parts.title,
        published=date[0],
        published_raw=date[1],
        blocks=tuple(parts.blocks),
        attachments=tuple(parts.attachments),
        origin_id=parts.origin_id,
    )


def extract_list(page: RawPage, registry: Registry = REGISTRY, max_bytes: int = MAX_PAGE_BYTES,
                 max_elements: int = MAX_ELEMENTS) -> ListPage:
    """Items and pager of a column's list page.

    Raises UnknownFamily for a page of no registered family, PageTooLarge for one beyond the limits
    (both ListRefused, which the spider catches).
    """
    too_large = oversize(page, max_bytes, max_elements)
    if too_large:
        raise PageTooLarge(page.url, too_large)
    parsed = ParsedPage.of(page)
    family = registry.detect(parsed)
    if family is None:
        raise UnknownFamily(page.url, "not a list page of any known CMS family")
    return family.list_page(parsed)
