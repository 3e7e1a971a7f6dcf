"""The bus: how every process with members in a game hears of its stored events.

The store announces an event on the bus once it is stored (for Redis, in the
same server-side function as the append), so a stored event is always
announced and an unstored one never is. A process subscribes to a game when
its first member there arrives, waits until the subscription holds, then
reads the store for what it missed, so nothing falls between the read and
the subscription. Delivery may still lose or repeat events: receivers put
them in order with an ``Inbox`` and read gaps back from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, Union

from .said import Topic

if TYPE_CHECKING:
    from ..domain.events import Event
    from ..domain.seats import Presence

#: What a game's channel carries: its events by version (1, 2, ...), and its
#: presence as version 0. Decoded once per process (a bus between processes
#: decodes what it receives; the in-process bus passes the objects, which are frozen).
Message = Union["Event", "Presence"]
#: Called with the game's id, the version (0 for a presence) and the message.
Delivery = Callable[[str, int, Message], None]
#: Whether a subscriber has applied a game's version already (its own change, heard back).
Known = Callable[[str, int], bool]
#: Called with the body of what was said to every process under a topic (``said.py``).
Hearing = Callable[[bytes], None]


class Bus(Protocol):
    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        """Deliver the game's announcements from now on; returns once that holds."""

    def unsubscribe(self, game_id: str, deliver: Delivery) -> None:
        """No more announcements of this game for ``deliver``."""

    def knows(self, deliver: Delivery, known: Known) -> None:
        """``deliver`` has no use for the announcements ``known`` says it applied already
        (above all, the process's own changes coming back): a bus between processes may
        drop them before decoding them."""

    def publish(self, game_id: str, version: int, message: Message) -> None:
        """Announce a stored event (or a presence) to every subscriber, in any process."""

    async def listen(self, topic: Topic, hear: Hearing) -> None:
        """Hear, from now on, what is said to every process under ``topic``."""

    def tell_all(self, topic: Topic, body: bytes) -> None:
        """Say ``body`` under ``topic`` to every process listening to it, this one included."""

    def on_resubscribed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after the bus lost its connection and subscribed again:
        what was announced meanwhile is lost, and must be read from the store."""
