// The landing page's ways to start a game: play someone (a quick match),
// a friend online (private or listed in the lobby), this device, the
// computer, or a game from the lobby. Each takes the player's name along
// (but this device's), and the time control chosen (time-control.js): a
// game on this device is untimed, one joined from the lobby has its host's.

import { ui } from "./elements.js";
import { chosenName, named } from "./player-name.js";
import { start } from "./starting.js";
import * as saved from "./storage.js";
import { chosenControl, timed } from "./time-control.js";

export function bindLanding() {
  ui.playSomeone.addEventListener("click", () => {
    const name = chosenName();
    if (name === null) return;
    start(timed(named({ type: "match" }, name), chosenControl()));
  });
  ui.onlineForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = chosenName();
    if (name === null) return;
    const listed = ui.onlineForm.elements.visibility.value === "public";
    start(timed(named(listed ? { type: "init", public: true } : { type: "init" }, name), chosenControl()));
  });
  ui.startLocal.addEventListener("click", () => start({ type: "init", local: true }));
  ui.computerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = chosenName();
    if (name === null) return;
    const level = Number(ui.computerForm.elements.level.value);
    const color = ui.computerForm.elements.color.value === "yellow" ? "yellow" : "red";
    start(timed(named({ type: "init", computer: level, color }, name), chosenControl()));
  });
  // A game in the lobby is a link (/?join=KEY, /?watch=KEY); joining takes the name along.
  ui.lobby.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-testid='waiting-game']") : null;
    if (!link) return;
    const name = chosenName();
    if (name === null) event.preventDefault();
    else if (!name) saved.noteAnonymous(); // the name field was right there: joining needs no second ask
  });
}
