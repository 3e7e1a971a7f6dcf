// Who plays, beside the presence line: both players' names (or Anonymous,
// or the computer), this page's own seat marked, as controls.js lists them.

import { playerList } from "./controls.js";
import { ui } from "./elements.js";
import { state } from "./page-state.js";
import { playerChip, versus } from "./names.js";

export function renderPlayers() {
  const list = playerList(state);
  ui.players.hidden = !list.shown;
  if (!list.shown) {
    if (ui.players.childElementCount) ui.players.replaceChildren();
    if (list.alone) ui.players.dataset.key = "";
    return;
  }
  const chips = list.players.map(({ player, label, you }) => playerChip(player, label, { you }));
  // Built again only when someone or some name changed.
  const key = JSON.stringify(chips.map((chip) => [chip.dataset.player, chip.textContent]));
  if (ui.players.dataset.key === key) return;
  ui.players.dataset.key = key;
  const parts = [];
  for (const [index, chip] of chips.entries()) {
    if (index > 0) parts.push(versus());
    parts.push(chip);
  }
  ui.players.replaceChildren(...parts);
}
