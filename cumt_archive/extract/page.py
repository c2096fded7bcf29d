"""What extraction works on (a page parsed once) and what a family finds on an article page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from lxml.html import HtmlElement

from ..model import Block, Media, RawPage, TextBlock
from .html import ClassIndex, decode, parse_text


@dataclass
class ParsedPage:
    """A RawPage decoded and parsed once; every family reads the same tree and class index."""

    raw: RawPage
    text: str
    doc: HtmlElement

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
