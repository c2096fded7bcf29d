"""The cyclic garbage collector, tuned for a long run once everything it needs is loaded."""

from __future__ import annotations

import gc
import logging

# The collector's first threshold for a long run (Python's default: 700 allocations).
THRESHOLDS = (20_000, 20, 20)

logger = logging.getLogger(__name__)


def settle_collector() -> None:
    """Freeze what is loaded and collect cycles less often, for the rest of the process.

    Both long runs allocate containers for every page: the crawl's reactor (Twisted and asyncio objects
    for every request) and regenerate's single process (extraction's pieces). At Python's default
    threshold the collector ran about 500 times a crawl and took a tenth of its time, and 1,400 times
    in a 5,000-page regenerate (0.19 s of a 13.8 s run), each full collection walking the 100,000 objects
    loaded at start-up (Scrapy, Twisted, extraction) again (measured with gc.callbacks). Collecting
    every 20,000 allocations made the crawl 8-10% faster (interleaved A/B, 7 pairs) and left
    regenerate two collections. Frozen objects stay out of every full collection. Garbage that is
    not in a cycle is freed at once as before; cycles wait a little longer.
    """
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    logger.debug("cyclic collector: %d objects frozen, thresholds %s", gc.get_freeze_count(), gc.get_threshold())
