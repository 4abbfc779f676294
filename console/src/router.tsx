/**
 * History-API routing: every page has a stable URL under /console that can be bookmarked, shared
 * and reloaded (the server answers index.html for all of them).
 */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";

export type Route =
  | { readonly page: "topics" }
  | { readonly page: "topic"; readonly topic: string }
  | { readonly page: "groups" }
  | { readonly page: "group"; readonly group: string }
  | { readonly page: "subscriptions" }
  | { readonly page: "subscription"; readonly name: string }
  | { readonly page: "not-found"; readonly path: string };

export const paths = {
  topics: () => BASE,
  topic: (topic: string, query?: Record<string, string | number>) => `${BASE}/topics/${encodeURIComponent(topic)}${queryString(query)}`,
  groups: () => `${BASE}/groups`,
  group: (group: string) => `${BASE}/groups/${encodeURIComponent(group)}`,
  subscriptions: () => `${BASE}/subscriptions`,
  subscription: (name: string) => `${BASE}/subscriptions/${encodeURIComponent(name)}`,
};

function queryString(query: Record<string, string | number> | undefined): string {
  if (!query || Object.keys(query).length === 0) return "";
  return `?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()}`;
}

export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/$/, "") : pathname;
  const segments = rest.split("/").slice(1);
  try {
    if (segments.length === 0) return { page: "topics" };
    if (segments[0] === "topics" && segments.length === 1) return { page: "topics" };
    if (segments[0] === "topics" && segments.length === 2) return { page: "topic", topic: decodeURIComponent(segments[1]!) };
    if (segments[0] === "groups" && segments.length === 1) return { page: "groups" };
    if (segments[0] === "groups" && segments.length === 2) return { page: "group", group: decodeURIComponent(segments[1]!) };
    if (segments[0] === "subscriptions" && segments.length === 1) return { page: "subscriptions" };
    if (segments[0] === "subscriptions" && segments.length === 2) return { page: "subscription", name: decodeURIComponent(segments[1]!) };
  } catch {
    // A malformed escape: no such page.
  }
  return { page: "not-found", path: pathname };
}

const NAVIGATED = "dynalog:navigated";

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  dispatchEvent(new Event(NAVIGATED));
}

/** The current location, re-rendering on back/forward and on `navigate`. */
export function useLocation(): { route: Route; query: URLSearchParams; href: string } {
  const [href, setHref] = useState(location.pathname + location.search);
  useEffect(() => {
    const update = () => setHref(location.pathname + location.search);
    addEventListener("popstate", update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  const url = new URL(href, location.origin);
  return { route: parseRoute(url.pathname), query: url.searchParams, href };
}

/** A real link (opens in a new tab with a modifier key) that navigates in place on a plain click. */
export function Link(props: { href: string; children: ComponentChildren; class?: string }): JSX.Element {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick}>
      {props.children}
    </a>
  );
}
