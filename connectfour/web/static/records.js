// A game's record: a finished game's moves and result from the server
// (/api/games/<id>), shown on the board; and what this browser notes of the
// game on screen for "My games" and a later visit (storage.js).

import { board } from "./game-board.js";
import { hasSeat } from "./game-state.js";
import { dispatch, state } from "./page-state.js";
import * as saved from "./storage.js";

/** {record, code}: a finished game's record, or null and why (game_not_found, not_finished, or null: unknown). */
export async function lookUp(game) {
  try {
    const response = await fetch(`/api/games/${encodeURIComponent(game)}`, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) return { record: null, code: typeof body?.code === "string" ? body.code : null };
    return { record: body && Array.isArray(body.moves) ? body : null, code: null };
  } catch {
    return { record: null, code: null };
  }
}

/** A finished game's record from the server, or null. */
export async function fetchRecord(game) {
  return (await lookUp(game)).record;
}

/** A finished game's record, in the state (page-reducer.js takes it) and on the board. */
export function applyRecord(record) {
  dispatch({ type: "record", record });
  board.render(state.moves, state.cells);
}

/** Note, in this browser, what "My games" and a later visit need of the game on screen (players only). */
export function noteGame() {
  if (!state.game || !state.token || !hasSeat(state)) return;
  saved.noteGame(state.game, {
    you: state.you,
    names: { ...state.names },
    computer: state.computer,
    level: state.level,
    status: state.status,
    winner: state.winner,
    reason: state.reason,
    moves: state.moves.length,
  });
}
