"""Extraction in worker processes: the same results, in the same order, as one process gives.

No timings here (speed lives in benchmarks/run.py): these tests prove that `--jobs N` changes
nothing in what is written.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cumt_archive import workers
from cumt_archive.extract import extract_article
from cumt_archive.model import RawPage
from cumt_archive.regenerate import _holds_media
from conftest import FIXTURES

PAGES = sorted(p for p in (FIXTURES / "pages").glob("*/body.html"))


def _pages() -> list[RawPage]:
    return [RawPage(url=f"http://w{i}.cumt.edu.cn/a/c1a{i}/page.htm", body=p.read_bytes())
            for i, p in enumerate(PAGES * 8)]


def test_pool_gives_in_process_results_in_input_order():
    pages = _pages()
    assert len(pages) > workers.CHUNK * workers.WINDOW_PER_JOB * 2  # more than one window's worth
    items = [(i, page) for i, page in enumerate(pages)]
    pooled = list(workers.extract_in_order(iter(items), jobs=2))
    assert [tag for tag, _, _ in pooled] == list(range(len(pages)))
    assert [page for _, page, _ in pooled] == pages
    assert [result for _, _, result in pooled] == [extract_article(page) for page in pages]


def test_pool_reads_its_input_lazily():
    """A bounded window: the pool never pulls the whole input before the first result is out."""
    pages = _pages()
    pulled = 0

    def feed():
        nonlocal pulled
        for i, page in enumerate(pages):
            pulled += 1
            yield i, page

    stream = workers.extract_in_order(feed(), jobs=2)
    next(stream)
    assert pulled <= 2 * workers.WINDOW_PER_JOB * workers.CHUNK
    stream.close()


def test_non_200_pages_are_not_extracted():
    page = RawPage(url="http://w.cumt.edu.cn/x.htm", body=PAGES[0].read_bytes(), status=404)
    assert [r for _, _, r in workers.extract_in_order([(0, page)], jobs=2)] == [None]


def test_one_process_works_in_chunks_in_input_order():
    """jobs == 1: work gets the jobs CHUNK at a time, in order, and the input is read one chunk ahead."""
    calls: list[list[int]] = []
    pulled = 0

    def feed():
        nonlocal pulled
        for i in range(2 * workers.CHUNK + 3):
            pulled += 1
            yield f"tag{i}", i

    stream = workers.map_in_order(_squares_logged(calls), feed(), jobs=1)
    first = next(stream)
    assert first == (("tag0", 0), 0)
    assert pulled == workers.CHUNK and calls == [list(range(workers.CHUNK))]
    rest = list(stream)
    assert [pair for pair, _ in [first, *rest]] == [(f"tag{i}", i) for i in range(2 * workers.CHUNK + 3)]
    assert [done for _, done in [first, *rest]] == [i * i for i in range(2 * workers.CHUNK + 3)]
    assert [len(chunk) for chunk in calls] == [workers.CHUNK, workers.CHUNK, 3]


def _squares_logged(calls: list[list[int]]):
    def work(jobs: list[int]) -> list[int]:
        calls.append(list(jobs))
        return [job * job for job in jobs]
    return work


def test_a_chunk_function_that_loses_a_result_is_an_error():
    with pytest.raises(ValueError):
        list(workers.map_in_order(lambda jobs: jobs[1:], [(0, 0), (1, 1)], jobs=1))


@pytest.mark.parametrize("given, expected", [(1, 1), (3, 3), (None, workers.default_jobs()), (0, workers.default_jobs())])
def test_jobs(given, expected):
    assert workers.check_jobs(given) == expected


def test_negative_jobs_refused():
    with pytest.raises(workers.JobsError, match="--jobs -1"):
        workers.check_jobs(-1)


def regenerate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cumt_archive.cli", "regenerate", "--quiet", *args],
                          capture_output=True, text=True, timeout=300)


def _saved_tree(root: Path) -> Path:
    """The fixture site (articles, lists, media) plus every fixture page under hosts of its own."""
    shutil.copytree(FIXTURES / "site", root)
    for i, body in enumerate(PAGES * 5):
        target = root / f"copy{i}.cumt.edu.cn" / "info" / "1002" / f"{i}.htm"
        target.parent.mkdir(parents=True)
        shutil.copy(body, target)
    return root


def _archive_state(archive: Path) -> dict[str, object]:
    """Everything a run writes that does not name its own time or process."""
    db = sqlite3.connect(archive / "index.sqlite")
    try:
        articles = db.execute(
            "SELECT a.urlname, a.url, a.title, a.published, a.status, a.reason, a.content_sha1, a.path, c.url "
            "FROM articles a LEFT JOIN captures c ON c.warc_file = a.warc_file AND c.warc_offset = a.warc_offset "
            "ORDER BY a.urlname").fetchall()
        captures = db.execute("SELECT url, status, fetched_at FROM captures ORDER BY warc_file, warc_offset").fetchall()
    finally:
        db.close()
    files = {str(p.relative_to(archive)): p.read_bytes()
             for folder in ("posts", "media") for p in sorted((archive / folder).rglob("*")) if p.is_file()}
    return {"articles": articles, "captures": captures, "files": files}


def test_jobs_2_writes_exactly_what_jobs_1_writes(tmp_path):
    tree = _saved_tree(tmp_path / "saved")
    states, summaries = [], []
    for jobs in ("1", "2"):
        archive = tmp_path / f"archive-j{jobs}"
        proc = regenerate("--jobs", jobs, "--from-html", str(tree), "--archive", str(archive))
        assert proc.returncode == 0, proc.stderr
        summaries.append(proc.stdout.split(": ", 1)[1])
        state = _archive_state(archive)
        # then again from the archive's own WARC, after the Markdown is gone
        shutil.rmtree(archive / "posts")
        again = regenerate("--jobs", jobs, "--archive", str(archive))
        assert again.returncode == 0, again.stderr
        summaries.append(again.stdout.split(": ", 1)[1])
        assert _archive_state(archive)["files"] == state["files"]
        states.append(state)
    one, two = states
    assert one["files"] and any(name.startswith("media") for name in one["files"])
    assert len(one["articles"]) > len(PAGES)
    assert all(row[-1] == row[1] for row in one["articles"] if row[4] == "ok")  # WARC positions point at the page
    assert two == one
    counts = [re.sub(r"; \d+ pages in [^;]*pages/s", "", text) for text in summaries]  # not the timings
    assert counts[0] == counts[2] and counts[1] == counts[3]


def test_the_parent_of_a_pool_never_loads_surt(tmp_path):
    """Workers take each page record's SURT key, so the writing process is spared surt's start-up (0.3 s).
    (A tree that holds media has the writer capture them, and take their keys itself.)"""
    archive, pages = tmp_path / "archive", tmp_path / "pages"
    shutil.copytree(FIXTURES / "site", pages, ignore=shutil.ignore_patterns("*.jpg", "*.png", "*.pdf", "*.json"))
    code = ("import sys; from cumt_archive.cli import main; "
            f"rc = main(['regenerate', '--quiet', '--jobs', '2', '--from-html', {str(pages)!r}, "
            f"'--archive', {str(archive)!r}]); print(rc, 'surt' in sys.modules, 'tldextract' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split()[-3:] == ["0", "False", "False"], proc.stdout + proc.stderr
    lines = (archive / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    assert lines and all(line.startswith("cn,edu,cumt") for line in lines if "cumt.edu.cn" in line.split()[2])


def test_the_command_line_starts_the_fork_server_with_what_regenerate_workers_load():
    from cumt_archive import cli, regenerate

    assert set(cli.REGENERATE_WORKERS_LOAD) == {regenerate.read_saved_pages.__module__, *regenerate.WORKER_PRELOAD}


def test_bad_jobs_is_a_usage_error_that_touches_nothing(tmp_path):
    archive = tmp_path / "archive"
    proc = regenerate("--jobs", "-2", "--from-html", str(FIXTURES / "site"), "--archive", str(archive))
    assert proc.returncode == 2
    assert "--jobs -2" in proc.stderr
    assert not archive.exists()


def test_media_probe_only_when_the_tree_holds_media(tmp_path):
    pages_only = tmp_path / "pages"
    (pages_only / "w.cumt.edu.cn" / "info").mkdir(parents=True)
    shutil.copy(PAGES[0], pages_only / "w.cumt.edu.cn" / "info" / "1.htm")
    assert _holds_media(pages_only) is False
    # Hidden files, pages by any case of their suffix, and a link to a folder elsewhere (listed, never
    # entered) hold no media to copy.
    (pages_only / "w.cumt.edu.cn" / ".listing.jpg").write_bytes(b"\xff\xd8")
    (pages_only / "w.cumt.edu.cn" / "info" / "2.SHTML").write_bytes(b"<html></html>")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.jpg").write_bytes(b"\xff\xd8")
    (pages_only / "w.cumt.edu.cn" / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert _holds_media(pages_only) is False
    deep = pages_only / "w.cumt.edu.cn" / "upload" / "2024" / "05" / "17"
    deep.mkdir(parents=True)
    (deep / "a.jpg").write_bytes(b"\xff\xd8")
    assert _holds_media(pages_only) is True
    assert _holds_media(FIXTURES / "site") is True


def test_crawl_extracts_in_worker_processes_and_refuses_a_bad_count(tmp_path, mirror_factory):
    import json as _json

    from conftest import run_crawl

    site = FIXTURES / "site"
    expected = _json.loads((site / "EXPECTED.json").read_text(encoding="utf-8"))
    mirror = mirror_factory(site)
    bad = run_crawl(tmp_path / "bad", expected["lists"], mirror.proxy_url, "-s", "EXTRACTION_PROCESSES=-1")
    assert bad.returncode == 2
    assert "EXTRACTION_PROCESSES=" in bad.log
    assert not (tmp_path / "bad").exists()
    # One worker: every article is extracted there and archived, as with any other count.
    done = run_crawl(tmp_path / "one", expected["lists"], mirror.proxy_url, "-s", "EXTRACTION_PROCESSES=1",
                     "-s", "LOG_LEVEL=DEBUG")
    assert done.returncode == 0, done.log[-3000:]
    assert "extracting articles in 1 worker process(es)" in done.log
    assert len(list((tmp_path / "one" / "posts").glob("*.md"))) == len(expected["articles"])


def test_pool_workers_run_at_the_niceness_asked_for():
    """The crawl's workers yield the CPU to the reactor thread: they run `niceness` steps nicer."""
    import os

    own = os.nice(0)
    for niceness in (0, 5):
        pool = workers.start_warm_pool(1, niceness)
        try:
            assert pool.submit(os.nice, 0).result() == min(own + niceness, 19)
        finally:
            pool.shutdown()


