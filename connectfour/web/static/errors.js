// The server's `error` events, taken into the state (game-reducer.js decides
// what each means: a refused first frame leaves the page with no game, or
// shows the one that ended; a seat taken over steps aside; the harmless ones
// pass in silence; the rest are the message), then shown.

import { goHome, stopped } from "./endings.js";
import { render } from "./game-view.js";
import { renderMessage } from "./messages.js";
import { dispatch, state } from "./page-state.js";
import * as saved from "./storage.js";

// The phases in which the page's game is no longer its own.
const ENDINGS = ["failed", "replaced", "ended"];

export function onError(event) {
  const before = dispatch(event);
  if (before.leaving) {
    goHome();
    return;
  }
  if (before.token && !state.token) saved.forgetSeat(before.game); // a seat the server no longer takes
  if (ENDINGS.includes(state.phase) && state.phase !== before.phase) {
    stopped();
    return;
  }
  renderMessage();
  render();
}
