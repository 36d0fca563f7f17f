// The dashboard's shell: sign-in with a bearer token (kept in sessionStorage, never sent anywhere but this API),
// the header (namespace filter, search, live indicator), the navigation and the page for the current address.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { setAuthorizationServed, forgetDecisions } from './access';
import { ApiError, onUnauthorized, request, token } from './api';
import { App, href, useRoute, type AppState } from './app';
import { Discovery } from './discovery';
import { acquire, release, stopAll, useList } from './informer';
import type { KObject } from './model';
import { Now } from './ui';
import { Overview } from './views/overview';
import { Workloads, WorkloadPage } from './views/workloads';
import { PodsPage, PodPage } from './views/pods';
import { ServicesPage, ServicePage } from './views/services';
import { EventsPage } from './views/events';
import { EditPage } from './views/edit';
import './styles.css';

function takeTokenFromAddress(): void {
  // orchctl dashboard opens /ui/#token=…: the fragment never reaches a server; it is moved to sessionStorage at once
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return;
  token.set(decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + '#/');
}

function SignIn({ onSignedIn, message }: { onSignedIn: (d: Discovery) => void; message?: string }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const candidate = value.trim();
      // a request that needs a token: the core group's discovery
      await request('/api/v1', { bearer: candidate }).catch((err) => {
        throw err instanceof ApiError && err.code === 401 ? new Error('The API did not accept this token.') : err;
      });
      token.set(candidate);
      onSignedIn(await Discovery.load());
    } catch (err) {
      token.clear();
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Orchestrator</h1>
        <p>Sign in with a bearer token for this cluster: the token of your kubeconfig's user
          (<code>kubectl config view --raw -o jsonpath='{'{'}.users[0].user.token{'}'}'</code>) or one made with
          <code> kubectl create token SERVICEACCOUNT</code>. What you see and may do is what that identity may.</p>
        <label for="token">Bearer token</label>
        <input id="token" name="token" type="password" autocomplete="off" required value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)} aria-describedby={error ? 'signin-error' : undefined} />
        {error && <p id="signin-error" class="note error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p class="muted small">The token stays in this browser tab (sessionStorage) and is sent only to this API server.</p>
      </form>
    </main>
  );
}

const Pages = [
  { id: '', label: 'Overview' },
  { id: 'workloads', label: 'Workloads' },
  { id: 'pods', label: 'Pods' },
  { id: 'services', label: 'Services' },
  { id: 'events', label: 'Events' },
];

