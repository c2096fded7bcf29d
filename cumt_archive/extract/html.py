"""Bytes -> text -> lxml tree, in one place, so a regenerated page decodes exactly as it did live."""

from __future__ import annotations

import re

import lxml.html
from bs4.dammit import UnicodeDammit
from lxml import etree
from w3lib.encoding import html_to_unicode

from ..model import RawPage

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def _guess_encoding(body: bytes) -> str | None:
    # Chinese university pages without any declared charset are UTF-8 or GB18030;
    # try them strictly in that order before anything looser.
    return UnicodeDammit(body[:65536], ["utf-8", "gb18030"]).original_encoding


def decode(page: RawPage) -> str:
    """Header charset, then BOM/<meta>, then a guess (w3lib's order, which Scrapy uses)."""
    _encoding, text = html_to_unicode(
        page.header("Content-Type"), page.body, auto_detect_fun=_guess_encoding
    )
    return text


def parse(page: RawPage) -> lxml.html.HtmlElement:
    text = _XML_DECL.sub("", decode(page))
    if not text.strip():
        text = "<html></html>"
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html><body></body></html>")


def text_of(el: lxml.html.HtmlElement | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())
