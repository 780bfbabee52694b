#!/usr/bin/env node
// Check formulas with KaTeX, as GitHub-like Markdown renderers would typeset them.
//
//   node tests/katex_check.js /usr/share/javascript/katex/katex.min.js < formulas.json
//
// stdin: [{"tex": "...", "display": true, "where": "paper.md:12"}, ...]
// stdout: {"checked": N, "errors": [{"where", "tex", "error"}], "warnings": [...]}
// Every formula is rendered with throwOnError: true; strict-mode warnings are
// collected too. One process checks every formula, so the test starts node once.
"use strict";

const katex = require(process.argv[2] || "/usr/share/javascript/katex/katex.min.js");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const items = JSON.parse(input);
  const errors = [];
  const warnings = [];
  for (const item of items) {
    const strict = (code, message) => {
      warnings.push({ where: item.where, tex: item.tex, error: `${code}: ${message}` });
      return "ignore";
    };
    try {
      katex.renderToString(item.tex, { displayMode: item.display, throwOnError: true, strict });
    } catch (error) {
      errors.push({ where: item.where, tex: item.tex, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify({ checked: items.length, errors, warnings }));
});
