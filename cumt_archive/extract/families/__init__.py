"""CMS families as plug-ins: one interface, one module per family, a registry that picks by score.

Everything particular to a family (how it is recognised, where an article's
title, date, body and media are, how its list pages read, where page n of a
column lives, what its article URLs look like and what file name they get)
lives behind `Family`. Extraction, pagination and file naming reach the
families only through a `Registry`; adding a family is one module that
implements `Family` plus `REGISTRY.register(...)`.
"""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

from ...model import ListPage
from ..page import ArticleParts, ParsedPage


@runtime_checkable
class Family(Protocol):
    """One CMS family. All methods are pure; none fetches anything."""

    name: str

    def score(self, page: ParsedPage) -> int:
        """How many of this family's fingerprints the parsed page carries (0: not this family)."""
        ...

    def article_parts(self, page: ParsedPage) -> ArticleParts | None:
        """Title, date, body blocks and media of an article page; None when the page has no article body."""
        ...

    def list_page(self, page: ParsedPage) -> ListPage:
        """Items and pager (total pages, next link) of one of this family's list pages."""
        ...

    def page_url(self, entry_url: str, page_no: int, total_pages: int | None) -> str | None:
        """URL of page `page_no` (1-based) of the column whose first page is entry_url, if computable."""
        ...

    def is_article_url(self, url: str) -> bool:
        """Whether a link has the shape of one of this family's article URLs."""
        ...

    def article_id(self, url: str) -> str | None:
        """The article id an article URL carries, if it has this family's shape."""
        ...

    def file_stem(self, url: str) -> str | None:
        """A short readable file-name stem for an article URL of this family (`c523a537506`, `1002-71704`)."""
        ...


class Registry:
    """The families extraction knows, in registration order (which breaks ties between equal scores)."""

    def __init__(self, families: tuple[Family, ...] | list[Family] = ()) -> None:
        self._families: dict[str, Family] = {}
        for family in families:
            self.register(family)

    def register(self, family: Family) -> None:
        if not isinstance(family, Family):
            raise TypeError(f"{family!r} does not implement the Family interface")
        self._families[family.name] = family

    def unregister(self, name: str) -> None:
        self._families.pop(name, None)

    def __iter__(self) -> Iterator[Family]:
        return iter(list(self._families.values()))

    def get(self, name: str) -> Family | None:
        return self._families.get(name)

    def detect(self, page: ParsedPage) -> Family | None:
        """The family whose fingerprints the page carries most; None when it carries none."""
        best: Family | None = None
        best_score = 0
        for family in self._families.values():
            score = family.score(page)
            if score > best_score:
                best, best_score = family, score
        return best

    def is_article_url(self, url: str) -> bool:
        return any(f.is_article_url(url) for f in self._families.values())

    def article_id(self, url: str) -> str | None:
        for family in self._families.values():
            found = family.article_id(url)
            if found:
                return found
        return None

    def file_stem(self, url: str) -> str | None:
        for family in self._families.values():
            found = family.file_stem(url)
            if found:
                return found
        return None


def _default() -> Registry:
    from .vsb import VSB
    from .webplus import WEBPLUS

    return Registry([WEBPLUS, VSB])


REGISTRY = _default()
