// States made up for the reducer's tests (tests/js/*-reducer.test.mjs), frozen
// all the way down: a reducer that changed the state it was given would throw.
import { createState } from "../../connectfour/web/static/game-state.js";

/** `value` and everything in it frozen; a Set's add, delete and clear throw. */
export function frozen(value) {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  if (value instanceof Set) {
    for (const method of ["add", "delete", "clear"]) {
      Object.defineProperty(value, method, {
        value: () => {
          throw new TypeError(`a frozen Set's ${method}`);
        },
      });
    }
  }
  for (const inner of Object.values(value)) frozen(inner);
  return Object.freeze(value);
}

/** A page just loaded, frozen, changed by `fields`. */
export function page(fields = {}) {
  return frozen({ ...createState(), ...fields });
}

/** A page seated as Red in game g1 under way, both connected, frozen, changed by `fields`. */
export function seated(fields = {}) {
  return page({
    phase: "seated",
    everSeated: true,
    hasBoard: true,
    game: "g1",
    token: "t1",
    you: "red",
    moves: [3, 3],
    status: "playing",
    turn: "red",
    red: "connected",
    yellow: "connected",
    ...fields,
  });
}

/** A `state` event for game g1 as Red, the page's clock at `now` 1000, changed by `fields`. */
export function stateEvent(fields = {}) {
  return {
    type: "state",
    game: "g1",
    you: "red",
    moves: [3, 3],
    ply: 2,
    status: "playing",
    turn: "red",
    red: "connected",
    yellow: "connected",
    spectators: 0,
    now: 1_000,
    savedKeys: null,
    ...fields,
  };
}
