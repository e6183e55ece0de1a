// Material's own search worker (lunr inside), run in Node over a built site's search index:
//   node tests/site/search_worker.js SITE_DIR QUERIES_JSON
// Prints one JSON object: how many words the index holds, the "phantom" words (words lunr's
// word automaton yields for a prefix wildcard but the index does not hold: a search that
// reaches one throws, and Material shows no result at all), and per query the number of
// results or the error the worker caught.
"use strict";
const fs = require("fs");
const path = require("path");

const [site, queriesFile] = process.argv.slice(2);
const folder = path.join(site, "assets", "javascripts", "workers");
const file = fs.readdirSync(folder).find((name) => /^search\..*\.js$/.test(name));
let onMessage = null;
const replies = [];
const warnings = [];
global.self = global;
global.addEventListener = (type, handler) => { onMessage = handler; };
global.postMessage = (message) => replies.push(message);
global.importScripts = () => {};  // English only: no extra language files
console.warn = (...args) => warnings.push(args.map(String).join(" "));
// The worker keeps its search object in a closure variable; expose it to read the index.
const source = fs.readFileSync(path.join(folder, file), "utf8");
const patched = source.replace("de=new U(t.data)", "de=globalThis.__search=new U(t.data)");
if (patched === source) throw new Error(`${file}: the search object was not found (Material changed)`);
(0, eval)(patched);

const data = JSON.parse(fs.readFileSync(path.join(site, "search", "search_index.json"), "utf8"));
const queries = JSON.parse(fs.readFileSync(queriesFile, "utf8"));
const settle = () => new Promise((done) => setTimeout(done, 0));

(async () => {
  onMessage({ data: { type: 0, data: { ...data, options: { suggest: false } } } });
  for (let i = 0; i < 100 && !replies.length; i++) await settle();
  const index = globalThis.__search.index;
  const lunr = global.lunr;
  const words = Object.keys(index.invertedIndex);
  const phantom = {};
  for (const first of new Set(words.map((word) => word[0]))) {
    const found = index.tokenSet.intersect(lunr.TokenSet.fromString(first + "*")).toArray();
    const missing = found.filter((word) => !(word in index.invertedIndex));
    if (missing.length) phantom[first] = missing;
  }
  const results = {};
  for (const query of queries) {
    replies.length = 0;
    warnings.length = 0;
    onMessage({ data: { type: 2, data: query } });
    for (let i = 0; i < 100 && !replies.length; i++) await settle();
    results[query] = warnings.length ? warnings.join(" | ") : replies[0].data.items.length;
  }
  process.stdout.write(JSON.stringify({ words: words.length, phantom, results }));
})();
