// Connect Four in the browser: the landing page and the game page, wired
// together here from modules of one concept each (docs/architecture.md, "The
// page", lists them).
//
// A player's seat survives reloads, dropped connections and server restarts:
// the seat's token is kept in localStorage and the page's address becomes
// /?game=ID, from which a reload resumes the seat. Spectators keep their
// /?watch=KEY address and watch again after a drop.
//
// On the landing page the connection follows the lobby (the players online,
// the public games waiting and being played); a game started from the page,
// or a quick match ("Play someone"), is asked for on that same connection.

import { bindDismiss } from "./banners.js";
import {
  answerDraw,
  answerTakeback,
  askResign,
  cancelMatch,
  cancelResign,
  claim,
  leaveWaitingGame,
  offerDraw,
  offerRematch,
  play,
  resign,
  takeBack,
  takeOver,
} from "./commands.js";
import { ui } from "./elements.js";
import { board, renderCursor } from "./game-board.js";
import { isPlayer } from "./game-state.js";
import { bindKeyboard } from "./keyboard.js";
import { bindLanding } from "./landing.js";
import { hello, onDown, onEnd, onOpen, onRetry } from "./link-status.js";
import { dispatch, state } from "./page-state.js";
import { bindNameField } from "./player-name.js";
import { handle } from "./server-events.js";
import { connection } from "./server-link.js";
import { bindShareLinks } from "./share-links.js";
import * as sound from "./sound.js";
import { startFromAddress } from "./starting.js";
import { bindTimeControl } from "./time-control.js";

connection.listen({ hello, onEvent: handle, onOpen, onDown, onRetry, onEnd });

board.onColumn = (column) => {
  dispatch({ type: "cursor-moved", column });
  play(column);
};

ui.newGame.addEventListener("click", leaveWaitingGame);
ui.startNew.addEventListener("click", leaveWaitingGame);
ui.resign.addEventListener("click", askResign);
ui.resignCancel.addEventListener("click", cancelResign);
ui.resignConfirm.addEventListener("click", resign);
ui.claim.addEventListener("click", claim);
ui.offerDraw.addEventListener("click", offerDraw);
ui.acceptDraw.addEventListener("click", () => answerDraw(true));
ui.declineDraw.addEventListener("click", () => answerDraw(false));
ui.takeback.addEventListener("click", takeBack);
ui.acceptTakeback.addEventListener("click", () => answerTakeback(true));
ui.declineTakeback.addEventListener("click", () => answerTakeback(false));
ui.rematch.addEventListener("click", offerRematch);
ui.retryNow.addEventListener("click", () => connection.retryNow());
ui.takeOver.addEventListener("click", takeOver);
bindShareLinks();
bindDismiss();

bindKeyboard(ui.board, {
  confirming: () => state.confirmResign,
  cancelResign,
  playing: () => isPlayer(state),
  cursor: () => state.cursor,
  moveCursor: (column) => {
    dispatch({ type: "cursor-moved", column });
    renderCursor();
  },
  play,
});

bindNameField();
bindTimeControl();
sound.bindSwitch(ui.sound);
bindLanding();
ui.cancelMatch.addEventListener("click", cancelMatch);

startFromAddress();
