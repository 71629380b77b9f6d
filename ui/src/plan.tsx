// One plan: a summary by field × action, the plan by value, and the scenes it touches as cards
// of diff rows — all paged and filtered by the binary (a plan may hold 100k changes; the page
// never loads more than one page of it). Every decision is one `review_plan` call.
import { React, api, router, stashUrl, useToast } from "./host";
import { operation } from "./stash";
import { CountBadges, ErrorAlert, Loading, Pager, StatusBadge, useLoad } from "./common";
import { DiffRow, Decide } from "./diff";
import { CHANGE_STATUSES, Plan, REVIEWABLE, SceneCard, ShowPlan, ValueRow, action, count, id, percent, shown, sourceName, statusLabel, total, when } from "./model";
import { Query } from "./nav";
import { RunPanel } from "./run";

const PER_PAGE = 20;

/** The filters in the query string, as `show_plan` / `review_plan` arguments. */
function filterArgs(q: Query): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (q.status) args.status = q.status;
  if (q.field) args.field = q.field;
  if (q.action) args.action = q.action;
  if (q.value !== undefined && q.value !== "") {
    try {
      args.value = JSON.parse(q.value);
    } catch {
      args.value = q.value;
    }
  }
  if (q.min) args.min_confidence = Number(q.min) / 100;
  if (q.max) args.max_confidence = Number(q.max) / 100;
  if (q.text) args.text = q.text;
  return args;
}

function hasFilter(q: Query): boolean {
  return Object.keys(filterArgs(q)).length > 0;
}

