"""The ``connectfour.v1`` subprotocol, and what each of its revisions added.

The tutorial's events (``init``, ``play``, ``win``, ``error``) are the
compatibility contract. A client that negotiates ``connectfour.v1`` receives
the richer events of ``server_messages.py`` and may send every request of
``client_messages.py``; every other client receives a projection of them onto
the tutorial's fields (see ``legacy.py``). Kept apart from the messages
because both directions, the reference and the edge read it.
"""

from __future__ import annotations

#: The subprotocol a client offers to opt into every extension.
SUBPROTOCOL_V1 = "connectfour.v1"

#: The revision of ``connectfour.v1`` each later addition came with (an event's
#: tag, or ``tag.field``); anything not named here is revision 1. A revision
#: only adds: a client of revision 1 is served unchanged, and an older server
#: answers a newer request with ``unknown_type``.
REVISION = 4
ADDED_IN: dict[str, int] = {
    **{
        name: 2
        for name in (
            "client:init.public", "client:init.name", "client:lobby", "client:match", "client:cancel",
            "server:state.red_name", "server:state.yellow_name", "server:state.public", "server:state.match",
            "server:presence.red_name", "server:presence.yellow_name", "server:lobby", "server:cancelled",
        )
    },
    **{
        name: 3
        for name in (
            "client:init.id", "client:play.id", "client:resume.id", "client:resign.id", "client:claim.id",
            "client:rematch.id", "client:lobby.id", "client:match.id", "client:cancel.id",
            "server:ack", "server:error.id", "server:error.ply", "server:state.watch",
        )
    },
    **{
        name: 4
        for name in (
            "client:init.clock", "client:match.clock", "client:offer_draw", "client:decline_draw",
            "client:takeback", "client:decline_takeback", "server:state.clock", "server:play.clock",
            "server:state.draw_offer", "server:state.takeback_request", "server:draw_offer",
            "server:draw_declined", "server:takeback_request", "server:takeback_declined",
            "server:lobby.waiting.clock", "server:lobby.playing.clock", "server:state.taken_back",
            "server:presence.clock", "server:state.draw_again_at",
        )
    },  # fmt: skip
}  # fmt: skip
