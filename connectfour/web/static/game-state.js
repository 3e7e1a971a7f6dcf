// What the game page knows: the game on screen, this page's seat in it and
// its connection, as one plain object, and the questions the rest of the page
// asks of it. Every question takes the state as an argument, so that Node's
// test runner can ask them of a state made up for the test. The page's
// current state is page-state.js's; how it changes, game-reducer.js's.

import { COLUMNS, ROWS, height } from "./board.js";
import { nameOf } from "./names.js";

export const PLAYER_ROLES = ["red", "yellow", "both"];

/** The fields a page with no game has: what `backToLanding` puts back. */
export function landingFields() {
  return {
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
    clock: null,
    drawOffer: null,
    takebackRequest: null,
    requestSent: null,
    drawAgainAt: { red: null, yellow: null },
  };
}

/** The state of a page just loaded. */
export function createState() {
  return {
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
    reason: null, // four | full | resign | claim | expired | time | aborted | agreement
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
    message: null, // the one message in the side panel: {text, kind (error, info, result), code}, a result with its outcome
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
    reviewPly: null, // once the game is over, the move whose position the board shows (null: the final one)
    // A timed game's clocks as the server last gave them, with `received` (ms since the epoch): clocks.js.
    clock: null,
    drawOffer: null, // the player whose offer of a draw stands
    takebackRequest: null, // the player whose request to take a move back stands
    requestSent: null, // "draw" or "takeback": this page asked (or answered) and the server has not said yet
    // From how many moves each player may offer a draw again, as the server says (null: nothing holds it back).
    drawAgainAt: { red: null, yellow: null },
  };
}

// ---- Taking what the server says ----------------------------------------------

/** The server says, per absent seat, how many seconds until the claim (`now`: when it said it): as moments. */
export function claimTimes(event, now) {
  const at = {};
  for (const player of ["red", "yellow"]) {
    const seconds = event[`${player}_claimable_in`];
    at[player] = typeof seconds === "number" ? now + seconds * 1000 : null;
  }
  return at;
}

/** The server's `draw_again_at` (in `state` and `draw_offer`): from how many moves each player may offer a draw again. */
export function drawAgainAt(event) {
  const given = event.draw_again_at ?? {};
  const at = {};
  for (const player of ["red", "yellow"]) at[player] = Number.isInteger(given[player]) ? given[player] : null;
  return at;
}

/** The players' names after a state or presence event (or a record): a field left out keeps what is known. */
export function namesAfter(names, event) {
  const after = { ...names };
  for (const player of ["red", "yellow"]) {
    const key = `${player}_name`;
    if (key in event) after[player] = nameOf(event[key]);
  }
  return after;
}

// ---- Questions ------------------------------------------------------------------

export function isOver(s) {
  return ["won", "draw", "abandoned"].includes(s.status);
}

export function hasSeat(s) {
  return PLAYER_ROLES.includes(s.you);
}

/** A player of the game on screen, connected or about to be again. */
export function isPlayer(s) {
  return hasSeat(s) && (s.phase === "seated" || s.phase === "reconnecting");
}

export function opponentOf(player) {
  return player === "red" ? "yellow" : "red";
}

/** The opponent's seat (empty, connected, disconnected, gone), for a page playing one colour. */
export function opponentSeat(s) {
  if (s.you === "red") return s.yellow;
  if (s.you === "yellow") return s.red;
  return null;
}

/** Both seats are taken: the game can start. */
export function bothSeated(s) {
  return s.red !== "empty" && s.yellow !== "empty";
}

/** The colour the next checker from this page would have, or null. */
export function myColour(s) {
  if (s.you === "both") return s.turn ?? null;
  if (s.you === "red" || s.you === "yellow") return s.you;
  return null;
}

export function canPlayNow(s) {
  return (
    s.phase === "seated" &&
    hasSeat(s) &&
    s.status === "playing" &&
    s.turn !== null &&
    (s.you === "both" || s.turn === s.you) &&
    s.pending === null
  );
}

export function canResign(s) {
  return isPlayer(s) && s.status === "playing";
}

