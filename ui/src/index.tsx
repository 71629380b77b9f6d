// Entry point: runs once, synchronously, when Stash loads the plugin's script (before the app
// renders). Registers the `/plugins/stashhog` route and two buttons — one in the navbar, one
// under StashHog's own settings — and nothing else. Every patch is guarded: a patch that throws
// would break Stash's own component (a broken navbar patch blanks the top bar), so on any error
// the original rendering is returned unchanged.
import { api, React, pageSupported, router, PatchFn } from "./host";
import { ROUTE } from "./nav";
import { NeedsNewerStash, StashHogPage } from "./page";

function guardedAfter(name: string, fn: PatchFn): PatchFn {
  return (...args: unknown[]) => {
    const rendered = args[args.length - 1];
    try {
      return fn(...args);
    } catch (error) {
      console.error(`StashHog: the ${name} patch failed; showing Stash's own`, error);
      return rendered;
    }
  };
}

function HogIcon() {
  return (
    <svg className="stashhog-icon" viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M4 9.5C4 6.5 7.6 4 12 4s8 2.5 8 5.5c0 .5-.1 1-.3 1.5l1.7 1.2-1.2 1.6-1.5-1C17.2 15 14.8 16 12 16c-.7 0-1.3 0-2-.2V19H8v-3.9C5.6 14 4 11.9 4 9.5Zm4.5-.5a1 1 0 1 0 0-2 1 1 0 0 0 0 2Zm7 0a1 1 0 1 0 0-2 1 1 0 0 0 0 2ZM10 11.5h4a2 2 0 0 1-4 0Z"
      />
    </svg>
  );
}

function NavButton() {
  const { Link } = router();
  return (
    <Link to={ROUTE} className="btn minimal d-flex align-items-center h-100 nav-utility stashhog-nav-button" title="StashHog: review plans">
      <HogIcon />
      <span className="ml-1 d-none d-xl-inline">StashHog</span>
    </Link>
  );
}

/** Stash 0.24 has no plugin routes: the button explains instead of leading nowhere. */
function LegacyNavButton() {
  const [open, setOpen] = React.useState(false);
  return (
    <div className="position-relative stashhog-nav-legacy">
      <button type="button" className="btn minimal d-flex align-items-center h-100 stashhog-nav-button" title="StashHog" onClick={() => setOpen(!open)}>
        <HogIcon />
      </button>
      {open ? (
        <div className="stashhog-nav-popover">
          <NeedsNewerStash />
        </div>
      ) : null}
    </div>
  );
}

function SettingsLink() {
  const { Link } = router();
  return (
    <div className="stashhog-settings-link my-2">
      <Link to={ROUTE} className="btn btn-primary">
        Open the StashHog page: review, apply and roll back plans
      </Link>
    </div>
  );
}

function register(): void {
  if (!api) return;
  const supported = pageSupported();
  if (supported) {
    try {
      (api.register as { route: (path: string, c: unknown) => void }).route(ROUTE, StashHogPage);
    } catch (error) {
      console.error("StashHog: cannot register its page", error);
    }
  } else {
    console.warn("StashHog: this Stash has no plugin pages (Stash 0.25 or newer is needed); the navbar button explains.");
  }
  const after = api.patch && api.patch.after;
  if (!after) return;
  try {
    after(
      "MainNavBar.UtilityItems",
      guardedAfter("MainNavBar.UtilityItems", (...args: unknown[]) => {
        const rendered = args[args.length - 1] as React.ReactNode;
        return (
          <>
            {supported ? <NavButton /> : <LegacyNavButton />}
            {rendered}
          </>
        );
      }),
    );
  } catch (error) {
    console.error("StashHog: cannot add the navbar button", error);
  }
  if (!supported) return;
  try {
    after(
      "PluginSettings",
      guardedAfter("PluginSettings", (...args: unknown[]) => {
        const props = args[0] as { pluginID?: string } | undefined;
        const rendered = args[args.length - 1] as React.ReactNode;
        if (!props || props.pluginID !== "stashhog") return rendered;
        return (
          <>
            {rendered}
            <SettingsLink />
          </>
        );
      }),
    );
  } catch (error) {
    console.error("StashHog: cannot add the settings button", error);
  }
}

register();
