"""Fetching with httpx: the async `Fetcher` the pipeline uses for feeds, listing pages and
articles of many sources, and the small sync `fetch_url` behind `monitor extract URL`.

Both share the User-Agent, the limits of `FetchPolicy` and the body reader, which decodes
gzip/deflate itself so that the size cap counts decoded bytes and a compression bomb never
costs more memory than the cap.

`Fetcher.get` never raises for network or HTTP trouble: a failing source is data, so every
failure comes back as `Response.error`, one line naming the URL.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.robotparser import RobotFileParser

import httpx

from . import __version__

USER_AGENT = (
    f"kz-migration-monitor/{__version__} "
    "(+https://example.org/kz-migration-monitor; labour-migration news monitor)"
)
MAX_BYTES = 8_000_000
ROBOTS_MAX_BYTES = 500_000
ROBOTS_MAX_AGE = 86_400.0  # seconds: the longest RFC 9309 lets a crawler keep robots.txt
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/html;q=0.9, text/plain;q=0.8, */*;q=0.5"
)
# Only the encodings the body reader decodes itself (see _BoundedBody).
ACCEPT_ENCODING = "gzip, deflate"


def _missing_sniffio_fails_fast() -> None:
    """httpcore 1.x runs `import sniffio` each time it sets up a lock or an event of its
    connection pool (several per request), and anyio 4 no longer installs sniffio. A failed
    import is not remembered: each one searches the whole sys.path again, which made up about
    a quarter of the CPU of a cycle of conditional requests (bench/cycle.py). With None in
    sys.modules the same import fails at once, with the same outcome (httpcore assumes
    asyncio). Nothing changes when sniffio is installed."""
    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


_missing_sniffio_fails_fast()


@dataclass(frozen=True)
class FetchPolicy:
    """All limits of fetching. Defaults suit a cron run over a few dozen news sites."""

    user_agent: str = USER_AGENT
    concurrency: int = 16  # simultaneous requests in all
    per_host: int = 2  # simultaneous requests to one host name
    host_delay: float = 1.0  # pause between request starts to the same host name (s)
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # between two reads from the socket
    total_timeout: float = 60.0  # one attempt, headers and whole body: stops slow-drip servers
    max_bytes: int = MAX_BYTES  # decoded body; a larger response is an error, not a truncation
    max_redirects: int = 5
    retries: int = 3  # extra attempts after timeouts, connection errors, 5xx and 429
    backoff: float = 1.0  # base of the exponential backoff with full jitter (s)
    max_retry_after: float = 120.0  # a longer Retry-After gives up instead of waiting
    robots: bool = True  # respect robots.txt
    # How long later runs obey a robots.txt answer instead of asking again (s; 0: every run
    # asks). RFC 9309 allows up to 24 h, which makes a cycle of 304s cost one request per
    # source instead of two.
    robots_max_age: float = ROBOTS_MAX_AGE

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_host", "max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchPolicy.{name} must be at least 1")
        for name in ("max_redirects", "retries"):
            if getattr(self, name) < 0:
                raise ValueError(f"FetchPolicy.{name} must not be negative")
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FetchPolicy.{name} must be positive")
        for name in ("host_delay", "backoff", "max_retry_after", "robots_max_age"):
            if getattr(self, name) < 0:
                raise ValueError(f"FetchPolicy.{name} must not be negative")


@dataclass(frozen=True)
class Response:
    """The outcome of one `Fetcher.get`, successful or not."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # 0 when no HTTP answer
    body: bytes  # b"" for 304 and errors
    content_type: str | None
    etag: str | None
    last_modified: str | None
    error: str | None  # one line naming the URL; None when ok (2xx or 304)
    attempts: int
    # No answer, a 5xx or 429 even after the retries: trouble that may pass, unlike a 4xx, a
    # refused scheme or too many redirects. For robots.txt it means "unreachable" (disallow).
    unreachable: bool = False
    too_large: bool = False  # the body went past the size cap

    @property
    def not_modified(self) -> bool:
        return self.status == 304 and self.error is None


class FetchError(Exception):
    """A URL that could not be fetched; the message is one line naming the URL."""


class _BodyError(Exception):
    """A body that cannot be read: unknown or corrupt encoding."""


