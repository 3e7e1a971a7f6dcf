// What each move is worth, with perfect play: the server's /api/analysis,
// shown as one value per column for the side to move, on request. Used by
// the replay and by spectators of a game in progress.

import { colourName } from "./board.js";

/** "Win in 5", "Draw", "Loss in 12": a column's value for the side to move. */
export function valueText(column) {
  if (column === null) return "Full";
  if (column.result === "draw") return "Draw";
  return `${column.result === "win" ? "Win" : "Loss"} in ${column.in}`;
}

export class Analysis {
  /** `toggle` a checkbox; `columns` an <ol> for the seven values; `text` a line for the best move. */
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
    const side = colourName(moves.length % 2 === 0 ? "red" : "yellow");
    const best = answer.best.map((column) => column + 1).join(" or ");
    const value = valueText(answer.columns[answer.best[0]]).toLowerCase();
    this.show(`${side} to play. Best: column ${best} (${value}).`, answer.columns, answer.best);
  }

  show(text, columns = null, best = []) {
    this.text.hidden = false;
    this.text.textContent = text;
    this.columns.hidden = columns === null;
    if (columns === null) return;
    this.columns.replaceChildren(
      ...columns.map((column, index) => {
        const item = document.createElement("li");
        item.dataset.testid = `analysis-${index}`;
        item.dataset.result = column === null ? "full" : column.result;
        item.classList.toggle("best", best.includes(index));
        item.textContent = `${index + 1}: ${valueText(column)}`;
        return item;
      }),
    );
  }
}
