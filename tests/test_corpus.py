"""Extraction over every real page in ../shared/corpus (webplus, vsb, sites), against what can be stated.

The corpus lies beside the repository (CI clones the project next to ../shared); without it these tests
skip. For sites/ the statements are its hand-read expected.json (title, date, first and last paragraph,
image count, attachments, videos; list pages: item count, first title, total pages). For webplus/ and
vsb/ they are the facts their PROVENANCE.md states plus the rule that holds for every page: a list page
never gives an article, an article's title is the one `<title>` names.

Run as a script (`python tests/test_corpus.py`) to print the per-page table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cumt_archive.extract import extract_article, extract_list
from cumt_archive.extract.common import agrees_with_page_title
from cumt_archive.model import Article, NotArticle, RawPage

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
HAVE_CORPUS = (CORPUS / "sites" / "expected.json").is_file()
pytestmark = pytest.mark.skipif(not HAVE_CORPUS, reason=f"no reference corpus at {CORPUS}")

# webplus/ and vsb/ pages: the family, and for articles the date the info line shows (None: shows none).
FLAT_ARTICLES = {
    "webplus/fudan-cs-article-1.html": "2022-11-07", "webplus/fudan-cs-article-2.html": "2024-09-19",
    "webplus/fudan-cs-article-3.html": "2022-11-07", "webplus/fudan-cs-article-4.html": "2011-11-02",
    "webplus/fudan-cs-article-5.html": None, "webplus/fudan-cs-article-6.html": "2024-08-12",
    "webplus/hdu-jwc-article-1.html": "2026-03-26", "webplus/nju-itsc-article-1.html": "2021-07-16",
    "webplus/nju-itsc-article-2.html": "2021-04-09", "vsb/cqjtu-article-1.html": "2021-12-24",
    "vsb/nuc-article-1.html": "2021-06-01 10:09", "vsb/nuc-article-2.html": "2017-09-07 16:00",
    "vsb/nuc-article-3.html": "2014-12-26 10:15", "vsb/szyz1cz-article-1.html": "2025-03-10",
}
# Total pages that a column's first page states (deeper pages' counts are stale, so None there).
FLAT_LIST_TOTALS = {
    "vsb/nuc-list-1.html": 30, "vsb/nuc-list-3.html": None, "vsb/cqjtu-list-1.html": 18,
    "vsb/szyz1cz-list-1.html": 2, "webplus/hdu-jwc-list-1.html": 20, "webplus/nju-itsc-list-1.html": 9,
    "webplus/fudan-cs-list-1.html": 13,
}
# List items whose links the copier of a sites/ page replaced with `javascript:;`: no URL, so no item.
COPIER_BROKEN_ITEMS = {"www.hcdd.cq.cn/index/xyxw/39.htm": 20, "www.tztvu.com.cn/index/xydt.htm": 2}
DEEPER_PAGES = {"www.hcdd.cq.cn/index/xyxw/39.htm"}  # page 2 of its column (VSB numbers files backwards)
_MD = re.compile(r"\\(?=[\\`*_\[\]<&#>+\-.!|])|\*\*|</?(?:strong|em)>|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:<[^>]*>|[^)]*)\)")


def _pages() -> list[Path]:
    if not HAVE_CORPUS:
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".htm", ".html"))


def _expected() -> dict[str, dict]:
    if not HAVE_CORPUS:
        return {}
    return {e["path"]: e for e in json.loads((CORPUS / "sites" / "expected.json").read_text(encoding="utf-8"))}


def _rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def _page(path: Path, expected: dict | None) -> RawPage:
    url = expected["url"] if expected else f"http://corpus.invalid/{_rel(path)}"
    return RawPage(url, path.read_bytes())


def _page_title(path: Path) -> str:
    match = re.search(r"<title>(.*?)</title>", path.read_text(encoding="utf-8-sig", errors="replace"), re.S | re.I)
    return " ".join(match.group(1).split()) if match else ""


def paragraphs(article: Article) -> list[str]:
    """Body paragraphs as a reader sees them (expected.json's convention): markup dropped, whitespace
    collapsed; a table's paragraphs are its non-empty cells, row by row."""
    out: list[str] = []
    for block in article.text_blocks:
        block = block.lstrip("#").strip() if block.startswith("#") else block
        lines = block.split("\n")
        if block.startswith("| ") and len(lines) > 1 and lines[1].startswith("| ---"):
            cells = [c for row in lines[:1] + lines[2:] for c in re.split(r"(?<!\\)\|", row)[1:-1]]
            pieces = [c for cell in cells for c in cell.split("<br>")]
        else:
            pieces = [block]
        for piece in pieces:
            text = " ".join(_MD.sub("", _LINK.sub(r"\1", piece)).replace("\\|", "|").split())
            if text:
                out.append(text)
    return out


def _date(article: Article) -> str:
    shown = f"{article.published:%Y-%m-%d %H:%M}"
    return shown[:10] if shown.endswith(" 00:00") else shown


def row(path: Path, expected: dict | None) -> dict:
    """What extraction makes of one corpus page, in the terms of expected.json."""
    page = _page(path, expected)
    result = extract_article(page)
    out: dict = {"path": _rel(path)}
    if isinstance(result, NotArticle):
        out.update(kind="not_article", reason=str(result.reason), detail=result.detail)
    else:
        paras = paragraphs(result)
        out.update(kind="article", family=result.family, title=result.title, date=_date(result),
                   first_para=paras[0][:30] if paras else None, last_para=paras[-1][-30:] if paras else None,
                   n_images=len(result.images), attachments=[m.name for m in result.attachments],
                   attachment_urls=[m.url for m in result.attachments])
    is_list = (expected or {}).get("list") or "-list-" in path.name
    if is_list:
        listing = extract_list(page)
        out.update(list_family=listing.family, n_items=len(listing.items), total_pages=listing.total_pages,
                   first_item_title=listing.items[0].title if listing.items else None)
    return out


PAGES = _pages()
EXPECTED = _expected()


def test_the_corpus_is_all_here():
    assert len(PAGES) >= 40
    assert all(str(p.relative_to(CORPUS / "sites")) in {_rel(q)[6:] for q in PAGES} for p in
               (CORPUS / "sites" / e for e in EXPECTED))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: _rel(p))
