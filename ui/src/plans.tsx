// The list of plans: newest first, each with its source, age, status, counts and confidence,
// and what can be done with it (open, apply, roll back, export, delete); plus importing a file.
import { React, useToast } from "./host";
import { operation } from "./stash";
import { CountBadges, ErrorAlert, Loading, StatusBadge, useLoad } from "./common";
import { Plan, id, percent, sourceName, when } from "./model";
import { Query } from "./nav";

const ROLLBACKABLE = ["applied", "partially_applied", "rolled_back"];

export function PlansList(props: { go: (q: Query) => void }) {
  const plans = useLoad(() => operation<{ plans: Plan[] }>("list_plans", { limit: 200 }), "plans");
  const [error, setError] = React.useState<string>();
  const [busy, setBusy] = React.useState(false);
  const toast = useToast();
  const fileInput = React.useRef<HTMLInputElement>(null);

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
    } catch (e) {
      setError(String((e as Error).message || e));
    } finally {
      setBusy(false);
    }
  };

  const exportPlan = (plan: Plan) =>
    run(async () => {
      // Without `file` (a path on Stash's machine) the binary returns the plan file itself.
      const out = await operation<{ plan?: unknown; file?: unknown; file_name?: string }>("export_plan", { plan_id: id(plan.id) });
      const planFile = typeof out.file === "string" ? out.file : out.plan;
      const text = typeof planFile === "string" ? planFile : `${JSON.stringify(planFile, null, 2)}\n`;
      const blob = new Blob([text], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = out.file_name || `stashhog-plan-${id(plan.id)}.json`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    });

  const deletePlan = (plan: Plan) => {
    if (!window.confirm(`Delete plan ${id(plan.id)} "${plan.name}"? StashHog forgets it; Stash is not touched.`)) return;
    run(async () => {
      await operation("delete_plan", { plan_id: id(plan.id) });
      if (toast.success) toast.success(`Plan ${id(plan.id)} deleted`);
      plans.reload();
    });
  };

  const importFile = (file: File) =>
    run(async () => {
      const text = await file.text();
      // `plan` carries the document itself (`file` would be a path on Stash's machine).
      const out = await operation<{ plan_id: number }>("import_plan", { plan: text });
      if (toast.success) toast.success(`Imported as plan ${id(out.plan_id)}`);
      props.go({ plan: String(id(out.plan_id)) });
    });

  return (
    <div className="stashhog-plans">
      <div className="d-flex align-items-center mb-3">
        <h4 className="mb-0 mr-auto">Plans</h4>
        <button type="button" className="btn btn-secondary mr-2" onClick={() => props.go({ view: "rejections" })}>
          Rejections
        </button>
        <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => fileInput.current && fileInput.current.click()}>
          Import a plan file…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          className="d-none stashhog-import-input"
          onChange={(e) => {
            const file = e.target.files && e.target.files[0];
            e.target.value = "";
            if (file) importFile(file);
          }}
        />
      </div>
      <ErrorAlert error={error || plans.error} onClose={error ? () => setError(undefined) : undefined} />
      {plans.loading && !plans.data ? <Loading /> : null}
      {plans.data && plans.data.plans.length === 0 ? (
        <div className="alert alert-secondary">
          No plans yet. Run <b>Sync Scene Tags from StashDB</b> (dry run) or <b>Analyze scenes</b> in Settings › Tasks:
          each makes a plan to review here.
        </div>
      ) : null}
      {plans.data && plans.data.plans.length ? (
        <div className="table-responsive">
          <table className="table table-striped table-sm stashhog-table">
            <thead>
              <tr>
                <th>Plan</th>
                <th>Source</th>
                <th>Made</th>
                <th>Status</th>
                <th>Changes</th>
                <th>Mean confidence</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {plans.data.plans.map((plan) => (
                <tr key={plan.id} className="stashhog-plan-row" data-plan={id(plan.id)}>
                  <td>
                    <a
                      href="#"
                      className="stashhog-plan-open"
                      onClick={(e) => {
                        e.preventDefault();
                        props.go({ plan: String(id(plan.id)) });
                      }}
                    >
                      {id(plan.id)} · {plan.name}
                    </a>
                  </td>
                  <td>{sourceName(plan.source)}</td>
                  <td>{when(plan.created_at)}</td>
                  <td>
                    <StatusBadge status={plan.status} />
                  </td>
                  <td>
                    <CountBadges counts={plan.changes} />
                  </td>
                  <td>{percent(plan.mean_confidence)}</td>
                  <td className="text-nowrap text-right">
                    <div className="btn-group btn-group-sm">
                      <button type="button" className="btn btn-primary" onClick={() => props.go({ plan: String(id(plan.id)) })}>
                        Open
                      </button>
                      <button
                        type="button"
                        className="btn btn-secondary"
                        disabled={!(plan.changes && plan.changes.approved)}
                        title="Preview, then apply the approved changes"
                        onClick={() => props.go({ plan: String(id(plan.id)), run: "apply" })}
                      >
                        Apply
                      </button>
                      <button
                        type="button"
                        className="btn btn-secondary"
                        disabled={!ROLLBACKABLE.includes(plan.status)}
                        onClick={() => props.go({ plan: String(id(plan.id)), run: "rollback" })}
                      >
                        Roll back
                      </button>
                      <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => exportPlan(plan)}>
                        Export
                      </button>
                      <button type="button" className="btn btn-danger" disabled={busy} onClick={() => deletePlan(plan)}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
