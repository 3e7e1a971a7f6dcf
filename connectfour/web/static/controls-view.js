// The game's controls, as controls.js decides them: resign (with its
// confirmation), claim, offering a draw and taking a move back (and the
// panels that answer the opponent's), the next steps after a game, and the
// quick match's wait with its Cancel button.

import { actions, matchingNotice, offerControls } from "./controls.js";
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
  renderOffers();
}

/** Offer draw and Takeback beside Resign, and the opponent's offer or request with Accept and Decline. */
function renderOffers() {
  const focused = document.activeElement;
  const shown = offerControls(state);
  showButton(ui.offerDraw, shown.draw);
  showButton(ui.takeback, shown.takeback);
  showAnswer(ui.drawAnswer, ui.drawAnswerText, [ui.acceptDraw, ui.declineDraw], shown.drawAnswer);
  showAnswer(ui.takebackAnswer, ui.takebackAnswerText, [ui.acceptTakeback, ui.declineTakeback], shown.takebackAnswer);
  // A button that went away (an answer given, an offer made) hands the keyboard to the board.
  const lost = focused instanceof HTMLButtonElement && (focused.disabled || !focused.checkVisibility());
  if (lost && focused.closest(".controls, .offer") && !ui.board.hidden) ui.board.focus({ preventScroll: true });
}

function showButton(button, control) {
  button.hidden = control === null;
  if (control === null) return;
  if (button.textContent !== control.text) button.textContent = control.text;
  button.disabled = control.disabled;
  button.dataset.offered = String(control.offered);
}

function showAnswer(panel, text, buttons, answer) {
  panel.hidden = answer === null;
  if (answer === null) return;
  if (text.textContent !== answer.text) text.textContent = answer.text;
  for (const button of buttons) {
    button.hidden = !answer.canAnswer;
    button.disabled = answer.disabled;
  }
}

/** Waiting for a quick match: say so, and offer to stop. */
export function renderMatching() {
  const notice = matchingNotice(state);
  ui.matching.hidden = notice === null;
  if (notice === null) return;
  if (ui.matchingText.textContent !== notice.text) ui.matchingText.textContent = notice.text;
  ui.cancelMatch.disabled = !notice.canCancel;
}
