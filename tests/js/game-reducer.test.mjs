// How the server's events change the page's state (game-reducer.js): node --test tests/js/
// Every state given to `next` is frozen (states.mjs): a change to it would throw.
import assert from "node:assert/strict";
import { test } from "node:test";

import { next, stateNews } from "../../connectfour/web/static/game-reducer.js";
import { HOST_LEFT, LOST_MOVES, NO_SUCH_GAME, presenceText } from "../../connectfour/web/static/status-text.js";
import { page, seated, stateEvent } from "./states.mjs";

// ---- init -------------------------------------------------------------------------

test("init keeps the links to share, for the game they belong to", () => {
  const after = next(seated({ status: "waiting", yellow: "empty" }), { type: "init", game: "g1", join: "j1", watch: "w1" });
  assert.deepEqual(after.keys, { game: "g1", join: "j1", watch: "w1" });
  assert.equal(after.hello, null);
});

test("a spectator told of a rematch follows it with the new watch key", () => {
  const after = next(seated({ you: "spectator" }), { type: "init", game: "g2", watch: "w2" });
  assert.deepEqual(after.hello, { type: "init", watch: "w2" });
  assert.deepEqual(after.keys, { game: "g2", join: null, watch: "w2" });
});

// ---- state ------------------------------------------------------------------------

test("the first state seats the page in the game it describes", () => {
  const before = page({ phase: "connecting", handshake: true, attempt: 2 });
  const event = stateEvent({ token: "t1" });
  const after = next(before, event);
  assert.equal(after.phase, "seated");
  assert.equal(after.everSeated, true);
  assert.equal(after.hasBoard, true);
  assert.equal(after.handshake, false);
  assert.equal(after.attempt, 0);
  assert.equal(after.token, "t1");
  assert.deepEqual(after.moves, [3, 3]);
  assert.notEqual(after.moves, event.moves); // the page's own copy
  assert.equal(after.message, null);
  assert.equal(stateNews(before, event).first, true);
});

test("the seconds to a claim become moments from when the state came", () => {
  const after = next(seated(), stateEvent({ yellow: "disconnected", yellow_claimable_in: 30, now: 5_000 }));
  assert.deepEqual(after.claimAt, { red: null, yellow: 35_000 });
});

test("the invite that gave the seat is spent once the seat's token comes", () => {
  const after = next(page({ phase: "connecting", joinKey: "j1" }), stateEvent({ you: "yellow", token: "t2" }));
  assert.equal(after.joinKey, null);
  assert.equal(after.token, "t2");
});

test("a state of another game takes the links this browser kept for it; its watch link is the newest", () => {
  const savedKeys = { join: "j9", watch: "old" };
  const after = next(page({ phase: "connecting" }), stateEvent({ game: "g9", savedKeys, watch: "w9" }));
  assert.deepEqual(after.keys, { game: "g9", join: "j9", watch: "w9" });
  const kept = next(seated({ keys: { game: "g1", join: "j1", watch: "w1" } }), stateEvent({ savedKeys }));
  assert.deepEqual(kept.keys, { game: "g1", join: "j1", watch: "w1" });
});

test("a new game after the one shown is a rematch: offers and names start over, the news said", () => {
  const before = seated({
    status: "won",
    winner: "red",
    offers: new Set(["red", "yellow"]),
    names: { red: "Ada", yellow: "Bea" },
  });
  const event = stateEvent({ game: "g2", you: "yellow", moves: [], turn: "red", red_name: "Bea" });
  const after = next(before, event);
  assert.equal(stateNews(before, event).rematch, true);
  assert.equal(after.offers.size, 0);
  assert.deepEqual(after.names, { red: "Bea", yellow: null });
  assert.deepEqual(after.message, { text: "Rematch! Colours swapped: you are Yellow now.", kind: "info", code: "rematch" });
});

test("in a rematch the opponent not there yet comes in quietly", () => {
  const after = next(seated({ status: "won", winner: "red" }), stateEvent({ game: "g2", you: "yellow", red: "disconnected" }));
  assert.equal(after.quietJoin, true);
  assert.equal(after.opponentNote, "");
  const back = next(after, { type: "presence", red: "connected", yellow: "connected", now: 0 });
  assert.equal(back.opponentNote, "");
  assert.equal(back.quietJoin, false);
});

