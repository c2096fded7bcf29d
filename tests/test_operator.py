"""The operator's first hour: what a cron mail shows, what `status` says, and what a refused command leaves."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cumt_archive.crawl.log import keep_record
from cumt_archive.crawl.progress import progress_line
from cumt_archive.progress import Progress, duration_text, progress_text, rate_text
from cumt_archive.status import reason_key
from conftest import FIXTURES, REPO, run_crawl
from sitegen import GeneratedSite

SUMMARY = re.compile(r"\[cumt_archive\.crawl\.run\] (INFO|ERROR): run \d+ (\w+): ((?:\w+=\d+ ?)+); "
                     r"\d+ pages in \S+, [\d.]+ pages/s; exit status (\d)$")


def cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cumt_archive.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def summary_counts(line: str) -> dict[str, int]:
    match = SUMMARY.search(line)
    assert match, line
    return {k: int(v) for k, v in (pair.split("=") for pair in match.group(3).split())}


@pytest.fixture
def site(tmp_path):
    return GeneratedSite.two_columns(tmp_path / "site", 4)


@contextlib.contextmanager
def read_only(path: Path):
    """`path` made read-only for this process: a read-only bind mount when we may mount (root, where
    permission bits do not stop writes), else permission bits."""
    if os.geteuid() == 0 and shutil.which("mount"):
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(path)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


# -- the crawl's log ------------------------------------------------------------------------------

def test_unreachable_hosts_are_one_line_each_then_the_summary_without_tracebacks(tmp_path):
    archive = tmp_path / "archive"
    lists = ["http://xwzx.cumt.edu.cn/523/list.htm", "http://news.cumt.edu.cn/sdxw.htm"]
    # A proxy port where nothing listens: every connection is refused, as when the site is out of reach.
    result = run_crawl(archive, lists, "http://127.0.0.1:9", "-s", "RETRY_TIMES=1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.log
    unreachable = sorted(line.split("cannot reach ", 1)[1].split(":")[0] for line in lines if "cannot reach" in line)
    assert unreachable == ["news.cumt.edu.cn", "xwzx.cumt.edu.cn"]
    failed_columns = [line for line in lines if "incomplete: list page failed" in line]
    assert len(failed_columns) == 2 and all("ConnectionRefusedError" in line for line in failed_columns)
    assert summary_counts(lines[-1])["failed"] == 2 and lines[-1].endswith("exit status 1")
    assert len(lines) == 1 + 2 + 2 + 1  # run started, two hosts, two columns, the summary


def test_default_log_is_a_page_and_the_summary_is_its_last_line(site, tmp_path, mirror_factory):
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    result = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert result.returncode == 0, result.log
    lines = result.stderr.strip().splitlines()
    for boilerplate in ("Scrapy 2.", "Versions:", "Overridden settings", "Enabled downloader middlewares",
                        "Dumping Scrapy stats", "Spider closed", "Telnet", "{contact}"):
        assert boilerplate not in result.log, boilerplate
    assert all("[cumt_archive." in line for line in lines), lines
    assert summary_counts(lines[-1])["new"] == 8
    assert len(lines) < 20

    # At DEBUG, into LOG_FILE: Scrapy's own lines are all there, and the summary still ends the file.
    log_file = tmp_path / "crawl.log"
    again = run_crawl(archive, site.list_urls, mirror.proxy_url, "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={log_file}")
    assert again.returncode == 0 and again.stderr == ""
    text = log_file.read_text(encoding="utf-8")
    assert "Dumping Scrapy stats" in text and "Spider closed" in text
    assert re.search(r"cyclic collector: \d{5,} objects frozen, thresholds \(20000, 20, 20\)", text)
    last = text.strip().splitlines()[-1]
    assert summary_counts(last)["unchanged"] == 0 and last.endswith("exit status 0")
    assert "TelnetConsole" not in text and "RemoteControl" not in text  # closed surface
    # At INFO into LOG_FILE, as the cron script runs it: the same page as on the terminal.
    info_file = tmp_path / "cron.log"
    third = run_crawl(archive, site.list_urls, mirror.proxy_url, "-s", f"LOG_FILE={info_file}")
    assert third.returncode == 0 and third.stderr == ""
    cron = info_file.read_text(encoding="utf-8").strip().splitlines()
    assert all("[cumt_archive." in line for line in cron) and "Dumping Scrapy stats" not in "\n".join(cron)
    assert summary_counts(cron[-1])["unchanged"] == 0 and len(cron) < 10


def test_operator_filter_keeps_own_lines_and_scrapy_warnings_only():
    assert keep_record("cumt_archive.crawl.run", logging.INFO, "run 1 finished")
    assert not keep_record("scrapy.utils.log", logging.INFO, "Scrapy %(version)s started")
    assert not keep_record("scrapy.statscollectors", logging.INFO, "Dumping Scrapy stats:\n%(stats)s")
    assert keep_record("scrapy.core.scraper", logging.ERROR, "Spider error processing %(request)s")
    assert keep_record("scrapy.downloadermiddlewares.redirect", logging.WARNING, "x")
    assert not keep_record("scrapy.downloadermiddlewares.retry", logging.ERROR, "Gave up retrying %(request)s")
    assert keep_record("twisted", logging.ERROR, "Unhandled error")
    assert keep_record("scrapy.crawler", logging.INFO, "Received %(signame)s, shutting down gracefully. Send again")


def test_progress_lines_say_done_queued_new_failures_and_what_is_left():
    assert progress_line(120, 60, 3, 1, 60.0) == \
        "progress: 120 pages, 60 queued, 3 new stories, 1 failure; at least 30s left at 2.0 pages/s"
    assert progress_line(0, 4, 0, 0, 60.0) == "progress: 0 pages, 4 queued, 0 new stories, 0 failures"
    assert progress_line(10, 0, 1, 2, 5.0) == "progress: 10 pages, 0 queued, 1 new story, 2 failures; 2.0 pages/s"
    assert duration_text(3725) == "1h02m" and duration_text(125) == "2m05s" and duration_text(4.4) == "4s"
    assert rate_text(90, 60.0) == "90 pages in 1m00s, 1.5 pages/s"
    assert progress_text("regenerate", 250, 1000, 10.0) == \
        "regenerate: 250/1000 pages, 25.0 pages/s, about 30s left"


def test_regenerate_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one():
    now = [0.0]
    stream = io.StringIO()
    progress = Progress("regenerate", stream=stream, interval=60.0, clock=lambda: now[0], tty=False)
    for done in range(1, 301):
        now[0] = done * 1.0  # one page a second
        progress(done, 300)
    progress.close()
    text = stream.getvalue()
    assert "\r" not in text
    assert text.splitlines() == [f"regenerate: {n}/300 pages, 1.0 pages/s, about {duration_text(300 - n)} left"
                                 for n in (60, 120, 180, 240)] + ["regenerate: 300/300 pages, 1.0 pages/s"]
    terminal = io.StringIO()
    bar = Progress("regenerate", stream=terminal, tty=True)
    for done in range(1, 11):
        bar(done, 10)
    bar.close()
    assert "\r" in terminal.getvalue() and "/10 [" in terminal.getvalue()  # tqdm's bar


# -- status -------------------------------------------------------------------------------------

def test_status_table_and_nested_json_agree_with_the_runs_and_work_read_only(site, tmp_path, mirror_factory):
    broken = site.of("webplus")[0]
    routes = site.root / "xwzx.cumt.edu.cn" / "_routes.json"
    routes.write_text('{"%s": {"always_status": 500}}' % broken.url.split("cumt.edu.cn", 1)[1])
    pictureless = site.of("vsb")[0]
    news_routes = site.root / "news.cumt.edu.cn" / "_routes.json"
    news_routes.write_text(json.dumps({**json.loads(news_routes.read_text()),
                                       pictureless.image_path: {"always_status": 500}}))
    mirror = mirror_factory(site.root)
    archive = tmp_path / "archive"
    # One story fails, one picture cannot be fetched, one column cannot be read at all (its host is not
    # in the mirror).
    result = run_crawl(archive, [*site.list_urls, "http://gone.cumt.edu.cn/1/list.htm"], mirror.proxy_url,
                       "-s", "RETRY_TIMES=0")
    assert result.returncode == 1
    said = summary_counts(result.stderr.strip().splitlines()[-1])
    with read_only(archive):
        proc = cli("status", "--archive", str(archive), "--json")
        table = cli("status", "--archive", str(archive))
        # Nothing else may write a read-only archive: one line, exit 2, for each command.
        regen = cli("regenerate", "--archive", str(archive))
        crawl = run_crawl(archive, site.list_urls, mirror.proxy_url)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    run = data["runs"][0]
    assert isinstance(run["counts"], dict) and isinstance(run["args"], dict)
    assert run["counts"] == said and run["exit_status"] == 1 and run["kind"] == "crawl"
    assert data["stories"]["archived"] == said["new"] == 7
    assert data["stories"]["failed"] == 1 and [f["url"] for f in data["failed"]] == [broken.url]
    assert data["files"] == {"posts": 7, "media": said["media"], "warc": 1}
    assert data["columns_not_walked"] == ["http://gone.cumt.edu.cn/1/list.htm"]
    assert data["missing_media"] == [{"url": pictureless.url, "reason": "1 media file(s) missing", "attempts": 0}]
    assert f"articles with missing media (fetched again next run): 1\n    {pictureless.url}" in table.stdout
    assert "columns not walked to the end yet: 1\n    http://gone.cumt.edu.cn/1/list.htm" in table.stdout
    assert table.returncode == 0, table.stderr
    assert "7 archived, 1 failed" in table.stdout
    assert f"{broken.url}  HTTP 500" in table.stdout
    assert "failed=2" in table.stdout and "{" not in table.stdout  # the run's own counts, not a JSON blob
    for refused in (regen, crawl):
        assert refused.returncode == 2
        assert len(refused.stderr.strip().splitlines()) == 1 and "cannot write" in refused.stderr


def test_status_counts_not_archived_pages_by_reason():
    assert reason_key("campus_only: campus-only notice (校内地址)") == "campus_only"
    assert reason_key("redirects off-site to https://mp.weixin.qq.com/s/x") == "redirects off-site"
    assert reason_key("forbidden by robots.txt") == "forbidden by robots.txt"
    assert reason_key(None) == "unknown"


def test_status_of_a_missing_archive_is_one_line(tmp_path):
    proc = cli("status", "--archive", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and proc.stderr.strip() == f"cumt-archive: {tmp_path / 'nothing'}: no archive here " \
                                                            "(no index.sqlite)"
    assert not (tmp_path / "nothing").exists()


# -- arguments ------------------------------------------------------------------------------------

def test_version_everywhere():
    own = cli("--version")
    crawl = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "--version"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert own.returncode == 0 and crawl.returncode == 0
    assert re.fullmatch(r"cumt-archive \S+ \(Scrapy 2\.\d+\.\d+\)\n", own.stdout)
    assert crawl.stdout == own.stdout


def test_every_option_has_help_text():
    from cumt_archive.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # noqa: SLF001
    for name, sub in [("", parser), *commands.items()]:
        for action in sub._actions:  # noqa: SLF001
            assert action.help, (name, action.dest)


def test_argument_errors_are_one_line_without_the_banner(tmp_path):
    archive = tmp_path / "archive"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "since=yesterday",
                           "-s", f"ARCHIVE_DIR={archive}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr == "cumt-archive: -a since='yesterday': use YYYY-MM-DD\n"
    assert not archive.exists()


def test_an_archive_that_cannot_be_created_is_one_line_exit_2_and_nothing_is_created(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    with read_only(parent):
        crawl = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "columns=xwzx-523",
                                "-s", f"ARCHIVE_DIR={parent / 'archive'}"], cwd=REPO, capture_output=True, text=True,
                               timeout=60, env={**os.environ, "http_proxy": "http://127.0.0.1:9"})
        regen = cli("regenerate", "--from-html", str(FIXTURES / "site"), "--archive", str(parent / "archive"))
    for proc in (crawl, regen):
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [f"cumt-archive: {parent}: cannot create {parent / 'archive'} "
                                                    "here (read-only or no permission)"]
    assert list(parent.iterdir()) == []


# -- regenerate ---------------------------------------------------------------------------------

def test_bad_from_html_input_creates_nothing(tmp_path):
    archive = tmp_path / "a1"
    missing = cli("regenerate", "--from-html", "/nonexistent", "--archive", str(archive))
    assert missing.returncode == 2 and "/nonexistent" in missing.stderr
    flat = tmp_path / "flat"  # a folder of folders that are not host names, as a corpus is
    for family in ("vsb", "webplus"):
        (flat / family).mkdir(parents=True)
        shutil.copy(FIXTURES / "pages" / "wp-arti-basic" / "body.html", flat / family / "a.htm")
    (flat / "PROVENANCE.md").write_text("where these pages came from\n")
    refused = cli("regenerate", "--from-html", str(flat), "--archive", str(archive))
    assert refused.returncode == 2 and "no host folders" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not archive.exists()


def test_from_html_takes_saved_html_names_and_skips_what_cannot_be_a_url(tmp_path):
    tree = tmp_path / "saved"
    base = tree / "xwzx.cumt.edu.cn" / "33" / "a2" / "c523a537506"
    base.mkdir(parents=True)
    seed = (FIXTURES / "pages" / "seed-xwzx" / "body.html").read_bytes()
    (base / "page.htm.html").write_bytes(seed)  # wget -E / a browser's "save as"
    (tree / "xwzx.cumt.edu.cn" / "PROVENANCE.md").write_text("not a page\n")
    (tree / "xwzx.cumt.edu.cn" / "notes.txt").write_text("<html>not a page by name</html>\n")
    secret = tmp_path / "secret.htm"
    secret.write_text("<html><title>outside</title></html>")
    (tree / "xwzx.cumt.edu.cn" / "leak.htm").symlink_to(secret)
    (tree / "xwzx.cumt.edu.cn" / "bad\r\nname.htm").write_bytes(seed)
    (tree / "evil:host").mkdir()
    (tree / "evil:host" / "x.htm").write_bytes(seed)
    archive = tmp_path / "archive"
    proc = cli("regenerate", "--from-html", str(tree), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    post = archive / "posts" / "xwzx-c523a537506.md"
    assert post.read_bytes() == (FIXTURES / "pages" / "seed-xwzx" / "expected.md").read_bytes()
    assert "pages=1 articles=1 new=1" in proc.stdout and "skipped=3" in proc.stdout
    assert "leak.htm: symbolic link out of the source tree" in proc.stderr
    assert "cannot map to a URL" in proc.stderr and "evil:host: not a host name" in proc.stderr
    db = sqlite3.connect(archive / "index.sqlite")
    urls = [u for (u,) in db.execute("SELECT url FROM captures")]
    db.close()
    assert urls == ["http://xwzx.cumt.edu.cn/33/a2/c523a537506/page.htm"]
    warcs = sorted(p.name for p in (archive / "warc").iterdir())
    # The same tree again stores nothing new: the WARC already holds these bytes for this URL.
    again = cli("regenerate", "--from-html", str(tree), "--archive", str(archive))
    assert again.returncode == 0 and "unchanged=1" in again.stdout
    assert sorted(p.name for p in (archive / "warc").iterdir()) == warcs
    db = sqlite3.connect(archive / "index.sqlite")
    assert db.execute("SELECT COUNT(*) FROM captures").fetchone()[0] == 1


def test_regenerate_names_every_page_not_archived_and_counts_by_reason(tmp_path):
    archive = tmp_path / "archive"
    proc = cli("regenerate", "--from-html", str(FIXTURES / "site"), "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    expected = json.loads((FIXTURES / "site" / "EXPECTED.json").read_text(encoding="utf-8"))
    refused = [line for line in proc.stderr.splitlines() if "not archived (" in line]
    assert sorted(line.split("): ", 1)[1].split(" (file")[0] for line in refused) == sorted(expected["not_articles"])
    summary = proc.stdout.strip().splitlines()[-1]
    assert f"not_articles={len(expected['not_articles'])}" in summary
    assert "not archived: campus_only=1, link_shell=1" in summary
    assert re.search(r"; \d+ pages in \d+s, [\d.]+ pages/s; exit status 0$", summary)
    # From the WARC, the same pages give the same counts, and list pages are lists, as in the crawl.
    again = cli("regenerate", "--archive", str(archive)).stdout.strip().splitlines()[-1]

    def counts(line: str) -> dict[str, str]:
        return dict(pair.split("=") for pair in line.split(": ", 1)[1].split("; ")[0].split())

    for key in ("pages", "articles", "lists", "not_articles"):
        assert counts(again)[key] == counts(summary)[key], key
    assert int(counts(summary)["lists"]) > 0


def test_the_archive_remembers_its_output_settings(tmp_path):
    archive = tmp_path / "archive"
    assert cli("regenerate", "--from-html", str(FIXTURES / "site"), "--archive", str(archive)).returncode == 0
    post = archive / "posts" / "xwzx-c523a537506.md"
    assert "](../media/" not in post.read_text(encoding="utf-8")
    local = cli("regenerate", "--archive", str(archive), "--media-links", "local")
    assert "media links: original -> local (the archive remembers it for later runs)" in local.stderr
    assert "](../media/" in post.read_text(encoding="utf-8")
    plain = cli("regenerate", "--archive", str(archive))
    assert plain.returncode == 0 and "->" not in plain.stderr
    assert "](../media/" in post.read_text(encoding="utf-8")  # kept
    back = cli("regenerate", "--archive", str(archive), "--media-links", "original")
    assert "media links: local -> original" in back.stderr
    assert post.read_bytes() == (FIXTURES / "pages" / "seed-xwzx" / "expected.md").read_bytes()


def test_a_plain_crawl_keeps_the_archive_output_settings_and_s_changes_them():
    from scrapy.settings import Settings

    from cumt_archive.status import output_settings

    settings = Settings()
    settings.setmodule("cumt_archive.crawl.settings", priority="project")
    remembered = {"render.layout": "inline", "render.media_links": "local"}
    assert output_settings(settings, remembered) == remembered
    assert output_settings(settings, {}) == {"render.layout": "seed", "render.media_links": "original"}
    settings.set("MARKDOWN_MEDIA_LINKS", "original", priority="cmdline")
    assert output_settings(settings, remembered) == {"render.layout": "inline", "render.media_links": "original"}


def test_a_crawl_that_cannot_start_is_one_line_naming_the_archive(tmp_path):
    archive = tmp_path / "archive"
    (archive / "index.sqlite").mkdir(parents=True)  # an index SQLite cannot open
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "columns=xwzx-523",
                           "-s", f"ARCHIVE_DIR={archive}"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "http_proxy": "http://127.0.0.1:9"})
    assert proc.returncode == 1
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"cumt-archive: {(archive / 'index.sqlite').resolve()}: ")
    assert "the index is damaged" in proc.stderr and "--repair" in proc.stderr


def test_crawl_progress_reads_the_engine_and_the_run(caplog):
    from types import SimpleNamespace

    from scrapy.exceptions import NotConfigured
    from scrapy.settings import Settings

    from cumt_archive.crawl.progress import CrawlProgress

    class Scheduler:
        def __len__(self) -> int:
            return 40

    crawler = SimpleNamespace(
        stats=SimpleNamespace(get_value=lambda key, default=0: {"response_received_count": 60}.get(key, default)),
        engine=SimpleNamespace(scheduler=Scheduler(), downloader=SimpleNamespace(active={1, 2})),
        archive_run=SimpleNamespace(counts={"new": 5, "failed": 1, "media_failed": 2}),
        settings=Settings({"PROGRESS_INTERVAL": 60}),
        signals=SimpleNamespace(connect=lambda *a, **k: None),
    )
    extension = CrawlProgress.from_crawler(crawler)  # type: ignore[arg-type]
    assert extension.snapshot() == (60, 42, 5, 3)
    with caplog.at_level(logging.INFO, logger="cumt_archive.crawl.progress"):
        extension.log_progress()
    assert caplog.messages[0].startswith("progress: 60 pages, 42 queued, 5 new stories, 3 failures; at least ")
    crawler.settings = Settings({"PROGRESS_INTERVAL": 0})
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(crawler)  # type: ignore[arg-type]


def test_pages_not_archived_are_classified_as_the_crawl_counts_them():
    from cumt_archive.model import NotArticle, RawPage
    from cumt_archive.regenerate import classify_not_archived

    list_page = RawPage(url="http://xwzx.cumt.edu.cn/523/list.htm",
                        body=(FIXTURES / "lists" / "wp-xwzx-classic" / "body.html").read_bytes())
    assert classify_not_archived(list_page, NotArticle(list_page.url, "empty")) == ("lists", "list page")
    robots = RawPage(url="http://xwzx.cumt.edu.cn/robots.txt", body=b"", status=404)
    assert classify_not_archived(robots, None) == ("skipped", "robots.txt")
    gone = RawPage(url="http://xwzx.cumt.edu.cn/1/c1a2/page.htm", body=b"", status=404)
    assert classify_not_archived(gone, None) == ("gone", "HTTP 404")
    shell = RawPage(url="http://news.cumt.edu.cn/info/1002/1.htm", body=b"<html></html>")
    assert classify_not_archived(shell, NotArticle(shell.url, "link_shell", "x")) == ("not_articles", "link_shell")


def test_a_damaged_index_is_one_line_for_every_command(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    index = archive / "index.sqlite"
    index.write_bytes(b"not a database, garbage " * 200)
    line = (f"cumt-archive: {index.resolve()}: the index is damaged (file is not a database); `cumt-archive check "
            f"--archive {archive.resolve()} --repair` rebuilds it from the WARC files")
    crawl = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "cumt", "-a", "columns=xwzx-523",
                            "-s", f"ARCHIVE_DIR={archive}"], cwd=REPO, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "http_proxy": "http://127.0.0.1:9"})
    for proc in (cli("status", "--archive", str(archive)), cli("regenerate", "--archive", str(archive)), crawl):
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [line], proc.stderr
    assert index.read_bytes() == b"not a database, garbage " * 200
