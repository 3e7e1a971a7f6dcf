// Connect Four in the browser: the landing page, the game page, and the
// glue between the board, the keyboard and the server connection.
//
// A player's seat survives reloads, dropped connections and server restarts:
// the seat's token is kept in localStorage and the page's address becomes
// /?game=ID, from which a reload resumes the seat. Spectators keep their
// /?watch=KEY address and watch again after a drop.
//
// On the landing page the connection follows the lobby (the players online,
// the public games waiting and being played); a game started from the page,
// or a quick match ("Play someone"), is asked for on that same connection.

import { Analysis } from "./analysis.js";
import { BoardView, COLUMNS, ROWS, colourName, height, winningCells } from "./board.js";
import { Connection } from "./connection.js";
import { describe as describeGame } from "./mygames.js";
import { checkName, computerName, nameOf, playerChip } from "./names.js";
import { GameReview } from "./review.js";
import * as sound from "./sound.js";
import * as saved from "./storage.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const ui = {
  landing: $("landing"),
  startOnline: $("start-online"),
  onlineForm: $("online-form"),
  playSomeone: $("play-someone"),
  nameInput: $("name-input"),
  joinPrompt: $("join-prompt"),
  joinForm: $("join-form"),
  joinName: $("join-name"),
  joinNameError: $("join-name-error"),
  nameError: $("name-error"),
  onlineCount: $("online-count"),
  seekingCount: $("seeking-count"),
  lobbySep: $("lobby-sep"),
  lobbyStatus: $("lobby-status"),
  lobby: $("lobby"),
  myGames: $("my-games"),
  myGamesLink: $("my-games-link"),
  myGamesList: $("my-games-list"),
  myGamesEmpty: $("my-games-empty"),
  waitingList: $("waiting-list"),
  waitingEmpty: $("waiting-empty"),
  waitingMore: $("waiting-more"),
  playingList: $("playing-list"),
  playingEmpty: $("playing-empty"),
  playingMore: $("playing-more"),
  players: $("players"),
  matching: $("matching"),
  matchingText: $("matching-text"),
  cancelMatch: $("cancel-match"),
  startLocal: $("start-local"),
  computerForm: $("computer-form"),
  newGame: $("new-game"),
  nextSteps: $("next-steps"),
  rematch: $("rematch"),
  rematchStatus: $("rematch-status"),
  replayLink: $("replay-link"),
  startNew: $("start-new"),
  takeOver: $("take-over"),
  game: $("game"),
  stage: $("stage"),
  moves: $("moves"),
  moveList: $("move-list"),
  review: $("review"),
  sound: $("sound"),
  watchInstead: $("watch-instead"),
  status: $("status"),
  role: $("role"),
  turn: $("turn"),
  presence: $("presence"),
  banner: $("connection"),
  bannerText: $("connection-text"),
  announcement: $("announcement"),
  announcementText: $("announcement-text"),
  dismissAnnouncement: $("dismiss-announcement"),
  retryNow: $("retry-now"),
  claimPanel: $("claim-panel"),
  claimCountdown: $("claim-countdown"),
  spectatorAnalysis: $("spectator-analysis"),
  analysisColumns: $("analysis-columns"),
  claim: $("claim"),
  message: $("message"),
  share: $("share"),
  invite: $("invite"),
  inviteLink: $("invite-link"),
  watch: $("watch"),
  watchLink: $("watch-link"),
  board: $("board"),
  indicator: $("indicator"),
  help: document.getElementById("board-help"),
  controls: $("controls"),
  resign: $("resign"),
  resignPanel: $("resign-confirm-panel"),
  resignQuestion: $("resign-question"),
  resignConfirm: $("resign-confirm"),
  resignCancel: $("resign-cancel"),
  live: $("live"),
};

const analysis = new Analysis($("analysis-toggle"), ui.analysisColumns, $("analysis-text"));

// Once a game is over, it can be analysed here: the chart and the move list
// show the board after any move (`reviewPly`; null: the final position).
const review = new GameReview($("review"), (ply) => showPly(ply));
let reviewPly = null;

/** The board after `ply` moves of the finished game. */
function showPly(ply) {
  const total = state.moves.length;
  reviewPly = ply >= total ? null : ply;
  board.render(state.moves.slice(0, ply), ply >= total ? state.cells : []);
  review.select(Math.min(ply, total));
  render();
}

const NO_SUCH_GAME = "There is no such game. Check the link, or start a new game.";
// Errors, in answer to the first frame, after which this page has no game to show.
const FATAL = new Set(["game_not_found", "seat_taken", "already_started", "invalid_message", "not_a_player"]);
// Errors the player does not need to hear about: a double click, say, or a
// cancel too late (the opponent arrived: the game starts).
const QUIET = new Set(["stale_ply", "not_waiting"]);
const PLAYER_ROLES = ["red", "yellow", "both"];
// Good news about the opponent is shown this long, then fades.
const NOTE_MS = 4000;

const state = {
  // landing: the start page; connecting: first connection, no game shown yet;
  // seated: in a game, connected; reconnecting: in a game, connection down;
  // failed: no game to show; replaced: another tab took the seat;
  // ended: the game ended while this page was away from it;
  // loading: looking up a game this browser has no seat in;
  // invited: an invite opened with no name on this device: the name is asked first.
  phase: "landing",
  hello: null, // the init this page started with, sent again after a drop when there is no token
  handshake: false, // the first frame was sent, and neither state nor error answered it yet
  everSeated: false, // a state arrived at least once
  hasBoard: false, // the board shows a real position
  game: null,
  token: null,
  joinKey: null, // the invite this page was opened with
  keys: null, // {game, join, watch}: the links the host shares
  you: null, // red | yellow | spectator | both
  moves: [],
  status: null, // waiting | playing | won | draw | abandoned
  turn: null,
  red: "empty",
  yellow: "empty",
  spectators: 0,
  winner: null,
  reason: null, // four | full | resign | claim | expired
  cells: [],
  pending: null, // the ply of a move sent and not yet confirmed
  cursor: Math.floor(COLUMNS / 2),
  opponentNote: "",
  quietJoin: false, // a rematch just started: the opponent's arrival in it is no news
  watchKey: null, // a spent invite's game, to watch instead (when the server says it)
  confirmResign: false,
  offers: new Set(), // players who offered a rematch
  claimAt: { red: null, yellow: null }, // when each absent player's opponent may claim (ms since the epoch)
  offerSent: false, // this page sent a rematch offer not yet answered
  attempt: 0, // reconnection attempt under way or waiting
  retryAt: null, // when the next attempt starts (ms since the epoch)
  restarting: false, // the server said it is restarting: the next outage is expected
  message: null,
  names: { red: null, yellow: null }, // the players' display names, when they gave one
  computer: null, // the computer's seat in a game against it
  level: null, // and its level
  match: false, // the game was made by a quick match
  matching: false, // this page asked for a quick match and no opponent came yet
  cancelling: false, // a cancel of the quick match was sent and not answered yet
  lobby: null, // the last lobby event
  lobbyDown: false, // the landing page's connection is down, retrying
  lobbyError: null, // the server refused the lobby: why
  leaving: false, // the host left a game nobody joined: its resignation is on its way, then the landing page
};

