"""Hostile servers and hostile input, on loopback: each finding of the archive's fault review, as a crawl.

Every test runs `scrapy crawl cumt` as a real process through the mirror proxy on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO, crawl_command, crawl_env, run_crawl
from sitegen import GeneratedSite


@pytest.fixture
def site(tmp_path):
    return GeneratedSite.two_columns(tmp_path / "site", 5)


class CountingServer:
    """A loopback HTTP server that only counts who reached it: an 'internal service' nobody may touch."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(b"\x89PNG secret")

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "CountingServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def article_file(site: GeneratedSite, story) -> Path:  # type: ignore[no-untyped-def]
    host, path = story.url.split("://", 1)[1].split("/", 1)
    return site.root / host / path


def db_rows(archive: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(archive / "index.sqlite")
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_media_at_internal_addresses_are_never_requested(site, tmp_path, mirror_factory):
    story = site.of("webplus")[0]
    with CountingServer() as internal:
        page = article_file(site, story)
        html = page.read_text(encoding="utf-8").replace(
            "</div></div></div></div>",
            '<p><img src="http://169.254.169.254/latest/meta-data/x.png"></p>'
            f'<p><img src="http://127.0.0.1:{internal.port}/direct.png"></p>'
            '<p><img src="http://localhost/local.png"></p>'
            '<p><img src="/_upload/article/images/redirects.png"></p></div></div></div></div>', 1)
        page.write_text(html, encoding="utf-8")
        (site.root / "xwzx.cumt.edu.cn" / "_routes.json").write_text(json.dumps({
            "/_upload/article/images/redirects.png": {"status": 302,
                                                     "location": f"http://127.0.0.1:{internal.port}/hop.png"}}))
        mirror = mirror_factory(site.root)
        archive = tmp_path / "archive"
        result = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert internal.hits == []
    assert result.returncode == 0, result.log
    assert not [u for u in mirror.requests if "169.254.169.254" in u or "localhost" in u or "127.0.0.1" in u]
    assert "internal address" in result.log
    refused = dict(db_rows(archive, "SELECT url, status FROM media"))
    assert refused == {"http://169.254.169.254/latest/meta-data/x.png": "refused",
                       f"http://127.0.0.1:{internal.port}/direct.png": "refused",
                       "http://localhost/local.png": "refused",
                       # recorded under the article's own URL for it, whose redirect led inside
                       "http://xwzx.cumt.edu.cn/_upload/article/images/redirects.png": "refused"}
    assert len(list((archive / "posts").glob("*.md"))) == 10  # the story is archived without them
    assert not [p for p in (archive / "media").rglob("*") if p.is_file() and p.read_bytes() == b"\x89PNG secret"]


def test_a_redirect_loop_is_recorded_as_failed(site, tmp_path, mirror_factory):
    story = site.of("webplus")[0]
    path = story.url.split("cumt.edu.cn", 1)[1]
    (site.root / "xwzx.cumt.edu.cn" / "_routes.json").write_text(json.dumps({
        path: {"status": 302, "location": "http://xwzx.cumt.edu.cn/loop/b.htm"},
        "/loop/b.htm": {"status": 302, "location": story.url}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    result = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert result.returncode == 1, result.log
    rows = db_rows(archive, f"SELECT status, reason FROM articles WHERE url='{story.url}'")
    assert rows and rows[0][0] == "failed" and "redirect" in rows[0][1], rows
    assert story.url in result.log


def test_an_absurd_pager_is_not_believed(site, tmp_path, mirror_factory):
    for path, old, new in [
        (site.root / "news.cumt.edu.cn" / "sdxw.htm", "共5条&nbsp;&nbsp;1/2", "共1000000000条&nbsp;&nbsp;1/100000000"),
        (site.root / "xwzx.cumt.edu.cn" / "523" / "list.htm", '<em class="all_pages">2</em>',
         '<em class="all_pages">1000000000</em>'),
    ]:
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    command = crawl_command(archive, site.list_urls, "-s", "MAX_LIST_PAGES=12")
    runner = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
              "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", runner, *command], cwd=REPO, env=crawl_env(mirror.proxy_url),
                          capture_output=True, text=True, timeout=240)
    log = proc.stdout + proc.stderr
    assert "the pager claims 100000000 pages" in log and "the pager claims 1000000000 pages" in log
    list_requests = [u for u in mirror.requests if "/523/list" in u or "sdxw" in u]
    assert len(list_requests) <= 2 * 12
    # WebPlus pages are numbered forward, so its real page 2 is read; VSB numbers pages from the oldest, and
    # a lying total moves every deeper page to a URL that does not exist: that column is left incomplete,
    # and the run says so and exits 1 rather than claiming success.
    assert len(list((archive / "posts").glob("*.md"))) >= 9
    assert proc.returncode == 1
    assert "column http://news.cumt.edu.cn/sdxw.htm incomplete: list page failed" in log
    maxrss_kb = int(log.split("MAXRSS_KB", 1)[1].split()[0])
    assert maxrss_kb < 500 * 1024


def test_a_list_of_ten_thousand_links_to_one_story(site, tmp_path, mirror_factory):
    story = site.of("vsb")[0]
    link = f"<li><a href='/info/1002/{story.url.rsplit('/', 1)[1]}'>{story.title}</a><span>{story.date}</span></li>"
    page = site.root / "news.cumt.edu.cn" / "sdxw.htm"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<ul>", "<ul>" + link * 10_000, 1), encoding="utf-8")
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    result = run_crawl(archive, site.list_urls, mirror.proxy_url, timeout=120)
    assert result.returncode == 0, result.log
    assert mirror.requests.count(story.url) == 1
    assert len(list((archive / "posts").glob("*.md"))) == 10


@pytest.mark.parametrize("profile,needle", [
    ("colums: []\n", "unknown key 'colums'"),
    ("columns: [&a {key: k, list: 'http://a.edu.cn/l.htm'}]\nextra: [*a, *a]\n", "anchors are not allowed"),
])
def test_profile_bombs_and_typos_exit_2_at_once(tmp_path, profile, needle):
    path = tmp_path / "profile.yaml"
    path.write_text("name: x\nuniversity: u\nlabel: l\ntitle_format: '{title}'\ntags: [t]\ncategories: [c]\n"
                    "allowed_domains: [a.edu.cn]\n" + profile, encoding="utf-8")
    archive = tmp_path / "archive"
    proc = subprocess.run(crawl_command(archive, [], "-s", f"SITE_PROFILE={path}"), cwd=REPO,
                          env=crawl_env("http://127.0.0.1:9"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr and str(path) in proc.stderr
    assert not archive.exists()


def _maxrss_run(command: list[str], env: dict[str, str] | None = None, timeout: int = 240) -> tuple[int, str, int]:
    """Run a command as the child of a small runner; (exit status, output, the command's peak RSS in KiB)."""
    runner = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
              "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", runner, *command], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    log = proc.stdout + proc.stderr
    return proc.returncode, log, int(log.split("MAXRSS_KB", 1)[1].split()[0])


def test_a_gzip_bomb_is_refused_in_bounded_memory(site, tmp_path, mirror_factory):
    import gzip

    story = site.of("webplus")[0]
    path = story.url.split("cumt.edu.cn", 1)[1]
    bomb = b"<html><body>" + b"<b></b>" * (50 * 1024 * 1024 // 7) + b"</body></html>"
    packed = gzip.compress(bomb, 9)
    assert len(packed) < 200 * 1024
    (site.root / "xwzx.cumt.edu.cn" / "bomb.gz").write_bytes(packed)
    (site.root / "xwzx.cumt.edu.cn" / "_routes.json").write_text(json.dumps({path: {
        "file": "bomb.gz", "headers": {"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8"}}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    code, log, maxrss_kb = _maxrss_run(crawl_command(archive, site.list_urls), env=crawl_env(mirror.proxy_url))
    assert maxrss_kb < 500 * 1024, maxrss_kb
    assert len(list((archive / "posts").glob("*.md"))) == 9
    rows = db_rows(archive, f"SELECT status, reason FROM articles WHERE url='{story.url}'")
    assert rows and rows[0][0] in ("failed", "not_article"), rows  # refused with a reason, never archived
    assert story.url in log
    # The same page saved to disk, 50 MB of tiny elements, through regenerate --from-html.
    saved = tmp_path / "saved" / "xwzx.cumt.edu.cn" / path.lstrip("/")
    saved.parent.mkdir(parents=True)
    saved.write_bytes(bomb)
    code, log, maxrss_kb = _maxrss_run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--from-html",
                                        str(tmp_path / "saved"), "--archive", str(tmp_path / "regen")])
    assert maxrss_kb < 500 * 1024, maxrss_kb
    assert "too_large" in log
