"""Fetching one URL with httpx: timeouts, a size cap enforced while streaming, a redirect
limit, http(s) only and a User-Agent that names the project."""

from __future__ import annotations

import httpx

from . import __version__

USER_AGENT = f"kz-migration-monitor/{__version__} (labour-migration news monitor)"
MAX_BYTES = 8_000_000
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class FetchError(Exception):
    """A URL that could not be fetched; the message is one line naming the URL."""


def fetch_url(url: str, *, client: httpx.Client | None = None) -> tuple[bytes, str | None]:
    """GET `url` and return its body (cut at MAX_BYTES) and Content-Type."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"{url}: only http and https URLs are fetched")
    own = client is None
    client = client or httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    )
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= MAX_BYTES:
                    break
            return b"".join(chunks)[:MAX_BYTES], response.headers.get("content-type")
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: too many redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    finally:
        if own:
            client.close()