class _BoundedBody:
    """Collects a response body from raw (still encoded) chunks, decoded, up to `limit` bytes.

    httpx decodes a whole network chunk at once, so a 64 KiB chunk of a gzip bomb becomes
    ~64 MB before any cap can look at it; zlib's `max_length` stops decoding at the cap.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        self._raw_deflate_fallback = False
        self._zlib: zlib._Decompress | None = None
        if codings in (["gzip"], ["x-gzip"]):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif codings == ["deflate"]:
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate_fallback = True
        elif codings:
            raise _BodyError(f"unsupported Content-Encoding {', '.join(codings)!r}")
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self.over = False

    def feed(self, raw: bytes) -> bool:
        """Add one raw chunk; True once the decoded body has gone past the limit."""
        if self.over or not raw:
            return self.over
        if self._zlib is None:
            data = raw
        else:
            room = self._limit - self._size + 1  # one byte more tells "over" from "exactly full"
            try:
                data = self._zlib.decompress(raw, room)
            except zlib.error:
                if not (self._raw_deflate_fallback and self._size == 0):
                    raise _BodyError("corrupt compressed body") from None
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._raw_deflate_fallback = False
                return self.feed(raw)
            self._raw_deflate_fallback = False
        self._add(data)
        return self.over

    def _add(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        self.over = self._size > self._limit

    def finish(self) -> bytes:
        """The decoded body, cut at the limit."""
        if self._zlib is not None and not self.over:
            try:
                self._add(self._zlib.flush())
            except zlib.error:
                raise _BodyError("corrupt compressed body") from None
        return b"".join(self._parts)[: self._limit]


def _timeout(policy: FetchPolicy) -> httpx.Timeout:
    return httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)


def _headers(policy: FetchPolicy) -> dict[str, str]:
    return {"User-Agent": policy.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _check_url(url: str) -> httpx.URL | str:
    """The parsed URL, or why it is not fetched."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        return f"invalid URL ({exc})"
    if parsed.scheme not in ("http", "https"):
        return "only http and https URLs are fetched"
    if not parsed.host:
        return "invalid URL (no host)"
    return parsed


# Request headers that must not follow a redirect to another origin.
_CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class _Outcome:
    """One HTTP attempt at one URL (one hop)."""

    status: int = 0
    body: bytes = b""
    headers: httpx.Headers | None = None
    location: str | None = None  # the next hop of a redirect
    problem: str | None = None  # what went wrong, without the URL
    retryable: bool = False
    too_large: bool = False


# robots.txt of one origin: a parser, None for "allow all", or why nothing may be fetched.
_Robots = RobotFileParser | str | None


@dataclass(frozen=True)
class RobotsTxt:
    """A robots.txt answer that may be used again by later runs: the file's text (a 2xx), or
    None when there is none to obey (a 4xx, a refused or endless redirect, a file over
    ROBOTS_MAX_BYTES), which allows everything. An unreachable robots.txt (no answer, 5xx,
    429) is never kept: the next run asks again."""

    status: int  # the HTTP status of the answer, 0 when there was none
    body: str | None

    def rules(self) -> _Robots:
        if self.body is None:
            return None
        parser = RobotFileParser()
        parser.parse(self.body.splitlines())
        return parser


