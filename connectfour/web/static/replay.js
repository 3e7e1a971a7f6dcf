// The replay of a finished game: /game/<id>, from /api/games/<id>.
//
// The board steps through the moves with the First, Back, Forward and Last
// buttons or the Home, Left, Right and End keys. The winning four, worked out
// here from the moves, shows at the final position; each move says how long
// it took, from the times the record keeps.

import { Analysis } from "./analysis.js";
import { BoardView, colourName, height, winningCells } from "./board.js";
import { controlName, durationText, moveDurations } from "./clocks.js";
import { GameReview } from "./review.js";
import { computerName, nameOf, playerChip } from "./names.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const ui = {
  loading: $("loading"),
  message: $("message"),
  replay: $("replay"),
  result: $("result"),
  meta: $("meta"),
  players: $("players"),
  board: $("board"),
  first: $("first"),
  back: $("back"),
  forward: $("forward"),
  last: $("last"),
  counter: $("counter"),
  autoplay: $("autoplay"),
  moveText: $("move-text"),
  nextSteps: $("next-steps"),
  analysisToggle: $("analysis-toggle"),
  analysisColumns: $("analysis-columns"),
  analysisText: $("analysis-text"),
  review: $("review"),
  previous: $("previous-game"),
};

const board = new BoardView(ui.board, document.querySelector(".indicator"), () => {});

const view = {
  game: null,
  moves: [],
  result: null,
  reason: null,
  winning: [],
  durations: [], // the seconds each move took, or null where not known
  ply: 0, // how many moves are shown
  timer: null, // while the replay plays itself
};

/** Seconds between moves while the replay plays itself. */
const STEP_MS = 900;

/** The game's id from the address: /game/<id>. */
function gameId() {
  const match = window.location.pathname.match(/^\/game\/([^/]+)\/?$/);
  return match ? decodeURIComponent(match[1]) : null;
}

/** How the game ended, in a sentence. */
function resultText({ result, reason }) {
  const winner = colourName(result);
  const loser = colourName(result === "red" ? "yellow" : "red");
  if (result === "red" || result === "yellow") {
    if (reason === "resign") return `${loser} resigned — ${winner} wins`;
    if (reason === "claim") return `${winner} wins: opponent left`;
    if (reason === "time") return `${winner} wins on time`;
    return `${winner} wins with four in a row`;
  }
  if (result === "draw") return reason === "agreement" ? "Draw by agreement" : "Draw: the board is full";
  if (result === "abandoned" && reason === "aborted") return "Aborted: the first move did not come in time";
  if (result === "abandoned") return "Abandoned: nobody came back to finish it";
  return "Finished";
}

function when(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return null;
  const date = new Date(seconds * 1000);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function show(ply, { animate = false } = {}) {
  const total = view.moves.length;
  const previous = view.ply;
  view.ply = Math.max(0, Math.min(total, ply));
  const moves = view.moves.slice(0, view.ply);
  const final = view.ply === total;
  const winning = final ? view.winning : [];
  const drop = animate && view.ply === previous + 1 ? view.ply - 1 : null;
  board.render(moves, winning, drop);
  ui.board.dataset.status = final && winning.length ? "won" : "";
  ui.board.dataset.ply = String(view.ply);
  ui.counter.textContent = `Move ${view.ply} of ${total}`;
  ui.board.setAttribute("aria-label", `Board after move ${view.ply} of ${total}`);
  if (view.ply === 0) {
    ui.moveText.textContent = "The empty board. Red plays first.";
  } else {
    const column = view.moves[view.ply - 1];
    const player = (view.ply - 1) % 2 === 0 ? "red" : "yellow";
    const row = height(view.moves.slice(0, view.ply - 1), column);
    const took = durationText(view.durations[view.ply - 1]);
    let text = `${colourName(player)} played column ${column + 1}, row ${row + 1}${took ? `, in ${took}` : ""}.`;
    if (final) text += ` ${resultText(view)}.`;
    ui.moveText.textContent = text;
  }
  analyse();
  review.select(view.ply);
  ui.first.disabled = ui.back.disabled = view.ply === 0;
  ui.forward.disabled = ui.last.disabled = final;
  // A disabled button loses focus to the body; keep the keyboard in the controls.
  const focused = document.activeElement;
  if (focused instanceof HTMLButtonElement && focused.disabled) {
    (final ? ui.back : ui.forward).focus();
  }
}

const review = new GameReview(ui.review, (ply) => step(ply));

const analysis = new Analysis(ui.analysisToggle, ui.analysisColumns, ui.analysisText);

/** Show, when asked to, the value of every move from the position on the board. */
function analyse() {
  analysis.update(view.moves.slice(0, view.ply), view.ply === view.moves.length && Boolean(view.result));
}

/** Play the moves one by one from here (from the start, at the end), or pause. */
function toggleAutoplay() {
  if (view.timer !== null) {
    pause();
    return;
  }
  if (view.ply === view.moves.length) show(0);
  view.timer = setInterval(() => {
    show(view.ply + 1, { animate: true });
    if (view.ply === view.moves.length) pause();
  }, STEP_MS);
  renderAutoplay();
}

function pause() {
  clearInterval(view.timer);
  view.timer = null;
  renderAutoplay();
}

function renderAutoplay() {
  const playing = view.timer !== null;
  ui.autoplay.querySelector(".label").textContent = playing ? "Pause" : "Play";
  ui.autoplay.setAttribute("aria-label", playing ? "Pause" : "Play the game from here");
  ui.autoplay.dataset.playing = String(playing);
  ui.autoplay.querySelector("path").setAttribute("d", playing ? "M3 2.5h3.5v11H3zM9.5 2.5H13v11H9.5z" : "M4 2.5v11L14 8z");
}

/** A step by hand pauses the replay. */
function step(ply, options) {
  pause();
  show(ply, options);
}

ui.autoplay.addEventListener("click", toggleAutoplay);
ui.first.addEventListener("click", () => step(0));
ui.back.addEventListener("click", () => step(view.ply - 1));
ui.forward.addEventListener("click", () => step(view.ply + 1, { animate: true }));
ui.last.addEventListener("click", () => step(view.moves.length));

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || ui.replay.hidden) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select")) return;
  switch (event.key) {
    case "Home":
      step(0);
      break;
    case "ArrowLeft":
      step(view.ply - 1);
      break;
    case "ArrowRight":
      step(view.ply + 1, { animate: true });
      break;
    case "End":
      step(view.moves.length);
      break;
    case "p":
    case "P":
      toggleAutoplay();
      break;
    default:
      return;
  }
  event.preventDefault();
});

