"""What a family module finds on an article page, before it becomes an Article."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import Block, Media, TextBlock


@dataclass
class ArticleParts:
    title: str
    date: tuple[dt.datetime, str] | None
    blocks: list[Block]
    attachments: list[Media]
    link_shell: bool  # the page is a redirect stub (VSB link-type article)
    origin_id: str = ""

    @property
    def text_blocks(self) -> list[str]:
        return [b.markdown for b in self.blocks if isinstance(b, TextBlock)]
