"""The aiohttp edge: HTTP, static files and the WebSocket endpoint."""

from .app import create_app

__all__ = ["create_app"]
