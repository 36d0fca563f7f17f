// Informers, as client-go has them: list a collection, then watch it from the list's resourceVersion and keep a local
// copy current; a watch that ends is resumed from the last version seen, a 410 Gone (the version left the server's
// window) relists. Every view reads these copies, so everything on screen is live without a refresh button.
// Informers are shared by path and stop a while after their last view unsubscribed.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, lines, request } from './api';
import { collectionPath, type Resource } from './discovery';
import { key, type KObject } from './model';

export interface ListState<T> {
  items: T[];
  synced: boolean;
  error?: Error;
  /** The server does not serve this kind. */
  absent?: boolean;
}

class Gone extends Error {}

const Linger = 30_000;
const WatchTimeoutSeconds = 290;
const PageSize = 5000;

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

export class Informer<T extends KObject> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<() => void>();
  private abort?: AbortController;
  private resourceVersion = '';
  private scheduled = false;
  state: ListState<T> = { items: [], synced: false };
  refs = 0;
  stopTimer?: ReturnType<typeof setTimeout>;

  constructor(readonly path: string, readonly query: string) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    void this.run(this.abort.signal);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 500;
    let relist = true;
    while (!signal.aborted) {
      try {
        if (relist) await this.list(signal);
        relist = false;
        await this.watch(signal);
        backoff = 500;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof Gone) {
          relist = true;
          continue;
        }
        relist = relist || !this.state.synced;
        this.fail(e as Error);
        await sleep(e instanceof ApiError && e.code < 500 ? Math.max(backoff, 5000) : backoff, signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private url(extra: string): string {
    const query = [this.query, extra].filter((q) => q).join('&');
    return `${this.path}?${query}`;
  }

  private async list(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let next = '';
    let version = '';
    do {
      const page = await getJson<{ metadata: { resourceVersion: string; continue?: string }; items: T[] }>(
        this.url(`limit=${PageSize}${next ? '&continue=' + encodeURIComponent(next) : ''}`), signal);
      for (const item of page.items) fresh.set(key(item), item);
      next = page.metadata.continue ?? '';
      version = page.metadata.resourceVersion;
    } while (next);
    this.objects.clear();
    fresh.forEach((v, k) => this.objects.set(k, v));
    this.resourceVersion = version;
    this.state = { items: [], synced: true };
    this.publish(true);
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const response = await request(
      this.url(`watch=1&allowWatchBookmarks=true&timeoutSeconds=${WatchTimeoutSeconds}&resourceVersion=${this.resourceVersion}`),
      { signal });
    if (this.state.error) {
      this.state = { ...this.state, error: undefined };
      this.publish(false);
    }
    for await (const line of lines(response)) {
      const event = JSON.parse(line) as { type: string; object: T & { code?: number; message?: string; reason?: string } };
      const object = event.object;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
          this.objects.set(key(object), object);
          break;
        case 'DELETED':
          this.objects.delete(key(object));
          break;
        case 'BOOKMARK':
          break;
        case 'ERROR':
          if (object.code === 410) throw new Gone();
          throw new ApiError(object.code ?? 500, object.reason ?? 'Error', object.message ?? 'watch failed');
        default:
          continue;
      }
      if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
      if (event.type !== 'BOOKMARK') this.publish(false);
    }
  }

  private fail(error: Error): void {
    this.state = { ...this.state, error };
    this.publish(false);
  }

  /** Listeners run once per frame however many events arrived in it. */
  private publish(now: boolean): void {
    if (this.scheduled && !now) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      this.state = { ...this.state, items: Array.from(this.objects.values()) };
      this.listeners.forEach((l) => l());
    };
    if (now || document.hidden) queueMicrotask(flush);
    else requestAnimationFrame(flush);
  }
}

const informers = new Map<string, Informer<KObject>>();

export function acquire<T extends KObject>(path: string, query = ''): Informer<T> {
  const id = `${path}?${query}`;
  let informer = informers.get(id);
  if (!informer) {
    informer = new Informer<KObject>(path, query);
    informers.set(id, informer);
  }
  clearTimeout(informer.stopTimer);
  informer.refs++;
  informer.start();
  return informer as unknown as Informer<T>;
}

export function release(informer: Informer<KObject>): void {
  if (--informer.refs > 0) return;
  informer.stopTimer = setTimeout(() => {
    if (informer.refs > 0) return;
    informer.stop();
    informers.delete(`${informer.path}?${informer.query}`);
  }, Linger);
}

/** Stops every informer (sign-out). */
export function stopAll(): void {
  informers.forEach((i) => i.stop());
  informers.clear();
}

const Absent: ListState<never> = { items: [], synced: true, absent: true };
const Waiting: ListState<never> = { items: [], synced: false };

/** The live list of a resource in a namespace (null: all namespaces), re-rendering the component on every change. */
export function useList<T extends KObject>(resource: Resource | undefined, namespace: string | null, query = ''): ListState<T> {
  const path = resource ? collectionPath(resource, namespace) : undefined;
  const [state, setState] = useState<ListState<T>>(Waiting);
  useEffect(() => {
    if (!path) return;
    const informer = acquire<T>(path, query);
    setState(informer.state);
    const unsubscribe = informer.subscribe(() => setState(informer.state));
    return () => {
      unsubscribe();
      release(informer as unknown as Informer<KObject>);
    };
  }, [path, query]);
  if (!resource) return Absent;
  return state;
}
