// A timed game's clocks (clocks.js), and how the server's events move them (game-reducer.js):
// node --test tests/js/. Every `now` is the test's: nothing here waits.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  clockFaces,
  controlName,
  controlOf,
  controlWords,
  durationText,
  firstMoveLeft,
  formatClock,
  moveDurations,
  ownClock,
  secondsLeft,
  stopClock,
  takeClock,
} from "../../connectfour/web/static/clocks.js";
import { next } from "../../connectfour/web/static/game-reducer.js";
import { firstMoveText, resultText, turnText } from "../../connectfour/web/static/status-text.js";
import { seated, stateEvent } from "./states.mjs";

const RUNNING = { control: "1+0", red: 42.5, yellow: 60, at: 1_765_000_000.5, runs: "red" };

test("a clock shows minutes and seconds, and tenths under ten seconds", () => {
  assert.equal(formatClock(600), "10:00");
  assert.equal(formatClock(60), "01:00");
  assert.equal(formatClock(59.99), "00:59");
  assert.equal(formatClock(10), "00:10");
  assert.equal(formatClock(9.99), "00:09.9");
  assert.equal(formatClock(0.04), "00:00.0");
  assert.equal(formatClock(-3), "00:00.0");
  assert.equal(formatClock(10800), "180:00");
});

test("the server's clock is kept with the moment the page took it; nonsense is no clock", () => {
  assert.deepEqual(takeClock(RUNNING, 5_000), { control: "1+0", red: 42.5, yellow: 60, runs: "red", firstMoveIn: null, received: 5_000 });
  assert.equal(takeClock(undefined, 5_000), null);
  assert.equal(takeClock({ red: "1", yellow: 2 }, 5_000), null);
  assert.equal(takeClock({ red: 1, yellow: 2, runs: "blue" }, 5_000).runs, null);
});

test("the running side counts down from when the clock came, on the page's own clock", () => {
  const clock = takeClock(RUNNING, 5_000);
  assert.equal(secondsLeft(clock, "red", 5_000), 42.5);
  assert.equal(secondsLeft(clock, "red", 7_500), 40);
  assert.equal(secondsLeft(clock, "yellow", 7_500), 60); // not running
  assert.equal(secondsLeft(clock, "red", 100_000), 0); // never below zero
  assert.equal(secondsLeft(clock, "red", 4_000), 42.5); // a page clock stepping back adds nothing
});

test("the faces say which clock runs and which is low, at any instant", () => {
  const s = seated({ clock: takeClock({ ...RUNNING, red: 12 }, 1_000) });
  const early = clockFaces(s, 1_000);
  assert.deepEqual(early.red, { seconds: 12, text: "00:12", running: true, low: false, label: "Red's clock" });
  assert.equal(early.yellow.running, false);
  assert.equal(early.firstMove, null);
  const late = clockFaces(s, 3_700);
  assert.equal(late.red.text, "00:09.3");
  assert.equal(late.red.low, true);
  assert.equal(clockFaces(seated(), 1_000), null); // untimed
  // Once the game is over, or the page elsewhere, nothing runs.
  assert.equal(clockFaces({ ...s, status: "won" }, 3_700).red.running, false);
  assert.equal(clockFaces({ ...s, phase: "replaced" }, 3_700).red.running, false);
});

test("until both sides moved, the first move's seconds count down for the side to move", () => {
  const clock = takeClock({ control: "3+2", red: 180, yellow: 180, at: 1, first_move_in: 30 }, 1_000);
  const s = seated({ moves: [], turn: "red", clock });
  assert.deepEqual(clockFaces(s, 1_000).firstMove, { player: "red", seconds: 30 });
  assert.deepEqual(clockFaces(s, 19_500).firstMove, { player: "red", seconds: 12 });
  assert.equal(firstMoveLeft(clock, 40_000), 0);
  assert.equal(firstMoveText(s, { player: "red", seconds: 12 }), "12 s to make the first move");
  assert.equal(firstMoveText({ ...s, you: "yellow" }, { player: "red", seconds: 12 }), "Your opponent has 12 s to make the first move");
  assert.equal(firstMoveText({ ...s, you: "spectator" }, { player: "red", seconds: 12 }), "Red has 12 s to make the first move");
  assert.equal(firstMoveText({ ...s, moves: [3], you: "yellow" }, { player: "yellow", seconds: 9 }), "9 s to make your first move");
  assert.equal(firstMoveText({ ...s, computer: "red", you: "yellow" }, { player: "red", seconds: 9 }), "");
});

test("a stopped clock keeps each side's time then, the flagged side's at zero", () => {
  const clock = takeClock(RUNNING, 1_000);
  assert.deepEqual(stopClock(clock, 3_000), { ...clock, red: 40.5, runs: null, firstMoveIn: null, received: 3_000 });
  assert.equal(stopClock(clock, 3_000, "red").red, 0);
  assert.equal(stopClock(null, 3_000), null);
});

