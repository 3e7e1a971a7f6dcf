// The game's own events from the server, taken into the state and shown:
// `init` (the links to share), `state` (the whole game: on joining, after a
// reconnection, at a rematch), `play`, `win`, `draw`, `presence` (who is
// connected, and the news about the opponent) and `rematch` (an offer).

import { setAddress } from "./address.js";
import { colourName, height } from "./board.js";
import { hideRestartNotice } from "./banners.js";
import { ui } from "./elements.js";
import { goHome } from "./endings.js";
import { board } from "./game-board.js";
import { render } from "./game-view.js";
import {
  bothSeated,
  canResign,
  hasSeat,
  isOver,
  isPlayer,
  lostHistory,
  noteClaimTimes,
  noteNames,
  opponentSeat,
  outcome,
  state,
} from "./game-state.js";
import { announce, clearMessage, showMessage, showResult } from "./messages.js";
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
  seatNote,
  sentence,
  turnText,
} from "./status-text.js";
import * as saved from "./storage.js";

// Good news about the opponent is shown this long, then fades.
const NOTE_MS = 4000;

export function onInit(event) {
  // The keys to share: for the game just created, or the rematch about to start.
  const keys = { join: event.join ?? null, watch: event.watch ?? null };
  saved.saveShareKeys(event.game, keys);
  state.keys = { game: event.game, ...keys };
  if (state.you === "spectator" && event.watch) {
    // A rematch: follow the new game, also after a reload or a reconnect.
    state.hello = { type: "init", watch: event.watch };
    setAddress(`/?watch=${encodeURIComponent(event.watch)}`);
  }
  renderShare();
}

export function onState(event) {
  if (state.restarting) hideRestartNotice(); // back with a server that is up
  state.restarting = false;
  noteClaimTimes(state, event);
  // A quick match's wait may end, after a drop, in another game: the one the server paired us in.
  const paired = state.match && state.status === "waiting";
  const rematch = state.everSeated && state.game !== null && event.game !== state.game && !paired;
  // A wait for a quick match that ended in another game (paired while away): that seat is over.
  if (event.match === true && state.game && event.game !== state.game && (paired || !state.everSeated)) {
    saved.forgetSeat(state.game);
  }
  if (event.game !== state.game) state.names = { red: null, yellow: null };
  noteNames(state, event);
  state.computer = event.computer === "red" || event.computer === "yellow" ? event.computer : null;
  state.level = Number.isInteger(event.level) ? event.level : null;
  state.match = event.match === true;
  if (event.status !== "waiting") state.matching = false;
  else if (state.match) state.matching = true;
  state.cancelling = false;
  const back = state.phase === "reconnecting";
  const first = !state.everSeated || rematch;
  const lost = state.everSeated && event.game === state.game && lostHistory(state.moves, event.moves);
  Object.assign(state, {
    phase: "seated",
    handshake: false,
    everSeated: true,
    hasBoard: true,
    game: event.game,
    you: event.you,
    moves: Array.isArray(event.moves) ? [...event.moves] : [],
    status: event.status,
    turn: event.turn ?? null,
    red: event.red,
    yellow: event.yellow,
    spectators: event.spectators ?? 0,
    winner: event.winner ?? null,
    reason: event.reason ?? null,
    cells: event.cells ?? [],
    pending: null,
    offerSent: false,
    attempt: 0,
    retryAt: null,
  });
  if (rematch || !isOver(state)) {
    state.offers = new Set();
    if (rematch) state.confirmResign = false;
  }
  if (!isOver(state) && !canResign(state)) state.confirmResign = false;
  if (event.token) {
    state.token = event.token;
    saved.saveSeat(event.game, event.token);
    noteGame();
    if (state.joinKey) {
      saved.saveInvite(state.joinKey, event.game);
      state.joinKey = null; // the invite belongs to this game, not to its rematches
    }
    setAddress(`/?game=${encodeURIComponent(event.game)}`);
  }
  if (state.keys?.game !== event.game) {
    const keys = saved.shareKeys(event.game);
    state.keys = keys ? { game: event.game, ...keys } : null;
  }
  // Each player's state carries the watch link to share (spectators' does not).
  if (typeof event.watch === "string" && event.watch && state.keys?.watch !== event.watch) {
    state.keys = { game: event.game, join: state.keys?.join ?? null, watch: event.watch };
    if (hasSeat(state)) saved.saveShareKeys(event.game, state.keys);
  }
  state.quietJoin = rematch && opponentSeat(state) !== "connected";
  state.opponentNote = state.quietJoin ? "" : seatNote(opponentSeat(state), null, state.match);
  state.reviewPly = null;
  board.render(state.moves, state.cells);
  clearMessage();
  if (rematch) {
    const text = rematchNews(state.you);
    showMessage(text, { kind: "info", code: "rematch" });
    announce(text);
  }
  showResult();
  if (lost) {
    showMessage(LOST_MOVES, { kind: "error", code: "rewound" });
    announce(LOST_MOVES);
  }
  if (back) announce("Reconnected.");
  render();
  if (first) {
    announce(sentence(roleText(state), turnText(state)));
    const focused = document.activeElement;
    const touch = window.matchMedia("(hover: none) and (pointer: coarse)").matches;
    if (isPlayer(state) && !touch && (!focused || focused === document.body)) {
      ui.board.focus({ preventScroll: true });
    }
  }
}