function fail(text) {
  ui.loading.hidden = true;
  ui.replay.hidden = true;
  ui.message.textContent = text;
  ui.message.dataset.kind = "error";
  ui.message.hidden = false;
  ui.nextSteps.hidden = false;
  document.title = "Replay · Connect Four";
}

async function load() {
  const game = gameId();
  if (!game) {
    fail("This address names no game.");
    return;
  }
  let response;
  let body = null;
  try {
    response = await fetch(`/api/games/${encodeURIComponent(game)}`, { headers: { Accept: "application/json" } });
    body = await response.json().catch(() => null);
  } catch {
    fail("The server could not be reached. Check your connection and reload the page.");
    return;
  }
  if (!response.ok || !body || !Array.isArray(body.moves)) {
    fail(body && typeof body.error === "string" ? body.error : `The game could not be loaded (HTTP ${response.status}).`);
    return;
  }
  view.game = body.game ?? game;
  view.moves = body.moves.filter((column) => Number.isInteger(column) && column >= 0 && column < 7);
  view.result = body.result ?? null;
  view.reason = body.reason ?? null;
  view.winning = view.reason === "four" || view.reason === null ? winningCells(view.moves) : [];
  view.durations = moveDurations(body.times, body.created_at, view.moves.length);

  const result = resultText(view);
  ui.result.textContent = result;
  ui.result.dataset.result = view.result ?? "";
  const parts = [`${view.moves.length} ${view.moves.length === 1 ? "move" : "moves"}`];
  const control = controlName(body.clock);
  if (control) parts.push(`${control} clock`);
  const started = when(body.created_at);
  if (started) parts.push(`played ${started}`);
  ui.meta.textContent = parts.join(" · ");
  // Who played, when they gave their names.
  const names = { red: nameOf(body.red_name), yellow: nameOf(body.yellow_name) };
  // The computer's seat is named by its level.
  if (body.computer === "red" || body.computer === "yellow") {
    names[body.computer] = computerName(Number.isInteger(body.level) ? body.level : null);
  }
  if (names.red || names.yellow) {
    const vs = document.createElement("span");
    vs.className = "vs";
    vs.textContent = " vs ";
    ui.players.replaceChildren(
      playerChip("red", names.red ?? "Anonymous"),
      vs,
      playerChip("yellow", names.yellow ?? "Anonymous"),
    );
    ui.players.hidden = false;
  }
  if (typeof body.rematch_of === "string" && body.rematch_of) {
    ui.previous.href = `/game/${encodeURIComponent(body.rematch_of)}`;
    ui.previous.hidden = false;
  }
  document.title = `Replay: ${result} · Connect Four`;
  ui.loading.hidden = true;
  ui.replay.hidden = false;
  ui.nextSteps.hidden = false;
  review.load(view.moves, view.durations);
  show(view.moves.length);
}

load();
