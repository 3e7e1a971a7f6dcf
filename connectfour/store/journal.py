"""The SQLite store's journal, under the name it had before the store became a package (``sqlite/journal.py``)."""

from .sqlite.journal import Journal, Segment, decode, encode, read

__all__ = ["Journal", "Segment", "decode", "encode", "read"]
