"""Where page n of a column lives, per CMS family (pure URL arithmetic).

WebPlus numbers forward: list.htm, list2.htm, ... VSB numbers its static
files from the OLDEST page: page n >= 2 of a column with T pages is
`{slug}/{T-n+1}.htm`. T is read from the column's first page only, since
deeper pages keep stale counts.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_WEBPLUS_LIST = re.compile(r"^(.*/)list\d*\.(htm|html|psp)$")
_VSB_LIST = re.compile(r"^(.*)\.(htm|html)$")


def page_url(entry_url: str, family: str, page_no: int, total_pages: int | None) -> str | None:
    """URL of page `page_no` (1-based) of the column whose first page is entry_url, if computable."""
    if page_no < 2:
        return entry_url
    parts = urlsplit(entry_url)
    if family == "webplus":
        match = _WEBPLUS_LIST.match(parts.path)
        if not match or (total_pages is not None and page_no > total_pages):
            return None
        return urlunsplit((parts.scheme, parts.netloc, f"{match.group(1)}list{page_no}.{match.group(2)}", "", ""))
    if family == "vsb":
        match = _VSB_LIST.match(parts.path)
        if not match or total_pages is None or page_no > total_pages:
            return None
        return urlunsplit(
            (parts.scheme, parts.netloc, f"{match.group(1)}/{total_pages - page_no + 1}.{match.group(2)}", "", "")
        )
    return None
