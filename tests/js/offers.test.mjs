// Draw offers and takebacks: how the server's events change the page's state (game-reducer.js,
// page-reducer.js), which buttons show (controls.js) and what is said (status-text.js).
// node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { offerControls } from "../../connectfour/web/static/controls.js";
import { next, stateNews } from "../../connectfour/web/static/game-reducer.js";
import { canOfferDraw, canTakeBack } from "../../connectfour/web/static/game-state.js";
import { DRAW_DECLINED, TAKEBACK_DECLINED, resultText, turnText } from "../../connectfour/web/static/status-text.js";
import { page, seated, stateEvent } from "./states.mjs";

const play = (player, column, ply) => ({ type: "play", player, column, row: 0, ply, turn: player === "red" ? "yellow" : "red", now: 1 });

test("a draw offered stands for everyone, and the offerer's button says so", () => {
  const offered = next(seated({ requestSent: "draw" }), { type: "draw_offer", player: "red", draw_again_at: { red: 4 } });
  assert.equal(offered.drawOffer, "red");
  assert.equal(offered.requestSent, null);
  assert.deepEqual(offered.drawAgainAt, { red: 4, yellow: null });
  assert.deepEqual(offerControls(offered).draw, { text: "Draw offered", disabled: true, offered: true });
  assert.equal(offerControls(offered).drawAnswer, null); // nothing for the offerer to answer
  const opponent = { ...offered, you: "yellow", turn: "red" };
  assert.equal(offerControls(opponent).draw, null); // the panel answers instead
  assert.deepEqual(offerControls(opponent).drawAnswer, { text: "Your opponent offers a draw", canAnswer: true, disabled: false });
  const spectator = { ...offered, you: "spectator" };
  assert.deepEqual(offerControls(spectator).drawAnswer, { text: "Red offers a draw", canAnswer: false, disabled: false });
});

test("the opponent's move withdraws an offer; the offerer's own does not", () => {
  const offered = next(seated(), { type: "draw_offer", player: "red" });
  const own = next(offered, play("red", 4, 2));
  assert.equal(own.drawOffer, "red");
  assert.equal(next(own, play("yellow", 4, 3)).drawOffer, null);
});

test("a player offers again only once both sides moved since its last offer", () => {
  const s = seated({ drawAgainAt: { red: 4, yellow: null } });
  assert.equal(canOfferDraw({ ...s, moves: [3, 3, 4] }), false);
  assert.equal(canOfferDraw({ ...s, moves: [3, 3, 4, 4] }), true);
  assert.equal(canOfferDraw({ ...s, drawOffer: "yellow" }), false);
  assert.equal(canOfferDraw({ ...s, requestSent: "draw", moves: [3, 3, 4, 4] }), false);
});

test("no draws against the computer or on one device; a takeback everywhere a move is one's own", () => {
  const computer = seated({ computer: "yellow", level: 2 });
  assert.equal(offerControls(computer).draw, null);
  assert.deepEqual(offerControls(computer).takeback, { text: "Takeback", disabled: false, offered: false });
  assert.equal(offerControls(seated({ you: "both" })).draw, null);
  assert.equal(canTakeBack(seated({ you: "both", moves: [3] })), true);
  assert.equal(canTakeBack(seated({ you: "yellow", moves: [3] })), false); // yellow has not moved
  assert.equal(canTakeBack(seated({ computer: "red", you: "yellow", moves: [3] })), false);
  assert.equal(offerControls(seated({ you: "spectator" })).takeback, null);
  assert.equal(offerControls(seated({ status: "won" })).takeback, null);
  assert.equal(offerControls(seated({ phase: "reconnecting" })).takeback.disabled, true); // shown, not usable
});

test("declined: the offer or request goes, and the one who asked hears it", () => {
  const offered = seated({ drawOffer: "red" });
  const declined = next(offered, { type: "draw_declined", player: "yellow" });
  assert.equal(declined.drawOffer, null);
  assert.deepEqual(declined.message, { text: DRAW_DECLINED, kind: "info", code: "declined" });
  const decliner = next({ ...offered, you: "yellow" }, { type: "draw_declined", player: "yellow" });
  assert.equal(decliner.message, null);
  const asked = seated({ takebackRequest: "red" });
  const refused = next(asked, { type: "takeback_declined", player: "yellow" });
  assert.equal(refused.takebackRequest, null);
  assert.equal(refused.message.text, TAKEBACK_DECLINED);
  assert.equal(next(asked, { type: "takeback_declined", player: "blue" }), asked);
});