export function PlanPage(props: { planId: number; query: Query; go: (q: Query) => void; update: (q: Query) => void }) {
  const { planId, query, update } = props;
  const tab = query.view || "summary";
  const page = Math.max(1, Number(query.page) || 1);
  const filters = filterArgs(query);
  const key = JSON.stringify([planId, tab, page, filters]);
  const shownPlan = useLoad(
    () =>
      operation<ShowPlan>("show_plan", {
        plan_id: planId,
        view: tab === "scenes" ? "scenes" : "changes",
        page: tab === "scenes" ? page : 1,
        per_page: tab === "scenes" ? PER_PAGE : 1,
        ...filters,
      }),
    key,
  );
  const [error, setError] = React.useState<string>();
  const [busy, setBusy] = React.useState(false);
  const toast = useToast();
  const data = shownPlan.data;
  const plan = data && data.plan;

  const review = async (decision: string, selector: Record<string, unknown>, what: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const out = await operation<{ changed: number }>("review_plan", { plan_id: planId, decision, ...selector });
      const done = `${count(out.changed)} change(s) ${decision === "approve" ? "approved" : decision === "reject" ? "rejected" : "reset"}${what ? ` — ${what}` : ""}`;
      if (toast.success) toast.success(done);
      shownPlan.reload();
    } catch (e) {
      setError(String((e as Error).message || e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stashhog-plan" data-plan={planId}>
      <div className="d-flex align-items-center mb-2 flex-wrap">
        <button type="button" className="btn btn-link pl-0 mr-2 stashhog-back" onClick={() => props.go({})}>
          ‹ Plans
        </button>
        <h4 className="mb-0 mr-auto">
          Plan {planId}
          {plan ? ` · ${plan.name}` : ""}
        </h4>
        {plan ? <PlanActions plan={plan} go={props.go} /> : null}
      </div>
      {plan ? (
        <div className="mb-3 stashhog-plan-meta">
          <StatusBadge status={plan.status} /> <span className="text-muted ml-2">{sourceName(plan.source)}</span>
          <span className="text-muted ml-2">made {when(plan.created_at)}</span>
          <span className="text-muted ml-2">mean confidence {percent(plan.mean_confidence)}</span>
          <span className="ml-3">
            <CountBadges counts={plan.changes} />
          </span>
        </div>
      ) : null}
      {query.run && plan ? (
        <RunPanel
          plan={plan}
          kind={query.run === "rollback" ? "rollback" : "apply"}
          requestId={query.rid}
          jobId={query.job}
          onStarted={(rid, job) => update({ rid, job })}
          onClose={() => update({ run: "", rid: "", job: "" })}
          onRestart={(kind) => update({ run: kind, rid: "", job: "" })}
          onProgress={() => shownPlan.reload()}
        />
      ) : null}
      <ErrorAlert error={error || shownPlan.error} onClose={error ? () => setError(undefined) : undefined} />
      {plan ? (
        <>
          <ul className="nav nav-tabs mb-3 stashhog-tabs">
            {[
              ["summary", "Summary"],
              ["values", "By value"],
              ["scenes", "Scenes"],
            ].map(([name, label]) => (
              <li className="nav-item" key={name}>
                <a
                  href="#"
                  className={`nav-link${tab === name ? " active" : ""}`}
                  data-tab={name}
                  onClick={(e) => {
                    e.preventDefault();
                    update({ view: name, page: "" });
                  }}
                >
                  {label}
                </a>
              </li>
            ))}
          </ul>
          <Filters query={query} update={update} plan={plan} />
        </>
      ) : null}
      {plan ? <ConfidenceApprover planId={planId} filters={filters} busy={busy} review={review} revision={String(plan.revision)} /> : null}
      {shownPlan.loading && !data ? <Loading /> : null}
      {data && tab === "summary" ? <FieldSummary data={data} review={review} busy={busy} update={update} /> : null}
      {data && tab === "values" ? <ValueSummary values={data.values || []} review={review} busy={busy} update={update} /> : null}
      {data && tab === "scenes" ? (
        <Scenes
          data={data}
          page={page}
          perPage={PER_PAGE}
          busy={busy}
          filtered={hasFilter(query)}
          filters={filters}
          review={review}
          onPage={(p) => update({ page: String(p) })}
        />
      ) : null}
    </div>
  );
}

function PlanActions(props: { plan: Plan; go: (q: Query) => void }) {
  const { plan } = props;
  const approved = (plan.changes && plan.changes.approved) || 0;
  const applied = ["applied", "partially_applied", "rolled_back"].includes(plan.status) || !!(plan.changes && plan.changes.applied);
  return (
    <div className="btn-group stashhog-plan-actions">
      <button
        type="button"
        className="btn btn-primary stashhog-apply"
        disabled={!approved}
        onClick={() => props.go({ plan: String(id(plan.id)), run: "apply" })}
      >
        Apply {count(approved)} approved…
      </button>
      <button type="button" className="btn btn-secondary stashhog-rollback" disabled={!applied} onClick={() => props.go({ plan: String(id(plan.id)), run: "rollback" })}>
        Roll back…
      </button>
    </div>
  );
}

function Filters(props: { query: Query; update: (q: Query) => void; plan?: Plan }) {
  const { query, update } = props;
  const [text, setText] = React.useState(query.text || "");
  React.useEffect(() => setText(query.text || ""), [query.text]);
  const statuses = CHANGE_STATUSES.filter((s) => !props.plan || (props.plan.changes && props.plan.changes[s]) || query.status === s);
  return (
    <form
      className="form-inline mb-2 stashhog-filters"
      onSubmit={(e) => {
        e.preventDefault();
        update({ text, page: "" });
      }}
    >
      <select className="form-control form-control-sm mr-2 mb-1" aria-label="status" value={query.status || ""} onChange={(e) => update({ status: e.target.value, page: "" })}>
        <option value="">any status</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {statusLabel(s)}
          </option>
        ))}
      </select>
      <input
        className="form-control form-control-sm mr-2 mb-1"
        placeholder="field (tags, studio…)"
        aria-label="field"
        defaultValue={query.field || ""}
        key={`field-${query.field || ""}`}
        onBlur={(e) => e.target.value !== (query.field || "") && update({ field: e.target.value.trim(), page: "" })}
      />
      <label className="mr-1 mb-1 small text-muted">confidence</label>
      <input className="form-control form-control-sm mr-1 mb-1 stashhog-num" type="number" min={0} max={100} aria-label="minimum confidence" placeholder="0" defaultValue={query.min || ""} key={`min-${query.min || ""}`} onBlur={(e) => e.target.value !== (query.min || "") && update({ min: e.target.value, page: "" })} />
      <span className="mr-1 mb-1">–</span>
      <input className="form-control form-control-sm mr-2 mb-1 stashhog-num" type="number" min={0} max={100} aria-label="maximum confidence" placeholder="100" defaultValue={query.max || ""} key={`max-${query.max || ""}`} onBlur={(e) => e.target.value !== (query.max || "") && update({ max: e.target.value, page: "" })} />
      <input className="form-control form-control-sm mr-2 mb-1 stashhog-text" placeholder="title or path contains…" aria-label="text" value={text} onChange={(e) => setText(e.target.value)} />
      <button type="submit" className="btn btn-secondary btn-sm mr-2 mb-1">
        Filter
      </button>
      {query.value ? (
        <span className="badge badge-info mr-2 mb-1 stashhog-value-filter">
          {action(query.action || "")} {query.field} = {query.vname || query.value}
          <button type="button" className="btn btn-link btn-sm p-0 ml-1 text-white" aria-label="clear value" onClick={() => update({ value: "", vname: "", page: "" })}>
            ×
          </button>
        </span>
      ) : null}
      {hasFilter(query) ? (
        <button type="button" className="btn btn-link btn-sm mb-1" onClick={() => update({ status: "", field: "", action: "", value: "", vname: "", min: "", max: "", text: "", page: "" })}>
          clear filters
        </button>
      ) : null}
    </form>
  );
}

