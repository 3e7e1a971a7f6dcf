// A finished game, analysed: an evaluation chart over the whole game (who was
// winning after each move, with perfect play from there, and the moves that
// threw a win or a draw away) and the move list, both clickable to show a
// position. Used by the replay page and by the game page once a game is over.
//
// The values come from the server's /api/analysis, one position at a time
// (it allows each address two searches at once): the position before each
// move gives the value of the move played there, so a game of n moves needs
// n answers, fetched in order and drawn as they come.

import { colourName } from "./board.js";
import { durationText } from "./clocks.js";

const SVG = "http://www.w3.org/2000/svg";
/** The longest a win can take, in Pascal Pons' scores: 22 - 1 with the board empty. */
const LONGEST = 21;
/** The chart's drawing area (stretched to the element's size). */
const WIDTH = 600;
const HEIGHT = 100;

function moverAt(ply) {
  return ply % 2 === 0 ? "red" : "yellow";
}

/**
 * The value of each position of a game, for Red, from the server's answers:
 * `answers[k]` is the answer for the position after k moves (or undefined,
 * not known yet). Returns n + 1 points, each null or {score, winner, in}:
 * `score` Pons' score for Red (positive: Red wins, the sooner the larger),
 * `winner` red, yellow or null (a draw), `in` the winner's moves still to make.
 */
export function evaluations(moves, answers) {
  const points = [];
  const first = answers[0];
  points.push(first ? pointFor(first.score, "red", first.best?.length ? first.columns[first.best[0]]?.in : null) : null);
  for (let ply = 0; ply < moves.length; ply++) {
    const value = answers[ply]?.columns?.[moves[ply]];
    const point = value ? pointFor(value.score, moverAt(ply), value.in) : null;
    // A winning move that wins at once: four in a row on the board.
    if (point && value.result === "win" && value.in === 1) point.four = true;
    points.push(point);
  }
  return points;
}

function pointFor(score, mover, moves) {
  const red = mover === "red" ? score : -score;
  let winner = null;
  if (red > 0) winner = "red";
  if (red < 0) winner = "yellow";
  return { score: red, winner, in: winner ? (moves ?? null) : null };
}

/**
 * The moves that threw away a win (or a draw): for each, {ply, player,
 * column, lost} with `ply` the move's number (1 for the first) and `lost`
 * "win" or "draw".
 */
export function throwaways(moves, answers) {
  const found = [];
  for (let ply = 0; ply < moves.length; ply++) {
    const answer = answers[ply];
    const value = answer?.columns?.[moves[ply]];
    if (!answer || !value) continue;
    let lost = null;
    if (answer.score > 0 && value.score <= 0) lost = "win";
    else if (answer.score === 0 && value.score < 0) lost = "draw";
    if (lost) found.push({ ply: ply + 1, player: moverAt(ply), column: moves[ply], lost });
  }
  return found;
}

/** A point in words: "Red wins with best play", "A draw with best play". */
export function pointWords(point) {
  if (!point) return "not analysed yet";
  if (!point.winner) return "a draw with best play";
  if (point.four) return `${colourName(point.winner)} connects four`;
  return `${colourName(point.winner)} wins with best play`;
}

/** A point in a word or two, for the move list: "Yellow wins", "Draw". */
export function shortWords(point) {
  if (!point.winner) return "Draw";
  return `${colourName(point.winner)} ${point.four ? "connects four" : "wins"}`;
}

/** The chart's height for a point: +1 (Red wins at once) to -1 (Yellow does). */
export function pointHeight(point) {
  if (!point || point.score === 0) return 0;
  const size = Math.min(Math.abs(point.score), LONGEST) / LONGEST;
  return Math.sign(point.score) * (0.35 + 0.65 * size);
}