function NamespaceFilter({ app }: { app: AppState }) {
  const namespaces = useList<KObject>(app.discovery.find('', 'namespaces'), null);
  const names = namespaces.items.map((n) => n.metadata.name).sort();
  if (app.namespace && !names.includes(app.namespace)) names.push(app.namespace);
  return (
    <div class="field">
      <label for="namespace">Namespace</label>
      {namespaces.error && !namespaces.items.length ? (
        <input id="namespace" value={app.namespace ?? ''} placeholder="all namespaces" size={14}
          onChange={(e) => app.setNamespace((e.target as HTMLInputElement).value.trim() || null)} />
      ) : (
        <select id="namespace" value={app.namespace ?? ''} onChange={(e) => app.setNamespace((e.target as HTMLSelectElement).value || null)}>
          <option value="">All namespaces</option>
          {names.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      )}
    </div>
  );
}

function Shell({ discovery, signOut }: { discovery: Discovery; signOut: () => void }) {
  const route = useRoute();
  const [namespace, setNamespaceState] = useState<string | null>(sessionStorage.getItem('orchestrator.namespace') || null);
  const [search, setSearch] = useState('');
  const [announcement, setAnnouncement] = useState('');
  const [now, setNow] = useState(Date.now());
  const searchRef = useRef<HTMLInputElement>(null);
  const mainRef = useRef<HTMLElement>(null);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 5000);
    const keys = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName) && !target.closest('.terminal')) {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    addEventListener('keydown', keys);
    return () => { clearInterval(timer); removeEventListener('keydown', keys); };
  }, []);
  // a new page moves focus to its heading, as a screen reader user expects after following a link (not on first load)
  const firstRoute = useRef(true);
  useEffect(() => {
    if (firstRoute.current) { firstRoute.current = false; return; }
    mainRef.current?.querySelector<HTMLElement>('h1')?.focus({ preventScroll: false });
  }, [route.join('/')]);

  const app = useMemo<AppState>(() => ({
    discovery, namespace, search, setSearch,
    setNamespace: (ns) => {
      setNamespaceState(ns);
      if (ns) sessionStorage.setItem('orchestrator.namespace', ns); else sessionStorage.removeItem('orchestrator.namespace');
    },
    announce: (message) => setAnnouncement(message),
  }), [discovery, namespace, search]);

  const [page, ...rest] = route;
  let content;
  switch (page ?? '') {
    case '': content = <Overview />; break;
    case 'workloads': content = rest.length >= 3 ? <WorkloadPage resource={rest[0]} namespace={rest[1]} name={rest[2]} /> : <Workloads />; break;
    case 'pods': content = rest.length >= 2 ? <PodPage namespace={rest[0]} name={rest[1]} tab={rest[2]} /> : <PodsPage />; break;
    case 'services': content = rest.length >= 2 ? <ServicePage namespace={rest[0]} name={rest[1]} /> : <ServicesPage />; break;
    case 'events': content = <EventsPage />; break;
    case 'edit': content = <EditPage group={rest[0] === 'core' ? '' : rest[0]} resource={rest[1]} namespace={rest[2] === '_' ? undefined : rest[2]} name={rest[3]} />; break;
    default: content = <><h1 tabIndex={-1}>Not found</h1><p>No page at this address. <a href="#/">Go to the overview</a>.</p></>;
  }
  return (
    <App.Provider value={app}>
      <Now.Provider value={now}>
        <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>Skip to content</a>
        <header class="top">
          <a class="brand" href="#/">Orchestrator</a>
          <nav aria-label="Views">
            <ul>
              {Pages.map((p) => (
                <li key={p.id}><a href={href(p.id)} aria-current={(page ?? '') === p.id ? 'page' : undefined}>{p.label}</a></li>
              ))}
            </ul>
          </nav>
          <div class="filters" role="search">
            <NamespaceFilter app={app} />
            <div class="field">
              <label for="search">Search</label>
              <input id="search" ref={searchRef} type="search" value={search} placeholder="name or label (press /)"
                onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
            </div>
          </div>
          <button type="button" class="signout" onClick={signOut}>Sign out</button>
        </header>
        <main id="main" ref={mainRef} tabIndex={-1}>{content}</main>
        <div class="sr-only" role="status" aria-live="polite">{announcement}</div>
      </Now.Provider>
    </App.Provider>
  );
}

function Root() {
  const [discovery, setDiscovery] = useState<Discovery | undefined>(undefined);
  const [state, setState] = useState<'loading' | 'signin' | 'ready'>(token.get() ? 'loading' : 'signin');
  const [message, setMessage] = useState<string | undefined>(undefined);
  const signOut = (why?: string) => {
    token.clear();
    stopAll();
    forgetDecisions();
    setDiscovery(undefined);
    setMessage(why);
    setState('signin');
  };
  useEffect(() => onUnauthorized(() => signOut('The API no longer accepts your token: sign in again.')), []);
  useEffect(() => {
    if (state !== 'loading') return;
    // the overview's lists start with discovery rather than after it: the core group is always served
    const ns = sessionStorage.getItem('orchestrator.namespace');
    const warm = [acquire('/api/v1/nodes'), acquire(ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/pods` : '/api/v1/pods')];
    Discovery.load().then((d) => { ready(d); }).finally(() => warm.forEach(release)).catch((e) => {
      if (e instanceof ApiError && e.code === 401) return;
      setMessage(`Cannot reach the API: ${(e as Error).message}`);
      setState('signin');
    });
  }, [state]);
  const ready = (d: Discovery) => {
    setAuthorizationServed(d.serves('authorization.k8s.io'));
    setDiscovery(d);
    setState('ready');
  };
  if (state === 'ready' && discovery) return <Shell discovery={discovery} signOut={() => signOut()} />;
  if (state === 'loading') return <p class="boot" aria-busy="true">Connecting…</p>;
  return <SignIn onSignedIn={ready} message={message} />;
}

takeTokenFromAddress();
const root = document.getElementById('app')!;
root.textContent = '';
document.documentElement.dataset.app = 'started';
render(<Root />, root);
