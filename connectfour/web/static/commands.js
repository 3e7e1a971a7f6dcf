// What the player asks of the server from the game page: play a column,
// resign (after a confirmation), claim the win, offer a draw or take a move
// back (and answer the opponent's), offer a rematch, stop looking for a
// quick match, leave a game nobody joined, play here again after another tab
// took the seat. What was asked is taken into the state (page-reducer.js),
// then shown.

import { offerControls } from "./controls.js";
import { ui } from "./elements.js";
import { goHome } from "./endings.js";
import { renderCursor } from "./game-board.js";
import { render } from "./game-view.js";
import { canClaim, canOfferDraw, canResign, canTakeBack, checkMove, hostAlone, isOver, isPlayer } from "./game-state.js";
import { renderMessage } from "./messages.js";
import { dispatch, state } from "./page-state.js";
import { connection } from "./server-link.js";
import { backToLanding } from "./starting.js";
import * as saved from "./storage.js";

/** Play `column`, or say why not. */
export function play(column) {
  const check = checkMove(state, column);
  if (!check.send) {
    if (check.message) {
      dispatch({ type: "move-refused", ...check.message });
      renderMessage();
    }
    return;
  }
  const ply = state.moves.length;
  if (connection.send({ type: "play", column, ply })) {
    dispatch({ type: "move-sent", ply });
    renderMessage();
    renderCursor();
  }
}

export function askResign() {
  const before = dispatch({ type: "resign-asked" });
  if (state === before) return;
  render();
  ui.resignCancel.focus();
}

export function cancelResign() {
  dispatch({ type: "resign-dropped" });
  render();
  ui.resign.focus();
}

export function resign() {
  if (!canResign(state) || state.phase !== "seated") return;
  dispatch({ type: "resign-dropped" });
  connection.send({ type: "resign" });
  render();
}

export function claim() {
  if (!canClaim(state) || state.phase !== "seated") return;
  connection.send({ type: "claim" });
}

/** Offer a draw to the opponent. */
export function offerDraw() {
  if (canOfferDraw(state)) ask("offer_draw", "draw");
}

/** Answer the opponent's offer of a draw: accepting it is offering one too. */
export function answerDraw(accept) {
  if (offerControls(state).drawAnswer?.canAnswer) ask(accept ? "offer_draw" : "decline_draw", "draw");
}

/** Take the last move back: at once against the computer and on one device; between two people, ask. */
export function takeBack() {
  if (canTakeBack(state)) ask("takeback", "takeback");
}

/** Answer the opponent's request to take a move back: accepting it is asking too. */
export function answerTakeback(accept) {
  if (offerControls(state).takebackAnswer?.canAnswer) ask(accept ? "takeback" : "decline_takeback", "takeback");
}

/** Send `type` (about `what`: a draw or a takeback); its buttons wait for the server's answer. */
function ask(type, what) {
  if (state.phase !== "seated" || state.requestSent !== null) return;
  if (connection.send({ type })) {
    dispatch({ type: "request-sent", what });
    render();
  }
}

export function offerRematch() {
  if (!isPlayer(state) || !isOver(state) || state.phase !== "seated") return;
  if (connection.send({ type: "rematch" })) {
    dispatch({ type: "rematch-sent" });
    render();
  }
}

/** Stop looking for an opponent: back to the landing page. */
export function cancelMatch() {
  if (!state.matching || state.cancelling) return;
  if (connection.connected && (state.phase === "seated" || state.handshake)) {
    if (connection.send({ type: "cancel" })) {
      dispatch({ type: "cancel-sent" });
      render();
    }
    return;
  }
  // Not asked on this connection yet (it is still opening): nothing to cancel on the server.
  connection.stop();
  backToLanding();
  connection.start();
  ui.playSomeone.focus();
}

/** "New game" while nobody joined: resign the game first, so that its invite seats nobody later. */
export function leaveWaitingGame(event) {
  if (!hostAlone(state) || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  if (state.leaving) return;
  if (!connection.send({ type: "resign" })) {
    goHome();
    return;
  }
  dispatch({ type: "leaving" });
  saved.noteGame(state.game, { status: "abandoned", winner: null, reason: "left" }); // "My games": not a loss
  saved.forgetSeat(state.game);
  setTimeout(() => {
    if (state.leaving) goHome(); // no answer: leave all the same
  }, 3000);
}

/** Another tab took the seat: take it back here. */
export function takeOver() {
  dispatch({ type: "taking-over" });
  renderMessage();
  connection.start();
  render();
}
