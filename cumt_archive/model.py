"""Typed records passed between fetching, extraction, rendering and storage.

Nothing here imports Scrapy: the crawl and the offline regenerate path share
these types.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Mapping, Union
from urllib.parse import urlsplit

# How an article's Markdown is laid out and where its media links point (render.py; the archive
# remembers both). Here, with the other vocabularies, so a command line can offer them without
# loading the renderer.
Layout = Literal["seed", "inline"]
MediaLinks = Literal["original", "local"]
LAYOUTS = ("seed", "inline")
MEDIA_LINKS = ("original", "local")


@dataclass(frozen=True)
class RawPage:
    """A response exactly as received: what the archive stores and extraction reads."""

    url: str
    body: bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    fetched_at: str = ""  # ISO 8601 UTC; empty when unknown (saved pages)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class Media:
    """An image or attachment, by its absolute original URL."""

    url: str
    name: str = ""  # attachment display name (link text); images: original file title if known
    # An image's URL as the page displays it, when that is not the original (VSB shows a scaled copy and
    # names the upload in `orisrc`): captured into the WARC so the page replays as it was seen, not saved
    # to media/, which keeps originals. Left out of repr, so an article's repr (and digests of it) stays as it was.
    shown: str = field(default="", repr=False)


@dataclass(frozen=True)
class TextBlock:
    markdown: str
    kind: Literal["text"] = "text"


@dataclass(frozen=True)
class ImageBlock:
    image: Media
    kind: Literal["image"] = "image"


Block = Union[TextBlock, ImageBlock]


@dataclass(frozen=True)
class Article:
    url: str
    canonical_url: str
    urlname: str
    family: str
    title: str
    published: dt.datetime
    published_raw: str
    blocks: tuple[Block, ...]
    attachments: tuple[Media, ...]
    origin_id: str = ""  # VSB: the id the click counter uses, which a cross-posted copy keeps from its original

    @property
    def text_blocks(self) -> list[str]:
        return [b.markdown for b in self.blocks if isinstance(b, TextBlock)]

    @property
    def images(self) -> list[Media]:
        return [b.image for b in self.blocks if isinstance(b, ImageBlock)]

    @property
    def media(self) -> list[Media]:
        return [*self.images, *self.attachments]

    def __reduce__(self) -> tuple[Any, ...]:
        # How an article travels from an extraction worker to the writing process. Pickled as it is, each of
        # its few dozen blocks is an object written with its class and a dict of its fields, and read back
        # one call at a time: more than the article's text costs. Sent instead: text blocks as strings,
        # images as tuples, and the story key once taken (_article_from_wire).
        blocks = tuple(block.markdown if isinstance(block, TextBlock) else _media_fields(block.image)
                       for block in self.blocks)
        return (_article_from_wire, (self.url, self.canonical_url, self.urlname, self.family, self.title,
                                     self.published, self.published_raw, blocks,
                                     tuple(_media_fields(m) for m in self.attachments), self.origin_id,
                                     self.__dict__.get("story_key")))

    @functools.cached_property  # a worker process takes it, and it travels with the pickled article
    def story_key(self) -> str:
        """Same host, title, date, text and images: the same story, whatever its URL.

        VSB gives a story cross-posted to another column a new article id, so
        two URLs can hold one story; this key finds them.
        """
        parts = [urlsplit(self.canonical_url).hostname or "", self.title, f"{self.published:%Y-%m-%d %H:%M:%S}",
                 *self.text_blocks, *(m.url for m in self.images), *(m.name for m in self.attachments)]
        return hashlib.md5("\x1f".join(parts).encode("utf-8")).hexdigest()


def _media_fields(media: Media) -> tuple[str, str, str]:
    return (media.url, media.name, media.shown)


def _article_from_wire(url: str, canonical_url: str, urlname: str, family: str, title: str, published: dt.datetime,
                       published_raw: str, blocks: tuple[str | tuple[str, str, str], ...],
                       attachments: tuple[tuple[str, str, str], ...], origin_id: str,
                       story_key: str | None) -> Article:
    """The article Article.__reduce__ sent: a string for each text block, a tuple for each image."""
    article = Article(url, canonical_url, urlname, family, title, published, published_raw,
                      tuple([_text_block(block) if type(block) is str else ImageBlock(Media(*block))
                             for block in blocks]),
                      tuple(Media(*fields) for fields in attachments), origin_id)
    if story_key is not None:
        article.__dict__["story_key"] = story_key  # (where cached_property keeps it)
    return article


def _text_block(markdown: str) -> TextBlock:
    """TextBlock(markdown) as its __init__ makes it, without the object.__setattr__ call per field that a
    frozen dataclass's __init__ pays (a third of reading an article back; test_model checks the fields)."""
    block = _new_object(TextBlock)
    fields = block.__dict__
    fields["markdown"] = markdown
    fields["kind"] = "text"
    return block


_new_object = object.__new__


class Reason(StrEnum):
    """Why a fetched page is not archived. The values are stored in the index: never rename one."""

    CAMPUS_ONLY = "campus_only"  # the CMS's "only from campus addresses" notice
    LOGIN = "login"  # a login page or form
    CHALLENGE = "challenge"  # a firewall's script challenge (HTTP 412 and the like)
    LINK_SHELL = "link_shell"  # a link-type article: a stub that redirects elsewhere
    ERROR = "error"  # an HTTP error or an error page
    EMPTY = "empty"  # no article body, or a body with nothing in it
    UNKNOWN_CMS = "unknown_cms"  # no registered CMS family recognises the page
    NO_DATE = "no_date"  # the page shows no publication date
    NOT_HTML = "not_html"  # not an HTML document
    NO_TITLE = "no_title"  # neither the article area nor <title> names the article
    AMBIGUOUS_TITLE = "ambiguous_title"  # title candidates disagree and nothing settles which is the article's
    TOO_LARGE = "too_large"  # bytes or elements beyond what extraction parses


@dataclass(frozen=True)
class NotArticle:
    """A fetched page that must not be archived, and why (reason) in particular (detail)."""

    url: str
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class ListItem:
    url: str
    title: str
    date: dt.date | None


@dataclass(frozen=True)
class ListPage:
    url: str
    family: str
    items: tuple[ListItem, ...]
    total_pages: int | None  # what the pager says; only trusted on a column's first page
    next_url: str | None  # the pager's "next" link, absolute, when it has one
