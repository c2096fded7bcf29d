"""Article -> the archive's Markdown (output-format.md), byte for byte like the seed document."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable

import yaml

from .extract.body import escape_line_start, escape_template, escape_text
from .model import LAYOUTS, MEDIA_LINKS, Article, ImageBlock, Layout, Media, MediaLinks, TextBlock
from .profile import Profile

__all__ = ["LAYOUTS", "MEDIA_LINKS", "Layout", "MediaLinks", "RenderOptions", "render", "yaml_scalar"]

# A plain scalar is only emitted when no YAML reader (PyYAML's 1.1 or js-yaml's
# 1.2 schemas, as Hexo uses) could read it as anything but this same string.
_PLAIN_FIRST = set("-?:,[]{}#&*!|>'\"%@`")
_RESOLVES = re.compile(
    r"""^(?:[-+]?(?:\.?[0-9][0-9_.,:eExXoObB+-]*|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)
        |y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |null|Null|NULL|~|=|<<)$""",
    re.X,
)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same answers, faster


@functools.lru_cache(maxsize=256)
def yaml_scalar(value: str) -> str:
    if (
        value
        and value == value.strip()
        and value[0] not in _PLAIN_FIRST
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and not _RESOLVES.match(value)
        and not re.match(r"^\d{4}-\d{1,2}-\d{1,2}", value)
        and all(ch.isprintable() for ch in value)
        and "\\" not in value
    ):
        try:
            if yaml.load(f"k: {value}", Loader=_YAML_LOADER) == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return yaml.dump(value, default_style='"', allow_unicode=True, width=1 << 30).rstrip("\n").removesuffix("\n...")


@dataclass(frozen=True)
class RenderOptions:
    layout: Layout = "seed"
    media_links: MediaLinks = "original"
    # For media_links="local": the relative link for a media file, or None to keep the original URL
    # (a file that failed to download keeps pointing at the source).
    local_link: Callable[[Media], str | None] | None = None


_NEEDS_BRACKETS = re.compile(r"[\s()<>]")  # compiled once: this runs for every image and attachment


def _media_target(media: Media, options: RenderOptions) -> str:
    target = media.url
    if options.media_links == "local" and options.local_link is not None:
        target = options.local_link(media) or media.url
    if _NEEDS_BRACKETS.search(target):
        return "<" + target + ">"
    return target


def _attachment_name(media: Media) -> str:
    name = media.name or media.url.rsplit("/", 1)[-1]
    return escape_template(re.sub(r"([\\\[\]])", r"\\\1", name))


def front_matter(article: Article, profile: Profile) -> str:
    lines = [
        "---",
        f"title: {yaml_scalar(profile.front_title(article.title))}",
        f"date: {article.published:%Y-%m-%d %H:%M:%S}",
        f"urlname: {article.urlname}",
        # The trailing space after "tags:" is the seed archive's own, kept so files stay byte-identical.
        "tags: ",
        *(f"- {yaml_scalar(tag)}" for tag in profile.tags),
        "categories:",
        *(f"- {yaml_scalar(cat)}" for cat in profile.categories),
        "---",
    ]
    return "\n".join(lines) + "\n"


def render(article: Article, profile: Profile, options: RenderOptions = RenderOptions()) -> str:
    title = escape_template(escape_line_start(escape_text(article.title)))
    attachments = [f"[{_attachment_name(m)}]({_media_target(m, options)})" for m in article.attachments]
    source = f"[转入文章首发地址]({article.canonical_url})"
    if options.layout == "inline":
        parts = [title]
        for block in article.blocks:
            if isinstance(block, TextBlock):
                parts.append(escape_template(block.markdown))
            elif isinstance(block, ImageBlock):
                parts.append(f"![图]({_media_target(block.image, options)})")
        body = "\n\n".join([*parts, *attachments, source])
    else:
        text = "\n\n".join([title, *map(escape_template, article.text_blocks)])
        media = [f"![图]({_media_target(m, options)})" for m in article.images] + attachments
        # The seed archive leaves three blank lines between the text and the media that follow it.
        body = text + ("\n\n\n\n" + "\n\n".join(media) if media else "") + "\n\n" + source
    return front_matter(article, profile) + "\n\n" + body
