// One change as a diff row: what the field holds now and what it would hold — an added tag as a
// green chip, a removed one red, a SET with the old value struck through beside the new — with
// the reason, the confidence, the status, and the reviewer's controls.
import { React } from "./host";
import { StatusBadge } from "./common";
import { Change, REVIEWABLE, action, percent, shown } from "./model";

export type Decide = (decision: "approve" | "reject", changeIds: number[]) => void;

export function DiffValue(props: { change: Change }) {
  const c = props.change;
  const act = action(c.action);
  const value = shown(c.value_name, c.value);
  if (act === "ADD") return <span className="stashhog-chip stashhog-chip-add">+ {value}</span>;
  if (act === "REMOVE") return <span className="stashhog-chip stashhog-chip-remove">− {value}</span>;
  if (act === "CREATE") return <span className="stashhog-chip stashhog-chip-create">new {c.entity}: {value}</span>;
  return (
    <span className="stashhog-set">
      <del className="stashhog-before">{shown(c.before_name, c.before)}</del>
      <span className="stashhog-arrow"> → </span>
      <ins className="stashhog-after">{value}</ins>
    </span>
  );
}

export function DiffRow(props: { change: Change; selected: boolean; onSelect: (on: boolean) => void; decide: Decide }) {
  const c = props.change;
  const reviewable = REVIEWABLE.includes(c.status);
  return (
    <tr className={`stashhog-diff stashhog-diff-${c.status}`} data-change={Math.round(c.id)}>
      <td className="stashhog-check">
        <input type="checkbox" aria-label="select change" disabled={!reviewable} checked={props.selected} onChange={(e) => props.onSelect(e.target.checked)} />
      </td>
      <td className="stashhog-field text-truncate">{c.field || c.entity}</td>
      <td>
        <DiffValue change={c} />
        {c.error ? <div className="text-danger small stashhog-change-error">{c.error}</div> : null}
        {c.stash_now !== undefined && c.stash_now !== null ? (
          <div className="text-warning small">Stash now holds: {shown(undefined, c.stash_now)}</div>
        ) : null}
      </td>
      <td className="text-muted small stashhog-reason">{c.reason}</td>
      <td className="text-nowrap stashhog-confidence">{percent(c.confidence)}</td>
      <td className="stashhog-state">
        <StatusBadge status={c.status} />
      </td>
      <td className="text-nowrap text-right stashhog-actions">
        <div className="btn-group btn-group-sm">
          <button type="button" className="btn btn-outline-success stashhog-approve" disabled={!reviewable || c.status === "approved"} onClick={() => props.decide("approve", [Math.round(c.id)])}>
            ✓
          </button>
          <button type="button" className="btn btn-outline-danger stashhog-reject" disabled={!reviewable || c.status === "rejected"} onClick={() => props.decide("reject", [Math.round(c.id)])}>
            ✗
          </button>
        </div>
      </td>
    </tr>
  );
}
