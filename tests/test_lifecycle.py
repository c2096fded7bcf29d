"""The archive over time: incremental runs, regenerate, crash safety, locking, exit status.

Every test runs `scrapy crawl cumt` as a real process against a generated site
served by a mirror proxy on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from cumt_archive.store.warc import iter_pages, warc_files
from conftest import REPO, crawl_command, crawl_env, run_crawl, tree_bytes
from sitegen import GeneratedSite


def article_requests(requests: list[str]) -> list[str]:
    return [u for u in requests if "/info/" in u or "/page.htm" in u]


def list_requests(requests: list[str]) -> list[str]:
    return [u for u in requests if u.endswith(("list.htm", ".htm")) and ("/523/" in u or "sdxw" in u)]


@pytest.fixture
def site(tmp_path):
    return GeneratedSite.two_columns(tmp_path / "site", 9)


def test_first_run_then_nothing_new_then_one_new_story_per_family(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    first = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert first.returncode == 0, first.log
    posts = sorted(p.name for p in (archive / "posts").glob("*.md"))
    assert len(posts) == 18
    assert len(list((archive / "media").rglob("*.png"))) == 18
    assert len(list((archive / "media").rglob("*.pdf"))) == 9
    assert "new=18" in first.log and "exit status 0" in first.log
    before = tree_bytes(archive, "posts", "media")

    mirror.requests.clear()
    second = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert second.returncode == 0, second.log
    fetched = [u for u in mirror.requests if not u.endswith("robots.txt")]
    assert sorted(fetched) == sorted(site.list_urls), fetched  # one list page per column, nothing else
    assert tree_bytes(archive, "posts", "media") == before

    # A day later: one new story in each column; the VSB pages shift (file numbers count from the oldest).
    new_stories = site.add("webplus") + site.add("vsb")
    mirror.requests.clear()
    third = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert third.returncode == 0, third.log
    fetched_articles = sorted(article_requests(mirror.requests))
    assert fetched_articles == sorted(s.url for s in new_stories)
    media_fetched = [u for u in mirror.requests if ".png" in u or "download.jsp" in u]
    assert len(media_fetched) == 3  # two images and one attachment, nothing already archived
    after = tree_bytes(archive, "posts", "media")
    assert {k: v for k, v in after.items() if k in before} == before  # no existing file changed
    assert len(after) == len(before) + 5
    assert "new=2" in third.log


def test_regenerate_from_warc_gives_back_the_same_bytes(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    before = tree_bytes(archive, "posts")
    for md in (archive / "posts").glob("*.md"):
        md.unlink()
    env = {k: v for k, v in os.environ.items()}
    env.update({"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})  # the network points nowhere
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive", str(archive)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "articles=18" in proc.stdout
    assert tree_bytes(archive, "posts") == before


def test_warc_files_pass_warcio_check_and_hold_every_article(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    files = warc_files(archive / "warc")
    assert files
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    captured = {page.url for f in files for _, page in iter_pages(f)}
    assert {s.url for s in site.stories} <= captured
    assert set(site.list_urls) <= captured


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_crawl_then_rerun_equals_a_clean_crawl(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    clean = tmp_path / "clean"
    assert run_crawl(clean, site.list_urls, mirror.proxy_url).returncode == 0

    killed = tmp_path / "killed"
    slow = crawl_command(killed, site.list_urls, "-s", "DOWNLOAD_DELAY=0.15", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    proc = subprocess.Popen(slow, cwd=REPO, env=crawl_env(mirror.proxy_url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_for(lambda: len(list((killed / "posts").glob("*.md"))) >= 5, 60), "crawl never got going"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    written_before_kill = len(list((killed / "posts").glob("*.md")))
    assert 5 <= written_before_kill < 18

    rerun = run_crawl(killed, site.list_urls, mirror.proxy_url)
    assert rerun.returncode == 0, rerun.log
    assert tree_bytes(killed, "posts", "media") == tree_bytes(clean, "posts", "media")
    stray = [p for p in killed.rglob("*") if ".tmp-" in p.name or p.name.endswith(".open")]
    assert stray == []
    db = sqlite3.connect(killed / "index.sqlite")
    assert db.execute("SELECT COUNT(*) FROM articles WHERE status='ok'").fetchone()[0] == 18
    assert db.execute("SELECT COUNT(*) FROM runs WHERE finished IS NULL").fetchone()[0] == 1  # the killed run


HOLD_LOCK = """
import sys
from pathlib import Path
from cumt_archive.store.lock import ArchiveLock
lock = ArchiveLock(Path(sys.argv[1]) / ".lock")
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def test_second_run_on_the_same_archive_refuses_at_once(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls[:1], mirror.proxy_url).returncode == 0
    # Another process holds the lock for as long as the test wants: no race with a crawl's speed.
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(archive)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = len(mirror.requests)
        second = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert second.returncode == 3, second.log
        assert second.stderr.strip().splitlines() == [
            f"cumt-archive: {archive}: another run holds the archive (pid {holder.pid}); try again when it ends"]
        assert "Traceback" not in second.log and len(mirror.requests) == before  # refused before any request
        regen = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive", str(archive)],
                               capture_output=True, text=True, timeout=60)
        assert regen.returncode == 3 and "another run holds the archive" in regen.stderr
        assert subprocess.run([sys.executable, "-m", "cumt_archive.cli", "status", "--archive", str(archive)],
                              capture_output=True, text=True, timeout=60).returncode == 0  # status reads anyway
    finally:
        holder.communicate("", timeout=30)
    third = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert third.returncode == 0, third.log
    assert len(list((archive / "posts").glob("*.md"))) == 18


