// A stand-in for Stash's own web UI, for testing the StashHog page in a real browser. It is built
// from the npm versions Stash pins (React 17, react-router 5, react-bootstrap 1.6, Apollo 3.8) and
// sets `window.PluginApi` with Stash's semantics for what plugins use: routes registered after
// Stash's own, before/instead/after patches of named components, a navbar that renders
// `MainNavBar.UtilityItems` twice, the `PluginSettings` component, toasts, the Apollo client.
// A profile (localStorage "stashhog-shell-profile") picks what a Stash version offers:
// "v0.24" has no ReactDOM, no register.route, no Mousetrap and no toasts.
import * as React from "react";
import * as ReactDOM from "react-dom";
import * as ReactRouterDOM from "react-router-dom";
import * as Bootstrap from "react-bootstrap";
import * as Apollo from "@apollo/client";
import Mousetrap from "mousetrap";

const profile = (() => {
  try {
    return window.localStorage.getItem("stashhog-shell-profile") || "v0.30";
  } catch {
    return "v0.30";
  }
})();
const legacy = profile === "v0.24";

// ---- patches (Stash's PatchFunction / PatchComponent) --------------------------------------
type Fn = (...args: any[]) => any;
const before: Record<string, Fn[]> = {};
const instead: Record<string, Fn[]> = {};
const after: Record<string, Fn[]> = {};
const components: Record<string, any> = {};

function patchFunction(name: string, fn: Fn): Fn {
  return (...args: any[]) => {
    let next = args;
    for (const b of before[name] || []) next = b(...next);
    const chain = (instead[name] || []).reduceRight<Fn>((inner, wrap) => (...a: any[]) => wrap(...a, inner), fn);
    let result = chain(...next);
    for (const a of after[name] || []) result = a(...next, result);
    return result;
  };
}

function patchComponent<P>(name: string, component: React.ComponentType<P>): React.ComponentType<P> {
  const patched = patchFunction(name, component as Fn) as React.ComponentType<P>;
  components[name] = patched;
  return patched;
}

