"""The one vocabulary of outcomes: what became of a story (or a media file) in the archive.

The values are the strings stored in the index's `status` columns, so archives
written before this enum existed read the same.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    ARCHIVED = "ok"  # written to posts/ (the story's Markdown) or media/ (a media file's bytes)
    NOT_ARTICLE = "not_article"  # fetched, and not an article: the reason says why (campus only, login, ...)
    GONE = "gone"  # the server says it no longer exists (404/410); asked again only by refresh=1
    ALIAS = "alias"  # the same story archived under another URL (a cross-post or a redirect)
    REFUSED = "refused"  # not fetched, by policy: robots.txt, an off-site redirect, an internal address
    FAILED = "failed"  # could not be fetched or written this time; retried by later runs (with back-off)

    @property
    def settled(self) -> bool:
        """True when a plain run has nothing more to do for this URL."""
        return self is not Outcome.FAILED


SETTLED = tuple(o.value for o in Outcome if o.settled)
