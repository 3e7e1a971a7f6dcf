// Display names: checked here as the server checks them, before they are sent.
//
// A name is 1 to 24 characters: letters and digits of any script, and _ ' . -,
// in words separated by single spaces (the server's pattern is
// ^[\w'.-]+( [\w'.-]+)*$). Names from the server are shown with textContent
// only, never as markup.

import { colourName } from "./board.js";

export const NAME_MAX = 24;

const WORD = "[\\p{L}\\p{N}_'.\\-]+";
const PATTERN = new RegExp(`^${WORD}( ${WORD})*$`, "u");
const ALLOWED = /[\p{L}\p{N}_'. -]/u;

/**
 * What the player typed, tidied (trimmed, runs of spaces made one), and
 * whether it can be sent: {name, error}. An empty name is allowed: anonymous.
 */
export function checkName(raw) {
  const name = String(raw ?? "")
    .normalize("NFC")
    .replace(/\s+/gu, " ")
    .trim();
  if (!name) return { name: "", error: "" };
  if (!PATTERN.test(name)) {
    const bad = [...new Set([...name].filter((char) => !ALLOWED.test(char)))].slice(0, 5);
    const shown = bad.map((char) => `“${char}”`).join(" ");
    return {
      name,
      error: `Names can have letters, digits, spaces and _ ' . - only${shown ? `, not ${shown}` : ""}.`,
    };
  }
  const length = [...name].length;
  if (length > NAME_MAX) {
    return { name, error: `Your name is ${length} characters long: ${NAME_MAX} at most, please.` };
  }
  return { name, error: "" };
}

/** A name from the server, if it is a usable string; null otherwise. */
export function nameOf(value) {
  return typeof value === "string" && value.trim() ? value : null;
}

/** The computer's seat, as every page names it: "Computer (level 3)". */
export function computerName(level) {
  return Number.isInteger(level) ? `Computer (level ${level})` : "Computer";
}

/** One player, as the page shows it: a dot of their colour, then the name (as text). */
export function playerChip(player, label, { you = false, testid = true } = {}) {
  const chip = document.createElement("span");
  chip.className = "player";
  chip.dataset.player = player;
  const colour = document.createElement("span");
  colour.className = "visually-hidden";
  colour.textContent = `${colourName(player)}: `;
  const name = document.createElement("span");
  name.className = "player-name";
  name.textContent = label;
  if (testid) name.dataset.testid = `${player}-name`;
  chip.append(colour, name);
  if (you) {
    const tag = document.createElement("span");
    tag.className = "you";
    tag.textContent = " (you)";
    chip.append(tag);
  }
  return chip;
}

/** The " vs " between two players' chips. */
export function versus() {
  const vs = document.createElement("span");
  vs.className = "vs";
  vs.textContent = " vs ";
  return vs;
}
