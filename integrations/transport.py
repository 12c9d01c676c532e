"""One HTTP POST to a registered endpoint: the outside edge of outbound webhooks.

Only http(s) URLs. The host is resolved here, at send time, and the request goes to the
address that was checked (no second lookup a DNS rebinding could change). With
PRM_ENV=production private, loopback, link-local (and other non-global) addresses are
refused; development and tests allow them. 10 s timeout, redirects are never followed (a
3xx is a failed attempt), and at most the first 2 KB of the answer is read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

TIMEOUT_SECONDS = 10.0
READ_LIMIT = 2048
USER_AGENT = "PRM-Webhooks/1.0"


class RefusedAddress(Exception):
    """The URL may not be called (scheme, or an address refused in production)."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    body: str
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for `url`, or RefusedAddress."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress("Only http and https URLs can receive webhooks.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise RefusedAddress(f"{parts.hostname} does not resolve: {error}") from error
    addresses = [str(info[4][0]) for info in infos]
    if settings.PRODUCTION:
        refused = [address for address in addresses if not _allowed(address)]
        if refused:
            raise RefusedAddress(f"{parts.hostname} resolves to a private address ({refused[0]}).")
    return parts.scheme, parts.hostname, port, addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate verified for the URL's host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body`; never raises for the endpoint's failures (they are the Answer)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, address = resolve(url)
    except RefusedAddress as error:
        return Answer(None, "", elapsed(), str(error)[:300])
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(address, host, port, TIMEOUT_SECONDS)
        if scheme == "https"
        else http.client.HTTPConnection(address, port, timeout=TIMEOUT_SECONDS)
    )
    request_headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    try:
        connection.request("POST", target, body=body, headers=request_headers)
        response = connection.getresponse()
        text = response.read(READ_LIMIT).decode("utf-8", "replace")
        return Answer(response.status, text, elapsed())
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, "", elapsed(), f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()
