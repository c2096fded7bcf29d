"""Bytes -> text -> lxml tree, in one place, so a regenerated page decodes exactly as it did live."""

from __future__ import annotations

import functools
import re
from typing import Any, Iterator, TypeAlias

from lxml import etree
from w3lib.encoding import html_to_unicode

from ..model import RawPage

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

Element: TypeAlias = etree._Element
# lxml.html's own parser, minus its element class lookup: lxml.html gives every node a Python class by
# its tag (a Python call per node that becomes an object), and extraction uses none of HtmlElement's
# methods. Same libxml2 options (lxml.html.HTMLParser adds only the lookup), so the same tree.
_PARSER = etree.HTMLParser()


def _guess_encoding(body: bytes) -> str | None:
    # Chinese university pages without any declared charset are UTF-8 or GB18030;
    # try them strictly in that order before anything looser.
    from bs4.dammit import UnicodeDammit  # only for the rare page that declares no charset (a slow import)

    return UnicodeDammit(body[:65536], ["utf-8", "gb18030"]).original_encoding


def decode(page: RawPage) -> str:
    """Header charset, then BOM/<meta>, then a guess (w3lib's order, which Scrapy uses)."""
    _encoding, text = html_to_unicode(
        page.header("Content-Type"), page.body, auto_detect_fun=_guess_encoding
    )
    return text


def _document(text: str) -> Element:
    """What lxml.html.document_fromstring(text) returns, as plain lxml elements."""
    root = etree.fromstring(text, _PARSER)
    if root is None:
        raise etree.ParserError("Document is empty")
    return root


def parse_text(text: str) -> Element:
    text = _XML_DECL.sub("", text)
    if not text or text.isspace():  # (not text.strip(), without copying the page)
        text = "<html></html>"
    try:
        return _document(text)
    except (etree.ParserError, ValueError):
        return _document("<html><body></body></html>")


def drop_tree(el: Element) -> None:
    """Remove el with its children; its tail text stays, joined to what precedes it (lxml.html's drop_tree)."""
    parent = el.getparent()
    assert parent is not None
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


@functools.lru_cache(maxsize=64)  # the few constant expressions extraction uses, each compiled once a process
def _compiled(expr: str) -> etree.XPath:
    return etree.XPath(expr)


def select(el: Element, expr: str) -> Any:
    """el.xpath(expr), the expression compiled once: lxml's el.xpath() compiles it again on every call,
    which on a small page costs as much as evaluating it."""
    return _compiled(expr)(el)


def iter_document(doc: Element, *tags: str) -> Iterator[Element]:
    """doc.iter(*tags) over the whole document, in document order: the nodes before and after its root too
    (libxml2 may recover a second <html> after the first), all that an XPath's `//` searches. lxml
    matches the tags in C: only the matching elements become Python objects."""
    for top in [*reversed(list(doc.itersiblings(preceding=True))), doc, *doc.itersiblings()]:
        yield from top.iter(*tags)


def has_class(name: str) -> str:
    """XPath test for one CSS class among several."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def text_of(el: Element | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


PORTLET = "@portletmode"  # key of the elements that carry WebPlus's portletmode attribute (no class has an @)
_CLASS_VALUES = etree.XPath("//@class")
_PORTLET_VALUES = etree.XPath("//@portletmode")


class ClassIndex:
    """Elements by CSS class, built in one pass: class lookups without an XPath scan each."""

    def __init__(self, root: Element) -> None:
        by_class: dict[str, list[Element]] = {}
        # lxml finds the attributes in C, in document order, each with its element: only classed elements
        # (and WebPlus portlets) become Python objects. (Selecting the attributes is several times faster
        # in libxml2 than selecting elements by an attribute predicate.)
        for value in _CLASS_VALUES(root):
            el = value.getparent()
            for name in value.split():
                found = by_class.get(name)
                if found is None:
                    by_class[name] = [el]  # (setdefault would build a list for every element)
                else:
                    found.append(el)
        portlets = [value.getparent() for value in _PORTLET_VALUES(root)]
        if portlets:
            by_class.setdefault(PORTLET, []).extend(portlets)
        self._by_class = by_class

    def all(self, name: str, tag: str | None = None) -> list[Element]:
        found = self._by_class.get(name, [])
        return [el for el in found if el.tag == tag] if tag else list(found)

    def has(self, name: str) -> bool:
        return name in self._by_class

    def first(self, name: str, tag: str | None = None) -> Element | None:
        found = self.all(name, tag)
        return found[0] if found else None

    def prefixed(self, prefix: str, tag: str | None = None) -> list[Element]:
        """Elements whose class starts with prefix (VSB suffixes class names with a number: timestyle44518)."""
        out = [el for name, els in self._by_class.items() if name.startswith(prefix) for el in els
               if tag is None or el.tag == tag]
        return out
