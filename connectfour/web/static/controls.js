// Which of the game page's controls show, and how, decided from its state
// alone: resigning and claiming, offering a draw and taking a move back (and
// answering the opponent's), the next steps after a game (rematch, replay, a
// new game), the invite and watch links, the quick match's wait, and who
// plays. The views (controls-view.js, share-links.js, players-view.js) only
// apply what these say.

import { computerName } from "./names.js";
import {
  canClaim,
  canOfferDraw,
  canResign,
  canTakeBack,
  hasSeat,
  isOver,
  isPlayer,
  opponentOf,
  opponentSeat,
  twoPeople,
} from "./game-state.js";
import { drawOfferText, rematchText, resignQuestion, takebackText } from "./status-text.js";

/**
 * Resign and claim, and the next steps: for each control whether it shows
 * (and is enabled), with its text or link where it has one. `replay`: the
 * link, or null when hidden; `rematch`: null when hidden.
 */
export function actions(s) {
  const phase = s.phase;
  const live = phase === "seated";
  const seated = phase === "seated" || phase === "reconnecting";
  const over = isOver(s);
  const resignable = canResign(s);
  const confirming = resignable && s.confirmResign;
  const finished = (seated && over) || phase === "ended";
  const rematchable = seated && over && hasSeat(s);

  let note = "";
  if (rematchable || (seated && over && s.you === "spectator")) note = rematchText(s);
  let rematch = null;
  if (rematchable) {
    const mine = s.you !== "both" && s.offers.has(s.you);
    const theirs = s.you !== "both" && s.offers.has(opponentOf(s.you));
    const away = s.you !== "both" && opponentSeat(s) !== "connected";
    rematch = {
      text: mine ? "Rematch offered" : theirs ? "Accept rematch" : "Rematch",
      disabled: !live || mine || s.offerSent || (away && !theirs),
      offered: mine,
    };
    if (away && !mine && !theirs) note = "Your opponent has left the game.";
  }
  return {
    controls: resignable,
    resign: !confirming,
    resignPanel: confirming,
    resignQuestion: resignQuestion(s),
    claim: canClaim(s),
    live, // resign, confirm and claim are enabled only while connected
    nextSteps: phase === "failed" || phase === "replaced" || finished,
    takeOver: phase === "replaced",
    // A spent invite's game, to watch instead: shown on a failed page, its link kept whenever known.
    watchInstead: phase === "failed" && Boolean(s.watchKey),
    watchLink: s.watchKey ? `/?watch=${encodeURIComponent(s.watchKey)}` : null,
    rematch,
    rematchNote: note,
    replay: finished && s.game ? `/game/${encodeURIComponent(s.game)}` : null,
    // Once a rematch (or playing here again) is the way on, a new game is second.
    startNewPrimary: !rematchable && phase !== "replaced",
  };
}

/**
 * Offering a draw and taking a move back, beside Resign: `draw` and
 * `takeback`, each null (hidden) or {text, disabled, offered}; and the
 * opponent's offer or request standing, `drawAnswer` and `takebackAnswer`,
 * each null or {text, canAnswer (a spectator only sees it), disabled}.
 */
export function offerControls(s) {
  const live = s.phase === "seated";
  const playing = isPlayer(s) && s.status === "playing";
  const theirs = s.you === "red" || s.you === "yellow" ? opponentOf(s.you) : null;
  let draw = null;
  if (playing && twoPeople(s) && s.drawOffer !== theirs) {
    const offered = s.drawOffer === s.you;
    draw = { text: offered ? "Draw offered" : "Offer draw", disabled: !live || !canOfferDraw(s), offered };
  }
  let takeback = null;
  if (playing && !(twoPeople(s) && s.takebackRequest === theirs)) {
    const offered = s.takebackRequest !== null && s.takebackRequest === s.you;
    takeback = { text: offered ? "Takeback asked" : "Takeback", disabled: !live || !canTakeBack(s), offered };
  }
  const watching = (s.phase === "seated" || s.phase === "reconnecting") && s.status === "playing";
  const answer = (text) => (text && watching ? { text, canAnswer: twoPeople(s), disabled: !live || s.requestSent !== null } : null);
  return { draw, takeback, drawAnswer: answer(drawOfferText(s)), takebackAnswer: answer(takebackText(s)) };
}

/** The invite and watch links: whether each shows, how, and their addresses on `origin`. */
export function shareLinks(s, origin) {
  const keys = s.keys && s.keys.game === s.game ? s.keys : null;
  const join = keys?.join ?? null;
  const watch = keys?.watch ?? null;
  const inviteOpen = Boolean(join) && s.yellow === "empty" && !isOver(s);
  const shown = ["connecting", "seated", "reconnecting"].includes(s.phase) && !s.matching;
  return {
    shown: Boolean(watch || inviteOpen) && shown,
    invite: inviteOpen,
    watch: Boolean(watch),
    // Once the game is under way, the watch link shrinks to its copy button.
    compact: !inviteOpen && s.status !== null && s.status !== "waiting",
    inviteUrl: join ? `${origin}/?join=${encodeURIComponent(join)}` : "",
    watchUrl: watch ? `${origin}/?watch=${encodeURIComponent(watch)}` : "",
  };
}

/** The wait for a quick match: null when not shown, else its text and whether it can be cancelled. */
export function matchingNotice(s) {
  if (!(s.matching && ["connecting", "seated", "reconnecting"].includes(s.phase))) return null;
  const control = typeof s.hello?.clock === "string" ? s.hello.clock : "";
  const looking = control ? `Looking for an opponent for a ${control} game…` : "Looking for an opponent…";
  return {
    text: s.cancelling ? "Cancelling…" : looking,
    // Once the server holds a seat for us, only a connection that is up can give it back.
    canCancel: !(s.cancelling || s.phase === "reconnecting"),
  };
}

/** A player's name as the game page shows it: the computer's, the name given, "You" or Anonymous. */
export function playerLabel(s, player) {
  if (s.computer === player) return computerName(s.level);
  const name = s.names[player];
  if (player === s.you) return name ?? "You";
  return name ?? "Anonymous";
}

/**
 * Who plays, beside the presence line (not for a same-device game), in a
 * timed game each with its clock:
 * {shown: true, players}, each seat taken as {player, label, you}; or
 * {shown: false}, with `alone` when the only one to name would be "You".
 */
export function playerList(s) {
  const phase = s.phase;
  const shown =
    s.hasBoard &&
    ["seated", "reconnecting", "replaced", "ended"].includes(phase) &&
    s.you !== "both" &&
    !(phase === "ended" && !s.names.red && !s.names.yellow && !s.you);
  if (!shown) return { shown: false, alone: false };
  const alone = s.you === "red" || s.you === "yellow" ? s[opponentOf(s.you)] === "empty" : false;
  // Nobody to name yet but "You": say nothing (unless a clock is to show).
  if (alone && !s.names[s.you] && s.clock === null) return { shown: false, alone: true };
  const players = [];
  for (const player of ["red", "yellow"]) {
    const empty = s[player] === "empty" && !s.names[player] && s.computer !== player;
    if (empty) continue; // a seat nobody took yet
    players.push({ player, label: playerLabel(s, player), you: player === s.you && Boolean(s.names[player]) });
  }
  return { shown: true, players };
}
