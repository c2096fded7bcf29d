"""Extraction on every core: a pool of worker processes that parse and extract pages.

Extraction is pure (RawPage -> Article | NotArticle) and costs milliseconds of CPU per page, while
everything with side effects (WARC, index, Markdown files) is cheap and must stay in one process
and in order. So the workers only extract; the parent keeps writing, in input order, and sees
exactly the results a single process would compute: output is byte-identical whatever `jobs` is.

Workers are started through a fork server, never forked from the caller: the caller may hold the
archive's lock, an SQLite connection or (in a crawl) the reactor's threads, none of which a child
may inherit. As with any pool not started by fork, each worker imports the caller's main module
first, so a script that starts a pool needs the usual `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import fcntl
import itertools
import multiprocessing
import multiprocessing.forkserver
import os
import select
import signal
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator, TypeVar

from .collector import settle_collector
from .model import Article, ListPage, NotArticle, RawPage

Extracted = Article | NotArticle | None
Tag = TypeVar("Tag")
Job = TypeVar("Job")
Done = TypeVar("Done")

# Modules every worker needs: imported once by the fork server, so each worker starts warm
# (map_in_order adds the module of the function its workers run).
_PRELOAD = ["cumt_archive.extract", "cumt_archive.model"]
# Pages per chunk (map_in_order). ProcessPoolExecutor hands a worker only one task beyond those running, through a
# thread of the parent that must win the GIL from the parent's own busy thread (writing WARC records)
# each time; tasks of many pages keep the workers fed in between (measured: 16 beat 4 per task, which
# beat multiprocessing.Pool's unbounded pipe, whose parent-side cost per page is higher; once the pipes
# held a whole chunk, 32 beat 16: --jobs 2 in 0.983 of the time, --jobs 1 in 0.991).
CHUNK = 32
# Tasks in flight per worker: enough to keep every worker busy while the parent writes, few enough
# that memory stays flat (at most jobs * WINDOW_PER_JOB * CHUNK pages are held at once: with two workers,
# about 5 MB of results, and as much again of pages read from a WARC).
WINDOW_PER_JOB = 3


class JobsError(ValueError):
    """An unusable --jobs value; the message says which."""


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_jobs(jobs: int | None) -> int:
    """jobs as given (None or 0: one per core) -> a worker count >= 1; JobsError when negative."""
    if jobs is None or jobs == 0:
        return default_jobs()
    if jobs < 0:
        raise JobsError(f"--jobs {jobs}: use a whole number >= 1 (or 0 for one per core)")
    return jobs


def extract_page(page: RawPage) -> Extracted:
    """What regenerate and the crawl extract from one page: an Article or NotArticle; None when the
    response was not a 200 (an error page is archived, never extracted)."""
    return _extract_article(page) if page.status == 200 else None


def extract_pages(pages: list[RawPage]) -> list[Extracted]:
    """extract_page of each page, in order (map_in_order's unit of work)."""
    return [extract_page(page) for page in pages]


def start_fork_server(preload: Iterable[str] = ()) -> None:
    """Start the fork server now, loading the modules workers need (and `preload`) while the caller
    goes on loading its own: a pool started later forks warm workers at once, instead of waiting for
    a fresh interpreter to import extraction (a third of a second) after the caller already has."""
    multiprocessing.get_context("forkserver").set_forkserver_preload([*_PRELOAD, *preload])
    multiprocessing.forkserver.ensure_running()


def start_pool(jobs: int, niceness: int = 0, preload: Iterable[str] = ()) -> ProcessPoolExecutor:
    """A pool of `jobs` extraction workers, started from a fork server (see the module docstring),
    each `niceness` steps less favoured by the scheduler than a normal process."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*_PRELOAD, *preload])
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                               initargs=(niceness, os.getpid()))
    enlarge_pipes(pool)
    return pool


# A chunk's results are about 800 KB (25 KB a page), its pages from a WARC about twice that, and a pipe
# holds 64 KiB: a worker then waits in its send until the parent's result thread, which must win the GIL
# from the busy writer each time, has read the rest (measured: 0.3 s of each worker's 6 s in a regenerate
# of 5,000 pages). Pipes of 1 MiB take a chunk's results at once: regenerate --jobs 2 in 0.986 of the time.
PIPE_BYTES = 1 << 20  # Linux's default limit for a process without privileges (/proc/sys/fs/pipe-max-size)


def enlarge_pipes(pool: ProcessPoolExecutor) -> None:
    """Give the pool's pipes (its call and result queues) PIPE_BYTES of buffer, where the system allows.
    The queues are the executor's own attributes, not its API: without them, or without the right to
    enlarge a pipe, the pool works as it is, only slower."""
    for name in ("_call_queue", "_result_queue"):
        reader = getattr(getattr(pool, name, None), "_reader", None)
        try:
            fcntl.fcntl(reader.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[union-attr]
        except (AttributeError, OSError):
            pass


def follow_owner(owner: int) -> None:
    """End this worker, and the fork server it came from, once `owner` (the process that started the pool)
    has ended. A crawl or regenerate killed outright (SIGKILL, the OOM killer) never shuts its pool down,
    and the fork server outlives it for as long as anything holds its end of their pipe: without this,
    the fork server, the workers and the resource tracker stayed behind, some 40 MB each, and the pool's
    semaphores in /dev/shm with them. Linux only (pidfd): elsewhere nothing is watched."""
    try:
        owner_fd = os.pidfd_open(owner)
    except ProcessLookupError:  # ended already
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here
        return
    server_fd = _fork_server_fd()

    def watch() -> None:
        select.select([owner_fd], [], [])  # readable once the owner has ended
        if server_fd is not None:
            try:
                signal.pidfd_send_signal(server_fd, signal.SIGTERM)
            except OSError:
                pass  # ended already
        os._exit(1)

    threading.Thread(target=watch, name="follow-owner", daemon=True).start()


def _fork_server_fd() -> int | None:
    """A pidfd of this worker's parent if that is the fork server; None otherwise. A worker whose fork server
    has ended belongs to init or a subreaper by now, which must never be sent the signal."""
    parent = os.getppid()
    try:
        server_fd = os.pidfd_open(parent)  # (before the check: the pidfd keeps naming this process)
    except OSError:
        return None
    try:
        with open(f"/proc/{parent}/cmdline", "rb") as cmdline:
            if b"multiprocessing.forkserver" in cmdline.read():
                return server_fd
    except OSError:
        pass
    os.close(server_fd)
    return None


def _start_worker(niceness: int, owner: int) -> None:
    """Ctrl-C reaches the whole process group: only the parent acts on it (a crawl then finishes the
    pages in flight, which needs its workers alive), and it stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    follow_owner(owner)
    # The modules the fork server loaded are the worker's for good: the collector need never look at
    # them again, and leaving their memory untouched keeps it shared with the fork server. A worker's
    # pages are a long run of allocations too (collector.py).
    settle_collector()
    if niceness:
        try:
            os.nice(niceness)
        except OSError:  # not allowed here: the worker runs at the caller's priority, which is only slower
            pass


def start_warm_pool(jobs: int, niceness: int = 0) -> ProcessPoolExecutor:
    """start_pool, returning once every worker is up (workers start on demand, and the first start
    also starts the fork server: a blocking wait that the caller may want to do in a thread)."""
    pool = start_pool(jobs, niceness)
    wait([pool.submit(int) for _ in range(jobs)])
    return pool


def _extract_article(page: RawPage) -> Article | NotArticle:
    # Imported here, not at the top, so that importing this module stays cheap: the command line
    # starts the fork server (start_fork_server) before it loads extraction itself.
    from .extract import extract_article

    result = extract_article(page)
    if isinstance(result, Article):
        result.story_key  # noqa: B018 - computed here, on a worker's core: the article carries it back
    return result


def submit_article(pool: ProcessPoolExecutor, page: RawPage) -> "Future[Article | NotArticle]":
    """extract_article(page) as one task of the pool (the crawl's article callback)."""
    return pool.submit(_extract_article, page)


def _extract_list(page: RawPage) -> ListPage:
    from .extract import extract_list

    return extract_list(page)


def submit_list(pool: ProcessPoolExecutor, page: RawPage) -> "Future[ListPage]":
    """extract_list(page) as one task of the pool (the crawl's list callback); ListRefused comes back raised."""
    return pool.submit(_extract_list, page)


def extract_in_order(items: Iterable[tuple[Tag, RawPage]], jobs: int = 1
                     ) -> Iterator[tuple[Tag, RawPage, Extracted]]:
    """(tag, page) pairs -> (tag, page, extract_page(page)), in input order, streamed (see map_in_order)."""
    for (tag, page), result in map_in_order(extract_pages, items, jobs):
        yield tag, page, result


def map_in_order(work: Callable[[list[Job]], list[Done]], items: Iterable[tuple[Tag, Job]], jobs: int = 1,
                 preload: Iterable[str] = ()) -> Iterator[tuple[tuple[Tag, Job], Done]]:
    """(tag, job) pairs -> ((tag, job), its result), in input order, streamed.

    `work` maps a chunk of jobs (CHUNK of them, fewer at the end) to their results, in order; it must be
    a module-level function (it is sent to the workers by name). With jobs == 1 the chunks are worked
    here. With more, they go to `jobs` worker processes (whose fork server loads `preload` and work's
    module before it starts any) while at most jobs * WINDOW_PER_JOB chunks are in flight, so however
    many there are, only a bounded window of them (and of their results) is ever held.

    A chunk, not a job, is work's unit so that work can go through it in stages (every file's read, then
    every extraction, then every WARC record): each stage's code and data stay in the processor's caches
    for the whole chunk, where one job through all the stages, then the next, evicts them every time
    (measured: regenerate --jobs 1 in 0.88 of the time). One process works the same way: the parent
    writes a chunk's results together too.
    """
    chunks = _chunks(items)
    if jobs <= 1:
        for chunk in chunks:
            yield from zip(chunk, work([job for _, job in chunk]), strict=True)
        return
    pool = start_pool(jobs, preload=[work.__module__, *preload])
    window: deque[tuple[list[tuple[Tag, Job]], Future[list[Done]]]] = deque()
    limit = jobs * WINDOW_PER_JOB
    try:
        for chunk in chunks:
            window.append((chunk, pool.submit(work, [job for _, job in chunk])))
            while len(window) >= limit:
                yield from _drain(window.popleft())
        while window:
            yield from _drain(window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # nothing is pending unless the caller stopped early


def _chunks(items: Iterable[tuple[Tag, Job]]) -> Iterator[list[tuple[Tag, Job]]]:
    pending = iter(items)
    while chunk := list(itertools.islice(pending, CHUNK)):
        yield chunk


def _drain(entry: tuple[list[tuple[Tag, Job]], "Future[list[Done]]"]) -> Iterator[tuple[tuple[Tag, Job], Done]]:
    chunk, future = entry
    yield from zip(chunk, future.result(), strict=True)