const board = new BoardView(ui.board, ui.indicator, (column) => {
  state.cursor = column;
  play(column);
});
board.onHover = (column) => {
  if (!isPlayer()) return;
  state.cursor = column;
  renderCursor();
};

const connection = new Connection({
  hello: () => {
    if (state.phase === "landing") return { type: "lobby" };
    state.handshake = true;
    if (state.game && state.token) return { type: "resume", game: state.game, token: state.token };
    return state.hello;
  },
  onEvent: handle,
  onOpen: ({ protocol }) => {
    if (protocol !== "connectfour.v1") {
      console.warn(`The server did not accept connectfour.v1 (got "${protocol}")`);
    }
    if (state.phase === "landing") {
      state.lobbyDown = false;
      state.attempt = 0;
      state.retryAt = null;
    }
    render();
  },
  onDown: ({ attempt, delay }) => {
    if (state.phase === "landing") {
      state.lobbyDown = true;
      state.attempt = attempt;
      state.retryAt = Date.now() + delay;
      render();
      return;
    }
    if (!["connecting", "seated", "reconnecting"].includes(state.phase)) return;
    const first = state.phase === "seated";
    state.phase = state.everSeated ? "reconnecting" : "connecting";
    state.handshake = false;
    state.pending = null;
    state.offerSent = false;
    state.attempt = attempt;
    state.retryAt = Date.now() + delay;
    if (first) announce("Connection lost. Reconnecting…");
    tick();
    render();
  },
  onRetry: ({ attempt }) => {
    state.attempt = attempt;
    state.retryAt = null;
    render();
  },
  onEnd: () => {
    if (state.phase !== "replaced") replaced();
  },
});

// ---- Server events ---------------------------------------------------------

