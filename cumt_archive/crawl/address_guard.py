"""No request of the crawl reaches an internal address.

A page may name any URL, and media may live on any public host, so a hostile
page could point an image at the cloud metadata service or at a service on the
crawler's own machine. Two guards, both switched off by ALLOW_INTERNAL_ADDRESSES:

- a downloader middleware refuses every request (page, media, each redirect hop)
  whose host is `localhost` or an IP literal in an internal range, whether or
  not a proxy carries it;
- a DNS resolver refuses names that resolve to such addresses, which covers every
  connection made without a proxy (with a proxy, the proxy resolves names). The
  configured proxies' own hosts are exempt: a proxy on loopback is the operator's
  choice.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from typing import Any, Sequence
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from .refusals import InternalAddress

logger = logging.getLogger(__name__)


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name literally is, including the legacy IPv4 forms resolvers accept (127.1, 2130706433)."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public, and not is_private


def is_internal_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return True
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_reserved
            or ip.is_multicast)


def internal_host_reason(host: str) -> str | None:
    """Why a URL host must not be requested, judged from its name alone; None when it may be."""
    name = host.lower().strip("[]").rstrip(".")
    if not name:
        return "no host"
    if name == "localhost" or name.endswith(".localhost"):
        return f"{name} is the local machine"
    ip = parse_ip(name)
    if ip is not None and is_internal_ip(ip):
        return f"{name} is an internal address"
    return None


def proxy_hosts(environ: dict[str, str] | None = None) -> frozenset[str]:
    """Hosts of the proxies the environment configures (Scrapy's HttpProxyMiddleware reads the same)."""
    environ = dict(os.environ if environ is None else environ)
    hosts = set()
    for key, value in environ.items():
        if key.lower() in ("http_proxy", "https_proxy", "all_proxy") and value:
            hosts.add((urlsplit(value if "://" in value else f"http://{value}").hostname or "").lower())
    return frozenset(h for h in hosts if h)


class InternalAddressMiddleware:
    """Refuses requests to internal hosts, with a typed reason the spider and the media pipeline record."""

    def __init__(self, enabled: bool) -> None:
        if not enabled:
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "InternalAddressMiddleware":
        return cls(not crawler.settings.getbool("ALLOW_INTERNAL_ADDRESSES"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url).hostname or ""
        reason = internal_host_reason(host)
        if reason is not None:
            logger.warning("not requested, %s: %s", reason, request.url)
            raise InternalAddress(f"internal address refused ({reason}): {request.url}")


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to internal addresses (proxies exempt)."""

    allow_internal = False
    exempt: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> "PublicOnlyResolver":
        resolver: PublicOnlyResolver = super().from_crawler(crawler, reactor)
        resolver.allow_internal = crawler.settings.getbool("ALLOW_INTERNAL_ADDRESSES")
        resolver.exempt = proxy_hosts()
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        deferred = super().getHostByName(name, timeout)
        if self.allow_internal or name.lower().rstrip(".") in self.exempt:
            return deferred

        def check(address: str) -> str:
            ip = parse_ip(address)
            if ip is not None and is_internal_ip(ip):
                logger.warning("not connecting to %s: it resolves to the internal address %s", name, address)
                raise DNSLookupError(f"{name} resolves to an internal address ({address}); refused")
            return address

        return deferred.addCallback(check)
