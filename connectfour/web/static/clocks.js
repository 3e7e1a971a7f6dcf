// A timed game's clocks: as the server gives them (the `clock` of `state` and
// `play`), kept in the page's state with the moment they came, and shown at
// any `now` (ms since the epoch). Pure: nothing here ticks; clock-view.js
// asks these again every tenth of a second while a clock runs.
//
// The server decides every flag. The page counts the running side down from
// what it was told, on its own clock, from the moment the message came (its
// way over the network is short), so a browser whose clock is set wrong
// still shows the right time. The replay's times per move are here too.

import { colourName } from "./board.js";

/** The time controls the landing page offers: "" is an untimed game. */
export const TIME_CONTROLS = ["", "1+0", "3+2", "5+3", "10+5"];
/** Under this many seconds a clock shows tenths and warns. */
export const LOW_TIME = 10;

const PLAYERS = ["red", "yellow"];
const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** A time control the page offers ("3+2"), or "" (untimed) for anything else. */
export function controlOf(value) {
  return TIME_CONTROLS.includes(value) ? value : "";
}

const CONTROL = /^(\d{1,3}(?:\.\d{1,2})?)\+(\d{1,2})$/;

/** A time control from the server ("3+2", "0.5+0"), or "" when it is none. */
export function controlName(value) {
  return typeof value === "string" && CONTROL.test(value) ? value : "";
}

/** "3+2" in words: "3 minutes each, 2 seconds added per move"; "Untimed" for "". */
export function controlWords(control) {
  const match = CONTROL.exec(control ?? "");
  if (!match) return "Untimed";
  const minutes = Number(match[1]);
  const increment = Number(match[2]);
  const each = `${minutes} ${minutes === 1 ? "minute" : "minutes"} each`;
  return increment ? `${each}, ${increment} ${increment === 1 ? "second" : "seconds"} added per move` : each;
}

/**
 * The server's `clock` (or its absence: an untimed game) as the state keeps
 * it: {control, red, yellow, runs, firstMoveIn, received}, `received` the
 * page's `now` when it came; null when there is none, or it makes no sense.
 */
export function takeClock(raw, now) {
  if (!raw || typeof raw !== "object" || !finite(raw.red) || !finite(raw.yellow)) return null;
  return {
    control: typeof raw.control === "string" ? raw.control : "",
    red: Math.max(0, raw.red),
    yellow: Math.max(0, raw.yellow),
    runs: PLAYERS.includes(raw.runs) ? raw.runs : null,
    firstMoveIn: finite(raw.first_move_in) ? Math.max(0, raw.first_move_in) : null,
    received: now,
  };
}

/** Seconds `player` has left at `now`: the running side's count down since the clock came. */
export function secondsLeft(clock, player, now) {
  const told = clock[player];
  if (clock.runs !== player) return told;
  return Math.max(0, told - Math.max(0, now - clock.received) / 1000);
}

/** Seconds left for the first move due at `now`, or null once both sides moved. */
export function firstMoveLeft(clock, now) {
  if (clock.firstMoveIn === null) return null;
  return Math.max(0, clock.firstMoveIn - Math.max(0, now - clock.received) / 1000);
}

/** The clocks stopped at `now` (the game ended): each side's time then; `flagged`'s at zero. */
export function stopClock(clock, now, flagged = null) {
  if (clock === null) return null;
  const stopped = { ...clock, runs: null, firstMoveIn: null, received: now };
  for (const player of PLAYERS) stopped[player] = player === flagged ? 0 : secondsLeft(clock, player, now);
  return stopped;
}

/** A clock's face: "05:00", "00:42", and under ten seconds with tenths, "00:09.3". */
export function formatClock(seconds) {
  const left = Math.max(0, seconds);
  const two = (n) => String(n).padStart(2, "0");
  if (left < LOW_TIME) {
    const tenths = Math.floor(left * 10 + 1e-6);
    return `00:0${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  const whole = Math.floor(left + 1e-6);
  return `${two(Math.floor(whole / 60))}:${two(whole % 60)}`;
}

/**
 * The clocks as the page shows them at `now`, or null in an untimed game:
 * {red, yellow, firstMove}, each side {seconds, text, running, low, label},
 * and `firstMove` {player, seconds} while a side's first move is due.
 */
export function clockFaces(s, now) {
  const clock = s.clock;
  if (!clock) return null;
  const live = s.status === "playing" && (s.phase === "seated" || s.phase === "reconnecting");
  // A game this page no longer follows (another tab took it, it ended while away) shows its clocks as last told.
  const at = live ? now : clock.received;
  const faces = {};
  for (const player of PLAYERS) {
    const seconds = secondsLeft(clock, player, at);
    faces[player] = {
      seconds,
      text: formatClock(seconds),
      running: live && clock.runs === player,
      low: seconds < LOW_TIME,
      label: `${colourName(player)}'s clock`,
    };
  }
  const due = live ? firstMoveLeft(clock, now) : null;
  faces.firstMove = due === null || !s.turn ? null : { player: s.turn, seconds: Math.ceil(due - 1e-6) };
  return faces;
}

/** The clock this page keeps an ear on: its player's own, or null. */
export function ownClock(s) {
  return s.you === "red" || s.you === "yellow" ? s.you : null;
}

/** The seconds each move took, from the record's `times` and `created_at`; null where unknown. */
export function moveDurations(times, createdAt, count) {
  if (!Array.isArray(times)) return new Array(count).fill(null);
  return Array.from({ length: count }, (_, ply) => {
    const at = times[ply];
    const before = ply === 0 ? createdAt : times[ply - 1];
    return finite(at) && finite(before) && at >= before ? at - before : null;
  });
}

/** A move's time in words: "0.4 s", "12 s", "1 min 5 s". */
export function durationText(seconds) {
  if (!finite(seconds)) return "";
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 60) return `${whole} s`;
  const rest = whole % 60;
  return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${Math.floor(whole / 60)} min`;
}
