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

import multiprocessing
import multiprocessing.pool
import os
import signal
from collections import deque
from typing import Iterable, Iterator, TypeVar

from .extract import extract_article
from .model import Article, NotArticle, RawPage

Extracted = Article | NotArticle | None
Tag = TypeVar("Tag")

# Modules every worker needs: imported once by the fork server, so each worker starts warm.
_PRELOAD = ["cumt_archive.extract", "cumt_archive.model"]
# Pages per task: one task per page would cost a round trip of the pool's queues per few ms of work.
CHUNK = 4
# Chunks in flight per worker: enough to keep every worker busy while the parent writes, few enough
# that memory stays flat (at most jobs * WINDOW_PER_JOB * CHUNK pages are held at once).
WINDOW_PER_JOB = 4
# No page takes minutes: a chunk without a result by then lost its worker.
CHUNK_TIMEOUT = 600.0


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
    return extract_article(page) if page.status == 200 else None


def _extract_chunk(pages: list[RawPage]) -> list[Extracted]:
    return [extract_page(page) for page in pages]


def start_pool(jobs: int) -> multiprocessing.pool.Pool:
    """A pool of `jobs` extraction workers, started from a fork server (see the module docstring).

    multiprocessing's Pool, not concurrent.futures': its workers read tasks straight from one pipe,
    however many are queued, while ProcessPoolExecutor queues only one task beyond the number of
    workers and relays the rest through a thread of the caller, which starves the workers whenever
    the caller's own thread is busy (writing WARC records, or running the reactor).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context.Pool(jobs, initializer=_ignore_interrupts)


def _ignore_interrupts() -> None:
    """Ctrl-C reaches the whole process group: only the parent acts on it (a crawl then finishes the
    pages in flight, which needs its workers alive), and it stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _extract_article(page: RawPage) -> Article | NotArticle:
    return extract_article(page)


def submit_article(pool: multiprocessing.pool.Pool, page: RawPage, on_result, on_error  # type: ignore[no-untyped-def]
                   ) -> None:
    """extract_article(page) as one task of the pool (the crawl's article callback); on_result or
    on_error is called with the outcome, in a thread of the pool."""
    pool.apply_async(_extract_article, (page,), callback=on_result, error_callback=on_error)


class WorkerLost(RuntimeError):
    """A chunk of pages got no result in time: a worker process died (a Pool does not report it)."""


def extract_in_order(items: Iterable[tuple[Tag, RawPage]], jobs: int = 1
                     ) -> Iterator[tuple[Tag, RawPage, Extracted]]:
    """(tag, page) pairs -> (tag, page, extract_page(page)), in input order, streamed.

    With jobs == 1 everything runs here, one page at a time. With more, pages go to `jobs` worker
    processes in chunks while at most jobs * WINDOW_PER_JOB chunks are in flight, so however many
    pages there are, only a bounded window of them is ever held.
    """
    if jobs <= 1:
        for tag, page in items:
            yield tag, page, extract_page(page)
        return
    pool = start_pool(jobs)
    window: deque[tuple[list[tuple[Tag, RawPage]], multiprocessing.pool.AsyncResult]] = deque()
    limit = jobs * WINDOW_PER_JOB
    try:
        chunk: list[tuple[Tag, RawPage]] = []
        for item in items:
            chunk.append(item)
            if len(chunk) < CHUNK:
                continue
            window.append((chunk, pool.apply_async(_extract_chunk, ([page for _, page in chunk],))))
            chunk = []
            while len(window) >= limit:
                yield from _drain(window.popleft())
        if chunk:
            window.append((chunk, pool.apply_async(_extract_chunk, ([page for _, page in chunk],))))
        while window:
            yield from _drain(window.popleft())
    finally:
        pool.terminate()  # every result is in (or no longer wanted): stop the workers now
        pool.join()


def _drain(entry: tuple[list[tuple[Tag, RawPage]], multiprocessing.pool.AsyncResult]
           ) -> Iterator[tuple[Tag, RawPage, Extracted]]:
    chunk, pending = entry
    try:
        results = pending.get(timeout=CHUNK_TIMEOUT)
    except multiprocessing.TimeoutError:
        raise WorkerLost(f"no extraction result after {CHUNK_TIMEOUT:.0f} s for {chunk[0][1].url} "
                         f"and {len(chunk) - 1} more: a worker process died?") from None
    for (tag, page), result in zip(chunk, results, strict=True):
        yield tag, page, result