// ---- toasts --------------------------------------------------------------------------------
interface ToastItem {
  id: number;
  text: string;
  error: boolean;
}
let pushToast: (t: Omit<ToastItem, "id">) => void = () => undefined;
function Toasts() {
  const [items, setItems] = React.useState<ToastItem[]>([]);
  React.useEffect(() => {
    let n = 0;
    pushToast = (t) => {
      const id = ++n;
      setItems((list) => [...list, { ...t, id }]);
      setTimeout(() => setItems((list) => list.filter((i) => i.id !== id)), 4000);
    };
  }, []);
  return (
    <div className="shell-toasts">
      {items.map((t) => (
        <div key={t.id} className={`alert ${t.error ? "alert-danger" : "alert-success"} shell-toast`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
function useToast() {
  return {
    success: (text: string) => pushToast({ text, error: false }),
    error: (e: unknown) => pushToast({ text: String((e as Error)?.message || e), error: true }),
  };
}

// ---- GraphQL -------------------------------------------------------------------------------
const client = new Apollo.ApolloClient({
  uri: new URL("graphql", document.baseURI).toString(),
  cache: new Apollo.InMemoryCache(),
});

// ---- Stash's own pages ---------------------------------------------------------------------
const SCENES = Apollo.gql`query ShellScenes($filter: FindFilterType) {
  findScenes(filter: $filter) { count scenes { id title } }
}`;
const SCENE = Apollo.gql`query ShellScene($id: ID!) { findScene(id: $id) { id title tags { id name } } }`;

function ScenesPage() {
  const { data, error, loading } = Apollo.useQuery(SCENES, { variables: { filter: { per_page: 20, sort: "title" } } });
  if (loading) return <div className="p-3">Loading…</div>;
  if (error) return <div className="alert alert-danger m-3">{error.message}</div>;
  return (
    <div className="container-fluid shell-scenes">
      <h4 className="my-3">
        Scenes <span className="badge badge-secondary shell-scene-count">{data.findScenes.count}</span>
      </h4>
      <ul>
        {data.findScenes.scenes.map((s: { id: string; title: string }) => (
          <li key={s.id}>
            <ReactRouterDOM.Link to={`/scenes/${s.id}`}>{s.title || `Scene ${s.id}`}</ReactRouterDOM.Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ScenePage() {
  const { id } = ReactRouterDOM.useParams<{ id: string }>();
  const { data, loading } = Apollo.useQuery(SCENE, { variables: { id } });
  if (loading) return <div className="p-3">Loading…</div>;
  const scene = data && data.findScene;
  if (!scene) return <div className="p-3">No such scene.</div>;
  return (
    <div className="container-fluid shell-scene">
      <h4 className="my-3">{scene.title || `Scene ${scene.id}`}</h4>
      <div>
        {scene.tags.map((t: { id: string; name: string }) => (
          <span key={t.id} className="badge badge-secondary mr-1">
            {t.name}
          </span>
        ))}
      </div>
    </div>
  );
}

const PluginSettings = patchComponent("PluginSettings", (props: { pluginID: string }) => (
  <div className="card my-3 shell-plugin-settings" data-plugin={props.pluginID}>
    <div className="card-body">
      <h5>{props.pluginID === "stashhog" ? "StashHog" : props.pluginID}</h5>
      <div className="text-muted">(settings of plugin {props.pluginID})</div>
    </div>
  </div>
));

function SettingsPage() {
  return (
    <div className="container shell-settings">
      <h4 className="my-3">Settings › Plugins</h4>
      <PluginSettings pluginID="stashhog" />
    </div>
  );
}

function NotFound() {
  return <div className="p-3 shell-not-found">Page not found.</div>;
}

// ---- the navbar ----------------------------------------------------------------------------
const UtilityItems = patchComponent("MainNavBar.UtilityItems", (props: React.PropsWithChildren<{}>) => <>{props.children}</>);

function NavBar() {
  const { NavLink } = ReactRouterDOM;
  return (
    <nav className="navbar navbar-expand navbar-dark bg-dark fixed-top shell-navbar">
      <span className="navbar-brand">Stash (test shell, {profile})</span>
      <div className="navbar-nav mr-auto">
        <NavLink className="nav-link" to="/scenes">
          Scenes
        </NavLink>
        <NavLink className="nav-link" to="/settings">
          Settings
        </NavLink>
      </div>
      {/* Stash renders the utility items twice: in the collapsed menu and in the bar. */}
      <div className="d-none shell-utility-collapsed">
        <UtilityItems>
          <button type="button" className="btn minimal">Help</button>
        </UtilityItems>
      </div>
      <div className="navbar-nav d-flex align-items-center shell-utility">
        <UtilityItems>
          <button type="button" className="btn minimal">Help</button>
        </UtilityItems>
      </div>
    </nav>
  );
}

// ---- routes --------------------------------------------------------------------------------
const pluginRoutes: { path: string; component: React.ComponentType<any> }[] = [];

function App() {
  const { Switch, Route, Redirect } = ReactRouterDOM;
  return (
    <ReactRouterDOM.BrowserRouter basename={new URL(document.baseURI).pathname.replace(/\/$/, "")}>
      <Apollo.ApolloProvider client={client}>
        <NavBar />
        <Toasts />
        <div className="main shell-main">
          <Switch>
            <Route exact path="/" render={() => <Redirect to="/scenes" />} />
            <Route exact path="/scenes" component={ScenesPage} />
            <Route path="/scenes/:id" component={ScenePage} />
            <Route path="/settings" component={SettingsPage} />
            {pluginRoutes.map((r) => (
              <Route key={r.path} path={r.path} component={r.component} />
            ))}
            <Route component={NotFound} />
          </Switch>
        </div>
      </Apollo.ApolloProvider>
    </ReactRouterDOM.BrowserRouter>
  );
}

// ---- window.PluginApi ----------------------------------------------------------------------
function LoadingIndicator(props: { message?: string }) {
  return <div className="shell-loading text-muted">{props.message || "Loading…"}</div>;
}
components.LoadingIndicator = LoadingIndicator;

const api: Record<string, any> = {
  React,
  libraries: { ReactRouterDOM, Bootstrap, Apollo, Intl: {} },
  components,
  patch: {
    before: (name: string, fn: Fn) => (before[name] = before[name] || []).push(fn),
    instead: (name: string, fn: Fn) => (instead[name] = instead[name] || []).push(fn),
    after: (name: string, fn: Fn) => (after[name] = after[name] || []).push(fn),
  },
  register: {},
  utils: { StashService: { getClient: () => client } },
};
if (!legacy) {
  api.ReactDOM = ReactDOM;
  api.libraries.Mousetrap = Mousetrap;
  api.hooks = { useToast };
  api.register.route = (path: string, component: React.ComponentType<any>) => pluginRoutes.push({ path, component });
}
(window as any).PluginApi = api;

// Plugin scripts are `defer` scripts after this one: they run before DOMContentLoaded, which is
// when the app renders — as in Stash, where plugins register before the first render.
document.addEventListener("DOMContentLoaded", () => {
  ReactDOM.render(<App />, document.getElementById("root"));
});
