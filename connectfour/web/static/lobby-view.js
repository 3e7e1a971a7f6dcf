// The lobby on the landing page: who is online, the games waiting for a
// guest and those being played (rows from lobby-rows.js), and a line when
// the landing page's connection is down or refused.

import { ui } from "./elements.js";
import { state } from "./page-state.js";
import { gameEntries, lobbyCounts, moreText, playingRow, waitingRow } from "./lobby-rows.js";
import { playerChip, versus } from "./names.js";
import { lobbyStatusText } from "./status-text.js";

/** The landing page's connection: down, or refused. */
export function renderLobbyStatus() {
  if (state.phase !== "landing") return;
  ui.lobby.dataset.connection = state.lobbyDown ? "down" : "up";
  const text = lobbyStatusText(state);
  if (ui.lobbyStatus.textContent !== text) ui.lobbyStatus.textContent = text;
  ui.lobbyStatus.hidden = !text;
}

/** The lobby, whole: counts and the two lists. */
export function renderLobby() {
  const lobby = state.lobby;
  if (!lobby) return;
  const counts = lobbyCounts(lobby);
  ui.onlineCount.textContent = counts.onlineText;
  ui.seekingCount.textContent = counts.seekingText;
  ui.lobbySep.hidden = false;
  ui.lobby.dataset.online = String(counts.online);
  ui.lobby.dataset.seeking = String(counts.seeking);
  renderGameList(ui.waitingList, ui.waitingEmpty, ui.waitingMore, lobby.waiting, lobby.waiting_total, waitingRow);
  renderGameList(ui.playingList, ui.playingEmpty, ui.playingMore, lobby.playing, lobby.playing_total, playingRow);
}

/** One list, rebuilt whole; a row that had the focus keeps it (or the lobby takes it). */
function renderGameList(list, empty, more, entries, total, describe) {
  const focused = document.activeElement;
  const focusedGame = focused instanceof HTMLElement && list.contains(focused) ? focused.dataset.game : null;
  const items = gameEntries(entries).map(describe).filter(Boolean).map(gameRow);
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
  empty.hidden = items.length > 0;
  const rest = moreText(total, items.length);
  more.hidden = !rest;
  more.textContent = rest;
  if (focusedGame !== null) {
    const again = [...list.querySelectorAll("a")].find((link) => link.dataset.game === focusedGame);
    (again ?? ui.lobby).focus({ preventScroll: true });
  }
}

/** A row: a link to the game, with its players, a detail and what the link does. */
function gameRow(row) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.className = "game-row";
  link.href = row.href;
  link.dataset.testid = row.testid;
  link.dataset.game = row.game;
  const who = document.createElement("span");
  who.className = "game-players";
  for (const [index, { player, name }] of row.players.entries()) {
    if (index > 0) who.append(versus());
    who.append(playerChip(player, name, { testid: false }));
  }
  const detail = document.createElement("span");
  detail.className = "game-detail";
  detail.textContent = row.detail;
  const go = document.createElement("span");
  go.className = "game-action";
  go.textContent = row.action;
  link.append(who, detail, go);
  item.append(link);
  return item;
}
