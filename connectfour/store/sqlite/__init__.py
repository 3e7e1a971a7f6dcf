"""The embedded default store: one SQLite file in WAL mode, written through a journal.

An SQLite commit costs tens of microseconds, and a busy server stores
thousands of events a second (moves above all). So each event is applied to
the game's record in memory at once and written to an append-only journal:
every event of one event-loop turn with a single write, each caller hearing
only once that write returned (``store.py``). Nothing is announced on the
bus before it is in the journal, and ``read`` returns nothing that is not.

Every ``FOLD_INTERVAL`` seconds the journal starts a new segment, and the
games the full one changed are folded into SQLite, a few per event-loop
turn, one row each; then the segment is deleted and the games leave memory
(``folding.py``). On start, whatever a crash left in the journal is
replayed into SQLite before anything else happens (``recovery.py``).
Folding and replaying are idempotent: a journal record applies only at the
version after the game's, and a row only ever moves forward (a longer log,
an invite spent, a result set).

The modules, each one concept:

- ``store.py``: ``SQLiteStore``, which compares the version (and the
  presence's ``seq``), appends to the journal in batches, and announces;
- ``gamelog.py``: a game's record with its log, one character per event,
  and each event's time, and the events rebuilt from it; ``times.py``: the
  times as one BLOB of the game's row;
- ``journal.py``: the journal's segment files, batches of records;
  ``entries.py``: what each record says, written and replayed;
- ``folding.py``: the games in memory and their fold into SQLite, and the
  thread that checkpoints SQLite's WAL; ``recovery.py``: the replay on start;
- ``schema.py``: the table and the migrations of older databases;
  ``rows.py``: a record as a row and every statement on the table;
  ``connection.py``: the connection's settings and a transaction;
- ``lock.py``: the lock file that keeps a second server out;
  ``prune.py``: pruning from outside a server.

With ``fsync=False`` (the default) a write reaches the operating system but
is not forced to the disk: it survives the process being killed, not a power
cut. ``fsync=True`` forces every batch and commit to the disk.

One server process owns a database at a time (a lock file says which), so
the seats live in its memory (``LocalSeats``) and its bus is a ``LocalBus``
unless it is given another; scaling out over several processes is the job
of a shared store.
"""

from .lock import DatabaseInUse
from .prune import prune_database
from .schema import SCHEMA
from .store import SQLiteStore

__all__ = ["SCHEMA", "DatabaseInUse", "SQLiteStore", "prune_database"]
