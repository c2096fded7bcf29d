"""How an Article travels between processes (Article.__reduce__): it comes back equal, field for field."""

from __future__ import annotations

import copy
import dataclasses
import pickle

from cumt_archive.extract import extract_article
from cumt_archive.model import Article, ImageBlock, Media, RawPage, TextBlock, _text_block
from conftest import FIXTURES

PAGES = sorted(p for p in (FIXTURES / "pages").glob("*/body.html"))


def _articles() -> list[Article]:
    found = []
    for i, path in enumerate(PAGES):
        result = extract_article(RawPage(url=f"http://w{i}.cumt.edu.cn/a/c1a{i}/page.htm", body=path.read_bytes()))
        if isinstance(result, Article):
            found.append(result)
    return found


def _same(one: Article, other: Article) -> bool:
    return (one == other and repr(one) == repr(other) and one.blocks == other.blocks
            and [type(b) for b in one.blocks] == [type(b) for b in other.blocks]
            and [b.image.shown for b in one.blocks if isinstance(b, ImageBlock)]
            == [b.image.shown for b in other.blocks if isinstance(b, ImageBlock)]  # (not in repr or ==)
            and [m.shown for m in one.attachments] == [m.shown for m in other.attachments]
            and type(other.blocks) is tuple and type(other.attachments) is tuple)


def test_articles_come_back_from_pickle_as_they_went():
    articles = _articles()
    assert len(articles) >= 5
    assert any(isinstance(b, ImageBlock) for a in articles for b in a.blocks)
    assert any(a.attachments for a in articles)
    for article in articles:
        for protocol in (pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
            assert _same(article, pickle.loads(pickle.dumps(article, protocol=protocol)))
        assert _same(article, copy.deepcopy(article))


def test_the_story_key_travels_once_taken_and_only_then():
    article = _articles()[0]
    fresh = pickle.loads(pickle.dumps(article))
    assert "story_key" not in fresh.__dict__  # not taken: not sent, taken where it is asked for
    key = article.story_key
    carried = pickle.loads(pickle.dumps(article))
    assert carried.__dict__["story_key"] == key == fresh.story_key


def test_hand_made_articles_with_every_kind_of_part_round_trip():
    import datetime as dt

    article = Article(
        url="http://w.cumt.edu.cn/a.htm", canonical_url="http://w.cumt.edu.cn/a.htm", urlname="x" * 32,
        family="webplus", title="标题", published=dt.datetime(2024, 5, 17, 8, 30), published_raw="2024-05-17 08:30",
        blocks=(TextBlock("第一段"), ImageBlock(Media("http://w.cumt.edu.cn/1.jpg", "图", "http://w.cumt.edu.cn/s.jpg")),
                TextBlock(""), TextBlock("(1, 2)"), ImageBlock(Media("http://w.cumt.edu.cn/2.jpg"))),
        attachments=(Media("http://w.cumt.edu.cn/f.pdf", "附件.pdf"),), origin_id="1234")
    assert _same(article, pickle.loads(pickle.dumps(article)))


def test_fast_text_blocks_are_text_blocks():
    """_text_block skips TextBlock's __init__: it must set every field that __init__ sets."""
    assert [f.name for f in dataclasses.fields(TextBlock)] == ["markdown", "kind"]
    made, made_fast = TextBlock("段落 **粗**"), _text_block("段落 **粗**")
    assert made_fast == made and repr(made_fast) == repr(made) and hash(made_fast) == hash(made)
    assert made_fast.__dict__ == made.__dict__
