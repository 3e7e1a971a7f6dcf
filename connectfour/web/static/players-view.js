// Who plays, beside the presence line: both players' names (or Anonymous,
// or the computer), this page's own seat marked, as controls.js lists them;
// in a timed game each with its clock (clock-view.js draws them).

import { clockFace } from "./clock-view.js";
import { playerList } from "./controls.js";
import { ui } from "./elements.js";
import { state } from "./page-state.js";
import { playerChip, versus } from "./names.js";

export function renderPlayers() {
  const list = playerList(state);
  ui.players.hidden = !list.shown;
  if (!list.shown) {
    if (ui.players.childElementCount) ui.players.replaceChildren();
    ui.players.dataset.key = ""; // drawn anew when shown again
    return;
  }
  const timed = state.clock !== null;
  const chips = list.players.map(({ player, label, you }) => playerChip(player, label, { you }));
  // Built again only when someone or some name changed, or the clocks came or went.
  const key = JSON.stringify([timed, chips.map((chip) => [chip.dataset.player, chip.textContent])]);
  if (ui.players.dataset.key === key) return;
  ui.players.dataset.key = key;
  if (timed) for (const chip of chips) chip.append(clockFace(chip.dataset.player));
  const parts = [];
  for (const [index, chip] of chips.entries()) {
    if (index > 0) parts.push(versus());
    parts.push(chip);
  }
  ui.players.replaceChildren(...parts);
}
