"""The sweeps of stored games: what nobody is connected to any more ends, or goes.

No process owns a game, so every process sweeps the store, and firing is a
compare-and-append: an expiry is the rulebook's ``Expire`` decided on the
game as stored and the presence as read, appended only if neither changed
meanwhile, so two processes sweeping at once expire a game once. A game in
use here (someone connected, a load or an activity stamp under way) is left
for a later sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable

from .. import metrics
from ..domain import Reason, rulebook
from ..domain.events import TimedOut
from ..domain.refusal import Refused
from ..domain.state import GameState
from ..store import ConditionFailed, Store, StoreError, VersionConflict
from .game import Game

log = logging.getLogger("connectfour.service")


class Sweeps:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float],
        grace: float,
        expire_after: float,
        forget_unplayed_after: float,
        followed: Container[str],
        in_use: Container[str],
    ) -> None:
        self.store = store
        self._clock = clock
        self.grace = grace
        self.expire_after = expire_after
        #: Seconds of inactivity after which a game without a move is deleted; 0 never.
        self.forget_unplayed_after = forget_unplayed_after
        #: Games someone is connected to here; and those, with the ones being loaded or
        #: stamped here, that a sweep must not delete (both looked up live as it goes).
        self._followed = followed
        self._in_use = in_use

    async def expire_idle(self) -> int:
        """End, as abandoned, stored games nobody has touched for ``expire_after``
        and whose seats nobody holds, wherever they are connected; how many.

        First delete those nobody played (``forget_unplayed``): it is the same
        periodic sweep, and a game about to go need not be marked abandoned.
        """
        try:
            await self.forget_unplayed()
        except StoreError as exc:  # expiry can still go on
            log.error("could not delete the unplayed games: %s", exc)
        before = self._clock() - self.expire_after
        expired = 0
        for game_id in await self.store.idle_games(before):
            if game_id in self._followed:  # someone is connected here
                continue
            reason = await self._expire(game_id)
            if reason is not None:
                expired += 1
                metrics.count("connectfour_games_ended_total", reason)
                log.info("game %s ended (%s) with nobody connected", game_id, reason)
        return expired

    async def _expire(self, game_id: str) -> Reason | None:
        """End the game if nobody holds it: the reason it ended with, or None if it goes on."""
        events = await self.store.read(game_id)
        state = GameState.replay(game_id, (event for _, event in events))
        if not state.version or state.over:
            return None
        now = self._clock()
        if state.clock is not None and state.clock.expired(now):
            # A timed game nobody followed when its time ran out: it ended then, on time
            # (or aborted), not as abandoned now.
            flag = rulebook.flag(state, now)
            try:
                await self.store.append(game_id, state.version + 1, flag)
            except (Refused, VersionConflict):
                return None
            return "time" if isinstance(flag, TimedOut) else "aborted"
        presence = await self.store.seats.presence(game_id, now)
        named = presence.processes()
        expiries = await self.store.seats.expiries(named) if named else {}
        try:
            event = rulebook.decide(state, rulebook.Expire(), now, rulebook.Seats(presence, expiries, self.grace))
            await self.store.append(game_id, state.version + 1, event, presence_seq=presence.seq)
        except (Refused, VersionConflict, ConditionFailed):
            return None  # someone moved, or is connected somewhere: not idle after all
        return "expired"

    async def forget_unplayed(self) -> int:
        """Delete stored games without a move that nobody has touched for
        ``forget_unplayed_after``, unless in use here; how many went.

        Anyone can create games for free, so without this the database grows
        with every one of them. A game with a move is kept for its replay.
        """
        if self.forget_unplayed_after <= 0:
            return 0
        before = self._clock() - self.forget_unplayed_after
        deleted = await self.store.delete_unplayed(before, keep=self._in_use)
        if deleted:
            log.info(
                "%d unplayed game%s deleted (no activity for %gs)",
                deleted,
                "s" if deleted != 1 else "",
                self.forget_unplayed_after,
            )
        return deleted

    async def keep_unplayed(self, games: Iterable[Game], now: float) -> None:
        """Stamp the unplayed games someone here is in, every half of ``forget_unplayed_after``:
        another process's sweep cannot see our connections, only the stored activity."""
        if self.forget_unplayed_after <= 0:
            return
        for game in games:
            if not game.state.board.moves and now - game.touched_at >= self.forget_unplayed_after / 2:
                game.touched(now)
                try:
                    await self.store.touch(game.id, now)
                except StoreError as exc:
                    log.warning("game %s: could not stamp its activity: %s", game.id, exc)
