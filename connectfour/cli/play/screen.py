"""What the terminal client writes: lines, one after another, and a status line
(a timed game's clocks) that changes every second.

On a terminal the status line stays the last line, just above where the user
types, and is rewritten in place (the cursor saved and restored around it, so
that a half-typed command is left alone); the lines printed meanwhile go above
it. Anywhere else (a pipe, a file) nothing is rewritten: each new status is
one more line, so that a script reads the clocks as they went.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

#: Cursor up one line, to its start, and the line erased.
UP_AND_ERASE = "\x1b[1A\r\x1b[2K"
#: The cursor saved, and restored (DECSC, DECRC).
SAVE, RESTORE = "\x1b7", "\x1b8"
#: The rest of the line erased.
ERASE_REST = "\x1b[K"


class Screen:
    """Lines and a status line, on a terminal or not. The text given is safe to print already."""

    def __init__(self, out: TextIO | None = None, tty: bool | None = None, echo: bool | None = None) -> None:
        self._out = out
        self.tty = _isatty(self.out) if tty is None else tty
        #: Whether typed lines are echoed below the status line (input from a terminal).
        self.echo = _isatty(sys.stdin) if echo is None else echo
        self.status_text: str | None = None
        #: The status line is the last line written, the cursor on the line below it.
        self._adjacent = False

    @property
    def out(self) -> TextIO:
        # Looked up each time: a test (or pytest's capture) may have replaced sys.stdout.
        return self._out if self._out is not None else sys.stdout

    def lines(self, text: str) -> None:
        """Print ``text``; on a terminal, above the status line, which is written again below it."""
        if not self.tty or self.status_text is None:
            self.out.write(text + "\n")
        else:
            erase = UP_AND_ERASE if self._adjacent else ""
            self.out.write(f"{erase}{text}\n{self._fit(self.status_text)}\n")
            self._adjacent = True
        self.out.flush()

    def status(self, text: str) -> None:
        """Show ``text`` as the status line: rewritten in place on a terminal, a new line elsewhere
        (only when it changed)."""
        if text == self.status_text and (not self.tty or self._adjacent):
            return
        self.status_text = text
        if not self.tty:
            self.out.write(text + "\n")
        elif self._adjacent:
            self.out.write(f"{SAVE}\x1b[1A\r{self._fit(text)}{ERASE_REST}{RESTORE}")
        else:
            self.out.write(self._fit(text) + "\n")
            self._adjacent = True
        self.out.flush()

    def end_status(self) -> None:
        """No status line any more: the last one stays as an ordinary line."""
        self.status_text = None
        self._adjacent = False

    def typed(self) -> None:
        """A line was typed: echoed by a terminal, it now sits between the status line and the cursor."""
        if self.echo:
            self._adjacent = False

    def _fit(self, text: str) -> str:
        """On one line of the terminal: a status line that wrapped could not be rewritten in place."""
        width = shutil.get_terminal_size().columns
        return text if len(text) < width else text[: max(1, width - 4)] + "..."


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
