"""The column walk decision (walk.py), in-process: fixed cases, and a few hundred random schedules of
runs with kills, max_pages, since and failing list pages, each followed by one plain run that must
leave every listed story archived."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import pytest

from cumt_archive.walk import (ColumnMemory, PageView, Stop, WalkLimits, is_old, next_step, walks_whole_column,
                               whole_walk_pages)

NEVER = ColumnMemory(None)
WALKED = ColumnMemory(5)


def view(page_no: int = 1, items: int = 10, fresh: int = 0, oldest: dt.date | None = None,
         has_next: bool = True) -> PageView:
    return PageView(page_no, items, fresh, oldest, has_next)


def test_caught_up_only_after_a_complete_walk():
    assert next_step(view(fresh=0), WalkLimits(), WALKED).stop is Stop.CAUGHT_UP
    assert next_step(view(fresh=0), WalkLimits(), NEVER).follow  # never walked: nothing is old yet
    assert next_step(view(fresh=0), WalkLimits(full=True), WALKED).follow  # a backfill reads every page


def test_a_page_whose_last_story_is_old_needs_no_next_page():
    step = next_step(PageView(1, 10, 3, None, True, True), WalkLimits(), WALKED)
    assert step.stop is Stop.CAUGHT_UP and step.complete  # the new stories are on this page
    # ... unless some of this page's new stories were left out by since: then a later walk must take them
    since = WalkLimits(since=dt.date(2024, 1, 1))
    step = next_step(PageView(1, 10, 3, dt.date(2023, 1, 1), True, True, 1), since, WALKED)
    assert step.stop is Stop.SINCE and not step.complete


def test_limits_leave_the_column_incomplete():
    step = next_step(view(page_no=3, fresh=2), WalkLimits(max_pages=3), WALKED)
    assert not step.follow and step.stop is Stop.MAX_PAGES and not step.complete
    step = next_step(view(fresh=2, oldest=dt.date(2020, 1, 1)), WalkLimits(since=dt.date(2021, 1, 1)), WALKED)
    assert step.stop is Stop.SINCE and not step.complete
    step = next_step(view(page_no=7, fresh=1), WalkLimits(max_list_pages=7), WALKED)
    assert step.stop is Stop.CAPPED and not step.complete


def test_end_and_empty_pages_complete_the_walk():
    assert next_step(view(fresh=3, has_next=False), WalkLimits(), NEVER).stop is Stop.END
    assert next_step(view(items=0), WalkLimits(), NEVER).stop is Stop.EMPTY
    assert next_step(view(fresh=0, has_next=False), WalkLimits(), WALKED).complete


def test_a_page_of_old_stories_completes_even_with_since():
    step = next_step(view(fresh=0, oldest=dt.date(2020, 1, 1)), WalkLimits(since=dt.date(2021, 1, 1)), WALKED)
    assert step.stop is Stop.CAUGHT_UP and step.complete


def test_is_old():
    assert is_old(3, ColumnMemory(5)) and is_old(5, ColumnMemory(5)) and is_old(0, ColumnMemory(0))
    assert not is_old(6, ColumnMemory(5)) and not is_old(None, ColumnMemory(5)) and not is_old(1, NEVER)


def test_whole_walks_are_capped():
    assert whole_walk_pages(10, WalkLimits()) == (10, Stop.END)
    assert whole_walk_pages(10, WalkLimits(max_pages=3)) == (3, Stop.MAX_PAGES)
    assert whole_walk_pages(10**9, WalkLimits()) == (5000, Stop.CAPPED)
    assert walks_whole_column(WalkLimits(), NEVER) and walks_whole_column(WalkLimits(full=True), WALKED)
    assert not walks_whole_column(WalkLimits(), WALKED)
    assert not walks_whole_column(WalkLimits(since=dt.date(2024, 1, 1)), NEVER)


# -- a model of one column and of the archive, driven by the same decisions as the spider ------------------

@dataclass
class Site:
    page_size: int
    pinned: list[int] = field(default_factory=list)  # stories a list shows first on page 1, whatever their age
    stories: list[int] = field(default_factory=list)  # newest first
    next_id: int = 1

    def publish(self, n: int) -> None:
        for _ in range(n):
            self.stories.insert(0, self.next_id)
            self.next_id += 1

    def listing(self) -> list[int]:
        return self.pinned + [s for s in self.stories if s not in self.pinned]

    def date(self, story: int) -> dt.date:
        return dt.date(2020, 1, 1) + dt.timedelta(days=story)

    def total_pages(self) -> int:
        return max(1, -(-len(self.listing()) // self.page_size))

    def page(self, n: int) -> list[int]:
        items = self.listing()
        return items[(n - 1) * self.page_size:n * self.page_size]


@dataclass
class Archive:
    known: set[int] = field(default_factory=set)
    sightings: dict[int, int] = field(default_factory=dict)  # story -> run that first saw it on the column
    complete_walk_run: int | None = None
    runs: int = 0


class Killed(Exception):
    pass


@dataclass
class Faults:
    failing_pages: frozenset[int] = frozenset()
    kill_after_pages: int | None = None  # the process dies while handling this many-th list page


def run(site: Site, archive: Archive, limits: WalkLimits, faults: Faults, rng: random.Random) -> int:
    """One crawl of the column; returns the number of list pages read. Mirrors CumtSpider.parse_list."""
    archive.runs += 1
    run_id = archive.runs
    memory = ColumnMemory(archive.complete_walk_run)
    shown: set[int] = set()
    reads = 0
    failed = False

    def read(page_no: int) -> PageView | None:
        nonlocal reads, failed
        reads += 1
        if page_no in faults.failing_pages:
            failed = True
            return None
        items = site.page(page_no)
        last_old = bool(items) and is_old(archive.sightings.get(items[-1]), memory)
        fresh = skipped_fresh = 0
        killed = faults.kill_after_pages is not None and reads >= faults.kill_after_pages
        for story in items:
            skipped = bool(limits.since and site.date(story) < limits.since)
            if story not in shown:
                if not is_old(archive.sightings.get(story), memory):
                    fresh += 1
                    skipped_fresh += skipped
                if not skipped:  # a story left out by since is not seen: a later walk must take it
                    archive.sightings.setdefault(story, run_id)
                shown.add(story)
            if skipped:
                continue
            if killed and rng.random() < 0.5:
                continue  # requested, never answered: the kill came first
            archive.known.add(story)
        if killed:
            raise Killed
        dates = [site.date(s) for s in items]
        return PageView(page_no, len(items), fresh, min(dates) if dates else None, page_no < site.total_pages(),
                        last_old, skipped_fresh)

    try:
        first = read(1)
        if first is None:
            return reads
        if walks_whole_column(limits, memory):
            last, ending = whole_walk_pages(site.total_pages(), limits)
            for n in range(2, last + 1):
                read(n)
            if ending.complete and not failed:
                archive.complete_walk_run = run_id
            return reads
        page, step = first, next_step(first, limits, memory)
        while step.follow:
            nxt = read(page.page_no + 1)
            if nxt is None:
                return reads
            page, step = nxt, next_step(nxt, limits, memory)
        if step.complete and not failed:
            archive.complete_walk_run = run_id
    except Killed:
        pass
    return reads


def random_limits(rng: random.Random, site: Site) -> WalkLimits:
    choice = rng.random()
    if choice < 0.25:
        return WalkLimits(max_pages=rng.randint(1, 3))
    if choice < 0.4 and site.stories:
        return WalkLimits(since=site.date(rng.choice(site.stories)))
    if choice < 0.45:
        return WalkLimits(full=True)
    return WalkLimits()


def random_faults(rng: random.Random, site: Site) -> Faults:
    choice = rng.random()
    if choice < 0.25:
        return Faults(failing_pages=frozenset(rng.sample(range(1, site.total_pages() + 2), 1)))
    if choice < 0.5:
        return Faults(kill_after_pages=rng.randint(1, site.total_pages() + 1))
    return Faults()


@pytest.mark.parametrize("seed", range(400))
def test_any_schedule_then_one_plain_run_archives_every_story(seed):
    rng = random.Random(seed)
    site = Site(page_size=rng.randint(1, 6))
    site.publish(rng.randint(0, 20))
    if site.stories and site.page_size > 1 and rng.random() < 0.3:
        # An old story pinned to the top of page 1. (A page made of nothing but pinned stories would look
        # caught up: real lists show 10-20 stories a page and pin at most a few.)
        site.pinned = [site.stories[-1]]
    archive = Archive()
    for _ in range(rng.randint(1, 8)):
        site.publish(rng.choice([0, 0, 1, 2, site.page_size, 2 * site.page_size + 1]))
        run(site, archive, random_limits(rng, site), random_faults(rng, site), rng)
    site.publish(rng.choice([0, 1, 3]))
    run(site, archive, WalkLimits(), Faults(), rng)
    missing = set(site.listing()) - archive.known
    assert not missing, f"seed {seed}: stories never archived: {sorted(missing)}"
    # ... and once caught up, a day with nothing new costs one list page.
    assert run(site, archive, WalkLimits(), Faults(), rng) == 1