def test_list_pages_are_read_in_a_worker_as_in_process_and_refusals_come_back_raised():
    """The crawl's list callback sends its pages to the pool: the same ListPage, and the same refusal."""
    import pickle

    from cumt_archive.extract import PageTooLarge, UnknownFamily, extract_list

    for refusal in (UnknownFamily("http://x.cn/a.htm", "not a list page"), PageTooLarge("http://x.cn/b.htm", "9 MB")):
        again = pickle.loads(pickle.dumps(refusal))
        assert (type(again), again.url, again.detail, again.reason, str(again)) == \
            (type(refusal), refusal.url, refusal.detail, refusal.reason, str(refusal))
    lists = [RawPage(url="http://xwzx.cumt.edu.cn/523/list.htm",
                     body=(FIXTURES / "site" / "xwzx.cumt.edu.cn" / "523" / "list.htm").read_bytes()),
             RawPage(url="http://news.cumt.edu.cn/sdxw.htm",
                     body=(FIXTURES / "site" / "news.cumt.edu.cn" / "sdxw.htm").read_bytes())]
    pool = workers.start_warm_pool(1, 0)
    try:
        for page in lists:
            listing = workers.submit_list(pool, page).result()
            assert listing == extract_list(page) and listing.items
        with pytest.raises(UnknownFamily, match="not a list page"):
            workers.submit_list(pool, RawPage(url="http://x.cn/p.htm", body=b"<html><body><p>hi</p></body></html>")).result()
    finally:
        pool.shutdown()


