// The moves beside the board: numbered as they are played, and once the game
// is over, the game analysed in their place (review.js: the chart and the
// moves, each a step back to its position; `state.reviewPly` is the one shown).

import { ui } from "./elements.js";
import { reviewable } from "./game-state.js";
import { state } from "./page-state.js";
import { GameReview } from "./review.js";
import { moveText } from "./status-text.js";

/** The finished game's review; choosing a move (`review.onSelect`) is wired in game-view.js. */
export const review = new GameReview(ui.review);

/** The moves so far, numbered, beside the board on wide screens. */
export function renderMoves() {
  ui.moves.hidden = !state.hasBoard || state.moves.length === 0 || reviewable(state);
  const items = ui.moveList.children;
  // Append only what is new; rebuild when the list shrank (a rematch).
  if (items.length > state.moves.length) ui.moveList.replaceChildren();
  for (let ply = items.length; ply < state.moves.length; ply++) {
    const item = document.createElement("li");
    item.dataset.player = ply % 2 === 0 ? "red" : "yellow";
    item.textContent = moveText(ply, state.moves[ply]);
    ui.moveList.append(item);
  }
  for (const [ply, item] of [...items].entries()) item.classList.toggle("last", ply === state.moves.length - 1);
  ui.moveList.scrollTop = ui.moveList.scrollHeight; // the newest move in sight, without scrolling the page
}

/** After the end, the game analysed: the chart (on request) and the moves, each a step back to it. */
export function renderReview() {
  const shown = reviewable(state);
  ui.review.hidden = !shown;
  if (!shown) return; // and no move of it chosen (game-reducer.js)
  review.load(state.moves);
  review.select(state.reviewPly ?? state.moves.length);
}
