"""``connectfour play``, the terminal client, one concept per module:

- ``command.py``: the command: its options, and the parts below started together;
- ``links.py``: where to connect: the server's URL, an invite or watch link's key and server;
- ``connection.py``: the connections to the server, one after another, resumed with backoff;
- ``terminal.py``: the game as this terminal follows it: each server event taken and told;
- ``endings.py``: how a game's end is told;
- ``offers.py``: the offer of a draw and the request for a takeback that stand, told;
- ``clocks.py``: a timed game's clocks, counted down here from the server's last word, as a line;
- ``ticking.py``: that line refreshed while a clock runs;
- ``screen.py``: what is written: lines, and the status line (rewritten in place on a terminal);
- ``keyboard.py``: the lines typed: commands answered at once, columns queued;
- ``sending.py``: the columns queued, each sent once it is this terminal's turn;
- ``board.py``: the board as text;
- ``analysis.py``: what every column is worth, from the server, on request.

What it reads from a server is checked and made safe to print in ``cli/safe.py``.
"""

from .command import add_parser, main

__all__ = ["add_parser", "main"]