class Fetcher:
    """Holds one httpx.AsyncClient, the global and per-host semaphores, the per-host clock and
    the robots.txt cache. Use one per run: `async with Fetcher(policy) as fetcher: ...`.

    robots.txt (RFC 9309): fetched once per origin and Fetcher, unless an answer kept from an
    earlier run was given (`use_robots`; the pipeline keeps them `policy.robots_max_age`, as
    the RFC allows caching for up to 24 hours); the answers this Fetcher fetched and may be
    kept are `fetched_robots()`. A 4xx answer (none exists), a refused redirect or too many
    redirects allow everything; a 5xx, 429 or no answer after the retries disallows the whole
    origin for this Fetcher, as the RFC asks (a server in trouble is not to be crawled), and is
    not kept, so the next run tries again. A robots.txt over ROBOTS_MAX_BYTES is ignored
    (allow). The rules are matched by `urllib.robotparser` (first matching line wins, no
    wildcards) against `policy.user_agent`.

    Politeness: a request waits for a per-host slot, then for its reserved start time (at least
    `host_delay` after the previous start to that host), then for a global slot; only the global
    wait can push a start later, never earlier.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._sleep = sleep
        self._clock = clock
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=_timeout(self.policy),
            follow_redirects=False,
            headers=_headers(self.policy),
            limits=httpx.Limits(max_connections=self.policy.concurrency),
        )
        self._global = asyncio.Semaphore(self.policy.concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._robots_given: dict[str, RobotsTxt] = {}
        self._robots_fetched: dict[str, RobotsTxt] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def use_robots(self, answers: Mapping[str, RobotsTxt]) -> None:
        """Obey these robots.txt answers (by origin, "https://host[:port]") instead of
        fetching them; an origin not given is fetched as usual."""
        self._robots_given.update(answers)

    def fetched_robots(self) -> dict[str, RobotsTxt]:
        """The robots.txt answers fetched by this Fetcher that later runs may use, by origin."""
        return dict(self._robots_fetched)

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET `url`, conditionally when `etag` / `last_modified` are given (a 304 keeps them
        unless the server sends new ones). `headers` are a source's extra request headers
        (Accept-Language, a Cookie a site insists on, ...); they may replace ours except
        Accept-Encoding, which must stay one the body reader decodes."""
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "accept-encoding"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = await self._fetch(url, headers, self.policy.max_bytes, robots=self.policy.robots)
        if response.status == 304 and response.error is None:
            return Response(
                url=response.url,
                final_url=response.final_url,
                status=304,
                body=b"",
                content_type=response.content_type,
                etag=response.etag or etag,
                last_modified=response.last_modified or last_modified,
                error=None,
                attempts=response.attempts,
            )
        return response

    async def _fetch(
        self, url: str, headers: dict[str, str], limit: int, *, robots: bool
    ) -> Response:
        """Follow redirects hop by hop (each checked for scheme and robots.txt), retrying the
        current hop on transient trouble."""
        policy = self.policy
        target = url
        origin: tuple[str, str, int | None] | None = None  # of the first hop
        hops = 0
        attempts = 1

        def fail(
            problem: str, status: int = 0, *, unreachable: bool = False, too_large: bool = False
        ) -> Response:
            where = "" if target == url else f" (at {target})"
            error = f"{url}: {problem}{where}"
            return Response(
                url, target, status, b"", None, None, None, error, attempts, unreachable, too_large
            )

        while True:
            parsed = _check_url(target)
            if isinstance(parsed, str):
                return fail(parsed)
            here = (parsed.scheme, parsed.host, parsed.port)
            if origin is None:
                origin = here
            elif here != origin:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
            if robots:
                blocked = await self._robots_block(parsed)
                if blocked:
                    return fail(blocked[0], unreachable=blocked[1])
            outcome = await self._attempt(parsed, headers, limit)
            if outcome.location is not None:
                hops += 1
                if hops > policy.max_redirects:
                    return fail(f"too many redirects (more than {policy.max_redirects})")
                target = outcome.location
                continue
            if outcome.problem is None:
                assert outcome.headers is not None
                return Response(
                    url=url,
                    final_url=target,
                    status=outcome.status,
                    body=outcome.body,
                    content_type=outcome.headers.get("content-type"),
                    etag=outcome.headers.get("etag"),
                    last_modified=outcome.headers.get("last-modified"),
                    error=None,
                    attempts=attempts,
                )
            if not outcome.retryable:
                return fail(outcome.problem, outcome.status, too_large=outcome.too_large)
            wait = None
            if outcome.headers is not None:
                wait = _retry_after(outcome.headers.get("retry-after"))
            if wait is not None and wait > policy.max_retry_after:
                return fail(
                    f"{outcome.problem}, Retry-After {wait:g} s is longer than "
                    f"{policy.max_retry_after:g} s",
                    outcome.status,
                    unreachable=True,
                )
            if attempts > policy.retries:
                plural = "s" if attempts > 1 else ""
                return fail(
                    f"{outcome.problem} after {attempts} attempt{plural}",
                    outcome.status,
                    unreachable=True,
                )
            if wait is None:
                wait = random.uniform(0, policy.backoff * 2 ** (attempts - 1))
                wait = min(wait, policy.max_retry_after)
            attempts += 1
            await self._sleep(wait)

    async def _attempt(self, url: httpx.URL, headers: dict[str, str], limit: int) -> _Outcome:
        """One request to one URL, inside the host and global slots."""
        async with self._slot(url.host):
            try:
                async with (
                    asyncio.timeout(self.policy.total_timeout),
                    self._client.stream("GET", url, headers=headers) as r,
                ):
                    return await self._read(r, limit)
            except (TimeoutError, httpx.TimeoutException):
                return _Outcome(problem="timed out", retryable=True)
            except httpx.TransportError as exc:
                detail = str(exc).splitlines()[0][:200] if str(exc) else ""
                problem = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
                # httpx reports a bad Location header this way; asking again will not fix it.
                bad_location = detail.startswith("Invalid URL in location header")
                return _Outcome(problem=problem, retryable=not bad_location)
            except _BodyError as exc:
                return _Outcome(problem=str(exc))

    async def _read(self, r: httpx.Response, limit: int) -> _Outcome:
        status = r.status_code
        if r.next_request is not None:
            return _Outcome(status=status, headers=r.headers, location=str(r.next_request.url))
        if status == 304:
            return _Outcome(status=status, headers=r.headers)
        if not 200 <= status < 300:
            retryable = status == 429 or status >= 500
            return _Outcome(
                status=status, headers=r.headers, problem=f"HTTP {status}", retryable=retryable
            )
        too_large = _Outcome(
            status=status,
            headers=r.headers,
            problem=f"response larger than {limit} bytes",
            too_large=True,
        )
        length = r.headers.get("content-length", "")
        encoding = r.headers.get("content-encoding")
        if length.isdigit() and int(length) > limit and not encoding:
            return too_large
        body = _BoundedBody(encoding, limit)
        async for chunk in r.aiter_raw():
            if body.feed(chunk):
                return too_large
        data = body.finish()
        if body.over:
            return too_large
        return _Outcome(status=status, headers=r.headers, body=data)

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        host = host.lower()
        semaphore = self._host_slots.get(host)
        if semaphore is None:
            semaphore = self._host_slots[host] = asyncio.Semaphore(self.policy.per_host)
        async with semaphore:
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self.policy.host_delay
            if start > now:
                await self._sleep(start - now)
            async with self._global:
                yield

    async def _robots_block(self, url: httpx.URL) -> tuple[str, bool] | None:
        """Why robots.txt forbids `url` and whether that may pass (robots.txt unreachable), or
        None when it may be fetched."""
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        lock = self._robots_locks.get(origin)
        if lock is None:
            lock = self._robots_locks[origin] = asyncio.Lock()
        async with lock:
            if origin not in self._robots:
                given = self._robots_given.get(origin)
                if given is not None:
                    self._robots[origin] = given.rules()
                else:
                    self._robots[origin] = await self._load_robots(origin)
        rules = self._robots[origin]
        if rules is None:
            return None
        if isinstance(rules, str):
            return rules, True
        if rules.can_fetch(self.policy.user_agent, str(url)):
            return None
        return "blocked by robots.txt", False

    async def _load_robots(self, origin: str) -> _Robots:
        response = await self._fetch(f"{origin}/robots.txt", {}, ROBOTS_MAX_BYTES, robots=False)
        if response.unreachable:
            problem = (response.error or "").removeprefix(f"{response.url}: ")
            return f"robots.txt unreachable ({problem}), not fetched"
        if response.error is None and response.status == 304:
            return None  # not asked conditionally: a server's oddity, read as no file
        body = None
        if response.error is None:
            body = response.body.decode("utf-8", errors="replace")
        answer = RobotsTxt(response.status, body)
        self._robots_fetched[origin] = answer
        return answer.rules()


def fetch_url(url: str, *, client: httpx.Client | None = None) -> tuple[bytes, str | None]:
    """GET `url` and return its body (cut at FetchPolicy.max_bytes) and Content-Type; raise
    FetchError for any failure. For one article on the command line: no retries, no robots."""
    policy = FetchPolicy()
    parsed = _check_url(url)
    if isinstance(parsed, str):
        raise FetchError(f"{url}: {parsed}")
    own = client is None
    client = client or httpx.Client(
        timeout=_timeout(policy),
        follow_redirects=True,
        max_redirects=policy.max_redirects,
        headers=_headers(policy),
    )
    try:
        # Set per request too: a caller's client must not ask for encodings we cannot cap.
        with client.stream("GET", parsed, headers={"Accept-Encoding": ACCEPT_ENCODING}) as r:
            if r.status_code >= 400:
                raise FetchError(f"{url}: HTTP {r.status_code}")
            body = _BoundedBody(r.headers.get("content-encoding"), policy.max_bytes)
            for chunk in r.iter_raw():
                if body.feed(chunk):
                    break
            return body.finish(), r.headers.get("content-type")
    except _BodyError as exc:
        raise FetchError(f"{url}: {exc}") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: too many redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    finally:
        if own:
            client.close()
