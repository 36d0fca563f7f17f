// The cluster at a glance: nodes with their Ready state, CPU and memory from the metrics API, and their pods drawn
// as a picture (one square per pod, coloured by state); pods no node runs yet have a picture of their own.
import { useEffect, useState } from 'preact/hooks';
import { cordon, drain } from '../actions';
import { useApp, visible } from '../app';
import { bytes, cores, quantity } from '../format';
import { useList } from '../informer';
import { useNodeMetrics, type Metrics } from '../metrics';
import { isReady, nodeReady, podHealth, type KObject, type Pod } from '../model';
import { ActionButton, ActionError, Age, Badge, Confirm, ListStatus, Meter, PodPicture, useAction } from '../ui';

let marked = false;

/** The first paint with the nodes and pods listed: what the browser tests time as "first meaningful paint". */
function markReady() {
  if (marked) return;
  marked = true;
  requestAnimationFrame(() => setTimeout(() => performance.mark('orchestrator:overview-ready'), 0));
}

export function Overview() {
  const app = useApp();
  const nodesResource = app.discovery.find('', 'nodes')!;
  const nodes = useList<KObject>(nodesResource, null);
  const pods = useList<Pod>(app.discovery.find('', 'pods'), app.namespace);
  const metrics = useNodeMetrics(app.discovery);
  const ready = nodes.synced && pods.synced;
  useEffect(() => { if (ready) markReady(); }, [ready]);

  const shown = visible(pods.items, app);
  const byNode = new Map<string, Pod[]>();
  for (const p of shown) {
    const node = p.spec.nodeName ?? '';
    if (!byNode.has(node)) byNode.set(node, []);
    byNode.get(node)!.push(p);
  }
  byNode.forEach((list) => list.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)));
  const nodeList = nodes.items.slice().sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const readyNodes = nodeList.filter((n) => nodeReady(n) === 'True').length;
  const count = (h: string) => shown.filter((p) => podHealth(p) === h).length;
  const unscheduled = byNode.get('') ?? [];

  return (
    <section class="overview" data-ready={ready ? 'true' : undefined} aria-labelledby="overview-title">
      <h1 id="overview-title" tabIndex={-1}>Cluster overview</h1>
      <ListStatus state={nodes} what="nodes" />
      <ListStatus state={pods} what="pods" />
      <dl class="summary">
        <div><dt>Nodes ready</dt><dd>{readyNodes}/{nodeList.length}</dd></div>
        <div><dt>Pods</dt><dd data-testid="pod-count">{shown.length}</dd></div>
        <div><dt>Running and ready</dt><dd>{shown.filter(isReady).length}</dd></div>
        <div><dt>Starting or pending</dt><dd>{count('progress')}</dd></div>
        <div><dt>Failing</dt><dd>{count('bad')}</dd></div>
      </dl>
      {metrics && !metrics.available && <p class="note" data-testid="metrics-unavailable">{metrics.reason}</p>}
      <div class="cards">
        {nodeList.map((n) => <NodeCard key={n.metadata.uid} node={n} pods={byNode.get(n.metadata.name) ?? []} metrics={metrics} />)}
        {unscheduled.length > 0 && (
          <section class="card node" aria-labelledby="node-unscheduled">
            <h2 id="node-unscheduled">Not on a node</h2>
            <p class="muted small">Pods waiting for the scheduler, or bound to a node that does not exist.</p>
            <PodPicture pods={unscheduled} label="Pods not on a node" />
          </section>
        )}
      </div>
    </section>
  );
}

function NodeCard({ node, pods, metrics }: { node: KObject; pods: Pod[]; metrics?: Metrics }) {
  const app = useApp();
  const nodes = app.discovery.find('', 'nodes')!;
  const action = useAction();
  const [draining, setDraining] = useState(false);
  const name = node.metadata.name;
  const ready = nodeReady(node);
  const cordoned = node.spec?.unschedulable === true;
  const allocatable = node.status?.allocatable ?? {};
  const usage = metrics?.available ? metrics.nodes.get(name) : undefined;
  const address = (node.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === 'InternalIP')?.address;
  const id = `node-${name}`;
  return (
    <section class="card node" aria-labelledby={id} data-node={name}>
      <h2 id={id}>{name}</h2>
      <p class="badges">
        <Badge health={ready === 'True' ? 'ok' : 'bad'}>{ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown'}</Badge>
        {cordoned && <Badge health="progress">SchedulingDisabled</Badge>}
        <span class="muted small">{address} · {node.status?.nodeInfo?.kubeletVersion} · <Age t={node.metadata.creationTimestamp} /></span>
      </p>
      {usage ? (
        <>
          <Meter label="CPU" value={usage.cpu} max={quantity(allocatable.cpu)} text={`${cores(usage.cpu)} of ${cores(quantity(allocatable.cpu))}`} />
          <Meter label="Memory" value={usage.memory} max={quantity(allocatable.memory)} text={`${bytes(usage.memory)} of ${bytes(quantity(allocatable.memory))}`} />
        </>
      ) : metrics?.available ? <p class="muted small">No metrics reported for this node yet.</p> : null}
      <Meter label="Pods" value={pods.length} max={quantity(allocatable.pods)} text={`${pods.length} of ${allocatable.pods ?? '?'}`} />
      <PodPicture pods={pods} label={`Pods on ${name}`} />
      <div class="actions">
        <ActionButton access={{ verb: 'patch', group: '', resource: 'nodes', name }} busy={action.busy}
          onClick={() => action.run(`${cordoned ? 'uncordon' : 'cordon'} ${name}`, () => cordon(nodes, node, !cordoned))}>
          {cordoned ? 'Uncordon' : 'Cordon'}
        </ActionButton>
        <ActionButton access={{ verb: 'create', group: '', resource: 'pods', subresource: 'eviction' }} busy={action.busy} danger
          onClick={() => setDraining(true)}>Drain</ActionButton>
      </div>
      <ActionError error={action.error} />
      <Confirm title={`Drain ${name}?`} open={draining} onClose={() => setDraining(false)} confirmLabel="Drain"
        onConfirm={() => action.run(`drain ${name}`, async () => {
          const failures = await drain(nodes, node);
          if (failures.length) throw new Error(`could not evict: ${failures.join('; ')}`);
        })}>
        <p>The node is cordoned and its {pods.length} pod{pods.length === 1 ? '' : 's'} evicted (DaemonSet pods stay), as
          <code> kubectl drain</code> does. Their controllers recreate them on other nodes.</p>
        <ActionError error={action.error} />
      </Confirm>
    </section>
  );
}
