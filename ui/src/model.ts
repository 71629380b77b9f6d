// The shapes StashHog's operations return (see CONTRACT in the README's "The page" section),
// and the small formatting rules the views share. Numbers cross Go's `interface{}` as floats,
// so ids are rounded before use.

export type Counts = Record<string, number>;

export interface Plan {
  id: number;
  name: string;
  source: string | { mode?: string } | null;
  created_at: string;
  status: string;
  changes: Counts;
  mean_confidence?: number | null;
  revision?: number;
}

export interface Change {
  id: number;
  scene_id?: number | null;
  entity: string;
  entity_id?: number | null;
  field: string;
  action: string;
  value: unknown;
  value_name?: string | null;
  before: unknown;
  before_name?: string | null;
  reason: string;
  confidence: number;
  status: string;
  error?: string | null;
  stash_now?: unknown;
}

export interface SceneCard {
  scene_id: number;
  title?: string | null;
  path?: string | null;
  changes: Change[];
}

export interface FieldRow {
  field: string;
  action: string;
  counts: Counts;
}

export interface ValueRow {
  field: string;
  action: string;
  value: unknown;
  value_name?: string | null;
  scenes: number;
  counts: Counts;
}

export interface ShowPlan {
  plan: Plan;
  fields: FieldRow[];
  values?: ValueRow[];
  matching: number;
  page: number;
  per_page: number;
  changes?: Change[];
  scenes?: SceneCard[];
}

export interface Preview {
  plan_id: number;
  revision?: number;
  requests: { operation: string; count: number }[];
  scenes: number;
  changes: number;
  creates?: number;
  already_in_place?: number;
  conflicted?: number;
  failed?: number;
  kept?: unknown[];
  deleted?: unknown[];
}

export interface RunRecord {
  id: number;
  mode: string;
  status: string;
  started_at?: string | null;
  ended_at?: string | null;
  error?: string | null;
  summary?: any;
}

export interface Rejection {
  id: number;
  field: string;
  action: string;
  value: unknown;
  value_name?: string | null;
  scope: string;
  scene_id?: number | null;
  scene_title?: string | null;
  created_at?: string;
}

/** Statuses a reviewer can still change (the rest are history). */
export const REVIEWABLE = ["pending", "approved", "rejected", "failed"];

/** The statuses a plan can show, in the order a reader expects them. */
export const CHANGE_STATUSES = [
  "pending",
  "approved",
  "rejected",
  "applied",
  "skipped_conflict",
  "failed",
  "reverted",
  "revert_conflict",
  "superseded",
];

export function id(value: unknown): number {
  return Math.round(Number(value));
}

export function sourceName(source: Plan["source"]): string {
  const mode = typeof source === "string" ? source : source && source.mode;
  switch (mode) {
    case "sync_scene_tags":
      return "Tag sync";
    case "analyze":
      return "Analyze";
    case "import_plan":
      return "Imported";
    case "import_fansly":
      return "Fansly import";
    default:
      return mode ? String(mode) : "—";
  }
}

export function count(n: number | null | undefined): string {
  return Math.round(n || 0).toLocaleString("en-US");
}

export function percent(confidence: number | null | undefined): string {
  return confidence === null || confidence === undefined ? "—" : `${Math.round(confidence * 100)}%`;
}

export function when(timestamp: string | null | undefined): string {
  if (!timestamp) return "—";
  const date = new Date(timestamp);
  return isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}

export function action(name: string): string {
  return String(name || "").toUpperCase();
}

/** A display text for a value: its name when the binary gave one, never a bare id otherwise. */
export function shown(name: string | null | undefined, value: unknown): string {
  if (name !== null && name !== undefined && name !== "") return String(name);
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, " ");
}

/** The Bootstrap colour a status is shown in. */
export function statusVariant(status: string): string {
  switch (status) {
    case "approved":
    case "applied":
    case "reverted":
      return "success";
    case "rejected":
    case "failed":
      return "danger";
    case "skipped_conflict":
    case "revert_conflict":
      return "warning";
    case "superseded":
      return "secondary";
    default:
      return "info";
  }
}

export function total(counts: Counts | undefined): number {
  return Object.values(counts || {}).reduce((a, b) => a + (Number(b) || 0), 0);
}

/** A fresh id the page gives a run so it can find the run's stored summary later. */
export function requestId(): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `page-${Date.now().toString(36)}-${random}`;
}
