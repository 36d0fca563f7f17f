// The Kubernetes API as the browser reaches it: same origin as the page, the user's bearer token from sessionStorage
// on every request, Status objects turned into ApiErrors, and newline-delimited watch streams read as they arrive.

const TokenKey = 'orchestrator.token';

export interface StatusCause { field?: string; message?: string; reason?: string }

export interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: StatusCause[]; name?: string; kind?: string };
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly status?: Status) {
    super(message);
  }

  get causes(): StatusCause[] { return this.status?.details?.causes ?? []; }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the API answers 401: the token expired or was revoked, so the app signs out. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TokenKey),
  set: (value: string) => sessionStorage.setItem(TokenKey, value),
  clear: () => sessionStorage.removeItem(TokenKey),
};

export interface RequestOptions {
  method?: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  bearer?: string;
  /** Repeat the request when the network failed (default: every method but POST). */
  retry?: boolean;
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
  const bearer = options.bearer ?? token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const method = options.method ?? 'GET';
  const response = await fetchRetrying(path, { method, headers, body, signal: options.signal, cache: 'no-store' },
    options.retry ?? method !== 'POST');
  if (response.ok) return response;
  throw await errorOf(response, options.bearer === undefined);
}

/**
 * fetch, again after a moment when the request failed in the network. Chromium aborts every connection with
 * ERR_NETWORK_CHANGED whenever the machine's interfaces change — on a lab machine, each time a pod's sandbox joins
 * the bridge. Only requests that mean the same when repeated are retried: reads, PUT, DELETE and the dashboard's
 * patches, which set values rather than add to them; a create (POST) is not, unless the caller says so.
 */
async function fetchRetrying(path: string, init: RequestInit, retry: boolean): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(path, init);
    } catch (e) {
      if (!retry || attempt >= 4 || init.signal?.aborted || !(e instanceof TypeError)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

async function errorOf(response: Response, notify: boolean): Promise<ApiError> {
  let status: Status | undefined;
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') status = parsed as Status;
  } catch { /* not a Status */ }
  if (response.status === 401 && notify) unauthorizedListeners.forEach((l) => l());
  const message = status?.message || text.trim() || `${response.status} ${response.statusText}`;
  return new ApiError(response.status, status?.reason ?? response.statusText, message, status);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request(path, { signal })).json() as Promise<T>;
}

export async function send<T = unknown>(method: string, path: string, body?: unknown, contentType?: string, retry?: boolean): Promise<T> {
  const response = await request(path, { method, body, contentType, retry });
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Reads a streamed response body line by line (watch events, followed logs) until it ends or the signal aborts. */
export async function* lines(response: Response): AsyncGenerator<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim()) yield line;
      }
    }
    buffered += decoder.decode();
    if (buffered.trim()) yield buffered;
  } finally {
    reader.releaseLock();
  }
}

/** The WebSocket subprotocol kube-apiserver reads a bearer token from (browsers cannot set Authorization). */
export function bearerProtocol(): string {
  const bytes = new TextEncoder().encode(token.get() ?? '');
  let binary = '';
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return 'base64url.bearer.authorization.k8s.io.' + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function websocketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
