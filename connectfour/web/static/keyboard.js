// Playing with the keyboard: keys 1 to 7 play that column; the arrow keys,
// Home and End move the cursor; Enter or Space plays the cursor's column;
// Escape steps back from resigning. Keys typed into a form field are the
// field's, and a modified key (Ctrl, Alt, Meta) is the browser's.

import { COLUMNS } from "./board.js";

/**
 * What `key` does to a player's cursor at `cursor`: null (nothing), or
 * {cursor, move, play}: the cursor's new column, whether it moved there,
 * whether to play that column. `onControl`: the key was pressed on a button
 * or a link, which keeps Enter, Space, Home and End for itself.
 */
export function keyAction(key, cursor, onControl) {
  if (/^[1-7]$/.test(key)) return { cursor: Number(key) - 1, move: true, play: true };
  if (key === "ArrowLeft" || key === "ArrowRight") {
    const step = key === "ArrowLeft" ? -1 : 1;
    return { cursor: Math.min(COLUMNS - 1, Math.max(0, cursor + step)), move: true, play: false };
  }
  if ((key === "Home" || key === "End") && !onControl) {
    return { cursor: key === "Home" ? 0 : COLUMNS - 1, move: true, play: false };
  }
  if ((key === "Enter" || key === " ") && !onControl) return { cursor, move: false, play: true };
  return null;
}

/**
 * Listen to the page's keys. `board` is the board's element (it shows the
 * keyboard's highlight until the pointer moves); `page` says what the keys act
 * on: `confirming()` a resignation is being confirmed, `cancelResign()`,
 * `playing()` this page plays the game on screen, `cursor()` the cursor's
 * column, `moveCursor(column)`, `play(column)`.
 */
export function bindKeyboard(board, page) {
  // While the keyboard drives the cursor, the mouse's hover highlight steps aside.
  const usingKeyboard = (on) => board.classList.toggle("keyboard", on);
  document.addEventListener("pointermove", () => usingKeyboard(false), { passive: true });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select"))) {
      return;
    }
    if (event.key === "Escape" && page.confirming()) {
      event.preventDefault();
      page.cancelResign();
      return;
    }
    if (!page.playing()) return; // spectators get no cursor
    const onControl = target instanceof HTMLElement && Boolean(target.closest("button, a"));
    const action = keyAction(event.key, page.cursor(), onControl);
    if (action === null) return;
    event.preventDefault();
    usingKeyboard(true);
    if (action.move) page.moveCursor(action.cursor);
    if (action.play) page.play(action.cursor);
  });
}
