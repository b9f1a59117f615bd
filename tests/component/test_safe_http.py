"""Links shared by members are opened only when they lead to the public internet."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from bot.blog.errors import LinkUnavailable, UnsafeURL
from bot.blog.safe_http import SafeFetcher, address_problem

PAGE = "<html><head><title>A page</title></head><body><p>Hello</p></body></html>"


def site() -> web.Application:
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    def redirect(target: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            raise web.HTTPFound(target.replace("PORT", str(request.url.port)))

        return handler

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"<p>" + b"x" * 3_000_000, content_type="text/html")

    async def big_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"x" * 100_000)
        return response

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG", content_type="image/png")

    app.router.add_get("/page", page)
    app.router.add_get("/to-private", redirect("http://10.0.0.1/admin"))
    app.router.add_get("/to-localhost", redirect("http://localhost:PORT/page"))
    app.router.add_get("/to-page", redirect("/page"))
    app.router.add_get("/loop", redirect("/loop"))
    app.router.add_get("/big", big)
    app.router.add_get("/big-stream", big_stream)
    app.router.add_get("/image", image)
    return app


@pytest.fixture
async def local() -> AsyncIterator[str]:
    server = TestServer(site(), host="127.0.0.1", port=0)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


class FakeDNS(AbstractResolver):
    """Answers from a table; a list of answers is served one per lookup (DNS rebinding)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = self.table[host]
        ip = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            ResolveResult(
                hostname=host, host=ip, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        pass


REFUSED = [
    ("http://127.0.0.1:1/", "loopback"),
    ("http://10.1.2.3/", "private network"),
    ("http://172.16.0.1/", "private network"),
    ("http://192.168.1.1/", "private network"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://224.0.0.1/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[fc00::1]/", "private network"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
    ("http://[64:ff9b::a00:1]/", "private network"),  # NAT64 around 10.0.0.1
    ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://localhost/", "loopback"),
    ("file:///etc/passwd", "Only http"),
    ("ftp://example.com/", "Only http"),
    ("javascript:alert(1)", "Only http"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_private_and_odd_links_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURL, match=reason):
        await SafeFetcher().fetch_page(url)


async def test_allowed_host_is_fetched(local: str) -> None:
    page = await SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"})).fetch_page(f"{local}/page")
    assert (page.status, page.content_type, page.text) == (200, "text/html", PAGE)


async def test_same_host_redirect_is_followed(local: str) -> None:
    page = await SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"})).fetch_page(f"{local}/to-page")
    assert page.url == f"{local}/page"


@pytest.mark.parametrize("path", ["/to-private", "/to-localhost"])
async def test_redirect_from_allowed_host_to_private_one_is_refused(local: str, path: str) -> None:
    fetcher = SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"}))
    with pytest.raises(UnsafeURL, match=r"private network|loopback"):
        await fetcher.fetch_page(f"{local}{path}")


async def test_endless_redirects_stop(local: str) -> None:
    with pytest.raises(UnsafeURL, match="redirects more than 5 times"):
        await SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"})).fetch_page(f"{local}/loop")


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
async def test_oversized_page_is_refused(local: str, path: str) -> None:
    with pytest.raises(UnsafeURL, match="larger than 2 MB"):
        await SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"})).fetch_page(f"{local}{path}")


async def test_non_page_content_is_refused(local: str) -> None:
    with pytest.raises(UnsafeURL, match=r"not a web page \(image/png\)"):
        await SafeFetcher(allowed_hosts=frozenset({"127.0.0.1"})).fetch_page(f"{local}/image")


async def test_dns_rebinding_between_check_and_connect_is_refused(local: str) -> None:
    port = local.rsplit(":", 1)[1]
    dns = FakeDNS({"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(UnsafeURL, match="loopback"):
        await SafeFetcher(dns=dns).fetch_page(f"http://rebind.example:{port}/page")


async def test_connection_goes_to_the_vetted_address(local: str) -> None:
    port = local.rsplit(":", 1)[1]
    fetcher = SafeFetcher(
        allowed_hosts=frozenset({"blog.lan"}), dns=FakeDNS({"blog.lan": ["127.0.0.1"]})
    )
    page = await fetcher.fetch_page(f"http://blog.lan:{port}/page")
    assert page.status == 200


async def test_unknown_host_is_unavailable_not_unsafe() -> None:
    with pytest.raises(LinkUnavailable, match="could not be found"):
        await SafeFetcher().fetch_page("http://no-such-host.invalid/")


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_form_is_refused_whenever_the_ipv4_one_is(ip: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    if address_problem(ip):
        assert address_problem(mapped)


@given(
    st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="172.16.0.0/12")
    | st.ip_addresses(network="192.168.0.0/16")
    | st.ip_addresses(network="fc00::/7")
)
def test_every_private_address_is_refused(ip: ipaddress.IPv4Address) -> None:
    assert address_problem(ip) == "a private network address"


def test_public_addresses_pass() -> None:
    assert address_problem(ipaddress.ip_address("93.184.216.34")) is None
    assert address_problem(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")) is None
