"""The one place where a Scrapy response becomes a transport-neutral RawPage."""

from __future__ import annotations

import datetime as dt

from scrapy.http import Response

from .model import RawPage


def raw_page(response: Response) -> RawPage:
    headers = {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    return RawPage(
        url=response.url,
        body=response.body,
        status=response.status,
        headers=headers,
        fetched_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
