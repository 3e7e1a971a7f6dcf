// How a page's game stops being its own: no game to show (a refused link),
// the seat taken over by another tab, the game ended while the page was away,
// or the player leaving for the landing page. Each stops the connection.

import { render } from "./game-view.js";
import { announce, renderMessage } from "./messages.js";
import { dispatch, state } from "./page-state.js";
import { applyRecord, fetchRecord } from "./records.js";
import { connection } from "./server-link.js";
import * as saved from "./storage.js";
import { GAME_ENDED, resultText } from "./status-text.js";

/** No game for this page: say why, offer a new one. */
export function fail(text, code) {
  dispatch({ type: "failed", text, code });
  stopped();
}

/** Another tab or device resumed this seat: step aside, for good. */
export function replaced() {
  dispatch({ type: "replaced" });
  stopped();
}

/** The state says the page's game is no longer its own (failed, replaced, ended): stop, and say why. */
export function stopped() {
  connection.stop();
  if (state.phase === "ended") {
    gameEnded();
    return;
  }
  renderMessage();
  announce(state.message.text);
  render();
}

/** The game ended while this page was away (resume said game_over): show how. */
async function gameEnded() {
  // Who this browser was in the game, as it noted while playing.
  dispatch({ type: "game-noted", note: saved.gameNote(state.game) });
  renderMessage();
  render();
  const record = await fetchRecord(state.game);
  if (record) {
    applyRecord(record);
    renderMessage();
    announce(`${GAME_ENDED} ${resultText(state)}`);
  } else {
    announce(GAME_ENDED);
  }
  render();
}

/** To the landing page, loaded anew. */
export function goHome() {
  dispatch({ type: "going-home" });
  connection.stop();
  window.location.assign("/");
}
