// Events as a timeline, newest first, grouped by minute: what the controllers, the scheduler and the nodes said.
import { useState } from 'preact/hooks';
import { href, matchesSearch, useApp } from '../app';
import { useList } from '../informer';
import { eventTime, type EventObject } from '../model';
import { Age, ListStatus } from '../ui';

const Shown = 300;

function involvedLink(e: EventObject) {
  const o = e.involvedObject;
  if (!o?.name) return null;
  const text = `${o.kind ?? ''} ${o.name}`;
  if (o.kind === 'Pod' && o.namespace) return <a href={href('pods', o.namespace, o.name)}>{text}</a>;
  if (o.kind === 'Service' && o.namespace) return <a href={href('services', o.namespace, o.name)}>{text}</a>;
  const workloads: Record<string, string> = {
    Deployment: 'deployments', ReplicaSet: 'replicasets', ReplicationController: 'replicationcontrollers',
    StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs',
  };
  if (o.kind && workloads[o.kind] && o.namespace) return <a href={href('workloads', workloads[o.kind], o.namespace, o.name)}>{text}</a>;
  return <span>{text}</span>;
}

export function EventsPage() {
  const app = useApp();
  const events = useList<EventObject>(app.discovery.find('', 'events'), app.namespace);
  const [warningsOnly, setWarningsOnly] = useState(false);
  const all = events.items
    .filter((e) => (!warningsOnly || e.type === 'Warning') && (!app.namespace || e.metadata.namespace === app.namespace))
    .filter((e) => !app.search || matchesSearch(e, app.search) || (e.involvedObject?.name ?? '').includes(app.search) || (e.reason ?? '').toLowerCase().includes(app.search.toLowerCase()))
    .sort((a, b) => eventTime(b) - eventTime(a));
  const shown = all.slice(0, Shown);
  const groups: { minute: number; events: EventObject[] }[] = [];
  for (const e of shown) {
    const minute = Math.floor(eventTime(e) / 60_000) * 60_000;
    if (groups.length === 0 || groups[groups.length - 1].minute !== minute) groups.push({ minute, events: [] });
    groups[groups.length - 1].events.push(e);
  }
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title" tabIndex={-1}>Events <span class="count">{all.length}</span></h1>
      <div class="toolbar">
        <label class="check"><input type="checkbox" checked={warningsOnly} onChange={(e) => setWarningsOnly((e.target as HTMLInputElement).checked)} /> Warnings only</label>
        {all.length > Shown && <span class="muted small">Showing the newest {Shown}.</span>}
      </div>
      <ListStatus state={events} what="events" />
      {events.synced && shown.length === 0 && <p class="muted">No events.</p>}
      <ol class="timeline" aria-label="Events, newest first">
        {groups.map((g) => (
          <li key={g.minute} class="minute">
            <h2 class="when"><time dateTime={new Date(g.minute).toISOString()}>{new Date(g.minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
              {' '}<span class="muted small">(<Age t={g.minute} /> ago)</span></h2>
            <ul>
              {g.events.map((e) => (
                <li key={e.metadata.uid} class={`event ${e.type === 'Warning' ? 'warning' : 'normal'}`}>
                  <span class="event-type">{e.type === 'Warning' ? 'Warning' : 'Normal'}</span>
                  <strong>{e.reason}</strong> {involvedLink(e)}
                  {!app.namespace && <span class="muted small"> in {e.metadata.namespace}</span>}
                  {(e.count ?? 1) > 1 && <span class="muted small"> ×{e.count}</span>}
                  <div class="message">{e.message ?? e.note}</div>
                  <div class="muted small">{e.source?.component ?? ''}{e.source?.host ? ` on ${e.source.host}` : ''}</div>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}
