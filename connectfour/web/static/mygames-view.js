// "My games" on the landing page: this browser's games, newest first, each a
// row as mygames.js describes it, linking back to the game (resume or replay).

import { ui } from "./elements.js";
import { describe } from "./mygames.js";
import { myGames } from "./storage.js";

export function renderMyGames() {
  const rows = myGames().map((entry) => gameRow(describe(entry)));
  ui.myGamesList.replaceChildren(...rows);
  ui.myGamesList.hidden = rows.length === 0;
  ui.myGamesEmpty.hidden = rows.length > 0;
}

function gameRow(row) {
  const item = document.createElement("li");
  const link = document.createElement(row.href ? "a" : "div");
  link.className = "game-row";
  if (row.href) link.href = row.href;
  link.dataset.testid = "my-game";
  link.dataset.game = row.game;
  link.dataset.outcome = row.outcome;
  const who = document.createElement("span");
  who.className = "game-players";
  const result = document.createElement("span");
  result.className = "result";
  result.textContent = row.result;
  const opponent = document.createElement("span");
  opponent.className = "opponent";
  opponent.textContent = row.opponent === "On this device" ? row.opponent : `vs ${row.opponent}`;
  who.append(result, " ", opponent);
  const detail = document.createElement("span");
  detail.className = "game-detail";
  detail.textContent = row.detail;
  link.append(who, detail);
  if (row.action) {
    const go = document.createElement("span");
    go.className = "game-action";
    go.textContent = row.action;
    link.append(go);
  }
  item.append(link);
  return item;
}
