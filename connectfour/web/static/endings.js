// How a page's game stops being its own: no game to show (a refused link),
// the seat taken over by another tab, the game ended while the page was away,
// or the player leaving for the landing page. Each stops the connection.

import { render } from "./game-view.js";
import { state } from "./game-state.js";
import { announce, showMessage, showResult } from "./messages.js";
import { applyRecord, fetchRecord } from "./records.js";
import { connection } from "./server-link.js";
import * as saved from "./storage.js";
import { resultText } from "./status-text.js";

export const NO_SUCH_GAME = "There is no such game. Check the link, or start a new game.";

/** No game for this page: say why, offer a new one. */
export function fail(text, code) {
  state.phase = "failed";
  state.retryAt = null;
  connection.stop();
  showMessage(text, { kind: "error", code });
  announce(text);
  render();
}

/** Another tab or device resumed this seat: step aside, for good. */
export function replaced() {
  state.phase = "replaced";
  state.pending = null;
  state.handshake = false;
  state.confirmResign = false;
  state.retryAt = null;
  connection.stop();
  const text = "This game is open in another tab or device.";
  showMessage(text, { kind: "info", code: "replaced" });
  announce(text);
  render();
}

/** The game ended while this page was away (resume said game_over): show how. */
export async function gameEnded() {
  connection.stop();
  // Who this browser was in the game, as it noted while playing.
  const note = saved.gameNote(state.game);
  if (note) {
    state.you = note.you;
    state.computer = note.computer;
    state.level = note.level;
  }
  state.phase = "ended";
  state.pending = null;
  state.turn = null;
  state.retryAt = null;
  showMessage("This game has ended.", { kind: "info", code: "game_over" });
  render();
  const record = await fetchRecord(state.game);
  if (record) {
    applyRecord(record);
    showResult();
    announce(`This game has ended. ${resultText(state)}`);
  } else {
    announce("This game has ended.");
  }
  render();
}

/** To the landing page, loaded anew. */
export function goHome() {
  state.leaving = false;
  connection.stop();
  window.location.assign("/");
}
