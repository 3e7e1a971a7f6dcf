// Connect Four in the browser: the landing page, the game page, and the
// glue between the board, the keyboard and the server connection.

import { BoardView, COLUMNS, ROWS, colourName, height } from "./board.js";
import { Connection } from "./connection.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const ui = {
  landing: $("landing"),
  startOnline: $("start-online"),
  startLocal: $("start-local"),
  newGame: $("new-game"),
  nextSteps: $("next-steps"),
  game: $("game"),
  status: $("status"),
  role: $("role"),
  turn: $("turn"),
  presence: $("presence"),
  message: $("message"),
  share: $("share"),
  invite: $("invite"),
  inviteLink: $("invite-link"),
  watch: $("watch"),
  watchLink: $("watch-link"),
  board: $("board"),
  indicator: $("indicator"),
  live: $("live"),
};

// Errors after which this page has no game to show.
const FATAL = new Set(["game_not_found", "seat_taken", "already_started", "invalid_message"]);
// Errors the player does not need to hear about: a double click, say.
const QUIET = new Set(["stale_ply"]);

const state = {
  phase: "landing", // landing | connecting | seated | failed | lost
  game: null,
  you: null, // red | yellow | spectator | both
  moves: [],
  status: null, // waiting | playing | won | draw
  turn: null,
  red: "empty",
  yellow: "empty",
  spectators: 0,
  winner: null,
  reason: null, // four | full | resign | claim | expired
  cells: [],
  join: null,
  watch: null,
  pending: null, // the ply of a move sent and not yet confirmed
  cursor: Math.floor(COLUMNS / 2),
  opponentNote: "",
};

const board = new BoardView(ui.board, ui.indicator, (column) => {
  state.cursor = column;
  play(column);
});
board.onHover = (column) => {
  if (!isPlayer()) return;
  state.cursor = column;
  renderCursor();
};

const connection = new Connection({
  onEvent: handle,
  onOpen: ({ protocol }) => {
    if (protocol !== "connectfour.v1") {
      console.warn(`The server did not accept connectfour.v1 (got "${protocol}")`);
    }
  },
  onLost: () => {
    if (state.phase === "failed") return;
    state.phase = "lost";
    state.pending = null;
    showMessage("Connection lost.", { kind: "error", code: "connection_lost" });
    announce("Connection lost.");
    render();
  },
});

// ---- Server events ---------------------------------------------------------

function handle(event) {
  switch (event.type) {
    case "init":
      state.game = event.game;
      state.join = event.join ?? null;
      state.watch = event.watch ?? null;
      renderShare();
      break;
    case "state":
      onState(event);
      break;
    case "play":
      onPlay(event);
      break;
    case "win":
      onWin(event);
      break;
    case "draw":
      onDraw();
      break;
    case "presence":
      onPresence(event);
      break;
    case "error":
      onError(event);
      break;
    default:
      // Newer servers may send events this page does not know yet.
      console.debug("Ignoring an event of unknown type", event.type);
  }
}

function onState(event) {
  const first = state.phase !== "seated";
  Object.assign(state, {
    phase: "seated",
    game: event.game,
    you: event.you,
    moves: Array.isArray(event.moves) ? [...event.moves] : [],
    status: event.status,
    turn: event.turn ?? null,
    red: event.red,
    yellow: event.yellow,
    spectators: event.spectators ?? 0,
    winner: event.winner ?? null,
    reason: event.reason ?? null,
    cells: event.cells ?? [],
    pending: null,
  });
  state.opponentNote = seatNote(opponentSeat(), null);
  board.render(state.moves, state.cells);
  if (state.message?.kind === "result") clearMessage(); // a rematch starts afresh
  showResult();
  render();
  if (first) {
    announce(sentence(roleText(), turnText()));
    const focused = document.activeElement;
    if (isPlayer() && (!focused || focused === document.body)) {
      ui.board.focus({ preventScroll: true });
    }
  }
}

