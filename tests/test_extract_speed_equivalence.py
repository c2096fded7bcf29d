"""The fast paths of extraction give what the straightforward code they replace gives.

Each shortcut (a plain lxml parser, pre-checks before regular expressions, XPath filters before
Python loops, ancestor walks instead of descendant scans) is compared here with the plain version it
replaced, kept below as the reference, on hand-made edge cases and on many seeded random inputs.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from cumt_archive.extract import body as body_mod
from cumt_archive.extract import common
from cumt_archive.extract.families import vsb
from cumt_archive.extract.html import PORTLET, ClassIndex, Element, drop_tree, parse_text, text_of
from cumt_archive.extract.page import ParsedPage
from cumt_archive.model import RawPage

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def _saved_pages() -> list[Path]:
    found = sorted(FIXTURES.rglob("*.htm*"))
    if CORPUS.is_dir():
        found += sorted(CORPUS.rglob("*.htm*"))
    return found


# -- parsing ------------------------------------------------------------------------------------


def _reference_parse(text: str) -> lxml.html.HtmlElement:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, flags=re.I)
    if not text.strip():
        text = "<html></html>"
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html><body></body></html>")


ODD_DOCUMENTS = [
    "", "   \n", "<?xml version='1.0'?>", "<?xml version='1.0' encoding='utf-8'?><html><p>x</p></html>",
    "text only", "<p>no html element", "<!-- only a comment -->", "<!DOCTYPE html><title>t</title>",
    "<html><body><p>a<b>b</p>c</b><table><td>1<tr>2</table>", "\x00<p>nul</p>", "<p>a\x0bb&#11;c</p>",
    "<!-- before --><html><!-- in --><body>x</body></html><!-- after -->",
]


@pytest.mark.parametrize("text", ODD_DOCUMENTS)
def test_parse_gives_lxml_html_tree(text: str) -> None:
    ours, reference = parse_text(text), _reference_parse(text)
    assert etree.tostring(ours.getroottree()) == etree.tostring(reference.getroottree())
    assert not isinstance(ours, lxml.html.HtmlElement)  # no per-node class lookup


def test_parse_gives_lxml_html_tree_for_every_saved_page() -> None:
    from cumt_archive.extract.html import decode
    from cumt_archive.model import RawPage

    pages = _saved_pages()
    assert pages
    for path in pages:
        text = decode(RawPage(url="http://x.invalid/", body=path.read_bytes()))
        assert etree.tostring(parse_text(text).getroottree()) == etree.tostring(
            _reference_parse(text).getroottree()), path


@pytest.mark.parametrize("html,xpath", [
    ("<div><p>a</p>x<span>drop</span>tail<p>b</p></div>", "//span"),      # tail joins the previous tail
    ("<div>start<span>drop</span>tail<p>b</p></div>", "//span"),           # tail joins the parent's text
    ("<div><span>drop</span>tail</div>", "//span"),                        # parent had no text
    ("<div><p>a</p><!--c--><span>drop</span>tail</div>", "//span"),       # previous node is a comment
    ("<div><p>a</p><span>drop<b>in</b></span></div>", "//span"),           # no tail
])
def test_drop_tree_is_lxml_html_drop_tree(html: str, xpath: str) -> None:
    ours, reference = parse_text(html), lxml.html.document_fromstring(html)
    drop_tree(ours.xpath(xpath)[0])
    reference.xpath(xpath)[0].drop_tree()
    assert etree.tostring(ours) == etree.tostring(reference)


# -- block text: emphasis, line starts, page chrome, templates -----------------------------------


def _reference_resolve_emphasis(text: str, open_m: str, close_m: str, md: str, tag: str) -> str:
    markers = body_mod._MARKERS
    out: list[str] = []
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
        out.append(text[pos:start])
        inner = text[start + 1 : end].replace(open_m, "").replace(close_m, "")
        stripped = inner.strip()
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        if not markers.sub("", stripped):
            out.append(lead + stripped + trail)
        else:
            before = ("".join(out) + lead)[-1:]
            after = (trail + text[end + 1 :])[:1]
            plain = markers.sub("", stripped)
            if body_mod._flanking_ok(markers.sub("", before), plain, markers.sub("", after)) and "\\" != plain[-1:]:
                out.append(f"{lead}{md}{stripped}{md}{trail}")
            else:
                out.append(f"{lead}<{tag}>{stripped}</{tag}>{trail}")
        pos = end + 1
    return "".join(out)


_ALPHABET = ["a", "b", " ", "  ", "中", "文", "：", "。", "!", "\\", "*", "_", "1", "#", "-",
             "\x01", "\x02", "\x03", "\x04", "\x05", "\u3000", "\xa0", "打印", "关闭", "【", "】", "[", "]",
             "分享到", "返回", "收藏本页", "\n", "\t", "２", "٣", "²", "=", ">", "+", "{", "}", "{{", "%", "}}"]


def _random_texts(seed: int, count: int = 4000, longest: int = 12) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def test_resolve_emphasis_matches_reference_on_random_runs() -> None:
    for text in _random_texts(1):
        for markers in (("\x01", "\x02", "**", "strong"), ("\x03", "\x04", "*", "em")):
            assert body_mod._resolve_emphasis(text, *markers) == _reference_resolve_emphasis(text, *markers), repr(text)


def _reference_escape_line_start(text: str) -> str:
    if body_mod._LINE_START_MARKER.match(text):
        return "\\" + text
    return body_mod._LINE_START_NUMBER.sub(r"\1\\\2", text, count=1)


@pytest.mark.parametrize("text", ["", "#", "# a", "#a", "####### a", ">", "- a", "-a", "--", "+ x", "==", "= x",
                                  "1. a", "1.a", "12) b", "1234567890. c", "２. 全角", "٣. arabic", "² sup", "a1. b"])
def test_escape_line_start_matches_reference(text: str) -> None:
    assert body_mod.escape_line_start(text) == _reference_escape_line_start(text)


def test_escape_line_start_matches_reference_on_random_texts() -> None:
    for text in _random_texts(2):
        assert body_mod.escape_line_start(text) == _reference_escape_line_start(text), repr(text)


def test_page_chrome_precheck_never_hides_chrome() -> None:
    """Whatever _PAGE_CHROME matches (with markers removed, or as it is) passes the cheap pre-check."""
    chrome = ["打印本页", "【打印】", "[关闭窗口]", " 返回顶部", "\x01打印\x02 \x03关闭\x04", "分享到：微信", "收藏本页 打印",
              "\x05 【 返回 】", "\u3000打印", "分享到"]
    texts = chrome + _random_texts(3, count=6000, longest=6)
    matched = 0
    for text in texts:
        for candidate in (text, body_mod._MARKERS.sub("", text)):
            if body_mod._PAGE_CHROME.match(body_mod._MARKERS.sub("", candidate)) or body_mod._PAGE_CHROME.match(candidate):
                matched += 1
                assert body_mod._may_be_chrome(candidate), repr(candidate)
    assert matched >= len(chrome)


def test_escape_template_matches_the_substitutions() -> None:
    for text in _random_texts(4):
        expected = body_mod._TEMPLATE_CLOSE.sub("&#125;", body_mod._TEMPLATE_OPEN.sub("&#123;", text))
        assert body_mod.escape_template(text) == expected, repr(text)


# -- text-node scans outside the body ----------------------------------------------------------


def _reference_title_lines(root: Element, body: Element | None, page_title: str) -> list[str]:
    if not page_title:
        return []
    around = set(body.iterancestors()) if body is not None else set()
    found: list[str] = []
    for node in root.xpath(".//text()"):
        piece = " ".join(node.split())
        if len(piece) < 2 or piece not in page_title:
            continue
        el = node.getparent()
        if el is not None and node.is_tail:
            el = el.getparent()
        if el is None or not isinstance(el.tag, str) or el in around or el is body or el.tag in ("title", "script"):
            continue
        if body is not None and body in el.iterancestors():
            continue
        text = text_of(el)
        if not common.agrees_with_page_title(text, page_title):
            continue
        parent = el.getparent()
        while parent is not None and parent not in around and parent is not root:
            wider = text_of(parent)
            if not common.agrees_with_page_title(wider, page_title):
                break
            text, parent = wider, parent.getparent()
        found.append(text)
    return found


def _reference_lines_with(root: Element, body: Element | None, hint: re.Pattern[str]) -> list[tuple[Element, str]]:
    around = set(body.iterancestors()) if body is not None else set()
    lines: dict[Element, None] = {}
    for node in root.xpath(".//text()"):
        if not hint.search(node):
            continue
        el = node.getparent()
        if el is None or not isinstance(el.tag, str):
            continue
        if node.is_tail:
            el = el.getparent()
        while el is not None and el.tag not in common._LINE_TAGS and el is not root:
            el = el.getparent()
        if el is None or el in lines or el in around or el is body or el.tag in ("script", "style"):
            continue
        if body is not None and body in el.iterancestors():
            continue
        lines[el] = None
    return [(el, text_of(el)) for el in lines]


_PIECES = ["<p>", "</p>", "<td>", "</td>", "<span>", "</span>", "<b>", "</b>", "<br>", "<!-- c -->",
           "通知", "关于 通知", "关于\xa0通知", "关于\u3000通知", "关于\x0b通知", "  ", "\n", "2024-05-06",
           "发布时间：2021年3月5日", "19", "20", "3/5 2019", "点击：", "x", "&nbsp;", "&#11;"]


def _random_pages(seed: int, count: int = 300) -> list[str]:
    rng = random.Random(seed)
    pages = []
    for _ in range(count):
        before = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 25)))
        inside = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 10)))
        after = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 10)))
        pages.append(f"<html><head><title>关于 通知-站点</title></head><body><div id='region'>{before}"
                     f"<div id='body'>{inside}</div>{after}</div></body></html>")
    return pages


def test_title_lines_and_info_lines_match_reference_on_random_pages() -> None:
    for html in _random_pages(5):
        doc = parse_text(html)
        region, body = doc.xpath("//*[@id='region']")[0], doc.xpath("//*[@id='body']")[0]
        holder = body.getparent()
        for title in ("关于 通知-站点", "关于 通知", "通知"):
            assert common.title_lines(region, body, title) == _reference_title_lines(region, body, title), html
        ours = common._date_lines(region, body, None)
        assert [(el, text) for el, text in ours] == _reference_lines_with(region, body, common._DATE_HINT), html
        # The body is taken out of the tree for each query and put back where it was, tail and all.
        assert etree.tostring(doc, encoding=str) == etree.tostring(parse_text(html), encoding=str)
        assert body.getparent() is holder


def test_lines_of_a_region_inside_the_body_are_none() -> None:
    doc = parse_text("<html><head><title>通知</title></head><body><div id='body'><p id='inner'>通知</p>"
                     "<p>发布时间：2024-05-06</p></div><p>2023-01-02 通知</p></body></html>")
    body, inner = doc.xpath("//*[@id='body']")[0], doc.xpath("//*[@id='inner']")[0]
    assert common.title_lines(inner, body, "通知") == [] and common._date_lines(body, body, None) == []
    # the same queries from the page's root find what lies outside the body, and only that
    assert [text for _, text in common._date_lines(doc, body, None)] == ["2023-01-02 通知"]
    assert common.title_lines(doc, body, "通知") == []  # (the line says more than the title: no title line)


def _reference_innermost(found: list[Element]) -> Element | None:
    members = set(found)
    for el in reversed(found):
        if not any(d in members for d in el.iterdescendants()):
            return el
    return None


def test_innermost_body_matches_reference() -> None:
    rng = random.Random(6)
    doc = parse_text("<html><body><div id='a'><div id='b'><div id='c'><p id='d'>x</p></div></div>"
                     "<div id='e'><p id='f'>y</p></div></div><div id='g'></div></body></html>")
    els = doc.xpath("//*[@id]")
    for _ in range(500):
        found = [rng.choice(els) for _ in range(rng.randint(0, 5))]
        found.sort(key=els.index) if rng.random() < 0.5 else None
        assert vsb._innermost(found) is _reference_innermost(found), [e.get("id") for e in found]


# -- lookups by attribute ----------------------------------------------------------------------


def _reference_class_index(root: Element) -> dict[str, list[Element]]:
    by_class: dict[str, list[Element]] = {}
    for el in root.xpath("//*[@class or @portletmode]"):
        for name in el.get("class", "").split():
            by_class.setdefault(name, []).append(el)
        if el.get("portletmode") is not None:
            by_class.setdefault(PORTLET, []).append(el)
    return by_class


CLASSED = ("<html><body class='b  b'><div class='x y' portletmode='simpleList'><p class=''>a</p>"
           "<p class=' y '>b</p><span portletmode=''>c</span></div><p class='titlestyle1 x'>d</p></body></html>")


def test_class_index_matches_reference() -> None:
    documents = [parse_text(CLASSED), parse_text("<p>no classes</p>")]
    documents += [parse_text(path.read_bytes().decode("utf-8", "replace")) for path in _saved_pages()]
    for doc in documents:
        index, reference = ClassIndex(doc), _reference_class_index(doc)
        assert index._by_class == reference
        # prefixed() walks the names in first-seen order
        assert [n for n in index._by_class if n != PORTLET] == [n for n in reference if n != PORTLET]


VOTED = ("<div id='body'><p>a</p><div id='div_vote_id'>vote</div><dl class='x page'><dd>1</dd></dl>"
         "<div><span id='div_vote_id'>again</span><dl class='pages'></dl><dl>keep</dl></div></div>")


def test_vote_box_xpath_selects_what_the_element_predicate_did() -> None:
    fast = "descendant::*/@id[.='div_vote_id']/.. | descendant::dl[contains(@class,'page')]"
    for html in (VOTED, "<div id='body' class='div_vote_id'><dl id='div_vote_id'>x</dl></div>", "<div id='body'></div>"):
        body = parse_text(html).xpath("//*[@id='body']")[0]
        assert body.xpath(fast) == body.xpath(".//*[@id='div_vote_id'] | .//dl[contains(@class,'page')]")
    assert len(parse_text(VOTED).xpath("//*[@id='body']")[0].xpath(fast)) == 4


# -- whole bodies ------------------------------------------------------------------------------

_FRAGMENTS = [
    "<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<strong>", "</strong>", "<em>", "</em>", "<i>", "</i>",
    "<span>", "</span>", "<font>", "</font>", "<span style='font-size:12pt'>", "<span lang='EN-US' class='x'>",
    "<font face='宋体' size='3'>", "<span title='t'>", "<span style='DISPLAY: NONE'>", "<br>", "<h2>", "</h2>", "<ul><li>", "</li><li>", "</li></ul>",
    "<ol><li>", "</li></ol>", "<table><tr><td>", "</td><td>", "</td></tr><tr><td>", "</td></tr></table>",
    "<span style='display:none'>", "<a href='/f/a.pdf'>", "<a href='/x.htm'>", "<a href='#top'>", "</a>",
    "<img src='/i/1.jpg'>", "<img src='/i/2.png' width='0'>", "<!-- c -->", "<script>var a = 1;</script>",
    "中文", "正文内容，", "英文 text", "  ", "\n", "\n  ", "\u3000\u3000", "\xa0", "&nbsp;", "*star*", "_u_",
    "[b]", "<", "&amp;", "&lt;x&gt;", "{{ t }}", "{% x %}", "# 标题", "1. 第一", "- 项", "打印", "【关闭】",
    "分享到：", "附件：", "2024-05-06", "\t", "a", "。", "：", "!", "\\",
]


def random_bodies(seed: int = 7, count: int = 400) -> list[str]:
    """Random article bodies from fragments that exercise whitespace, emphasis, escapes, tables and links."""
    rng = random.Random(seed)
    return ["<div class='v_news_content'>" + "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 40)))
            + "</div>" for _ in range(count)]


def body_digest(html: str) -> str:
    """sha256 of what each family's converter makes of a body: its blocks and attachments."""
    import hashlib

    from cumt_archive.extract.body import BodyConverter
    from cumt_archive.extract.families import vsb as vsb_family
    from cumt_archive.extract.families import webplus

    out = []
    for family in (vsb_family, webplus):
        doc = parse_text(f"<html><body>{html}</body></html>")
        root = doc.find("body")[0]
        converter = BodyConverter("https://h.example/a/b.htm", family.image_source, family.attachment_of,
                                  family.embedded_of, hooks_ignore_runs=True)
        out.append(repr(converter.convert(root)))
    return hashlib.sha256("\n".join(out).encode()).hexdigest()


