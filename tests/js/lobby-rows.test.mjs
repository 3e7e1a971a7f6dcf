// The lobby's rows: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { count, gameEntries, lobbyCounts, moreText, playingRow, waitingRow } from "../../connectfour/web/static/lobby-rows.js";

test("counts are whole numbers, anything else is none", () => {
  assert.deepEqual([3, 0, -1, 2.5, "4", null].map(count), [3, 0, 0, 0, 0, 0]);
});

test("the counts line says players in the singular for one", () => {
  assert.deepEqual(lobbyCounts({ online: 1, seeking: 0 }), { online: 1, seeking: 0, onlineText: "1 player online", seekingText: "0 looking for a game" });
  assert.equal(lobbyCounts({ online: 5 }).onlineText, "5 players online");
});

test("only entries naming a game are listed", () => {
  assert.deepEqual(gameEntries([{ game: "a" }, null, { game: 3 }, {}]), [{ game: "a" }]);
  assert.deepEqual(gameEntries(undefined), []);
});

test("a waiting game offers the other colour to whoever joins", () => {
  const row = waitingRow({ game: "g", join: "k/1", color: "yellow", name: "Ada" });
  assert.deepEqual(row, {
    href: "/?join=k%2F1",
    testid: "waiting-game",
    game: "g",
    players: [{ player: "yellow", name: "Ada" }],
    detail: "plays Yellow",
    action: "Join as Red",
  });
  assert.equal(waitingRow({ game: "g", join: "k" }).players[0].name, "Anonymous");
  assert.equal(waitingRow({ game: "g", join: "" }), null);
});

test("a game being played names both players, its moves and its spectators", () => {
  const row = playingRow({ game: "g", watch: "w", red: "Ada", ply: 1, spectators: 0 });
  assert.equal(row.href, "/?watch=w");
  assert.deepEqual(row.players, [
    { player: "red", name: "Ada" },
    { player: "yellow", name: "Anonymous" },
  ]);
  assert.equal(row.detail, "1 move · no spectators");
  assert.equal(playingRow({ game: "g", watch: "w", ply: 12, spectators: 2 }).detail, "12 moves · 2 watching");
  assert.equal(playingRow({ game: "g" }), null);
});

test("a list cut short says how many more there are", () => {
  assert.equal(moreText(25, 20), "and 5 more");
  assert.equal(moreText(20, 20), "");
  assert.equal(moreText(undefined, 3), "");
});
