"""Walking a column's list pages: follow the next page, or stop? (pure, no Scrapy, no I/O)

Lists show the newest stories first, and new stories push older ones to later
pages. "Stop at the first page with nothing new" is only safe if every run that
read stories of this column also walked on until it caught up: a run cut short
(killed, `max_pages`, `since`, a failed list page) can take the top of a column
and leave what the new stories pushed down unvisited, and the next run would
then stop on a page that looks old. So the archive remembers, per column, the
run that last completed a walk (reached the end, or caught up with what an
earlier complete walk had seen), and the run that first saw each story on the
column's pages. A story counts as old only if a complete walk had seen it;
everything first seen since, by a run that may not have finished, still counts
as fresh, and the walk goes on until it reaches a page of old stories again.
(Whether each story was archived is another matter: failures are recorded and
retried on their own, see store/index.py.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

DEFAULT_MAX_LIST_PAGES = 5000  # no cumt column is near this; a pager claiming more is not believed


class Stop(Enum):
    """Why a walk ends. Only the first three leave the column complete."""

    END = "last page"
    CAUGHT_UP = "caught up: no story on this page is new since the last complete walk"
    EMPTY = "empty list page"
    MAX_PAGES = "max_pages reached"
    SINCE = "stories older than since"
    CAPPED = "pager claims more pages than MAX_LIST_PAGES"

    @property
    def complete(self) -> bool:
        return self in (Stop.END, Stop.CAUGHT_UP, Stop.EMPTY)


@dataclass(frozen=True)
class WalkLimits:
    """What the run was asked to do."""

    max_pages: int | None = None
    since: dt.date | None = None
    full: bool = False
    max_list_pages: int = DEFAULT_MAX_LIST_PAGES


@dataclass(frozen=True)
class ColumnMemory:
    """What the archive durably knows of a column."""

    complete_walk_run: int | None  # the run that last completed a walk; None: never walked to the end


@dataclass(frozen=True)
class PageView:
    """One list page, as classified against the archive."""

    page_no: int
    items: int  # stories listed on the page
    fresh: int  # of those: not settled at the last complete walk, and not shown on an earlier page this run
    oldest_date: dt.date | None  # of the dated items on the page
    has_next: bool  # a next page exists (pager link or computed URL within the pager's total)
    last_old: bool = False  # the page's last story was seen by a complete walk: all below it were too
    skipped: int = 0  # fresh stories on the page that the run left out (older than since)


@dataclass(frozen=True)
class Step:
    follow: bool
    stop: Stop | None = None

    @property
    def complete(self) -> bool:
        return self.stop is not None and self.stop.complete


def is_old(first_seen_run: int | None, memory: ColumnMemory) -> bool:
    """A story this column's last complete walk (or an earlier run) had already seen on its pages."""
    if first_seen_run is None or memory.complete_walk_run is None:
        return False
    return first_seen_run <= memory.complete_walk_run


def walks_whole_column(limits: WalkLimits, memory: ColumnMemory) -> bool:
    """Backfills and columns never walked to the end ask for every page at once (the pager numbers them)."""
    return limits.since is None and (limits.full or memory.complete_walk_run is None)


def whole_walk_pages(total_pages: int, limits: WalkLimits) -> tuple[int, Stop]:
    """How many pages a whole walk asks for, and how it ends if every one of them is read."""
    last = total_pages
    stop = Stop.END
    if last > limits.max_list_pages:
        last, stop = limits.max_list_pages, Stop.CAPPED
    if limits.max_pages is not None and limits.max_pages < last:
        last, stop = limits.max_pages, Stop.MAX_PAGES
    return last, stop


def next_step(page: PageView, limits: WalkLimits, memory: ColumnMemory) -> Step:
    """After reading one list page of a page-by-page walk: follow the next page, or stop and why."""
    if page.items == 0:
        return Step(False, Stop.EMPTY)
    caught_up = page.fresh == 0 or (page.last_old and page.skipped == 0)
    if caught_up and not limits.full and memory.complete_walk_run is not None:
        # New stories come in at the top (pinned ones stay there): once the bottom of a page is a story
        # a complete walk had seen, everything below it was seen too, and this page's new ones are taken.
        return Step(False, Stop.CAUGHT_UP)
    if limits.since is not None and page.oldest_date is not None and page.oldest_date < limits.since:
        return Step(False, Stop.SINCE)
    if not page.has_next:
        return Step(False, Stop.END)
    if limits.max_pages is not None and page.page_no >= limits.max_pages:
        return Step(False, Stop.MAX_PAGES)
    if page.page_no >= limits.max_list_pages:
        return Step(False, Stop.CAPPED)
    return Step(True)