function onPlay(event) {
  if (event.ply < state.moves.length) return; // already shown
  if (event.ply > state.moves.length) {
    console.warn(`Missed moves: expected ply ${state.moves.length}, got ${event.ply}`);
  }
  const row = height(state.moves, event.column);
  if (row !== event.row) console.warn(`Row mismatch: computed ${row}, server says ${event.row}`);
  state.moves.push(event.column);
  state.turn = event.turn ?? null;
  state.pending = null;
  if (state.status === "waiting" && state.yellow !== "empty") state.status = "playing";
  if (state.message && state.message.kind !== "result") clearMessage();
  board.render(state.moves, state.cells, state.moves.length - 1);
  announce(`${colourName(event.player)} played column ${event.column + 1}`);
  render();
}

function onWin(event) {
  state.status = "won";
  state.winner = event.player;
  state.reason = event.reason ?? "four";
  state.cells = event.cells ?? [];
  state.turn = null;
  state.pending = null;
  board.render(state.moves, state.cells);
  showResult();
  announce(resultText());
  render();
}

function onDraw() {
  state.status = "draw";
  state.turn = null;
  state.pending = null;
  showResult();
  announce("Draw! The board is full.");
  render();
}

function onPresence(event) {
  const before = opponentSeat();
  state.red = event.red;
  state.yellow = event.yellow;
  state.spectators = event.spectators ?? 0;
  if (state.status === "waiting" && state.yellow !== "empty") {
    state.status = "playing";
    if (state.message?.code === "waiting") clearMessage();
  }
  const after = opponentSeat();
  if (after !== before) {
    const note = seatNote(after, before);
    state.opponentNote = note;
    if (note) announce(note);
  }
  render();
}

function onError(event) {
  const code = String(event.code ?? "error");
  const text = String(event.message ?? "Something went wrong.");
  state.pending = null;
  if (QUIET.has(code)) {
    render();
    return;
  }
  if (state.phase !== "seated" && FATAL.has(code)) {
    state.phase = "failed";
    connection.close();
    showMessage(text, { kind: "error", code });
    render();
    return;
  }
  showMessage(text, { kind: "error", code });
  render();
}

// ---- Playing ---------------------------------------------------------------

function isOver() {
  return ["won", "draw", "abandoned"].includes(state.status);
}

function isPlayer() {
  return state.phase === "seated" && ["red", "yellow", "both"].includes(state.you);
}

/** The colour the next checker from this page would have, or null. */
function myColour() {
  if (state.you === "both") return state.turn ?? null;
  if (state.you === "red" || state.you === "yellow") return state.you;
  return null;
}

function canPlayNow() {
  return (
    isPlayer() &&
    state.status === "playing" &&
    state.turn !== null &&
    (state.you === "both" || state.turn === state.you) &&
    state.pending === null
  );
}

function play(column) {
  if (!isPlayer()) return; // spectators, or no game: clicks are ignored
  if (isOver()) return;
  if (state.pending !== null) return; // a move is on its way
  if (state.status === "waiting") {
    showMessage("Waiting for an opponent to join. Send them the invite link.", { kind: "info", code: "waiting" });
    return;
  }
  if (state.you !== "both" && state.turn !== state.you) {
    showMessage("It's not your turn: wait for your opponent's move.", { kind: "info", code: "not_your_turn" });
    return;
  }
  if (height(state.moves, column) >= ROWS) {
    showMessage(`Column ${column + 1} is full. Pick another one.`, { kind: "info", code: "column_full" });
    return;
  }
  const ply = state.moves.length;
  if (connection.send({ type: "play", column, ply })) {
    state.pending = ply;
    if (state.message) clearMessage();
    renderCursor();
  }
}

// ---- Rendering -------------------------------------------------------------

/** What to say about the opponent's seat, given what it was before (or null). */
function seatNote(seat, before) {
  switch (seat) {
    case "connected":
      if (before === "empty") return "Opponent joined";
      if (before === "disconnected" || before === "gone") return "Opponent reconnected";
      return "";
    case "disconnected":
      return "Opponent disconnected";
    case "gone":
      return "Opponent left";
    default:
      return "";
  }
}

function opponentSeat() {
  if (state.you === "red") return state.yellow;
  if (state.you === "yellow") return state.red;
  return null;
}

