"""Article and list extraction off the reactor thread, for the crawl.

Extracting an article costs milliseconds of CPU; on the reactor thread that time is taken from
downloading, so at zero delay a crawl would fall far behind a bare spider. Here pages go to a pool
of worker processes (cumt_archive.workers) and each result comes back as a Deferred fired on the
reactor thread, which the spider's async callback awaits. What is extracted is exactly what the
same page gives in process.

    -s EXTRACTION_PROCESSES=N   N worker processes; 0 (the default) is one per core
    -s EXTRACTION_NICENESS=N    the workers' niceness above the crawl's own (default 10; 0: the same)
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from ..extract import extract_article, extract_list
from ..model import Article, ListPage, NotArticle, RawPage
from ..workers import JobsError, check_jobs, start_warm_pool, submit_article, submit_list

logger = logging.getLogger(__name__)
# The reactor thread is the crawl's bottleneck at zero delay (every response, capture and item passes
# through it), while extraction can lag a little without slowing anything: on a machine with few cores,
# workers that yield the CPU to the reactor make the whole crawl faster.
WORKER_NICENESS = 10


def processes_setting(settings: BaseSettings) -> int:
    """EXTRACTION_PROCESSES as a worker count; ValueError naming the setting when it is unusable."""
    setting = settings.get("EXTRACTION_PROCESSES", 0)
    try:
        return check_jobs(int(setting))
    except (TypeError, ValueError, JobsError):
        raise ValueError(f"EXTRACTION_PROCESSES={setting!r}: use a whole number >= 1, or 0 for one per core") from None


class ExtractionPool:
    """One per crawl: started when the spider opens (in a thread, so the reactor does not wait for
    the workers to come up), shut down when it closes. Until the workers are up, articles wait."""

    def __init__(self, crawler: Crawler, processes: int, niceness: int = 0) -> None:
        from twisted.internet import reactor  # the installed one, asyncio or not

        self._reactor: Any = reactor
        self.processes = processes
        self.niceness = niceness
        self._pool: ProcessPoolExecutor | None = None
        self._settled = False  # the pool started, or could not
        self._closed = False
        self._waiting: list[Deferred[None]] = []
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ExtractionPool":
        return cls(crawler, processes_setting(crawler.settings), crawler.settings.getint("EXTRACTION_NICENESS", WORKER_NICENESS))

    def spider_opened(self, spider: Spider) -> None:
        logger.debug("extracting articles in %d worker process(es)", self.processes)
        threads.deferToThread(start_warm_pool, self.processes, self.niceness).addCallbacks(self._started, self._not_started)

    def _started(self, pool: ProcessPoolExecutor) -> None:
        if self._closed:  # the crawl ended before its workers came up
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool = pool
        self._settle()

    def _not_started(self, failure: Failure) -> None:
        logger.error("extraction workers could not start (%s); extracting on the reactor thread", failure.value)
        self._settle()

    def _settle(self) -> None:
        self._settled = True
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            waiter.callback(None)

    def spider_closed(self, spider: Spider) -> None:
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # the crawl is over: nothing is pending
            self._pool = None

    async def extract(self, page: RawPage) -> Article | NotArticle:
        """extract_article(page), computed by a worker process (in this process if there is none)."""
        return await self._in_worker(submit_article, extract_article, page)  # type: ignore[no-any-return]

    async def extract_list(self, page: RawPage) -> ListPage:
        """extract_list(page), likewise; raises ListRefused as extract_list does. Until the workers are up it
        is read here: the crawl's first list pages decide everything it fetches, and must not wait."""
        if not self._settled:
            return extract_list(page)
        return await self._in_worker(submit_list, extract_list, page)  # type: ignore[no-any-return]

    async def _in_worker(self, submit: Callable[[ProcessPoolExecutor, RawPage], Future[Any]],
                         here: Callable[[RawPage], Any], page: RawPage) -> Any:
        if not self._settled:  # a page before the workers are up: wait for them
            waiter: Deferred[None] = Deferred()
            self._waiting.append(waiter)
            await maybe_deferred_to_future(waiter)
        pool = self._pool
        if pool is None:
            return here(page)
        try:
            future = submit(pool, page)
        except (BrokenProcessPool, RuntimeError) as exc:  # a worker died earlier, or the pool is shut down
            return self._in_process(here, page, exc)
        fired: Deferred[Any] = Deferred()
        future.add_done_callback(lambda done: self._reactor.callFromThread(_fire, fired, done))
        try:
            return await maybe_deferred_to_future(fired)
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory) with this page in hand
            return self._in_process(here, page, exc)

    def _in_process(self, here: Callable[[RawPage], Any], page: RawPage, exc: Exception) -> Any:
        if self._pool is not None:
            logger.error("extraction workers failed (%s); extracting on the reactor thread from now on, "
                         "starting with %s", exc, page.url)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        return here(page)


def _fire(fired: "Deferred[Any]", done: "Future[Any]") -> None:
    """On the reactor thread: hand a worker's result (or its exception) to the awaiting callback."""
    if fired.called:
        return
    if done.cancelled():  # the pool was shut down under it
        fired.errback(Failure(BrokenProcessPool("extraction pool shut down")))
        return
    exc = done.exception()
    if exc is not None:
        fired.errback(Failure(exc))
    else:
        fired.callback(done.result())
