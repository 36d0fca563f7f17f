// Workloads: Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets and Jobs — whichever the
// server serves — with their pods and rollout progress; a workload's page has its actions (scale, restart, roll back,
// edit, delete) and its revisions.
import { useState } from 'preact/hooks';
import { remove, restart, RevisionAnnotation, rollback, scale } from '../actions';
import { byName, href, useApp, visible, workloadHref } from '../app';
import type { Discovery, Resource } from '../discovery';
import { useList } from '../informer';
import { controllerOf, type KObject, type Pod } from '../model';
import { ActionButton, ActionError, Age, Badge, Conditions, Confirm, Labels, ListStatus, PodPicture, useAction } from '../ui';
import { PodTable } from './pods';

interface Kind { group: string; resource: string; title: string; scalable: boolean; restartable: boolean }

const Kinds: Kind[] = [
  { group: 'apps', resource: 'deployments', title: 'Deployments', scalable: true, restartable: true },
  { group: 'apps', resource: 'statefulsets', title: 'StatefulSets', scalable: true, restartable: true },
  { group: 'apps', resource: 'daemonsets', title: 'DaemonSets', scalable: false, restartable: true },
  { group: 'apps', resource: 'replicasets', title: 'ReplicaSets', scalable: true, restartable: false },
  { group: '', resource: 'replicationcontrollers', title: 'ReplicationControllers', scalable: true, restartable: false },
  { group: 'batch', resource: 'jobs', title: 'Jobs', scalable: false, restartable: false },
];

function kindOf(resource: string): Kind | undefined {
  return Kinds.find((k) => k.resource === resource);
}

interface Progress { ready: string; done: number; total: number; text: string; health: 'ok' | 'progress' | 'bad' | 'idle' }

