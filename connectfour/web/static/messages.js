// What the game page tells the player: the one message in the side panel
// (an error, a piece of information, or the result) and, for screen
// readers, the lines said through the polite live region.

import { ui } from "./elements.js";
import { outcome, state } from "./game-state.js";
import { resultText } from "./status-text.js";

export function showMessage(text, { kind = "error", code = "" } = {}) {
  state.message = { text, kind, code };
  ui.message.textContent = text;
  ui.message.dataset.kind = kind;
  ui.message.dataset.code = code;
  delete ui.message.dataset.outcome;
  ui.message.hidden = false;
}

export function clearMessage() {
  state.message = null;
  ui.message.textContent = "";
  ui.message.dataset.kind = "";
  ui.message.dataset.code = "";
  ui.message.hidden = true;
}

/** The result, once the game is over, as the message (a loss plainer than a win). */
export function showResult() {
  const text = resultText(state);
  if (!text) return;
  showMessage(text, { kind: "result", code: state.status === "won" ? "win" : state.status });
  ui.message.dataset.outcome = outcome(state);
}

/** Say `text` through the polite live region; keep the last few lines. */
export function announce(text) {
  if (!text) return;
  const line = document.createElement("p");
  line.textContent = text;
  ui.live.append(line);
  while (ui.live.childElementCount > 8) ui.live.firstElementChild.remove();
}
