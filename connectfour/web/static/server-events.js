// Every event from the server, to the part of the page it is for: the game's
// events (game-events.js), draws and takebacks (offer-events.js), errors
// (errors.js), and here the page's own: a
// word from the operators, the lobby, and the end of a quick match's wait.
// Each is taken into the state (game-reducer.js), then shown.

import { hideRestartNotice, showAnnouncement } from "./banners.js";
import { ui } from "./elements.js";
import { onError } from "./errors.js";
import { onDraw, onInit, onPlay, onPresence, onRematch, onState, onWin } from "./game-events.js";
import { render } from "./game-view.js";
import { renderLobby } from "./lobby-view.js";
import { announce } from "./messages.js";
import { onDeclined, onOffer } from "./offer-events.js";
import { dispatch, state } from "./page-state.js";
import { connection } from "./server-link.js";
import { showLanding } from "./starting.js";
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
      onDraw(event);
      break;
    case "presence":
      onPresence(event);
      break;
    case "rematch":
      onRematch(event);
      break;
    case "draw_offer":
    case "takeback_request":
      onOffer(event);
      break;
    case "draw_declined":
    case "takeback_declined":
      onDeclined(event);
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
      onCancelled(event);
      break;
    default:
      // Newer servers may send events this page does not know yet.
      console.debug("Ignoring an event of unknown type", event.type);
  }
}

/** A word from the operators; a restart also explains the reconnection that follows. */
function onAnnouncement(event) {
  if (typeof event.message !== "string") return;
  dispatch(event);
  showAnnouncement(event);
  announce(event.message);
  render();
}

/** The lobby, whole: counts and the two lists. */
function onLobby(event) {
  const before = dispatch(event);
  if (state === before) return; // a late update for a connection now in a game
  if (before.restarting) hideRestartNotice();
  renderLobby();
}

/** The quick match was cancelled: back to the landing page, on the same connection. */
function onCancelled(event) {
  const before = dispatch(event);
  if (state === before) return;
  saved.forgetSeat(before.game);
  showLanding();
  if (!connection.send({ type: "lobby" })) connection.retryNow();
  announce("Stopped looking for an opponent.");
  ui.playSomeone.focus();
}
