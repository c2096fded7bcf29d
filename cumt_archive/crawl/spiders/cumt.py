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
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from ..extraction_pool import ExtractionPool, processes_setting
from ..run import ArchiveRun, get_run
from ...extract import UnknownFamily, extract_article, extract_list
from ...model import Article, NotArticle
from ...pagination import page_url
from ..pipelines import ArticleItem
from ...profile import Column, Profile, ProfileError, load_profile
from ..scrapy_page import raw_page
from ...store.warc import WarcRef, read_page
from ...urls import host_matches, host_of, urlname

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
        self.starts: list[ColumnStart] = []
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
            article = extract_article(read_page(self.run.archive.layout.warc / row.warc_file, row.warc_offset))
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
            request = self._list_request(start.list_url, start.key, start.list_url, 1, None)
            yield request.replace(dont_filter=True)

    # -- list pages -------------------------------------------------------------------

    def parse_list(self, response: Response) -> list[Request]:
        # Callbacks return lists, not generators: Scrapy re-parses a generator callback's source on
        # every call to look for a return value, which costs more than the whole extraction.
        out: list[Request] = []
        meta = response.meta
        entry, column, page_no = meta["entry"], meta["column"], meta["page_no"]
        try:
            listing = extract_list(raw_page(response))
        except UnknownFamily as exc:
            logger.error("list page is neither WebPlus nor VSB, column %s not crawled: %s", column, exc)
            self.run.count("failed")
            return out
        self.run.count("lists")
        total = meta.get("total") if page_no > 1 else listing.total_pages
        since = self.arguments.since
        new = 0
        for item in listing.items:
            if since and item.date and item.date < since:
                continue
            if not host_matches(host_of(item.url), self.allowed):
                logger.info("off-site item not fetched: %s (%s) listed on %s", item.url, item.title, response.url)
                self.run.count("offsite")
                continue
            key = urlname(item.url)
            if self.run.index.is_known(key) and not self.refresh:
                self.run.index.record_sighting(key, entry, column)
                continue
            if key in self.requested:
                continue  # listed again (VSB repeats hidden items on the next page): not news for paging
            new += 1
            request = self._article_request(item.url, entry, column)
            if request is not None:
                out.append(request)
        if meta.get("fanned_out"):
            return out  # page 1 scheduled this page together with its siblings
        dated = [i.date for i in listing.items if i.date]
        walked = self.run.index.column_walked(entry)
        # Only a walk that reached the column's end, or caught up with what is archived, lets later runs
        # stop early; a walk cut short by max_pages or since leaves the column to be walked again.
        stop, reached_end = None, True
        if not listing.items:
            stop = "empty list page"
        elif self.arguments.max_pages and page_no >= self.arguments.max_pages:
            stop, reached_end = f"max_pages={self.arguments.max_pages} reached", False
        elif since and dated and dated[-1] < since:
            stop, reached_end = f"stories older than {since}", False
        elif new == 0 and not self.arguments.full and walked:
            stop = "no story on this page that is not archived yet"
        if stop is None and page_no == 1 and total and not since and (self.arguments.full or not walked):
            # A whole walk needs no page-by-page decision: ask for every page now, as the pager numbers them.
            last = min(total, self.arguments.max_pages or total)
            urls = [page_url(entry, listing.family, n, total) for n in range(2, last + 1)]
            logger.info("column %s: walking %d of %d pages", column, last, total)
            if last == total:
                self.run.columns_done.add(entry)
            for n, url in enumerate(urls, 2):
                if url is not None:
                    out.append(self._list_request(url, column, entry, n, total, fanned_out=True))
            return out
        next_url = None
        if stop is None:
            next_url = page_url(entry, listing.family, page_no + 1, total) if total else listing.next_url
            if next_url is None:
                stop = "last page"
        if stop is not None or next_url is None:
            logger.info("column %s: stop after page %d (%s)", column, page_no, stop)
            if reached_end:
                self.run.columns_done.add(entry)
            return out
        out.append(self._list_request(next_url, column, entry, page_no + 1, total))
        return out

    def _list_request(self, url: str, column: str, entry: str, page_no: int, total: int | None,
                      fanned_out: bool = False) -> Request:
        return Request(url, callback=self.parse_list, errback=self.list_failed, meta={
            "capture": True, "column": column, "entry": entry, "page_no": page_no, "total": total,
            "fanned_out": fanned_out,
        })

    def list_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        logger.error("list page failed, column %s incomplete: %s: %s", request.meta.get("column"), request.url,
                     _failure_text(failure))
        self.run.columns_incomplete.add(request.meta.get("entry", ""))
        self.run.count("failed")

    # -- articles ------------------------------------------------------------------------

    def _article_request(self, url: str, list_url: str, column: str) -> Request | None:
        key = urlname(url)
        if key in self.requested:
            return None
        self.requested.add(key)
        return Request(url, callback=self.parse_article, errback=self.article_failed,
                       meta={"capture": True, "list_url": list_url, "column": column})

    async def parse_article(self, response: Response) -> list[ArticleItem]:
        page = raw_page(response)
        requested_url = (response.meta.get("redirect_urls") or [response.url])[0]
        # Extracted in a worker process, so the reactor keeps downloading meanwhile.
        result = await self.extraction.extract(page)
        if isinstance(result, NotArticle):
            self._not_article(requested_url, result)
            return []
        self.requested.add(result.urlname)
        return [ArticleItem(
            article=result,
            list_url=response.meta.get("list_url", ""),
            column=response.meta.get("column", ""),
            fetched_at=page.fetched_at,
            warc_ref=response.meta.get("warc_ref"),
            aliases=[u for u in response.meta.get("redirect_urls", []) if urlname(u) != result.urlname],
            file_urls=[m.url for m in result.media],
        )]

    def _not_article(self, url: str, result: NotArticle) -> None:
        retry_later = result.reason == "challenge"
        status = "failed" if retry_later else "not_article"
        self.run.index.record_outcome(urlname=urlname(url), url=url, status=status,
                                      reason=f"{result.reason}: {result.detail}")
        self.run.count("failed" if retry_later else "not_articles")
        logger.warning("not an article (%s: %s), nothing archived: %s", result.reason, result.detail, url)

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the story's own URL, as listed
        if failure.check(HttpError):
            status = failure.value.response.status  # type: ignore[union-attr]
            if status in (404, 410):
                self.run.index.record_outcome(urlname=urlname(url), url=url, status="gone", reason=f"HTTP {status}")
                self.run.count("gone")
                logger.warning("HTTP %d, recorded as gone: %s", status, url)
                return
            if status == 412:
                self._not_article(url, NotArticle(url, "challenge", "HTTP 412 script challenge"))
                return
        if failure.check(IgnoreRequest) and "script challenge" in str(failure.value):
            self._not_article(url, NotArticle(url, "challenge", "host challenged an earlier request; not requested"))
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.run.index.record_outcome(urlname=urlname(url), url=url, status="not_article",
                                          reason="forbidden by robots.txt")
            self.run.count("not_articles")
            logger.warning("forbidden by robots.txt, not fetched: %s", url)
            return
        reason = _failure_text(failure)
        self.run.index.record_outcome(urlname=urlname(url), url=url, status="failed", reason=reason)
        self.run.count("failed")
        logger.error("story failed, will be retried next run: %s: %s", url, reason)


def _failure_text(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"  # type: ignore[union-attr]
    return f"{type(failure.value).__name__}: {failure.value}"