EXPECTED_BODIES = FIXTURES / "random_bodies.json"


def test_random_bodies_convert_as_before() -> None:
    """Digests written by the walk before its fast paths (commit 04bc422, where every element was walked and
    every hook asked): the walk's output is unchanged."""
    import json

    expected = json.loads(EXPECTED_BODIES.read_text(encoding="utf-8"))
    bodies = random_bodies()
    assert len(expected) == len(bodies)
    differing = [i for i, html in enumerate(bodies) if body_digest(html) != expected[i]]
    assert not differing, [bodies[i] for i in differing[:3]]


def test_hidden_style_precheck_matches_the_regex() -> None:
    rng = random.Random(8)
    pieces = ["display", "DISPLAY", "Display", "visibility", "VISIBILITY", "viſibility", "vıſıbılıty", "vİsİbİlİty",
              ":", " : ", "none", "NONE", "NoNe", "hidden", "HIDDEN", "hıdden", "hİdden", ";", " ", "block", "x"]
    styles = ["display:none", "visibility: hidden", "DISPLAY : NONE", "viſibility:hıdden", "color:red"]
    styles += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))) for _ in range(5000)]
    hidden = 0
    for style in styles:
        expected = body_mod._HIDDEN.search(style) is not None
        hidden += expected
        assert body_mod._hides(style) is expected, style
        assert body_mod._hides(style) is expected, style  # again: the verdict kept for a style is the same
    assert hidden > 20
    for n in range(10_000):  # distinct styles, as many sites' pages give: what is kept stays bounded
        assert body_mod._hides(f"width:{n}px") is False
        assert len(body_mod._HIDES) <= 4096


