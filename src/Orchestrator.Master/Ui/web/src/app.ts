// What every view shares: the server's discovery, the namespace filter and the search text; and the hash router
// (#/pods/ns/name…), so every page has an address and the browser's back button works.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Discovery } from './discovery';
import type { KObject } from './model';

export interface AppState {
  discovery: Discovery;
  /** null: all namespaces. */
  namespace: string | null;
  setNamespace: (ns: string | null) => void;
  search: string;
  setSearch: (text: string) => void;
  announce: (message: string) => void;
}

export const App = createContext<AppState>(null as unknown as AppState);

export const useApp = (): AppState => useContext(App);

export function currentRoute(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter((p) => p).map(decodeURIComponent);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export const href = (...parts: (string | undefined)[]): string =>
  '#/' + parts.filter((p): p is string => p !== undefined && p !== '').map(encodeURIComponent).join('/');

export const workloadHref = (resource: string, namespace: string, name: string): string => href('workloads', resource, namespace, name);

export function navigate(...parts: (string | undefined)[]): void {
  location.hash = href(...parts);
}

/** Search: every word must match the name, the namespace, or a label written k=v (or just a label value). */
export function matchesSearch(o: KObject, search: string): boolean {
  const words = search.toLowerCase().split(/\s+/).filter((w) => w);
  if (words.length === 0) return true;
  const labels = Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`.toLowerCase());
  const name = o.metadata.name.toLowerCase();
  const ns = (o.metadata.namespace ?? '').toLowerCase();
  return words.every((w) => name.includes(w) || ns === w || labels.some((l) => l === w || l.endsWith('=' + w) || l.startsWith(w + '=')));
}

/** The objects in the namespace filter that match the search. */
export function visible<T extends KObject>(items: T[], app: Pick<AppState, 'namespace' | 'search'>): T[] {
  return items.filter((o) => (!app.namespace || !o.metadata.namespace || o.metadata.namespace === app.namespace) && matchesSearch(o, app.search));
}

export const byName = (a: KObject, b: KObject): number =>
  (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