/** The move at `ply` (1-based) in words: "Red, column 4". */
export function moveWords(moves, ply) {
  return `${colourName(moverAt(ply - 1))}, column ${moves[ply - 1] + 1}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One position's answer; a busy server (429, 503) is asked again after its Retry-After. */
async function fetchAnswer(key) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const response = await fetch(`/api/analysis?moves=${key}`, { headers: { Accept: "application/json" } });
    if (response.status === 429 || response.status === 503) {
      const seconds = Number(response.headers.get("Retry-After"));
      await sleep(1000 * (Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) : 1));
      continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body) throw new Error(body?.error || `status ${response.status}`);
    return body;
  }
  throw new Error("the server stayed busy");
}

/** Answers already fetched on this page, by position (moves as digits). */
const answered = new Map();

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export class GameReview {
  /**
   * `root` an empty element to fill; `onSelect(ply)` shows the position after
   * `ply` moves (called on a click in the chart or the move list, or a key);
   * it may be set later, as the `onSelect` property.
   */
  constructor(root, onSelect = null) {
    this.root = root;
    this.onSelect = onSelect;
    this.moves = [];
    this.answers = [];
    this.ply = 0;
    this.started = false;
    this.run = 0; // each game's fetching is one run; a newer one stops the older

    this.start = element("button", { type: "button", class: "button small secondary", "data-testid": "analyse", text: "Analyse this game" });
    this.start.addEventListener("click", () => this.analyse());
    this.chart = element("div", { class: "eval-chart", "data-testid": "eval-chart", hidden: "" });
    this.graph = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" });
    this.slider = element("div", {
      class: "eval-slider",
      role: "slider",
      tabindex: "0",
      "data-testid": "eval-slider",
      "aria-label": "Who was winning after each move: choose a position",
      "aria-valuemin": "0",
    });
    this.chart.append(this.graph, this.slider);
    this.progress = element("p", { class: "eval-progress", "data-testid": "eval-progress", hidden: "" });
    this.summary = element("p", { class: "eval-summary", "data-testid": "eval-summary", "aria-live": "polite", hidden: "" });
    this.list = element("ol", { class: "review-moves", "data-testid": "review-moves", "aria-label": "Moves: choose one to show the board after it" });
    const heading = element("h2", { class: "review-title", text: "Moves" });
    root.replaceChildren(heading, this.start, this.chart, this.progress, this.summary, this.list);

    this.slider.addEventListener("keydown", (event) => this.onKey(event));
    this.slider.addEventListener("pointerdown", (event) => {
      this.pick(event);
      this.slider.setPointerCapture?.(event.pointerId);
    });
    this.slider.addEventListener("pointermove", (event) => {
      if (event.buttons & 1) this.pick(event);
    });
    this.list.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button[data-ply]") : null;
      if (button) this.onSelect?.(Number(button.dataset.ply));
    });
  }

  /** A game to review: its moves, and the seconds each took when known (a new game stops the analysis of the last). */
  load(moves, durations = []) {
    if (moves.join("") === this.moves.join("") && this.list.children.length === moves.length) return;
    this.run++;
    this.moves = [...moves];
    this.answers = this.moves.map((_, ply) => answered.get(this.moves.slice(0, ply).join("")));
    this.started = false;
    this.start.hidden = moves.length === 0;
    this.chart.hidden = this.progress.hidden = this.summary.hidden = true;
    this.list.replaceChildren(
      ...this.moves.map((_, index) => {
        const ply = index + 1;
        const button = element("button", { type: "button", "data-ply": String(ply), "data-testid": `review-move-${ply}` });
        const words = element("span", { class: "move-words", text: moveWords(this.moves, ply) });
        const took = durationText(durations[index]);
        if (took) words.append(element("span", { class: "visually-hidden", text: ", in " }), element("span", { class: "move-time", text: took }));
        button.append(words, element("span", { class: "move-note" }));
        return element("li", { "data-player": moverAt(index) }, button);
      }),
    );
    this.slider.setAttribute("aria-valuemax", String(this.moves.length));
    this.draw();
  }

  /** The position shown is after `ply` moves. */
  select(ply) {
    this.ply = ply;
    for (const button of this.list.querySelectorAll("button[data-ply]")) {
      if (Number(button.dataset.ply) !== ply) {
        button.removeAttribute("aria-current");
        continue;
      }
      button.setAttribute("aria-current", "step");
      // The shown move in sight, scrolling the list only, never the page.
      const item = button.parentElement;
      if (item.offsetTop < this.list.scrollTop) this.list.scrollTop = item.offsetTop;
      else if (item.offsetTop + item.offsetHeight > this.list.scrollTop + this.list.clientHeight) {
        this.list.scrollTop = item.offsetTop + item.offsetHeight - this.list.clientHeight;
      }
    }
    this.slider.setAttribute("aria-valuenow", String(ply));
    this.slider.setAttribute("aria-valuetext", this.positionWords(ply));
    this.drawCursor();
  }

  positionWords(ply) {
    const point = evaluations(this.moves, this.answers)[ply];
    const where = ply === 0 ? "The empty board" : `After move ${ply} (${moveWords(this.moves, ply)})`;
    const lost = throwaways(this.moves, this.answers).find((move) => move.ply === ply);
    return `${where}: ${pointWords(point)}${lost ? `; this move threw away ${lost.lost === "win" ? "a win" : "the draw"}` : ""}`;
  }

  /** Fetch each position's value in turn, drawing the chart as they come. */
  async analyse() {
    if (this.started) return;
    this.started = true;
    const run = this.run;
    this.start.hidden = true;
    this.chart.hidden = false;
    this.progress.hidden = false;
    this.draw();
    const total = this.moves.length;
    for (let ply = 0; ply < total; ply++) {
      if (this.answers[ply]) continue;
      this.progress.textContent = `Analysing move ${ply + 1} of ${total}…`;
      const key = this.moves.slice(0, ply).join("");
      try {
        const answer = await fetchAnswer(key);
        answered.set(key, answer);
        if (run !== this.run) return;
        this.answers[ply] = answer;
      } catch (error) {
        if (run !== this.run) return;
        this.progress.textContent = `The analysis stopped at move ${ply + 1}: ${error.message}.`;
        this.progress.dataset.kind = "error";
        return;
      }
      this.draw();
    }
    this.progress.hidden = true;
    this.chart.dataset.complete = "true";
    this.summary.hidden = false;
    this.summary.textContent = this.summaryWords();
  }

  summaryWords() {
    const lost = throwaways(this.moves, this.answers);
    const first = evaluations(this.moves, this.answers)[0];
    const start = `From the empty board, ${pointWords(first)}.`;
    if (lost.length === 0) return `${start} No move threw away a win or a draw.`;
    const each = lost.map(
      (move) => `Move ${move.ply} (${moveWords(this.moves, move.ply)}) threw away ${move.lost === "win" ? "a win" : "the draw"}.`,
    );
    return `${start} ${each.join(" ")}`;
  }

  /** Draw the chart and the move list's notes from the answers so far. */
  draw() {
    const points = evaluations(this.moves, this.answers);
    const lost = throwaways(this.moves, this.answers);
    const total = Math.max(this.moves.length, 1);
    const x = (ply) => (ply / total) * WIDTH;
    const y = (point) => HEIGHT / 2 - pointHeight(point) * (HEIGHT / 2 - 2);
    // The known points, as far as they go without a gap.
    let known = 0;
    while (known < points.length && points[known]) known++;
    const children = [svg("line", { class: "midline", x1: 0, x2: WIDTH, y1: HEIGHT / 2, y2: HEIGHT / 2 })];
    if (known > 0) {
      const line = points.slice(0, known).map((point, ply) => `${x(ply)},${y(point)}`);
      const area = `M${x(0)},${HEIGHT / 2} L${line.join(" L")} L${x(known - 1)},${HEIGHT / 2} Z`;
      const clip = (id, top) => {
        const path = svg("clipPath", { id });
        path.append(svg("rect", { x: 0, y: top ? 0 : HEIGHT / 2, width: WIDTH, height: HEIGHT / 2 }));
        return path;
      };
      const defs = svg("defs");
      defs.append(clip("eval-top", true), clip("eval-bottom", false));
      children.push(
        defs,
        svg("path", { class: "area red", d: area, "clip-path": "url(#eval-top)" }),
        svg("path", { class: "area yellow", d: area, "clip-path": "url(#eval-bottom)" }),
        svg("polyline", { class: "value", points: line.join(" "), "vector-effect": "non-scaling-stroke" }),
      );
    }
    for (const move of lost) {
      children.push(
        svg("line", {
          class: `throwaway ${move.lost}`,
          "data-ply": String(move.ply),
          x1: x(move.ply),
          x2: x(move.ply),
          y1: 0,
          y2: HEIGHT,
          "vector-effect": "non-scaling-stroke",
        }),
      );
    }
    this.cursor = svg("line", { class: "cursor", x1: 0, x2: 0, y1: 0, y2: HEIGHT, "vector-effect": "non-scaling-stroke" });
    children.push(this.cursor);
    this.graph.replaceChildren(...children);
    this.chart.dataset.analysed = String(Math.max(known - 1, 0));

    // The move list says what each move did, once known.
    for (const [index, item] of [...this.list.children].entries()) {
      const ply = index + 1;
      const point = points[ply];
      const move = lost.find((m) => m.ply === ply);
      item.dataset.result = point ? (point.winner ?? "draw") : "";
      item.dataset.threw = move ? move.lost : "";
      const note = item.querySelector(".move-note");
      const words = point ? `${shortWords(point)}${move ? ` · threw away ${move.lost === "win" ? "a win" : "the draw"}` : ""}` : "";
      if (note.textContent !== words) note.textContent = words;
    }
    this.select(this.ply);
  }

  drawCursor() {
    if (!this.cursor) return;
    const at = (this.ply / Math.max(this.moves.length, 1)) * WIDTH;
    this.cursor.setAttribute("x1", String(at));
    this.cursor.setAttribute("x2", String(at));
  }

  /** A click or drag on the chart: the nearest position. */
  pick(event) {
    const box = this.slider.getBoundingClientRect();
    if (box.width <= 0) return;
    const ply = Math.round(((event.clientX - box.left) / box.width) * this.moves.length);
    this.onSelect?.(Math.max(0, Math.min(this.moves.length, ply)));
  }

  onKey(event) {
    const total = this.moves.length;
    const steps = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -5, PageUp: 5 };
    let ply;
    if (event.key in steps) ply = this.ply + steps[event.key];
    else if (event.key === "Home") ply = 0;
    else if (event.key === "End") ply = total;
    else return;
    event.preventDefault();
    event.stopPropagation();
    this.onSelect?.(Math.max(0, Math.min(total, ply)));
  }
}
