// The StashHog page: which view the query string names, inside Stash's own layout.
import { React } from "./host";
import { useQuery } from "./nav";
import { PlansList } from "./plans";
import { PlanPage } from "./plan";
import { Rejections } from "./rejections";

export function StashHogPage() {
  const { query, go, update } = useQuery();
  React.useEffect(() => {
    const before = document.title;
    document.title = "StashHog | Stash";
    return () => {
      document.title = before;
    };
  }, []);
  const planId = Math.round(Number(query.plan));
  let view;
  if (query.view === "rejections") view = <Rejections go={go} />;
  else if (planId > 0) view = <PlanPage key={planId} planId={planId} query={query} go={go} update={update} />;
  else view = <PlansList go={go} />;
  return <div className="container-fluid stashhog-page">{view}</div>;
}

/** What Stash 0.24 users see instead of the page: why, and what to do. */
export function NeedsNewerStash() {
  return (
    <div className="alert alert-info stashhog-needs-upgrade mb-0" role="status">
      StashHog's review page needs Stash 0.25 or newer. Update Stash to review plans here; until then
      StashHog's tasks still run from Settings › Tasks.
    </div>
  );
}
