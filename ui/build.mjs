// Bundles the page into ../plugin/stashhog.js (one IIFE) and ../plugin/stashhog.css, the files
// stashhog.yml's `ui:` names. `--check` builds in memory and fails when the committed bundle
// differs from the sources (CI runs it), so `cargo build && stashhog install` never ships a
// stale page. Every library Stash ships comes from window.PluginApi: importing one as a value
// is an error here, never a silently bundled second copy of React.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "plugin");
const check = process.argv.includes("--check");

const fromStash = /^(react|react-dom|react-router|react-router-dom|react-bootstrap|@apollo\/client|graphql|mousetrap)(\/.*)?$/;
const stashLibraries = {
  name: "stash-libraries",
  setup(b) {
    b.onResolve({ filter: fromStash }, (args) => ({
      errors: [{ text: `${args.path} comes from window.PluginApi at run time: import it as a type only` }],
    }));
  },
};

const common = { bundle: true, minify: true, legalComments: "none", write: false, logLevel: "warning" };
const [js, css] = await Promise.all([
  build({
    ...common,
    entryPoints: [join(here, "src", "index.tsx")],
    format: "iife",
    target: "es2019",
    jsx: "transform",
    jsxFactory: "React.createElement",
    jsxFragment: "React.Fragment",
    plugins: [stashLibraries],
    outfile: join(out, "stashhog.js"),
  }),
  build({ ...common, entryPoints: [join(here, "src", "stashhog.css")], outfile: join(out, "stashhog.css") }),
]);

const files = [...js.outputFiles, ...css.outputFiles];
if (check) {
  const stale = files.filter((f) => {
    try {
      return readFileSync(f.path, "utf8") !== f.text;
    } catch {
      return true;
    }
  });
  if (stale.length) {
    console.error(`stale bundle: ${stale.map((f) => f.path).join(", ")} differ from ui/src; run \`npm --prefix ui run build\` and commit`);
    process.exit(1);
  }
  console.log("plugin/ bundle matches ui/src");
} else {
  const { writeFileSync } = await import("node:fs");
  for (const f of files) {
    writeFileSync(f.path, f.text);
    console.log(`${f.path}: ${f.contents.length} bytes`);
  }
}
