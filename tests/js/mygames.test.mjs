// "My games", row by row: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { describe } from "../../connectfour/web/static/mygames.js";

const base = {
  game: "g1",
  seat: true,
  you: "red",
  names: { red: "Ada", yellow: "Bea" },
  computer: null,
  level: null,
  status: "won",
  winner: "red",
  reason: "four",
  moves: 7,
  started: Date.UTC(2025, 2, 3, 14, 5),
};

test("a won game says so, names the opponent and links to its replay", () => {
  const row = describe(base, "en-GB");
  assert.equal(row.result, "You won");
  assert.equal(row.outcome, "win");
  assert.equal(row.opponent, "Bea");
  assert.equal(row.href, "/game/g1");
  assert.equal(row.action, "Replay");
});

test("a lost game says 'You lost'", () => {
  assert.equal(describe({ ...base, winner: "yellow" }).result, "You lost");
});

test("a game still going links back to the seat", () => {
  const row = describe({ ...base, status: "playing", winner: null });
  assert.equal(row.result, "In progress");
  assert.equal(row.href, "/?game=g1");
  assert.equal(row.action, "Resume");
});

test("a game still going with no seat kept has no link", () => {
  assert.equal(describe({ ...base, status: "playing", seat: false }).href, null);
});

test("the computer is the opponent, with its level", () => {
  assert.equal(describe({ ...base, you: "yellow", computer: "red", level: 3 }).opponent, "Computer (level 3)");
});

test("an opponent with no name is Anonymous", () => {
  assert.equal(describe({ ...base, names: { red: "Ada", yellow: null } }).opponent, "Anonymous");
});

test("the detail has the colour, the moves and the date", () => {
  const detail = describe(base, "en-GB").detail;
  assert.match(detail, /^you played Red · 7 moves · 3 Mar 2025/);
});