/** Between two people online (not the computer, not one device): where draws are offered and takebacks asked. */
export function twoPeople(s) {
  return (s.you === "red" || s.you === "yellow") && s.computer === null;
}

/** Whether this page has a move of its own to take back (on one device, any move). */
export function ownMoves(s) {
  if (s.you === "both") return s.moves.length;
  if (s.you === "red") return Math.ceil(s.moves.length / 2);
  if (s.you === "yellow") return Math.floor(s.moves.length / 2);
  return 0;
}

/** Whether this player may offer a draw now: none stands, and the server's rule lets it (both sides moved since its last offer). */
export function canOfferDraw(s) {
  if (!isPlayer(s) || !twoPeople(s) || s.status !== "playing" || s.drawOffer !== null || s.requestSent !== null) {
    return false;
  }
  const at = s.drawAgainAt[s.you];
  return at === null || s.moves.length >= at;
}

/** Whether this page may take a move back now (or, between two people, ask to). */
export function canTakeBack(s) {
  return (
    isPlayer(s) &&
    s.status === "playing" &&
    ownMoves(s) > 0 &&
    s.takebackRequest === null &&
    s.requestSent === null
  );
}

export function canClaim(s) {
  return isPlayer(s) && s.you !== "both" && s.status === "playing" && opponentSeat(s) === "gone";
}

/** Whole seconds until this player may claim the win over an absent opponent, or null. */
export function claimCountdown(s, now = Date.now()) {
  if (!isPlayer(s) || s.you === "both" || s.status !== "playing" || opponentSeat(s) !== "disconnected") return null;
  const at = s.claimAt[opponentOf(s.you)];
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The host's own game, nobody joined yet: leaving it cancels the invite. */
export function hostAlone(s) {
  return (
    s.phase === "seated" &&
    (s.you === "red" || s.you === "yellow") &&
    s.status === "waiting" &&
    !s.match &&
    s.computer === null
  );
}

/** Whether the game is over with moves to look back on: then the review replaces the move list. */
export function reviewable(s) {
  return isOver(s) && s.hasBoard && s.moves.length > 0;
}

/** win, loss or neutral (a draw, a spectator, a same-device game), for this page. */
export function outcome(s) {
  if (s.status !== "won" || !(s.you === "red" || s.you === "yellow")) return "neutral";
  return s.winner === s.you ? "win" : "loss";
}

/**
 * What a click or key on `column` does: {send: true} plays it; otherwise
 * nothing is sent, and `message` ({text, code}), when there is one, says why.
 */
export function checkMove(s, column) {
  if (!isPlayer(s)) return { send: false }; // spectators, or no game: clicks are ignored
  if (isOver(s)) return { send: false };
  if (s.phase !== "seated") {
    return { send: false, message: { text: "Reconnecting… You can play again once the connection is back.", code: "offline" } };
  }
  if (s.pending !== null) return { send: false }; // a move is on its way
  if (s.status === "waiting") {
    const text = s.match
      ? "Looking for an opponent: the game starts as soon as someone is found."
      : "Waiting for an opponent to join. Send them the invite link.";
    return { send: false, message: { text, code: "waiting" } };
  }
  if (s.computer !== null && s.turn === s.computer) return { send: false }; // it is thinking: nothing to say
  if (s.you !== "both" && s.turn !== s.you) {
    return { send: false, message: { text: "It's not your turn: wait for your opponent's move.", code: "not_your_turn" } };
  }
  if (height(s.moves, column) >= ROWS) {
    return { send: false, message: { text: `Column ${column + 1} is full. Pick another one.`, code: "column_full" } };
  }
  return { send: true };
}

/**
 * Whether the moves the server sends now (`moves`) drop or change any of those this
 * page showed (`shown`): history the server lost (a failover onto a replica that
 * lagged), which the page says rather than redrawing the board in silence.
 */
export function lostHistory(shown, moves) {
  if (!Array.isArray(shown) || !Array.isArray(moves)) return false;
  if (moves.length < shown.length) return true;
  return shown.some((column, ply) => moves[ply] !== column);
}
