"""Real clients: Hexo's front-matter parser, its Nunjucks pass and marked read what we write."""

from __future__ import annotations

from html import unescape

from cumt_archive.extract import extract_article
from cumt_archive.model import Article, RawPage
from cumt_archive.profile import load_profile
from cumt_archive.render import render
from conftest import run_crawl
from hexo_client import hexo_read
from sitegen import GeneratedSite
from test_extract_snippets import webplus

PROFILE = load_profile("cumt")
HOSTILE_TITLES = ["学术报告: x", "[视频]四季矿大", "@矿大青年: 你好", "2024", "yes", "null", "#话题", "a: b # c",
                  "'单引号'", '"双引号"', "{{ 模板 }}", "{% 标签 %}", "- 列表", "> 引用", "100%", "!重要", "*星", "&符号",
                  "|竖线", "~", "2024-01-01", "true", "1e3", "标题\\反斜杠", "   前后空格   "]


def write_article(tmp_path, i: int, title: str, body_html: str, meta: str = "发布时间：2024-05-06 08:09:10"):
    url = f"https://xwzx.cumt.edu.cn/12/34/c523a{1000 + i}/page.htm"
    article = extract_article(RawPage(url=url, body=webplus(body_html, title=title, meta=meta).encode("utf-8")))
    assert isinstance(article, Article), article
    path = tmp_path / f"a{i}.md"
    path.write_text(render(article, PROFILE), encoding="utf-8")
    return path, article


def test_hexo_reads_hostile_titles_exactly(tmp_path):
    files = {}
    for i, title in enumerate(HOSTILE_TITLES):
        path, article = write_article(tmp_path, i, title, "<p>正文</p>")
        files[str(path)] = article
    seen = hexo_read([tmp_path / p for p in files])
    for path, article in files.items():
        result = seen[path]
        assert result["ok"], result
        assert result["titleType"] == "string"
        assert result["title"] == f"中国矿业大学->{article.title} | cumt.net.cn"
        assert result["date"] == [2024, 5, 6, 8, 9, 10]
        assert result["urlname"] == article.urlname
        assert result["tags"] == ["中国矿业大学"]
        assert result["categories"] == ["cumt.net.cn", "中国矿业大学"]
        assert result["keys"] == ["title", "date", "urlname", "tags", "categories"]
        assert result["nunjucksUnchanged"], path


def test_marked_renders_bold_links_tables_and_template_text(tmp_path):
    path, _ = write_article(tmp_path, 99, "渲染", (
        "<p><strong>重点任务：</strong>推进改革</p><p>这是<b>重点</b>内容</p>"
        '<p>详见<a href="/notice.htm">通知（全文）</a>。</p>'
        "<table><tr><th>姓名</th><th>学院</th></tr><tr><td>张三</td><td>计算机</td></tr></table>"
        "<p>公式 {{ x }} 与 {% if %} 保留</p><p>[视频]四季矿大 *星号* _下划线_</p>"
    ))
    result = hexo_read([path])[str(path)]
    html = result["html"]
    assert "<strong>重点任务：</strong>推进改革" in html
    assert "这是<strong>重点</strong>内容" in html
    assert '<a href="https://xwzx.cumt.edu.cn/notice.htm">通知（全文）</a>' in html
    assert "<table>" in html and "<th>姓名</th>" in html and "<td>张三</td>" in html
    assert "<p>公式 {{ x }} 与 {% if %} 保留</p>" in unescape(html)  # what the reader sees
    assert "[视频]四季矿大 *星号* _下划线_" in html
    assert result["nunjucksUnchanged"]


def test_hexo_reads_every_file_a_crawl_writes(tmp_path, mirror_factory):
    site = GeneratedSite(tmp_path / "site")
    site.add("webplus", 5)
    site.add("vsb", 5)
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    files = sorted((archive / "posts").glob("*.md"))
    assert len(files) == 10
    seen = hexo_read(files)
    by_title = {s.title: s for s in site.stories}
    for path in files:
        result = seen[str(path)]
        assert result["ok"] and result["titleType"] == "string"
        story = by_title[result["title"].removeprefix("中国矿业大学->").removesuffix(" | cumt.net.cn")]
        assert result["date"] == [story.date.year, story.date.month, story.date.day, 0, 0, 0]
        assert "<img" in result["html"]
        assert result["nunjucksUnchanged"]
