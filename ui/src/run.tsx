// Applying or rolling back a plan: a preview first (exactly what would be sent, nothing sent),
// then the run as a Stash task — so it survives closing the tab and waits its turn in Stash's
// queue — watched through `findJob`, and finally the outcome read back from StashHog's own
// database, because Stash throws a task's output away.
import { React, useToast } from "./host";
import { findJob, operation, stopJob, task, Job } from "./stash";
import { ErrorAlert, Loading, useLoad } from "./common";
import { Plan, Preview, RunRecord, count, id, requestId, shown } from "./model";

type Kind = "apply" | "rollback";

const POLL_MS = 1000;

export function RunPanel(props: {
  plan: Plan;
  kind: Kind;
  requestId?: string;
  jobId?: string;
  onStarted: (requestId: string, jobId: string) => void;
  onClose: () => void;
  onRestart: (kind: Kind) => void;
  onProgress: () => void;
}) {
  const title = props.kind === "apply" ? "Apply" : "Roll back";
  return (
    <div className={`card mb-3 border-primary stashhog-run stashhog-run-${props.kind}`}>
      <div className="card-header d-flex align-items-center">
        <b className="mr-auto">
          {title} plan {id(props.plan.id)}
        </b>
        <button type="button" className="close" aria-label="Close" onClick={props.onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div className="card-body">
        {props.requestId && props.jobId ? (
          <Watch {...props} requestId={props.requestId} jobId={props.jobId} />
        ) : (
          <PreviewStep {...props} />
        )}
      </div>
    </div>
  );
}

function PreviewStep(props: { plan: Plan; kind: Kind; onStarted: (requestId: string, jobId: string) => void }) {
  const planId = id(props.plan.id);
  const mode = props.kind === "apply" ? "preview_apply" : "preview_rollback";
  const [deleteCreated, setDeleteCreated] = React.useState(false);
  const previewArgs: Record<string, unknown> = { plan_id: planId };
  if (props.kind === "rollback" && deleteCreated) previewArgs.delete_created = true;
  const preview = useLoad(() => operation<Preview>(mode, previewArgs), `${mode}-${planId}-${props.plan.revision}-${deleteCreated}`);
  const [error, setError] = React.useState<string>();
  const [starting, setStarting] = React.useState(false);

  const start = async () => {
    if (!preview.data) return;
    setStarting(true);
    setError(undefined);
    const rid = requestId();
    try {
      const args: Record<string, unknown> = { plan_id: planId, request_id: rid };
      let jobId: string;
      if (props.kind === "apply") {
        if (preview.data.revision !== undefined) args.revision = Math.round(preview.data.revision);
        jobId = await task("apply_plan", `StashHog: apply plan ${planId}`, args);
      } else {
        if (deleteCreated) args.delete_created = true;
        jobId = await task("rollback_plan", `StashHog: roll back plan ${planId}`, args);
      }
      props.onStarted(rid, jobId);
    } catch (e) {
      setError(String((e as Error).message || e));
      setStarting(false);
    }
  };

  if (preview.loading && !preview.data) return <Loading text="Working out what would be sent…" />;
  if (preview.error) return <ErrorAlert error={preview.error} />;
  const p = preview.data as Preview;
  const nothing = !p.changes && !p.creates;
  return (
    <div className="stashhog-preview">
      <p className="mb-2">
        {props.kind === "apply" ? "Would apply" : "Would revert"} <b className="stashhog-preview-changes">{count(p.changes)}</b> change(s) on{" "}
        <b>{count(p.scenes)}</b> scene(s)
        {p.creates ? (
          <>
            {" "}
            and create <b>{count(p.creates)}</b> tag(s)/performer(s)/studio(s)
          </>
        ) : null}
        , in these requests to Stash:
      </p>
      {p.already_in_place || p.conflicted ? (
        <p className="text-muted stashhog-preview-skips">
          {p.already_in_place ? `${count(p.already_in_place)} already as planned in Stash. ` : ""}
          {p.conflicted ? (
            <span className="text-warning stashhog-preview-conflicts">
              {count(p.conflicted)} conflict(s): Stash holds something else now, so these are left alone.
            </span>
          ) : null}
        </p>
      ) : null}
      <ul className="stashhog-requests">
        {(p.requests || []).map((r) => (
          <li key={r.operation}>
            <code>{r.operation}</code> × {count(r.count)}
          </li>
        ))}
        {!(p.requests || []).length ? <li className="text-muted">none</li> : null}
      </ul>
      {props.kind === "rollback" ? <CreatedLists kept={list(p.kept)} deleted={list(p.deleted)} future={deleteCreated ? "asked" : "not-asked"} /> : null}
      {props.kind === "rollback" ? (
        <div className="custom-control custom-checkbox mb-2">
          <input id="stashhog-delete-created" type="checkbox" className="custom-control-input" checked={deleteCreated} onChange={(e) => setDeleteCreated(e.target.checked)} />
          <label className="custom-control-label" htmlFor="stashhog-delete-created">
            Also delete the tags, performers and studios this plan created, once nothing uses them
          </label>
        </div>
      ) : null}
      <ErrorAlert error={error} />
      <button type="button" className="btn btn-primary stashhog-start" disabled={starting || (nothing && props.kind === "apply")} onClick={start}>
        {props.kind === "apply" ? "Apply as a Stash task" : "Roll back as a Stash task"}
      </button>
      <span className="text-muted small ml-2">It runs in Stash's task queue: you may close this tab.</span>
    </div>
  );
}

function jobDone(job: Job | null): boolean {
  return !job || ["FINISHED", "CANCELLED", "FAILED"].includes(job.status);
}

function Watch(props: {
  plan: Plan;
  kind: Kind;
  requestId: string;
  jobId: string;
  onRestart: (kind: Kind) => void;
  onProgress: () => void;
}) {
  const [job, setJob] = React.useState<Job | null | undefined>(undefined);
  const [position, setPosition] = React.useState(-1);
  const [run, setRun] = React.useState<RunRecord | null | undefined>(undefined);
  const [error, setError] = React.useState<string>();
  const [stopping, setStopping] = React.useState(false);
  const [stale, setStale] = React.useState(0);
  const toast = useToast();
  // Stash kills a cancelled task outright, so StashHog cannot record its own end: a run still
  // "running" after Stash ended its job was killed.
  const shownRun = run && run.status === "running" && stale >= 3 ? { ...run, status: "killed" } : run;
  const finished = !!shownRun && shownRun.status !== "running" && job !== undefined && jobDone(job);
  const onProgress = React.useRef(props.onProgress);
  onProgress.current = props.onProgress;

  React.useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let misses = 0;
    const poll = async () => {
      try {
        const found = await findJob(props.jobId);
        const summary = await operation<{ run: RunRecord | null }>("run_summary", { request_id: props.requestId });
        if (!live) return;
        setJob(found.job);
        setPosition(found.position);
        setRun(summary.run);
        setError(undefined);
        onProgress.current();
        const over = jobDone(found.job) && summary.run && summary.run.status !== "running";
        // A job Stash ended while the run still reads "running" (killed), or without StashHog
        // ever recording it (killed before it started): a few more looks, then stop.
        if (jobDone(found.job) && (!summary.run || summary.run.status === "running")) {
          misses += 1;
          setStale(misses);
        }
        if (over || misses > 5) return;
      } catch (e) {
        if (!live) return;
        setError(String((e as Error).message || e));
      }
      timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [props.jobId, props.requestId]);

  const cancel = async () => {
    setStopping(true);
    try {
      await stopJob(props.jobId);
      if (toast.success) toast.success("Cancel requested");
    } catch (e) {
      setError(String((e as Error).message || e));
    }
  };

  const counts = props.plan.changes || {};
  const progress = job && typeof job.progress === "number" ? Math.max(0, Math.min(1, job.progress)) : finished ? 1 : 0;
  let state: string;
  if (job === undefined) state = "Asking Stash…";
  else if (job && job.status === "READY") state = position > 0 ? `Queued in Stash's task queue (${position} job(s) ahead)` : "Queued";
  else if (job && job.status === "RUNNING") state = "Running";
  else if (job && job.status === "STOPPING") state = "Stopping…";
  else if (!finished) state = "Reading the outcome…";
  else state = "Done";

  return (
    <div className="stashhog-watch" data-state={finished ? "done" : job ? job.status : "unknown"}>
      <div className="d-flex align-items-center mb-2">
        <span className="mr-auto stashhog-job-state">{state}</span>
        {!finished && job && !jobDone(job) ? (
          <button type="button" className="btn btn-danger btn-sm stashhog-cancel" disabled={stopping || job.status === "STOPPING"} onClick={cancel}>
            Cancel
          </button>
        ) : null}
      </div>
      <div className="progress mb-2">
        <div className="progress-bar stashhog-progress" role="progressbar" style={{ width: `${Math.round(progress * 100)}%` }} aria-valuenow={Math.round(progress * 100)} aria-valuemin={0} aria-valuemax={100}>
          {Math.round(progress * 100)}%
        </div>
      </div>
      <div className="mb-2 stashhog-live-counts">
        {props.kind === "apply" ? (
          <>
            <span className="badge badge-success mr-1">{count(counts.applied)} applied</span>
            <span className="badge badge-warning mr-1">{count(counts.skipped_conflict)} conflicts</span>
            <span className="badge badge-danger mr-1">{count(counts.failed)} failed</span>
            <span className="badge badge-info mr-1">{count(counts.approved)} still to apply</span>
          </>
        ) : (
          <>
            <span className="badge badge-success mr-1">{count(counts.reverted)} reverted</span>
            <span className="badge badge-warning mr-1">{count(counts.revert_conflict)} conflicts</span>
            <span className="badge badge-info mr-1">{count(counts.applied)} still applied</span>
          </>
        )}
      </div>
      <ErrorAlert error={error} />
      {finished && shownRun ? <Outcome run={shownRun} kind={props.kind} onRestart={props.onRestart} /> : null}
      {job === null && run === null ? (
        <div className="alert alert-secondary">Stash no longer lists this job and StashHog has no record of the run.</div>
      ) : null}
    </div>
  );
}

function list(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function number(value: unknown): number {
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.length;
  return 0;
}

/** What a rollback deletes and keeps of the tags, performers and studios its plan created. */
// A preview counts uses as Stash has them now, before any scene is reverted: what the plan
// itself still links shows as "in use" and is deleted by the run once the scenes are reverted.
function CreatedLists(props: { kept: any[]; deleted: any[]; future?: "asked" | "not-asked" }) {
  if (!props.kept.length && !props.deleted.length) return null;
  const name = (entry: any) => (typeof entry === "string" ? entry : String(entry && entry.name));
  const kept = props.kept.map((k) => `${name(k)}${k && k.reason ? ` (${k.reason})` : ""}`).join(", ");
  return (
    <div className="stashhog-created">
      {props.deleted.length ? (
        <p className="stashhog-deleted mb-1">
          {props.future ? "Would delete" : "Deleted"}: {props.deleted.map(name).join(", ")}
        </p>
      ) : null}
      {props.kept.length && props.future === "not-asked" ? <p className="stashhog-kept mb-1">Created by this plan and kept: {kept}</p> : null}
      {props.kept.length && props.future === "asked" ? (
        <p className="stashhog-kept mb-1">
          Created by this plan: {kept}. Each is deleted once the rollback has reverted the scenes, unless something else
          still uses it.
        </p>
      ) : null}
      {props.kept.length && !props.future ? <p className="stashhog-kept mb-1">Kept: {kept}</p> : null}
    </div>
  );
}

function Outcome(props: { run: RunRecord; kind: Kind; onRestart: (kind: Kind) => void }) {
  const { run } = props;
  const s = run.summary || {};
  const conflicts = list(s.conflicts).length ? list(s.conflicts) : list(s.conflict_examples);
  const failures = list(s.failures).length ? list(s.failures) : list(s.failure_examples);
  const kept = list(s.kept).length ? list(s.kept) : list(s.created_kept);
  const deleted = list(s.deleted).length ? list(s.deleted) : list(s.created_deleted);
  const variant = run.status === "ok" ? (conflicts.length || failures.length ? "warning" : "success") : run.status === "killed" ? "secondary" : "danger";
  const headline =
    run.status === "ok"
      ? props.kind === "apply"
        ? `Applied ${count(number(s.applied))} change(s).`
        : `Reverted ${count(number(s.reverted))} change(s).`
      : run.status === "killed"
        ? "Cancelled. What was done is kept; run it again to finish the rest (nothing is applied twice)."
        : run.status === "refused"
          ? `Not started: ${run.error || "refused"}`
          : `Failed: ${run.error || "unknown error"}`;
  return (
    <div className="stashhog-outcome" data-run-status={run.status}>
      <div className={`alert alert-${variant} stashhog-outcome-headline`}>
        {headline}
        {run.status === "ok" && number(s.conflicts) ? ` ${count(number(s.conflicts))} conflict(s).` : ""}
        {run.status === "ok" && number(s.failed) ? ` ${count(number(s.failed))} failed.` : ""}
      </div>
      {conflicts.length ? (
        <>
          <h6>Conflicts — Stash holds something else now, so StashHog left these alone</h6>
          <table className="table table-sm stashhog-conflicts">
            <thead>
              <tr>
                <th>Scene</th>
                <th>Field</th>
                <th>Planned</th>
                <th>Stash now</th>
              </tr>
            </thead>
            <tbody>
              {conflicts.map((c, i) => (
                <tr key={i}>
                  <td>{c.title || (c.scene_id !== undefined ? `Scene ${id(c.scene_id)}` : "")}</td>
                  <td>{c.field}</td>
                  <td>{shown(c.value_name, c.value)}</td>
                  <td>{shown(c.stash_now_name, c.stash_now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {failures.length ? (
        <>
          <h6>Failures</h6>
          <ul className="stashhog-failures">
            {failures.map((f, i) => (
              <li key={i}>
                {f.title || (f.change_id !== undefined ? `change ${id(f.change_id)}` : "")}: <span className="text-danger">{f.error}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {props.kind === "rollback" ? <CreatedLists kept={kept} deleted={deleted} /> : null}
      <div className="btn-group">
        {props.kind === "apply" && (run.status === "ok" || run.status === "killed" || run.status === "failed") ? (
          <button type="button" className="btn btn-secondary stashhog-outcome-rollback" onClick={() => props.onRestart("rollback")}>
            Roll back
          </button>
        ) : null}
        {run.status !== "ok" ? (
          <button type="button" className="btn btn-primary stashhog-resume" onClick={() => props.onRestart(props.kind)}>
            {run.status === "refused" ? "Preview again" : "Resume"}
          </button>
        ) : null}
      </div>
    </div>
  );
}
