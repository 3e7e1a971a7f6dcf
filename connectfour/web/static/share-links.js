// The invite and watch links a host shares: shown while the game is on
// screen (the invite until someone takes the seat), each with a Copy button
// that falls back to selecting the text where the clipboard is refused.

import { shareLinks } from "./controls.js";
import { ui } from "./elements.js";
import { state } from "./page-state.js";
import { announce } from "./messages.js";

export function renderShare() {
  const links = shareLinks(state, window.location.origin);
  ui.share.hidden = !links.shown;
  ui.invite.hidden = !links.invite;
  ui.watch.hidden = !links.watch;
  ui.share.classList.toggle("waiting", links.invite);
  ui.share.classList.toggle("compact", links.compact);
  const copyWatch = ui.share.querySelector("[data-copy='watch-link']");
  if (copyWatch.dataset.copied === undefined) copyWatch.textContent = links.compact ? "Copy watch link" : "Copy";
  if (ui.inviteLink.value !== links.inviteUrl) ui.inviteLink.value = links.inviteUrl;
  if (ui.watchLink.value !== links.watchUrl) ui.watchLink.value = links.watchUrl;
}

async function copyLink(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !input.value) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    // No clipboard API (not a secure context) or permission denied.
  }
  if (!copied) {
    input.focus();
    input.select();
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = copied ? "Copied" : "Press Ctrl+C";
  button.dataset.copied = String(copied);
  if (copied) announce(input.id === "invite-link" ? "Invite link copied" : "Watch link copied");
  clearTimeout(button.restore);
  button.restore = setTimeout(() => {
    button.textContent = label;
    delete button.dataset.copied;
  }, 2500);
}

/** The Copy buttons, and a link's whole text selected when its field takes the focus. */
export function bindShareLinks() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copyLink(button));
  }
  for (const input of [ui.inviteLink, ui.watchLink]) {
    input.addEventListener("focus", () => input.select());
  }
}
