// What the page does as its connection comes and goes (server-link.js's
// handlers, wired in app.js): the first frame of each connection, the
// banner and its countdown while it is down, and the end when another tab
// took the seat. On the landing page only the lobby's line changes.

import { countDownRetry } from "./banners.js";
import { replaced } from "./endings.js";
import { render } from "./game-view.js";
import { state } from "./game-state.js";
import { announce } from "./messages.js";

/** The first frame of each connection: the lobby, a resume of the seat, or the page's first request. */
export function hello() {
  if (state.phase === "landing") return { type: "lobby" };
  state.handshake = true;
  if (state.game && state.token) return { type: "resume", game: state.game, token: state.token };
  return state.hello;
}

export function onOpen({ protocol }) {
  if (protocol !== "connectfour.v1") {
    console.warn(`The server did not accept connectfour.v1 (got "${protocol}")`);
  }
  if (state.phase === "landing") {
    state.lobbyDown = false;
    state.attempt = 0;
    state.retryAt = null;
  }
  render();
}

export function onDown({ attempt, delay }) {
  if (state.phase === "landing") {
    state.lobbyDown = true;
    state.attempt = attempt;
    state.retryAt = Date.now() + delay;
    render();
    return;
  }
  if (!["connecting", "seated", "reconnecting"].includes(state.phase)) return;
  const first = state.phase === "seated";
  state.phase = state.everSeated ? "reconnecting" : "connecting";
  state.handshake = false;
  state.pending = null;
  state.offerSent = false;
  state.attempt = attempt;
  state.retryAt = Date.now() + delay;
  if (first) announce("Connection lost. Reconnecting…");
  countDownRetry();
  render();
}

export function onRetry({ attempt }) {
  state.attempt = attempt;
  state.retryAt = null;
  render();
}

export function onEnd() {
  if (state.phase !== "replaced") replaced();
}