function roleText() {
  switch (state.you) {
    case "red":
      return "You are Red";
    case "yellow":
      return "You are Yellow";
    case "both":
      return "Playing on this device";
    case "spectator":
      return "Spectator";
    default:
      return "";
  }
}

function turnText() {
  if (state.phase === "connecting") return "Connecting…";
  if (state.phase === "failed") return "No game";
  if (state.phase === "lost") return "Connection lost";
  switch (state.status) {
    case "waiting":
      return "Waiting for an opponent…";
    case "playing":
      if (!state.turn) return "";
      if (state.you === "red" || state.you === "yellow") {
        return state.turn === state.you ? "Your turn" : "Opponent's turn";
      }
      return `${colourName(state.turn)} to play`;
    case "won":
      if (state.you === state.winner) return "You win!";
      if (state.you === "red" || state.you === "yellow") return `You lose: ${colourName(state.winner)} wins`;
      return `${colourName(state.winner)} wins!`;
    case "draw":
      return "Draw: the board is full";
    case "abandoned":
      return "Game abandoned";
    default:
      return "";
  }
}

function presenceText() {
  const parts = [];
  if (state.you === "spectator") {
    for (const player of ["red", "yellow"]) {
      if (state[player] === "disconnected") parts.push(`${colourName(player)} disconnected`);
      else if (state[player] === "gone") parts.push(`${colourName(player)} left`);
    }
  } else if (state.opponentNote) {
    parts.push(state.opponentNote);
  }
  if (state.spectators > 0) parts.push(`${state.spectators} watching`);
  return parts.join(" · ");
}

function render() {
  ui.landing.hidden = state.phase !== "landing";
  ui.game.hidden = !["connecting", "seated", "lost"].includes(state.phase);
  ui.newGame.hidden = state.phase === "landing";
  const over = state.phase === "seated" && isOver();
  ui.nextSteps.hidden = !(state.phase === "failed" || state.phase === "lost" || over);
  // Only players can focus the board: it is where keyboard play happens.
  if (isPlayer()) ui.board.tabIndex = 0;
  else ui.board.removeAttribute("tabindex");

  ui.role.textContent = roleText();
  ui.role.dataset.role = state.you ?? "";
  ui.role.hidden = !state.you;
  const turn = turnText();
  ui.turn.textContent = turn;
  ui.status.dataset.status = state.status ?? "";
  ui.status.dataset.turn = state.turn ?? "";
  ui.status.dataset.mine = String(canPlayNow());
  ui.presence.textContent = presenceText();
  ui.presence.hidden = !ui.presence.textContent;
  ui.board.dataset.status = state.status ?? "";
  ui.board.setAttribute("aria-label", `Board, ${state.moves.length} moves played. ${turn}`);
  ui.game.dataset.role = state.you ?? "";

  renderShare();
  renderCursor();

  const title = state.phase === "seated" && turn ? `${turn} · Connect Four` : "Connect Four";
  if (document.title !== title) document.title = title;
}

function renderShare() {
  const origin = window.location.origin;
  const hasWatch = Boolean(state.watch);
  const inviteOpen = Boolean(state.join) && state.yellow === "empty";
  ui.share.hidden = !(hasWatch || inviteOpen) || state.phase === "failed";
  ui.invite.hidden = !inviteOpen;
  ui.watch.hidden = !hasWatch;
  ui.share.classList.toggle("waiting", inviteOpen);
  const invite = state.join ? `${origin}/?join=${encodeURIComponent(state.join)}` : "";
  const watch = state.watch ? `${origin}/?watch=${encodeURIComponent(state.watch)}` : "";
  if (ui.inviteLink.value !== invite) ui.inviteLink.value = invite;
  if (ui.watchLink.value !== watch) ui.watchLink.value = watch;
}

function renderCursor() {
  const player = isPlayer() && !isOver();
  ui.indicator.hidden = !player;
  board.setCursor(player ? state.cursor : null, player ? myColour() : null, canPlayNow());
}

// ---- Messages and announcements --------------------------------------------

function showMessage(text, { kind = "error", code = "" } = {}) {
  state.message = { text, kind, code };
  ui.message.textContent = text;
  ui.message.dataset.kind = kind;
  ui.message.dataset.code = code;
  ui.message.hidden = false;
}