test("a takeback asked for stands until a move or an answer", () => {
  const asked = next(seated({ turn: "yellow", moves: [3, 3, 4] }), { type: "takeback_request", player: "red" });
  assert.equal(asked.takebackRequest, "red");
  assert.deepEqual(offerControls(asked).takeback, { text: "Takeback asked", disabled: true, offered: true });
  const opponent = { ...asked, you: "yellow" };
  assert.equal(offerControls(opponent).takeback, null);
  assert.equal(offerControls(opponent).takebackAnswer.text, "Your opponent asks to take back their last move");
  assert.equal(next(asked, play("yellow", 2, 3)).takebackRequest, null);
});

test("the shorter state of a takeback says so: news, not history lost", () => {
  const asked = seated({ moves: [3, 3, 4], takebackRequest: "red" });
  const event = stateEvent({ moves: [3, 3], taken_back: 1 });
  assert.equal(stateNews(asked, event).takeback, 1);
  assert.equal(stateNews(asked, event).lost, false);
  const after = next(asked, event);
  assert.deepEqual(after.message, { text: "A move was taken back.", kind: "info", code: "takeback" });
  assert.equal(after.takebackRequest, null);
  const computer = seated({ computer: "yellow", moves: [3, 3, 4, 4] });
  const both = stateEvent({ moves: [3, 3], computer: "yellow", taken_back: 2 });
  assert.equal(next(computer, both).message.text, "2 moves were taken back.");
  // Without `taken_back`, the same state is history lost.
  assert.equal(stateNews(asked, stateEvent({ moves: [3, 3] })).lost, true);
  assert.equal(stateNews(asked, stateEvent({ moves: [3, 3] })).takeback, 0);
});

test("a draw agreed ends the game, offers and all", () => {
  const s = seated({ drawOffer: "yellow", requestSent: "draw" });
  const after = next(s, stateEvent({ status: "draw", reason: "agreement", turn: null }));
  assert.equal(after.drawOffer, null);
  assert.equal(after.requestSent, null);
  assert.equal(turnText(after), "Draw by agreement");
  assert.equal(resultText(after), "Draw by agreement.");
  assert.deepEqual(offerControls(after), { draw: null, takeback: null, drawAnswer: null, takebackAnswer: null });
});

test("a request on its way waits for the server; an error or a dropped link frees the buttons", () => {
  const sent = next(seated(), { type: "request-sent", what: "takeback" });
  assert.equal(sent.requestSent, "takeback");
  assert.equal(offerControls(sent).takeback.disabled, true);
  assert.equal(next(sent, { type: "error", code: "not_available", message: "No." }).requestSent, null);
  assert.equal(next(sent, { type: "link-down", attempt: 1, retryAt: 5 }).requestSent, null);
});

test("a state carries the offers standing, from a reload or a reconnection", () => {
  const after = next(seated(), stateEvent({ draw_offer: "yellow", takeback_request: "yellow" }));
  assert.equal(after.drawOffer, "yellow");
  assert.equal(after.takebackRequest, "yellow");
  assert.equal(next(seated(), stateEvent({ draw_offer: "green" })).drawOffer, null);
});

test("when a player may offer a draw again is the server's word, kept through the moves", () => {
  const offered = next(seated(), { type: "draw_offer", player: "red", draw_again_at: { red: 4 } });
  const declined = next(offered, { type: "draw_declined", player: "yellow" });
  assert.equal(canOfferDraw(declined), false);
  const moved = next(declined, play("red", 4, 2));
  assert.equal(canOfferDraw(moved), false); // one move only
  const both = next(moved, play("yellow", 4, 3));
  assert.deepEqual(both.drawAgainAt, { red: 4, yellow: null });
  assert.equal(canOfferDraw(both), true);
  // The opponent's offer leaves red's limit as the server gives it.
  const theirs = next(both, { type: "draw_offer", player: "yellow", draw_again_at: { yellow: 6 } });
  assert.deepEqual(theirs.drawAgainAt, { red: null, yellow: 6 });
});

test("a state after a reload says when each player may offer a draw again", () => {
  const reloaded = next(page(), stateEvent({ draw_again_at: { red: 4 } }));
  assert.deepEqual(reloaded.drawAgainAt, { red: 4, yellow: null });
  assert.equal(canOfferDraw(reloaded), false);
  assert.equal(offerControls(reloaded).draw.disabled, true);
  const later = next(reloaded, stateEvent({ moves: [3, 3, 4, 4], ply: 4 }));
  assert.deepEqual(later.drawAgainAt, { red: null, yellow: null }); // nothing holds anyone back
  assert.equal(canOfferDraw(later), true);
  // Not a number of moves: nothing the page could compare with.
  assert.deepEqual(next(seated(), stateEvent({ draw_again_at: { red: "4", yellow: null } })).drawAgainAt, { red: null, yellow: null });
  assert.deepEqual(next(seated(), stateEvent({ draw_again_at: 4 })).drawAgainAt, { red: null, yellow: null });
});
