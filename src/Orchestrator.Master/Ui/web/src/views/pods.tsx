// Pods: the list, and the pod page — containers' states and restart history, the pod's events, live logs and an
// exec terminal.
import { useRef, useState } from 'preact/hooks';
import { remove } from '../actions';
import { byName, href, navigate, useApp, visible, workloadHref } from '../app';
import { useList } from '../informer';
import { controllerOf, eventTime, readyCount, restarts, type ContainerState, type ContainerStatus, type EventObject, type Pod } from '../model';
import { ActionButton, ActionError, Age, Badge, Conditions, Confirm, Labels, ListStatus, PodBadge, useAction } from '../ui';
import { Logs } from './logs';
import { TerminalPanel } from './terminal-panel';

export function PodTable({ pods, caption, showNamespace }: { pods: Pod[]; caption: string; showNamespace: boolean }) {
  if (pods.length === 0) return <p class="muted">No pods.</p>;
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table class="grid" data-testid="pod-table">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>{showNamespace && <th scope="col">Namespace</th>}<th scope="col">Status</th>
            <th scope="col">Ready</th><th scope="col">Restarts</th><th scope="col" class="hide-narrow">Node</th>
            <th scope="col" class="hide-narrow">IP</th><th scope="col">Age</th>
          </tr>
        </thead>
        <tbody>
          {pods.map((p) => (
            <tr key={p.metadata.uid} data-pod={p.metadata.name}>
              <th scope="row"><a href={href('pods', p.metadata.namespace, p.metadata.name)}>{p.metadata.name}</a></th>
              {showNamespace && <td>{p.metadata.namespace}</td>}
              <td><PodBadge pod={p} /></td>
              <td>{readyCount(p)}</td>
              <td>{restarts(p)}</td>
              <td class="hide-narrow">{p.spec.nodeName ?? <span class="muted">none</span>}</td>
              <td class="hide-narrow">{p.status?.podIP ?? ''}</td>
              <td><Age t={p.metadata.creationTimestamp} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PodsPage() {
  const app = useApp();
  const pods = useList<Pod>(app.discovery.find('', 'pods'), app.namespace);
  const shown = visible(pods.items, app).sort(byName);
  return (
    <section aria-labelledby="pods-title">
      <h1 id="pods-title" tabIndex={-1}>Pods <span class="count">{shown.length}</span></h1>
      <ListStatus state={pods} what="pods" />
      <PodTable pods={shown} caption="Pods" showNamespace={!app.namespace} />
    </section>
  );
}

function describeState(state?: ContainerState): { text: string; health: 'ok' | 'progress' | 'bad' | 'idle'; since?: string } {
  if (state?.running) return { text: 'Running', health: 'ok', since: state.running.startedAt };
  if (state?.waiting) return { text: `Waiting: ${state.waiting.reason ?? ''}`, health: state.waiting.reason?.match(/Err|BackOff|Invalid/) ? 'bad' : 'progress' };
  if (state?.terminated) {
    const t = state.terminated;
    return { text: `Terminated: ${t.reason ?? ''} (exit code ${t.exitCode ?? '?'})`, health: t.exitCode === 0 ? 'idle' : 'bad', since: t.finishedAt };
  }
  return { text: 'Unknown', health: 'progress' };
}

function ContainerRows({ statuses, specs, init }: { statuses: ContainerStatus[]; specs: { name: string; image?: string }[]; init: boolean }) {
  return (
    <>
      {specs.map((c) => {
        const s = statuses.find((x) => x.name === c.name);
        const state = describeState(s?.state);
        const last = s?.lastState?.terminated;
        return (
          <tr key={c.name} data-container={c.name}>
            <th scope="row">{c.name}{init && <span class="muted small"> (init)</span>}</th>
            <td class="wrap"><code>{c.image}</code></td>
            <td><Badge health={state.health}>{state.text}</Badge>{state.since && <span class="muted small"> <Age t={state.since} /></span>}
              {s?.state?.waiting?.message && <div class="small wrap">{s.state.waiting.message}</div>}</td>
            <td>{s?.ready ? 'yes' : 'no'}</td>
            <td>{s?.restartCount ?? 0}</td>
            <td>{last ? <>{last.reason ?? 'Terminated'}, exit code {last.exitCode}{last.finishedAt && <>, <Age t={last.finishedAt} /> ago</>}</> : <span class="muted">none</span>}</td>
          </tr>
        );
      })}
    </>
  );
}

const Tabs = [{ id: '', label: 'Details' }, { id: 'logs', label: 'Logs' }, { id: 'terminal', label: 'Terminal' }];

export function PodPage({ namespace, name, tab }: { namespace: string; name: string; tab?: string }) {
  const app = useApp();
  const podsResource = app.discovery.find('', 'pods')!;
  const list = useList<Pod>(podsResource, namespace, `fieldSelector=${encodeURIComponent('metadata.name=' + name)}`);
  const pod = list.items[0];
  const action = useAction();
  const [deleting, setDeleting] = useState(false);
  const current = Tabs.find((t) => t.id === (tab ?? '')) ?? Tabs[0];
  const tabRefs = useRef<(HTMLAnchorElement | null)[]>([]);

  const onTabKey = (e: KeyboardEvent, index: number) => {
    const next = e.key === 'ArrowRight' ? index + 1 : e.key === 'ArrowLeft' ? index - 1 : -2;
    if (next === -2) return;
    e.preventDefault();
    const target = Tabs[(next + Tabs.length) % Tabs.length];
    navigate('pods', namespace, name, target.id || undefined);
    setTimeout(() => tabRefs.current[(next + Tabs.length) % Tabs.length]?.focus(), 0);
  };

  return (
    <section aria-labelledby="pod-title">
      <p class="crumbs"><a href={href('pods')}>Pods</a> / {namespace}</p>
      <h1 id="pod-title" tabIndex={-1}>Pod {name}</h1>
      <ListStatus state={list} what="the pod" />
      {list.synced && !pod && <p class="note" role="status">This pod does not exist (any more).</p>}
      {pod && (
        <>
          <div class="actions">
            <PodBadge pod={pod} />
            <a class="button" href={href('edit', 'core', 'pods', namespace, name)}>Edit YAML</a>
            <ActionButton access={{ verb: 'delete', group: '', resource: 'pods', namespace, name }} danger busy={action.busy}
              onClick={() => setDeleting(true)}>Delete</ActionButton>
          </div>
          <ActionError error={action.error} />
          <Confirm title={`Delete pod ${name}?`} open={deleting} onClose={() => setDeleting(false)} confirmLabel="Delete"
            onConfirm={() => action.run(`delete pod ${name}`, () => remove(podsResource, pod))}>
            <p>The pod gets its grace period to stop. A controller that owns it creates a replacement.</p>
          </Confirm>
          <div role="tablist" aria-label="Pod views" class="tabs">
            {Tabs.map((t, i) => (
              <a key={t.id} role="tab" ref={(el) => { tabRefs.current[i] = el; }} href={href('pods', namespace, name, t.id || undefined)}
                aria-selected={t === current} tabIndex={t === current ? 0 : -1} id={`tab-${t.id || 'details'}`}
                aria-controls="tab-panel" onKeyDown={(e) => onTabKey(e, i)}>{t.label}</a>
            ))}
          </div>
          <div role="tabpanel" id="tab-panel" aria-labelledby={`tab-${current.id || 'details'}`}>
            {current.id === '' && <PodDetails pod={pod} />}
            {current.id === 'logs' && <Logs pod={pod} />}
            {current.id === 'terminal' && <TerminalPanel pod={pod} />}
          </div>
        </>
      )}
    </section>
  );
}

function PodDetails({ pod }: { pod: Pod }) {
  const app = useApp();
  const owner = controllerOf(pod);
  const events = useList<EventObject>(app.discovery.find('', 'events'), pod.metadata.namespace!,
    `fieldSelector=${encodeURIComponent('involvedObject.name=' + pod.metadata.name)}`);
  const own = events.items.filter((e) => !e.involvedObject?.uid || e.involvedObject.uid === pod.metadata.uid).sort((a, b) => eventTime(b) - eventTime(a));
  const ownerResource = owner ? app.discovery.byKind(owner.apiVersion, owner.kind) : undefined;
  return (
    <>
      <dl class="facts">
        <div><dt>Namespace</dt><dd>{pod.metadata.namespace}</dd></div>
        <div><dt>Node</dt><dd>{pod.spec.nodeName ?? 'not scheduled'}</dd></div>
        <div><dt>Pod IP</dt><dd>{pod.status?.podIP ?? '—'}</dd></div>
        <div><dt>Started</dt><dd><Age t={pod.status?.startTime} /></dd></div>
        <div><dt>Controlled by</dt><dd>{owner ? (ownerResource
          ? <a href={workloadHref(ownerResource.resource, pod.metadata.namespace!, owner.name)}>{owner.kind} {owner.name}</a>
          : `${owner.kind} ${owner.name}`) : 'nothing'}</dd></div>
        <div><dt>Labels</dt><dd><Labels labels={pod.metadata.labels} /></dd></div>
      </dl>
      {pod.status?.message && <p class="note">{pod.status.reason}: {pod.status.message}</p>}
      <div class="table-scroll" tabIndex={0} role="region" aria-label={"Containers"}>
        <table class="grid">
          <caption>Containers and their restart history</caption>
          <thead><tr><th scope="col">Container</th><th scope="col">Image</th><th scope="col">State</th><th scope="col">Ready</th>
            <th scope="col">Restarts</th><th scope="col">Last termination</th></tr></thead>
          <tbody>
            <ContainerRows statuses={pod.status?.initContainerStatuses ?? []} specs={pod.spec.initContainers ?? []} init />
            <ContainerRows statuses={pod.status?.containerStatuses ?? []} specs={pod.spec.containers} init={false} />
          </tbody>
        </table>
      </div>
      <Conditions conditions={pod.status?.conditions} />
      <h2>Events</h2>
      <ListStatus state={events} what="events" />
      {own.length === 0 ? <p class="muted">No events.</p> : (
        <ol class="timeline compact">
          {own.slice(0, 50).map((e) => (
            <li key={e.metadata.uid} class={e.type === 'Warning' ? 'warning' : ''}>
              <Age t={eventTime(e)} /> <strong>{e.reason}</strong>{(e.count ?? 1) > 1 && <span class="muted"> ×{e.count}</span>}: {e.message ?? e.note}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
