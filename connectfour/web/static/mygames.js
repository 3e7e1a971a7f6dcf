// "My games": the games this browser played, from what it noted of each
// (storage.js): how each ended for this player, against whom, when, and a
// link back to it, to resume a game still going or to replay a finished one.
//
// There are no accounts: the list lives in this browser's storage, so
// another browser or device has its own list, and clearing the site's data
// forgets it.

import { computerName } from "./names.js";

const FINISHED = ["won", "draw", "abandoned"];

/** For the player who was `you`: {outcome, text}: win / loss / draw / abandoned / playing / waiting. */
export function resultOf(note) {
  switch (note.status) {
    case "won":
      if (note.you === "both") return { outcome: "neutral", text: `${note.winner === "red" ? "Red" : "Yellow"} won` };
      return note.winner === note.you ? { outcome: "win", text: "You won" } : { outcome: "loss", text: "You lost" };
    case "draw":
      return { outcome: "draw", text: "Draw" };
    case "abandoned":
      return { outcome: "neutral", text: note.reason === "aborted" ? "Aborted" : "Abandoned" };
    case "waiting":
      return { outcome: "going", text: "Waiting for an opponent" };
    default:
      return { outcome: "going", text: "In progress" };
  }
}

/** Who this player played: "Bea", "Computer (level 2)", "Anonymous", or the same-device note. */
export function opponentOf(note) {
  if (note.you === "both") return "On this device";
  const other = note.you === "red" ? "yellow" : "red";
  if (note.computer === other) return computerName(note.level);
  return note.names?.[other] ?? (note.status === "waiting" ? "Nobody yet" : "Anonymous");
}

/** "Mar 3, 2025, 14:05" in the browser's language, or "" for no date. */
export function dateText(ms, locale = undefined) {
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** One row of "My games": everything it shows, and where its link goes. */
export function describe(entry, locale = undefined) {
  const finished = FINISHED.includes(entry.status);
  const result = resultOf(entry);
  const moves = `${entry.moves} ${entry.moves === 1 ? "move" : "moves"}`;
  const colour = entry.you === "red" ? "Red" : entry.you === "yellow" ? "Yellow" : null;
  const detail = [colour ? `you played ${colour}` : null, moves, dateText(entry.started, locale)].filter(Boolean);
  const id = encodeURIComponent(entry.game);
  let href = null;
  let action = null;
  if (finished) {
    href = `/game/${id}`;
    action = "Replay";
  } else if (entry.seat) {
    href = `/?game=${id}`;
    action = "Resume";
  }
  return { game: entry.game, outcome: result.outcome, result: result.text, opponent: opponentOf(entry), detail: detail.join(" · "), href, action };
}