def test_corpus_page(path: Path):
    rel = _rel(path)
    expected = EXPECTED.get(rel[len("sites/"):]) if rel.startswith("sites/") else None
    got = row(path, expected)
    family = expected["family"] if expected else rel.split("/", 1)[0]
    if (expected or {}).get("list") or "-list-" in path.name:
        assert got["kind"] == "not_article", f"{rel}: a list page gave an article"
        assert got["list_family"] == family
        assert got["n_items"] > 0 or COPIER_BROKEN_ITEMS.get(rel[len("sites/"):])
        if expected:
            broken = COPIER_BROKEN_ITEMS.get(rel[len("sites/"):], 0)
            # Deeper pages' counts go stale, so extraction states a total only on a column's first page.
            total = expected["total_pages"] if rel[len("sites/"):] not in DEEPER_PAGES else None
            assert (got["n_items"] + broken, got["total_pages"]) == (expected["n_items"], total)
            if broken < expected["n_items"]:
                assert got["first_item_title"] == expected["first_item_title"]
        elif rel in FLAT_LIST_TOTALS:
            assert got["total_pages"] == FLAT_LIST_TOTALS[rel]
        return
    date = expected["date"] if expected else FLAT_ARTICLES[rel]
    if date is None:  # an article that shows no date is refused, and says so
        assert (got["kind"], got.get("reason")) == ("not_article", "no_date"), got
        return
    assert got["kind"] == "article", got
    assert got["family"] == family
    assert got["date"] == date
    if expected is None:
        assert agrees_with_page_title(got["title"], _page_title(path)), (got["title"], _page_title(path))
        return
    assert got["title"] == expected["title"]
    assert (got["first_para"], got["last_para"]) == (expected["first_para"], expected["last_para"])
    assert got["n_images"] in expected.get("n_images_ok", [expected["n_images"]])
    videos = expected.get("media", [])
    # Links the copier replaced with javascript: have no URL to archive; the rest are named as shown.
    assert [n for n, u in zip(got["attachments"], got["attachment_urls"]) if u not in videos] == [
        a for a in expected["attachments"]]
    assert [u for u in got["attachment_urls"] if u in videos] == videos


def main() -> None:
    print(f"{'page':58} {'result':12} {'title':26} {'date':16} img att  first/last paragraph")
    for path in PAGES:
        rel = _rel(path)
        expected = EXPECTED.get(rel[len("sites/"):]) if rel.startswith("sites/") else None
        got = row(path, expected)
        if "list_family" in got:
            print(f"{rel:58} {'LIST ' + got['list_family']:12} items={got['n_items']} pages={got['total_pages']}"
                  f" ({got['kind']}{': ' + got.get('reason', '') if got['kind'] == 'not_article' else ''})")
        elif got["kind"] == "not_article":
            print(f"{rel:58} {'refused':12} {got['reason']}: {got['detail'][:60]}")
        else:
            print(f"{rel:58} {'article':12} {got['title'][:24]:26} {got['date']:16} {got['n_images']:3} "
                  f"{len(got['attachments']):3}  {got['first_para'] or '-'} / {got['last_para'] or '-'}")


if __name__ == "__main__":
    main()
