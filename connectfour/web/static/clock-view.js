// A timed game's clocks beside the players' names, the countdown to a side's
// first move, and the soft tick of one's own last ten seconds (with sound
// on). What each shows at this instant is clocks.js's; here it is drawn, and
// drawn again every tenth of a second while a clock or a countdown runs.

import { clockFaces, ownClock } from "./clocks.js";
import { ui } from "./elements.js";
import { state } from "./page-state.js";
import * as sound from "./sound.js";
import { firstMoveText } from "./status-text.js";

const TICK_MS = 100;

let ticker = null;
let ticked = null; // the whole second of this page's own clock last ticked

/** A clock's face, beside `player`'s name (players-view.js places it; renderClocks fills it). */
export function clockFace(player) {
  const face = document.createElement("span");
  face.className = "clock";
  face.dataset.testid = `${player}-clock`;
  face.dataset.player = player;
  face.setAttribute("role", "timer");
  return face;
}

export function renderClocks() {
  const faces = clockFaces(state, Date.now());
  ui.game.dataset.timed = String(faces !== null);
  for (const face of ui.players.querySelectorAll(".clock")) {
    const shown = faces?.[face.dataset.player];
    if (!shown) continue;
    if (face.textContent !== shown.text) face.textContent = shown.text;
    face.dataset.running = String(shown.running);
    face.dataset.low = String(shown.low);
  }
  const first = faces?.firstMove ? firstMoveText(state, faces.firstMove) : "";
  if (ui.firstMove.textContent !== first) ui.firstMove.textContent = first;
  ui.firstMove.hidden = !first;
  ui.firstMove.dataset.low = String(Boolean(faces?.firstMove && faces.firstMove.seconds <= 10));
  tick(faces);
  const moving = faces !== null && (faces.red.running || faces.yellow.running || faces.firstMove !== null);
  if (moving && ticker === null) ticker = setInterval(renderClocks, TICK_MS);
  else if (!moving && ticker !== null) {
    clearInterval(ticker);
    ticker = null;
  }
}

/** Each second under ten on this page's own running clock, a soft tick. */
function tick(faces) {
  const mine = ownClock(state);
  const face = mine && faces ? faces[mine] : null;
  if (!face?.running || !face.low) {
    ticked = null;
    return;
  }
  const second = Math.ceil(face.seconds);
  if (ticked !== null && second < ticked) sound.play("tick");
  ticked = second;
}
