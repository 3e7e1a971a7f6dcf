// What each move is worth, with perfect play: the server's /api/analysis,
// shown on request as one value under each column of the board, for the
// side to move, and a sentence saying who wins and when. Used by the replay
// and by spectators of a game in progress.
//
// The server's `in` counts the moves the winner makes until it connects
// four (this one included, when the side to move wins): "Red wins with its
// 3rd move from here".

import { colourName } from "./board.js";

/** 1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd". */
export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  const suffix = { 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th";
  return `${n}${suffix}`;
}

function other(player) {
  return player === "red" ? "yellow" : "red";
}

/**
 * One column's value for `mover` (red or yellow), in words:
 * {result, verdict, when, sentence}, e.g. win, "Win", "move 3",
 * "Column 4: Red wins with its 3rd move".
 */
export function columnWords(value, index, mover) {
  const label = `Column ${index + 1}`;
  if (value === null || value === undefined) {
    return { result: "full", verdict: "Full", when: "", sentence: `${label} is full` };
  }
  if (value.result === "draw") {
    return { result: "draw", verdict: "Draw", when: "", sentence: `${label}: a draw` };
  }
  const winner = value.result === "win" ? mover : other(mover);
  return {
    result: value.result,
    verdict: value.result === "win" ? "Win" : "Loss",
    when: `move ${value.in}`,
    sentence: `${label}: ${colourName(winner)} wins with its ${ordinal(value.in)} move`,
  };
}

/** "column 4", "column 3 or 4", "column 2, 3 or 5". */
function columnList(columns) {
  const numbers = columns.map((column) => column + 1);
  if (numbers.length === 1) return `column ${numbers[0]}`;
  return `column ${numbers.slice(0, -1).join(", ")} or ${numbers[numbers.length - 1]}`;
}

/** The position in a sentence: who is to play, who wins with best play and when, and how. */
export function headline(answer, mover) {
  const side = colourName(mover);
  const best = answer.best ?? [];
  const value = best.length ? answer.columns[best[0]] : null;
  if (!value) return `${side} to play.`;
  const how = columnList(best);
  if (value.result === "win") {
    return `${side} to play. ${side} wins with its ${ordinal(value.in)} move from here, playing ${how}.`;
  }
  if (value.result === "draw") {
    const losing = answer.columns.some((column) => column && column.result === "loss");
    return `${side} to play. A draw with best play, playing ${how}${losing ? "; other moves lose" : ""}.`;
  }
  const winner = colourName(other(mover));
  return `${side} to play. ${winner} wins with its ${ordinal(value.in)} move from here, whatever ${side} plays; ${how} holds out longest.`;
}

export class Analysis {
  /** `toggle` a checkbox; `columns` an <ol> under the board for the seven values; `text` a line for the sentence. */
  constructor(toggle, columns, text) {
    this.toggle = toggle;
    this.columns = columns;
    this.text = text;
    this.answers = new Map(); // moves (0-based digits) -> the server's answer
    this.moves = [];
    this.over = false;
    toggle.addEventListener("change", () => this.update(this.moves, this.over));
  }

  /** Like `update`, but only when the position changed: cheap to call on every render. */
  follow(moves, over) {
    if (moves.join("") !== this.moves.join("") || over !== this.over) this.update(moves, over);
  }

  /** The position to show: `moves` so far; `over` when the game ended there. */
  async update(moves, over) {
    this.moves = [...moves];
    this.over = over;
    if (!this.toggle.checked) {
      this.columns.hidden = this.text.hidden = true;
      return;
    }
    if (over) {
      this.show("The game is over at this position.");
      return;
    }
    const key = moves.join("");
    let answer = this.answers.get(key);
    if (!answer) {
      this.show("Working out the value of each move…");
      try {
        const response = await fetch(`/api/analysis?moves=${key}`, { headers: { Accept: "application/json" } });
        answer = await response.json();
        if (!response.ok) throw new Error(answer.error || `status ${response.status}`);
        this.answers.set(key, answer);
      } catch (error) {
        this.show(`The analysis is not available right now (${error.message}).`);
        return;
      }
      if (this.moves.join("") !== key || !this.toggle.checked) return; // moved on meanwhile
    }
    const mover = moves.length % 2 === 0 ? "red" : "yellow";
    this.show(headline(answer, mover), answer.columns, answer.best, mover);
  }

  show(text, columns = null, best = [], mover = "red") {
    this.text.hidden = false;
    this.text.textContent = text;
    this.columns.hidden = columns === null;
    if (columns === null) return;
    this.columns.replaceChildren(
      ...columns.map((column, index) => {
        const words = columnWords(column, index, mover);
        const item = document.createElement("li");
        item.dataset.testid = `analysis-${index}`;
        item.dataset.result = words.result;
        item.classList.toggle("best", best.includes(index));
        item.title = words.sentence;
        const said = document.createElement("span");
        said.className = "visually-hidden";
        said.textContent = words.sentence;
        const verdict = document.createElement("span");
        verdict.className = "verdict";
        verdict.textContent = words.verdict;
        verdict.setAttribute("aria-hidden", "true");
        const when = document.createElement("span");
        when.className = "when";
        if (words.when) {
          // "move 21"; on a phone's narrow columns, the number alone.
          const word = document.createElement("span");
          word.className = "when-word";
          word.textContent = "move ";
          when.append(word, words.when.replace(/^move /, ""));
        }
        when.setAttribute("aria-hidden", "true");
        item.append(said, verdict, when);
        return item;
      }),
    );
  }
}
