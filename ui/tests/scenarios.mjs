// Browser scenarios for the StashHog page, run by tests/ui.rs against the fake Stash (which runs
// the real binary). Each scenario clicks through the page as a user would, checks what the page
// shows and what Stash holds afterwards (through Stash's GraphQL), saves screenshots for the
// README, and prints one JSON line with what it measured.
//
//   STASH_URL=http://127.0.0.1:PORT SCENARIO_ARGS='{…}' SCREENSHOTS=docs/ui node tests/scenarios.mjs <name>
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const scenario = process.argv[2];
const base = (process.env.STASH_URL || "").replace(/\/$/, "");
const args = JSON.parse(process.env.SCENARIO_ARGS || "{}");
const shots = process.env.SCREENSHOTS;
const LONG = 120_000;

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function until(probe, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stash's GraphQL, as a script would call it (not through the page). */
async function gql(query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

/** A StashHog operation, as a script would run it through Stash. */
async function op(mode, opArgs = {}) {
  const data = await gql(`mutation ScenarioOperation($args: Map) { runPluginOperation(plugin_id: "stashhog", args: $args) }`, {
    args: { ...opArgs, mode },
  });
  return data.runPluginOperation;
}

async function sceneTags() {
  const data = await gql(`query ScenarioScenes { findScenes(filter: {per_page: -1}) { scenes { id title tags { name } } } }`);
  const out = {};
  for (const s of data.findScenes.scenes) out[s.id] = s.tags.map((t) => t.name).sort();
  return out;
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: "dark" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("dialog", (dialog) => dialog.accept());
  page.setDefaultTimeout(30_000);
  return { browser, page, errors };
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** The count a plan's header shows for a status (0 when absent). */
async function headerCount(page, status) {
  const badge = page.locator(`.stashhog-plan-meta [data-status="${status}"]`);
  if (!(await badge.count())) return 0;
  return Number((await badge.innerText()).replace(/[^0-9]/g, ""));
}

async function startRun(page, kind) {
  const panel = page.locator(`.stashhog-run-${kind}`);
  await panel.locator(".stashhog-preview").waitFor();
  const previewed = Number((await panel.locator(".stashhog-preview-changes").innerText()).replace(/[^0-9]/g, ""));
  const preview = await panel.locator(".stashhog-preview").innerText();
  await panel.locator(".stashhog-start").click();
  return { panel, previewed, preview };
}

async function outcome(panel) {
  const node = panel.locator(".stashhog-outcome");
  await node.waitFor({ timeout: LONG });
  return { status: await node.getAttribute("data-run-status"), text: await node.innerText() };
}

const scenarios = {
  // A user who only has Stash's UI: open the page from the navbar, reject a noisy tag
  // everywhere, approve the rest above a confidence, preview, apply as a task, read the
  // outcome, and roll it back.
  async review_apply_rollback({ page }) {
    const original = await sceneTags();
    await page.goto(`${base}/scenes`);
    await page.locator(".shell-scenes").waitFor();
    await page.locator(".shell-utility .stashhog-nav-button").click();
    await page.locator(".stashhog-plan-row").first().waitFor();
    check(new URL(page.url()).pathname === "/plugins/stashhog", `navbar leads to the page, got ${page.url()}`);
    await shot(page, "plans");
    await page.locator(".stashhog-plan-row .stashhog-plan-open").first().click();
    await page.locator(".stashhog-fields").waitFor();

    await page.locator('[data-tab="values"]').click();
    const noisy = page.locator(`.stashhog-value-row[data-value-name="${args.noisy}"]`);
    await noisy.waitFor();
    await shot(page, "by-value");
    await noisy.locator(".stashhog-value-never").click();
    await until(async () => (await noisy.locator('[data-status="rejected"]').count()) > 0, "the noisy tag shows rejected");

    await page.locator(".stashhog-slider").fill("90");
    const would = page.locator(".stashhog-would");
    await until(async () => /would approve/.test(await would.innerText()), "the slider counts");
    const count = Number(await would.getAttribute("data-count"));
    check(count === args.scenes * 2, `the slider would approve ${count}, expected ${args.scenes * 2}`);
    await page.locator(".stashhog-approve-confident").click();
    await until(async () => (await headerCount(page, "approved")) === count, "the approvals show in the header");

    await page.locator('[data-tab="scenes"]').click();
    await page.locator(".stashhog-scene").first().waitFor();
    await shot(page, "scenes");

    await page.locator(".stashhog-apply").click();
    const apply = await startRun(page, "apply");
    check(apply.previewed === count, `the preview shows ${apply.previewed} changes, expected ${count}`);
    const applied = await outcome(apply.panel);
    check(applied.status === "ok", `apply ended ${applied.status}: ${applied.text}`);
    check(/Applied \d+/.test(applied.text), `the outcome says what was applied: ${applied.text}`);
    await shot(page, "apply-outcome");
    const after = await sceneTags();
    for (const [id, tags] of Object.entries(after)) {
      check(!tags.includes(args.noisy), `scene ${id} got ${args.noisy}`);
      check(tags.length === original[id].length + 2, `scene ${id} has ${tags} after apply`);
    }

    await apply.panel.locator(".stashhog-outcome-rollback").click();
    const rollback = await startRun(page, "rollback");
    const reverted = await outcome(rollback.panel);
    check(reverted.status === "ok", `rollback ended ${reverted.status}: ${reverted.text}`);
    check(/Reverted \d+/.test(reverted.text), `the outcome says what was reverted: ${reverted.text}`);
    const back = await sceneTags();
    check(JSON.stringify(back) === JSON.stringify(original), "rollback restores every scene's tags");
    return { approved: count };
  },

  async conflict({ page }) {
    await page.goto(`${base}/plugins/stashhog?plan=1`);
    await page.locator(".stashhog-apply").click();
    // Someone changes the approvals between the preview and the start (another tab, a script):
    // StashHog refuses to apply what was not previewed.
    await page.locator(".stashhog-run-apply .stashhog-preview").waitFor();
    await op("review_plan", { plan_id: 1, decision: "reject", text: args.reject_title });
    const stale = await startRun(page, "apply");
    const refused = await outcome(stale.panel);
    check(refused.status === "refused", `a stale preview is refused, got ${refused.status}: ${refused.text}`);
    await shot(page, "refused");
    await stale.panel.locator(".stashhog-resume").click();
    const apply = await startRun(page, "apply");
    check(/1 conflict\(s\)/.test(apply.preview), `the preview foresees the conflict: ${apply.preview}`);
    const result = await outcome(apply.panel);
    check(result.status === "ok", `apply ended ${result.status}: ${result.text}`);
    const conflicts = apply.panel.locator(".stashhog-conflicts tbody tr");
    check((await conflicts.count()) === 1, `one conflict shown, got ${await conflicts.count()}`);
    const row = await conflicts.first().innerText();
    check(row.includes(args.stash_now), `the conflict shows Stash's current value: ${row}`);
    // Named by its title (as the mirror knew it before or after the user's edit), not its id.
    check(row.includes(args.title) || row.split(args.stash_now).length > 2, `the conflict names the scene: ${row}`);
    await shot(page, "conflict");
    const tags = await sceneTags();
    check(Object.values(tags).some((t) => t.includes("Beach")), "the created tag is on its scene");

    // Roll back, deleting what the plan created once nothing uses it.
    await apply.panel.locator(".stashhog-outcome-rollback").click();
    const panel = page.locator(".stashhog-run-rollback");
    await panel.locator(".stashhog-preview").waitFor();
    await panel.locator("label[for=stashhog-delete-created]").click();
    await until(async () => /Each is deleted once/.test(await panel.locator(".stashhog-preview").innerText()), "the preview lists what the plan created");
    const rollback = await startRun(page, "rollback");
    const reverted = await outcome(rollback.panel);
    check(reverted.status === "ok", `rollback ended ${reverted.status}: ${reverted.text}`);
    check(/Deleted: Beach/.test(reverted.text), `the outcome lists what was deleted: ${reverted.text}`);
    await shot(page, "rollback-outcome");
    return { conflict: row };
  },

  async cancel_resume({ page }) {
    await page.goto(`${base}/plugins/stashhog?plan=1`);
    await page.locator(".stashhog-apply").click();
    const first = await startRun(page, "apply");
    // Cancel while Stash is still busy with the apply's first request: the kill lands mid-request.
    await first.panel.locator('.stashhog-watch[data-state="RUNNING"]').waitFor({ timeout: LONG });
    await shot(page, "apply-running");
    await first.panel.locator(".stashhog-cancel").click();
    const cancelled = await outcome(first.panel);
    check(cancelled.status === "killed", `a cancelled run reads as cancelled, got ${cancelled.status}: ${cancelled.text}`);
    const partial = await headerCount(page, "applied");
    check(partial < args.scenes * 3, `the cancel stopped the run early (${partial} applied)`);
    await first.panel.locator(".stashhog-resume").click();
    const second = await startRun(page, "apply");
    const resumed = await outcome(second.panel);
    check(resumed.status === "ok", `the resumed run ended ${resumed.status}: ${resumed.text}`);
    check((await headerCount(page, "approved")) === 0, "nothing is left to apply");
    return { applied_before_cancel: partial };
  },

  async large_plan({ page }) {
    const timings = {};
    // The binary's share: one runPluginOperation for a page of 20 scene cards, and the count
    // the confidence slider asks for.
    let started = Date.now();
    await op("show_plan", { plan_id: 1, view: "scenes", page: 1, per_page: 20 });
    timings.operation_scenes_ms = Date.now() - started;
    started = Date.now();
    await op("show_plan", { plan_id: 1, per_page: 1, status: "pending", min_confidence: 0.9 });
    timings.operation_count_ms = Date.now() - started;
    started = Date.now();
    await page.goto(`${base}/plugins/stashhog?plan=1&view=scenes`);
    await until(async () => (await page.locator(".stashhog-scene").count()) === 20, "a page of 20 scene cards shows", LONG);
    timings.scenes_page_ms = Date.now() - started;
    const matching = Number(await page.locator(".stashhog-matching").getAttribute("data-count"));
    check(matching > 0, "the page says how many match");

    started = Date.now();
    const firstScene = await page.locator(".stashhog-scene").first().getAttribute("data-scene");
    await page.locator(".stashhog-pager button", { hasText: "Next" }).click();
    await until(async () => (await page.locator(".stashhog-scene").first().getAttribute("data-scene")) !== firstScene, "page 2 shows", LONG);
    timings.next_page_ms = Date.now() - started;

    started = Date.now();
    await page.goto(`${base}/plugins/stashhog?plan=1`);
    await page.locator(".stashhog-fields tbody tr").first().waitFor({ timeout: LONG });
    await until(async () => /would approve/.test(await page.locator(".stashhog-would").innerText()), "the slider counts", LONG);
    timings.summary_ms = Date.now() - started;

    // Keyboard review: j moves to the next card, a approves the focused scene.
    await page.goto(`${base}/plugins/stashhog?plan=1&view=scenes`);
    await until(async () => (await page.locator(".stashhog-scene").count()) === 20, "the cards show", LONG);
    await page.keyboard.press("j");
    const focused = page.locator(".stashhog-scene.stashhog-focused");
    check((await focused.getAttribute("data-scene")) === (await page.locator(".stashhog-scene").nth(1).getAttribute("data-scene")), "j moves to the second card");
    await page.keyboard.press("a");
    await until(async () => (await focused.locator(".stashhog-status-approved").count()) === 5, "a approves the focused scene's 5 changes", LONG);
    await shot(page, "large-plan");
    console.log(JSON.stringify({ metric: "large_plan", ...timings }));
    return { timings };
  },

  async deep_link({ page }) {
    await page.goto(`${base}/plugins/stashhog?plan=1&view=values`);
    const blonde = page.locator('.stashhog-value-row[data-value-name="Blonde"]');
    await blonde.waitFor();
    await blonde.locator("button", { hasText: "Scenes" }).click();
    await page.locator(".stashhog-scene").first().waitFor();
    const url = page.url();
    check(/view=scenes/.test(url) && /value=/.test(url), `the view is in the URL: ${url}`);
    const cards = await page.locator(".stashhog-scene").count();
    const matching = await page.locator(".stashhog-matching").getAttribute("data-count");
    await page.reload();
    await until(async () => (await page.locator(".stashhog-scene").count()) === cards, "the same cards after a refresh");
    check((await page.locator(".stashhog-matching").getAttribute("data-count")) === matching, "the same filter after a refresh");
    check(await page.locator(".stashhog-value-filter").isVisible(), "the value filter is shown");
    await page.goBack();
    await page.locator(".stashhog-values").waitFor();
    await page.goForward();
    await page.locator(".stashhog-scene").first().waitFor();
    await page.goto(`${base}/plugins/stashhog?view=rejections`);
    await page.locator(".stashhog-rejections").waitFor();

    // Export plan 1 as a file, and import that file back as a new plan.
    await page.goto(`${base}/plugins/stashhog`);
    const row = page.locator('.stashhog-plan-row[data-plan="1"]');
    const [download] = await Promise.all([page.waitForEvent("download"), row.locator("button", { hasText: "Export" }).click()]);
    const saved = join(process.env.FAILURE_SHOTS || "/tmp", `plan-1-${Date.now()}.json`);
    await download.saveAs(saved);
    const exported = JSON.parse(readFileSync(saved, "utf8"));
    check(Array.isArray(exported.changes) && exported.changes.length > 0, "the download is a plan file");
    await page.locator(".stashhog-import-input").setInputFiles(saved);
    await until(() => /plan=2/.test(page.url()), "the imported plan opens");
    await page.locator(".stashhog-fields").waitFor();
    return { cards, exported: exported.changes.length };
  },

  async v024({ page, errors }) {
    await page.addInitScript(() => window.localStorage.setItem("stashhog-shell-profile", "v0.24"));
    await page.goto(`${base}/scenes`);
    await page.locator(".shell-scenes").waitFor();
    await page.locator(".shell-utility .stashhog-nav-button").click();
    const notice = page.locator(".shell-utility .stashhog-needs-upgrade");
    await notice.waitFor();
    check(/Stash 0\.25/.test(await notice.innerText()), "the notice names the version needed");
    await shot(page, "stash-0.24");
    check(errors.length === 0, `no script errors: ${errors}`);
    return {};
  },

  async failing_operation({ page, errors }) {
    await page.goto(`${base}/plugins/stashhog?plan=999`);
    const error = page.locator(".stashhog-error").first();
    await error.waitFor();
    const message = await error.innerText();
    check(/999/.test(message), `the error names the plan: ${message}`);
    await shot(page, "error");
    await page.locator(".shell-navbar a", { hasText: "Scenes" }).click();
    await page.locator(".shell-scene-count").waitFor();
    check((await page.locator(".shell-scene-count").innerText()).trim() === "1", "Stash's own pages still work");
    await page.locator(".shell-navbar a", { hasText: "Settings" }).click();
    await page.locator(".stashhog-settings-link a").click();
    await page.locator(".stashhog-plans").waitFor();
    check(errors.length === 0, `no script errors: ${errors}`);
    return { message };
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const { browser, page, errors } = await launch();
try {
  const report = await run({ page, errors });
  console.log(JSON.stringify({ ok: true, scenario, ...report }));
} catch (error) {
  if (process.env.FAILURE_SHOTS) {
    await page.screenshot({ path: join(process.env.FAILURE_SHOTS, `failed-${scenario}.png`) }).catch(() => undefined);
  }
  console.error(String(error && error.stack ? error.stack : error));
  console.error(`page url: ${page.url()}`);
  console.error((await page.locator("body").innerText().catch(() => "")).slice(0, 4000));
  process.exitCode = 1;
} finally {
  await browser.close();
}
