// Drawing the board: 7 columns by 6 rows, row 0 at the bottom.
//
// The board is rebuilt from the list of moves (columns in order); rows are
// derived, a checker lands on the lowest empty row of its column.

export const COLUMNS = 7;
export const ROWS = 6;
export const PLAYERS = ["red", "yellow"];

const NAMES = { red: "Red", yellow: "Yellow" };

/** "red" -> "Red". */
export function colourName(player) {
  return NAMES[player] ?? player;
}

/** The grid after `moves`: grid[column][row] is "red", "yellow" or null. */
export function replay(moves) {
  const grid = Array.from({ length: COLUMNS }, () => Array(ROWS).fill(null));
  moves.forEach((column, ply) => {
    const row = grid[column]?.indexOf(null) ?? -1;
    if (row >= 0) grid[column][row] = PLAYERS[ply % 2];
  });
  return grid;
}

/** How many checkers a column holds after `moves`. */
export function height(moves, column) {
  return moves.reduce((count, c) => count + (c === column ? 1 : 0), 0);
}

/**
 * Every cell of every line of four or more of one colour after `moves`, as
 * [column, row] pairs; empty when nobody has connected four.
 */
export function winningCells(moves) {
  const grid = replay(moves);
  const at = (c, r) => (c >= 0 && c < COLUMNS && r >= 0 && r < ROWS ? grid[c][r] : null);
  const cells = new Map();
  for (let c = 0; c < COLUMNS; c++) {
    for (let r = 0; r < ROWS; r++) {
      const player = grid[c][r];
      if (!player) continue;
      for (const [dc, dr] of [[1, 0], [0, 1], [1, 1], [1, -1]]) {
        let length = 1;
        while (length < 4 && at(c + dc * length, r + dr * length) === player) length++;
        if (length < 4) continue;
        for (let k = 0; k < 4; k++) cells.set(`${c + dc * k},${r + dr * k}`, [c + dc * k, r + dr * k]);
      }
    }
  }
  return [...cells.values()];
}

export class BoardView {
  /**
   * @param {HTMLElement} root       the board element
   * @param {HTMLElement} indicator  the strip above the board showing the cursor
   * @param {(column: number) => void} [onColumn]  a column was clicked or tapped
   *   (or set `onColumn` later, as `onHover` and `onLeave`)
   */
  constructor(root, indicator, onColumn = null) {
    this.root = root;
    this.indicator = indicator;
    this.onColumn = onColumn;
    this.columns = [];
    this.cells = [];
    this.slots = [];
    root.replaceChildren();
    indicator.replaceChildren();
    for (let c = 0; c < COLUMNS; c++) {
      const column = document.createElement("div");
      column.className = "column";
      column.dataset.testid = `column-${c}`;
      column.dataset.column = String(c);
      column.setAttribute("role", "group");
      column.setAttribute("aria-label", `Column ${c + 1}`);
      column.addEventListener("click", () => this.onColumn?.(c));
      // pointermove, not pointerenter: a mouse resting over a column when the
      // board appears moves the cursor with its first twitch. The cursor is the
      // only highlight, so hover and keyboard never disagree.
      column.addEventListener("pointermove", (event) => {
        if (event.pointerType === "mouse") this.onHover?.(c);
      });
      const cells = [];
      // Top row first in the DOM, so the column reads top to bottom.
      for (let r = ROWS - 1; r >= 0; r--) {
        const cell = document.createElement("div");
        cell.className = "cell";
        cell.dataset.testid = `cell-${c}-${r}`;
        cell.dataset.column = String(c);
        cell.dataset.row = String(r);
        cell.setAttribute("role", "img");
        cells[r] = cell;
        column.append(cell);
      }
      root.append(column);
      this.columns.push(column);
      this.cells.push(cells);

      const slot = document.createElement("div");
      slot.className = "slot";
      slot.append(document.createElement("span"));
      indicator.append(slot);
      this.slots.push(slot);
    }
    root.addEventListener("pointerleave", () => this.onLeave?.());
    this.render([], []);
  }

  /**
   * Show the position after `moves`, with `winning` cells highlighted.
   * `drop` is the ply whose checker is animated falling, if any.
   */
  render(moves, winning = [], drop = null) {
    const grid = replay(moves);
    const lastColumn = moves.length ? moves[moves.length - 1] : null;
    const last = lastColumn === null ? null : `${lastColumn},${height(moves, lastColumn) - 1}`;
    const wins = new Set(winning.map(([c, r]) => `${c},${r}`));
    let dropCell = null;
    if (drop !== null && drop < moves.length) {
      const column = moves[drop];
      dropCell = [column, height(moves.slice(0, drop), column)];
    }
    for (let c = 0; c < COLUMNS; c++) {
      const full = grid[c][ROWS - 1] !== null;
      this.columns[c].classList.toggle("full", full);
      for (let r = 0; r < ROWS; r++) {
        const cell = this.cells[c][r];
        const player = grid[c][r];
        if (player) cell.dataset.player = player;
        else delete cell.dataset.player;
        const winner = wins.has(`${c},${r}`);
        cell.classList.toggle("winning", winner);
        if (winner) cell.dataset.winning = "true";
        else delete cell.dataset.winning;
        const what = player ? colourName(player) : "empty";
        const latest = last === `${c},${r}`;
        cell.classList.toggle("last", latest);
        if (latest) cell.dataset.last = "true";
        else delete cell.dataset.last;
        const notes = `${winner ? ", winning" : ""}${latest ? ", last move" : ""}`;
        cell.setAttribute("aria-label", `Row ${r + 1}: ${what}${notes}`);
        const dropping = dropCell !== null && dropCell[0] === c && dropCell[1] === r;
        if (dropping) {
          cell.style.setProperty("--fall", String(ROWS - r));
          cell.classList.remove("dropping");
          void cell.offsetWidth; // restart the animation
          cell.classList.add("dropping");
        } else if (!player) {
          cell.classList.remove("dropping");
        }
      }
    }
  }

  /**
   * Show the column cursor at `column` (or none with null), and the checker
   * about to be played in `player`'s colour. `active` says whether a click
   * would play now.
   */
  setCursor(column, player, active) {
    this.columns.forEach((element, c) => {
      const on = c === column;
      element.classList.toggle("cursor", on);
      if (on) element.setAttribute("aria-current", "true");
      else element.removeAttribute("aria-current");
    });
    this.slots.forEach((slot, c) => {
      const on = c === column;
      slot.classList.toggle("on", on);
      if (on && player) slot.dataset.player = player;
      else delete slot.dataset.player;
    });
    this.root.dataset.cursor = column === null ? "" : String(column);
    this.root.classList.toggle("active", Boolean(active));
    this.indicator.classList.toggle("active", Boolean(active));
  }
}
