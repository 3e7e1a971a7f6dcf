// The server's `error` events: a refused first frame leaves the page with no
// game (or shows the one that ended), a seat taken over steps aside, the
// harmless ones (a double click) pass in silence, and the rest are said in
// the message.

import { NO_SUCH_GAME, fail, gameEnded, goHome, replaced } from "./endings.js";
import { render } from "./game-view.js";
import { state } from "./game-state.js";
import { showMessage } from "./messages.js";
import * as saved from "./storage.js";

// Errors, in answer to the first frame, after which this page has no game to show.
const FATAL = new Set(["game_not_found", "seat_taken", "already_started", "invalid_message", "not_a_player"]);
// Errors the player does not need to hear about: a double click, say, or a
// cancel too late (the opponent arrived: the game starts).
const QUIET = new Set(["stale_ply", "not_waiting"]);

export function onError(event) {
  const code = String(event.code ?? "error");
  const text = String(event.message ?? "Something went wrong.");
  if (state.leaving) {
    goHome();
    return;
  }
  state.pending = null;
  state.offerSent = false;
  state.cancelling = false;
  if (state.phase === "landing") {
    // The lobby's connection: nothing to show but a line in the lobby.
    state.lobbyError = text;
    render();
    return;
  }
  if (code === "replaced") {
    replaced();
    return;
  }
  if (QUIET.has(code)) {
    render();
    return;
  }
  if (state.handshake) {
    // The answer to init or resume: this page is not in the game.
    state.handshake = false;
    if (code === "game_over" && state.token) {
      gameEnded();
      return;
    }
    if (code === "game_over" && state.hello?.join) {
      // An invite to a game its host left before anyone came.
      fail("This game is over: its host left before anyone joined. Start a new game, or join one in the lobby.", code);
      return;
    }
    if (code === "game_not_found" && state.token) {
      // A seat this browser kept in a game the server no longer knows.
      saved.forgetSeat(state.game);
      state.token = null;
      fail(NO_SUCH_GAME, code);
      return;
    }
    if (code === "invalid_token") {
      saved.forgetSeat(state.game);
      state.token = null;
      fail(text, code);
      return;
    }
    if (FATAL.has(code)) {
      // A spent invite: watch the game instead, when the server says how.
      if (code === "seat_taken" && typeof event.watch === "string") state.watchKey = event.watch;
      fail(text, code);
      return;
    }
  }
  showMessage(text, { kind: "error", code });
  render();
}
