import datetime as dt

import yaml

from cumt_archive.model import Article, ImageBlock, Media, TextBlock
from cumt_archive.profile import load_profile
from cumt_archive.render import RenderOptions, render, yaml_scalar
from cumt_archive.urls import canonical_url, urlname

PROFILE = load_profile("cumt")


def make_article(title="标题", blocks=(TextBlock("段落"),), attachments=(), url="https://xwzx.cumt.edu.cn/1/2/c1a2/page.htm"):
    return Article(url=url, canonical_url=canonical_url(url), urlname=urlname(url), family="webplus", title=title,
                   published=dt.datetime(2024, 5, 6, 7, 8, 9), published_raw="2024-05-06 07:08:09",
                   blocks=tuple(blocks), attachments=tuple(attachments))


def front(text):
    head = text.split("---\n")[1]
    return yaml.safe_load(head)


def test_hostile_titles_stay_exact_strings():
    for title in ("学术报告: x", "[视频]四季矿大", "@矿大青年: 你好", "2024", "yes", "null", " lead", "a #b",
                  "'quoted'", '"dq"', "{{ x }}", "50%", "*star", "!bang", "a\\b", "trail:", "- dash", "? q"):
        data = front(render(make_article(title=title), PROFILE))
        assert data["title"] == f"中国矿业大学->{title} | cumt.net.cn", title


def test_bare_values_are_exact_strings_too():
    for value in ("2024", "yes", "学术报告: x", "[视频]四季矿大", "@a", "1e3", "0x1F", "2024-01-01", "~", "on"):
        assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": value}, value


def test_plain_when_safe_like_the_seed():
    assert yaml_scalar("中国矿业大学->总务部举行报告会 | cumt.net.cn") == "中国矿业大学->总务部举行报告会 | cumt.net.cn"


def test_seed_layout_puts_media_after_text_and_source_last():
    article = make_article(blocks=(TextBlock("一"), ImageBlock(Media("http://a/1.jpg")), TextBlock("二")),
                           attachments=(Media("http://a/f.pdf", "名单.pdf"),))
    text = render(article, PROFILE)
    body = text.split("---\n", 2)[2]
    assert body == ("\n\n标题\n\n一\n\n二\n\n\n\n![图](http://a/1.jpg)\n\n[名单.pdf](http://a/f.pdf)\n\n"
                    "[转入文章首发地址](http://xwzx.cumt.edu.cn/1/2/c1a2/page.htm)")


def test_inline_layout_keeps_images_in_place():
    article = make_article(blocks=(TextBlock("一"), ImageBlock(Media("http://a/1.jpg")), TextBlock("二")))
    body = render(article, PROFILE, RenderOptions(layout="inline")).split("---\n", 2)[2]
    assert body == "\n\n标题\n\n一\n\n![图](http://a/1.jpg)\n\n二\n\n[转入文章首发地址](http://xwzx.cumt.edu.cn/1/2/c1a2/page.htm)"


def test_local_media_links_fall_back_to_the_original_when_missing():
    article = make_article(blocks=(ImageBlock(Media("http://a/1.jpg")), ImageBlock(Media("http://a/2.jpg"))))
    options = RenderOptions(media_links="local", local_link=lambda m: "../media/x/1.jpg" if m.url.endswith("1.jpg") else None)
    body = render(article, PROFILE, options)
    assert "![图](../media/x/1.jpg)" in body and "![图](http://a/2.jpg)" in body


def test_front_matter_keys_in_order():
    text = render(make_article(), PROFILE)
    keys = [line.split(":")[0] for line in text.split("---\n")[1].splitlines() if not line.startswith("- ")]
    assert keys == ["title", "date", "urlname", "tags", "categories"]
    assert front(text)["date"] == dt.datetime(2024, 5, 6, 7, 8, 9)
