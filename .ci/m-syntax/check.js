#!/usr/bin/env node
// Syntax-checks the Power Query M snippets of a Markdown file: every fenced
// block whose info string is "powerquery" (or "m") is lexed and parsed with
// @microsoft/powerquery-parser. Prints one JSON line {"snippets": n} and
// exits 1, naming the snippet and the parser's message, on the first error.
//   node check.js ../../docs/powerbi.md
"use strict";
const fs = require("fs");
const PQP = require("@microsoft/powerquery-parser");

async function main() {
  const file = process.argv[2];
  const text = fs.readFileSync(file, "utf8");
  const re = /^```(powerquery|m)\s*\n([\s\S]*?)^```/gm;
  let m;
  let n = 0;
  while ((m = re.exec(text)) !== null) {
    n++;
    const line = text.slice(0, m.index).split("\n").length;
    const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, m[2]);
    if (!PQP.TaskUtils.isParseStageOk(task)) {
      const msg = task.error ? task.error.message : "stage " + task.stage;
      console.error(`${file}:${line}: snippet ${n} does not parse: ${msg}`);
      process.exit(1);
    }
  }
  if (n === 0) {
    console.error(`${file}: no powerquery snippets found`);
    process.exit(1);
  }
  console.log(JSON.stringify({ snippets: n }));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
