"""The bus within one process: several services in one test, or the embedded server.

Deliveries go out on the next turn of the event loop, as they would from
another process, never from inside ``publish``: a publisher hears its own
event the way everyone else does. ``drop`` lets a test lose announcements,
as Redis pub/sub may.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .base import Delivery, Hearing, Known, Message
from .said import Topic


class LocalBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Delivery]] = {}
        self._listeners: list[tuple[Topic, Hearing]] = []
        #: Published in this loop turn, delivered in the next.
        self._queue: list[tuple[str, int, Message]] = []
        #: A test's hook: return True to lose this announcement for this subscriber.
        self.drop: Callable[[str, int, Delivery], bool] | None = None

    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        subscribers = self._subscribers.setdefault(game_id, [])
        if deliver not in subscribers:
            subscribers.append(deliver)

    def unsubscribe(self, game_id: str, deliver: Delivery) -> None:
        subscribers = self._subscribers.get(game_id)
        if subscribers and deliver in subscribers:
            subscribers.remove(deliver)
            if not subscribers:
                del self._subscribers[game_id]

    def subscribers(self, game_id: str) -> int:
        return len(self._subscribers.get(game_id, ()))

    def publish(self, game_id: str, version: int, message: Message) -> None:
        subscribers = self._subscribers.get(game_id)
        if not subscribers:
            return
        drop = self.drop
        if drop is None:  # one callback per loop turn for everything published in it
            queue = self._queue
            queue.append((game_id, version, message))
            if len(queue) == 1:
                asyncio.get_running_loop().call_soon(self._fan_out)
            return
        loop = asyncio.get_running_loop()
        for deliver in list(subscribers):
            if not drop(game_id, version, deliver):
                loop.call_soon(_deliver, self, game_id, deliver, version, message)

    def _fan_out(self) -> None:
        """Deliver what was published, in order, to those subscribed when it arrives, as a real bus would."""
        queue, self._queue = self._queue, []
        everyone = self._subscribers
        for game_id, version, message in queue:
            subscribers = everyone.get(game_id)
            if not subscribers:
                continue
            if len(subscribers) == 1:
                subscribers[0](game_id, version, message)
                continue
            for deliver in list(subscribers):
                if deliver in subscribers:
                    deliver(game_id, version, message)

    def on_resubscribed(self, callback: Callable[[], None]) -> None:
        """Never called: a bus within one process has no connection to lose."""

    def knows(self, deliver: Delivery, known: Known) -> None:
        """Nothing to save: this bus passes objects, it decodes nothing."""

    async def listen(self, topic: Topic, hear: Hearing) -> None:
        self._listeners.append((topic, hear))

    def tell_all(self, topic: Topic, body: bytes) -> None:
        loop = asyncio.get_running_loop()
        for heard, hear in self._listeners:
            if heard == topic:
                loop.call_soon(hear, body)


def _deliver(bus: LocalBus, game_id: str, deliver: Delivery, version: int, message: Message) -> None:
    # Only to those still subscribed when it arrives, as a real bus would.
    if deliver in bus._subscribers.get(game_id, ()):
        deliver(game_id, version, message)
