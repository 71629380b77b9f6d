// Small pieces every view shares: loading a result, showing an error, counts as badges, paging.
import { React, api } from "./host";
import { Counts, CHANGE_STATUSES, count, statusLabel, statusVariant } from "./model";

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` whenever `key` changes (and on `reload`); a slower, older answer never wins. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = React.useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = React.useState(0);
  const latest = React.useRef(0);
  React.useEffect(() => {
    const ticket = ++latest.current;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => ticket === latest.current && setState({ data, loading: false }),
      (error) => ticket === latest.current && setState({ error: String((error && error.message) || error), loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function ErrorAlert(props: { error?: string; onClose?: () => void }) {
  if (!props.error) return null;
  return (
    <div className="alert alert-danger stashhog-error" role="alert">
      {props.onClose ? (
        <button type="button" className="close" aria-label="Close" onClick={props.onClose}>
          <span aria-hidden="true">×</span>
        </button>
      ) : null}
      {props.error}
    </div>
  );
}

export function Loading(props: { text?: string }) {
  const Indicator = api && api.components && api.components.LoadingIndicator;
  if (Indicator) return <Indicator message={props.text || "Loading…"} inline small />;
  return <div className="stashhog-loading text-muted">{props.text || "Loading…"}</div>;
}

export function StatusBadge(props: { status: string }) {
  return (
    <span className={`badge badge-${statusVariant(props.status)} stashhog-status stashhog-status-${props.status}`}>
      {statusLabel(props.status)}
    </span>
  );
}

/** Change counts by status, in a fixed order, as small labelled badges. */
export function CountBadges(props: { counts?: Counts }) {
  const counts = props.counts || {};
  const keys = CHANGE_STATUSES.filter((s) => counts[s]).concat(
    Object.keys(counts).filter((s) => !CHANGE_STATUSES.includes(s) && counts[s]),
  );
  if (!keys.length) return <span className="text-muted">no changes</span>;
  return (
    <span className="stashhog-counts">
      {keys.map((s) => (
        <span key={s} className={`badge badge-pill badge-${statusVariant(s)} mr-1`} data-status={s}>
          {count(counts[s])} {statusLabel(s)}
        </span>
      ))}
    </span>
  );
}

export function Pager(props: { page: number; perPage: number; total: number; onPage: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(props.total / props.perPage));
  if (pages <= 1) return null;
  return (
    <nav className="stashhog-pager d-flex align-items-center my-2" aria-label="pages">
      <button type="button" className="btn btn-secondary btn-sm mr-2" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        ‹ Previous
      </button>
      <span className="text-muted mr-2">
        page {count(props.page)} of {count(pages)}
      </span>
      <button type="button" className="btn btn-secondary btn-sm" disabled={props.page >= pages} onClick={() => props.onPage(props.page + 1)}>
        Next ›
      </button>
    </nav>
  );
}
