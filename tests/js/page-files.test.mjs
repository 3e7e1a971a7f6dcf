// The pages' files, as their HTML names them: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const STATIC = new URL("../../connectfour/web/static/", import.meta.url);
const read = (name) => readFileSync(new URL(name, STATIC), "utf8");
const linked = (html, rel) => [...html.matchAll(new RegExp(`<link rel="${rel}" href="/static/([\\w.-]+)">`, "g"))].map((m) => m[1]);

/** Every module `root` imports, directly or not. */
function imported(root) {
  const seen = new Set();
  const todo = [root];
  while (todo.length) {
    const name = todo.pop();
    for (const [, dep] of read(name).matchAll(/from "\.\/([\w-]+\.js)"/g)) {
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return seen;
}

test("the game page preloads every module app.js imports, and no other", () => {
  const preloaded = linked(read("index.html"), "modulepreload");
  assert.deepEqual(new Set(preloaded), imported("app.js"));
  assert.equal(preloaded.length, new Set(preloaded).size);
});

test("every style sheet is linked by a page, and every one linked exists", () => {
  const sheets = readdirSync(STATIC).filter((name) => name.endsWith(".css"));
  const used = new Set([...linked(read("index.html"), "stylesheet"), ...linked(read("replay.html"), "stylesheet")]);
  assert.deepEqual(used, new Set(sheets));
});

test("both pages lay their sheets in the same order, the ground first", () => {
  const index = linked(read("index.html"), "stylesheet");
  const replay = linked(read("replay.html"), "stylesheet");
  assert.equal(index[0], "base.css");
  const shared = index.filter((name) => replay.includes(name));
  assert.deepEqual(shared, replay.filter((name) => index.includes(name)));
});

test("every style sheet's braces pair up (a stray one drops the rules after it)", () => {
  for (const name of readdirSync(STATIC).filter((file) => file.endsWith(".css"))) {
    const text = read(name).replace(/\/\*[\s\S]*?\*\//g, "").replace(/"[^"]*"|'[^']*'/g, "");
    let depth = 0;
    for (const [at, char] of [...text].entries()) {
      if (char === "{") depth += 1;
      if (char === "}") depth -= 1;
      assert.ok(depth >= 0, `${name}: a "}" closes nothing (character ${at})`);
    }
    assert.equal(depth, 0, `${name}: a "{" is never closed`);
  }
});
