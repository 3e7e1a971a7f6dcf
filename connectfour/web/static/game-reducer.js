// How the page's state changes: `next(state, event)` is the state after an
// event, a new object, the one given left as it was. The events are the
// server's (taken here: `init`, `state`, `play`, `win`, `draw`, `presence`,
// `rematch`, `draw_offer`, `draw_declined`, `takeback_request`,
// `takeback_declined`, `error`, `announcement`, `lobby`, `cancelled`) and the
// page's own (page-reducer.js). Pure: no DOM, no socket, no timer, no
// storage. What an event needs of the clock or of storage comes in it: `now`
// (ms since the epoch, when the page took a `state`, `presence`, `play`,
// `win` or `draw`: a timed game's clocks count from it), `savedKeys` (a
// `state`'s game's links to share as this browser kept them, or null). What
// to draw, play or save, the caller decides from the states before and after.

import { stopClock, takeClock } from "./clocks.js";
import {
  bothSeated,
  canResign,
  claimTimes,
  drawAgainAt,
  isOver,
  lostHistory,
  namesAfter,
  opponentOf,
  opponentSeat,
  reviewable,
} from "./game-state.js";
import { ended, failed, landing, pageNext, replaced } from "./page-reducer.js";
import {
  DRAW_DECLINED,
  HOST_LEFT,
  LOST_MOVES,
  NO_SUCH_GAME,
  TAKEBACK_DECLINED,
  rematchNews,
  resultMessage,
  seatNote,
  takebackNews,
} from "./status-text.js";

// Errors, in answer to the first frame, after which this page has no game to show.
const FATAL = new Set(["game_not_found", "seat_taken", "already_started", "invalid_message", "not_a_player"]);
// Errors the player does not need to hear about: a double click, say, or a
// cancel too late (the opponent arrived: the game starts).
const QUIET = new Set(["stale_ply", "not_waiting"]);
const COLOURS = ["red", "yellow"];

/** The state after `event`; `s` itself when the event changes nothing. */
export function next(s, event) {
  return settle(take(s, event));
}

function take(s, event) {
  switch (event.type) {
    case "init":
      return onInit(s, event);
    case "state":
      return onState(s, event);
    case "play":
      return onPlay(s, event);
    case "win":
      return onWin(s, event);
    case "draw":
      return over({ ...s, status: "draw", reason: "full", clock: stopClock(s.clock, event.now) });
    case "presence":
      return onPresence(s, event);
    case "rematch":
      return onRematch(s, event);
    case "draw_offer":
      return onDrawOffer(s, event);
    case "draw_declined":
      return onDeclined(s, event, { drawOffer: null }, DRAW_DECLINED);
    case "takeback_request":
      return COLOURS.includes(event.player) && !isOver(s) ? { ...s, takebackRequest: event.player, requestSent: null } : s;
    case "takeback_declined":
      return onDeclined(s, event, { takebackRequest: null }, TAKEBACK_DECLINED);
    case "error":
      return onError(s, event);
    case "announcement":
      return typeof event.message === "string" && event.restart === true ? { ...s, restarting: true } : s;
    case "lobby": // a late update for a connection now in a game changes nothing
      return s.phase === "landing" ? { ...s, lobby: event, lobbyDown: false, lobbyError: null, restarting: false } : s;
    case "cancelled": // the quick match was given up: back to the landing page
      return s.matching || s.cancelling ? landing(s) : s;
    default:
      return pageNext(s, event);
  }
}

/** What no state keeps: a resignation asked where resigning is over, a review of a game not reviewable. */
function settle(s) {
  let after = s;
  if (after.confirmResign && !canResign(after)) after = { ...after, confirmResign: false };
  if (after.reviewPly !== null && !reviewable(after)) after = { ...after, reviewPly: null };
  return after;
}

/** The keys to share: for the game just created, or the rematch about to start. */
function onInit(s, event) {
  const keys = { game: event.game, join: event.join ?? null, watch: event.watch ?? null };
  // A spectator follows the rematch, also after a reload or a reconnect.
  const hello = s.you === "spectator" && event.watch ? { type: "init", watch: event.watch } : s.hello;
  return { ...s, keys, hello };
}

