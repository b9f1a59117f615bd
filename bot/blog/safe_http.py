"""Fetching links that members share, without letting them reach the bot's own network (SSRF).

Every address a host name resolves to is checked, and the connection is made by a resolver that
returns only checked addresses, so a DNS answer that changes between check and connect (DNS
rebinding) meets the same check. Redirects are followed by hand and each hop is checked again.
Proxies from the environment are ignored: a proxy would resolve names where we cannot check them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from bs4 import UnicodeDammit
from yarl import URL

from bot.blog.errors import LinkUnavailable, UnsafeURL

IPAddress = IPv4Address | IPv6Address

PAGE_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "application/xml", "text/xml",
    "application/rss+xml", "application/atom+xml",
})  # fmt: skip
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "User-Agent": "Reviewbridge link preview",
    "Accept": "text/html,application/xhtml+xml;q=0.9,application/xml;q=0.8",
}
_SHARED_NAT = IPv4Network("100.64.0.0/10")
_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))


def address_problem(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is, or None when the bot may connect to it."""
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and (problem := address_problem(embedded)):
            return problem
    if ip.is_loopback:
        return "this machine (a loopback address)"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, IPv4Address) and ip in _SHARED_NAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private network address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one forwards to (mapped, 6to4, NAT64, Teredo client)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.teredo[1] if ip.teredo else None


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class UnsafeAddress(OSError):
    """Raised inside the connector, which wraps OSErrors; carries the message for members."""


class VettingResolver(AbstractResolver):
    """Resolves like the system, then refuses the whole answer if any address is not public."""

    def __init__(self, allowed_hosts: frozenset[str], dns: AbstractResolver | None = None) -> None:
        self._allowed = allowed_hosts
        self._dns = dns

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        literal = _literal_ip(host)
        if literal is not None:
            results = [_result(host, literal, port)]
        else:
            self._dns = self._dns or ThreadedResolver()
            results = await self._dns.resolve(host, port, family)
        if _normalize_host(host) not in self._allowed:
            for result in results:
                ip = ipaddress.ip_address(result["host"])
                if problem := address_problem(ip):
                    raise UnsafeAddress(
                        f"That link points to {problem} ({ip}), which the bot will not open."
                    )
        return results

    async def close(self) -> None:
        """Nothing to release: the system resolver is stateless and an injected one is shared."""


def _result(host: str, ip: IPAddress, port: int) -> ResolveResult:
    family = socket.AF_INET6 if isinstance(ip, IPv6Address) else socket.AF_INET
    return ResolveResult(
        hostname=host, host=str(ip), port=port, family=family, proto=0, flags=socket.AI_NUMERICHOST
    )


def _normalize_host(host: str) -> str:
    return host.lower().rstrip(".").strip("[]")


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str
    text: str


class SafeFetcher:
    """Opens untrusted http(s) links with SSRF guards, size and time limits.

    `allowed_hosts` lets named hosts through even on private addresses: the bot's own blog may
    live on the LAN. `dns` replaces the system resolver (tests).
    """

    def __init__(
        self,
        *,
        allowed_hosts: frozenset[str] = frozenset(),
        max_bytes: int = 2_000_000,
        timeout: float = 10.0,
        max_redirects: int = 5,
        dns: AbstractResolver | None = None,
    ) -> None:
        self._allowed = frozenset(_normalize_host(h) for h in allowed_hosts)
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._dns = dns

    async def fetch_page(self, url: str) -> FetchedPage:
        """The page at `url`; raises UnsafeURL for refused links, LinkUnavailable for dead ones."""
        resolver = VettingResolver(self._allowed, self._dns)
        connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
        try:
            async with (
                asyncio.timeout(self._timeout),
                aiohttp.ClientSession(connector=connector, trust_env=False) as session,
            ):
                return await self._follow(session, resolver, URL(url))
        except TimeoutError as exc:
            raise LinkUnavailable(
                f"{url} took longer than {self._timeout:.0f} s to load, so the bot gave up."
            ) from exc

    async def _follow(
        self, session: aiohttp.ClientSession, resolver: VettingResolver, url: URL
    ) -> FetchedPage:
        for _ in range(self._max_redirects + 1):
            await self._vet(resolver, url)
            try:
                async with session.get(url, allow_redirects=False, headers=_HEADERS) as response:
                    location = response.headers.get("Location")
                    if response.status not in REDIRECTS or not location:
                        return await self._read(response)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, UnsafeAddress):
                    raise UnsafeURL(str(exc.os_error)) from exc
                raise LinkUnavailable(f"{url.host} could not be reached ({exc.os_error}).") from exc
            except aiohttp.ClientError as exc:
                raise LinkUnavailable(f"{url} could not be loaded ({exc}).") from exc
            url = url.join(URL(location))
        raise UnsafeURL(
            f"That link redirects more than {self._max_redirects} times; "
            "the bot stopped following it."
        )

    async def _vet(self, resolver: VettingResolver, url: URL) -> None:
        if url.scheme not in ("http", "https"):
            raise UnsafeURL("Only http:// and https:// links can be opened.")
        if not url.host:
            raise UnsafeURL("That link has no host name.")
        try:
            await resolver.resolve(url.host, url.port or 0, socket.AF_UNSPEC)
        except UnsafeAddress as exc:
            raise UnsafeURL(str(exc)) from exc
        except OSError as exc:
            raise LinkUnavailable(f"The host {url.host} could not be found.") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> FetchedPage:
        page = FetchedPage(str(response.url), response.status, response.content_type, "")
        if response.status >= 400:
            return page
        if response.content_type not in PAGE_TYPES:
            raise UnsafeURL(f"That link is not a web page ({response.content_type}).")
        too_large = UnsafeURL(
            f"That page is larger than {self._max_bytes / 1_000_000:g} MB; the bot does not "
            "open pages that big."
        )
        if (response.content_length or 0) > self._max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_chunked(65_536):
            body += chunk
            if len(body) > self._max_bytes:
                raise too_large
        declared = [response.charset] if response.charset else []
        text = UnicodeDammit(bytes(body), known_definite_encodings=declared, is_html=True)
        return FetchedPage(page.url, page.status, page.content_type, text.unicode_markup or "")
