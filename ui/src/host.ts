// What StashHog's page takes from Stash: the subset of `window.PluginApi` it uses, declared
// here (Stash's own declaration is AGPL and is not copied). Everything Stash ships — React,
// the router, react-bootstrap, Apollo, Mousetrap — comes from PluginApi at run time and is
// never bundled, so the page always runs the exact copies Stash's own UI runs.
import type * as ReactNS from "react";
import type * as RouterNS from "react-router-dom";

/** A component Stash lets plugins patch: called with its props (and, for `after`, its output). */
export type PatchFn = (...args: any[]) => any;

/** Apollo's client, as far as the page uses it. */
export interface ApolloClientLike {
  mutate(options: { mutation: unknown; variables?: Record<string, unknown>; fetchPolicy?: string }): Promise<{ data?: any }>;
  query(options: { query: unknown; variables?: Record<string, unknown>; fetchPolicy?: string }): Promise<{ data?: any }>;
}

/** Stash's toast hook (v0.25+). */
export interface Toast {
  success?: (message: string) => void;
  error?: (error: unknown) => void;
}

/** `window.PluginApi`, the parts StashHog uses; everything newer than v0.24 is optional. */
export interface PluginApi {
  React: typeof ReactNS;
  ReactDOM?: unknown;
  libraries: {
    ReactRouterDOM: typeof RouterNS;
    Bootstrap?: Record<string, any>;
    Apollo?: { gql?: (text: string) => unknown };
    Mousetrap?: { bind(keys: string | string[], fn: (e: KeyboardEvent) => unknown): void; unbind(keys: string | string[]): void };
  };
  register?: { route?: (path: string, component: ReactNS.ComponentType<any>) => void };
  patch?: { before?: (name: string, fn: PatchFn) => void; after?: (name: string, fn: PatchFn) => void };
  components?: Record<string, ReactNS.ComponentType<any> | undefined>;
  hooks?: { useToast?: () => Toast };
  utils?: { StashService?: { getClient?: () => ApolloClientLike } };
}

declare global {
  interface Window {
    PluginApi?: PluginApi;
  }
}

/** The API Stash gave us (undefined outside Stash: the bundle then does nothing). */
export const api: PluginApi | undefined = typeof window === "undefined" ? undefined : window.PluginApi;

/** Stash's React: JSX in this bundle compiles to `React.createElement` on this binding. */
export const React = (api ? api.React : undefined) as typeof ReactNS;

/** The page needs a route and a React able to render into it: Stash 0.25 and later. */
export function pageSupported(): boolean {
  return !!(api && api.ReactDOM && api.register && typeof api.register.route === "function");
}

/** Stash's router (react-router v5). */
export function router(): typeof RouterNS {
  return (api as PluginApi).libraries.ReactRouterDOM;
}

/** A URL inside Stash, resolved against `<base href>` (Stash behind a reverse proxy rewrites it). */
export function stashUrl(path: string): string {
  return new URL(path.replace(/^\//, ""), document.baseURI).toString();
}

/** Toasts when Stash offers them; a no-op otherwise. */
export function useToast(): Toast {
  const hook = api && api.hooks && api.hooks.useToast;
  // The hook's presence never changes during a page's life, so calling it conditionally keeps
  // the hook order stable.
  return hook ? hook() : {};
}