test("the host hears from presence that the guest sat down: the first move's countdown began", () => {
  const clock = takeClock({ control: "1+0", red: 60, yellow: 60, at: 1 }, 1_000);
  const host = seated({ status: "waiting", yellow: "empty", moves: [], clock });
  const presence = { type: "presence", red: "connected", yellow: "connected", spectators: 0, now: 9_000 };
  const after = next(host, { ...presence, clock: { ...RUNNING, red: 60, runs: undefined, first_move_in: 30 } });
  assert.equal(after.status, "playing");
  assert.deepEqual(clockFaces(after, 21_000).firstMove, { player: "red", seconds: 18 });
  assert.equal(next(host, presence).clock, clock); // a presence without clocks keeps those known
  // Once the game is over, the clocks stay as they stopped.
  const over = seated({ status: "won", winner: "yellow", reason: "time", turn: null, clock: { ...clock, red: 0 } });
  assert.equal(next(over, { ...presence, clock: RUNNING }).clock.red, 0);
});

test("a state and a move bring the clocks, from when the page took them; an untimed game has none", () => {
  const after = next(seated(), stateEvent({ clock: RUNNING, now: 2_000 }));
  assert.equal(after.clock.red, 42.5);
  assert.equal(after.clock.received, 2_000);
  const moved = next(after, { type: "play", player: "red", column: 4, row: 0, ply: 2, turn: "yellow", now: 9_000, clock: { ...RUNNING, red: 36, runs: "yellow" } });
  assert.equal(moved.clock.runs, "yellow");
  assert.equal(moved.clock.received, 9_000);
  assert.equal(next(seated(), stateEvent()).clock, null);
  const untimedMove = next(seated(), { type: "play", player: "red", column: 4, row: 0, ply: 2, turn: "yellow", now: 9_000 });
  assert.equal(untimedMove.clock, null);
});

test("lost on time: the loser's clock stops at zero, and each side is told in its words", () => {
  const s = seated({ clock: takeClock(RUNNING, 1_000) });
  const lost = next(s, { type: "win", player: "yellow", reason: "time", now: 2_000 });
  assert.equal(lost.clock.red, 0);
  assert.equal(lost.clock.runs, null);
  assert.equal(turnText(lost), "You lost on time");
  assert.equal(turnText({ ...lost, you: "yellow" }), "You won on time");
  assert.equal(turnText({ ...lost, you: "spectator" }), "Yellow wins on time");
  assert.equal(resultText(lost), "Yellow wins on time");
  const resigned = next(s, { type: "win", player: "yellow", reason: "resign", now: 3_000 });
  assert.equal(resigned.clock.red, 40.5); // stopped where it stood
});

test("a game whose first move did not come is aborted, and says so", () => {
  const aborted = next(seated({ moves: [] }), stateEvent({ moves: [], status: "abandoned", reason: "aborted", turn: null }));
  assert.equal(turnText(aborted), "Game aborted");
  assert.equal(aborted.message.text, "Game aborted: the first move did not come in time.");
});

test("this page's own clock is its player's", () => {
  assert.equal(ownClock(seated({ you: "yellow" })), "yellow");
  assert.equal(ownClock(seated({ you: "spectator" })), null);
});

test("time controls: the page's own, any the server names, and in words", () => {
  assert.equal(controlOf("3+2"), "3+2");
  assert.equal(controlOf("7+7"), "");
  assert.equal(controlName("0.5+0"), "0.5+0");
  assert.equal(controlName("<b>"), "");
  assert.equal(controlName(null), "");
  assert.equal(controlWords("3+2"), "3 minutes each, 2 seconds added per move");
  assert.equal(controlWords("1+0"), "1 minute each");
  assert.equal(controlWords(""), "Untimed");
});

test("the replay's time per move: from the record's times, the first from the game's creation", () => {
  assert.deepEqual(moveDurations([10.5, 12, 70], 10, 3), [0.5, 1.5, 58]);
  assert.deepEqual(moveDurations(undefined, 10, 2), [null, null]);
  assert.deepEqual(moveDurations([10.5, "x"], 10, 3), [0.5, null, null]);
  assert.equal(durationText(0.46), "0.4 s");
  assert.equal(durationText(12.9), "12 s");
  assert.equal(durationText(65), "1 min 5 s");
  assert.equal(durationText(120), "2 min");
  assert.equal(durationText(null), "");
});

test("a page that no longer follows its game shows the clocks as last told", () => {
  const s = seated({ phase: "replaced", clock: takeClock(RUNNING, 1_000) });
  assert.equal(clockFaces(s, 60_000).red.text, "00:42");
  assert.equal(clockFaces(s, 60_000).red.running, false);
});
