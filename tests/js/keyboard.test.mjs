// The keyboard's keys on the board: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { keyAction } from "../../connectfour/web/static/keyboard.js";

test("a digit plays its column", () => {
  assert.deepEqual(keyAction("1", 3, false), { cursor: 0, move: true, play: true });
  assert.deepEqual(keyAction("7", 3, true), { cursor: 6, move: true, play: true });
  assert.equal(keyAction("8", 3, false), null);
  assert.equal(keyAction("0", 3, false), null);
});

test("the arrows move the cursor and stop at the edges", () => {
  assert.deepEqual(keyAction("ArrowLeft", 3, false), { cursor: 2, move: true, play: false });
  assert.deepEqual(keyAction("ArrowRight", 6, false), { cursor: 6, move: true, play: false });
  assert.deepEqual(keyAction("ArrowLeft", 0, true), { cursor: 0, move: true, play: false });
});

test("Home and End go to the first and last columns, but not on a button or a link", () => {
  assert.deepEqual(keyAction("Home", 4, false), { cursor: 0, move: true, play: false });
  assert.deepEqual(keyAction("End", 4, false), { cursor: 6, move: true, play: false });
  assert.equal(keyAction("Home", 4, true), null);
});

test("Enter and Space play the cursor's column, but press a focused button instead", () => {
  assert.deepEqual(keyAction("Enter", 4, false), { cursor: 4, move: false, play: true });
  assert.deepEqual(keyAction(" ", 2, false), { cursor: 2, move: false, play: true });
  assert.equal(keyAction("Enter", 4, true), null);
  assert.equal(keyAction("a", 4, false), null);
});