function clearMessage() {
  state.message = null;
  ui.message.textContent = "";
  ui.message.dataset.kind = "";
  ui.message.dataset.code = "";
  ui.message.hidden = true;
}

/** How the game ended, in a sentence; "" while it goes on. */
function resultText() {
  const winner = colourName(state.winner);
  const loser = colourName(state.winner === "red" ? "yellow" : "red");
  switch (state.status) {
    case "won":
      if (state.reason === "resign") return `${loser} resigned. ${winner} wins!`;
      if (state.reason === "claim") return `${loser} left the game. ${winner} wins!`;
      return `${winner} wins!`;
    case "draw":
      return "Draw! The board is full.";
    case "abandoned":
      return "The game was abandoned.";
    default:
      return "";
  }
}

function showResult() {
  const text = resultText();
  if (text) showMessage(text, { kind: "result", code: state.status === "won" ? "win" : state.status });
}

/** "You are Red", "Your turn" -> "You are Red. Your turn." */
function sentence(...parts) {
  return parts
    .filter(Boolean)
    .map((part) => (/[.!?…]$/.test(part) ? part : `${part}.`))
    .join(" ");
}

/** Say `text` through the polite live region; keep the last few lines. */
function announce(text) {
  const line = document.createElement("p");
  line.textContent = text;
  ui.live.append(line);
  while (ui.live.childElementCount > 6) ui.live.firstElementChild.remove();
}

// ---- Copying links ---------------------------------------------------------

async function copyLink(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !input.value) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    // No clipboard API (not a secure context) or permission denied.
  }
  if (!copied) {
    input.focus();
    input.select();
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = copied ? "Copied" : "Press Ctrl+C";
  button.dataset.copied = String(copied);
  if (copied) announce(input.id === "invite-link" ? "Invite link copied" : "Watch link copied");
  clearTimeout(button.restore);
  button.restore = setTimeout(() => {
    button.textContent = label;
    delete button.dataset.copied;
  }, 2500);
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", () => copyLink(button));
}
for (const input of [ui.inviteLink, ui.watchLink]) {
  input.addEventListener("focus", () => input.select());
}

// ---- Keyboard --------------------------------------------------------------

/** While the keyboard drives the cursor, the mouse's hover highlight steps aside. */
function usingKeyboard(on) {
  ui.board.classList.toggle("keyboard", on);
}

document.addEventListener("pointermove", () => usingKeyboard(false), { passive: true });

function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) {
    return;
  }
  if (!isPlayer()) return; // spectators get no cursor
  const onControl = target instanceof HTMLElement && Boolean(target.closest("button, a"));
  const key = event.key;
  if (/^[1-7]$/.test(key)) {
    event.preventDefault();
    usingKeyboard(true);
    state.cursor = Number(key) - 1;
    renderCursor();
    play(state.cursor);
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    event.preventDefault();
    usingKeyboard(true);
    const step = key === "ArrowLeft" ? -1 : 1;
    state.cursor = Math.min(COLUMNS - 1, Math.max(0, state.cursor + step));
    renderCursor();
  } else if (key === "Home" || key === "End") {
    if (onControl) return;
    event.preventDefault();
    usingKeyboard(true);
    state.cursor = key === "Home" ? 0 : COLUMNS - 1;
    renderCursor();
  } else if ((key === "Enter" || key === " ") && !onControl) {
    event.preventDefault();
    usingKeyboard(true);
    play(state.cursor);
  }
}

document.addEventListener("keydown", onKey);

// ---- Starting --------------------------------------------------------------

function start(hello) {
  state.phase = "connecting";
  clearMessage();
  render();
  connection.open(hello);
}

ui.startOnline.addEventListener("click", () => start({ type: "init" }));
ui.startLocal.addEventListener("click", () => start({ type: "init", local: true }));

const params = new URLSearchParams(window.location.search);
if (params.has("join")) {
  start({ type: "init", join: params.get("join") });
} else if (params.has("watch")) {
  start({ type: "init", watch: params.get("watch") });
} else {
  render();
}
