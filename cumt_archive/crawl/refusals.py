"""Typed reasons for requests the crawl drops, and what each failure means for a story.

Scrapy reports a dropped request as a bare IgnoreRequest; these subclasses let
the spider tell them apart by type rather than by the words of a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from ..outcomes import Outcome


class ChallengedHost(IgnoreRequest):
    """The host answered a firewall's script challenge (HTTP 412) earlier in this run."""


class ForbiddenByRobots(IgnoreRequest):
    """robots.txt forbids this URL to our user agent."""


class OffsiteRedirect(IgnoreRequest):
    """A story's URL redirects to a host outside the profile's domains."""


class InternalAddress(IgnoreRequest):
    """The URL's host is (or resolves to) a loopback, link-local, private or unspecified address."""


@dataclass(frozen=True)
class FailureVerdict:
    outcome: Outcome
    reason: str
    count: str  # the run summary's counter


def describe_failure(exc: BaseException) -> str:
    """A failed request in a few words: `HTTP 500`, or the exception's type and message."""
    if isinstance(exc, HttpError) and exc.response is not None:
        return f"HTTP {exc.response.status}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def story_failure_verdict(exc: BaseException) -> FailureVerdict:
    """What a failed story request means: gone, refused by policy, challenged (retry), or failed (retry)."""
    if isinstance(exc, HttpError) and exc.response is not None:
        status = exc.response.status
        if status in (404, 410):
            return FailureVerdict(Outcome.GONE, f"HTTP {status}", "gone")
        if status == 412:
            return FailureVerdict(Outcome.FAILED, "challenge: HTTP 412 script challenge", "failed")
        return FailureVerdict(Outcome.FAILED, describe_failure(exc), "failed")
    if isinstance(exc, ChallengedHost):
        return FailureVerdict(Outcome.FAILED, "challenge: host challenged an earlier request; not requested",
                              "failed")
    if isinstance(exc, ForbiddenByRobots):
        return FailureVerdict(Outcome.REFUSED, "forbidden by robots.txt", "refused")
    if isinstance(exc, OffsiteRedirect):
        return FailureVerdict(Outcome.REFUSED, str(exc), "offsite")
    if isinstance(exc, InternalAddress):
        return FailureVerdict(Outcome.REFUSED, str(exc), "refused")
    return FailureVerdict(Outcome.FAILED, describe_failure(exc), "failed")


def media_failure_verdict(exc: BaseException, status: int | None = None) -> FailureVerdict:
    """What a failed media download means: gone (never asked again by plain runs), refused, or failed (retry)."""
    if status in (404, 410):
        return FailureVerdict(Outcome.GONE, f"HTTP {status}", "media_failed")
    if isinstance(exc, (ForbiddenByRobots, InternalAddress)):
        return FailureVerdict(Outcome.REFUSED, str(exc) or type(exc).__name__, "media_failed")
    if status is not None:
        return FailureVerdict(Outcome.FAILED, f"HTTP {status}", "media_failed")
    text = str(exc).strip()
    return FailureVerdict(Outcome.FAILED, text or type(exc).__name__, "media_failed")
