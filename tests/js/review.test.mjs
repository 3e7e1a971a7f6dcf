// The evaluation over a game, from the server's answers: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { evaluations, moveWords, pointHeight, pointWords, shortWords, throwaways } from "../../connectfour/web/static/review.js";

// Answers shaped as /api/analysis gives them: `score` for the side to move,
// `columns[c]` the value of playing c for that side.
const value = (score, inMoves = 5) => ({ score, result: score > 0 ? "win" : score < 0 ? "loss" : "draw", in: inMoves });
const answer = (score, columns) => ({ score, best: [columns.indexOf(Math.max(...columns))], columns: columns.map((s) => value(s)) });

// Red plays column 1 (a losing move from a won start), yellow column 2, red column 1.
const moves = [0, 1, 0];
const answers = [
  answer(1, [-2, -1, 0, 1, 0, -1, -2]), // red to move, red wins (column 4)
  answer(2, [1, 0, 1, 2, 1, 1, 1]), // yellow to move after red's mistake: yellow wins
  answer(0, [0, -3, 0, 0, 0, 0, 0]), // red to move after yellow let it go: a draw
];

test("each position's value is told for red, the empty board's from its own answer", () => {
  const points = evaluations(moves, answers);
  assert.equal(points.length, 4);
  assert.deepEqual(points[0], { score: 1, winner: "red", in: 5 });
  assert.equal(points[1].winner, "yellow"); // red's column 1 scored -2 for red
  assert.equal(points[2].winner, null); // yellow's column 2 drew: a draw
  assert.equal(points[3].winner, null);
});

test("positions not fetched yet have no value", () => {
  assert.deepEqual(evaluations(moves, [answers[0]]).slice(2), [null, null]);
});

test("a move from a won position to a lost or drawn one threw away a win", () => {
  assert.deepEqual(throwaways(moves, answers), [
    { ply: 1, player: "red", column: 0, lost: "win" },
    { ply: 2, player: "yellow", column: 1, lost: "win" },
  ]);
});

test("a move from a drawn position to a lost one threw away the draw", () => {
  const drawn = [answer(0, [-1, 0, 0, 0, 0, 0, 0])];
  assert.deepEqual(throwaways([0], drawn), [{ ply: 1, player: "red", column: 0, lost: "draw" }]);
});

test("a sooner win stands taller in the chart, a draw on the midline", () => {
  assert.equal(pointHeight({ score: 0, winner: null }), 0);
  assert.ok(pointHeight({ score: 18, winner: "red" }) > pointHeight({ score: 1, winner: "red" }));
  assert.ok(pointHeight({ score: -1, winner: "yellow" }) < 0);
  assert.equal(pointHeight(null), 0);
});

test("points and moves read as words", () => {
  assert.equal(pointWords({ score: -3, winner: "yellow" }), "Yellow wins with best play");
  assert.equal(pointWords({ score: 0, winner: null }), "a draw with best play");
  assert.equal(moveWords([3, 2], 2), "Yellow, column 3");
});

test("a move that wins at once connects four", () => {
  const won = [{ score: 2, best: [0], columns: [{ score: 20, result: "win", in: 1 }] }];
  assert.equal(pointWords(evaluations([0], won)[1]), "Red connects four");
});

test("the move list's notes are short", () => {
  assert.equal(shortWords({ score: -3, winner: "yellow" }), "Yellow wins");
  assert.equal(shortWords({ score: 0, winner: null }), "Draw");
  assert.equal(shortWords({ score: 20, winner: "red", four: true }), "Red connects four");
});
