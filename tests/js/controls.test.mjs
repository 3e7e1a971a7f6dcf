// Which controls the game page shows: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { actions, matchingNotice, playerLabel, playerList, shareLinks } from "../../connectfour/web/static/controls.js";
import { createState } from "../../connectfour/web/static/game-state.js";

function page(fields = {}) {
  return Object.assign(createState(), {
    phase: "seated",
    hasBoard: true,
    game: "g 1",
    you: "red",
    status: "playing",
    turn: "red",
    red: "connected",
    yellow: "connected",
    ...fields,
  });
}

const over = { status: "won", winner: "red", turn: null };

test("during a game a player has Resign, confirmed in the page, and no next steps", () => {
  const shown = actions(page());
  assert.equal(shown.controls, true);
  assert.equal(shown.resign, true);
  assert.equal(shown.resignPanel, false);
  assert.equal(shown.nextSteps, false);
  assert.equal(shown.rematch, null);
  const asked = actions(page({ confirmResign: true }));
  assert.equal(asked.resign, false);
  assert.equal(asked.resignPanel, true);
});

test("while reconnecting the controls stay but cannot be used", () => {
  const shown = actions(page({ phase: "reconnecting" }));
  assert.equal(shown.controls, true);
  assert.equal(shown.live, false);
});

test("spectators get no controls, and a rematch note once the game is over", () => {
  assert.equal(actions(page({ you: "spectator" })).controls, false);
  const after = actions(page({ ...over, you: "spectator", offers: new Set(["yellow"]) }));
  assert.equal(after.rematch, null);
  assert.equal(after.rematchNote, "Yellow wants a rematch");
  assert.equal(after.replay, "/game/g%201");
});

test("after the end: rematch, replay, and a new game second", () => {
  const shown = actions(page(over));
  assert.equal(shown.controls, false);
  assert.equal(shown.nextSteps, true);
  assert.deepEqual(shown.rematch, { text: "Rematch", disabled: false, offered: false });
  assert.equal(shown.startNewPrimary, false);
  assert.equal(shown.replay, "/game/g%201");
});

test("the rematch button follows the offers", () => {
  assert.deepEqual(actions(page({ ...over, offers: new Set(["red"]) })).rematch, { text: "Rematch offered", disabled: true, offered: true });
  assert.deepEqual(actions(page({ ...over, offers: new Set(["yellow"]) })).rematch, { text: "Accept rematch", disabled: false, offered: false });
  assert.equal(actions(page({ ...over, offerSent: true })).rematch.disabled, true);
});

test("an opponent gone after the end: no rematch to offer, and the page says why", () => {
  const shown = actions(page({ ...over, yellow: "gone" }));
  assert.equal(shown.rematch.disabled, true);
  assert.equal(shown.rematchNote, "Your opponent has left the game.");
  // An offer they made before leaving can still be accepted.
  assert.equal(actions(page({ ...over, yellow: "gone", offers: new Set(["yellow"]) })).rematch.disabled, false);
});

test("the claim shows once the opponent is gone", () => {
  assert.equal(actions(page({ yellow: "gone" })).claim, true);
  assert.equal(actions(page({ yellow: "disconnected" })).claim, false);
});

test("a refused link offers a new game, and the game to watch when the invite was spent", () => {
  const failed = actions(page({ phase: "failed", you: null, status: null, watchKey: "w k" }));
  assert.equal(failed.nextSteps, true);
  assert.equal(failed.watchInstead, true);
  assert.equal(failed.watchLink, "/?watch=w%20k");
  assert.equal(failed.startNewPrimary, true);
  const replaced = actions(page({ phase: "replaced" }));
  assert.equal(replaced.takeOver, true);
  assert.equal(replaced.startNewPrimary, false);
});

test("the invite shows until the seat is taken; the watch link shrinks once the game is under way", () => {
  const keys = { game: "g 1", join: "j", watch: "w" };
  const waiting = shareLinks(page({ status: "waiting", yellow: "empty", keys }), "http://host");
  assert.deepEqual(waiting, {
    shown: true,
    invite: true,
    watch: true,
    compact: false,
    inviteUrl: "http://host/?join=j",
    watchUrl: "http://host/?watch=w",
  });
  const playing = shareLinks(page({ keys }), "http://host");
  assert.equal(playing.invite, false);
  assert.equal(playing.compact, true);
  assert.equal(shareLinks(page({ keys: { ...keys, game: "other" } }), "http://host").shown, false);
  assert.equal(shareLinks(page({ keys, matching: true }), "http://host").shown, false);
});

test("the quick match's wait can be cancelled while the connection is up", () => {
  assert.equal(matchingNotice(page({ matching: false })), null);
  assert.deepEqual(matchingNotice(page({ matching: true, status: "waiting" })), { text: "Looking for an opponent…", canCancel: true });
  assert.deepEqual(matchingNotice(page({ matching: true, cancelling: true })), { text: "Cancelling…", canCancel: false });
  assert.equal(matchingNotice(page({ matching: true, phase: "reconnecting" })).canCancel, false);
});

test("players are named by the name they gave, the computer by its level", () => {
  assert.equal(playerLabel(page(), "red"), "You");
  assert.equal(playerLabel(page(), "yellow"), "Anonymous");
  assert.equal(playerLabel(page({ computer: "yellow", level: 2 }), "yellow"), "Computer (level 2)");
  assert.equal(playerLabel(page({ names: { red: "Ada", yellow: null } }), "red"), "Ada");
});

test("who plays: nobody named but 'You' says nothing; a shared device never", () => {
  assert.deepEqual(playerList(page({ yellow: "empty" })), { shown: false, alone: true });
  assert.deepEqual(playerList(page({ you: "both" })), { shown: false, alone: false });
  assert.deepEqual(playerList(page({ names: { red: "Ada", yellow: "Bea" } })), {
    shown: true,
    players: [
      { player: "red", label: "Ada", you: true },
      { player: "yellow", label: "Bea", you: false },
    ],
  });
  assert.deepEqual(playerList(page({ you: "spectator", yellow: "empty", names: { red: "Ada", yellow: null } })), {
    shown: true,
    players: [{ player: "red", label: "Ada", you: false }],
  });
});
