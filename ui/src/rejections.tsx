// Rejections that stay rejected: what StashHog will not propose again, for one scene or for
// every scene, and a way to take a rejection back.
import { React } from "./host";
import { operation } from "./stash";
import { ErrorAlert, Loading, useLoad } from "./common";
import { Rejection, action, id, shown, when } from "./model";
import { Query } from "./nav";

export function Rejections(props: { go: (q: Query) => void }) {
  const rejections = useLoad(() => operation<{ rejections: Rejection[] }>("list_rejections"), "rejections");
  const [error, setError] = React.useState<string>();
  const remove = async (r: Rejection) => {
    try {
      await operation("remove_rejection", { id: id(r.id) });
      rejections.reload();
    } catch (e) {
      setError(String((e as Error).message || e));
    }
  };
  const rows = (rejections.data && rejections.data.rejections) || [];
  return (
    <div className="stashhog-rejections">
      <div className="d-flex align-items-center mb-3">
        <button type="button" className="btn btn-link pl-0 mr-2" onClick={() => props.go({})}>
          ‹ Plans
        </button>
        <h4 className="mb-0 mr-auto">Rejections</h4>
      </div>
      <p className="text-muted">
        A change you reject is not proposed again for that scene by a later tag sync or analysis; one rejected
        everywhere is not proposed for any scene. Remove a rejection to have it proposed again.
      </p>
      <ErrorAlert error={error || rejections.error} />
      {rejections.loading && !rejections.data ? <Loading /> : null}
      {rejections.data && !rows.length ? <div className="text-muted">Nothing rejected yet.</div> : null}
      {rows.length ? (
        <table className="table table-sm table-striped stashhog-table">
          <thead>
            <tr>
              <th>Change</th>
              <th>Where</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className="stashhog-rejection" data-scope={r.scope}>
                <td>
                  {action(r.action)} {r.field} <b>{shown(r.value_name, r.value)}</b>
                </td>
                <td>{r.scope === "everywhere" ? "every scene" : r.scene_title || (r.scene_id ? `scene ${id(r.scene_id)}` : "one scene")}</td>
                <td>{when(r.created_at)}</td>
                <td className="text-right">
                  <button type="button" className="btn btn-sm btn-secondary stashhog-remove-rejection" onClick={() => remove(r)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