def test_family_hooks_keep_their_promise_about_runs() -> None:
    """Both families pass hooks_ignore_runs=True: their hooks give nothing for a presentational span/font,
    here every such run of the saved pages and hand-made ones with every presentational attribute."""
    from cumt_archive.extract.families import vsb as vsb_family
    from cumt_archive.extract.families import webplus

    attributes = " ".join(f'{name}="{value}"' for name, value in zip(
        sorted(body_mod._RUN_ATTRIBUTES), ["center", "x", "red", "rtl", "宋体", "a1", "zh", "3", "font-size:12pt", "en"]))
    made = parse_text(f"<p><span {attributes}>a</span><font {attributes}>b</font><span>c</span></p>")
    runs = [el for el in made.iter("span", "font")]
    for path in _saved_pages():
        doc = parse_text(path.read_bytes().decode("utf-8", "replace"))
        runs += [el for el in doc.iter("span", "font") if body_mod._RUN_ATTRIBUTES.issuperset(el.attrib.keys())]
    assert len(runs) > 1000
    for family in (vsb_family, webplus):
        for el in runs:
            assert family.attachment_of(el, "https://h.example/") is None
            assert family.embedded_of(el, "https://h.example/") is None


def test_needs_work_class_and_double_space_is_the_alternation() -> None:
    """_NEEDS_WORK searches for its characters alone and `"  " in text` for two spaces: the text passes
    untouched exactly when the single alternation it replaced found nothing."""
    alternation = re.compile(body_mod._NEEDS_WORK.pattern + "|  ")
    rng = random.Random(9)
    alphabet = ["中", "文", "a", " ", "  ", "\t", "\n", "\r", "\xa0", "\u3000", "\u2002", "\u2003", "\u200b", "\\",
                "`", "*", "_", "[", "]", "<", "&", "。", "\f", "\v", "\u2009"]
    texts = ["", " ", "  ", "中文  中文", "中 文"] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
                                                    for _ in range(20000)]
    flagged = 0
    for text in texts:
        expected = alternation.search(text) is not None
        flagged += expected
        assert (body_mod._NEEDS_WORK.search(text) is not None or "  " in text) is expected, repr(text)
    assert 100 < flagged < len(texts) - 100


