"""The `cumt` spider: decides what to fetch. Extraction and writing happen elsewhere.

    scrapy crawl cumt                                  # every column of the profile, incrementally
    scrapy crawl cumt -a columns=xwzx-523,news-sdxw    # some columns (keys from the profile)
    scrapy crawl cumt -a lists=http://host/col/list.htm[,URL...]
    scrapy crawl cumt -a since=2024-01-01 -a max_pages=3 -a full=1 -a refresh=1
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from warcio.exceptions import ArchiveLoadFailed

from ...extract import ListRefused, extract_article
from ...model import Article, NotArticle
from ...outcomes import Outcome
from ...pagination import page_url
from ...profile import Column, Profile, ProfileError, load_profile
from ...store.warc import WarcRef, read_page
from ...urls import host_matches, host_of, urlname
from ...walk import (DEFAULT_MAX_LIST_PAGES, ColumnMemory, PageView, WalkLimits, is_old, next_step,
                     walks_whole_column, whole_walk_pages)
from ..extraction_pool import ExtractionPool, processes_setting
from ..pipelines import ArticleItem
from ..refusals import describe_failure, story_failure_verdict
from ..run import STORAGE_ERRORS, ArchiveRun, get_run
from ..scrapy_page import raw_page

logger = logging.getLogger(__name__)

_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}
KNOWN_ARGUMENTS = ("lists", "columns", "since", "max_pages", "full", "refresh")


@dataclass(frozen=True)
class CrawlArguments:
    lists: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    since: dt.date | None = None
    max_pages: int | None = None
    full: bool = False
    refresh: bool = False


def _flag(name: str, value: str) -> bool:
    try:
        return _FLAGS[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"-a {name}={value!r}: use 1 or 0") from None


def parse_arguments(args: dict[str, Any]) -> CrawlArguments:
    """Spider arguments as given on the command line -> CrawlArguments, or ValueError saying what is wrong."""
    unknown = sorted(set(args) - set(KNOWN_ARGUMENTS))
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)}; known: {', '.join(KNOWN_ARGUMENTS)}")
    lists = tuple(u.strip() for u in str(args.get("lists") or "").split(",") if u.strip())
    for url in lists:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"-a lists: {url!r} is not an absolute http(s) URL")
    columns = tuple(c.strip() for c in str(args.get("columns") or "").split(",") if c.strip())
    since = None
    if args.get("since"):
        try:
            since = dt.date.fromisoformat(str(args["since"]).strip())
        except ValueError:
            raise ValueError(f"-a since={args['since']!r}: use YYYY-MM-DD") from None
    max_pages = None
    if args.get("max_pages") not in (None, ""):
        try:
            max_pages = int(str(args["max_pages"]))
        except ValueError:
            raise ValueError(f"-a max_pages={args['max_pages']!r}: use a whole number >= 1") from None
        if max_pages < 1:
            raise ValueError(f"-a max_pages={max_pages}: use a whole number >= 1")
    if lists and columns:
        raise ValueError("-a lists and -a columns cannot be combined")
    return CrawlArguments(lists, columns, since, max_pages, _flag("full", args.get("full", "0")),
                          _flag("refresh", args.get("refresh", "0")))


def select_columns(profile: Profile, keys: tuple[str, ...]) -> list[Column]:
    """The profile's columns named by keys (all of them when none are named); ValueError for unknown keys."""
    by_key = {c.key: c for c in profile.columns}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise ValueError(f"-a columns: unknown column(s) {', '.join(missing)}; the profile has {', '.join(by_key)}")
    return [by_key[k] for k in keys] if keys else list(profile.columns)


@dataclass(frozen=True)
class ColumnStart:
    key: str
    list_url: str


