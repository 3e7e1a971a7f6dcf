// The landing page's time control: untimed, or one of those clocks.js offers,
// chosen once for playing someone, a friend online and the computer (a game
// on one device is untimed), and remembered in this browser like the name.

import { controlOf, controlWords } from "./clocks.js";
import { ui } from "./elements.js";
import * as saved from "./storage.js";

/** The control chosen: "3+2", or "" for an untimed game. */
export function chosenControl() {
  const checked = ui.timeControl.querySelector("input[name='clock']:checked");
  return controlOf(checked?.value ?? "");
}

/** The first frame `hello`, on the clock `control` when there is one. */
export function timed(hello, control) {
  return control ? { ...hello, clock: control } : hello;
}

/** The choices, the remembered one checked, each explained when pointed at; a change is remembered. */
export function bindTimeControl() {
  const remembered = controlOf(saved.timeControl());
  for (const input of ui.timeControl.querySelectorAll("input[name='clock']")) {
    input.checked = input.value === remembered;
    input.closest("label").title = controlWords(input.value);
    input.addEventListener("change", () => {
      if (input.checked) saved.saveTimeControl(controlOf(input.value));
    });
  }
}