/** "Approve the pending changes at least this sure": says how many before anything changes. */
function ConfidenceApprover(props: {
  planId: number;
  filters: Record<string, unknown>;
  busy: boolean;
  revision: string;
  review: (decision: string, selector: Record<string, unknown>, what: string) => void;
}) {
  const [threshold, setThreshold] = React.useState(90);
  const [settled, setSettled] = React.useState(90);
  React.useEffect(() => {
    const timer = setTimeout(() => setSettled(threshold), 250);
    return () => clearTimeout(timer);
  }, [threshold]);
  const selector = { ...props.filters, status: "pending", min_confidence: settled / 100 };
  const would = useLoad(
    () => operation<ShowPlan>("show_plan", { plan_id: props.planId, per_page: 1, ...selector }).then((d) => d.matching),
    JSON.stringify([props.planId, selector, props.revision]),
  );
  return (
    <div className="card mb-3 stashhog-approver">
      <div className="card-body py-2 d-flex align-items-center flex-wrap">
        <label className="mb-0 mr-2" htmlFor="stashhog-threshold">
          Approve pending changes at least
        </label>
        <input
          id="stashhog-threshold"
          type="range"
          className="custom-range stashhog-slider mr-2"
          min={0}
          max={100}
          step={1}
          value={threshold}
          onChange={(e) => setThreshold(Number(e.target.value))}
        />
        <b className="mr-3 stashhog-threshold">{threshold}% sure</b>
        <span className="mr-3 stashhog-would" data-count={would.data === undefined ? "" : String(would.data)}>
          {would.loading || settled !== threshold ? "counting…" : `would approve ${count(would.data)} change(s)`}
        </span>
        <button
          type="button"
          className="btn btn-success btn-sm stashhog-approve-confident"
          disabled={props.busy || would.loading || settled !== threshold || !would.data}
          onClick={() => props.review("approve", selector, `at least ${settled}% sure`)}
        >
          Approve {would.data !== undefined && !would.loading && settled === threshold ? count(would.data) : ""}
        </button>
        {Object.keys(props.filters).length ? <span className="text-muted small ml-2">(within the filters above)</span> : null}
      </div>
    </div>
  );
}

