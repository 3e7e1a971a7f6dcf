// How the page's own events change its state (page-reducer.js, through
// game-reducer.js's `next`): node --test tests/js/
// Every state given to `next` is frozen (states.mjs): a change to it would throw.
import assert from "node:assert/strict";
import { test } from "node:test";

import { next } from "../../connectfour/web/static/game-reducer.js";
import { GAME_ENDED } from "../../connectfour/web/static/status-text.js";
import { page, seated } from "./states.mjs";

const info = (code) => ({ text: "x", kind: "info", code });

// ---- the player ------------------------------------------------------------------------

test("the cursor goes where the pointer or a key takes it", () => {
  assert.equal(next(seated(), { type: "cursor-moved", column: 6 }).cursor, 6);
});

test("a click that cannot play says why", () => {
  const after = next(seated({ turn: "yellow" }), { type: "move-refused", text: "Not your turn", code: "not_your_turn" });
  assert.deepEqual(after.message, { text: "Not your turn", kind: "info", code: "not_your_turn" });
});

test("a move sent, on a shared device or not, is on its way: the message goes", () => {
  const after = next(seated({ you: "both", message: info("not_your_turn") }), { type: "move-sent", ply: 2 });
  assert.equal(after.pending, 2);
  assert.equal(after.message, null);
});

test("resigning is confirmed first, by a player of a game under way only", () => {
  assert.equal(next(seated(), { type: "resign-asked" }).confirmResign, true);
  const spectator = seated({ you: "spectator" });
  assert.equal(next(spectator, { type: "resign-asked" }), spectator);
});

test("the confirmation answered is gone", () => {
  assert.equal(next(seated({ confirmResign: true }), { type: "resign-dropped" }).confirmResign, false);
});

test("a rematch offer and a cancel of the quick match are on their way once sent", () => {
  assert.equal(next(seated({ status: "won", winner: "red" }), { type: "rematch-sent" }).offerSent, true);
  assert.equal(next(seated({ status: "waiting", matching: true }), { type: "cancel-sent" }).cancelling, true);
});

test("a host leaving a game nobody joined is leaving until home", () => {
  const leaving = next(seated({ status: "waiting", yellow: "empty" }), { type: "leaving" });
  assert.equal(leaving.leaving, true);
  assert.equal(next(leaving, { type: "going-home" }).leaving, false);
});

test("the seat taken back from another tab reconnects, the message gone", () => {
  const after = next(seated({ phase: "replaced", attempt: 3, message: info("replaced") }), { type: "taking-over" });
  assert.equal(after.phase, "reconnecting");
  assert.equal(after.attempt, 0);
  assert.equal(after.message, null);
});

test("a move chosen in the review of a finished game is shown; the last is the final position", () => {
  const over = seated({ status: "won", winner: "red", moves: [0, 1, 0, 1, 0, 1, 0] });
  assert.equal(next(over, { type: "review-chosen", ply: 3 }).reviewPly, 3);
  assert.equal(next(over, { type: "review-chosen", ply: 7 }).reviewPly, null);
});

test("no move stays chosen once there is no game to review", () => {
  const over = seated({ status: "won", winner: "red", moves: [0, 1, 0, 1, 0, 1, 0], reviewPly: 3 });
  assert.equal(next(over, { type: "landing" }).reviewPly, null);
});

test("passing news fades, unless newer news took its place", () => {
  assert.equal(next(seated({ opponentNote: "Opponent joined" }), { type: "note-faded", note: "Opponent joined" }).opponentNote, "");
  const newer = seated({ opponentNote: "Opponent disconnected" });
  assert.equal(next(newer, { type: "note-faded", note: "Opponent joined" }), newer);
});

// ---- the connection ---------------------------------------------------------------------

test("the first frame sent waits for its answer", () => {
  assert.equal(next(page({ phase: "connecting" }), { type: "hello-sent" }).handshake, true);
});

test("the landing page's connection open again: the lobby's line clears", () => {
  const after = next(page({ lobbyDown: true, attempt: 2, retryAt: 5 }), { type: "link-open" });
  assert.deepEqual([after.lobbyDown, after.attempt, after.retryAt], [false, 0, null]);
  const playing = seated({ attempt: 2 });
  assert.equal(next(playing, { type: "link-open" }), playing); // a state will say the game
});

test("a connection lost in a game reconnects: nothing is on its way any more", () => {
  const after = next(seated({ pending: 2, offerSent: true, handshake: true }), { type: "link-down", attempt: 1, retryAt: 900 });
  assert.equal(after.phase, "reconnecting");
  assert.deepEqual([after.pending, after.offerSent, after.handshake], [null, false, false]);
  assert.deepEqual([after.attempt, after.retryAt], [1, 900]);
});

test("a connection lost before any game was shown is still connecting", () => {
  const after = next(page({ phase: "connecting" }), { type: "link-down", attempt: 2, retryAt: 900 });
  assert.equal(after.phase, "connecting");
  assert.equal(after.attempt, 2);
});

test("the landing page's connection lost is the lobby's line", () => {
  const after = next(page(), { type: "link-down", attempt: 1, retryAt: 900 });
  assert.deepEqual([after.phase, after.lobbyDown, after.retryAt], ["landing", true, 900]);
});

