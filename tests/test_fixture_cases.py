"""Every saved page in tests/fixtures checked field by field.

A case is a directory holding the raw body bytes, info.json (url, status,
headers) and expected.json, so any archived page becomes a test by copying it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cumt_archive.extract import extract_article, extract_list
from cumt_archive.model import Article, NotArticle, RawPage
from cumt_archive.profile import load_profile
from cumt_archive.render import render

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE_CASES = sorted(p for p in (FIXTURES / "pages").iterdir() if p.is_dir())
LIST_CASES = sorted(p for p in (FIXTURES / "lists").iterdir() if p.is_dir())


def load_case(case: Path) -> tuple[RawPage, dict]:
    info = json.loads((case / "info.json").read_text(encoding="utf-8"))
    page = RawPage(url=info["url"], body=(case / "body.html").read_bytes(), status=info.get("status", 200),
                   headers=info.get("headers", {}))
    return page, json.loads((case / "expected.json").read_text(encoding="utf-8"))


def test_there_are_cases_for_both_families():
    names = [c.name for c in PAGE_CASES]
    assert sum(n.startswith("wp-") for n in names) >= 10 and sum(n.startswith("vsb-") for n in names) >= 5
    assert len(LIST_CASES) >= 8


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda p: p.name)
def test_article_case(case: Path):
    page, expected = load_case(case)
    result = extract_article(page)
    if expected["kind"] == "not_article":
        assert isinstance(result, NotArticle), f"{case.name}: archived a page that is not an article"
        assert result.reason == expected["reason"]
        return
    assert isinstance(result, Article), f"{case.name}: {result}"
    assert result.title == expected["title"]
    assert f"{result.published:%Y-%m-%d %H:%M:%S}" == expected["date"]
    assert result.text_blocks == expected["text_blocks"]
    assert [m.url for m in result.images] == expected["images"]
    assert [{"name": m.name, "url": m.url} for m in result.attachments] == expected["attachments"]


def test_golden_seed_document_is_rebuilt_byte_for_byte():
    case = FIXTURES / "pages" / "seed-xwzx"
    page, _ = load_case(case)
    article = extract_article(page)
    assert isinstance(article, Article)
    expected = (case / "expected.md").read_bytes()
    assert render(article, load_profile("cumt")).encode("utf-8") == expected


@pytest.mark.parametrize("case", LIST_CASES, ids=lambda p: p.name)
def test_list_case(case: Path):
    page, expected = load_case(case)
    listing = extract_list(page)
    assert listing.family == expected["family"]
    got = [{"url": i.url, "title": i.title, "date": i.date.isoformat() if i.date else None} for i in listing.items]
    assert got == expected["items"]
    assert listing.total_pages == expected["total_pages"]
