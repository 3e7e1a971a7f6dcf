// What the page does as its connection comes and goes (server-link.js's
// handlers, wired in app.js): the first frame of each connection, the
// banner and its countdown while it is down, and the end when another tab
// took the seat. On the landing page only the lobby's line changes. Each is
// taken into the state (page-reducer.js), then shown.

import { countDownRetry } from "./banners.js";
import { replaced } from "./endings.js";
import { render } from "./game-view.js";
import { announce } from "./messages.js";
import { dispatch, state } from "./page-state.js";

/** The first frame of each connection: the lobby, a resume of the seat, or the page's first request. */
export function hello() {
  if (state.phase === "landing") return { type: "lobby" };
  dispatch({ type: "hello-sent" });
  if (state.game && state.token) return { type: "resume", game: state.game, token: state.token };
  return state.hello;
}

export function onOpen({ protocol }) {
  if (protocol !== "connectfour.v1") {
    console.warn(`The server did not accept connectfour.v1 (got "${protocol}")`);
  }
  dispatch({ type: "link-open" });
  render();
}

export function onDown({ attempt, delay }) {
  const before = dispatch({ type: "link-down", attempt, retryAt: Date.now() + delay });
  if (state === before) return; // no game here to reconnect to
  if (before.phase !== "landing") {
    if (before.phase === "seated") announce("Connection lost. Reconnecting…");
    countDownRetry();
  }
  render();
}

export function onRetry({ attempt }) {
  dispatch({ type: "link-retry", attempt });
  render();
}

export function onEnd() {
  if (state.phase !== "replaced") replaced();
}
