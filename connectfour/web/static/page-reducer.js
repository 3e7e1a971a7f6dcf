// How the page's own events change its state: the player's (the cursor, a
// move or a resignation sent, a rematch offered, a draw or a takeback asked
// for or answered, a quick match given up, a move chosen in the review), the
// connection's (the first frame sent, the link up, down, retrying), and the
// address's (starting, resuming, looking a game up, asking an invitee's name,
// back to the landing page); and the ways a game stops being this page's,
// which the server's errors lead to too.
// Pure, like game-reducer.js, whose `next` hands these events here: a new
// state is returned, the one given is left as it was.

import { COLUMNS, winningCells } from "./board.js";
import { canResign, landingFields, namesAfter } from "./game-state.js";
import { GAME_ENDED, REPLACED, resultMessage } from "./status-text.js";

/** `s` after the page's own `event`; `s` itself when the event changes nothing. */
export function pageNext(s, event) {
  switch (event.type) {
    // ---- The player -------------------------------------------------------------
    case "cursor-moved":
      return { ...s, cursor: event.column };
    case "move-refused": // a click that cannot play: why ({text, code}, from checkMove)
      return { ...s, message: { text: event.text, kind: "info", code: event.code } };
    case "move-sent":
      return { ...s, pending: event.ply, message: null };
    case "resign-asked":
      return canResign(s) ? { ...s, confirmResign: true } : s;
    case "resign-dropped": // the confirmation answered: cancelled, or the resignation sent
      return { ...s, confirmResign: false };
    case "rematch-sent":
      return { ...s, offerSent: true };
    case "request-sent": // a draw or a takeback ("draw", "takeback"), offered, asked or answered: until the server says
      return { ...s, requestSent: event.what };
    case "cancel-sent":
      return { ...s, cancelling: true };
    case "leaving": // the host left a game nobody joined: its resignation is on its way
      return { ...s, leaving: true };
    case "going-home":
      return { ...s, leaving: false };
    case "taking-over": // the seat taken back from another tab
      return { ...s, phase: "reconnecting", attempt: 0, message: null };
    case "review-chosen":
      return { ...s, reviewPly: event.ply >= s.moves.length ? null : event.ply };
    case "note-faded": // passing news about the opponent, unless newer news replaced it
      return s.opponentNote === event.note ? { ...s, opponentNote: "" } : s;

    // ---- The connection ---------------------------------------------------------
    case "hello-sent": // the first frame: until state or error answers it
      return { ...s, handshake: true };
    case "link-open":
      return s.phase === "landing" ? { ...s, lobbyDown: false, attempt: 0, retryAt: null } : s;
    case "link-down":
      return linkDown(s, event);
    case "link-retry":
      return { ...s, attempt: event.attempt, retryAt: null };

    // ---- The address, and starting ----------------------------------------------
    case "start":
      return start(s, event.hello);
    case "resume": // a seat this browser holds; `keys`: the links it kept to share, or null
      return { ...s, game: event.game, token: event.token, keys: event.keys ? { game: event.game, ...event.keys } : null };
    case "look-up": // a game this browser has no seat in: its record is asked for
      return { ...s, game: event.game, phase: "loading" };
    case "name-asked":
      return { ...s, phase: "invited" };
    case "landing":
      return landing(s);

    // ---- The game no longer this page's ---------------------------------------------
    case "failed":
      return failed(s, event.text, event.code);
    case "replaced":
      return replaced(s);
    case "game-noted": // who this browser was in a game that ended while away, as it noted then (or null)
      return event.note ? { ...s, you: event.note.you, computer: event.note.computer, level: event.note.level } : s;
    case "record":
      return record(s, event.record);
    default:
      return s;
  }
}

/** The connection dropped: retry `attempt` starts at `retryAt` (ms since the epoch). */
function linkDown(s, { attempt, retryAt }) {
  if (s.phase === "landing") return { ...s, lobbyDown: true, attempt, retryAt };
  if (!["connecting", "seated", "reconnecting"].includes(s.phase)) return s;
  return {
    ...s,
    phase: s.everSeated ? "reconnecting" : "connecting",
    handshake: false,
    pending: null,
    offerSent: false,
    requestSent: null,
    attempt,
    retryAt,
  };
}

/**
 * A game asked for (`hello`: the first frame, null to resume a seat). A
 * quick match is waited for from now on; an invite's key is kept until the
 * seat it gives is taken.
 */
function start(s, hello) {
  return {
    ...s,
    hello,
    phase: "connecting",
    attempt: 0,
    retryAt: null,
    lobbyDown: false,
    message: null,
    matching: hello?.type === "match" ? true : s.matching,
    joinKey: typeof hello?.join === "string" ? hello.join : s.joinKey,
  };
}

/** The landing page again, with no game. */
export function landing(s) {
  return { ...s, ...landingFields(), message: null };
}

/** No game for this page: `text` says why. */
export function failed(s, text, code) {
  return { ...s, phase: "failed", retryAt: null, message: { text, kind: "error", code } };
}

/** Another tab or device resumed this seat: this page steps aside, for good. */
export function replaced(s) {
  return {
    ...s,
    phase: "replaced",
    pending: null,
    handshake: false,
    confirmResign: false,
    retryAt: null,
    message: { text: REPLACED, kind: "info", code: "replaced" },
  };
}

/** The game ended while this page was away from it; how, its record says later. */
export function ended(s) {
  return {
    ...s,
    phase: "ended",
    pending: null,
    turn: null,
    retryAt: null,
    message: { text: GAME_ENDED, kind: "info", code: "game_over" },
  };
}

/** A finished game's record from the server (/api/games/<id>), shown as the game over. */
function record(s, { moves, result, reason = null, ...rest }) {
  const kept = moves.filter((column) => Number.isInteger(column) && column >= 0 && column < COLUMNS);
  const after = {
    ...s,
    phase: "ended",
    moves: kept,
    status: result === "draw" ? "draw" : result === "abandoned" ? "abandoned" : "won",
    winner: result === "red" || result === "yellow" ? result : null,
    reason,
    turn: null,
    cells: reason === "four" ? winningCells(kept) : [],
    hasBoard: true,
    names: namesAfter(s.names, rest),
  };
  return { ...after, message: resultMessage(after) ?? after.message };
}
