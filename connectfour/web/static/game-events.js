// The game's own events from the server: `init` (the links to share),
// `state` (the whole game: on joining, after a reconnection, at a rematch,
// after a takeback, or ending it: a draw agreed, a game aborted), `play`,
// `win`, `draw`, `presence` (who is connected, and the news about the
// opponent) and `rematch` (an offer). Each is taken into the state
// (game-reducer.js decides how, a timed game's clocks counting from the
// moment the page took it); then, from the states before and after, what
// the page draws, plays, says and saves.

import { setAddress } from "./address.js";
import { colourName, height } from "./board.js";
import { hideRestartNotice } from "./banners.js";
import { ui } from "./elements.js";
import { goHome } from "./endings.js";
import { board } from "./game-board.js";
import { stateNews } from "./game-reducer.js";
import { hasSeat, isOver, isPlayer, opponentSeat, outcome } from "./game-state.js";
import { render } from "./game-view.js";
import { announce, renderMessage } from "./messages.js";
import { dispatch, state } from "./page-state.js";
import { noteGame } from "./records.js";
import { renderShare } from "./share-links.js";
import * as sound from "./sound.js";
import {
  LOST_MOVES,
  PASSING_NEWS,
  rematchNews,
  rematchText,
  resultText,
  roleText,
  sentence,
  takebackNews,
  turnText,
} from "./status-text.js";
import * as saved from "./storage.js";

// Good news about the opponent is shown this long, then fades.
const NOTE_MS = 4000;

export function onInit(event) {
  const before = dispatch(event);
  saved.saveShareKeys(event.game, { join: event.join ?? null, watch: event.watch ?? null });
  if (state.hello !== before.hello) setAddress(`/?watch=${encodeURIComponent(state.hello.watch)}`); // a spectator's rematch
  renderShare();
}

export function onState(event) {
  const savedKeys = saved.shareKeys(event.game);
  const news = stateNews(state, event);
  const before = dispatch({ ...event, now: Date.now(), savedKeys });
  if (before.restarting) hideRestartNotice(); // back with a server that is up
  if (news.leftWait) saved.forgetSeat(before.game);
  if (event.token) {
    saved.saveSeat(event.game, event.token);
    noteGame();
    if (before.joinKey) saved.saveInvite(before.joinKey, event.game);
    setAddress(`/?game=${encodeURIComponent(event.game)}`);
  }
  // A player's links to share, kept for a later visit when this state brought new ones.
  const keys = state.keys;
  if (hasSeat(state) && keys && (keys.join !== savedKeys?.join || keys.watch !== savedKeys?.watch)) {
    saved.saveShareKeys(event.game, keys);
  }
  board.render(state.moves, state.cells);
  renderMessage();
  if (news.rematch) announce(rematchNews(state.you));
  if (news.lost) announce(LOST_MOVES);
  if (news.back) announce("Reconnected.");
  if (news.takeback) announce(takebackNews(news.takeback));
  render();
  // A game this state ends (a draw agreed, a game aborted): as a win or a draw would.
  if (!news.first && before.game === state.game && !isOver(before) && isOver(state)) ended();
  if (news.first) {
    announce(sentence(roleText(state), turnText(state)));
    const focused = document.activeElement;
    const touch = window.matchMedia("(hover: none) and (pointer: coarse)").matches;
    if (isPlayer(state) && !touch && (!focused || focused === document.body)) {
      ui.board.focus({ preventScroll: true });
    }
  }
}

export function onPlay(event) {
  const before = dispatch({ ...event, now: Date.now() });
  if (state === before) return; // already shown
  if (event.ply > before.moves.length) {
    console.warn(`Missed moves: expected ply ${before.moves.length}, got ${event.ply}`);
  }
  const row = height(before.moves, event.column);
  if (row !== event.row) console.warn(`Row mismatch: computed ${row}, server says ${event.row}`);
  renderMessage();
  board.render(state.moves, state.cells, state.moves.length - 1);
  sound.play("move");
  announce(`${colourName(event.player)} played column ${event.column + 1}`);
  noteGame();
  render();
}

export function onWin(event) {
  const before = dispatch({ ...event, now: Date.now() });
  if (before.leaving) {
    goHome();
    return;
  }
  board.render(state.moves, state.cells);
  ended();
}

export function onDraw(event) {
  dispatch({ ...event, now: Date.now() });
  ended();
}

/** The game just ended: its sound, its result said, noted, drawn, and the rematch next for the keyboard. */
function ended() {
  renderMessage();
  sound.play(state.status === "won" ? (outcome(state) === "loss" ? "lose" : "win") : "draw");
  announce(resultText(state));
  noteGame();
  render();
  focusRematch();
}

/** Once a game ends, the keyboard's next step is a rematch: focus it, unless the player is elsewhere. */
function focusRematch() {
  const focused = document.activeElement;
  const idle = !focused || focused === document.body || focused === ui.board;
  if (idle && !ui.rematch.hidden && !ui.rematch.disabled) ui.rematch.focus({ preventScroll: true });
}

export function onPresence(event) {
  const before = dispatch({ ...event, now: Date.now() });
  renderMessage();
  noteGame(); // the opponent's name, and the game under way
  if (opponentSeat(state) !== opponentSeat(before)) {
    fadeNote();
    if (opponentSeat(state) === "gone" && state.status === "playing") announce("Opponent left — you can claim the win");
    else if (state.opponentNote) announce(state.opponentNote);
  }
  render();
}

/** "Opponent joined" and "reconnected" are news for a moment, not for the whole game. */
let noteTimer = null;
function fadeNote() {
  clearTimeout(noteTimer);
  if (!PASSING_NEWS.includes(state.opponentNote)) return;
  const note = state.opponentNote;
  noteTimer = setTimeout(() => {
    const before = dispatch({ type: "note-faded", note });
    if (state !== before) render();
  }, NOTE_MS);
}

export function onRematch(event) {
  const before = dispatch(event);
  if (state === before) return;
  announce(rematchText(state));
  render();
}
