"""The fetch stage over real loopback HTTP: pytest-httpserver for ordinary answers, small
threaded servers started by the tests for slow, silent and endless ones."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse

from monitor.fetch import (
    USER_AGENT,
    Fetcher,
    FetchError,
    FetchPolicy,
    Response,
    RobotsTxt,
    _retry_after,
    fetch_url,
)

FAST = FetchPolicy(
    host_delay=0,
    backoff=0,
    retries=2,
    robots=False,
    connect_timeout=2,
    read_timeout=2,
    total_timeout=5,
)


class Sleeps:
    """An injected `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def get(
    url: str,
    policy: FetchPolicy = FAST,
    sleep: Sleeps | None = None,
    **kwargs: Any,
) -> Response:
    async def main() -> Response:
        async with Fetcher(policy, sleep=sleep or Sleeps()) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(main())


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


# --- servers started by the tests -----------------------------------------------------------


@contextmanager
def raw_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server on loopback calling `handle(conn, stop)` in a thread per connection;
    yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    conns: list[socket.socket] = []

    def serve_one(conn: socket.socket) -> None:
        with suppress(OSError):
            handle(conn, stop)

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            thread = threading.Thread(target=serve_one, args=(conn,))
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept_loop)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for conn in conns:
            conn.close()
        for thread in threads:
            thread.join()


def read_request_head(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def never_answers(conn: socket.socket, stop: threading.Event) -> None:
    read_request_head(conn)
    stop.wait()


def endless_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
    block = b"<p>" + b"x" * 65_533
    while not stop.is_set():
        conn.sendall(block)


def drips(conn: socket.socket, stop: threading.Event) -> None:
    """Sends a byte every 50 ms: each read is quick, the whole body would take hours."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"x")


class CountingServer:
    """A threaded HTTP server whose every request takes `delay` seconds and which records the
    largest number of requests it was serving at once."""

    def __init__(self, delay: float) -> None:
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner.lock:
                    owner.active += 1
                    owner.peak = max(owner.peak, owner.active)
                time.sleep(delay)
                with owner.lock:
                    owner.active -= 1
                body = b"slow"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    def __enter__(self) -> CountingServer:
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def gather_gets(
    urls: list[str],
    policy: FetchPolicy,
    sleep: Sleeps | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Response]:
    async def main() -> list[Response]:
        async with Fetcher(policy, sleep=sleep or Sleeps(), clock=clock) as fetcher:
            return list(await asyncio.gather(*(fetcher.get(url) for url in urls)))

    return asyncio.run(main())


# --- ordinary answers -----------------------------------------------------------------------


def test_200_gives_body_content_type_and_no_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "<rss/>", content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    url = httpserver.url_for("/feed")
    response = get(url)
    assert response.error is None
    assert (response.status, response.body) == (200, b"<rss/>")
    assert response.content_type == "application/rss+xml"
    assert response.etag == '"v1"'
    assert response.url == response.final_url == url
    assert response.attempts == 1
    assert not response.not_modified


def test_requests_name_the_project_in_the_user_agent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ua").respond_with_data("ok")
    get(httpserver.url_for("/ua"))
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("kz-migration-monitor/")


def test_extra_headers_are_sent_but_cannot_change_accept_encoding(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("ok")
    extra = {"Accept-Language": "kk, ru;q=0.8", "Accept-Encoding": "br"}
    assert get(httpserver.url_for("/a"), headers=extra).body == b"ok"
    request, _ = httpserver.log[0]
    assert request.headers["Accept-Language"] == "kk, ru;q=0.8"
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


def test_cookie_is_not_sent_to_another_origin_after_a_redirect(httpserver: HTTPServer) -> None:
    other_origin = httpserver.url_for("/b").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": other_origin}
    )
    httpserver.expect_request("/b").respond_with_data("b")
    response = get(httpserver.url_for("/a"), headers={"Cookie": "session=1", "X-Source": "t"})
    assert response.body == b"b"
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["Cookie"] == "session=1"
    assert "Cookie" not in second.headers
    assert second.headers["X-Source"] == "t"


def conditional(request: Request) -> WerkzeugResponse:
    if request.headers.get("If-None-Match") == '"v1"':
        return WerkzeugResponse(status=304)
    if request.headers.get("If-Modified-Since") == "Wed, 01 Oct 2025 10:00:00 GMT":
        return WerkzeugResponse(status=304)
    return WerkzeugResponse(
        "<rss>new</rss>",
        headers={"ETag": '"v1"', "Last-Modified": "Wed, 01 Oct 2025 10:00:00 GMT"},
    )


def test_etag_gives_304_on_the_second_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_handler(conditional)
    url = httpserver.url_for("/feed")
    first = get(url)
    assert first.body == b"<rss>new</rss>"
    second = get(url, etag=first.etag)
    assert second.not_modified
    assert (second.status, second.body, second.error) == (304, b"", None)
    assert second.etag == '"v1"'  # kept although the 304 did not repeat it
    assert httpserver.log[1][0].headers["If-None-Match"] == '"v1"'


def test_last_modified_gives_304(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_handler(conditional)
    url = httpserver.url_for("/feed")
    first = get(url)
    second = get(url, last_modified=first.last_modified)
    assert second.not_modified
    assert second.last_modified == "Wed, 01 Oct 2025 10:00:00 GMT"
    assert "If-None-Match" not in httpserver.log[1][0].headers


TEXT = "Более 100 тыс. казахстанцев работают за рубежом. " * 200


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_body_is_decoded(
    httpserver: HTTPServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    raw = TEXT.encode()
    httpserver.expect_request("/a").respond_with_data(
        compress(raw), headers={"Content-Encoding": encoding}, content_type="text/html"
    )
    response = get(httpserver.url_for("/a"))
    assert response.error is None
    assert response.body == raw


def test_corrupt_gzip_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data(
        b"this is not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    url = httpserver.url_for("/a")
    response = get(url)
    assert response.error == f"{url}: corrupt compressed body"
    assert response.body == b""


def test_gzip_bomb_stops_at_the_cap_without_decoding_the_rest() -> None:
    """Memory is measured with a raw-socket server that only sends prepared bytes: werkzeug's
    own allocations in its thread would blur the peak."""
    bomb = gzip.compress(b"\0" * 30_000_000, compresslevel=9)  # ~30 KB on the wire
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
    answer = head.encode() + bomb

    def serves_bomb(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        conn.sendall(answer)
        stop.wait()

    async def main(url: str) -> tuple[Response, Response, int]:
        async with Fetcher(replace(FAST, max_bytes=1_000_000)) as fetcher:
            warm_up = await fetcher.get(url)  # lazy imports, connection pool
            tracemalloc.start()
            try:
                response = await fetcher.get(url)
                return warm_up, response, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    with raw_server(serves_bomb) as base:
        warm_up, response, peak = asyncio.run(main(base + "/bomb"))
    assert warm_up.error == response.error == f"{base}/bomb: response larger than 1000000 bytes"
    assert response.body == b""
    assert peak < 4_000_000  # a decoder without a cap holds a whole chunk's ~30 MB


def test_body_exactly_at_the_cap_is_accepted_one_byte_more_is_not(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/full").respond_with_data(b"x" * 1000)
    httpserver.expect_request("/over").respond_with_data(
        gzip.compress(b"x" * 1001), headers={"Content-Encoding": "gzip"}
    )
    policy = replace(FAST, max_bytes=1000)
    assert get(httpserver.url_for("/full"), policy).body == b"x" * 1000
    assert "larger than 1000 bytes" in (get(httpserver.url_for("/over"), policy).error or "")


def test_endless_body_is_an_error_at_the_cap_quickly() -> None:
    with raw_server(endless_body) as base:
        started = time.monotonic()
        response = get(base + "/page", replace(FAST, max_bytes=500_000))
        elapsed = time.monotonic() - started
    assert response.error == f"{base}/page: response larger than 500000 bytes"
    assert response.attempts == 1  # too large is not retried
    assert elapsed < 2


# --- redirects and schemes ------------------------------------------------------------------


def test_redirect_chain_is_followed_and_final_url_set(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/c")}
    )
    httpserver.expect_request("/c").respond_with_data("final")
    response = get(httpserver.url_for("/a"))
    assert response.error is None
    assert response.body == b"final"
    assert response.url == httpserver.url_for("/a")
    assert response.final_url == httpserver.url_for("/c")


def test_redirect_loop_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    url = httpserver.url_for("/a")
    response = get(url, replace(FAST, max_redirects=3))
    assert response.error is not None
    assert response.error.startswith(f"{url}: too many redirects (more than 3)")
    assert len(httpserver.log) == 4  # the first request and three redirects, then it stops


def test_one_redirect_too_many_is_an_error(httpserver: HTTPServer) -> None:
    for i in range(3):
        httpserver.expect_request(f"/{i}").respond_with_data(
            "", status=307, headers={"Location": f"/{i + 1}"}
        )
    httpserver.expect_request("/3").respond_with_data("end")
    policy = replace(FAST, max_redirects=2)
    assert "too many redirects" in (get(httpserver.url_for("/0"), policy).error or "")
    assert get(httpserver.url_for("/1"), policy).body == b"end"


def test_redirect_to_ftp_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": "ftp://example.org/feed"}
    )
    url = httpserver.url_for("/a")
    response = get(url)
    assert response.error == (
        f"{url}: only http and https URLs are fetched (at ftp://example.org/feed)"
    )
    assert response.final_url == "ftp://example.org/feed"


def test_unparsable_redirect_location_is_an_error_not_retried() -> None:
    requests: list[int] = []

    def bad_redirect(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        requests.append(1)
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nContent-Length: 0\r\n\r\n")
        stop.wait()

    with raw_server(bad_redirect) as base:
        response = get(base + "/a")
    assert response.error is not None
    assert response.error.startswith(f"{base}/a: RemoteProtocolError: Invalid URL in location")
    assert response.attempts == 1
    assert len(requests) == 1


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "example.org"])
def test_non_http_scheme_is_rejected_without_a_request(url: str) -> None:
    response = get(url)
    assert response.error == f"{url}: only http and https URLs are fetched"
    assert response.status == 0


# --- errors and retries ---------------------------------------------------------------------


def test_404_is_an_error_naming_the_url_and_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone")
    sleeps = Sleeps()
    response = get(url, sleep=sleeps)
    assert response.error == f"{url}: HTTP 404"
    assert (response.status, response.body, response.attempts) == (404, b"", 1)
    assert requests_to(httpserver, "/gone") == 1
    assert sleeps.delays == []


def test_500_then_200_succeeds_on_the_second_attempt(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/flaky").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/flaky").respond_with_data("fine")
    sleeps = Sleeps()
    response = get(httpserver.url_for("/flaky"), replace(FAST, backoff=0.5), sleeps)
    assert response.error is None
    assert (response.body, response.attempts) == (b"fine", 2)
    assert len(sleeps.delays) == 1
    assert 0 <= sleeps.delays[0] <= 0.5  # full jitter over backoff * 2**0


def test_persistent_503_gives_up_after_the_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    url = httpserver.url_for("/down")
    sleeps = Sleeps()
    response = get(url, replace(FAST, retries=2, backoff=1.0), sleeps)
    assert response.error == f"{url}: HTTP 503 after 3 attempts"
    assert (response.status, response.attempts) == (503, 3)
    assert requests_to(httpserver, "/down") == 3
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[1] <= 2.0  # the second wait may be twice as long


def test_429_with_retry_after_waits_that_long_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/feed").respond_with_data("ok")
    sleeps = Sleeps()
    response = get(httpserver.url_for("/feed"), sleep=sleeps)
    assert response.error is None
    assert response.attempts == 2
    assert sleeps.delays == [1.0]


def test_503_with_retry_after_as_a_date_is_honoured(httpserver: HTTPServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    httpserver.expect_ordered_request("/feed").respond_with_data(
        "", status=503, headers={"Retry-After": when}
    )
    httpserver.expect_ordered_request("/feed").respond_with_data("ok")
    sleeps = Sleeps()
    response = get(httpserver.url_for("/feed"), sleep=sleeps)
    assert response.body == b"ok"
    assert len(sleeps.delays) == 1
    assert 27 <= sleeps.delays[0] <= 30


def test_retry_after_longer_than_the_cap_gives_up_at_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    url = httpserver.url_for("/feed")
    sleeps = Sleeps()
    response = get(url, replace(FAST, max_retry_after=120), sleeps)
    assert response.error == f"{url}: HTTP 429, Retry-After 3600 s is longer than 120 s"
    assert requests_to(httpserver, "/feed") == 1
    assert sleeps.delays == []


def test_retry_after_parsing() -> None:
    assert _retry_after("7") == 7.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert _retry_after("soon") is None
    assert _retry_after(None) is None


def test_server_that_never_answers_times_out_after_the_retries() -> None:
    policy = replace(FAST, read_timeout=0.1, retries=1)
    with raw_server(never_answers) as base:
        started = time.monotonic()
        response = get(base + "/feed", policy)
        elapsed = time.monotonic() - started
    assert response.error == f"{base}/feed: timed out after 2 attempts"
    assert (response.status, response.attempts) == (0, 2)
    assert elapsed < 2


def test_slow_drip_body_is_stopped_by_the_total_timeout() -> None:
    policy = replace(FAST, read_timeout=1, total_timeout=0.3, retries=0)
    with raw_server(drips) as base:
        started = time.monotonic()
        response = get(base + "/feed", policy)
        elapsed = time.monotonic() - started
    assert response.error == f"{base}/feed: timed out after 1 attempt"
    assert elapsed < 2


def test_refused_connection_is_an_error_after_the_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    response = get(url, replace(FAST, retries=1))
    assert response.error is not None
    assert response.error.startswith(f"{url}: ConnectError")
    assert response.error.endswith("after 2 attempts")
    assert response.attempts == 2


# --- robots.txt -----------------------------------------------------------------------------

ROBOTS = replace(FAST, robots=True)


def test_robots_disallow_blocks_the_page_without_requesting_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n", content_type="text/plain"
    )
    httpserver.expect_request("/private/page").respond_with_data("secret")
    httpserver.expect_request("/news").respond_with_data("news")
    blocked_url = httpserver.url_for("/private/page")
    blocked, allowed = gather_gets([blocked_url, httpserver.url_for("/news")], ROBOTS)
    assert blocked.error == f"{blocked_url}: blocked by robots.txt"
    assert blocked.status == 0
    assert allowed.body == b"news"
    assert requests_to(httpserver, "/private/page") == 0
    assert requests_to(httpserver, "/robots.txt") == 1  # cached per origin


def test_robots_rules_for_our_agent_apply(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: kz-migration-monitor\nDisallow: /\n\nUser-agent: *\nDisallow:\n"
    )
    url = httpserver.url_for("/news")
    assert get(url, ROBOTS).error == f"{url}: blocked by robots.txt"


def test_missing_robots_allows_everything(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("not found", status=404)
    httpserver.expect_request("/news").respond_with_data("news")
    response = get(httpserver.url_for("/news"), ROBOTS)
    assert response.error is None
    assert response.body == b"news"


def test_unreachable_robots_blocks_the_origin(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("down", status=503)
    httpserver.expect_request("/news").respond_with_data("news")
    url = httpserver.url_for("/news")
    response = get(url, replace(ROBOTS, retries=1))
    assert response.error == (
        f"{url}: robots.txt unreachable (HTTP 503 after 2 attempts), not fetched"
    )
    assert requests_to(httpserver, "/news") == 0


def test_robots_off_fetches_without_asking(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/news").respond_with_data("news")
    assert get(httpserver.url_for("/news"), FAST).body == b"news"
    assert requests_to(httpserver, "/robots.txt") == 0


def fetch_with_robots(
    urls: list[str], policy: FetchPolicy, given: dict[str, RobotsTxt] | None = None
) -> tuple[list[Response], dict[str, RobotsTxt]]:
    """GET `urls` one after the other with one Fetcher given `given` robots.txt answers;
    the responses and the answers it fetched."""

    async def main() -> tuple[list[Response], dict[str, RobotsTxt]]:
        async with Fetcher(policy, sleep=Sleeps()) as fetcher:
            fetcher.use_robots(given or {})
            responses = [await fetcher.get(url) for url in urls]
            return responses, fetcher.fetched_robots()

    return asyncio.run(main())


def origin_of(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def test_robots_answers_given_are_obeyed_without_asking(httpserver: HTTPServer) -> None:
    """An answer kept from an earlier run: its rules apply, robots.txt is not requested and
    nothing is reported as fetched (there is nothing new to keep)."""
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow:\n")
    httpserver.expect_request("/news").respond_with_data("news")
    kept = {origin_of(httpserver): RobotsTxt(200, "User-agent: *\nDisallow: /private\n")}
    private = httpserver.url_for("/private/page")
    (blocked, news), fetched = fetch_with_robots(
        [private, httpserver.url_for("/news")], ROBOTS, kept
    )
    assert blocked.error == f"{private}: blocked by robots.txt"
    assert news.body == b"news"
    assert requests_to(httpserver, "/robots.txt") == 0
    assert fetched == {}


def test_robots_answers_fetched_are_reported_to_keep_unless_unreachable() -> None:
    """A file (its text) and a 404 (nothing to obey) may be kept by later runs; a 503 after
    the retries is not, so that the next run asks again."""
    with HTTPServer() as ok, HTTPServer() as none, HTTPServer() as down:
        ok.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /x\n")
        none.expect_request("/robots.txt").respond_with_data("no", status=404)
        down.expect_request("/robots.txt").respond_with_data("down", status=503)
        for server in (ok, none, down):
            server.expect_request("/news").respond_with_data("news")
        urls = [server.url_for("/news") for server in (ok, none, down)]
        responses, fetched = fetch_with_robots(urls, replace(ROBOTS, retries=0))
        assert [r.error is None for r in responses] == [True, True, False]
        assert fetched == {
            origin_of(ok): RobotsTxt(200, "User-agent: *\nDisallow: /x\n"),
            origin_of(none): RobotsTxt(404, None),
        }


def test_robots_max_age_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="robots_max_age must not be negative"):
        FetchPolicy(robots_max_age=-1)


# --- politeness and concurrency -------------------------------------------------------------


@pytest.mark.parametrize("per_host", [1, 3])
def test_per_host_limit_caps_simultaneous_requests(per_host: int) -> None:
    with CountingServer(delay=0.15) as server:
        policy = replace(FAST, per_host=per_host)
        responses = gather_gets([f"{server.base}/slow/{i}" for i in range(3)], policy)
    assert [r.body for r in responses] == [b"slow"] * 3
    assert server.peak == per_host


def test_global_concurrency_caps_simultaneous_requests() -> None:
    with CountingServer(delay=0.1) as server:
        policy = replace(FAST, per_host=4, concurrency=1)
        responses = gather_gets([f"{server.base}/slow/{i}" for i in range(3)], policy)
    assert all(r.error is None for r in responses)
    assert server.peak == 1


def test_requests_to_one_host_start_host_delay_apart(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    sleeps = Sleeps()
    policy = replace(FAST, host_delay=5, per_host=3)
    responses = gather_gets([httpserver.url_for("/a")] * 3, policy, sleeps, clock=lambda: 100.0)
    assert all(r.body == b"a" for r in responses)
    assert sorted(sleeps.delays) == [5.0, 10.0]


def test_host_delay_is_measured_on_the_clock(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("a")
    now = [100.0]
    sleeps = Sleeps()

    async def main() -> None:
        async with Fetcher(replace(FAST, host_delay=5), sleep=sleeps, clock=lambda: now[0]) as f:
            await f.get(httpserver.url_for("/a"))
            now[0] += 7  # longer than the delay: the next request need not wait
            await f.get(httpserver.url_for("/a"))
            now[0] += 2
            await f.get(httpserver.url_for("/a"))

    asyncio.run(main())
    assert sleeps.delays == [3.0]


def test_policy_rejects_impossible_limits() -> None:
    with pytest.raises(ValueError, match="per_host"):
        FetchPolicy(per_host=0)
    with pytest.raises(ValueError, match="read_timeout"):
        FetchPolicy(read_timeout=0)


# --- the sync fetch_url of `monitor extract URL` --------------------------------------------


def test_fetch_url_returns_body_and_content_type(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data(
        gzip.compress(TEXT.encode()),
        headers={"Content-Encoding": "gzip"},
        content_type="text/html; charset=utf-8",
    )
    body, content_type = fetch_url(httpserver.url_for("/a"))
    assert body == TEXT.encode()
    assert content_type == "text/html; charset=utf-8"


def test_fetch_url_raises_one_line_naming_the_url_on_404(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone")
    with pytest.raises(FetchError) as info:
        fetch_url(url)
    assert str(info.value) == f"{url}: HTTP 404"


def test_fetch_url_refuses_other_schemes() -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch_url("file:///etc/passwd")
