// What this browser remembers about its games, in localStorage:
//
//   connectfour:seat:<game>    the seat's token (the secret that resumes it)
//   connectfour:keys:<game>    {"join", "watch"}: the host's links to share
//   connectfour:invite:<key>   the game an invite link seated this browser in
//   connectfour:games          [[game, saved at], ...], newest last, to forget old games
//   connectfour:name           the display name the player chose (absent: anonymous)
//   connectfour:clock          the time control the player chose ("3+2"; absent: untimed)
//   connectfour:game:<game>    what this browser knows of a game it plays: its colour, the names,
//                              the computer's seat and level, how it stands, when it began
//
// Storage can be missing or refuse writes (private windows, full quota):
// every access is guarded, and the page then simply cannot resume.

const PREFIX = "connectfour:";
/** Games remembered at most; the oldest are forgotten first. */
const KEEP = 50;

function read(key) {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    window.localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not remembered: a reload will not find the seat.
  }
}

function remove(key) {
  try {
    window.localStorage.removeItem(PREFIX + key);
  } catch {
    // Nothing to do.
  }
}

function readJson(key) {
  const text = read(key);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Note that `game` was used now; forget the games beyond the newest KEEP. */
function touch(game) {
  let games = readJson("games");
  if (!Array.isArray(games)) games = [];
  games = games.filter((entry) => Array.isArray(entry) && entry[0] !== game);
  games.push([game, Date.now()]);
  while (games.length > KEEP) {
    const [old] = games.shift();
    forgetGame(old);
  }
  write("games", JSON.stringify(games));
}

/** The stored token of this browser's seat in `game`, or null. */
export function seatToken(game) {
  return game ? read(`seat:${game}`) : null;
}

export function saveSeat(game, token) {
  if (!game || !token) return;
  if (read(`seat:${game}`) !== token) write(`seat:${game}`, token);
  touch(game);
}

/** The host's invite and watch keys for `game`: {join, watch}, or null. */
export function shareKeys(game) {
  const keys = game ? readJson(`keys:${game}`) : null;
  if (!keys || typeof keys !== "object") return null;
  return {
    join: typeof keys.join === "string" ? keys.join : null,
    watch: typeof keys.watch === "string" ? keys.watch : null,
  };
}

export function saveShareKeys(game, { join = null, watch = null }) {
  if (!game) return;
  write(`keys:${game}`, JSON.stringify({ join, watch }));
  touch(game);
}

/** The game an invite key seated this browser in, or null. */
export function inviteGame(joinKey) {
  return joinKey ? read(`invite:${joinKey}`) : null;
}

export function saveInvite(joinKey, game) {
  if (joinKey && game) write(`invite:${joinKey}`, game);
}

/** Forget the seat in `game` (its token no longer works). */
export function forgetSeat(game) {
  if (game) remove(`seat:${game}`);
}

function forgetGame(game) {
  remove(`seat:${game}`);
  remove(`game:${game}`);
  remove(`keys:${game}`);
  try {
    const storage = window.localStorage;
    for (let i = storage.length - 1; i >= 0; i--) {
      const key = storage.key(i);
      if (key && key.startsWith(`${PREFIX}invite:`) && storage.getItem(key) === game) storage.removeItem(key);
    }
  } catch {
    // Nothing to do.
  }
}

/** The display name this browser plays under, or "" (anonymous). */
export function playerName() {
  return read("name") ?? "";
}

export function savePlayerName(name) {
  if (name) write("name", name);
  else remove("name");
}

/** The time control this browser plays with, as it was chosen ("3+2"), or "" (untimed). */
export function timeControl() {
  return read("clock") ?? "";
}

export function saveTimeControl(control) {
  if (control) write("clock", control);
  else remove("clock");
}

const ROLES = ["red", "yellow", "both"];
const PLAYERS = ["red", "yellow"];

function text(value) {
  return typeof value === "string" && value ? value.slice(0, 64) : null;
}

/** What this browser noted of `game` (see noteGame), checked field by field; null if nothing. */
export function gameNote(game) {
  const note = game ? readJson(`game:${game}`) : null;
  if (!note || typeof note !== "object") return null;
  const names = note.names && typeof note.names === "object" ? note.names : {};
  return {
    you: ROLES.includes(note.you) ? note.you : null,
    names: { red: text(names.red), yellow: text(names.yellow) },
    computer: PLAYERS.includes(note.computer) ? note.computer : null,
    level: Number.isInteger(note.level) ? note.level : null,
    status: ["waiting", "playing", "won", "draw", "abandoned"].includes(note.status) ? note.status : null,
    winner: PLAYERS.includes(note.winner) ? note.winner : null,
    reason: text(note.reason),
    moves: Number.isInteger(note.moves) ? note.moves : 0,
    started: Number.isFinite(note.started) ? note.started : null,
  };
}

/** Note `fields` of `game`, kept over what was noted before; the first note is its start. */
export function noteGame(game, fields) {
  if (!game) return;
  const before = readJson(`game:${game}`);
  const started = before && Number.isFinite(before.started) ? before.started : Date.now();
  write(`game:${game}`, JSON.stringify({ ...(before ?? {}), ...fields, started }));
  touch(game);
}

/** This browser's games, newest first: [{game, ...its note}], for games with a note. */
export function myGames() {
  const games = readJson("games");
  if (!Array.isArray(games)) return [];
  const list = [];
  for (const entry of games) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
    const note = gameNote(entry[0]);
    if (note && note.you) list.push({ game: entry[0], seat: seatToken(entry[0]) !== null, ...note });
  }
  return list.reverse();
}

/** The player just chose, on the landing page, to play without a name (this tab only). */
export function noteAnonymous() {
  try {
    window.sessionStorage.setItem(`${PREFIX}anonymous`, "1");
  } catch {
    // Then the invite asks for the name once more.
  }
}

export function wasAnonymous() {
  try {
    return window.sessionStorage.getItem(`${PREFIX}anonymous`) === "1";
  } catch {
    return false;
  }
}
