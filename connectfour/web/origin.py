"""Which browser pages may open a WebSocket here (cross-site WebSocket hijacking)."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """True when ``origin`` may connect to the server reached as ``host``.

    No Origin header: not a browser (command-line clients, other servers), let in.
    Otherwise the origin must be listed, or ``*`` must be listed, or, with no
    list, it must name the very host the request was sent to.
    """
    if origin is None:
        return True
    if "*" in allowed:
        return True
    origin = origin.rstrip("/")
    if allowed:
        return origin in allowed
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()