def test_pdf_image_list_pattern_is_the_lazy_one() -> None:
    """The PDF viewer's image list is read up to the first `]` with a negated class, as the lazy `.*?`
    (re.S) it replaced read it, on hand-made and random scripts."""
    lazy = re.compile(r"vsb_pdf_image_data\s*=\s*\[(.*?)\]", re.S)
    rng = random.Random(10)
    pieces = ["vsb_pdf_image_data", " ", "\n", "=", "[", "]", '"/a/1.jpg"', "'/b/2.png'", ",", "x", "];", "\r\n"]
    scripts = ['var vsb_pdf_image_data = ["/a.jpg",\n"/b.jpg"];', "vsb_pdf_image_data=[]", "vsb_pdf_image_data = [",
               "vsb_pdf_image_data\n=\n[\n'/x.jpg'\n]\n]"]
    scripts += [rng.choice(["", "vsb_pdf_image_data = ["]) + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
                for _ in range(20000)]
    matched = 0
    for code in scripts:
        ours, reference = vsb._PDF_IMAGES.search(code), lazy.search(code)
        assert (ours and (ours.span(), ours.group(1))) == (reference and (reference.span(), reference.group(1))), code
        matched += reference is not None
    assert 1000 < matched < len(scripts) - 1000


_BLOCKED_PIECES = ["<script>x()</script>", "<script src='/a.js'></script>", "<a href='/x'>x</a>", "<a>no href</a>",
                   "<a href=''>empty</a>", "<A HREF='/y'>Y</A>", "<body>", "</body>", "<head>", "</head>", "<p>",
                   "</p>", "<!-- <script> -->", "<noscript>n</noscript>", "text", "<html>", "</html>", "<frameset>"]


