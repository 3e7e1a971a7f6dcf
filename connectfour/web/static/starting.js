// Starting: the page's address says what to do when it loads (resume a seat,
// take an invite's seat, watch, or show the landing page and follow the
// lobby); a game asked for on the landing page starts on the lobby's
// connection; a quick match given up goes back to the landing page. Each
// step is taken into the state (page-reducer.js), then shown.

import { setAddress } from "./address.js";
import { ui } from "./elements.js";
import { fail } from "./endings.js";
import { board } from "./game-board.js";
import { render } from "./game-view.js";
import { announce, renderMessage } from "./messages.js";
import { renderMyGames } from "./mygames-view.js";
import { checkName } from "./names.js";
import { dispatch } from "./page-state.js";
import { named, savedName } from "./player-name.js";
import { applyRecord, lookUp } from "./records.js";
import { connection } from "./server-link.js";
import { NO_SUCH_GAME, NOT_YOUR_SEAT } from "./status-text.js";
import * as saved from "./storage.js";

/** Connect and send `hello` (or resume, when a token is known). */
export function start(hello) {
  dispatch({ type: "start", hello });
  render();
  // The landing page's connection follows the lobby: the game starts on it
  // (the server stops the lobby's updates), or on the next one it opens.
  if (connection.connected) {
    dispatch({ type: "hello-sent" });
    connection.send(hello);
  } else if (connection.running) {
    connection.retryNow(); // a socket still opening sends the hello once open
  } else {
    connection.start();
  }
}

/** Resume this browser's seat in `game`, whose token it holds. */
function resume(game, token) {
  dispatch({ type: "resume", game, token, keys: saved.shareKeys(game) });
  setAddress(`/?game=${encodeURIComponent(game)}`);
  start(null);
}

/** A /?game=ID address without a seat here: a finished game, or someone else's. */
async function noSeat(game) {
  dispatch({ type: "look-up", game });
  render();
  const { record, code } = await lookUp(game);
  if (record) {
    applyRecord(record);
    render();
    return;
  }
  if (code === "game_not_found") {
    fail(NO_SUCH_GAME, code);
    return;
  }
  fail(NOT_YOUR_SEAT, "no_seat");
}

/** An invite, and no name on this device: ask for one (optional) before taking the seat. */
function askGuestName(key) {
  dispatch({ type: "name-asked" });
  render();
  ui.joinName.focus();
  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const { name, error } = checkName(ui.joinName.value);
    ui.joinNameError.textContent = error;
    ui.joinNameError.hidden = !error;
    if (error) {
      ui.joinName.setAttribute("aria-invalid", "true");
      ui.joinName.setAttribute("aria-describedby", "join-name-error join-name-help");
      announce(error);
      ui.joinName.focus();
      return;
    }
    saved.savePlayerName(name);
    start(named({ type: "init", join: key }, name));
  });
}

/** The landing page again, with no game: the state of a page just loaded. */
export function backToLanding() {
  dispatch({ type: "landing" });
  showLanding();
}

/** The landing page, once the state is back on it. */
export function showLanding() {
  board.render([], []);
  renderMessage();
  renderMyGames();
  setAddress("/");
  render();
}

/** What the page's address asks for: /?game=ID, /?join=KEY, /?watch=KEY, or the landing page. */
export function startFromAddress() {
  const params = new URLSearchParams(window.location.search);
  if (params.get("game")) {
    const game = params.get("game");
    const token = saved.seatToken(game);
    if (token) resume(game, token);
    else noSeat(game);
  } else if (params.get("join")) {
    const key = params.get("join");
    // This browser already took the seat with this invite: take it back.
    const game = saved.inviteGame(key);
    const token = saved.seatToken(game);
    if (game && token) {
      resume(game, token);
    } else if (savedName() || saved.wasAnonymous()) {
      start(named({ type: "init", join: key }, savedName()));
    } else {
      askGuestName(key);
    }
  } else if (params.get("watch")) {
    start({ type: "init", watch: params.get("watch") });
  } else {
    renderMyGames();
    render();
    if (window.location.hash === "#my-games") ui.myGames.scrollIntoView();
    connection.start(); // the lobby
  }
}
