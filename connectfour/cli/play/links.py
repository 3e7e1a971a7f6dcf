"""Where the terminal client connects: the server's WebSocket URL (given, or the
one an invite or watch link names, or the local default), and the key a link holds."""

from __future__ import annotations

import argparse
import os
from urllib.parse import parse_qs, urlsplit


def default_url() -> str:
    """``ws://localhost:$PORT/ws``, the port ``connectfour serve`` listens on by default."""
    port = os.environ.get("PORT", "").strip()
    return f"ws://localhost:{port if port.isdigit() else 8000}/ws"


def server_url(value: str) -> str:
    """A server's WebSocket URL; ``http(s)://`` stands for ``ws(s)://``, as a link's server does."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad one
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not a WebSocket URL such as ws://localhost:8000/ws")
    return parts._replace(scheme=scheme).geturl()


def link(value: str) -> str:
    """An invite or watch link, or its key: anything but nothing (``key_and_server`` reads it)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty link or key")
    return value


def key_and_server(link: str, kind: str) -> tuple[str, str | None]:
    """``http://host/?join=KEY`` -> ("KEY", "ws://host/ws"); a bare key -> (key, None)."""
    parts = urlsplit(link)
    if not parts.scheme or not parts.netloc:
        return link, None
    keys = parse_qs(parts.query).get(kind)
    if not keys:
        raise ValueError(f"{link} is not {'a watch' if kind == 'watch' else 'an invite'} link")
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    return keys[0], f"{scheme}://{parts.netloc}/ws"


def page_base(url: str) -> str:
    """The pages' address on the server of WebSocket ``url``: the links printed, and /api/analysis, start with it."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"