function handle(event) {
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

function onInit(event) {
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

/** The server says, per absent seat, how many seconds until the claim: keep it as a moment. */
function noteClaimTimes(event) {
  for (const player of ["red", "yellow"]) {
    const seconds = event[`${player}_claimable_in`];
    state.claimAt[player] = typeof seconds === "number" ? Date.now() + seconds * 1000 : null;
  }
}

/** The players' names from a state or presence event; a field left out keeps what is known. */
function noteNames(event) {
  for (const player of ["red", "yellow"]) {
    const key = `${player}_name`;
    if (key in event) state.names[player] = nameOf(event[key]);
  }
}

function onState(event) {
  if (state.restarting) hideRestartNotice(); // back with a server that is up
  state.restarting = false;
  noteClaimTimes(event);
  // A quick match's wait may end, after a drop, in another game: the one the server paired us in.
  const paired = state.match && state.status === "waiting";
  const rematch = state.everSeated && state.game !== null && event.game !== state.game && !paired;
  // A wait for a quick match that ended in another game (paired while away): that seat is over.
  if (event.match === true && state.game && event.game !== state.game && (paired || !state.everSeated)) {
    saved.forgetSeat(state.game);
  }
  if (event.game !== state.game) state.names = { red: null, yellow: null };
  noteNames(event);
  state.computer = event.computer === "red" || event.computer === "yellow" ? event.computer : null;
  state.level = Number.isInteger(event.level) ? event.level : null;
  state.match = event.match === true;
  if (event.status !== "waiting") state.matching = false;
  else if (state.match) state.matching = true;
  state.cancelling = false;
  const back = state.phase === "reconnecting";
  const first = !state.everSeated || rematch;
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
  if (rematch || !isOver()) {
    state.offers = new Set();
    if (rematch) state.confirmResign = false;
  }
  if (!isOver() && !canResign()) state.confirmResign = false;
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
    if (hasSeat()) saved.saveShareKeys(event.game, state.keys);
  }
  state.quietJoin = rematch && opponentSeat() !== "connected";
  state.opponentNote = state.quietJoin ? "" : seatNote(opponentSeat(), null);
  reviewPly = null;
  board.render(state.moves, state.cells);
  clearMessage();
  if (rematch) {
    const text =
      state.you === "red" || state.you === "yellow"
        ? `Rematch! Colours swapped: you are ${colourName(state.you)} now.`
        : "Rematch! A new game has started.";
    showMessage(text, { kind: "info", code: "rematch" });
    announce(text);
  }
  showResult();
  if (back) announce("Reconnected.");
  render();
  if (first) {
    announce(sentence(roleText(), turnText()));
    const focused = document.activeElement;
    const touch = window.matchMedia("(hover: none) and (pointer: coarse)").matches;
    if (isPlayer() && !touch && (!focused || focused === document.body)) {
      ui.board.focus({ preventScroll: true });
    }
  }
}

function onPlay(event) {
  if (event.ply < state.moves.length) return; // already shown
  if (event.ply > state.moves.length) {
    console.warn(`Missed moves: expected ply ${state.moves.length}, got ${event.ply}`);
  }
  const row = height(state.moves, event.column);
  if (row !== event.row) console.warn(`Row mismatch: computed ${row}, server says ${event.row}`);
  state.moves.push(event.column);
  state.turn = event.turn ?? null;
  state.pending = null;
  if (state.status === "waiting" && bothSeated()) state.status = "playing";
  if (state.message && state.message.kind !== "result") clearMessage();
  board.render(state.moves, state.cells, state.moves.length - 1);
  sound.play("move");
  announce(`${colourName(event.player)} played column ${event.column + 1}`);
  noteGame();
  render();
}

function onWin(event) {
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
  sound.play(outcome() === "loss" ? "lose" : "win");
  announce(resultText());
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

function onDraw() {
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

function onPresence(event) {
  const before = opponentSeat();
  noteClaimTimes(event);
  state.red = event.red;
  state.yellow = event.yellow;
  state.spectators = event.spectators ?? 0;
  noteNames(event);
  if (state.status === "waiting" && bothSeated()) {
    state.status = "playing";
    state.matching = false;
    state.cancelling = false;
    if (state.message?.code === "waiting") clearMessage();
  }
  noteGame(); // the opponent's name, and the game under way
  const after = opponentSeat();
  if (after !== before) {
    state.opponentNote = state.quietJoin && after === "connected" ? "" : seatNote(after, before);
    if (after === "connected") state.quietJoin = false;
    fadeNote();
    if (after === "gone" && state.status === "playing") announce("Opponent left — you can claim the win");
    else if (state.opponentNote) announce(state.opponentNote);
  }
  render();
}

function onRematch(event) {
  const player = event.player;
  if (player !== "red" && player !== "yellow") return;
  state.offers.add(player);
  if (player === state.you) state.offerSent = false;
  announce(rematchText());
  render();
}

/** A word from the operators; a restart also explains the reconnection that follows. */
function onAnnouncement(event) {
  if (typeof event.message !== "string") return;
  ui.announcementText.textContent = event.message; // text, never markup
  ui.announcement.dataset.level = event.level === "warning" ? "warning" : "info";
  ui.announcement.hidden = false;
  ui.announcement.dataset.restart = String(event.restart === true);
  if (event.restart === true) state.restarting = true;
  announce(event.message);
  render();
}

/** The restart is over: its notice goes (any other word from the operators stays until dismissed). */
function hideRestartNotice() {
  if (ui.announcement.dataset.restart === "true") ui.announcement.hidden = true;
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

/** The landing page again, with no game: the state of a page just loaded. */
function backToLanding() {
  Object.assign(state, {
    phase: "landing",
    hello: null,
    handshake: false,
    everSeated: false,
    hasBoard: false,
    game: null,
    token: null,
    keys: null,
    you: null,
    moves: [],
    status: null,
    turn: null,
    red: null,
    yellow: null,
    spectators: 0,
    winner: null,
    reason: null,
    cells: [],
    pending: null,
    opponentNote: "",
    names: { red: null, yellow: null },
    computer: null,
    level: null,
    match: false,
    matching: false,
    cancelling: false,
    attempt: 0,
    retryAt: null,
  });
  board.render([], []);
  clearMessage();
  renderMyGames();
  setAddress("/");
  render();
}

function cancelMatch() {
  if (!state.matching || state.cancelling) return;
  if (connection.connected && (state.phase === "seated" || state.handshake)) {
    if (connection.send({ type: "cancel" })) {
      state.cancelling = true;
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

function onError(event) {
  const code = String(event.code ?? "error");
  const text = String(event.message ?? "Something went wrong.");
  if (state.leaving) {
    goHome();
    return;
  }
  state.pending = null;
  state.offerSent = false;
  state.cancelling = false;
  if (state.phase === "landing") {
    // The lobby's connection: nothing to show but a line in the lobby.
    state.lobbyError = text;
    render();
    return;
  }
  if (code === "replaced") {
    replaced();
    return;
  }
  if (QUIET.has(code)) {
    render();
    return;
  }
  if (state.handshake) {
    // The answer to init or resume: this page is not in the game.
    state.handshake = false;
    if (code === "game_over" && state.token) {
      gameEnded();
      return;
    }
    if (code === "game_over" && state.hello?.join) {
      // An invite to a game its host left before anyone came.
      fail("This game is over: its host left before anyone joined. Start a new game, or join one in the lobby.", code);
      return;
    }
    if (code === "game_not_found" && state.token) {
      // A seat this browser kept in a game the server no longer knows.
      saved.forgetSeat(state.game);
      state.token = null;
      fail(NO_SUCH_GAME, code);
      return;
    }
    if (code === "invalid_token") {
      saved.forgetSeat(state.game);
      state.token = null;
      fail(text, code);
      return;
    }
    if (FATAL.has(code)) {
      // A spent invite: watch the game instead, when the server says how.
      if (code === "seat_taken" && typeof event.watch === "string") state.watchKey = event.watch;
      fail(text, code);
      return;
    }
  }
  showMessage(text, { kind: "error", code });
  render();
}

/** No game for this page: say why, offer a new one. */
function fail(text, code) {
  state.phase = "failed";
  state.retryAt = null;
  connection.stop();
  showMessage(text, { kind: "error", code });
  announce(text);
  render();
}

/** Another tab or device resumed this seat: step aside, for good. */
function replaced() {
  state.phase = "replaced";
  state.pending = null;
  state.handshake = false;
  state.confirmResign = false;
  state.retryAt = null;
  connection.stop();
  const text = "This game is open in another tab or device.";
  showMessage(text, { kind: "info", code: "replaced" });
  announce(text);
  render();
}

/** The game ended while this page was away (resume said game_over): show how. */
async function gameEnded() {
  connection.stop();
  // Who this browser was in the game, as it noted while playing.
  const note = saved.gameNote(state.game);
  if (note) {
    state.you = note.you;
    state.computer = note.computer;
    state.level = note.level;
  }
  state.phase = "ended";
  state.pending = null;
  state.turn = null;
  state.retryAt = null;
  showMessage("This game has ended.", { kind: "info", code: "game_over" });
  render();
  const record = await fetchRecord(state.game);
  if (record) {
    applyRecord(record);
    showResult();
    announce(`This game has ended. ${resultText()}`);
  } else {
    announce("This game has ended.");
  }
  render();
}

/** A finished game's record from the server, or null. */
async function fetchRecord(game) {
  return (await lookUp(game)).record;
}

/** {record, code}: a finished game's record, or null and why (game_not_found, not_finished, or null: unknown). */
async function lookUp(game) {
  try {
    const response = await fetch(`/api/games/${encodeURIComponent(game)}`, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) return { record: null, code: typeof body?.code === "string" ? body.code : null };
    return { record: body && Array.isArray(body.moves) ? body : null, code: null };
  } catch {
    return { record: null, code: null };
  }
}

/** Note, in this browser, what "My games" and a later visit need of the game on screen (players only). */
function noteGame() {
  if (!state.game || !state.token || !hasSeat()) return;
  saved.noteGame(state.game, {
    you: state.you,
    names: { ...state.names },
    computer: state.computer,
    level: state.level,
    status: state.status,
    winner: state.winner,
    reason: state.reason,
    moves: state.moves.length,
  });
}

function applyRecord(record) {
  const result = record.result;
  state.moves = record.moves.filter((column) => Number.isInteger(column) && column >= 0 && column < COLUMNS);
  state.status = result === "draw" ? "draw" : result === "abandoned" ? "abandoned" : "won";
  state.winner = result === "red" || result === "yellow" ? result : null;
  state.reason = record.reason ?? null;
  state.turn = null;
  state.cells = state.reason === "four" ? winningCells(state.moves) : [];
  state.hasBoard = true;
  noteNames(record);
  board.render(state.moves, state.cells);
}

// ---- Playing ---------------------------------------------------------------

function isOver() {
  return ["won", "draw", "abandoned"].includes(state.status);
}

function hasSeat() {
  return PLAYER_ROLES.includes(state.you);
}

/** A player of the game on screen, connected or about to be again. */
function isPlayer() {
  return hasSeat() && (state.phase === "seated" || state.phase === "reconnecting");
}

/** The colour the next checker from this page would have, or null. */
function myColour() {
  if (state.you === "both") return state.turn ?? null;
  if (state.you === "red" || state.you === "yellow") return state.you;
  return null;
}

function canPlayNow() {
  return (
    state.phase === "seated" &&
    hasSeat() &&
    state.status === "playing" &&
    state.turn !== null &&
    (state.you === "both" || state.turn === state.you) &&
    state.pending === null
  );
}

function canResign() {
  return isPlayer() && state.status === "playing";
}

/** Whole seconds until this player may claim the win over an absent opponent, or null. */
function claimCountdown() {
  if (!isPlayer() || state.you === "both" || state.status !== "playing" || opponentSeat() !== "disconnected") return null;
  const at = state.claimAt[opponentOf(state.you)];
  return at === null ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

let claimTicker = null;
function renderClaimCountdown() {
  const seconds = state.phase === "seated" ? claimCountdown() : null;
  ui.claimCountdown.hidden = seconds === null;
  if (seconds !== null) {
    const text = `Opponent away — you can claim the win in ${seconds} s`;
    if (ui.claimCountdown.textContent !== text) ui.claimCountdown.textContent = text;
  }
  if (seconds !== null && claimTicker === null) {
    claimTicker = setInterval(renderClaimCountdown, 1000);
  } else if (seconds === null && claimTicker !== null) {
    clearInterval(claimTicker);
    claimTicker = null;
  }
}

function canClaim() {
  return isPlayer() && state.you !== "both" && state.status === "playing" && opponentSeat() === "gone";
}

function play(column) {
  if (!isPlayer()) return; // spectators, or no game: clicks are ignored
  if (isOver()) return;
  if (state.phase !== "seated") {
    showMessage("Reconnecting… You can play again once the connection is back.", { kind: "info", code: "offline" });
    return;
  }
  if (state.pending !== null) return; // a move is on its way
  if (state.status === "waiting") {
    const text = state.match
      ? "Looking for an opponent: the game starts as soon as someone is found."
      : "Waiting for an opponent to join. Send them the invite link.";
    showMessage(text, { kind: "info", code: "waiting" });
    return;
  }
  if (state.computer !== null && state.turn === state.computer) return; // it is thinking: nothing to say
  if (state.you !== "both" && state.turn !== state.you) {
    showMessage("It's not your turn: wait for your opponent's move.", { kind: "info", code: "not_your_turn" });
    return;
  }
  if (height(state.moves, column) >= ROWS) {
    showMessage(`Column ${column + 1} is full. Pick another one.`, { kind: "info", code: "column_full" });
    return;
  }
  const ply = state.moves.length;
  if (connection.send({ type: "play", column, ply })) {
    state.pending = ply;
    if (state.message) clearMessage();
    renderCursor();
  }
}

function askResign() {
  if (!canResign()) return;
  state.confirmResign = true;
  render();
  ui.resignCancel.focus();
}

function cancelResign() {
  state.confirmResign = false;
  render();
  ui.resign.focus();
}

function resign() {
  if (!canResign() || state.phase !== "seated") return;
  state.confirmResign = false;
  connection.send({ type: "resign" });
  render();
}

function claim() {
  if (!canClaim() || state.phase !== "seated") return;
  connection.send({ type: "claim" });
}

function offerRematch() {
  if (!isPlayer() || !isOver() || state.phase !== "seated") return;
  if (connection.send({ type: "rematch" })) {
    state.offerSent = true;
    render();
  }
}

/** The host's own game, nobody joined yet: leaving it cancels the invite. */
function hostAlone() {
  return (
    state.phase === "seated" &&
    (state.you === "red" || state.you === "yellow") &&
    state.status === "waiting" &&
    !state.match &&
    state.computer === null
  );
}

function goHome() {
  state.leaving = false;
  connection.stop();
  window.location.assign("/");
}

/** "New game" while nobody joined: resign the game first, so that its invite seats nobody later. */
function leaveWaitingGame(event) {
  if (!hostAlone() || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  if (state.leaving) return;
  if (!connection.send({ type: "resign" })) {
    goHome();
    return;
  }
  state.leaving = true;
  saved.noteGame(state.game, { status: "abandoned", winner: null, reason: "left" }); // "My games": not a loss
  saved.forgetSeat(state.game);
  setTimeout(() => {
    if (state.leaving) goHome(); // no answer: leave all the same
  }, 3000);
}

ui.newGame.addEventListener("click", leaveWaitingGame);
ui.startNew.addEventListener("click", leaveWaitingGame);
ui.resign.addEventListener("click", askResign);
ui.resignCancel.addEventListener("click", cancelResign);
ui.resignConfirm.addEventListener("click", resign);
ui.claim.addEventListener("click", claim);
ui.rematch.addEventListener("click", offerRematch);
ui.retryNow.addEventListener("click", () => connection.retryNow());
ui.takeOver.addEventListener("click", () => {
  clearMessage();
  state.phase = "reconnecting";
  state.attempt = 0;
  connection.start();
  render();
});

// ---- Rendering -------------------------------------------------------------

/** "Opponent joined" and "reconnected" are news for a moment, not for the whole game. */
let noteTimer = null;
function fadeNote() {
  clearTimeout(noteTimer);
  if (!["Opponent joined", "Opponent found", "Opponent reconnected"].includes(state.opponentNote)) return;
  const note = state.opponentNote;
  noteTimer = setTimeout(() => {
    if (state.opponentNote !== note) return;
    state.opponentNote = "";
    render();
  }, NOTE_MS);
}

/** What to say about the opponent's seat, given what it was before (or null). */
function seatNote(seat, before) {
  switch (seat) {
    case "connected":
      if (before === "empty") return state.match ? "Opponent found" : "Opponent joined";
      if (before === "disconnected" || before === "gone") return "Opponent reconnected";
      return "";
    case "disconnected":
      return "Opponent disconnected";
    case "gone":
      return "Opponent left";
    default:
      return "";
  }
}

/** Both seats are taken: the game can start. */
function bothSeated() {
  return state.red !== "empty" && state.yellow !== "empty";
}

function opponentSeat() {
  if (state.you === "red") return state.yellow;
  if (state.you === "yellow") return state.red;
  return null;
}

function opponentOf(player) {
  return player === "red" ? "yellow" : "red";
}

function roleText() {
  switch (state.you) {
    case "red":
      return "You are Red";
    case "yellow":
      return "You are Yellow";
    case "both":
      return "Playing on this device";
    case "spectator":
      return "Spectator";
    default:
      return "";
  }
}

function turnText() {
  switch (state.phase) {
    case "connecting":
      return state.matching ? "Finding an opponent…" : "Connecting…";
    case "reconnecting":
      return "Reconnecting…";
    case "failed":
      return "No game";
    case "replaced":
      return "Open in another tab";
    case "ended":
      if (!state.hasBoard) return "Game over";
      break;
    default:
  }
  switch (state.status) {
    case "waiting":
      return state.match ? "Finding an opponent…" : "Waiting for an opponent…";
    case "playing":
      if (!state.turn) return "";
      if (state.computer !== null && state.turn === state.computer) return "The computer is thinking…";
      if (state.you === "red" || state.you === "yellow") {
        return state.turn === state.you ? "Your turn" : "Opponent's turn";
      }
      return `${colourName(state.turn)} to play`;
    case "won": {
      const winner = colourName(state.winner);
      if (state.you === state.winner) return "You win!";
      if (state.you === "red" || state.you === "yellow") {
        if (state.reason === "resign") return "You resigned";
        return `You lose: ${winner} wins`;
      }
      return `${winner} wins!`;
    }
    case "draw":
      return "Draw: the board is full";
    case "abandoned":
      return "Game abandoned";
    default:
      return "";
  }
}

function presenceText() {
  if (isOver()) return ""; // who is connected means nothing once the game is over
  const parts = [];
  if (state.you === "spectator") {
    for (const player of ["red", "yellow"]) {
      if (state[player] === "disconnected") parts.push(`${colourName(player)} disconnected`);
      else if (state[player] === "gone") parts.push(`${colourName(player)} left`);
    }
  } else if (state.opponentNote) {
    parts.push(state.opponentNote);
  }
  if (state.spectators > 0) parts.push(`${state.spectators} watching`);
  return parts.join(" · ");
}

/** Where the rematch stands, in a sentence; "" when nobody offered. */
function rematchText() {
  if (state.you === "red" || state.you === "yellow") {
    const mine = state.offers.has(state.you);
    const theirs = state.offers.has(opponentOf(state.you));
    if (mine) return "Rematch offered — waiting for your opponent";
    if (theirs) return "Your opponent wants a rematch";
    return "";
  }
  if (state.you === "spectator") {
    return [...state.offers].map((player) => `${colourName(player)} wants a rematch`).join(" · ");
  }
  return "";
}

function render() {
  const phase = state.phase;
  const seated = phase === "seated" || phase === "reconnecting";
  const over = isOver();
  // Spectators may see what each move is worth; players may not, while they play.
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
  if (isPlayer()) ui.board.tabIndex = 0;
  else ui.board.removeAttribute("tabindex");

  ui.role.textContent = roleText();
  ui.role.dataset.role = state.you ?? "";
  ui.role.hidden = !state.you;
  const turn = turnText();
  ui.turn.textContent = turn;
  ui.status.dataset.status = state.status ?? "";
  ui.status.dataset.turn = state.turn ?? "";
  ui.status.dataset.mine = String(canPlayNow());
  ui.presence.textContent = phase === "seated" ? presenceText() : "";
  ui.board.dataset.status = state.status ?? "";
  const played = state.moves.length === 1 ? "1 move played" : `${state.moves.length} moves played`;
  if (reviewPly === null) ui.board.setAttribute("aria-label", `Board, ${played}. ${turn}`);
  else ui.board.setAttribute("aria-label", `Board after move ${reviewPly} of ${state.moves.length}. ${turn}`);
  ui.game.dataset.role = state.you ?? "";
  ui.help.hidden = !isPlayer() || over;

  renderBanner();
  renderClaimCountdown();
  renderActions(seated, over);
  renderMatching();
  renderPlayers();
  renderLobbyStatus();
  renderShare();
  renderCursor();
  renderMoves();
  renderReview();

  const title = (phase === "seated" || phase === "reconnecting") && turn ? `${turn} · Connect Four` : "Connect Four";
  if (document.title !== title) document.title = title;
}

function renderBanner() {
  const down = state.phase === "reconnecting" || (state.phase === "connecting" && state.attempt > 0);
  ui.banner.hidden = !down;
  ui.game.dataset.connection = down ? "down" : "up";
  if (!down) return;
  let lead = state.everSeated ? "Reconnecting…" : "Cannot reach the server. Reconnecting…";
  if (state.restarting) lead = "Server restarting, reconnecting…";
  let detail;
  if (state.retryAt !== null) {
    const seconds = Math.max(1, Math.ceil((state.retryAt - Date.now()) / 1000));
    detail = `attempt ${state.attempt}, retrying in ${seconds} s`;
  } else {
    detail = `attempt ${state.attempt}`;
  }
  const text = `${lead} ${detail}`;
  if (ui.bannerText.textContent !== text) ui.bannerText.textContent = text;
  ui.banner.dataset.attempt = String(state.attempt);
  ui.retryNow.hidden = state.retryAt === null;
}

/** While a retry waits, count the seconds down. */
let ticker = null;
function tick() {
  if (ticker !== null) return;
  ticker = setInterval(() => {
    if (state.phase !== "reconnecting" && state.phase !== "connecting") {
      clearInterval(ticker);
      ticker = null;
      return;
    }
    renderBanner();
  }, 250);
}

function renderActions(seated, over) {
  const phase = state.phase;
  const live = phase === "seated";

  // Resign, with a confirmation step in the page.
  const resignable = canResign();
  if (!resignable) state.confirmResign = false;
  ui.controls.hidden = !resignable;
  ui.resign.hidden = state.confirmResign;
  ui.resign.disabled = !live;
  ui.resignPanel.hidden = !state.confirmResign;
  ui.resignConfirm.disabled = !live;
  ui.resignQuestion.textContent =
    state.you === "both" && state.turn
      ? `Resign for ${colourName(state.turn)}? ${colourName(opponentOf(state.turn))} wins.`
      : "Resign this game? Your opponent wins.";

  // Claim the win over an opponent gone for longer than the grace period.
  ui.claimPanel.hidden = !canClaim();
  ui.claim.disabled = !live;

  // After the end: rematch, replay, a new game.
  const finished = (seated && over) || phase === "ended";
  ui.nextSteps.hidden = !(phase === "failed" || phase === "replaced" || finished);
  ui.takeOver.hidden = phase !== "replaced";
  ui.watchInstead.hidden = !(phase === "failed" && state.watchKey);
  if (state.watchKey) ui.watchInstead.href = `/?watch=${encodeURIComponent(state.watchKey)}`;

  const rematchable = seated && over && hasSeat();
  ui.rematch.hidden = !rematchable;
  let note = "";
  if (rematchable || (seated && over && state.you === "spectator")) note = rematchText();
  if (rematchable) {
    const mine = state.you !== "both" && state.offers.has(state.you);
    const theirs = state.you !== "both" && state.offers.has(opponentOf(state.you));
    const away = state.you !== "both" && opponentSeat() !== "connected";
    ui.rematch.textContent = mine ? "Rematch offered" : theirs ? "Accept rematch" : "Rematch";
    ui.rematch.disabled = !live || mine || state.offerSent || (away && !theirs);
    ui.rematch.dataset.offered = String(mine);
    if (away && !mine && !theirs) note = "Your opponent has left the game.";
  }
  ui.rematchStatus.textContent = note;
  ui.rematchStatus.hidden = !note;

  const replayable = finished && Boolean(state.game);
  ui.replayLink.hidden = !replayable;
  if (replayable) ui.replayLink.href = `/game/${encodeURIComponent(state.game)}`;
  ui.startNew.classList.toggle("primary", !rematchable && phase !== "replaced");
  ui.startNew.classList.toggle("secondary", rematchable || phase === "replaced");
}

function renderShare() {
  const origin = window.location.origin;
  const keys = state.keys && state.keys.game === state.game ? state.keys : null;
  const join = keys?.join ?? null;
  const watch = keys?.watch ?? null;
  const inviteOpen = Boolean(join) && state.yellow === "empty" && !isOver();
  const shown = ["connecting", "seated", "reconnecting"].includes(state.phase) && !state.matching;
  ui.share.hidden = !(watch || inviteOpen) || !shown;
  ui.invite.hidden = !inviteOpen;
  ui.watch.hidden = !watch;
  ui.share.classList.toggle("waiting", inviteOpen);
  const compact = !inviteOpen && state.status !== null && state.status !== "waiting";
  ui.share.classList.toggle("compact", compact);
  const copyWatch = ui.share.querySelector("[data-copy='watch-link']");
  if (copyWatch.dataset.copied === undefined) copyWatch.textContent = compact ? "Copy watch link" : "Copy";
  const invite = join ? `${origin}/?join=${encodeURIComponent(join)}` : "";
  const watchUrl = watch ? `${origin}/?watch=${encodeURIComponent(watch)}` : "";
  if (ui.inviteLink.value !== invite) ui.inviteLink.value = invite;
  if (ui.watchLink.value !== watchUrl) ui.watchLink.value = watchUrl;
}

/** Waiting for a quick match: say so, and offer to stop. */
function renderMatching() {
  const shown = state.matching && ["connecting", "seated", "reconnecting"].includes(state.phase);
  ui.matching.hidden = !shown;
  if (!shown) return;
  const text = state.cancelling ? "Cancelling…" : "Looking for an opponent…";
  if (ui.matchingText.textContent !== text) ui.matchingText.textContent = text;
  // Once the server holds a seat for us, only a connection that is up can give it back.
  ui.cancelMatch.disabled = state.cancelling || state.phase === "reconnecting";
}

function playerLabel(player) {
  if (state.computer === player) return computerName(state.level);
  const name = state.names[player];
  if (player === state.you) return name ?? "You";
  return name ?? "Anonymous";
}

/** Who plays: both players' names (or Anonymous), own seat marked; not for a same-device game. */
function renderPlayers() {
  const phase = state.phase;
  const shown =
    state.hasBoard &&
    ["seated", "reconnecting", "replaced", "ended"].includes(phase) &&
    state.you !== "both" &&
    !(phase === "ended" && !state.names.red && !state.names.yellow && !state.you);
  ui.players.hidden = !shown;
  if (!shown) {
    if (ui.players.childElementCount) ui.players.replaceChildren();
    return;
  }
  const chips = [];
  const alone = state.you === "red" || state.you === "yellow" ? state[opponentOf(state.you)] === "empty" : false;
  if (alone && !state.names[state.you]) {
    // Nobody to name yet but "You": say nothing.
    if (ui.players.childElementCount) ui.players.replaceChildren();
    ui.players.dataset.key = "";
    ui.players.hidden = true;
    return;
  }
  for (const player of ["red", "yellow"]) {
    const empty = state[player] === "empty" && !state.names[player] && state.computer !== player;
    if (empty) continue; // a seat nobody took yet
    const you = player === state.you && Boolean(state.names[player]);
    chips.push(playerChip(player, playerLabel(player), { you }));
  }
  const key = JSON.stringify(chips.map((chip) => [chip.dataset.player, chip.textContent]));
  if (ui.players.dataset.key === key) return;
  ui.players.dataset.key = key;
  const parts = [];
  for (const [index, chip] of chips.entries()) {
    if (index > 0) {
      const vs = document.createElement("span");
      vs.className = "vs";
      vs.textContent = " vs ";
      parts.push(vs);
    }
    parts.push(chip);
  }
  ui.players.replaceChildren(...parts);
}

// ---- The lobby -------------------------------------------------------------

function count(value) {
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The landing page's connection: down, or refused. */
function renderLobbyStatus() {
  if (state.phase !== "landing") return;
  ui.lobby.dataset.connection = state.lobbyDown ? "down" : "up";
  let text = state.lobbyError ?? "";
  if (state.lobbyDown) text = state.restarting ? "Server restarting, reconnecting…" : "Cannot reach the server. Reconnecting…";
  if (ui.lobbyStatus.textContent !== text) ui.lobbyStatus.textContent = text;
  ui.lobbyStatus.hidden = !text;
}

function lobbyRow(href, testid, game, parts, action) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.className = "game-row";
  link.href = href;
  link.dataset.testid = testid;
  link.dataset.game = game;
  const who = document.createElement("span");
  who.className = "game-players";
  who.append(...parts.players);
  const detail = document.createElement("span");
  detail.className = "game-detail";
  detail.textContent = parts.detail;
  const go = document.createElement("span");
  go.className = "game-action";
  go.textContent = action;
  link.append(who, detail, go);
  item.append(link);
  return item;
}

function renderGameList(list, empty, more, entries, total, row) {
  const focused = document.activeElement;
  const focusedGame = focused instanceof HTMLElement && list.contains(focused) ? focused.dataset.game : null;
  const items = entries.filter((entry) => entry && typeof entry.game === "string").map(row).filter(Boolean);
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
  empty.hidden = items.length > 0;
  const rest = Math.max(0, count(total) - items.length);
  more.hidden = rest === 0;
  more.textContent = rest ? `and ${rest} more` : "";
  if (focusedGame !== null) {
    const again = [...list.querySelectorAll("a")].find((link) => link.dataset.game === focusedGame);
    (again ?? ui.lobby).focus({ preventScroll: true });
  }
}

function renderLobby() {
  const lobby = state.lobby;
  if (!lobby) return;
  const online = count(lobby.online);
  const seeking = count(lobby.seeking);
  ui.onlineCount.textContent = `${online} ${online === 1 ? "player" : "players"} online`;
  ui.seekingCount.textContent = `${seeking} looking for a game`;
  ui.lobbySep.hidden = false;
  ui.lobby.dataset.online = String(online);
  ui.lobby.dataset.seeking = String(seeking);
  const waiting = Array.isArray(lobby.waiting) ? lobby.waiting : [];
  const playing = Array.isArray(lobby.playing) ? lobby.playing : [];
  renderGameList(ui.waitingList, ui.waitingEmpty, ui.waitingMore, waiting, lobby.waiting_total, (entry) => {
    if (typeof entry.join !== "string" || !entry.join) return null;
    const host = entry.color === "yellow" ? "yellow" : "red";
    const guest = host === "red" ? "yellow" : "red";
    const chip = playerChip(host, nameOf(entry.name) ?? "Anonymous", { testid: false });
    return lobbyRow(
      `/?join=${encodeURIComponent(entry.join)}`,
      "waiting-game",
      entry.game,
      { players: [chip], detail: `plays ${colourName(host)}` },
      `Join as ${colourName(guest)}`,
    );
  });
  renderGameList(ui.playingList, ui.playingEmpty, ui.playingMore, playing, lobby.playing_total, (entry) => {
    if (typeof entry.watch !== "string" || !entry.watch) return null;
    const vs = document.createElement("span");
    vs.className = "vs";
    vs.textContent = " vs ";
    const players = [
      playerChip("red", nameOf(entry.red) ?? "Anonymous", { testid: false }),
      vs,
      playerChip("yellow", nameOf(entry.yellow) ?? "Anonymous", { testid: false }),
    ];
    const moves = count(entry.ply);
    const watching = count(entry.spectators);
    const detail = `${moves} ${moves === 1 ? "move" : "moves"} · ${watching ? `${watching} watching` : "no spectators"}`;
    return lobbyRow(`/?watch=${encodeURIComponent(entry.watch)}`, "playing-game", entry.game, { players, detail }, "Watch");
  });
}

/** "My games": this browser's games, each a link back to it (resume or replay). */
function renderMyGames() {
  const rows = saved.myGames().map((entry) => {
    const row = describeGame(entry);
    const item = document.createElement("li");
    const link = document.createElement(row.href ? "a" : "div");
    link.className = "game-row";
    if (row.href) link.href = row.href;
    link.dataset.testid = "my-game";
    link.dataset.game = row.game;
    link.dataset.outcome = row.outcome;
    const who = document.createElement("span");
    who.className = "game-players";
    const result = document.createElement("span");
    result.className = "result";
    result.textContent = row.result;
    const opponent = document.createElement("span");
    opponent.className = "opponent";
    opponent.textContent = row.opponent === "On this device" ? row.opponent : `vs ${row.opponent}`;
    who.append(result, " ", opponent);
    const detail = document.createElement("span");
    detail.className = "game-detail";
    detail.textContent = row.detail;
    link.append(who, detail);
    if (row.action) {
      const go = document.createElement("span");
      go.className = "game-action";
      go.textContent = row.action;
      link.append(go);
    }
    item.append(link);
    return item;
  });
  ui.myGamesList.replaceChildren(...rows);
  ui.myGamesList.hidden = rows.length === 0;
  ui.myGamesEmpty.hidden = rows.length > 0;
}

/** Whether the game is over with moves to look back on: then the review replaces the move list. */
function reviewable() {
  return isOver() && state.hasBoard && state.moves.length > 0;
}

/** After the end, the game analysed: the chart (on request) and the moves, each a step back to it. */
function renderReview() {
  const shown = reviewable();
  ui.review.hidden = !shown;
  if (!shown) {
    reviewPly = null;
    return;
  }
  review.load(state.moves);
  review.select(reviewPly ?? state.moves.length);
}

/** The moves so far, numbered, beside the board on wide screens. */
function renderMoves() {
  ui.moves.hidden = !state.hasBoard || state.moves.length === 0 || reviewable();
  const items = ui.moveList.children;
  // Append only what is new; rebuild when the list shrank (a rematch).
  if (items.length > state.moves.length) ui.moveList.replaceChildren();
  for (let ply = items.length; ply < state.moves.length; ply++) {
    const item = document.createElement("li");
    const player = ply % 2 === 0 ? "red" : "yellow";
    item.dataset.player = player;
    item.textContent = `${colourName(player)}, column ${state.moves[ply] + 1}`;
    ui.moveList.append(item);
  }
  for (const [ply, item] of [...items].entries()) item.classList.toggle("last", ply === state.moves.length - 1);
  ui.moveList.scrollTop = ui.moveList.scrollHeight; // the newest move in sight, without scrolling the page
}

function renderCursor() {
  const player = isPlayer() && !isOver();
  // Hidden, but its row stays: the board must not move up when a game ends.
  ui.indicator.classList.toggle("off", !player);
  board.setCursor(player ? state.cursor : null, player ? myColour() : null, canPlayNow());
}

// ---- Messages and announcements --------------------------------------------

function showMessage(text, { kind = "error", code = "" } = {}) {
  state.message = { text, kind, code };
  ui.message.textContent = text;
  ui.message.dataset.kind = kind;
  ui.message.dataset.code = code;
  delete ui.message.dataset.outcome;
  ui.message.hidden = false;
}

function clearMessage() {
  state.message = null;
  ui.message.textContent = "";
  ui.message.dataset.kind = "";
  ui.message.dataset.code = "";
  ui.message.hidden = true;
}

/** How the game ended, in a sentence; "" while it goes on. */
function resultText() {
  const winner = colourName(state.winner);
  const loser = colourName(opponentOf(state.winner));
  switch (state.status) {
    case "won":
      if (state.reason === "resign") return `${loser} resigned — ${winner} wins`;
      if (state.reason === "claim") return `${winner} wins: opponent left`;
      return `${winner} wins!`;
    case "draw":
      return "Draw! The board is full.";
    case "abandoned":
      return "The game was abandoned.";
    default:
      return "";
  }
}

/** win, loss or neutral (a draw, a spectator, a same-device game), for this page. */
function outcome() {
  if (state.status !== "won" || !(state.you === "red" || state.you === "yellow")) return "neutral";
  return state.winner === state.you ? "win" : "loss";
}

function showResult() {
  const text = resultText();
  if (!text) return;
  showMessage(text, { kind: "result", code: state.status === "won" ? "win" : state.status });
  ui.message.dataset.outcome = outcome();
}

/** "You are Red", "Your turn" -> "You are Red. Your turn." */
function sentence(...parts) {
  return parts
    .filter(Boolean)
    .map((part) => (/[.!?…]$/.test(part) ? part : `${part}.`))
    .join(" ");
}

/** Say `text` through the polite live region; keep the last few lines. */
function announce(text) {
  if (!text) return;
  const line = document.createElement("p");
  line.textContent = text;
  ui.live.append(line);
  while (ui.live.childElementCount > 8) ui.live.firstElementChild.remove();
}

/** Show `path` in the address bar without loading it. */
function setAddress(path) {
  const current = window.location.pathname + window.location.search;
  if (current === path) return;
  try {
    window.history.replaceState(window.history.state, "", path);
  } catch {
    // Some embedded browsers refuse; the page works on, only a reload cannot resume.
  }
}

// ---- Copying links ---------------------------------------------------------

async function copyLink(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !input.value) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    // No clipboard API (not a secure context) or permission denied.
  }
  if (!copied) {
    input.focus();
    input.select();
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = copied ? "Copied" : "Press Ctrl+C";
  button.dataset.copied = String(copied);
  if (copied) announce(input.id === "invite-link" ? "Invite link copied" : "Watch link copied");
  clearTimeout(button.restore);
  button.restore = setTimeout(() => {
    button.textContent = label;
    delete button.dataset.copied;
  }, 2500);
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", () => copyLink(button));
}
ui.dismissAnnouncement.addEventListener("click", () => {
  ui.announcement.hidden = true;
});

for (const input of [ui.inviteLink, ui.watchLink]) {
  input.addEventListener("focus", () => input.select());
}

// ---- Keyboard --------------------------------------------------------------

/** While the keyboard drives the cursor, the mouse's hover highlight steps aside. */
function usingKeyboard(on) {
  ui.board.classList.toggle("keyboard", on);
}

document.addEventListener("pointermove", () => usingKeyboard(false), { passive: true });

function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) {
    return;
  }
  if (event.key === "Escape" && state.confirmResign) {
    event.preventDefault();
    cancelResign();
    return;
  }
  if (!isPlayer()) return; // spectators get no cursor
  const onControl = target instanceof HTMLElement && Boolean(target.closest("button, a"));
  const key = event.key;
  if (/^[1-7]$/.test(key)) {
    event.preventDefault();
    usingKeyboard(true);
    state.cursor = Number(key) - 1;
    renderCursor();
    play(state.cursor);
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    event.preventDefault();
    usingKeyboard(true);
    const step = key === "ArrowLeft" ? -1 : 1;
    state.cursor = Math.min(COLUMNS - 1, Math.max(0, state.cursor + step));
    renderCursor();
  } else if (key === "Home" || key === "End") {
    if (onControl) return;
    event.preventDefault();
    usingKeyboard(true);
    state.cursor = key === "Home" ? 0 : COLUMNS - 1;
    renderCursor();
  } else if ((key === "Enter" || key === " ") && !onControl) {
    event.preventDefault();
    usingKeyboard(true);
    play(state.cursor);
  }
}

document.addEventListener("keydown", onKey);

// ---- Starting --------------------------------------------------------------

/** Connect and send `hello` (or resume, when a token is known). */
function start(hello) {
  state.hello = hello;
  state.phase = "connecting";
  state.attempt = 0;
  state.retryAt = null;
  state.lobbyDown = false;
  clearMessage();
  render();
  // The landing page's connection follows the lobby: the game starts on it
  // (the server stops the lobby's updates), or on the next one it opens.
  if (connection.connected) {
    state.handshake = true;
    connection.send(hello);
  } else if (connection.running) {
    connection.retryNow(); // a socket still opening sends the hello once open
  } else {
    connection.start();
  }
}

/** Resume this browser's seat in `game`, whose token it holds. */
function resume(game, token) {
  state.game = game;
  state.token = token;
  const keys = saved.shareKeys(game);
  state.keys = keys ? { game, ...keys } : null;
  setAddress(`/?game=${encodeURIComponent(game)}`);
  start(null);
}

/** A /?game=ID address without a seat here: a finished game, or someone else's. */
async function noSeat(game) {
  state.game = game;
  state.phase = "loading";
  render();
  const { record, code } = await lookUp(game);
  if (record) {
    state.phase = "ended";
    applyRecord(record);
    showResult();
    render();
    return;
  }
  if (code === "game_not_found") {
    fail(NO_SUCH_GAME, code);
    return;
  }
  fail("This link belongs to the players of this game. Ask them for the watch link.", "no_seat");
}

// ---- The player's name -----------------------------------------------------

function showNameError(text) {
  ui.nameError.textContent = text;
  ui.nameError.hidden = !text;
  if (text) {
    ui.nameInput.setAttribute("aria-invalid", "true");
    ui.nameInput.setAttribute("aria-describedby", "name-error name-help");
  } else {
    ui.nameInput.removeAttribute("aria-invalid");
    ui.nameInput.setAttribute("aria-describedby", "name-help");
  }
}

/** The name in the field, tidied and remembered; null (and a message by the field) if it cannot be used. */
function chosenName() {
  const { name, error } = checkName(ui.nameInput.value);
  if (error) {
    showNameError(error);
    announce(error);
    ui.nameInput.focus();
    return null;
  }
  showNameError("");
  if (ui.nameInput.value !== name) ui.nameInput.value = name;
  saved.savePlayerName(name);
  return name;
}

/** The remembered name, if it is still one the server takes. */
function savedName() {
  const { name, error } = checkName(saved.playerName());
  return error ? "" : name;
}

function named(hello, name) {
  return name ? { ...hello, name } : hello;
}

ui.nameInput.value = savedName();
// A problem shows when a game is asked for (Enter, or a button), not on leaving the
// field: a message appearing then would move the button under the pointer. Once
// shown, it follows the typing and goes as soon as the name is fixed.
ui.nameInput.addEventListener("input", () => {
  if (!ui.nameError.hidden) showNameError(checkName(ui.nameInput.value).error);
});
ui.nameInput.addEventListener("change", () => {
  const { name, error } = checkName(ui.nameInput.value);
  if (!error) saved.savePlayerName(name);
});
ui.nameInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    if (chosenName() !== null) announce("Name saved.");
  }
});

/** An invite, and no name on this device: ask for one (optional) before taking the seat. */
function askGuestName(key) {
  state.phase = "invited";
  render();
  ui.joinName.focus();
  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const { name, error } = checkName(ui.joinName.value);
    ui.joinNameError.textContent = error;
    ui.joinNameError.hidden = !error;
    if (error) {
      ui.joinName.setAttribute("aria-invalid", "true");
      ui.joinName.setAttribute("aria-describedby", "join-name-error join-name-help");
      announce(error);
      ui.joinName.focus();
      return;
    }
    saved.savePlayerName(name);
    state.joinKey = key;
    start(named({ type: "init", join: key }, name));
  });
}

// ---- Starting from the landing page ------------------------------------------

sound.bindSwitch(ui.sound);
ui.playSomeone.addEventListener("click", () => {
  const name = chosenName();
  if (name === null) return;
  state.matching = true;
  start(named({ type: "match" }, name));
});
ui.cancelMatch.addEventListener("click", cancelMatch);
ui.onlineForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = chosenName();
  if (name === null) return;
  const listed = ui.onlineForm.elements.visibility.value === "public";
  start(named(listed ? { type: "init", public: true } : { type: "init" }, name));
});
ui.startLocal.addEventListener("click", () => start({ type: "init", local: true }));
ui.computerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const name = chosenName();
  if (name === null) return;
  const level = Number(ui.computerForm.elements.level.value);
  const color = ui.computerForm.elements.color.value === "yellow" ? "yellow" : "red";
  start(named({ type: "init", computer: level, color }, name));
});
// A game in the lobby is a link (/?join=KEY, /?watch=KEY); joining takes the name along.
ui.lobby.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-testid='waiting-game']") : null;
  if (!link) return;
  const name = chosenName();
  if (name === null) event.preventDefault();
  else if (!name) saved.noteAnonymous(); // the name field was right there: joining needs no second ask

});

const params = new URLSearchParams(window.location.search);
if (params.get("game")) {
  const game = params.get("game");
  const token = saved.seatToken(game);
  if (token) resume(game, token);
  else noSeat(game);
} else if (params.get("join")) {
  const key = params.get("join");
  // This browser already took the seat with this invite: take it back.
  const game = saved.inviteGame(key);
  const token = saved.seatToken(game);
  if (game && token) {
    resume(game, token);
  } else if (savedName() || saved.wasAnonymous()) {
    state.joinKey = key;
    start(named({ type: "init", join: key }, savedName()));
  } else {
    askGuestName(key);
  }
} else if (params.get("watch")) {
  start({ type: "init", watch: params.get("watch") });
} else {
  renderMyGames();
  render();
  if (window.location.hash === "#my-games") ui.myGames.scrollIntoView();
  connection.start(); // the lobby
}
