// The names the page shows: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkName, computerName } from "../../connectfour/web/static/names.js";

test("the computer is named by its level", () => {
  assert.equal(computerName(3), "Computer (level 3)");
});

test("a computer of no known level is just the computer", () => {
  assert.equal(computerName(null), "Computer");
});

test("a name is tidied before it is checked", () => {
  assert.deepEqual(checkName("  Ada   Lovelace "), { name: "Ada Lovelace", error: "" });
});