test("a finished game seen again after a drop keeps its rematch offers", () => {
  const before = seated({ phase: "reconnecting", status: "won", winner: "red", offers: new Set(["yellow"]) });
  const after = next(before, stateEvent({ status: "won", winner: "red", turn: null, reason: "four" }));
  assert.deepEqual([...after.offers], ["yellow"]);
  assert.equal(stateNews(before, stateEvent()).back, true);
});

test("a state over says the result, the loser's plainer", () => {
  const after = next(seated(), stateEvent({ status: "won", winner: "yellow", reason: "claim", turn: null }));
  assert.deepEqual(after.message, { text: "Yellow wins: opponent left", kind: "result", code: "win", outcome: "loss" });
});

test("moves that do not continue those shown are history lost, and said", () => {
  const before = seated({ moves: [3, 3, 4] });
  const event = stateEvent({ moves: [3, 3] });
  const after = next(before, event);
  assert.equal(stateNews(before, event).lost, true);
  assert.deepEqual(after.moves, [3, 3]);
  assert.deepEqual(after.message, { text: LOST_MOVES, kind: "error", code: "rewound" });
});

test("moves that continue those shown lost nothing", () => {
  const before = seated({ moves: [3] });
  const event = stateEvent({ moves: [3, 3, 4] });
  assert.equal(stateNews(before, event).lost, false);
  assert.equal(next(before, event).message, null);
});

test("a quick match's wait that ended in another game is no rematch: the waited seat is over", () => {
  const before = seated({ status: "waiting", match: true, matching: true, yellow: "empty" });
  const event = stateEvent({ game: "g7", match: true });
  assert.deepEqual(
    { rematch: stateNews(before, event).rematch, leftWait: stateNews(before, event).leftWait },
    { rematch: false, leftWait: true },
  );
  const after = next(before, event);
  assert.equal(after.matching, false);
  assert.equal(after.message, null);
});

test("a quick match's game still waiting keeps the page looking; a cancel on its way is answered", () => {
  const after = next(page({ phase: "connecting", cancelling: true }), stateEvent({ status: "waiting", match: true, yellow: "empty" }));
  assert.equal(after.matching, true);
  assert.equal(after.cancelling, false);
});

test("a state after the server's restart ends the restart", () => {
  assert.equal(next(seated({ phase: "reconnecting", restarting: true }), stateEvent()).restarting, false);
});

test("a resignation being confirmed is forgotten when the game is found over", () => {
  const after = next(seated({ phase: "reconnecting", confirmResign: true }), stateEvent({ status: "won", winner: "yellow" }));
  assert.equal(after.confirmResign, false);
});

// ---- play, win, draw ----------------------------------------------------------------

test("a move is added, the turn passes, the page's own move is no longer on its way", () => {
  const after = next(seated({ pending: 2 }), { type: "play", player: "red", column: 4, row: 0, ply: 2, turn: "yellow" });
  assert.deepEqual(after.moves, [3, 3, 4]);
  assert.equal(after.turn, "yellow");
  assert.equal(after.pending, null);
});

test("a move already shown changes nothing", () => {
  const before = seated();
  assert.equal(next(before, { type: "play", player: "red", column: 3, row: 0, ply: 0, turn: "yellow" }), before);
});

test("a move takes the message away, but not the result", () => {
  const move = { type: "play", player: "red", column: 4, row: 0, ply: 2, turn: "yellow" };
  assert.equal(next(seated({ message: { text: "Not now", kind: "info", code: "not_your_turn" } }), move).message, null);
  const result = { text: "Red wins!", kind: "result", code: "win" };
  assert.equal(next(seated({ message: result }), move).message, result);
});

test("a move in a game still waiting, both seats taken, starts it", () => {
  const before = seated({ status: "waiting", moves: [] });
  assert.equal(next(before, { type: "play", player: "red", column: 0, row: 0, ply: 0, turn: "yellow" }).status, "playing");
});

test("a win ends the game: nobody's turn, the result the message", () => {
  const cells = [[0, 0], [0, 1], [0, 2], [0, 3]];
  const after = next(seated({ pending: 4, confirmResign: true }), { type: "win", player: "red", reason: "four", cells });
  assert.equal(after.status, "won");
  assert.equal(after.winner, "red");
  assert.deepEqual(after.cells, cells);
  assert.equal(after.turn, null);
  assert.equal(after.pending, null);
  assert.equal(after.confirmResign, false);
  assert.deepEqual(after.message, { text: "Red wins!", kind: "result", code: "win", outcome: "win" });
});

