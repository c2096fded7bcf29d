"""Where page n of a column lives: asked of the page's CMS family, through the registry.

Each family knows its own numbering (WebPlus forward: list.htm, list2.htm, ...; VSB backward from the
total: page n >= 2 of T pages is `{slug}/{T-n+1}.htm`); see cumt_archive/extract/families/.
"""

from __future__ import annotations

from .extract.families import REGISTRY, Registry


def page_url(entry_url: str, family: str, page_no: int, total_pages: int | None,
             registry: Registry = REGISTRY) -> str | None:
    """URL of page `page_no` (1-based) of the column whose first page is entry_url, if computable."""
    plugin = registry.get(family)
    if plugin is None:
        return entry_url if page_no < 2 else None
    return plugin.page_url(entry_url, page_no, total_pages)
