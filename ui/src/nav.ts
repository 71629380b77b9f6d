// The page keeps its whole view in the query string (`?plan=3&view=scenes&status=pending`), so
// deep links, back/forward and a refresh land on the same view. Stash serves index.html for any
// path without a dot, so `/plugins/stashhog?…` survives a reload.
import { router } from "./host";

/** The page's route. `/plugin/…` (singular) is Stash's server route and 404s on refresh. */
export const ROUTE = "/plugins/stashhog";

export type Query = Record<string, string>;

export function parse(search: string): Query {
  const out: Query = {};
  new URLSearchParams(search).forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

export function href(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${ROUTE}?${text}` : ROUTE;
}

/** The current view, and a way to move to another (pushing history) or adjust this one. */
export function useQuery(): { query: Query; go: (next: Query) => void; update: (changes: Query) => void } {
  const { useLocation, useHistory } = router();
  const location = useLocation();
  const history = useHistory();
  const query = parse(location.search);
  return {
    query,
    go: (next) => history.push(href(next)),
    update: (changes) => history.push(href({ ...query, ...changes })),
  };
}