def test_script_and_link_tests_match_their_xpaths() -> None:
    """classify_blocked's two tests stop at the first node that answers them; each says what its XPath did."""
    rng = random.Random(11)
    documents = ["".join(rng.choice(_BLOCKED_PIECES) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    seen: Counter[tuple[bool, bool]] = Counter()
    for html in documents:
        doc = parse_text(html)
        script, link = bool(doc.xpath("boolean(//script)")), bool(doc.xpath("boolean(//body//a[@href])"))
        assert common._has_script(doc) is script, html
        assert common._has_link(doc) is link, html
        seen[script, link] += 1
    for path in _saved_pages():
        doc = ParsedPage.of(RawPage(url="http://x.cumt.edu.cn/", body=path.read_bytes())).doc
        assert common._has_script(doc) is bool(doc.xpath("boolean(//script)")), path
        assert common._has_link(doc) is bool(doc.xpath("boolean(//body//a[@href])")), path
    assert len(seen) == 4  # every combination was met


def test_region_form_is_the_one_the_xpath_found() -> None:
    for path in _saved_pages():
        page = ParsedPage.of(RawPage(url="http://x.cumt.edu.cn/", body=path.read_bytes()))
        body = vsb._body(page.doc, page.classes)
        if body is None:
            continue
        forms = page.doc.xpath("//form[@name='_newscontent_fromname']")
        region = vsb._region(page.doc, page.markers, body)
        if forms:
            assert region is forms[0], path
        else:
            assert region.tag != "form" or region.get("name") != "_newscontent_fromname", path
    # A second <html> that libxml2 recovers after the first: the whole document is searched, in its order.
    doc = parse_text("<form name='a'></form></html><html><body><form name='_newscontent_fromname'>1</form>"
                     "<form name='_newscontent_fromname'>2</form><div id='b'></div></body></html>")
    assert len(list(doc.itersiblings())) == 1
    region = vsb._region(doc, frozenset({"form:_newscontent_fromname"}), doc.xpath("//div[@id='b']")[0])
    assert region is doc.xpath("//form[@name='_newscontent_fromname']")[0] and region.text == "1"