export function onPlay(event) {
  if (event.ply < state.moves.length) return; // already shown
  if (event.ply > state.moves.length) {
    console.warn(`Missed moves: expected ply ${state.moves.length}, got ${event.ply}`);
  }
  const row = height(state.moves, event.column);
  if (row !== event.row) console.warn(`Row mismatch: computed ${row}, server says ${event.row}`);
  state.moves.push(event.column);
  state.turn = event.turn ?? null;
  state.pending = null;
  if (state.status === "waiting" && bothSeated(state)) state.status = "playing";
  if (state.message && state.message.kind !== "result") clearMessage();
  board.render(state.moves, state.cells, state.moves.length - 1);
  sound.play("move");
  announce(`${colourName(event.player)} played column ${event.column + 1}`);
  noteGame();
  render();
}

export function onWin(event) {
  if (state.leaving) {
    goHome();
    return;
  }
  state.status = "won";
  state.winner = event.player;
  state.reason = event.reason ?? "four";
  state.cells = event.cells ?? [];
  state.turn = null;
  state.pending = null;
  state.confirmResign = false;
  board.render(state.moves, state.cells);
  showResult();
  sound.play(outcome(state) === "loss" ? "lose" : "win");
  announce(resultText(state));
  noteGame();
  render();
  focusRematch();
}

export function onDraw() {
  state.status = "draw";
  state.reason = "full";
  state.turn = null;
  state.pending = null;
  state.confirmResign = false;
  showResult();
  sound.play("draw");
  announce("Draw! The board is full.");
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
  const before = opponentSeat(state);
  noteClaimTimes(state, event);
  state.red = event.red;
  state.yellow = event.yellow;
  state.spectators = event.spectators ?? 0;
  noteNames(state, event);
  if (state.status === "waiting" && bothSeated(state)) {
    state.status = "playing";
    state.matching = false;
    state.cancelling = false;
    if (state.message?.code === "waiting") clearMessage();
  }
  noteGame(); // the opponent's name, and the game under way
  const after = opponentSeat(state);
  if (after !== before) {
    state.opponentNote = state.quietJoin && after === "connected" ? "" : seatNote(after, before, state.match);
    if (after === "connected") state.quietJoin = false;
    fadeNote();
    if (after === "gone" && state.status === "playing") announce("Opponent left — you can claim the win");
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
    if (state.opponentNote !== note) return;
    state.opponentNote = "";
    render();
  }, NOTE_MS);
}

export function onRematch(event) {
  const player = event.player;
  if (player !== "red" && player !== "yellow") return;
  state.offers.add(player);
  if (player === state.you) state.offerSent = false;
  announce(rematchText(state));
  render();
}
