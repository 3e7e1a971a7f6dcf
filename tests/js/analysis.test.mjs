// The analysis in words: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { columnWords, headline, ordinal } from "../../connectfour/web/static/analysis.js";

const win = (n) => ({ result: "win", in: n, score: 1 });
const loss = (n) => ({ result: "loss", in: n, score: -1 });
const draw = { result: "draw", in: 0, score: 0 };

test("ordinals read as English", () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map(ordinal), [
    "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
  ]);
});

test("a winning column says who wins and with which of its moves", () => {
  assert.deepEqual(columnWords(win(3), 3, "red"), {
    result: "win",
    verdict: "Win",
    when: "move 3",
    sentence: "Column 4: Red wins with its 3rd move",
  });
});

test("a losing column names the opponent as the winner", () => {
  assert.equal(columnWords(loss(20), 0, "yellow").sentence, "Column 1: Red wins with its 20th move");
});

test("a full column is full", () => {
  assert.equal(columnWords(null, 6, "red").verdict, "Full");
});

test("a won position says who wins, when, and how", () => {
  const answer = { best: [3], columns: [loss(20), loss(20), draw, win(21), draw, loss(20), loss(20)] };
  assert.equal(headline(answer, "red"), "Red to play. Red wins with its 21st move from here, playing column 4.");
});

test("a lost position says the opponent wins whatever is played, and what holds out longest", () => {
  const answer = { best: [2, 4], columns: [loss(3), loss(3), loss(9), loss(2), loss(9), loss(3), null] };
  assert.equal(
    headline(answer, "yellow"),
    "Yellow to play. Red wins with its 9th move from here, whatever Yellow plays; column 3 or 5 holds out longest.",
  );
});

test("a drawn position says so, and that the other moves lose", () => {
  const answer = { best: [3], columns: [loss(5), loss(5), loss(5), draw, loss(5), loss(5), loss(5)] };
  assert.equal(headline(answer, "red"), "Red to play. A draw with best play, playing column 4; other moves lose.");
});

test("no word of the old notation is left", () => {
  const answer = { best: [3], columns: [loss(20), loss(20), draw, win(21), draw, loss(20), loss(20)] };
  assert.doesNotMatch(headline(answer, "red"), /Best:|in \d+\)/);
});
