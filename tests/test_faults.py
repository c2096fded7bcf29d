"""A column of faulty and hostile pages, crawled for real: keep the good, keep nothing bad, say what happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cumt_archive.urls import urlname
from conftest import run_crawl
from hexo_client import hexo_read
from sitegen import tiny_png
from test_extract_snippets import webplus

HOST = "faults.cumt.edu.cn"
BASE = f"http://{HOST}"


def article_path(n: int) -> str:
    return f"/ff/{n:02x}/c900a{n}/page.htm"


GOOD = {  # n -> (title, body html, charset for the page bytes, where the charset is declared)
    1: ("重试后成功的新闻", "<p>服务器前两次出错，第三次成功。</p>", "utf-8", "meta"),
    2: ("学术报告: x", "<p>冒号标题。</p>", "utf-8", "meta"),
    3: ("[视频]四季矿大", "<p>方括号标题。</p>", "utf-8", "meta"),
    4: ("@矿大青年: 你好", "<p>at 开头的标题。</p>", "utf-8", "meta"),
    5: ("2024", "<p>数字标题。</p>", "utf-8", "meta"),
    6: ("GBK编码的新闻（响应头）", "<p>这一页用GBK编码，字符集只在响应头里。</p>", "gbk", "header"),
    7: ("GBK编码的新闻（meta）", "<p>这一页用GBK编码，字符集只在meta里。</p>", "gbk", "meta"),
    8: ("畸形HTML的新闻", "<p>第一段<p>第二段</span></td></div><p>第三段", "utf-8", "meta"),
    9: ("图片路径试图越界", '<p>正文。</p><p><img src="/_upload/article/images/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/evil.png">'
        '</p><p><img src="/../../../../../tmp/cumt-evil.png"></p>', "utf-8", "meta"),
    10: ("图片下载失败的新闻", '<p>图片不存在，文章仍要保存。</p><p><img src="/_upload/article/images/missing.png"></p>',
         "utf-8", "meta"),
    11: ("模板语法 {{ x }}", "<p>含有 {{ x }} 与 {% y %} 的正文。</p>", "utf-8", "meta"),
}
BAD = {  # n -> route making the page fail, and the words the log must say about it
    20: ({"always_status": 500}, "HTTP 500"),
    21: ({"file": "pages/21.htm", "truncate": True}, "story failed"),
    22: ({"status": 302, "location": "http://authserver.cumt.edu.cn/authserver/login?service=x"}, "login"),
    23: ({"delay": 4, "file": "pages/23.htm"}, "story failed"),
    24: ({"file": "pages/24.htm"}, "story failed"),  # larger than the DOWNLOAD_MAXSIZE given to this crawl
    25: ({"always_status": 404}, "HTTP 404"),
    26: ({"status": 302, "location": "http://mp.weixin.qq.com/s/offsite-story"}, "off-site"),
}
CHALLENGE_HOST = "waf.cumt.edu.cn"


def build_site(root: Path) -> None:
    host_dir = root / HOST
    items = []
    for n, (title, body, charset, where) in GOOD.items():
        html = webplus(body, title=title, meta="发布时间：2024-06-01")
        if charset != "utf-8":
            html = html.replace('<meta charset="utf-8">', "" if where == "header" else
                                '<meta http-equiv="Content-Type" content="text/html; charset=gbk">')
        path = host_dir / article_path(n).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(html.encode(charset))
        items.append((article_path(n), title))
    routes: dict[str, dict] = {article_path(1): {"fail_times": 2, "file": article_path(1).lstrip("/")}}
    routes[article_path(6)] = {"file": article_path(6).lstrip("/"),
                               "headers": {"Content-Type": "text/html; charset=GBK"}}
    routes[article_path(7)] = {"file": article_path(7).lstrip("/"), "headers": {"Content-Type": "text/html"}}
    (host_dir / "pages").mkdir(parents=True, exist_ok=True)
    for n, (route, _) in BAD.items():
        routes[article_path(n)] = route
        items.append((article_path(n), f"坏页面{n}"))
        padding = "<p>" + "很长的段落。" * 40000 + "</p>" if n == 24 else "<p>正文内容。</p>" * 50
        (host_dir / "pages" / f"{n}.htm").write_text(webplus(padding, title=f"坏页面{n}"), encoding="utf-8")
    login = root / "authserver.cumt.edu.cn"
    login.mkdir(parents=True)
    (login / "_routes.json").write_text(json.dumps({"/authserver/login?service=x": {
        "body": "<html><head><title>统一身份认证</title></head><body><form><input name='username'>"
                "<input type='password' name='password'></form></body></html>"}}), encoding="utf-8")
    images = host_dir / "_upload" / "article" / "images"
    images.mkdir(parents=True, exist_ok=True)
    (images / "ok.png").write_bytes(tiny_png(1))
    (host_dir / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
    # A host behind a firewall that challenges every request: after its first 412 it must hear nothing more.
    waf = root / CHALLENGE_HOST
    waf.mkdir(parents=True)
    challenge = {"status": 412, "body": "<html><script>eval(atob('eA=='))</script></html>"}
    (waf / "_routes.json").write_text(json.dumps({f"/aa/0{n}/c1a{n}/page.htm": challenge for n in (1, 2, 3, 4)}),
                                      encoding="utf-8")
    for n in (1, 2, 3, 4):
        items.append((f"http://{CHALLENGE_HOST}/aa/0{n}/c1a{n}/page.htm", f"防火墙{n}"))
    listing = "".join(f"<li><span class='Article_Title'><a href='{href}'>{t}</a></span>"
                      f"<span class='Article_PublishDate'>2024-06-01</span></li>" for href, t in items)
    (host_dir / "900").mkdir()
    (host_dir / "900" / "list.htm").write_text(
        f"<html><head><meta charset='utf-8'></head><body><div portletmode='simpleList'>"
        f"<ul class='wp_article_list'>{listing}</ul></div></body></html>", encoding="utf-8")


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    from cumt_archive.mirror import MirrorServer

    root = tmp_path_factory.mktemp("faults")
    build_site(root / "site")
    # The crawl runs in a folder of its own, with its own HOME and TMPDIR inside it, so that any file
    # written anywhere but the archive (working directory, home, temporary files) is seen.
    workdir = root / "work"
    for folder in ("home", "tmp"):
        (workdir / folder).mkdir(parents=True)
    archive = workdir / "archive"
    with MirrorServer(root / "site") as mirror:
        result = run_crawl(archive, [f"{BASE}/900/list.htm"], mirror.proxy_url,
                           "-s", "DOWNLOAD_TIMEOUT=1", "-s", "DOWNLOAD_MAXSIZE=400000", cwd=workdir,
                           env={"HOME": str(workdir / "home"), "TMPDIR": str(workdir / "tmp")})
        requests = list(mirror.requests)
    return root, archive, result, requests


def posts_by_urlname(archive: Path) -> dict[str, Path]:
    return {yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])["urlname"]: p
            for p in (archive / "posts").glob("*.md")}


def test_good_stories_are_archived_exactly(faulty_crawl):
    _, archive, result, _ = faulty_crawl
    posts = posts_by_urlname(archive)
    assert set(posts) == {urlname(BASE + article_path(n)) for n in GOOD}
    seen = hexo_read(list(posts.values()))
    for n, (title, _, _, _) in GOOD.items():
        path = posts[urlname(BASE + article_path(n))]
        assert seen[str(path)]["title"] == f"中国矿业大学->{title} | cumt.net.cn"
        assert seen[str(path)]["titleType"] == "string"
        assert seen[str(path)]["nunjucksUnchanged"]
    gbk = posts[urlname(BASE + article_path(6))].read_text(encoding="utf-8")
    assert "这一页用GBK编码，字符集只在响应头里。" in gbk
    assert "这一页用GBK编码，字符集只在meta里。" in posts[urlname(BASE + article_path(7))].read_text(encoding="utf-8")
    malformed = posts[urlname(BASE + article_path(8))].read_text(encoding="utf-8")
    assert "\n\n第一段\n\n第二段\n\n第三段\n\n" in malformed


def test_bad_pages_are_not_archived_and_each_is_one_log_line_with_its_url(faulty_crawl):
    _, archive, result, _ = faulty_crawl
    posts = posts_by_urlname(archive)
    for n, (_, words) in BAD.items():
        url = BASE + article_path(n)
        assert urlname(url) not in posts
        lines = [line for line in result.log.splitlines() if url in line and ("ERROR" in line or "WARNING" in line)]
        assert any(words in line for line in lines), (url, lines)
    assert result.returncode == 1  # stories failed; they are retried by the next run
    assert "Traceback" not in result.log  # network errors and bad pages are lines, never tracebacks


def test_challenge_stops_requests_to_that_host(faulty_crawl):
    _, archive, result, requests = faulty_crawl
    asked = [u for u in requests if CHALLENGE_HOST in u and not u.endswith("/robots.txt")]
    assert len(asked) == 1, asked
    assert f"no more requests to {CHALLENGE_HOST}" in result.log
    assert not any(CHALLENGE_HOST in p.name for p in (archive / "posts").glob("*.md"))
    import sqlite3

    db = sqlite3.connect(archive / "index.sqlite")
    rows = db.execute("SELECT status FROM articles WHERE url LIKE ?", (f"%{CHALLENGE_HOST}%",)).fetchall()
    assert sorted(rows) == [("failed",)] * 4  # all four are tried again next run


def test_nothing_is_written_outside_the_archive(faulty_crawl):
    root, archive, _, _ = faulty_crawl
    work = root / "work"
    outside = [p for p in work.rglob("*") if archive not in p.parents and p != archive
               and p not in (work / "home", work / "tmp")]
    assert outside == []  # nothing in the working directory, HOME or TMPDIR of the crawl
    assert not Path("/tmp/cumt-evil.png").exists() and not Path("/etc/evil.png").exists()
    assert not [u for u in faulty_crawl[3] if "weixin" in u]  # a redirect off-site is not followed
    for path in archive.rglob("*"):
        assert path.resolve().is_relative_to(archive.resolve())
    # the traversal images were fetched as plain URLs and stored under hashed names
    assert all(len(p.stem) == 40 for p in (archive / "media").rglob("*") if p.is_file())


def test_failed_image_keeps_its_article_and_failures_are_retried(faulty_crawl):
    _, archive, result, _ = faulty_crawl
    post = posts_by_urlname(archive)[urlname(BASE + article_path(10))].read_text(encoding="utf-8")
    assert "![图](http://faults.cumt.edu.cn/_upload/article/images/missing.png)" in post
    import sqlite3

    db = sqlite3.connect(archive / "index.sqlite")
    failed = {row[0] for row in db.execute("SELECT url FROM articles WHERE status='failed'")}
    assert {BASE + article_path(n) for n in (20, 21, 23, 24)} <= failed
    gone = {row[0] for row in db.execute("SELECT url FROM articles WHERE status='gone'")}
    assert BASE + article_path(25) in gone  # recorded, not retried as a failure
