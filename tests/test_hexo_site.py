"""Hexo itself builds a site from what a crawl writes: hexo 7, its marked renderer, the landscape theme.

`posts/` is used as a Hexo blog's `source/_posts` with `permalink: posts/:urlname.html`, built with
`hexo generate` (tests/hexo/build.mjs runs Hexo's own generate), and every generated post page is
checked against its Markdown: exact title, date, every image, every link, bold text and tables.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import lxml.html
import yaml

from conftest import FIXTURES, REPO, run_crawl
from hexo_client import HEXO_DIR, ensure_installed
from sitegen import GeneratedSite

SITE_CONFIG = """\
title: cumt-archive
url: http://blog.example.org
timezone: Asia/Shanghai
permalink: posts/:urlname.html
theme: landscape
"""


def rich_body(n: int) -> str:
    """Bold, a link and a table in every story, as real articles have them."""
    return (f"<p>第{n}篇要点：<strong>重点任务{n}</strong>推进，<b>加粗{n}</b>。</p>"
            f'<p>详见<a href="/notice/{n}.htm">通知（第{n}号）</a>。</p>'
            f"<table><tr><th>姓名</th><th>学院</th></tr><tr><td>张{n}</td><td>计算机学院</td></tr></table>")


def build_site(tmp_path: Path, posts: list[Path]) -> tuple[Path, list[dict]]:
    ensure_installed()
    if not (HEXO_DIR / "node_modules" / "hexo").is_dir():  # an older checkout's node_modules
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HEXO_DIR, check=True, capture_output=True)
    site = tmp_path / "blog"
    (site / "source" / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text(SITE_CONFIG, encoding="utf-8")
    deps = json.loads((HEXO_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    plugins = {k: v for k, v in deps.items() if k == "hexo" or k.startswith(("hexo-renderer-", "hexo-theme-"))}
    (site / "package.json").write_text(json.dumps({"name": "blog", "private": True,
                                                   "hexo": {"version": deps["hexo"]}, "dependencies": plugins}))
    (site / "node_modules").symlink_to(HEXO_DIR / "node_modules")
    for post in posts:
        shutil.copy(post, site / "source" / "_posts" / post.name)
    node = shutil.which("node")
    assert node, "node is needed for the Hexo site test"
    proc = subprocess.run([node, str(HEXO_DIR / "build.mjs"), str(site)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return site / "public", json.loads(proc.stdout)


def front_matter_and_body(path: Path) -> tuple[dict, str]:
    _, head, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(head), body


def unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def expected_from_markdown(body: str) -> dict[str, list]:
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", body)
    links = [(unescape_md(t), u) for t, u in re.findall(r"(?<!!)\[((?:\\.|[^\]\\])+)\]\(([^)\s]+)\)", body)]
    bold = [unescape_md(b) for b in re.findall(r"\*\*((?:\\.|[^*\\])+)\*\*", body)]
    cells = []
    for line in body.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            cells += [unescape_md(c.strip()) for c in line.strip("|").split("|")]
    return {"images": images, "links": links, "bold": bold, "cells": cells}


def seen_in_html(page: Path) -> tuple[str, str, dict[str, list]]:
    doc = lxml.html.fromstring(page.read_bytes())
    article = doc.xpath("//article")[0]
    title = article.xpath(".//h1[contains(@class, 'article-title')]")[0].text_content().strip()
    when = article.xpath(".//time/@datetime")[0]
    entry = article.xpath(".//div[contains(@class, 'article-entry')]")[0]
    seen = {
        "images": entry.xpath(".//img/@src"),
        "links": [(a.text_content(), a.get("href")) for a in entry.xpath(".//a")],
        "bold": [s.text_content() for s in entry.xpath(".//strong")],
        "cells": [c.text_content().strip() for c in entry.xpath(".//table//th | .//table//td")],
    }
    return title, when, seen


def test_hexo_generate_builds_every_crawled_post_exactly(tmp_path, mirror_factory):
    generated = GeneratedSite(tmp_path / "site")
    generated.add("webplus", 5)
    generated.add("vsb", 5)
    for story in generated.stories:
        host = "xwzx.cumt.edu.cn" if story.family == "webplus" else "news.cumt.edu.cn"
        page = generated.root / host / story.url.split(host, 1)[1].lstrip("/")
        html = page.read_text(encoding="utf-8")
        marker = "<div class='wp_articlecontent'>" if story.family == "webplus" else '<div class="v_news_content">'
        page.write_text(html.replace(marker, marker + rich_body(story.number), 1), encoding="utf-8")
    mirror = mirror_factory(generated.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, generated.list_urls, mirror.proxy_url).returncode == 0
    # And the bundled sample of cumt's real templates, through regenerate --from-html.
    sample = tmp_path / "sample"
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--quiet", "--from-html",
                           str(FIXTURES / "site"), "--archive", str(sample)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    posts = sorted((archive / "posts").glob("*.md")) + sorted((sample / "posts").glob("*.md"))
    assert len(posts) > 10

    public, built = build_site(tmp_path, posts)

    assert sorted(p["source"] for p in built) == sorted(f"_posts/{p.name}" for p in posts)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    rich = 0
    for post in posts:
        meta, body = front_matter_and_body(post)
        page = public / "posts" / f"{meta['urlname']}.html"
        assert page.is_file(), post
        title, when, seen = seen_in_html(page)
        assert title == meta["title"], post
        shown = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(shanghai).replace(tzinfo=None)
        assert shown == meta["date"], post
        expected = expected_from_markdown(body)
        assert seen["images"] == expected["images"], post
        assert [(unescape(t), u) for t, u in seen["links"]] == expected["links"], post
        assert seen["bold"] == expected["bold"], post
        assert seen["cells"] == expected["cells"], post
        if post.parent == archive / "posts":
            assert expected["images"], post  # every generated story has a picture
        if "重点任务" in body:
            rich += 1
            n = re.search(r"重点任务(\d+)", body).group(1)
            assert f"重点任务{n}" in seen["bold"] and f"加粗{n}" in seen["bold"]
            assert (f"通知（第{n}号）", next(u for _, u in expected["links"] if u.endswith(f"/notice/{n}.htm"))) \
                in seen["links"]
            assert seen["cells"][:4] == ["姓名", "学院", f"张{n}", "计算机学院"]
    assert rich == 10
