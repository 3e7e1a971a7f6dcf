// The board on the game page: the one BoardView, and the column cursor above
// it, shown only to a player while the game goes on (a mouse moves it by
// hovering, the keyboard with keyboard.js).

import { BoardView } from "./board.js";
import { ui } from "./elements.js";
import { canPlayNow, isOver, isPlayer, myColour } from "./game-state.js";
import { dispatch, state } from "./page-state.js";

/** The board; a click on a column (`board.onColumn`) is wired in app.js. */
export const board = new BoardView(ui.board, ui.indicator);

board.onHover = (column) => {
  if (!isPlayer(state)) return;
  dispatch({ type: "cursor-moved", column });
  renderCursor();
};

export function renderCursor() {
  const player = isPlayer(state) && !isOver(state);
  // Hidden, but its row stays: the board must not move up when a game ends.
  ui.indicator.classList.toggle("off", !player);
  board.setCursor(player ? state.cursor : null, player ? myColour(state) : null, canPlayNow(state));
}
