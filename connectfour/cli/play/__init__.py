"""``connectfour play``, the terminal client, one concept per module:

- ``command.py``: the command: its options, and the parts below started together;
- ``links.py``: where to connect: the server's URL, an invite or watch link's key and server;
- ``connection.py``: the connections to the server, one after another, resumed with backoff;
- ``terminal.py``: the game as this terminal follows it: each server event taken and told;
- ``keyboard.py``: the lines typed: commands answered at once, columns queued;
- ``sending.py``: the columns queued, each sent once it is this terminal's turn;
- ``board.py``: the board as text;
- ``analysis.py``: what every column is worth, from the server, on request.

What it reads from a server is checked and made safe to print in ``cli/safe.py``.
"""

from .command import add_parser, main

__all__ = ["add_parser", "main"]