function FieldSummary(props: { data: ShowPlan; busy: boolean; review: (d: string, s: Record<string, unknown>, what: string) => void; update: (q: Query) => void }) {
  const rows = props.data.fields || [];
  if (!rows.length) return <div className="text-muted">This plan has no changes.</div>;
  return (
    <table className="table table-sm table-striped stashhog-table stashhog-fields">
      <thead>
        <tr>
          <th>Field</th>
          <th>Action</th>
          <th>Changes</th>
          <th>By status</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.field}-${row.action}`} data-field={row.field} data-action={action(row.action)}>
            <td>{row.field}</td>
            <td>{action(row.action)}</td>
            <td>{count(total(row.counts))}</td>
            <td>
              <CountBadges counts={row.counts} />
            </td>
            <td className="text-right text-nowrap">
              <div className="btn-group btn-group-sm">
                <button type="button" className="btn btn-outline-success" disabled={props.busy} onClick={() => props.review("approve", { field: row.field, action: row.action }, `${row.field} ${action(row.action)}`)}>
                  Approve all
                </button>
                <button type="button" className="btn btn-outline-danger" disabled={props.busy} onClick={() => props.review("reject", { field: row.field, action: row.action }, `${row.field} ${action(row.action)}`)}>
                  Reject all
                </button>
                <button type="button" className="btn btn-secondary" onClick={() => props.update({ view: "scenes", field: row.field, action: row.action, page: "" })}>
                  Show
                </button>
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function valueSelector(row: ValueRow): Record<string, unknown> {
  return { field: row.field, action: row.action, value: row.value };
}

function ValueSummary(props: { values: ValueRow[]; busy: boolean; review: (d: string, s: Record<string, unknown>, what: string) => void; update: (q: Query) => void }) {
  if (!props.values.length) return <div className="text-muted">No values to show.</div>;
  return (
    <table className="table table-sm table-striped stashhog-table stashhog-values">
      <thead>
        <tr>
          <th>Change</th>
          <th>Scenes</th>
          <th>By status</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {props.values.map((row) => {
          const name = shown(row.value_name, row.value);
          const label = `${action(row.action)} ${row.field} ${name}`;
          return (
            <tr key={`${row.field}-${row.action}-${JSON.stringify(row.value)}`} className="stashhog-value-row" data-value-name={name}>
              <td>
                {action(row.action)} {row.field} <b>{name}</b>
              </td>
              <td>{count(row.scenes)}</td>
              <td>
                <CountBadges counts={row.counts} />
              </td>
              <td className="text-right text-nowrap">
                <div className="btn-group btn-group-sm">
                  <button type="button" className="btn btn-outline-success stashhog-value-approve" disabled={props.busy} onClick={() => props.review("approve", valueSelector(row), label)}>
                    Approve all
                  </button>
                  <button type="button" className="btn btn-outline-danger stashhog-value-reject" disabled={props.busy} onClick={() => props.review("reject", valueSelector(row), label)}>
                    Reject all
                  </button>
                  <button
                    type="button"
                    className="btn btn-danger stashhog-value-never"
                    disabled={props.busy}
                    title="Reject here and never propose it again for any scene"
                    onClick={() => props.review("reject", { ...valueSelector(row), remember: "everywhere" }, `${label}, everywhere from now on`)}
                  >
                    Reject everywhere
                  </button>
                  <button
                    type="button"
                    className="btn btn-secondary"
                    onClick={() => props.update({ view: "scenes", field: row.field, action: row.action, value: JSON.stringify(row.value), vname: name, page: "" })}
                  >
                    Scenes
                  </button>
                </div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Scenes(props: {
  data: ShowPlan;
  page: number;
  perPage: number;
  busy: boolean;
  filtered: boolean;
  filters: Record<string, unknown>;
  review: (d: string, s: Record<string, unknown>, what: string) => void;
  onPage: (page: number) => void;
}) {
  const scenes: SceneCard[] = props.data.scenes || [];
  const [selected, setSelected] = React.useState<Set<number>>(new Set());
  const [focus, setFocus] = React.useState(0);
  const cards = React.useRef<(HTMLDivElement | null)[]>([]);
  // A new page (or filter) starts at its first card; a review on this page keeps the place.
  const shownIds = scenes.map((s) => s.scene_id).join(",");
  React.useEffect(() => {
    setSelected(new Set());
    setFocus(0);
  }, [shownIds]);
  React.useEffect(() => setSelected(new Set()), [props.data]);

  const reviewableIds = (list: SceneCard[]) =>
    list.flatMap((s) => s.changes.filter((c) => REVIEWABLE.includes(c.status)).map((c) => id(c.id)));
  const decide: Decide = (decision, ids) => props.review(decision, { change_ids: ids.join(",") }, "");
  const decideScene = (decision: "approve" | "reject", scene: SceneCard) => {
    const ids = reviewableIds([scene]);
    if (ids.length) decide(decision, ids);
  };

  // j/k move between scene cards, a/r approve/reject the focused one (Mousetrap, v0.25+).
  const state = React.useRef({ focus, scenes, decideScene });
  state.current = { focus, scenes, decideScene };
  React.useEffect(() => {
    const trap = api && api.libraries.Mousetrap;
    if (!trap) return undefined;
    const move = (delta: number) => () => {
      const { focus: f, scenes: list } = state.current;
      const next = Math.min(Math.max(f + delta, 0), Math.max(list.length - 1, 0));
      setFocus(next);
      const card = cards.current[next];
      if (card && card.scrollIntoView) card.scrollIntoView({ block: "nearest" });
      return false;
    };
    const act = (decision: "approve" | "reject") => () => {
      const { focus: f, scenes: list, decideScene: d } = state.current;
      if (list[f]) d(decision, list[f]);
      return false;
    };
    trap.bind("j", move(1));
    trap.bind("k", move(-1));
    trap.bind("a", act("approve"));
    trap.bind("r", act("reject"));
    return () => {
      trap.unbind("j");
      trap.unbind("k");
      trap.unbind("a");
      trap.unbind("r");
    };
  }, []);

  const { Link } = router();
  const allShown = reviewableIds(scenes);
  const picked = Array.from(selected);
  return (
    <div className="stashhog-scenes">
      <div className="d-flex align-items-center flex-wrap mb-2 stashhog-bulk">
        <span className="mr-3 stashhog-matching" data-count={props.data.matching}>
          {count(props.data.matching)} matching {props.filtered ? "(filtered)" : ""}
        </span>
        <div className="btn-group btn-group-sm mr-2">
          <button type="button" className="btn btn-outline-success" disabled={props.busy || !picked.length} onClick={() => decide("approve", picked)}>
            Approve selected ({picked.length})
          </button>
          <button type="button" className="btn btn-outline-danger" disabled={props.busy || !picked.length} onClick={() => decide("reject", picked)}>
            Reject selected
          </button>
        </div>
        <div className="btn-group btn-group-sm mr-2">
          <button type="button" className="btn btn-outline-success stashhog-approve-shown" disabled={props.busy || !allShown.length} onClick={() => decide("approve", allShown)}>
            Approve all shown
          </button>
          <button type="button" className="btn btn-outline-danger stashhog-reject-shown" disabled={props.busy || !allShown.length} onClick={() => decide("reject", allShown)}>
            Reject all shown
          </button>
        </div>
        {props.filtered ? (
          <div className="btn-group btn-group-sm">
            <button type="button" className="btn btn-outline-success" disabled={props.busy} onClick={() => props.review("approve", props.filters, "every matching change")}>
              Approve all {count(props.data.matching)} matching
            </button>
            <button type="button" className="btn btn-outline-danger" disabled={props.busy} onClick={() => props.review("reject", props.filters, "every matching change")}>
              Reject all matching
            </button>
          </div>
        ) : null}
        <span className="text-muted small ml-auto">keys: j / k move · a approve · r reject</span>
      </div>
      {!scenes.length ? <div className="text-muted">No scene matches.</div> : null}
      {scenes.map((scene, index) => (
        <div
          key={scene.scene_id}
          ref={(el) => {
            cards.current[index] = el;
          }}
          className={`card mb-2 stashhog-scene${index === focus ? " stashhog-focused" : ""}`}
          data-scene={id(scene.scene_id)}
          onClick={() => setFocus(index)}
        >
          <div className="card-body p-2 d-flex">
            <Link to={`/scenes/${id(scene.scene_id)}`} className="stashhog-thumb mr-2">
              <img src={stashUrl(`scene/${id(scene.scene_id)}/screenshot`)} loading="lazy" alt="" />
            </Link>
            <div className="flex-grow-1 stashhog-scene-body">
              <div className="d-flex align-items-start">
                <div className="mr-auto">
                  <Link to={`/scenes/${id(scene.scene_id)}`} className="stashhog-scene-title">
                    {scene.title || (scene.path ? scene.path.split(/[\\/]/).pop() : `Scene ${id(scene.scene_id)}`)}
                  </Link>
                  <div className="text-muted small text-break stashhog-path">{scene.path}</div>
                </div>
                <div className="btn-group btn-group-sm">
                  <button type="button" className="btn btn-outline-success stashhog-scene-approve" disabled={props.busy} onClick={() => decideScene("approve", scene)}>
                    Approve scene
                  </button>
                  <button type="button" className="btn btn-outline-danger stashhog-scene-reject" disabled={props.busy} onClick={() => decideScene("reject", scene)}>
                    Reject scene
                  </button>
                </div>
              </div>
              <table className="table table-sm mb-0 mt-1 stashhog-diffs">
                <tbody>
                  {scene.changes.map((change) => (
                    <DiffRow
                      key={change.id}
                      change={change}
                      selected={selected.has(id(change.id))}
                      onSelect={(on) => {
                        const next = new Set(selected);
                        if (on) next.add(id(change.id));
                        else next.delete(id(change.id));
                        setSelected(next);
                      }}
                      decide={decide}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </div>
      ))}
      <Pager page={props.page} perPage={props.perPage} total={props.data.matching} onPage={props.onPage} />
    </div>
  );
}
