"""A page that comes back to a game whose latest moves the server lost (a failover
onto a replica that lagged) says so, rather than redrawing the board in silence.

The loss is staged between the page and a real server: the page's WebSocket
goes through Playwright's route, which, once told to, drops the last move from
the `state` the server sends when the page resumes.
"""

from __future__ import annotations

import json

from e2e_pages import OpenPage, host_online_game, play, take_seat
from playwright.sync_api import WebSocketRoute, expect

LOST = "The server lost the latest moves of this game (a failover); play goes on from the moves it kept."


def test_a_page_shown_fewer_moves_than_it_saw_says_the_server_lost_them(open_page: OpenPage) -> None:
    routes: list[WebSocketRoute] = []
    lose = {"last move": False}

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if lose["last move"] and isinstance(message, str):
                event = json.loads(message)
                if event.get("type") == "state" and event.get("moves"):
                    event["moves"] = event["moves"][:-1]
                    event["ply"] = len(event["moves"])
                    event["turn"] = "red" if event["ply"] % 2 == 0 else "yellow"
                    message = json.dumps(event)
            ws.send(message)

        server.on_message(from_server)
        routes.append(ws)

    red, invite, _watch = host_online_game(open_page)
    yellow = take_seat(open_page("yellow", invite), "Bea")
    yellow.route_web_socket("**/*", route)
    yellow.reload()
    expect(yellow.get_by_test_id("turn")).to_have_text("Opponent's turn")
    play({"red": red, "yellow": yellow}, [3, 3, 4], [])
    expect(yellow.get_by_test_id("message")).not_to_have_attribute("data-code", "rewound")

    lose["last move"] = True
    routes[-1].close(code=1012, reason="restart")  # the page reconnects, and resumes
    message = yellow.get_by_test_id("message")
    expect(message).to_have_text(LOST)
    expect(message).to_have_attribute("data-code", "rewound")
    expect(yellow.get_by_test_id("turn")).to_have_text("Opponent's turn")  # the board as the server kept it