test("a win while the host leaves its game changes nothing: the page goes home", () => {
  const before = seated({ status: "waiting", leaving: true });
  assert.equal(next(before, { type: "win", player: "yellow", reason: "resign" }), before);
});

test("a draw ends the game on a full board", () => {
  const after = next(seated(), { type: "draw" });
  assert.equal(after.status, "draw");
  assert.equal(after.reason, "full");
  assert.deepEqual(after.message, { text: "Draw! The board is full.", kind: "result", code: "draw", outcome: "neutral" });
});

// ---- presence -------------------------------------------------------------------------

test("presence says who is connected and who watches, and the names given", () => {
  const event = { type: "presence", red: "connected", yellow: "disconnected", spectators: 2, yellow_name: "Bea", now: 0 };
  const after = next(seated({ names: { red: "Ada", yellow: null } }), event);
  assert.equal(after.yellow, "disconnected");
  assert.equal(after.spectators, 2);
  assert.deepEqual(after.names, { red: "Ada", yellow: "Bea" });
  assert.equal(after.opponentNote, "Opponent disconnected");
});

test("an opponent taking the seat starts the game and ends the wait", () => {
  const waiting = { text: "Waiting for an opponent to join.", kind: "info", code: "waiting" };
  const before = seated({ status: "waiting", yellow: "empty", match: true, matching: true, message: waiting });
  const after = next(before, { type: "presence", red: "connected", yellow: "connected", now: 0 });
  assert.equal(after.status, "playing");
  assert.equal(after.matching, false);
  assert.equal(after.message, null);
  assert.equal(after.opponentNote, "Opponent found");
});

test("an opponent back after a drop is news", () => {
  const after = next(seated({ yellow: "disconnected" }), { type: "presence", red: "connected", yellow: "connected", now: 0 });
  assert.equal(after.opponentNote, "Opponent reconnected");
});

test("presence on a finished game is kept but not shown, and does not start it again", () => {
  const before = seated({ status: "won", winner: "red" });
  const after = next(before, { type: "presence", red: "connected", yellow: "gone", spectators: 1, now: 0 });
  assert.equal(after.status, "won");
  assert.equal(after.yellow, "gone");
  assert.equal(presenceText(after), "");
});

// ---- rematch -------------------------------------------------------------------------------

test("a rematch offer is added to the offers, the set before left as it was", () => {
  const before = seated({ status: "won", winner: "red", offers: new Set(["yellow"]) });
  const after = next(before, { type: "rematch", player: "red" });
  assert.deepEqual([...after.offers].sort(), ["red", "yellow"]);
  assert.deepEqual([...before.offers], ["yellow"]);
});

test("the page's own offer, confirmed, is no longer on its way", () => {
  const before = seated({ status: "won", winner: "red", offerSent: true });
  assert.equal(next(before, { type: "rematch", player: "red" }).offerSent, false);
  assert.equal(next(before, { type: "rematch", player: "yellow" }).offerSent, true);
});

test("a rematch offer from nobody known changes nothing", () => {
  const before = seated({ status: "won", winner: "red" });
  assert.equal(next(before, { type: "rematch", player: "blue" }), before);
});

// ---- error ---------------------------------------------------------------------------------

test("an error in a game is the message; what was on its way is not any more", () => {
  const before = seated({ pending: 2, offerSent: true, cancelling: true });
  const after = next(before, { type: "error", code: "column_full", message: "Column 4 is full" });
  assert.deepEqual(after.message, { text: "Column 4 is full", kind: "error", code: "column_full" });
  assert.equal(after.pending, null);
  assert.equal(after.offerSent, false);
  assert.equal(after.cancelling, false);
  assert.equal(after.phase, "seated");
});

test("an error with no words says something went wrong", () => {
  assert.deepEqual(next(seated(), { type: "error" }).message, { text: "Something went wrong.", kind: "error", code: "error" });
});

test("a double click's stale move passes in silence", () => {
  const after = next(seated({ pending: 2 }), { type: "error", code: "stale_ply", message: "stale" });
  assert.equal(after.pending, null);
  assert.equal(after.message, null);
});

test("on the landing page an error is the lobby's line", () => {
  const after = next(page(), { type: "error", code: "rate_limited", message: "Slow down" });
  assert.equal(after.lobbyError, "Slow down");
  assert.equal(after.phase, "landing");
  assert.equal(after.message, null);
});

