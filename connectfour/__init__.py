"""connectfour: a real-time multiplayer Connect Four server."""

__version__ = "0.1.0"
