// The player's name on the landing page: the field, checked as the server
// checks names (names.js) when a game is asked for, and remembered in this
// browser (storage.js) for the next game and the next visit.

import { ui } from "./elements.js";
import { announce } from "./messages.js";
import { checkName } from "./names.js";
import * as saved from "./storage.js";

function showNameError(text) {
  ui.nameError.textContent = text;
  ui.nameError.hidden = !text;
  if (text) {
    ui.nameInput.setAttribute("aria-invalid", "true");
    ui.nameInput.setAttribute("aria-describedby", "name-error name-help");
  } else {
    ui.nameInput.removeAttribute("aria-invalid");
    ui.nameInput.setAttribute("aria-describedby", "name-help");
  }
}

/** The name in the field, tidied and remembered; null (and a message by the field) if it cannot be used. */
export function chosenName() {
  const { name, error } = checkName(ui.nameInput.value);
  if (error) {
    showNameError(error);
    announce(error);
    ui.nameInput.focus();
    return null;
  }
  showNameError("");
  if (ui.nameInput.value !== name) ui.nameInput.value = name;
  saved.savePlayerName(name);
  return name;
}

/** The remembered name, if it is still one the server takes. */
export function savedName() {
  const { name, error } = checkName(saved.playerName());
  return error ? "" : name;
}

/** The first frame `hello`, with the player's name when there is one. */
export function named(hello, name) {
  return name ? { ...hello, name } : hello;
}

/** The field, filled with the remembered name; its problems shown as described below. */
export function bindNameField() {
  ui.nameInput.value = savedName();
  // A problem shows when a game is asked for (Enter, or a button), not on leaving the
  // field: a message appearing then would move the button under the pointer. Once
  // shown, it follows the typing and goes as soon as the name is fixed.
  ui.nameInput.addEventListener("input", () => {
    if (!ui.nameError.hidden) showNameError(checkName(ui.nameInput.value).error);
  });
  ui.nameInput.addEventListener("change", () => {
    const { name, error } = checkName(ui.nameInput.value);
    if (!error) saved.savePlayerName(name);
  });
  ui.nameInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      if (chosenName() !== null) announce("Name saved.");
    }
  });
}
