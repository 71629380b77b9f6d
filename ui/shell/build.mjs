// Builds the test shell into the folder named on the command line: shell.js, shell.css (with
// Bootstrap 4.6) and index.html, which loads the plugin's files from where Stash serves them.
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error("usage: node shell/build.mjs <output folder>");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "shell.tsx")],
  bundle: true,
  format: "iife",
  target: "es2019",
  jsx: "transform",
  define: { "process.env.NODE_ENV": '"production"' },
  minify: true,
  outfile: join(out, "shell.js"),
  logLevel: "warning",
});
await build({
  stdin: { contents: '@import "bootstrap/dist/css/bootstrap.css"; @import "./shell.css";', resolveDir: here, loader: "css" },
  bundle: true,
  minify: true,
  outfile: join(out, "shell.css"),
  logLevel: "warning",
});
writeFileSync(
  join(out, "index.html"),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<base href="/">
<title>Stash</title>
<link rel="stylesheet" href="shell/shell.css">
<link rel="stylesheet" href="plugin/stashhog/css">
<script defer src="shell/shell.js"></script>
<script defer src="plugin/stashhog/javascript"></script>
</head>
<body><div id="root"></div></body>
</html>
`,
);
console.log(`shell built in ${out}`);