test("a connection lost once the page has no game changes nothing", () => {
  const failed = page({ phase: "failed" });
  assert.equal(next(failed, { type: "link-down", attempt: 1, retryAt: 900 }), failed);
});

test("a retry under way has no time to wait for", () => {
  const after = next(seated({ phase: "reconnecting", retryAt: 900 }), { type: "link-retry", attempt: 2 });
  assert.deepEqual([after.attempt, after.retryAt], [2, null]);
});

// ---- the address, and starting -------------------------------------------------------------

test("a game asked for connects with its first frame, the message gone", () => {
  const hello = { type: "init", local: true };
  const after = next(page({ lobbyDown: true, attempt: 3, message: info("x") }), { type: "start", hello });
  assert.equal(after.phase, "connecting");
  assert.equal(after.hello, hello);
  assert.deepEqual([after.attempt, after.retryAt, after.lobbyDown, after.message], [0, null, false, null]);
  assert.equal(after.matching, false);
});

test("a quick match asked for is waited for", () => {
  assert.equal(next(page(), { type: "start", hello: { type: "match", name: "Ada" } }).matching, true);
});

test("an invite's key is kept until its seat is taken; resuming keeps it", () => {
  const joining = next(page(), { type: "start", hello: { type: "init", join: "j1" } });
  assert.equal(joining.joinKey, "j1");
  assert.equal(next(joining, { type: "start", hello: null }).joinKey, "j1");
});

test("a seat resumed brings its game, its token and the links kept to share", () => {
  const after = next(page(), { type: "resume", game: "g1", token: "t1", keys: { join: "j1", watch: "w1" } });
  assert.deepEqual([after.game, after.token], ["g1", "t1"]);
  assert.deepEqual(after.keys, { game: "g1", join: "j1", watch: "w1" });
  assert.equal(next(page(), { type: "resume", game: "g1", token: "t1", keys: null }).keys, null);
});

test("a game with no seat here is looked up; an invite with no name asks for one", () => {
  const looking = next(page(), { type: "look-up", game: "g1" });
  assert.deepEqual([looking.phase, looking.game], ["loading", "g1"]);
  assert.equal(next(page(), { type: "name-asked" }).phase, "invited");
});

test("back on the landing page the game is forgotten, the page's own settings kept", () => {
  const before = seated({ cursor: 5, lobby: { type: "lobby" }, message: info("x"), keys: { game: "g1" } });
  const after = next(before, { type: "landing" });
  assert.deepEqual([after.phase, after.game, after.token, after.keys, after.message], ["landing", null, null, null, null]);
  assert.deepEqual(after.moves, []);
  assert.equal(after.cursor, 5);
  assert.equal(after.lobby, before.lobby);
});

// ---- the game no longer this page's ------------------------------------------------------------

test("a page with no game says why", () => {
  const after = next(page({ phase: "loading", retryAt: 5 }), { type: "failed", text: "No such game", code: "game_not_found" });
  assert.equal(after.phase, "failed");
  assert.equal(after.retryAt, null);
  assert.deepEqual(after.message, { text: "No such game", kind: "error", code: "game_not_found" });
});

test("the connection ended by another tab replaces the page", () => {
  const after = next(seated({ phase: "reconnecting" }), { type: "replaced" });
  assert.equal(after.phase, "replaced");
  assert.equal(after.message.code, "replaced");
});

test("a game ended while away is shown as this browser played it", () => {
  const ended = seated({ phase: "ended", you: null, message: { text: GAME_ENDED, kind: "info", code: "game_over" } });
  const after = next(ended, { type: "game-noted", note: { you: "yellow", computer: "red", level: 2 } });
  assert.deepEqual([after.you, after.computer, after.level], ["yellow", "red", 2]);
  assert.equal(next(ended, { type: "game-noted", note: null }), ended);
});

test("a finished game's record is the game over: its moves, result and the four cells", () => {
  const record = { game: "g1", moves: [0, 1, 0, 1, 0, 1, 0], result: "red", reason: "four", red_name: "Ada" };
  const after = next(page({ phase: "loading", game: "g1" }), { type: "record", record });
  assert.equal(after.phase, "ended");
  assert.equal(after.hasBoard, true);
  assert.deepEqual([after.status, after.winner, after.turn], ["won", "red", null]);
  assert.deepEqual(after.cells, [[0, 0], [0, 1], [0, 2], [0, 3]]);
  assert.deepEqual(after.names, { red: "Ada", yellow: null });
  assert.deepEqual(after.message, { text: "Red wins!", kind: "result", code: "win", outcome: "neutral" });
});

test("a record's draw and abandoned game; columns that are not on the board are left out", () => {
  const draw = next(page(), { type: "record", record: { moves: [0, 9, -1, 1.5, 2], result: "draw", reason: "full" } });
  assert.deepEqual([draw.status, draw.winner], ["draw", null]);
  assert.deepEqual(draw.moves, [0, 2]);
  const abandoned = next(page(), { type: "record", record: { moves: [], result: "abandoned", reason: null } });
  assert.equal(abandoned.status, "abandoned");
  assert.deepEqual(abandoned.cells, []);
});

test("an event the page does not know changes nothing", () => {
  const before = seated();
  assert.equal(next(before, { type: "something-new" }), before);
});