/**
 * What a `state` event means to a page showing `s`: `rematch`, a new game
 * after the one shown; `first`, the first game shown (or a rematch); `back`,
 * the connection is back; `lost`, the moves do not continue those shown
 * (history lost in a failover); `takeback`, how many moves a takeback took
 * away (0: none); `leftWait`, a quick match's wait ended in another game
 * (paired while away): the seat in the one waited in is over.
 */
export function stateNews(s, event) {
  // A quick match's wait may end, after a drop, in another game: the one the server paired us in.
  const paired = s.match && s.status === "waiting";
  const rematch = s.everSeated && s.game !== null && event.game !== s.game && !paired;
  const same = s.everSeated && event.game === s.game;
  // The state that follows a takeback says how many moves went: not history the server lost.
  const takeback = same && Number.isInteger(event.taken_back) && event.taken_back > 0 ? event.taken_back : 0;
  return {
    rematch,
    first: !s.everSeated || rematch,
    back: s.phase === "reconnecting",
    lost: same && !takeback && lostHistory(s.moves, event.moves),
    takeback,
    leftWait: event.match === true && Boolean(s.game) && event.game !== s.game && (paired || !s.everSeated),
  };
}

/** The whole game: on joining, after a reconnection, at a rematch. */
function onState(s, event) {
  const { rematch, lost, takeback } = stateNews(s, event);
  const match = event.match === true;
  const game = {
    ...s,
    restarting: false,
    claimAt: claimTimes(event, event.now),
    names: namesAfter(event.game === s.game ? s.names : { red: null, yellow: null }, event),
    computer: event.computer === "red" || event.computer === "yellow" ? event.computer : null,
    level: Number.isInteger(event.level) ? event.level : null,
    match,
    matching: event.status !== "waiting" ? false : match ? true : s.matching,
    cancelling: false,
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
    keys: keysAfter(s.keys, event),
    reviewPly: null,
    clock: takeClock(event.clock, event.now),
    drawOffer: COLOURS.includes(event.draw_offer) ? event.draw_offer : null,
    takebackRequest: COLOURS.includes(event.takeback_request) ? event.takeback_request : null,
    requestSent: null,
    drawAgainAt: drawAgainAt(event),
  };
  // A rematch: the opponent's arrival in it is no news.
  const quietJoin = rematch && opponentSeat(game) !== "connected";
  let message = rematch ? { text: rematchNews(game.you), kind: "info", code: "rematch" } : null;
  if (takeback) message = { text: takebackNews(takeback), kind: "info", code: "takeback" };
  message = resultMessage(game) ?? message;
  if (lost) message = { text: LOST_MOVES, kind: "error", code: "rewound" };
  return {
    ...game,
    offers: rematch || !isOver(game) ? new Set() : s.offers,
    confirmResign: rematch ? false : s.confirmResign,
    token: event.token ? event.token : s.token,
    // The invite belongs to this game, not to its rematches.
    joinKey: event.token && s.joinKey ? null : s.joinKey,
    quietJoin,
    opponentNote: quietJoin ? "" : seatNote(opponentSeat(game), null, match),
    message,
  };
}

/** The links to share after a `state`: those known for its game (kept, or this browser's), its watch link the newest. */
function keysAfter(keys, event) {
  let after = keys?.game === event.game ? keys : event.savedKeys ? { game: event.game, ...event.savedKeys } : null;
  // Each player's state carries the watch link to share (spectators' does not).
  if (typeof event.watch === "string" && event.watch && after?.watch !== event.watch) {
    after = { game: event.game, join: after?.join ?? null, watch: event.watch };
  }
  return after;
}

/** A move: the clocks it brings; it withdraws the opponent's offer of a draw, and any takeback asked. */
function onPlay(s, event) {
  if (event.ply < s.moves.length) return s; // already shown
  return {
    ...s,
    moves: [...s.moves, event.column],
    turn: event.turn ?? null,
    pending: null,
    clock: takeClock(event.clock, event.now) ?? s.clock,
    drawOffer: s.drawOffer === event.player ? s.drawOffer : null,
    takebackRequest: null,
    status: s.status === "waiting" && bothSeated(s) ? "playing" : s.status,
    message: s.message && s.message.kind !== "result" ? null : s.message,
  };
}

