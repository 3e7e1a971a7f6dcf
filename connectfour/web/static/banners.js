// The notices over the game: the connection banner while the connection is
// down (the attempt, and the seconds to the next one), and a word from the
// operators across the top of the page, which a restart's return takes away
// and any other stays until dismissed.

import { ui } from "./elements.js";
import { state } from "./page-state.js";
import { bannerText } from "./status-text.js";

export function renderBanner() {
  const down = state.phase === "reconnecting" || (state.phase === "connecting" && state.attempt > 0);
  ui.banner.hidden = !down;
  ui.game.dataset.connection = down ? "down" : "up";
  if (!down) return;
  const text = bannerText(state);
  if (ui.bannerText.textContent !== text) ui.bannerText.textContent = text;
  ui.banner.dataset.attempt = String(state.attempt);
  ui.retryNow.hidden = state.retryAt === null;
}

/** While a retry waits, count the seconds down. */
let ticker = null;
export function countDownRetry() {
  if (ticker !== null) return;
  ticker = setInterval(() => {
    if (state.phase !== "reconnecting" && state.phase !== "connecting") {
      clearInterval(ticker);
      ticker = null;
      return;
    }
    renderBanner();
  }, 250);
}

/** A word from the operators, as text (never markup); `restart`: it explains the outage to come. */
export function showAnnouncement({ message, level, restart }) {
  ui.announcementText.textContent = message;
  ui.announcement.dataset.level = level === "warning" ? "warning" : "info";
  ui.announcement.hidden = false;
  ui.announcement.dataset.restart = String(restart === true);
}

/** The restart is over: its notice goes (any other word from the operators stays until dismissed). */
export function hideRestartNotice() {
  if (ui.announcement.dataset.restart === "true") ui.announcement.hidden = true;
}

export function bindDismiss() {
  ui.dismissAnnouncement.addEventListener("click", () => {
    ui.announcement.hidden = true;
  });
}
