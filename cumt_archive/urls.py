"""URL identity: canonical form, urlname, and the archive's file names.

Every name derived from a URL goes through here so that nothing a page or a
server says can place a file outside the archive.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EXT = re.compile(r"\.([A-Za-z0-9]{1,8})$")
MAX_NAME = 120


@functools.lru_cache(maxsize=4096)  # pure, and asked for the same few URLs over and over by a crawl
def canonical_url(url: str) -> str:
    """http scheme, lower-case host, no default port, no fragment; path and query as written.

    Non-ASCII paths are percent-encoded first (as Scrapy sends them), so a link written with Chinese
    characters and the response URL it leads to name the same thing.
    """
    parts = urlsplit(safe_url_string(url.strip()))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme, ""):
        netloc = f"{host}:{port}"
    if scheme in ("http", "https"):
        scheme = "http"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def urlname(url: str) -> str:
    return md5_hex(canonical_url(url))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_matches(host: str, domains: list[str] | tuple[str, ...]) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def _safe(text: str) -> str:
    return re.sub(r"-{2,}", "-", _SAFE_NAME.sub("-", text).replace("..", "-")).strip("-.") or "x"


def site_label(host: str, domains: list[str] | tuple[str, ...]) -> str:
    """`xwzx` for xwzx.cumt.edu.cn when cumt.edu.cn is a profile domain, else the whole host."""
    for domain in domains:
        if host.endswith("." + domain):
            return _safe(host[: -len(domain) - 1].replace(".", "-"))
        if host == domain:
            return _safe(domain.split(".")[0])
    return _safe(host.replace(".", "-"))


@functools.lru_cache(maxsize=64)
def _origin(base: str) -> str | None:
    """`scheme://host` of an http(s) base URL, as urljoin writes it; None for any other base."""
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


# A page joins the same reference more than once (an image's `src` gives both its original and the copy
# it shows), and pages of one site share their icons and links: urljoin's pure-Python parsing costs
# microseconds a call, a cache hit a dictionary lookup.
@functools.lru_cache(maxsize=4096)
def join_url(base: str, ref: str) -> str:
    """urljoin(base, ref), exactly; the commonest reference of an article body (an image's `/_upload/...`
    path) is joined without it, as urljoin would: the base's origin and the path as written.

    Anything else (a relative path, a query, a fragment, a dot segment, a character urlsplit removes or
    strips) goes through urljoin, whose pure-Python parsing costs microseconds per link: the PDF viewer of
    a VSB notice lists a hundred page images.
    """
    if (ref[:1] == "/" and ref[1:2] != "/" and "/." not in ref and "?" not in ref and "#" not in ref
            and ";" not in ref and ref.isprintable() and ref[-1:] != " "):
        origin = _origin(base)
        if origin is not None:
            return origin + ref
    return urljoin(base, ref)


def is_web_url(url: str) -> bool:
    """http(s) only: data:, file:, javascript: ... are never fetched."""
    return url.lower().startswith(("http://", "https://"))


def post_filename(url: str, domains: list[str] | tuple[str, ...], family_stem: str | None = None) -> str:
    """Stable, unique Markdown file name: `xwzx-c523a537506.md`, `news-1002-71704.md`, ...

    An article URL shape a CMS family knows gives a short readable name (family_stem, which the
    family registry derives from the URL: see archive.post_name); anything else gets a slug plus part
    of its urlname so that two URLs never share a file.
    """
    parts = urlsplit(url)
    label = site_label((parts.hostname or "").lower(), domains)
    path = parts.path
    if family_stem:
        return f"{label}-{_safe(family_stem)}.md"
    stem = _safe(unquote(path + ("?" + parts.query if parts.query else "")))[:60]
    return f"{label}-{stem}-{urlname(url)[:10]}.md"


def media_relpath(url: str, name: str = "") -> str:
    """Where a media file's original bytes live, relative to the archive's media/ folder.

    Content-addressed by URL (sha1, as Scrapy's FilesPipeline does) so no
    server-given name reaches the file system; the extension comes from the
    URL path or, for extension-less download links, from the attachment name.
    """
    digest = hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()
    ext = ""
    for candidate in (posixpath.basename(unquote(urlsplit(url).path)), name):
        match = _EXT.search(candidate or "")
        if match and match.group(1).lower() not in ("jsp", "htm", "html", "php", "asp", "aspx", "psp"):
            ext = "." + match.group(1).lower()
            break
    return f"{digest[:2]}/{digest}{ext}"
