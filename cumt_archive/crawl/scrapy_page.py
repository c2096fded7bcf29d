"""The one place where a Scrapy response becomes a transport-neutral RawPage."""

from __future__ import annotations

import datetime as dt

from scrapy.http import Response

from ..model import RawPage


def raw_page(response: Response) -> RawPage:
    """The response as a RawPage; made once, when the response arrives, and kept in its meta."""
    cached = response.meta.get("raw_page") if response.request is not None else None
    # Retries and redirects copy meta into new requests: only this very response's page will do.
    if isinstance(cached, RawPage) and cached.body is response.body and cached.url == response.url:
        return cached
    headers = {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    page = RawPage(
        url=response.url,
        body=response.body,
        status=response.status,
        headers=headers,
        fetched_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if response.request is not None:
        response.meta["raw_page"] = page  # the callback sees the very page the WARC holds
    return page