/** How far the workload is, in the words of `kubectl rollout status` (Jobs: completions). */
export function progressOf(resource: string, o: KObject): Progress {
  const s = o.status ?? {};
  const desired: number = o.spec?.replicas ?? (resource === 'daemonsets' ? s.desiredNumberScheduled ?? 0 : 1);
  if (resource === 'jobs') {
    const completions: number = o.spec?.completions ?? 1;
    const failed = (s.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Failed' && c.status === 'True');
    const complete = (s.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True');
    return {
      ready: `${s.succeeded ?? 0}/${completions}`, done: s.succeeded ?? 0, total: completions,
      text: failed ? 'Failed' : complete ? 'Complete' : `${s.active ?? 0} active, ${s.failed ?? 0} failed`,
      health: failed ? 'bad' : complete ? 'idle' : 'progress',
    };
  }
  if (resource === 'daemonsets') {
    const d = s.desiredNumberScheduled ?? 0, updated = s.updatedNumberScheduled ?? 0, available = s.numberAvailable ?? 0;
    const text = updated < d ? `${updated} of ${d} updated pods scheduled` : available < d ? `${available} of ${d} updated pods available` : 'rolled out';
    return { ready: `${s.numberReady ?? 0}/${d}`, done: Math.min(updated, available), total: d, text, health: text === 'rolled out' ? 'ok' : 'progress' };
  }
  const ready = s.readyReplicas ?? 0;
  if (resource === 'deployments') {
    const updated = s.updatedReplicas ?? 0, replicas = s.replicas ?? 0, available = s.availableReplicas ?? 0;
    const progressing = (s.conditions ?? []).find((c: { type: string }) => c.type === 'Progressing');
    let text: string;
    let health: Progress['health'] = 'progress';
    if ((o.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) text = 'waiting for the spec update to be observed';
    else if (progressing?.reason === 'ProgressDeadlineExceeded') { text = 'exceeded its progress deadline'; health = 'bad'; }
    else if (updated < desired) text = `${updated} of ${desired} new replicas updated`;
    else if (replicas > updated) text = `${replicas - updated} old replicas pending termination`;
    else if (available < updated) text = `${available} of ${updated} updated replicas available`;
    else { text = 'rolled out'; health = 'ok'; }
    if (o.spec?.paused) { text = `paused: ${text}`; health = 'idle'; }
    return { ready: `${ready}/${desired}`, done: Math.min(updated, available), total: desired, text, health };
  }
  const text = ready < desired ? `${ready} of ${desired} ready` : 'ready';
  return { ready: `${ready}/${desired}`, done: ready, total: desired, text, health: ready >= desired ? 'ok' : 'progress' };
}

/** The pods a workload runs: its own, or for a Deployment those of its ReplicaSets. */
export function podsOf(o: KObject, pods: Pod[], replicaSets: KObject[]): Pod[] {
  const owners = new Set([o.metadata.uid]);
  if (o.kind === 'Deployment' || replicaSets.some((rs) => controllerOf(rs)?.uid === o.metadata.uid)) {
    for (const rs of replicaSets) if (controllerOf(rs)?.uid === o.metadata.uid) owners.add(rs.metadata.uid);
  }
  return pods.filter((p) => owners.has(controllerOf(p)?.uid ?? '')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

export function Workloads() {
  const app = useApp();
  const pods = useList<Pod>(app.discovery.find('', 'pods'), app.namespace);
  const replicaSets = useList<KObject>(app.discovery.find('apps', 'replicasets'), app.namespace);
  const served = Kinds.filter((k) => app.discovery.find(k.group, k.resource));
  return (
    <section aria-labelledby="workloads-title">
      <h1 id="workloads-title" tabIndex={-1}>Workloads</h1>
      <ListStatus state={pods} what="pods" />
      {served.map((k) => <KindSection key={k.resource} kind={k} pods={pods.items} replicaSets={replicaSets.items} />)}
    </section>
  );
}

function KindSection({ kind, pods, replicaSets }: { kind: Kind; pods: Pod[]; replicaSets: KObject[] }) {
  const app = useApp();
  const resource = app.discovery.find(kind.group, kind.resource)!;
  const list = useList<KObject>(resource, app.namespace);
  const shown = visible(list.items, app).sort(byName);
  const id = `kind-${kind.resource}`;
  return (
    <section aria-labelledby={id} class="kind">
      <h2 id={id}>{kind.title} <span class="count">{shown.length}</span></h2>
      <ListStatus state={list} what={kind.title} />
      {list.synced && shown.length === 0 ? <p class="muted">None{app.namespace ? ` in ${app.namespace}` : ''}.</p> : shown.length > 0 && (
        <div class="table-scroll" tabIndex={0} role="region" aria-label={kind.title}>
          <table class="grid" data-kind={kind.resource}>
            <caption class="sr-only">{kind.title}</caption>
            <thead><tr><th scope="col">Name</th>{!app.namespace && <th scope="col">Namespace</th>}<th scope="col">Ready</th>
              <th scope="col">Progress</th><th scope="col" class="hide-narrow">Pods</th><th scope="col">Age</th></tr></thead>
            <tbody>
              {shown.map((o) => {
                const p = progressOf(kind.resource, o);
                return (
                  <tr key={o.metadata.uid} data-name={o.metadata.name}>
                    <th scope="row"><a href={workloadHref(kind.resource, o.metadata.namespace!, o.metadata.name)}>{o.metadata.name}</a></th>
                    {!app.namespace && <td>{o.metadata.namespace}</td>}
                    <td>{p.ready}</td>
                    <td><progress max={Math.max(p.total, 1)} value={p.done} aria-label={`${o.metadata.name}: ${p.text}`} /> <Badge health={p.health}>{p.text}</Badge></td>
                    <td class="hide-narrow"><PodPicture pods={podsOf(o, pods, replicaSets)} label={`Pods of ${o.metadata.name}`} /></td>
                    <td><Age t={o.metadata.creationTimestamp} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function WorkloadPage({ resource: resourceName, namespace, name }: { resource: string; namespace: string; name: string }) {
  const app = useApp();
  const kind = kindOf(resourceName);
  const resource = kind ? app.discovery.find(kind.group, kind.resource) : undefined;
  const byNameQuery = `fieldSelector=${encodeURIComponent('metadata.name=' + name)}`;
  const list = useList<KObject>(resource, namespace, byNameQuery);
  const pods = useList<Pod>(app.discovery.find('', 'pods'), namespace);
  const replicaSets = useList<KObject>(resourceName === 'deployments' ? app.discovery.find('apps', 'replicasets') : undefined, namespace);
  const o = list.items[0];
  if (!kind || !resource) return <><h1 tabIndex={-1}>Unknown workload kind</h1><p>This server does not serve {resourceName}.</p></>;
  const own = o ? podsOf(o, pods.items, replicaSets.items) : [];
  return (
    <section aria-labelledby="workload-title">
      <p class="crumbs"><a href={href('workloads')}>Workloads</a> / {kind.title} / {namespace}</p>
      <h1 id="workload-title" tabIndex={-1}>{resource.kind} {name}</h1>
      <ListStatus state={list} what={resource.kind} />
      {list.synced && !o && <p class="note" role="status">This {resource.kind} does not exist (any more).</p>}
      {o && (
        <>
          <WorkloadActions kind={kind} resource={resource} o={o} />
          <Rollout resourceName={resourceName} o={o} />
          <dl class="facts">
            <div><dt>Labels</dt><dd><Labels labels={o.metadata.labels} /></dd></div>
            <div><dt>Selector</dt><dd><Labels labels={o.spec?.selector?.matchLabels ?? o.spec?.selector} /></dd></div>
            <div><dt>Images</dt><dd>{(o.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => <code key={c.image}>{c.image} </code>)}</dd></div>
            <div><dt>Created</dt><dd><Age t={o.metadata.creationTimestamp} /></dd></div>
          </dl>
          <h2>Pods <span class="count" data-testid="workload-pod-count">{own.length}</span></h2>
          <PodPicture pods={own} label={`Pods of ${name}`} />
          <PodTable pods={own} caption={`Pods of ${name}`} showNamespace={false} />
          {resourceName === 'deployments' && <Revisions discovery={app.discovery} deployment={o} replicaSets={replicaSets.items} />}
          <Conditions conditions={o.status?.conditions} />
        </>
      )}
    </section>
  );
}

function Rollout({ resourceName, o }: { resourceName: string; o: KObject }) {
  const p = progressOf(resourceName, o);
  return (
    <div class="rollout">
      <label for="rollout-progress">Rollout</label>
      <progress id="rollout-progress" max={Math.max(p.total, 1)} value={p.done} />
      <Badge health={p.health}>{p.text}</Badge> <span class="muted">ready {p.ready}</span>
    </div>
  );
}

function WorkloadActions({ kind, resource, o }: { kind: Kind; resource: Resource; o: KObject }) {
  const action = useAction();
  const [replicas, setReplicas] = useState<string>(String(o.spec?.replicas ?? 1));
  const [deleting, setDeleting] = useState(false);
  const ns = o.metadata.namespace!;
  const name = o.metadata.name;
  const group = resource.group;
  const scaleValid = /^\d+$/.test(replicas) && Number(replicas) <= 10000;
  return (
    <>
      <div class="actions" role="group" aria-label="Actions">
        {kind.scalable && (
          <form class="inline" onSubmit={(e) => {
            e.preventDefault();
            if (scaleValid) void action.run(`scale ${name} to ${replicas}`, () => scale(resource, o, Number(replicas)));
          }}>
            <label for="replicas">Replicas</label>
            <input id="replicas" type="number" min={0} max={10000} inputMode="numeric" value={replicas} aria-invalid={!scaleValid}
              onInput={(e) => setReplicas((e.target as HTMLInputElement).value)} />
            <ActionButton access={{ verb: 'patch', group, resource: resource.resource, subresource: 'scale', namespace: ns, name }}
              busy={action.busy} id="scale" onClick={() => { if (scaleValid) void action.run(`scale ${name} to ${replicas}`, () => scale(resource, o, Number(replicas))); }}>
              Scale
            </ActionButton>
          </form>
        )}
        {kind.restartable && (
          <ActionButton access={{ verb: 'patch', group, resource: resource.resource, namespace: ns, name }} busy={action.busy}
            onClick={() => action.run(`restart ${name}`, () => restart(resource, o))}>Restart</ActionButton>
        )}
        <a class="button" href={href('edit', group || 'core', resource.resource, ns, name)}>Edit YAML</a>
        <ActionButton access={{ verb: 'delete', group, resource: resource.resource, namespace: ns, name }} danger busy={action.busy}
          onClick={() => setDeleting(true)}>Delete</ActionButton>
      </div>
      <ActionError error={action.error} />
      <Confirm title={`Delete ${resource.kind} ${name}?`} open={deleting} onClose={() => setDeleting(false)} confirmLabel="Delete"
        onConfirm={() => action.run(`delete ${name}`, () => remove(resource, o))}>
        <p>Its pods{resource.kind === 'Deployment' ? ' and ReplicaSets' : ''} are deleted with it.</p>
      </Confirm>
    </>
  );
}

function Revisions({ discovery, deployment, replicaSets }: { discovery: Discovery; deployment: KObject; replicaSets: KObject[] }) {
  const action = useAction();
  const deployments = discovery.find('apps', 'deployments')!;
  const own = replicaSets.filter((rs) => controllerOf(rs)?.uid === deployment.metadata.uid)
    .sort((a, b) => Number(b.metadata.annotations?.[RevisionAnnotation] ?? 0) - Number(a.metadata.annotations?.[RevisionAnnotation] ?? 0));
  const current = deployment.metadata.annotations?.[RevisionAnnotation];
  if (own.length === 0) return null;
  return (
    <>
      <h2>Revisions</h2>
      <ActionError error={action.error} />
      <div class="table-scroll" tabIndex={0} role="region" aria-label={`Revisions of ${deployment.metadata.name}`}>
        <table class="grid">
          <caption class="sr-only">Revisions of {deployment.metadata.name}</caption>
          <thead><tr><th scope="col">Revision</th><th scope="col">ReplicaSet</th><th scope="col">Images</th><th scope="col">Pods</th><th scope="col">Age</th><th scope="col"><span class="sr-only">Action</span></th></tr></thead>
          <tbody>
            {own.map((rs) => {
              const revision = rs.metadata.annotations?.[RevisionAnnotation] ?? '?';
              return (
                <tr key={rs.metadata.uid}>
                  <th scope="row">{revision}{revision === current && <span class="muted"> (current)</span>}</th>
                  <td><a href={workloadHref('replicasets', rs.metadata.namespace!, rs.metadata.name)}>{rs.metadata.name}</a></td>
                  <td>{(rs.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => <code key={c.image}>{c.image} </code>)}</td>
                  <td>{rs.status?.readyReplicas ?? 0}/{rs.spec?.replicas ?? 0}</td>
                  <td><Age t={rs.metadata.creationTimestamp} /></td>
                  <td>{revision !== current && (
                    <ActionButton access={{ verb: 'patch', group: 'apps', resource: 'deployments', namespace: deployment.metadata.namespace, name: deployment.metadata.name }}
                      busy={action.busy} onClick={() => action.run(`roll back to revision ${revision}`, () => rollback(deployments, deployment, rs))}>
                      Roll back to {revision}
                    </ActionButton>
                  )}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