def test_a_worker_takes_the_story_key_and_the_article_carries_it_back():
    """The story key (a digest of the whole text) is computed on a worker's core, not by the crawl's reactor."""
    from cumt_archive.model import Article

    pages = _pages()[:len(PAGES)]
    pool = workers.start_warm_pool(1, 0)
    try:
        results = [workers.submit_article(pool, page).result() for page in pages]
    finally:
        pool.shutdown()
    articles = [(page, r) for page, r in zip(pages, results) if isinstance(r, Article)]
    assert articles
    for page, article in articles:
        assert "story_key" in vars(article)  # cached before the article left the worker
        here = extract_article(page)
        assert "story_key" not in vars(here) and article.story_key == here.story_key and article == here


def test_the_media_probe_waits_for_the_first_article_with_media(tmp_path, monkeypatch):
    """The tree is walked for media only once an article names some (with workers, while they extract)."""
    from cumt_archive import cli
    from cumt_archive import regenerate as regen
    from cumt_archive.model import Article

    calls: list[Path] = []
    probe = regen._holds_media
    monkeypatch.setattr(regen, "_holds_media", lambda source: calls.append(source) or probe(source))
    by_media: dict[bool, Path] = {}
    for path in PAGES:
        result = extract_article(RawPage(url="http://w.cumt.edu.cn/info/1002/1.htm", body=path.read_bytes()))
        if isinstance(result, Article):
            by_media.setdefault(bool(result.media), path)
    assert set(by_media) == {True, False}
    for has_media, page in sorted(by_media.items()):
        tree = tmp_path / f"tree-{has_media}"
        (tree / "w.cumt.edu.cn" / "info" / "1002").mkdir(parents=True)
        for i in range(3):
            shutil.copy(page, tree / "w.cumt.edu.cn" / "info" / "1002" / f"{i + 1}.htm")
        calls.clear()
        assert cli.main(["regenerate", "--quiet", "--jobs", "1", "--from-html", str(tree),
                         "--archive", str(tmp_path / f"archive-{has_media}")]) == 0
        assert calls == ([tree] if has_media else [])


