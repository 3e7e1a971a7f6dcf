// The page's state as it is now: `state`, which every part reads (an import
// of it always sees the latest), and `dispatch(event)`, the one way it
// changes: the state becomes what game-reducer.js's `next` makes of it.
// `dispatch` returns the state before, so that the caller draws, plays or
// saves from the difference. Each state is frozen: a part that assigned into
// it would throw, not change the page behind the reducer's back.

import { createState } from "./game-state.js";
import { next } from "./game-reducer.js";

export let state = freeze(createState());

/** Take `event` into the state; the state before it is returned. */
export function dispatch(event) {
  const before = state;
  state = freeze(next(state, event));
  return before;
}

/** `s` and the plain objects and lists it holds, frozen (a Set cannot be, but the reducer makes new ones). */
function freeze(s) {
  if (Object.isFrozen(s)) return s;
  for (const value of Object.values(s)) {
    if (value !== null && typeof value === "object" && !(value instanceof Set)) Object.freeze(value);
  }
  return Object.freeze(s);
}
