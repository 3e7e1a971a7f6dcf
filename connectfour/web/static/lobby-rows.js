// The lobby, as the landing page lists it, decided from the server's lobby
// event alone: the counts, and one row per game to join or to watch (a timed
// one's control first in its detail). The
// server's values are checked here (a count that is not one is 0, a game
// without a key is left out); lobby-view.js makes the elements.

import { colourName } from "./board.js";
import { controlName } from "./clocks.js";
import { nameOf } from "./names.js";

/** A count from the server: a whole number, or 0. */
export function count(value) {
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The line above the lists: {online, seeking, onlineText, seekingText}. */
export function lobbyCounts(lobby) {
  const online = count(lobby.online);
  const seeking = count(lobby.seeking);
  return {
    online,
    seeking,
    onlineText: `${online} ${online === 1 ? "player" : "players"} online`,
    seekingText: `${seeking} looking for a game`,
  };
}

/** The entries of one list that name a game. */
export function gameEntries(entries) {
  return Array.isArray(entries) ? entries.filter((entry) => entry && typeof entry.game === "string") : [];
}

/**
 * A game waiting for a guest: {href, testid, game, players: [{player, name}],
 * detail, action}, or null without an invite to give.
 */
export function waitingRow(entry) {
  if (typeof entry.join !== "string" || !entry.join) return null;
  const host = entry.color === "yellow" ? "yellow" : "red";
  const guest = host === "red" ? "yellow" : "red";
  return {
    href: `/?join=${encodeURIComponent(entry.join)}`,
    testid: "waiting-game",
    game: entry.game,
    players: [{ player: host, name: nameOf(entry.name) ?? "Anonymous" }],
    detail: timedDetail(entry, `plays ${colourName(host)}`),
    action: `Join as ${colourName(guest)}`,
  };
}

/** A game being played: as `waitingRow`, both players named; null without a watch key. */
export function playingRow(entry) {
  if (typeof entry.watch !== "string" || !entry.watch) return null;
  const moves = count(entry.ply);
  const watching = count(entry.spectators);
  return {
    href: `/?watch=${encodeURIComponent(entry.watch)}`,
    testid: "playing-game",
    game: entry.game,
    players: [
      { player: "red", name: nameOf(entry.red) ?? "Anonymous" },
      { player: "yellow", name: nameOf(entry.yellow) ?? "Anonymous" },
    ],
    detail: timedDetail(entry, `${moves} ${moves === 1 ? "move" : "moves"} · ${watching ? `${watching} watching` : "no spectators"}`),
    action: "Watch",
  };
}

/** A row's detail, after the game's time control when it is timed: "3+2 · plays Red". */
function timedDetail(entry, detail) {
  const control = controlName(entry.clock);
  return control ? `${control} · ${detail}` : detail;
}

/** "and 3 more" under a list showing `shown` of `total` games; "" when it shows them all. */
export function moreText(total, shown) {
  const rest = Math.max(0, count(total) - shown);
  return rest ? `and ${rest} more` : "";
}
