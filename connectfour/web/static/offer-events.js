// The server's news of draws and takebacks: a player offered a draw or asked
// to take a move back (the opponent's is heard, and answered with the panel's
// buttons; one's own shows on its button), or declined the other's. Each is
// taken into the state (game-reducer.js), then said and shown. A draw agreed
// and a takeback done come as a `state` (game-events.js).

import { render } from "./game-view.js";
import { announce, renderMessage } from "./messages.js";
import { dispatch, state } from "./page-state.js";
import * as sound from "./sound.js";
import { drawOfferText, takebackText } from "./status-text.js";

/** `draw_offer` or `takeback_request`. */
export function onOffer(event) {
  const before = dispatch(event);
  if (state === before) return;
  const draw = event.type === "draw_offer";
  const heard = draw ? drawOfferText(state) : takebackText(state);
  if (heard) {
    sound.play("offer");
    announce(heard);
  } else if (event.player === state.you) {
    announce(draw ? "Draw offered." : "Takeback asked.");
  }
  render();
}

/** `draw_declined` or `takeback_declined`: the one who asked hears it. */
export function onDeclined(event) {
  const before = dispatch(event);
  if (state === before) return;
  if (state.message !== before.message && state.message) announce(state.message.text);
  renderMessage();
  render();
}