/** A win; while the host leaves its game, nothing: the page goes home. */
function onWin(s, event) {
  if (s.leaving) return s;
  const reason = event.reason ?? "four";
  const clock = stopClock(s.clock, event.now, reason === "time" ? opponentOf(event.player) : null);
  return over({ ...s, status: "won", winner: event.player, reason, cells: event.cells ?? [], clock });
}

/** A game just over (`s` says how): nobody's turn, no offer standing, its result the message. */
function over(s) {
  const after = { ...s, turn: null, pending: null, confirmResign: false, drawOffer: null, takebackRequest: null, requestSent: null };
  return { ...after, message: resultMessage(after) ?? after.message };
}

/** Who is connected, and the news about the opponent. */
function onPresence(s, event) {
  const before = opponentSeat(s);
  let after = {
    ...s,
    claimAt: claimTimes(event, event.now),
    red: event.red,
    yellow: event.yellow,
    spectators: event.spectators ?? 0,
    names: namesAfter(s.names, event),
    // A timed game's clocks as of this change (the guest's arrival starts the host's first move's countdown).
    clock: isOver(s) ? s.clock : (takeClock(event.clock, event.now) ?? s.clock),
  };
  if (after.status === "waiting" && bothSeated(after)) {
    const message = after.message?.code === "waiting" ? null : after.message;
    after = { ...after, status: "playing", matching: false, cancelling: false, message };
  }
  const seat = opponentSeat(after);
  if (seat !== before) {
    const opponentNote = after.quietJoin && seat === "connected" ? "" : seatNote(seat, before, after.match);
    after = { ...after, opponentNote, quietJoin: seat === "connected" ? false : after.quietJoin };
  }
  return after;
}

/** A player offered a rematch. */
function onRematch(s, event) {
  const player = event.player;
  if (player !== "red" && player !== "yellow") return s;
  return { ...s, offers: new Set([...s.offers, player]), offerSent: player === s.you ? false : s.offerSent };
}

/** A player offered a draw: it stands until the opponent answers or moves; the server says when each may offer again. */
function onDrawOffer(s, event) {
  const player = event.player;
  if (!COLOURS.includes(player) || isOver(s)) return s;
  return { ...s, drawOffer: player, requestSent: null, drawAgainAt: drawAgainAt(event) };
}

/** A player declined the other's offer or request (`cleared`: what goes); the one who asked hears `news`. */
function onDeclined(s, { player }, cleared, news) {
  if (!COLOURS.includes(player)) return s;
  const told = s.you === opponentOf(player);
  return { ...s, ...cleared, requestSent: null, message: told ? { text: news, kind: "info", code: "declined" } : s.message };
}

/**
 * A refusal: a refused first frame leaves the page with no game (or shows
 * the one that ended while away), a seat taken over steps aside, the quiet
 * ones change nothing the player sees, and the rest are the message. A page
 * leaving its game goes home whatever the error: nothing changes.
 */
function onError(s, event) {
  if (s.leaving) return s;
  const code = String(event.code ?? "error");
  const text = String(event.message ?? "Something went wrong.");
  const after = { ...s, pending: null, offerSent: false, cancelling: false, requestSent: null };
  if (after.phase === "landing") return { ...after, lobbyError: text }; // the lobby's connection: a line in the lobby
  if (code === "replaced") return replaced(after);
  if (QUIET.has(code)) return after;
  if (!after.handshake) return { ...after, message: { text, kind: "error", code } };
  // The answer to init or resume: this page is not in the game.
  const refused = { ...after, handshake: false };
  if (code === "game_over" && refused.token) return ended(refused);
  if (code === "game_over" && refused.hello?.join) return failed(refused, HOST_LEFT, code); // its host left before anyone came
  // A seat this browser kept in a game the server no longer knows, or a token it no longer takes: forgotten.
  if (code === "game_not_found" && refused.token) return failed({ ...refused, token: null }, NO_SUCH_GAME, code);
  if (code === "invalid_token") return failed({ ...refused, token: null }, text, code);
  if (FATAL.has(code)) {
    // A spent invite: watch the game instead, when the server says how.
    const watchKey = code === "seat_taken" && typeof event.watch === "string" ? event.watch : refused.watchKey;
    return failed({ ...refused, watchKey }, text, code);
  }
  return { ...refused, message: { text, kind: "error", code } };
}
