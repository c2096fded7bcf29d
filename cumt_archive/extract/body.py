"""An article body (lxml element) -> Markdown text blocks, images and attachments, in page order.

Shared by both CMS families; what differs between them (which attribute holds
the original image, what an attachment link looks like) comes in as hooks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from lxml import etree

from ..model import Block, ImageBlock, Media, TextBlock
from ..urls import is_web_url, join_url
from .html import Element, drop_tree, select



@dataclass(frozen=True)
class Embedded:
    """Media a player or script shows in place of an element: page images (a PDF viewer's), or
    video/audio files (linked as attachments)."""

    images: tuple[Media, ...] = ()
    attachments: tuple[Media, ...] = ()


ImageSource = Callable[[Element, str], "str | None"]
AttachmentOf = Callable[[Element, str], "Media | None"]
EmbeddedOf = Callable[[Element, str], "Embedded | None"]
# Elements that may stand for a player or a script-drawn viewer (everything else skips the hook).
EMBED_TAGS = frozenset("script video audio source embed div img span p".split())

BLOCK_TAGS = frozenset(
    "p div section article header footer main aside h1 h2 h3 h4 h5 h6 ul ol li dl dt dd "
    "blockquote pre center figure figcaption address form fieldset tr tbody thead tfoot "
    "caption hr nav".split()
)
SKIP_TAGS = frozenset(
    "script style noscript iframe object embed button input select option textarea template "
    "svg canvas audio video source head title meta link map area".split()
)
# Whitespace that only exists to lay out the HTML source or indent a paragraph.
_WS = re.compile(r"[ \t\r\n\f\v\xa0\u3000\u2002\u2003\u200b]+")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_SOFT_BREAK = "\x05"  # source whitespace that held a line break: gone between CJK characters, else a space
_NOT_CJK_BLANKS = "\x05 \t\r\n\f\v\xa0"  # none is a CJK character: _CJK_SOFT_BREAK cannot match among them alone
_WS_WITH_NEWLINE = re.compile(r"[ \t\r\f\v\xa0]*\n[ \t\r\n\f\v\xa0]*")
_CJK_SOFT_BREAK = re.compile(rf"(?<=[{_CJK}])([\x01-\x04]*)\x05+(?=[\x01-\x04]*[{_CJK}])")
_MD_ESCAPE = re.compile(r"([\\`*_\[\]])")
_HTML_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")
_TEMPLATE_CLOSE = re.compile(r"(?<=[}%#])\}")
_LINE_START_MARKER = re.compile(r"^(?:#{1,6}(?:\s|$)|>|[-+](?:\s|$)|=+\s*$|-{2,}\s*$)")
_LINE_START_NUMBER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_ATTACHMENT_LABEL = re.compile(r"^[\s附件相关下载已次:：【】\[\]()（）、,，.。0-9-]*$")
_PAGE_CHROME = re.compile(
    r"^(?:[【\[]?\s*(?:打印本页|打印此页|打印|关闭窗口|关闭|返回顶部|返回|收藏本页|分享到\S{0,12})\s*[】\]]?\s*)+$"
    r"|^分享到[:：]?.{0,20}$"
)
# What a text _PAGE_CHROME matches (markers removed) starts with, after any whitespace: a bracket or the
# first character of one of its words. Checking that first saves most blocks a substitution and a match.
_CHROME_FIRST = frozenset("【[打关返收分")
_LEADING_BLANKS = re.compile(r"[\x01-\x05\s]*")


def _may_be_chrome(text: str) -> bool:
    """False when text (with or without its markers) cannot match _PAGE_CHROME."""
    first = text[:1]
    if first and first not in _MARKER_CHARS and not first.isspace():
        return first in _CHROME_FIRST  # the usual case, without a regex
    start = _LEADING_BLANKS.match(text).end()  # type: ignore[union-attr]  # (matches the empty string)
    return text[start : start + 1] in _CHROME_FIRST
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


_HIDES: dict[str, bool] = {}  # style -> _hides: Word's pages repeat a few long styles on every run


def _hides(style: str) -> bool:
    """_HIDDEN.search(style), after a cheap test: a case-blind regex lowers every character it tries, and
    Word's pages put long styles on every run. Every match holds "none" or "hidden", whose letters n, o,
    e, d only ever match themselves in either case, so the lowered style then holds "none" or "dden"."""
    found = _HIDES.get(style)
    if found is None:
        lowered = style.lower()
        found = ("none" in lowered or "dden" in lowered) and _HIDDEN.search(style) is not None
        if len(_HIDES) >= 4096:  # a bound, for processes that read many sites' pages
            _HIDES.clear()
        _HIDES[style] = found
    return found
_STRONG_OPEN, _STRONG_CLOSE, _EM_OPEN, _EM_CLOSE = "\x01", "\x02", "\x03", "\x04"
_MARKERS = re.compile("[\x01-\x05]")
_MARKER_CHARS = frozenset("\x01\x02\x03\x04\x05")
_EMPHASIS = re.compile("[\x01-\x04]")
_OPEN_SPACE = re.compile("([\x01\x03]) +")
_SPACE_CLOSE = re.compile(" +([\x02\x04])")
_NEEDS_ESCAPE = re.compile(r"[\\`*_\[\]<&]")
# What a text node must hold for _inline_text to change it: whitespace _WS folds (all but a lone space) or
# a character escape_text escapes; that is, one of these characters, or two spaces (tested apart with `in`:
# an alternation would keep re from scanning for the class alone, and takes twice as long on a paragraph).
# Most text nodes of a Chinese page hold none, and pass with one search.
_NEEDS_WORK = re.compile(r"[\\`*_\[\]<&\t\r\n\f\v\xa0\u3000\u2002\u2003\u200b]")
_LAYOUT_BLANKS = " \t\r\n\f\v\xa0"  # the characters of _WS_WITH_NEWLINE


def _inline_text(text: str) -> str:
    """A text node as the walk adds it: source line breaks become soft breaks, other whitespace runs one
    space, and Markdown's own characters are escaped. (Call it only when _NEEDS_WORK finds something, or two spaces.)"""
    if not text.strip(_LAYOUT_BLANKS):  # the indentation between two tags, the commonest text node of all
        return _SOFT_BREAK if "\n" in text else " "
    if "\n" in text:
        text = _WS_WITH_NEWLINE.sub(_SOFT_BREAK, text)
    text = _WS.sub(" ", text)
    return escape_text(text) if _NEEDS_ESCAPE.search(text) else text


def escape_template(text: str) -> str:
    """Keep Hexo's Nunjucks pass from reading `{{ }}`, `{% %}` or `{# #}` in article text."""
    if "{" not in text and "}" not in text:
        return text  # the usual case, without two regex passes
    return _TEMPLATE_CLOSE.sub("&#125;", _TEMPLATE_OPEN.sub("&#123;", text))


_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def escape_text(text: str) -> str:
    """Text that Markdown shows as written: no emphasis, links, HTML tags or entities of its own."""
    text = _MD_ESCAPE.sub(r"\\\1", text)
    text = _ENTITY_LIKE.sub("&amp;", text)
    return _HTML_OPEN.sub(r"\\<", text)


_PUNCT: dict[str, bool] = {}  # character -> _is_punct: pages repeat the few characters around their emphasis


def _is_punct(ch: str) -> bool:
    found = _PUNCT.get(ch)
    if found is None:
        found = _PUNCT[ch] = unicodedata.category(ch)[0] in "PS"
    return found


def _flanking_ok(before: str, inner: str, after: str) -> bool:
    """Would CommonMark (and marked) read `**inner**` here as strong emphasis?"""
    if not inner or inner[0].isspace() or inner[-1].isspace():
        return False
    first, last = inner[0], inner[-1]
    opens = not _is_punct(first) or not before or before.isspace() or _is_punct(before)
    closes = not _is_punct(last) or not after or after.isspace() or _is_punct(after)
    return opens and closes


def _resolve_emphasis(text: str, open_m: str, close_m: str, md: str, tag: str) -> str:
    if open_m not in text:
        return text.replace(close_m, "")  # what the loop below makes of it, in one call
    out: list[str] = []
    last = ""  # the last character of what out holds so far
    pos = 0
    while True:
        start = text.find(open_m, pos)
        if start < 0:
            out.append(text[pos:].replace(close_m, ""))
            break
        end = text.find(close_m, start + 1)
        if end < 0:
            out.append(text[pos:start] + text[start + 1 :].replace(open_m, ""))
            break
        if start > pos:
            out.append(text[pos:start])
            last = text[start - 1]
        inner = text[start + 1 : end]  # (holds no close_m: end is the first after start)
        if open_m in inner:
            inner = inner.replace(open_m, "")
        stripped = inner.strip()
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        plain = stripped if stripped.isprintable() else _MARKERS.sub("", stripped)  # (markers are not printable)
        if not plain:
            piece = lead + stripped + trail
        else:
            before = lead or last
            after = trail or text[end + 1 : end + 2]
            visible_before = "" if before in _MARKER_CHARS else before
            visible_after = "" if after in _MARKER_CHARS else after
            if _flanking_ok(visible_before, plain, visible_after) and "\\" != plain[-1:]:
                piece = f"{lead}{md}{stripped}{md}{trail}"
            else:
                piece = f"{lead}<{tag}>{stripped}</{tag}>{trail}"
        out.append(piece)
        if piece:
            last = piece[-1]
        pos = end + 1
    return "".join(out)


@dataclass
class _State:
    blocks: list[Block] = field(default_factory=list)
    attachments: list[Media] = field(default_factory=list)
    buf: list[str] = field(default_factory=list)
    attachment_links: list[str] = field(default_factory=list)
    prefix: str = ""
    seen_images: set[str] = field(default_factory=set)
    inline: bool = False  # inside a table cell: blocks are plain runs of the cell's text, no headings or bullets
    # buf holds a piece whose whitespace was never folded (a link's target, an attachment's name). Every other
    # piece is a folded text node or a marker, so a block of only those can hold no whitespace but single
    # spaces, and _flush then folds nothing unless two meet.
    loose: bool = False


class BodyConverter:
    """Walks an article body; the hooks are asked about each element it meets.

    hooks_ignore_runs: the family promises that its hooks return None for every `<span>` and `<font>` that
    carries only presentational attributes (_RUN_ATTRIBUTES). A block made of nothing but such runs (a
    Word paragraph) is then read as its text pieces in order, without walking (and asking about) each run.
    attachment_tags, embed_tags: the only tags for which attachment_of and embedded_of can answer (the
    walk asks about no other element: a call per element adds up on pages of thousands of paragraphs).
    """

    def __init__(self, base_url: str, image_source: ImageSource, attachment_of: AttachmentOf,
                 embedded_of: EmbeddedOf | None = None, hooks_ignore_runs: bool = False,
                 attachment_tags: frozenset[str] | None = None, embed_tags: frozenset[str] = EMBED_TAGS) -> None:
        self.base_url = base_url
        self.image_source = image_source
        self.attachment_of = attachment_of
        self.embedded_of = embedded_of
        self.hooks_ignore_runs = hooks_ignore_runs
        self.attachment_tags = attachment_tags
        self.embed_tags = embed_tags & EMBED_TAGS if embedded_of is not None else frozenset()

    def convert(self, root: Element, *spill: Element) -> tuple[list[Block], list[Media]]:
        """Blocks of root's content, then of `spill`: elements a stray end tag pushed out of the body."""
        state = _State()
        self._walk_children(root, state)
        self._flush(state)
        for el in spill:
            self._walk(el, state)
            if el.tail:
                self._add_text(el.tail, state)
            self._flush(state)
        return state.blocks, state.attachments

    # -- tree walk -----------------------------------------------------------------

    def _walk_children(self, el: Element, state: _State) -> None:
        # The hot loop of the walk: _add_text is written out here (a call per text node and tail adds up
        # on pages of thousands of paragraphs), and each .text/.tail is read once (lxml converts it anew
        # on every read).
        text = el.text
        if text:
            state.buf.append(_inline_text(text) if _NEEDS_WORK.search(text) or "  " in text else text)
        walk = self._walk
        for child in el:
            walk(child, state)
            text = child.tail
            if text:
                state.buf.append(_inline_text(text) if _NEEDS_WORK.search(text) or "  " in text else text)

    def _walk(self, el: Element, state: _State) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments (Word's VML conditionals included), processing instructions
            return
        # (libxml2's HTML parser gives every tag in lower case)
        style = el.get("style")
        if style and _hides(style):
            return
        if tag in self.embed_tags:
            embedded = self.embedded_of(el, self.base_url)  # type: ignore[misc]  # (embed_tags is empty without it)
            if embedded is not None:
                self._add_embedded(embedded, state)
                return
        if tag in SKIP_TAGS:
            return
        if self.attachment_tags is None or tag in self.attachment_tags:
            attachment = self.attachment_of(el, self.base_url)
            if attachment is not None:
                self._add_attachment(el, attachment, state)
                return
        if tag == "img":
            self._add_image(el, state)
        elif tag == "br":
            self._flush(state)
        elif tag == "table":
            self._add_table(el, state)
        elif tag in ("strong", "b"):
            state.buf.append(_STRONG_OPEN)
            self._walk_children(el, state)
            state.buf.append(_STRONG_CLOSE)
        elif tag in ("em", "i"):
            state.buf.append(_EM_OPEN)
            self._walk_children(el, state)
            state.buf.append(_EM_CLOSE)
        elif tag == "a":
            self._add_link(el, state)
        elif tag in BLOCK_TAGS:
            if state.buf:
                self._flush(state)
            else:
                state.prefix = ""  # what _flush does with nothing to flush
            if state.inline:
                pass
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                state.prefix = "#" * int(tag[1]) + " "
            elif tag == "li":
                parent = el.getparent()
                if parent is not None and parent.tag == "ol":
                    state.prefix = f"{[c for c in parent if c.tag == 'li'].index(el) + 1}. "
                else:
                    state.prefix = "- "
            if not len(el):
                # No child at all (a paragraph of plain text, the commonest block): its text is all the
                # walk would add, without asking for runs.
                self._add_text(el.text or "", state)
            elif self.hooks_ignore_runs and _only_runs(el):
                # What the walk would add, text piece by text piece: each run only passes its text on.
                # When the pieces together need no work, none of them does (a piece is a part of the whole,
                # two spaces across a boundary are two spaces in the whole): added as one piece, they join
                # in _flush to the same text. Else each is added as _add_text adds it.
                pieces = list(el.itertext())
                whole = "".join(pieces)
                if not (_NEEDS_WORK.search(whole) or "  " in whole):
                    if whole:
                        state.buf.append(whole)
                else:
                    for piece in pieces:
                        self._add_text(piece, state)
            else:
                self._walk_children(el, state)
            if state.buf:
                self._flush(state)
            else:
                state.prefix = ""
        else:
            self._walk_children(el, state)

    # -- inline pieces --------------------------------------------------------------

    def _add_text(self, text: str, state: _State) -> None:
        if text:
            state.buf.append(_inline_text(text) if _NEEDS_WORK.search(text) or "  " in text else text)

    def _add_link(self, el: Element, state: _State) -> None:
        href = (el.get("tppabs") or el.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")) or el.find(".//img") is not None:
            self._walk_children(el, state)
            return
        inner = _State()
        self._walk_children(el, inner)
        text = _WS.sub(" ", _MARKERS.sub("", _join(inner.buf))).strip()
        if not text:
            return
        state.buf.append(f"[{text}]({_link_target(join_url(self.base_url, href))})")
        state.loose = True

    def _add_attachment(self, el: Element, media: Media, state: _State) -> None:
        if all(m.url != media.url for m in state.attachments):
            state.attachments.append(media)
        if el.tag == "a":
            link = f"[{escape_text(media.name)}]({_link_target(media.url)})"
            state.buf.append(link)
            state.attachment_links.append(link)
            state.loose = True

    def _add_embedded(self, embedded: Embedded, state: _State) -> None:
        for image in embedded.images:
            if image.url not in state.seen_images:
                self._flush(state)
                state.seen_images.add(image.url)
                state.blocks.append(ImageBlock(image))
        for media in embedded.attachments:
            if all(m.url != media.url for m in state.attachments):
                state.attachments.append(media)

    def _add_image(self, el: Element, state: _State) -> None:
        if _invisible(el):
            return  # a 0x0 poster or tracking pixel: nothing a reader sees
        src = self.image_source(el, self.base_url)
        if not src or src in state.seen_images:
            return
        self._flush(state)
        state.seen_images.add(src)
        title = ""
        attr = el.get("sudyfile-attr") or ""
        match = _SUDYFILE_TITLE.search(attr) if attr else None
        if match:
            title = match.group(1)
        shown = join_url(self.base_url, (el.get("src") or "").strip())
        if shown == src or not is_web_url(shown):
            shown = ""
        state.blocks.append(ImageBlock(Media(src, title, shown)))

    def _add_table(self, table: Element, state: _State) -> None:
        rows = [r for r in table.iter("tr") if _owning_table(r) is table]
        widths = [sum(int(c.get("colspan", "1") or 1) if (c.get("colspan") or "1").isdigit() else 1
                      for c in r if c.tag in ("td", "th")) for r in rows]
        nested = any(t is not table for t in table.iter("table"))
        if len(rows) < 2 or max(widths or [0]) < 2 or nested:
            # A layout table: its cells are ordinary blocks.
            self._flush(state)
            self._walk_children(table, state)
            self._flush(state)
            return
        self._flush(state)
        cells_by_row: list[list[str]] = []
        for row in rows:
            cells: list[str] = []
            for cell in row:
                if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                    continue
                if _is_plain_cell(cell):
                    # Text runs only (a Word cell's <p><span>..</span></p>): what the walk would make of
                    # them, without walking (tables of a thousand cells are common in notices).
                    text = _plain_cell_text(cell)
                else:
                    sub = _State(seen_images=state.seen_images, inline=True)
                    self._walk_children(cell, sub)
                    self._flush(sub)
                    text = "<br>".join(b.markdown for b in sub.blocks if isinstance(b, TextBlock))
                    # Images inside cells cannot live in a pipe table; they follow it.
                    for block in sub.blocks:
                        if isinstance(block, ImageBlock):
                            state.blocks.append(block)
                    for media in sub.attachments:
                        if all(m.url != media.url for m in state.attachments):
                            state.attachments.append(media)
                span = cell.get("colspan", "1")
                cells.append(text.replace("|", "\\|"))
                cells.extend([""] * (int(span) - 1 if span.isdigit() and int(span) > 1 else 0))
            if any(c for c in cells):
                cells_by_row.append(cells)
        if not cells_by_row:
            return
        width = max(len(r) for r in cells_by_row)
        lines = []
        for i, cells in enumerate(cells_by_row):
            cells = cells + [""] * (width - len(cells))
            lines.append("| " + " | ".join(cells) + " |")
            if i == 0:
                lines.append("|" + "|".join([" --- "] * width) + "|")
        state.blocks.append(TextBlock("\n".join(lines)))

    # -- block boundary -------------------------------------------------------------

    def _flush(self, state: _State) -> None:
        buf = state.buf
        if not buf or (len(buf) == 1 and buf[0] in (_SOFT_BREAK, " ")):
            # Nothing, or only the layout whitespace between two blocks (as a tail between paragraphs
            # leaves it, with no link or attachment piece): no block, and nothing else to reset.
            if buf:
                state.buf = []
            state.prefix = ""
            return
        raw = "".join(buf)  # _join, written out (this runs once per block)
        if _SOFT_BREAK in raw:
            if raw.strip(_NOT_CJK_BLANKS):  # (only source whitespace, as between two paragraphs: no CJK to join)
                raw = _CJK_SOFT_BREAK.sub(r"\1", raw)
            raw = raw.replace(_SOFT_BREAK, " ")
        prefix = state.prefix
        links = state.attachment_links
        loose = state.loose
        state.buf, state.prefix, state.attachment_links, state.loose = [], "", [], False
        if raw.isspace():
            return
        text = _WS.sub(" ", raw) if loose or "  " in raw else raw
        if prefix.startswith("#"):
            text = _MARKERS.sub("", text)  # a heading is emphasis enough
        if not text.isprintable() and _EMPHASIS.search(text):  # (markers are not printable: a cheap first test)
            # Word splits one bold phrase into runs (<b>一、</b><b>总体要求</b>): one emphasis, not two.
            # (Each test below only for a kind of emphasis the block holds, and each substitution only when
            # its pattern can match: every `in` reads the whole block, a substitution costs a Python call.
            # The markers' pairs are written out: building them costs on every block.)
            strong = "\x01" in text or "\x02" in text
            em = "\x03" in text or "\x04" in text
            if strong and "\x02\x01" in text:
                text = text.replace("\x02\x01", "")
            if em and "\x04\x03" in text:
                text = text.replace("\x04\x03", "")
            if (strong and "\x01 " in text) or (em and "\x03 " in text):
                text = _OPEN_SPACE.sub(r" \1", text)
            if (strong and " \x02" in text) or (em and " \x04" in text):
                text = _SPACE_CLOSE.sub(r"\1 ", text)
            if strong:
                text = _resolve_emphasis(text, _STRONG_OPEN, _STRONG_CLOSE, "**", "strong")
            if em:
                text = _resolve_emphasis(text, _EM_OPEN, _EM_CLOSE, "*", "em")
            if "  " in text:  # (the only whitespace left is single spaces, which the steps above may pair)
                text = _WS.sub(" ", text)
        text = text.strip()
        if not text:
            return
        if links:
            rest = text
            for link in links:
                rest = rest.replace(link, "")
            if _ATTACHMENT_LABEL.match(_MARKERS.sub("", rest)):
                return  # the paragraph only names attachments, which are listed on their own
        if _may_be_chrome(text) and _PAGE_CHROME.match(_MARKERS.sub("", text)):
            return  # print/close/share buttons that templates put inside the body
        if not prefix and (text[0] in _MARKER_FIRST or text[0].isdigit()):  # else escape_line_start keeps it
            text = escape_line_start(text)
        state.blocks.append(TextBlock(prefix + text))


def _join(pieces: list[str]) -> str:
    text = "".join(pieces)
    if _SOFT_BREAK in text:
        text = _CJK_SOFT_BREAK.sub(r"\1", text).replace(_SOFT_BREAK, " ")
    return text


def escape_line_start(text: str) -> str:
    """Keep a paragraph that happens to start like a heading or list item a paragraph."""
    first = text[:1]
    if first in _MARKER_FIRST and _LINE_START_MARKER.match(text):
        return "\\" + text
    if not first.isdigit():  # str.isdigit holds for every character \d matches
        return text
    number = _LINE_START_NUMBER.match(text)
    return text if number is None else f"{text[:number.end(1)]}\\{text[number.end(1):]}"


_MARKER_FIRST = frozenset("#>-+=")  # what a text _LINE_START_MARKER matches starts with


_INLINE_RUNS = frozenset(("span", "font"))
# Attributes that only say how a run looks (what Word and the CMS editors put on <span>/<font>).
_RUN_ATTRIBUTES = frozenset(("style", "class", "lang", "xml:lang", "face", "size", "color", "dir", "id", "align"))


def _only_runs(el: Element) -> bool:
    """Whether everything below el is a visible span/font run with presentational attributes only (no
    comment, no other element): the walk would add its text pieces, in document order, and nothing else."""
    for node in el.iterdescendants():
        if node.tag not in _INLINE_RUNS:
            return False
        attributes = node.attrib
        if attributes:
            if not _RUN_ATTRIBUTES.issuperset(attributes.keys()):
                return False
            style = attributes.get("style")
            if style and _hides(style):
                return False
    return True


def _is_plain_cell(cell: Element) -> bool:
    """A cell whose walk yields one run of text: only span/font runs, at most inside one paragraph or div
    with nothing beside it; no emphasis, link, image, line break, hidden part or comment."""
    children = list(cell)
    if not children:
        return True
    holder = cell
    if len(children) == 1 and children[0].tag in ("p", "div") and not (cell.text or "").strip() \
            and not (children[0].tail or "").strip():
        holder = children[0]
        if holder.get("style") and _hides(holder.get("style", "")):
            return False
    for el in holder.iterdescendants():
        if el.tag not in _INLINE_RUNS or (el.get("style") and _hides(el.get("style", ""))):
            return False
    return True


def _plain_cell_text(cell: Element) -> str:
    """The one text block a plain cell's walk makes (same steps as _add_text, then _flush), inline."""
    # The cell's text in one C call; its runs are joined before whitespace is read, which can only
    # drop a line break between two CJK characters that the walk (run by run) would have kept as a space.
    piece = etree.tostring(cell, method="text", encoding=str, with_tail=False)
    if not piece:
        return ""
    if _NEEDS_WORK.search(piece) or "  " in piece:
        piece = _inline_text(piece)
    if _SOFT_BREAK in piece:  # _join, written out; only a soft break can leave a run of whitespace to fold
        if piece.strip(_NOT_CJK_BLANKS):
            piece = _CJK_SOFT_BREAK.sub(r"\1", piece)
        piece = _WS.sub(" ", piece.replace(_SOFT_BREAK, " "))
    if not piece or piece.isspace():
        return ""
    text = piece.strip()
    if not text or (_may_be_chrome(text) and _PAGE_CHROME.match(text)):
        return ""
    if text[0] in _MARKER_FIRST or text[0].isdigit():
        return escape_line_start(text)
    return text


_SUDYFILE_TITLE = re.compile(r"'title'\s*:\s*'([^']*)'")
_ZERO = re.compile(r"^\s*0+(?:\.0+)?\s*(?:px)?\s*$")
_ZERO_STYLE = re.compile(r"(?:^|;)\s*(?:width|height)\s*:\s*0+(?:px)?\s*(?:;|$)", re.I)


def _invisible(img: Element) -> bool:
    """width or height 0 (attribute or style): a placeholder, not an image anyone sees."""
    return any(_ZERO.match(img.get(attr) or "x") for attr in ("width", "height")) or bool(
        _ZERO_STYLE.search(img.get("style") or ""))


def _owning_table(row: Element) -> Element | None:
    for ancestor in row.iterancestors("table"):
        return ancestor
    return None


_NEEDS_BRACKETS = re.compile(r"[\s()<>]")


def _link_target(url: str) -> str:
    if _NEEDS_BRACKETS.search(url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


def drop_elements(root: Element, xpath: str) -> None:
    for el in select(root, xpath):
        parent = el.getparent()
        if parent is not None:
            drop_tree(el)
