// What the game page tells the player: the one message in the side panel (an
// error, a piece of information, or the result), drawn from the state's
// `message`, and, for screen readers, the lines said through the polite live
// region.

import { ui } from "./elements.js";
import { state } from "./page-state.js";

let drawn = null; // the message on screen

/** The state's message in the side panel (a result with its outcome: a loss plainer than a win). */
export function renderMessage() {
  const message = state.message;
  if (message === drawn) return;
  drawn = message;
  if (!message) {
    ui.message.textContent = "";
    ui.message.dataset.kind = "";
    ui.message.dataset.code = "";
    ui.message.hidden = true;
    return;
  }
  ui.message.textContent = message.text;
  ui.message.dataset.kind = message.kind;
  ui.message.dataset.code = message.code;
  if (message.outcome) ui.message.dataset.outcome = message.outcome;
  else delete ui.message.dataset.outcome;
  ui.message.hidden = false;
}

/** Say `text` through the polite live region; keep the last few lines. */
export function announce(text) {
  if (!text) return;
  const line = document.createElement("p");
  line.textContent = text;
  ui.live.append(line);
  while (ui.live.childElementCount > 8) ui.live.firstElementChild.remove();
}
