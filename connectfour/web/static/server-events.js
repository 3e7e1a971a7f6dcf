// Every event from the server, to the part of the page it is for: the game's
// events (game-events.js), errors (errors.js), and here the page's own: a
// word from the operators, the lobby, and the end of a quick match's wait.

import { hideRestartNotice, showAnnouncement } from "./banners.js";
import { ui } from "./elements.js";
import { onError } from "./errors.js";
import { onDraw, onInit, onPlay, onPresence, onRematch, onState, onWin } from "./game-events.js";
import { render } from "./game-view.js";
import { state } from "./game-state.js";
import { renderLobby } from "./lobby-view.js";
import { announce } from "./messages.js";
import { connection } from "./server-link.js";
import { backToLanding } from "./starting.js";
import * as saved from "./storage.js";

export function handle(event) {
  switch (event.type) {
    case "init":
      onInit(event);
      break;
    case "state":
      onState(event);
      break;
    case "play":
      onPlay(event);
      break;
    case "win":
      onWin(event);
      break;
    case "draw":
      onDraw();
      break;
    case "presence":
      onPresence(event);
      break;
    case "rematch":
      onRematch(event);
      break;
    case "error":
      onError(event);
      break;
    case "announcement":
      onAnnouncement(event);
      break;
    case "lobby":
      onLobby(event);
      break;
    case "cancelled":
      onCancelled();
      break;
    default:
      // Newer servers may send events this page does not know yet.
      console.debug("Ignoring an event of unknown type", event.type);
  }
}

/** A word from the operators; a restart also explains the reconnection that follows. */
function onAnnouncement(event) {
  if (typeof event.message !== "string") return;
  showAnnouncement(event);
  if (event.restart === true) state.restarting = true;
  announce(event.message);
  render();
}

/** The lobby, whole: counts and the two lists. */
function onLobby(event) {
  if (state.phase !== "landing") return; // a late update for a connection now in a game
  state.lobby = event;
  state.lobbyDown = false;
  state.lobbyError = null;
  if (state.restarting) hideRestartNotice();
  state.restarting = false;
  renderLobby();
}

/** The quick match was cancelled: back to the landing page, on the same connection. */
function onCancelled() {
  if (!state.matching && !state.cancelling) return;
  saved.forgetSeat(state.game);
  backToLanding();
  if (!connection.send({ type: "lobby" })) connection.retryNow();
  announce("Stopped looking for an opponent.");
  ui.playSomeone.focus();
}
