// The game page's state and the questions asked of it: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  canClaim,
  canPlayNow,
  canResign,
  checkMove,
  claimCountdown,
  claimTimes,
  createState,
  hostAlone,
  landingFields,
  lostHistory,
  myColour,
  namesAfter,
  outcome,
  reviewable,
} from "../../connectfour/web/static/game-state.js";

/** A page seated in a game, changed by `fields`. */
function seated(fields = {}) {
  return Object.assign(createState(), {
    phase: "seated",
    everSeated: true,
    hasBoard: true,
    game: "g1",
    you: "red",
    status: "playing",
    turn: "red",
    red: "connected",
    yellow: "connected",
    ...fields,
  });
}

test("a page just loaded is on the landing page, cursor in the middle column", () => {
  const state = createState();
  assert.equal(state.phase, "landing");
  assert.equal(state.cursor, 3);
  assert.deepEqual(state.claimAt, { red: null, yellow: null });
});

test("each new state is its own: a change to one is not seen in another", () => {
  const one = createState();
  one.offers.add("red");
  one.names.red = "Ada";
  assert.equal(createState().offers.size, 0);
  assert.equal(createState().names.red, null);
});

test("back on the landing page, the game is forgotten and the page's own settings kept", () => {
  const fields = landingFields();
  assert.equal(fields.phase, "landing");
  assert.equal(fields.game, null);
  assert.deepEqual(fields.moves, []);
  for (const kept of ["cursor", "lobby", "restarting", "joinKey", "watchKey", "offers"]) assert.ok(!(kept in fields), kept);
});

test("a player may play only on their turn, connected, with no move on its way", () => {
  assert.equal(canPlayNow(seated()), true);
  assert.equal(canPlayNow(seated({ turn: "yellow" })), false);
  assert.equal(canPlayNow(seated({ pending: 4 })), false);
  assert.equal(canPlayNow(seated({ phase: "reconnecting" })), false);
  assert.equal(canPlayNow(seated({ you: "spectator" })), false);
  assert.equal(canPlayNow(seated({ you: "both", turn: "yellow" })), true);
});

test("on a shared device the checker to come is the side to move's", () => {
  assert.equal(myColour(seated({ you: "both", turn: "yellow" })), "yellow");
  assert.equal(myColour(seated({ you: "yellow" })), "yellow");
  assert.equal(myColour(seated({ you: "spectator" })), null);
});

test("a click that cannot play says why, or nothing when there is nothing to say", () => {
  assert.deepEqual(checkMove(seated(), 3), { send: true });
  assert.deepEqual(checkMove(seated({ you: "spectator" }), 3), { send: false });
  assert.deepEqual(checkMove(seated({ status: "won" }), 3), { send: false });
  assert.deepEqual(checkMove(seated({ pending: 0 }), 3), { send: false });
  assert.deepEqual(checkMove(seated({ computer: "yellow", turn: "yellow" }), 3), { send: false });
  assert.equal(checkMove(seated({ phase: "reconnecting" }), 3).message.code, "offline");
  assert.equal(checkMove(seated({ turn: "yellow" }), 3).message.code, "not_your_turn");
  const waiting = checkMove(seated({ status: "waiting" }), 3).message;
  assert.equal(waiting.text, "Waiting for an opponent to join. Send them the invite link.");
  assert.match(checkMove(seated({ status: "waiting", match: true }), 3).message.text, /^Looking for an opponent/);
  const full = checkMove(seated({ moves: [2, 2, 2, 2, 2, 2] }), 2).message;
  assert.deepEqual(full, { text: "Column 3 is full. Pick another one.", code: "column_full" });
});

test("resigning is for a player of a game under way", () => {
  assert.equal(canResign(seated()), true);
  assert.equal(canResign(seated({ phase: "reconnecting" })), true);
  assert.equal(canResign(seated({ status: "waiting" })), false);
  assert.equal(canResign(seated({ you: "spectator" })), false);
});

test("the win is claimed over an opponent gone, never on a shared device", () => {
  assert.equal(canClaim(seated({ yellow: "gone" })), true);
  assert.equal(canClaim(seated({ yellow: "disconnected" })), false);
  assert.equal(canClaim(seated({ you: "both", yellow: "gone" })), false);
});

test("the countdown to a claim is in whole seconds from the moment the server gave", () => {
  const claimAt = claimTimes({ yellow_claimable_in: 12.2 }, 1_000);
  assert.deepEqual(claimAt, { red: null, yellow: 13_200 });
  const state = seated({ yellow: "disconnected", claimAt });
  assert.equal(claimCountdown(state, 1_000), 13);
  assert.equal(claimCountdown(state, 20_000), 0);
  assert.equal(claimCountdown(seated({ yellow: "connected", claimAt: { red: null, yellow: 5 } }), 0), null);
});

test("a name left out of an event keeps the one known; an empty one is no name", () => {
  const names = Object.freeze({ red: "Ada", yellow: "Bea" });
  assert.deepEqual(namesAfter(names, { yellow_name: " " }), { red: "Ada", yellow: null });
});

test("only a host alone in a game of their own leaves it by resigning", () => {
  assert.equal(hostAlone(seated({ status: "waiting", yellow: "empty" })), true);
  assert.equal(hostAlone(seated({ status: "waiting", match: true })), false);
  assert.equal(hostAlone(seated({ status: "waiting", computer: "yellow" })), false);
  assert.equal(hostAlone(seated()), false);
});

test("a finished game with moves is reviewed; its outcome is this page's", () => {
  assert.equal(reviewable(seated({ status: "won", winner: "red", moves: [0, 1, 0, 1, 0, 1, 0] })), true);
  assert.equal(reviewable(seated({ status: "abandoned", moves: [] })), false);
  assert.equal(outcome(seated({ status: "won", winner: "red" })), "win");
  assert.equal(outcome(seated({ status: "won", winner: "yellow" })), "loss");
  assert.equal(outcome(seated({ you: "spectator", status: "won", winner: "red" })), "neutral");
  assert.equal(outcome(seated({ status: "draw" })), "neutral");
});

test("moves that continue what the page showed lost nothing", () => {
  assert.equal(lostHistory([], [3]), false);
  assert.equal(lostHistory([3, 3], [3, 3]), false);
  assert.equal(lostHistory([3, 3], [3, 3, 4, 4]), false);
});

test("fewer moves than the page showed, or others, are history the server lost", () => {
  assert.equal(lostHistory([3, 3, 4], [3, 3]), true);
  assert.equal(lostHistory([3, 3, 4], [3, 3, 5, 4]), true); // played on from an earlier point
  assert.equal(lostHistory([3], []), true);
});

test("a snapshot that is not a list of moves says nothing", () => {
  assert.equal(lostHistory([3], undefined), false);
  assert.equal(lostHistory(null, [3]), false);
});

