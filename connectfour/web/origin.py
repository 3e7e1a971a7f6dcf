"""Which browser pages may open a WebSocket here (cross-site WebSocket hijacking).

A page may always connect to the server that served it: its origin is
``{scheme}://{host}`` of the request. Listed origins are allowed besides it;
``*`` allows any. A request with no Origin is not from a browser page
(command-line clients, other servers) and is let in; ``Origin: null`` is a
page with no origin (a sandboxed frame, a file) and is refused unless ``*``.

Origins are compared as browsers serialise them: scheme, host and port, the
host in any case, a default port (80 for http, 443 for https) the same as
none, a trailing slash ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

_DEFAULT_PORTS = {"http": ":80", "https": ":443", "ws": ":80", "wss": ":443"}


def normalise(origin: str) -> str:
    """``origin`` as compared: lower-case, no trailing slash, no default port.

    Anything that is not ``scheme://authority`` comes back lower-cased and
    can only ever equal the same text.
    """
    origin = origin.lower()
    if origin.endswith("/"):
        origin = origin.rstrip("/")
    scheme, sep, authority = origin.partition("://")
    if sep:
        default = _DEFAULT_PORTS.get(scheme)
        if default is not None and authority.endswith(default):
            # "[::1]:80" ends with ":80" as it should; a bare "host80" cannot, for the colon.
            origin = origin[: -len(default)]
    return origin


class OriginPolicy:
    """The allowed origins of one server's settings, normalised once."""

    __slots__ = ("any", "listed")

    def __init__(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        self.any = "*" in allowed
        self.listed = frozenset(normalise(origin) for origin in allowed if origin != "*")

    @staticmethod
    @lru_cache(maxsize=8)
    def of(allowed: tuple[str, ...]) -> OriginPolicy:
        """The policy of a settings tuple, built on first use (settings hardly ever change)."""
        return OriginPolicy(allowed)

    def allows(self, origin: str | None, scheme: str, host: str | None) -> bool:
        """True when a page of ``origin`` may connect to ``scheme://host``."""
        if origin is None or self.any:
            return True
        if origin == "null" or not origin.isascii():
            return False
        if host is not None and origin == f"{scheme}://{host}":
            return True  # a browser's usual Origin, as sent: nothing to normalise
        origin = normalise(origin)
        if origin in self.listed:
            return True
        return host is not None and host.isascii() and origin == normalise(f"{scheme}://{host}")


def origin_allowed(origin: str | None, scheme: str, host: str | None, allowed: tuple[str, ...]) -> bool:
    """True when ``origin`` may connect to the server reached as ``scheme://host``, with ``allowed`` listed."""
    return OriginPolicy.of(allowed).allows(origin, scheme, host)