def test_two_crawls_started_at_once_one_runs_the_other_exits_3(site, tmp_path, mirror_factory):
    # The first list page answers after 15 s, so whichever crawl wins the lock is still running when the
    # other one asks for it, however slowly either process starts.
    (site.root / "xwzx.cumt.edu.cn" / "_routes.json").write_text(
        json.dumps({"/523/list.htm": {"delay": 15, "file": "523/list.htm"}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    procs = [subprocess.Popen(crawl_command(archive, site.list_urls), cwd=REPO, env=crawl_env(mirror.proxy_url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], results
    for (out, err), proc in zip(results, procs):
        assert "Traceback" not in out + err
        if proc.returncode == 3:
            assert "another run holds the archive" in err
    assert len(list((archive / "posts").glob("*.md"))) == 18


def test_failed_story_gives_non_zero_exit_and_is_retried_next_run(site, tmp_path, mirror_factory):
    broken = site.of("webplus")[0]
    routes = site.root / "xwzx.cumt.edu.cn" / "_routes.json"
    routes.write_text('{"%s": {"always_status": 500}}' % broken.url.split("cumt.edu.cn", 1)[1])
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    first = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert first.returncode == 1
    assert "failed=1" in first.log and broken.url in first.log
    assert len(list((archive / "posts").glob("*.md"))) == 17
    routes.write_text("{}")
    mirror.stop()
    mirror = mirror_factory(site.root)  # the server is mended
    # Even when its list page is no longer visited, the failed story is fetched again.
    second = run_crawl(archive, ["http://news.cumt.edu.cn/sdxw.htm"], mirror.proxy_url)
    assert second.returncode == 0, second.log
    assert broken.url in mirror.requests
    assert len(list((archive / "posts").glob("*.md"))) == 18


def test_status_command_reports_the_index(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    proc = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "status", "--archive", str(archive)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "18 archived" in proc.stdout and "crawl" in proc.stdout and "exit 0" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["-a", "since=yesterday"], "since"),
    (["-a", "max_pages=0"], "max_pages"),
    (["-a", "depth=3"], "unknown argument"),
    (["-a", "lists=ftp://x/y"], "lists"),
    (["-a", "columns=nope"], "columns"),
])
def test_bad_arguments_fail_clearly_and_touch_nothing(tmp_path, args, message):
    archive = tmp_path / "archive"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "cumt", *args, "-s", f"ARCHIVE_DIR={archive}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=crawl_env("http://127.0.0.1:9"))
    assert proc.returncode != 0
    assert message in (proc.stdout + proc.stderr)
    assert not archive.exists()


def test_invalid_profile_fails_with_file_and_line_before_touching_anything(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nuniversity: [unclosed\nlabel: y\n", encoding="utf-8")
    archive = tmp_path / "archive"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "-s", f"SITE_PROFILE={bad}",
                           "-s", f"ARCHIVE_DIR={archive}"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=crawl_env("http://127.0.0.1:9"))
    assert proc.returncode == 2
    assert f"{bad}:3" in proc.stderr and "line 2" in proc.stderr
    assert not archive.exists()


def test_refresh_rewrites_a_changed_article_and_keeps_the_old_capture(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    story = site.of("webplus")[0]
    page = site.root / "xwzx.cumt.edu.cn" / story.url.split("cumt.edu.cn/", 1)[1]
    page.write_text(page.read_text(encoding="utf-8").replace("内容详实。", "内容详实，已更正。"), encoding="utf-8")
    unchanged = tree_bytes(archive, "posts")
    refreshed = run_crawl(archive, site.list_urls, mirror.proxy_url, "-a", "refresh=1")
    assert refreshed.returncode == 0, refreshed.log
    assert "updated=1" in refreshed.log and "new=0" in refreshed.log
    after = tree_bytes(archive, "posts")
    changed = [k for k in after if after[k] != unchanged[k]]
    assert len(changed) == 1 and "已更正" in after[changed[0]].decode("utf-8")
    bodies = [p.body for f in warc_files(archive / "warc") for _, p in iter_pages(f) if p.url == story.url]
    assert len(bodies) == 2 and "已更正".encode() not in bodies[0] and "已更正".encode() in bodies[1]
    db = sqlite3.connect(archive / "index.sqlite")
    assert db.execute("SELECT COUNT(*) FROM captures WHERE url=?", (story.url,)).fetchone()[0] == 2


def test_media_that_failed_are_fetched_again_by_the_next_run(site, tmp_path, mirror_factory):
    story = site.of("vsb")[0]
    routes = site.root / "news.cumt.edu.cn" / "_routes.json"
    routes.write_text(json.dumps({story.image_path: {"always_status": 500}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    first = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert first.returncode == 0 and "media_failed=1" in first.log
    assert len(list((archive / "posts").glob("*.md"))) == 18  # the story is kept without its image
    routes.unlink()
    mirror.requests.clear()
    second = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert second.returncode == 0, second.log
    assert [u for u in mirror.requests if u.endswith(".png")] == [f"http://news.cumt.edu.cn{story.image_path}"]
    assert story.url not in mirror.requests  # the page came from the archive's own capture
    saved = (site.root / "news.cumt.edu.cn" / story.image_path.lstrip("/")).read_bytes()
    media = [p for p in (archive / "media").rglob("*.png")]
    assert len(media) == 18 and saved in {p.read_bytes() for p in media}


def test_dead_media_are_remembered_and_a_no_change_run_asks_only_for_list_pages(site, tmp_path, mirror_factory):
    story = site.of("vsb")[0]
    (site.root / "news.cumt.edu.cn" / story.image_path.lstrip("/")).unlink()  # the image answers 404
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    first = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert first.returncode == 0 and "media_failed=1" in first.log, first.log
    db = sqlite3.connect(archive / "index.sqlite")
    assert db.execute("SELECT status, reason FROM media").fetchall() == [("gone", "HTTP 404")]
    db.close()
    for _ in range(2):
        mirror.requests.clear()
        again = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert again.returncode == 0, again.log
        fetched = [u for u in mirror.requests if not u.endswith("robots.txt")]
        assert sorted(fetched) == sorted(site.list_urls), fetched  # one list page per column, nothing else
    mirror.requests.clear()
    assert run_crawl(archive, site.list_urls, mirror.proxy_url, "-a", "refresh=1").returncode == 0
    assert f"http://news.cumt.edu.cn{story.image_path}" in mirror.requests  # refresh=1 asks again


def test_polite_defaults_user_agent_with_contact_and_robots(site, tmp_path, mirror_factory):
    (site.root / "xwzx.cumt.edu.cn" / "robots.txt").write_text(
        "User-agent: cumt-archive\nDisallow: /_upload/\n", encoding="utf-8")
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    result = run_crawl(archive, site.list_urls, mirror.proxy_url, "-s", "CONTACT=Tester <t@example.org>")
    assert result.returncode == 0, result.log
    assert mirror.user_agents == {"cumt-archive/0.1 (news archiver; +https://cumt.net.cn; contact: Tester <t@example.org>)"}
    assert not [u for u in mirror.requests if "xwzx.cumt.edu.cn/_upload/" in u]  # robots.txt obeyed, media too
    assert len(list((archive / "posts").glob("*.md"))) == 18  # the stories are kept, linking the originals


def test_a_story_cross_posted_under_two_ids_is_archived_once(site, tmp_path, mirror_factory):
    from sitegen import vsb_article, vsb_list

    story = site.of("vsb")[0]
    html = vsb_article(story)  # VSB gives the cross-post a new id in the other column, same content
    cross = site.root / "news.cumt.edu.cn" / "info" / "1003" / "88001.htm"
    cross.parent.mkdir(parents=True)
    cross.write_text(html, encoding="utf-8")
    other_column = vsb_list([story], 1, 1, 1).replace(f"/info/1002/{70000 + story.number}.htm", "/info/1003/88001.htm")
    (site.root / "news.cumt.edu.cn" / "fjzg.htm").write_text(other_column, encoding="utf-8")
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    lists = [*site.list_urls, "http://news.cumt.edu.cn/fjzg.htm"]
    result = run_crawl(archive, lists, mirror.proxy_url)
    assert result.returncode == 0, result.log
    assert len(list((archive / "posts").glob("*.md"))) == 18
    assert "duplicates=1" in result.log and "same story as" in result.log
    before = tree_bytes(archive, "posts")
    for md in (archive / "posts").glob("*.md"):
        md.unlink()
    regen = subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--archive", str(archive)],
                           capture_output=True, text=True, timeout=120)
    assert regen.returncode == 0 and tree_bytes(archive, "posts") == before  # the same URL keeps the story


def test_a_cross_post_found_first_gives_way_to_its_original_in_any_order(site, tmp_path, mirror_factory):
    from sitegen import vsb_article, vsb_list

    story = site.of("vsb")[0]
    original_id = 70000 + story.number
    html = vsb_article(story).replace("</body>", f'<script>_showDynClicks("wbnews", 1, {original_id})</script></body>')
    (site.root / "news.cumt.edu.cn" / "info" / "1002" / f"{original_id}.htm").write_text(html, encoding="utf-8")
    cross = site.root / "news.cumt.edu.cn" / "info" / "0999" / "88001.htm"  # sorts before the original
    cross.parent.mkdir(parents=True)
    cross.write_text(html, encoding="utf-8")
    (site.root / "news.cumt.edu.cn" / "fjzg.htm").write_text(
        vsb_list([story], 1, 1, 1).replace(f"/info/1002/{original_id}.htm", "/info/0999/88001.htm"), encoding="utf-8")
    mirror = mirror_factory(site.root)
    results = []
    for order in (["http://news.cumt.edu.cn/fjzg.htm"], [*site.list_urls, "http://news.cumt.edu.cn/fjzg.htm"]):
        archive = tmp_path / f"archive{len(results)}"
        # the first archive sees only the cross-post on its first run, then the original's column too
        assert run_crawl(archive, order, mirror.proxy_url).returncode == 0
        assert run_crawl(archive, [*site.list_urls, "http://news.cumt.edu.cn/fjzg.htm"], mirror.proxy_url).returncode == 0
        results.append(sorted(p.name for p in (archive / "posts").glob("*.md")))
    assert results[0] == results[1]
    assert f"news-1002-{original_id}.md" in results[0] and "news-0999-88001.md" not in results[0]
    assert len(results[0]) == 18


@pytest.mark.parametrize("limit", [["-a", "max_pages=1"], ["-a", "since=2024-01-07"]])
def test_a_limited_first_run_leaves_the_column_to_be_walked_again(site, tmp_path, mirror_factory, limit):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    limited = run_crawl(archive, site.list_urls, mirror.proxy_url, *limit)
    assert limited.returncode == 0, limited.log
    assert len(list((archive / "posts").glob("*.md"))) < 18
    full = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert full.returncode == 0, full.log
    assert len(list((archive / "posts").glob("*.md"))) == 18


@pytest.mark.parametrize("interruption", ["max_pages", "list_page_500"])
def test_an_interrupted_day_then_a_plain_run_archives_every_story(site, tmp_path, mirror_factory, interruption):
    """Day two publishes 8 + 8 stories, pushing older ones onto page 2; that day's run is cut short
    (max_pages=1, or page 2 answers 500); one plain run afterwards must bring every story in."""
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    assert run_crawl(archive, site.list_urls, mirror.proxy_url).returncode == 0
    site.add("webplus", 8)
    site.add("vsb", 8)
    if interruption == "max_pages":
        cut = run_crawl(archive, site.list_urls, mirror.proxy_url, "-a", "max_pages=1")
        assert cut.returncode == 0, cut.log  # a limit the operator asked for
        assert "is not walked completely" in cut.log
    else:
        total = -(-len(site.of("vsb")) // 4)
        (site.root / "xwzx.cumt.edu.cn" / "_routes.json").write_text(json.dumps({"/523/list2.htm": {"always_status": 500}}))
        (site.root / "news.cumt.edu.cn" / "_routes.json").write_text(
            json.dumps({f"/sdxw/{total - 1}.htm": {"always_status": 500}}))
        cut = run_crawl(archive, site.list_urls, mirror.proxy_url)
        assert cut.returncode == 1, cut.log
        assert cut.log.count("incomplete: list page failed") == 2
        for host in ("xwzx.cumt.edu.cn", "news.cumt.edu.cn"):
            (site.root / host / "_routes.json").unlink()
    assert len(list((archive / "posts").glob("*.md"))) < 34
    plain = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert plain.returncode == 0, plain.log
    assert len(list((archive / "posts").glob("*.md"))) == 34
    mirror.requests.clear()
    quiet = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert quiet.returncode == 0
    assert sorted(u for u in mirror.requests if not u.endswith("robots.txt")) == sorted(site.list_urls)
