// The page drawn from its state: which part shows (the landing page, the
// invite's name prompt, the game), the status line above the board (who you
// are, whose turn, who is away, who watches; a timed game's clocks), and
// every part of the game page in turn. `render()` is called after any change of the state.

import { Analysis } from "./analysis.js";
import { renderClaimCountdown } from "./away-countdown.js";
import { renderBanner } from "./banners.js";
import { renderClocks } from "./clock-view.js";
import { renderActions, renderMatching } from "./controls-view.js";
import { ui } from "./elements.js";
import { board, renderCursor } from "./game-board.js";
import { canPlayNow, isOver, isPlayer } from "./game-state.js";
import { renderLobbyStatus } from "./lobby-view.js";
import { renderMessage } from "./messages.js";
import { renderMoves, renderReview, review } from "./moves-view.js";
import { dispatch, state } from "./page-state.js";
import { renderPlayers } from "./players-view.js";
import { renderShare } from "./share-links.js";
import { boardLabel, pageTitle, presenceText, roleText, turnText } from "./status-text.js";

// Spectators may see what each move is worth; players may not, while they play.
const analysis = new Analysis(ui.analysisToggle, ui.analysisColumns, ui.analysisText);

export function render() {
  const phase = state.phase;
  const seated = phase === "seated" || phase === "reconnecting";
  const over = isOver(state);
  const watching = state.you === "spectator" && seated;
  ui.spectatorAnalysis.hidden = !watching;
  if (watching) analysis.follow(state.moves, over);
  else ui.analysisColumns.hidden = true;
  ui.landing.hidden = phase !== "landing";
  ui.joinPrompt.hidden = phase !== "invited";
  const withBoard = ["connecting", "seated", "reconnecting", "replaced"].includes(phase) || (phase === "ended" && state.hasBoard);
  ui.game.hidden = !(withBoard || phase === "failed" || phase === "ended");
  ui.stage.hidden = !withBoard;
  ui.newGame.hidden = phase === "landing";
  ui.myGamesLink.hidden = phase !== "landing"; // the header holds one link: home, or on the landing page, My games
  ui.game.dataset.phase = phase;
  // Only players can focus the board: it is where keyboard play happens.
  if (isPlayer(state)) ui.board.tabIndex = 0;
  else ui.board.removeAttribute("tabindex");

  ui.role.textContent = roleText(state);
  ui.role.dataset.role = state.you ?? "";
  ui.role.hidden = !state.you;
  const turn = turnText(state);
  ui.turn.textContent = turn;
  ui.status.dataset.status = state.status ?? "";
  ui.status.dataset.turn = state.turn ?? "";
  ui.status.dataset.mine = String(canPlayNow(state));
  ui.presence.textContent = phase === "seated" ? presenceText(state) : "";
  ui.board.dataset.status = state.status ?? "";
  ui.board.setAttribute("aria-label", boardLabel(state, turn));
  ui.game.dataset.role = state.you ?? "";
  ui.help.hidden = !isPlayer(state) || over;

  renderMessage();
  renderBanner();
  renderClaimCountdown();
  renderActions();
  renderMatching();
  renderPlayers();
  renderClocks();
  renderLobbyStatus();
  renderShare();
  renderCursor();
  renderMoves();
  renderReview();

  const title = pageTitle(state, turn);
  if (document.title !== title) document.title = title;
}

/** The board after `ply` moves of the finished game, chosen in its review. */
function showPly(ply) {
  dispatch({ type: "review-chosen", ply });
  const total = state.moves.length;
  board.render(state.moves.slice(0, ply), ply >= total ? state.cells : []);
  review.select(Math.min(ply, total));
  render();
}

review.onSelect = showPly;