test("a seat resumed elsewhere replaces this page, for good", () => {
  const after = next(seated({ confirmResign: true, pending: 2, retryAt: 9 }), { type: "error", code: "replaced", message: "x" });
  assert.equal(after.phase, "replaced");
  assert.equal(after.handshake, false);
  assert.equal(after.retryAt, null);
  assert.deepEqual(after.message, { text: "This game is open in another tab or device.", kind: "info", code: "replaced" });
});

test("a seat resumed in a game that ended while away shows it ended", () => {
  const after = next(seated({ phase: "connecting", handshake: true, turn: "red" }), { type: "error", code: "game_over", message: "x" });
  assert.equal(after.phase, "ended");
  assert.equal(after.handshake, false);
  assert.equal(after.turn, null);
  assert.equal(after.token, "t1");
  assert.deepEqual(after.message, { text: "This game has ended.", kind: "info", code: "game_over" });
});

test("an invite to a game its host left says so", () => {
  const before = page({ phase: "connecting", handshake: true, hello: { type: "init", join: "j1" } });
  const after = next(before, { type: "error", code: "game_over", message: "x" });
  assert.equal(after.phase, "failed");
  assert.deepEqual(after.message, { text: HOST_LEFT, kind: "error", code: "game_over" });
});

test("a kept seat in a game the server does not know is forgotten", () => {
  const before = seated({ phase: "connecting", handshake: true, everSeated: false });
  const after = next(before, { type: "error", code: "game_not_found", message: "x" });
  assert.equal(after.phase, "failed");
  assert.equal(after.token, null);
  assert.equal(after.message.text, NO_SUCH_GAME);
});

test("a token the server no longer takes is forgotten, with the server's words", () => {
  const after = next(seated({ phase: "connecting", handshake: true }), { type: "error", code: "invalid_token", message: "Bad token" });
  assert.equal(after.token, null);
  assert.deepEqual(after.message, { text: "Bad token", kind: "error", code: "invalid_token" });
});

test("a spent invite offers the game to watch when the server says how", () => {
  const before = page({ phase: "connecting", handshake: true });
  const after = next(before, { type: "error", code: "seat_taken", message: "Taken", watch: "w1" });
  assert.equal(after.phase, "failed");
  assert.equal(after.watchKey, "w1");
});

test("an error answering the first frame that is not fatal is only the message", () => {
  const before = page({ phase: "connecting", handshake: true });
  const after = next(before, { type: "error", code: "rate_limited", message: "Slow down" });
  assert.equal(after.phase, "connecting");
  assert.equal(after.handshake, false);
  assert.equal(after.message.code, "rate_limited");
});

test("an error while the host leaves its game changes nothing: the page goes home", () => {
  const before = seated({ status: "waiting", leaving: true });
  assert.equal(next(before, { type: "error", code: "not_your_turn", message: "x" }), before);
});

// ---- the page's other events from the server --------------------------------------------

test("a restart announced explains the outage to come; another word does not", () => {
  assert.equal(next(seated(), { type: "announcement", message: "Back soon", restart: true }).restarting, true);
  const before = seated();
  assert.equal(next(before, { type: "announcement", message: "Hello" }), before);
});

test("the lobby is kept on the landing page, its connection up and the restart over", () => {
  const lobby = { type: "lobby", online: 3, waiting: [], playing: [] };
  const after = next(page({ lobbyDown: true, lobbyError: "x", restarting: true }), lobby);
  assert.equal(after.lobby, lobby);
  assert.equal(after.lobbyDown, false);
  assert.equal(after.lobbyError, null);
  assert.equal(after.restarting, false);
});

test("a late lobby for a page now in a game changes nothing", () => {
  const before = seated();
  assert.equal(next(before, { type: "lobby", online: 1 }), before);
});

test("a quick match cancelled brings the landing page back, with no game and no message", () => {
  const before = seated({ status: "waiting", match: true, matching: true, cancelling: true, message: { text: "x", kind: "info", code: "c" } });
  const after = next(before, { type: "cancelled" });
  assert.equal(after.phase, "landing");
  assert.equal(after.game, null);
  assert.equal(after.matching, false);
  assert.equal(after.message, null);
});

test("a cancel this page did not ask for changes nothing", () => {
  const before = seated();
  assert.equal(next(before, { type: "cancelled" }), before);
});
