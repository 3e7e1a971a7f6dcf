// What the game page says in words: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { createState } from "../../connectfour/web/static/game-state.js";
import {
  bannerText,
  boardLabel,
  lobbyStatusText,
  moveText,
  pageTitle,
  presenceText,
  rematchNews,
  rematchText,
  resignQuestion,
  resultText,
  roleText,
  seatNote,
  sentence,
  turnText,
} from "../../connectfour/web/static/status-text.js";

function page(fields = {}) {
  return Object.assign(createState(), { phase: "seated", hasBoard: true, you: "red", status: "playing", turn: "red", ...fields });
}

test("the role says who this page plays", () => {
  assert.equal(roleText(page()), "You are Red");
  assert.equal(roleText(page({ you: "both" })), "Playing on this device");
  assert.equal(roleText(page({ you: "spectator" })), "Spectator");
  assert.equal(roleText(page({ you: null })), "");
});

test("the turn line follows the connection first, then the game", () => {
  assert.equal(turnText(page({ phase: "connecting" })), "Connecting…");
  assert.equal(turnText(page({ phase: "connecting", matching: true })), "Finding an opponent…");
  assert.equal(turnText(page({ phase: "reconnecting" })), "Reconnecting…");
  assert.equal(turnText(page({ phase: "failed" })), "No game");
  assert.equal(turnText(page({ phase: "replaced" })), "Open in another tab");
  assert.equal(turnText(page({ phase: "ended", hasBoard: false })), "Game over");
  assert.equal(turnText(page()), "Your turn");
  assert.equal(turnText(page({ turn: "yellow" })), "Opponent's turn");
  assert.equal(turnText(page({ turn: "yellow", computer: "yellow" })), "The computer is thinking…");
  assert.equal(turnText(page({ you: "spectator", turn: "yellow" })), "Yellow to play");
  assert.equal(turnText(page({ status: "waiting" })), "Waiting for an opponent…");
  assert.equal(turnText(page({ status: "waiting", match: true })), "Finding an opponent…");
});

test("the end, from each side", () => {
  const won = { status: "won", winner: "red", turn: null };
  assert.equal(turnText(page(won)), "You win!");
  assert.equal(turnText(page({ ...won, you: "yellow" })), "You lose: Red wins");
  assert.equal(turnText(page({ ...won, you: "yellow", reason: "resign" })), "You resigned");
  assert.equal(turnText(page({ ...won, you: "spectator" })), "Red wins!");
  assert.equal(turnText(page({ status: "draw" })), "Draw: the board is full");
  assert.equal(resultText(page({ ...won, reason: "resign" })), "Yellow resigned — Red wins");
  assert.equal(resultText(page({ ...won, reason: "claim" })), "Red wins: opponent left");
  assert.equal(resultText(page({ status: "abandoned" })), "The game was abandoned.");
  assert.equal(resultText(page()), "");
});

test("the presence line: the opponent's news for a player, both seats for a spectator, and who watches", () => {
  assert.equal(presenceText(page({ opponentNote: "Opponent joined", spectators: 2 })), "Opponent joined · 2 watching");
  const watcher = page({ you: "spectator", red: "gone", yellow: "disconnected", opponentNote: "ignored" });
  assert.equal(presenceText(watcher), "Red left · Yellow disconnected");
  assert.equal(presenceText(page({ status: "won", spectators: 3 })), "");
});

test("news of the opponent's seat depends on what it was", () => {
  assert.equal(seatNote("connected", "empty", false), "Opponent joined");
  assert.equal(seatNote("connected", "empty", true), "Opponent found");
  assert.equal(seatNote("connected", "gone", false), "Opponent reconnected");
  assert.equal(seatNote("connected", null, false), "");
  assert.equal(seatNote("disconnected", "connected", false), "Opponent disconnected");
  assert.equal(seatNote("gone", "disconnected", false), "Opponent left");
});

test("the rematch, as each side sees it", () => {
  assert.equal(rematchText(page({ offers: new Set(["red"]) })), "Rematch offered — waiting for your opponent");
  assert.equal(rematchText(page({ offers: new Set(["yellow"]) })), "Your opponent wants a rematch");
  assert.equal(rematchText(page({ you: "spectator", offers: new Set(["yellow", "red"]) })), "Yellow wants a rematch · Red wants a rematch");
  assert.equal(rematchNews("yellow"), "Rematch! Colours swapped: you are Yellow now.");
  assert.equal(rematchNews("spectator"), "Rematch! A new game has started.");
});

test("resigning on a shared device is for the side to move", () => {
  assert.equal(resignQuestion(page({ you: "both", turn: "yellow" })), "Resign for Yellow? Red wins.");
  assert.equal(resignQuestion(page()), "Resign this game? Your opponent wins.");
});

test("the banner counts the attempts and the seconds to the next", () => {
  const down = page({ phase: "reconnecting", everSeated: true, attempt: 2, retryAt: 10_500 });
  assert.equal(bannerText(down, 8_000), "Reconnecting… attempt 2, retrying in 3 s");
  assert.equal(bannerText({ ...down, retryAt: null }, 8_000), "Reconnecting… attempt 2");
  assert.equal(bannerText({ ...down, retryAt: 8_100 }, 8_000), "Reconnecting… attempt 2, retrying in 1 s");
  assert.equal(bannerText({ ...down, everSeated: false, retryAt: null }), "Cannot reach the server. Reconnecting… attempt 2");
  assert.equal(bannerText({ ...down, restarting: true, retryAt: null }), "Server restarting, reconnecting… attempt 2");
});

test("the lobby's line says why it is not up to date", () => {
  assert.equal(lobbyStatusText(createState()), "");
  assert.equal(lobbyStatusText({ ...createState(), lobbyError: "Too many connections." }), "Too many connections.");
  assert.equal(lobbyStatusText({ ...createState(), lobbyDown: true, lobbyError: "x" }), "Cannot reach the server. Reconnecting…");
});

test("the board's label and the tab's title follow the game", () => {
  assert.equal(boardLabel(page({ moves: [3] }), "Opponent's turn"), "Board, 1 move played. Opponent's turn");
  assert.equal(boardLabel(page({ moves: [3, 3, 4], reviewPly: 2 }), "You win!"), "Board after move 2 of 3. You win!");
  assert.equal(pageTitle(page(), "Your turn"), "Your turn · Connect Four");
  assert.equal(pageTitle(page({ phase: "landing" }), "Your turn"), "Connect Four");
});

test("moves and sentences read as English", () => {
  assert.equal(moveText(0, 3), "Red, column 4");
  assert.equal(moveText(1, 0), "Yellow, column 1");
  assert.equal(sentence("You are Red", "Your turn"), "You are Red. Your turn.");
  assert.equal(sentence("Spectator", "", "Red wins!"), "Spectator. Red wins!");
});