def test_pool_pipes_hold_a_whole_chunk():
    """A worker's results for a chunk go into the pipe at once, instead of waiting for the parent to read."""
    import fcntl

    pool = workers.start_pool(1)
    try:
        for queue in (pool._call_queue, pool._result_queue):
            assert fcntl.fcntl(queue._reader.fileno(), fcntl.F_GETPIPE_SZ) >= workers.PIPE_BYTES
        assert pool.submit(sum, [1, 2, 3]).result() == 6
    finally:
        pool.shutdown()


def test_pipes_are_enlarged_where_they_are_found_and_nothing_else_is_touched(tmp_path):
    """The executor's queues are not its API: a queue missing, or a descriptor that is no pipe, is passed over."""
    import fcntl
    import types

    read_end, write_end = os.pipe()
    with open(tmp_path / "plain", "wb") as plain:
        executor = types.SimpleNamespace(
            _call_queue=types.SimpleNamespace(_reader=types.SimpleNamespace(fileno=lambda: read_end)),
            _result_queue=types.SimpleNamespace(_reader=plain))  # a file, where a pipe was expected
        try:
            before = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
            workers.enlarge_pipes(executor)  # type: ignore[arg-type]
            assert before < workers.PIPE_BYTES <= fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
            workers.enlarge_pipes(types.SimpleNamespace())  # type: ignore[arg-type]  # no queues at all
        finally:
            os.close(read_end)
            os.close(write_end)


OWNER = """
import os, sys, time
from cumt_archive import workers
if __name__ == "__main__":
    pool = workers.start_pool(2)
    [f.result() for f in [pool.submit(time.sleep, 0.5) for _ in range(2)]]  # two busy at once: two workers
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_a_killed_owner_takes_its_workers_and_fork_server_with_it(tmp_path):
    """SIGKILL never lets the owner shut its pool down: the workers and the fork server must end all the
    same, and not sit on their memory for good."""
    import signal
    import time

    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        server = _parent_of(pids[0])
        assert server != owner.pid and _alive(server)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in [*pids, server]):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in [*pids, server])
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
