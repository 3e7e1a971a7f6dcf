// The game's controls, as controls.js decides them: resign (with its
// confirmation), claim, the next steps after a game, and the quick match's
// wait with its Cancel button.

import { actions, matchingNotice } from "./controls.js";
import { ui } from "./elements.js";
import { state } from "./page-state.js";

export function renderActions() {
  const shown = actions(state);

  ui.controls.hidden = !shown.controls;
  ui.resign.hidden = !shown.resign;
  ui.resign.disabled = !shown.live;
  ui.resignPanel.hidden = !shown.resignPanel;
  ui.resignConfirm.disabled = !shown.live;
  ui.resignQuestion.textContent = shown.resignQuestion;

  // Claim the win over an opponent gone for longer than the grace period.
  ui.claimPanel.hidden = !shown.claim;
  ui.claim.disabled = !shown.live;

  // After the end: rematch, replay, a new game.
  ui.nextSteps.hidden = !shown.nextSteps;
  ui.takeOver.hidden = !shown.takeOver;
  ui.watchInstead.hidden = !shown.watchInstead;
  if (shown.watchLink) ui.watchInstead.href = shown.watchLink;

  ui.rematch.hidden = shown.rematch === null;
  if (shown.rematch) {
    ui.rematch.textContent = shown.rematch.text;
    ui.rematch.disabled = shown.rematch.disabled;
    ui.rematch.dataset.offered = String(shown.rematch.offered);
  }
  ui.rematchStatus.textContent = shown.rematchNote;
  ui.rematchStatus.hidden = !shown.rematchNote;

  ui.replayLink.hidden = shown.replay === null;
  if (shown.replay) ui.replayLink.href = shown.replay;
  ui.startNew.classList.toggle("primary", shown.startNewPrimary);
  ui.startNew.classList.toggle("secondary", !shown.startNewPrimary);
}

/** Waiting for a quick match: say so, and offer to stop. */
export function renderMatching() {
  const notice = matchingNotice(state);
  ui.matching.hidden = notice === null;
  if (notice === null) return;
  if (ui.matchingText.textContent !== notice.text) ui.matchingText.textContent = notice.text;
  ui.cancelMatch.disabled = !notice.canCancel;
}