class CumtSpider(Spider):
    name = "cumt"
    allowed_domains: list[str] = []  # set from the profile and the given lists in from_crawler
    # Scrapy (2.13+, asyncio reactor) starts CONCURRENT_ITEMS tasks for every callback's output, however
    # small: 100 by default. On the reactor thread, which is the crawl's bottleneck at zero delay, that
    # cost shows (measured with py-spy: about 7% of its CPU time at 100). One is all our callbacks need:
    # an article's gives one item, a list page's only requests, which are queued at once.
    custom_settings = {"CONCURRENT_ITEMS": 1}

    @staticmethod
    def validate_arguments(args: dict[str, Any], settings: Any = None) -> None:
        """Raise ValueError for arguments the crawl cannot use, before anything starts."""
        parsed = parse_arguments(args)
        if settings is not None:
            processes_setting(settings)
        if parsed.columns and settings is not None:
            select_columns(load_profile(settings.get("SITE_PROFILE")), parsed.columns)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.arguments = parse_arguments(kwargs)
        super().__init__(*args)
        self.refresh = self.arguments.refresh
        self.run_arguments = {k: (str(v) if isinstance(v, dt.date) else v)
                              for k, v in asdict(self.arguments).items() if v}
        self.requested: set[str] = set()
        self.pending: dict[str, str] = {}  # story urlname -> URL, requested and not yet given an outcome
        self._shown: dict[str, set[str]] = {}  # column -> stories its pages showed in this run
        self.starts: list[ColumnStart] = []
        self.extraction: ExtractionPool  # set in from_crawler, once the settings are known
        self.allowed: tuple[str, ...] = ()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> "CumtSpider":
        spider: CumtSpider = super().from_crawler(crawler, *args, **kwargs)
        try:
            profile = load_profile(crawler.settings.get("SITE_PROFILE"))
        except ProfileError as exc:
            raise ValueError(str(exc)) from exc
        if spider.arguments.lists:
            spider.starts = [ColumnStart(url, url) for url in spider.arguments.lists]
        else:
            spider.starts = [ColumnStart(c.key, c.list_url) for c in select_columns(profile, spider.arguments.columns)]
        # Lists given on the command line may belong to another university: their own host counts as on-site.
        spider.allowed = tuple(profile.allowed_domains) + tuple(host_of(s.list_url) for s in spider.starts)
        # Scrapy's OffsiteMiddleware applies this to redirects too: a list item that redirects to WeChat
        # is not followed. (Media requests are exempt: an article's images may live anywhere.)
        spider.allowed_domains = list(dict.fromkeys(spider.allowed))
        spider.extraction = ExtractionPool.from_crawler(crawler)
        return spider

    @property
    def run(self) -> ArchiveRun:
        return get_run(self.crawler)

    async def start(self) -> AsyncIterator[Request | ArticleItem]:
        for row in self.run.index.articles_missing_media():
            # The page itself is archived: rebuild the item from its capture, so only the media are fetched.
            assert row.warc_file is not None and row.warc_offset is not None
            try:
                article = extract_article(read_page(self.run.archive.layout.warc / row.warc_file, row.warc_offset))
            except (OSError, ArchiveLoadFailed, ValueError, EOFError) as exc:
                # The capture is gone or damaged: fetch the story again instead (its file stays as it is).
                logger.warning("capture of %s unreadable (%s: %s), fetching the page again", row.url,
                               row.warc_file, exc)
                request = self._article_request(row.url, "", "")
                if request is not None:
                    yield request
                continue
            if isinstance(article, Article):
                logger.info("retrying %d missing media file(s) of %s", row.media_missing, row.url)
                yield ArticleItem(article=article, fetched_at=row.last_fetched or "",
                                  warc_ref=WarcRef(row.warc_file, row.warc_offset),
                                  file_urls=[m.url for m in article.media])
        for url in self.run.index.failed_urls():
            logger.info("retrying a story that failed in an earlier run: %s", url)
            request = self._article_request(url, "", "")
            if request is not None:
                yield request
        for start in self.starts:
            self.run.index.note_column(start.list_url)
            request = self._list_request(start.list_url, start.key, start.list_url, 1, None)
            yield request.replace(dont_filter=True)

    # -- list pages -------------------------------------------------------------------

    def _limits(self) -> WalkLimits:
        return WalkLimits(self.arguments.max_pages, self.arguments.since, self.arguments.full,
                          self.crawler.settings.getint("MAX_LIST_PAGES", DEFAULT_MAX_LIST_PAGES))

    async def parse_list(self, response: Response) -> list[Request]:
        # Callbacks return lists, not generators: Scrapy re-parses a generator callback's source on
        # every call to look for a return value, which costs more than the whole extraction.
        out: list[Request] = []
        meta = response.meta
        entry, column, page_no = meta["entry"], meta["column"], meta["page_no"]
        if meta.get("capture_failed"):
            self.run.column_failed(entry)
            return out
        try:
            listing = await self.extraction.extract_list(raw_page(response))  # in a worker process
        except ListRefused as exc:  # no known CMS family, or too large to parse
            logger.error("column %s incomplete: list page not read (%s): %s", column, exc.reason, exc)
            self.run.column_failed(entry)
            return out
        self.run.count("lists")
        memory = ColumnMemory(self.run.index.complete_walk_run(entry))
        limits = self._limits()
        total = meta.get("total") if page_no > 1 else listing.total_pages
        if page_no == 1 and total and total > limits.max_list_pages:
            logger.warning("column %s: the pager claims %d pages; reading at most MAX_LIST_PAGES=%d", column,
                           total, limits.max_list_pages)
        since = self.arguments.since
        shown = self._shown.setdefault(entry, set())
        last_old = bool(listing.items) and is_old(
            self.run.index.sighting_run(urlname(listing.items[-1].url), entry), memory)
        fresh = skipped_fresh = 0
        for item in listing.items:
            key = urlname(item.url)
            repeat = key in shown
            shown.add(key)
            skipped = bool(since and item.date and item.date < since)
            if not repeat:
                if not is_old(self.run.index.sighting_run(key, entry), memory):
                    fresh += 1
                    skipped_fresh += skipped
                if not skipped:  # a story left out by since is not seen: a later walk must take it
                    self.run.index.record_sighting(key, entry, column)
            if skipped:
                continue
            if not host_matches(host_of(item.url), self.allowed):
                if not repeat:
                    logger.info("off-site item not fetched: %s (%s) listed on %s", item.url, item.title,
                                response.url)
                    self.run.count("offsite")
                continue
            if self.run.index.is_known(key) and not self.refresh:
                continue
            request = self._article_request(item.url, entry, column)
            if request is not None:
                out.append(request)
        if meta.get("fanned_out"):
            return out  # page 1 scheduled this page together with its siblings; run.py judges the walk
        if page_no == 1 and total and walks_whole_column(limits, memory):
            # A whole walk needs no page-by-page decision: ask for every page now, as the pager numbers them.
            last, ending = whole_walk_pages(total, limits)
            logger.info("column %s: walking %d of %d pages", column, last, total)
            self.run.column_walk_ends(entry, ending)
            for n in range(2, last + 1):
                url = page_url(entry, listing.family, n, total)
                if url is not None:
                    out.append(self._list_request(url, column, entry, n, total, fanned_out=True))
            return out
        next_url = None
        if total:
            next_url = page_url(entry, listing.family, page_no + 1, total) if page_no < total else None
        else:
            next_url = listing.next_url
        dated = [i.date for i in listing.items if i.date]
        view = PageView(page_no, len(listing.items), fresh, min(dated) if dated else None, next_url is not None,
                        last_old, skipped_fresh)
        step = next_step(view, limits, memory)
        if step.follow and next_url is not None:
            out.append(self._list_request(next_url, column, entry, page_no + 1, total))
            return out
        assert step.stop is not None
        log = logger.info if step.complete else logger.warning
        log("column %s: stop after page %d (%s)%s", column, page_no, step.stop.value,
            "" if step.complete else "; the column is not walked to the end, the next run continues it")
        self.run.column_walk_ends(entry, step.stop)
        return out

    def _list_request(self, url: str, column: str, entry: str, page_no: int, total: int | None,
                      fanned_out: bool = False) -> Request:
        return Request(url, callback=self.parse_list, errback=self.list_failed, meta={
            "capture": True, "column": column, "entry": entry, "page_no": page_no, "total": total,
            "fanned_out": fanned_out,
        })

    def list_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        logger.error("column %s incomplete: list page failed: %s: %s", request.meta.get("column"), request.url,
                     describe_failure(failure.value))
        self.run.column_failed(request.meta.get("entry", ""))

    # -- articles ------------------------------------------------------------------------

    def _article_request(self, url: str, list_url: str, column: str) -> Request | None:
        key = urlname(url)
        if key in self.requested:
            return None
        self.requested.add(key)
        self.pending[key] = url
        return Request(url, callback=self.parse_article, errback=self.article_failed,
                       meta={"capture": True, "list_url": list_url, "column": column})

    async def parse_article(self, response: Response) -> list[ArticleItem]:
        page = raw_page(response)
        requested_url = (response.meta.get("redirect_urls") or [response.url])[0]
        if response.meta.get("capture_failed"):
            # Never an article without its capture: regenerate could not rebuild it.
            self._settle(requested_url, Outcome.FAILED, f"not captured: {response.meta['capture_failed']}", "failed")
            return []
        self.pending.pop(urlname(requested_url), None)
        # Extracted in a worker process, so the reactor keeps downloading meanwhile.
        result = await self.extraction.extract(page)
        if isinstance(result, NotArticle):
            self._not_article(requested_url, result)
            return []
        self.requested.add(result.urlname)
        self.pending.pop(result.urlname, None)
        return [ArticleItem(
            article=result,
            list_url=response.meta.get("list_url", ""),
            column=response.meta.get("column", ""),
            fetched_at=page.fetched_at,
            warc_ref=response.meta.get("warc_ref"),
            aliases=[u for u in response.meta.get("redirect_urls", []) if urlname(u) != result.urlname],
            file_urls=[m.url for m in result.media],
        )]

    def _settle(self, url: str, outcome: Outcome, reason: str, count: str) -> None:
        """The one place a story that is not archived gets its outcome: index row, counter, log line."""
        self.pending.pop(urlname(url), None)
        self.run.index.record_outcome(urlname=urlname(url), url=url, status=outcome, reason=reason)
        self.run.count(count)
        if outcome is Outcome.FAILED:
            logger.error("story failed, will be retried by a later run: %s: %s", url, reason)
        else:
            logger.warning("%s (%s), nothing archived: %s", _OUTCOME_WORDS[outcome], reason, url)

    def _not_article(self, url: str, result: NotArticle) -> None:
        if result.reason == "challenge":  # the firewall, not the page: try again in a later run
            self._settle(url, Outcome.FAILED, f"{result.reason}: {result.detail}", "failed")
        else:
            self._settle(url, Outcome.NOT_ARTICLE, f"{result.reason}: {result.detail}", "not_articles")

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the story's own URL, as listed
        verdict = story_failure_verdict(failure.value)
        self._settle(url, verdict.outcome, verdict.reason, verdict.count)

    def closed(self, reason: str) -> None:
        try:
            self._settle_pending(reason)
        except STORAGE_ERRORS as exc:
            self.run.storage_failed(exc, "recording stories not fetched")

    def _settle_pending(self, reason: str) -> None:
        # A request Scrapy dropped without calling back (a redirect loop A -> B -> A meets the duplicate
        # filter; a redirect to a story requested already) must not vanish: it is recorded as failed.
        for key, url in sorted(self.pending.items()):
            if self.run.index.is_known(key):
                continue
            target = self.run.redirect_targets.get(url)
            if target is not None and urlname(target) != key and urlname(target) in self.requested:
                self._settle(url, Outcome.ALIAS, f"redirects to {target}", "duplicates")
            elif target is not None:
                self._settle(url, Outcome.FAILED, f"redirect loop: {url} -> ... -> {target}", "failed")
            elif reason == "finished":
                self._settle(url, Outcome.FAILED, "no answer: the request was dropped", "failed")
            else:
                self._settle(url, Outcome.FAILED, f"not fetched: the run ended early ({reason})", "failed")
        self.pending.clear()


_OUTCOME_WORDS = {
    Outcome.NOT_ARTICLE: "not an article",
    Outcome.GONE: "gone",
    Outcome.REFUSED: "not fetched",
    Outcome.ALIAS: "same story as another URL",
}
