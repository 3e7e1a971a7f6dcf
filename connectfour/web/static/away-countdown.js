// While the opponent is away, the seconds until the player may claim the win,
// counted down every second from the moment the server gave (game-state.js's
// `claimAt`): a display, not a deadline; the server decides the claim.

import { ui } from "./elements.js";
import { claimCountdown } from "./game-state.js";
import { state } from "./page-state.js";
import { claimText } from "./status-text.js";

let ticker = null;

export function renderClaimCountdown() {
  const seconds = state.phase === "seated" ? claimCountdown(state) : null;
  ui.claimCountdown.hidden = seconds === null;
  if (seconds !== null) {
    const text = claimText(seconds);
    if (ui.claimCountdown.textContent !== text) ui.claimCountdown.textContent = text;
  }
  if (seconds !== null && ticker === null) {
    ticker = setInterval(renderClaimCountdown, 1000);
  } else if (seconds === null && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}
