"""What extraction works on (a page parsed once) and what a family finds on an article page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from ..model import Block, Media, RawPage, TextBlock
from .html import ClassIndex, Element, decode, parse_text


_MARKER_ATTRS = ("sudy-wp-siteid",)
_MARKER_PATHS = ("/_js/", "/system/resource/js/", "/_visitcount")


@dataclass
class ParsedPage:
    """A RawPage decoded and parsed once; every family reads the same tree and class index."""

    raw: RawPage
    text: str
    doc: Element

    @classmethod
    def of(cls, raw: RawPage) -> "ParsedPage":
        text = decode(raw)
        return cls(raw, text, parse_text(text))

    @property
    def url(self) -> str:
        return self.raw.url

    @cached_property
    def classes(self) -> ClassIndex:
        return ClassIndex(self.doc)

    @cached_property
    def markers(self) -> frozenset[str]:
        """The CMS fingerprints the page carries beyond its classes, named by what carries them.

        Only <head>'s children, forms, scripts and comments are visited (lxml filters the tags in C, so
        the few matching nodes are all that become Python objects); families score a page from these
        and from the class index, so recognising a page never re-reads its text.
        """
        found: set[str] = set()
        head = self.doc.find("head")
        head_nodes = list(head) if head is not None else []
        for el in [*head_nodes, *self.doc.iter("form", "script", etree.Comment)]:
            tag = el.tag
            if not isinstance(tag, str):
                if "Visual SiteBuilder" in (el.text or ""):
                    found.add("comment:Visual SiteBuilder")
                continue
            if tag == "form":
                found.add("form:" + (el.get("name") or ""))
                continue
            for attr in _MARKER_ATTRS:
                if el.get(attr) is not None:
                    found.add(attr)
            src = el.get("src") or ""
            if src:
                for path in _MARKER_PATHS:
                    if path in src:
                        found.add(f"{tag}:{path}")
            elif tag == "script" and el.text and "_showDynClicks" in el.text:
                found.add("script:_showDynClicks")
        # VSB may sign its page with a comment before <html>: outside the tree that iter() walks.
        for node in self.doc.itersiblings(preceding=True):
            if "Visual SiteBuilder" in (node.text or ""):
                found.add("comment:Visual SiteBuilder")
        return frozenset(found)


@dataclass
class ArticleParts:
    title: str
    date: tuple[dt.datetime, str] | None
    blocks: list[Block]
    attachments: list[Media]
    link_shell: bool  # the page is a redirect stub (VSB link-type article)
    origin_id: str = ""
    title_problem: str = ""  # why no title could be settled (candidates that disagree), when title is empty
    notes: list[str] = field(default_factory=list)

    @property
    def text_blocks(self) -> list[str]:
        return [b.markdown for b in self.blocks if isinstance(b, TextBlock)]
