// Services: the list, and a service's page — its endpoints, which pods receive its traffic and which do not (and
// why), and the topology: the requests (HTTP ports) or connections (L4 ports) per second each node's proxy sends to
// each pod, drawn live.
import { useState } from 'preact/hooks';
import { remove } from '../actions';
import { byName, href, useApp, visible } from '../app';
import { rate } from '../format';
import { useList } from '../informer';
import { addRates, portKind, sum, unit, useServiceTraffic, type Kind, type Rates } from '../metrics';
import { isReady, matchesSelector, podStatus, type KObject, type Pod } from '../model';
import { ActionButton, ActionError, Age, Badge, Confirm, Labels, ListStatus, PodBadge, useAction } from '../ui';

interface Address { ip: string; nodeName?: string; targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string } }
interface Subset { addresses?: Address[]; notReadyAddresses?: Address[]; ports?: { name?: string; port: number; protocol?: string }[] }

function ports(svc: KObject): string {
  return (svc.spec?.ports ?? []).map((p: { port: number; nodePort?: number; protocol?: string; name?: string }) =>
    `${p.port}${p.nodePort ? ':' + p.nodePort : ''}/${p.protocol ?? 'TCP'}`).join(', ');
}

function endpointCounts(ep: KObject | undefined): { ready: number; notReady: number } {
  const subsets: Subset[] = ep ? (ep as unknown as { subsets?: Subset[] }).subsets ?? [] : [];
  return {
    ready: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
    notReady: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
  };
}

export function ServicesPage() {
  const app = useApp();
  const services = useList<KObject>(app.discovery.find('', 'services'), app.namespace);
  const endpoints = useList<KObject>(app.discovery.find('', 'endpoints'), app.namespace);
  const shown = visible(services.items, app).sort(byName);
  const endpointsByKey = new Map(endpoints.items.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  return (
    <section aria-labelledby="services-title">
      <h1 id="services-title" tabIndex={-1}>Services <span class="count">{shown.length}</span></h1>
      <ListStatus state={services} what="services" />
      <div class="table-scroll" tabIndex={0} role="region" aria-label={"Services"}>
        <table class="grid">
          <caption class="sr-only">Services</caption>
          <thead><tr><th scope="col">Name</th>{!app.namespace && <th scope="col">Namespace</th>}<th scope="col">Type</th>
            <th scope="col" class="hide-narrow">Cluster IP</th><th scope="col">Ports</th><th scope="col">Endpoints</th>
            <th scope="col" class="hide-narrow">Selector</th><th scope="col">Age</th></tr></thead>
          <tbody>
            {shown.map((s) => {
              const counts = endpointCounts(endpointsByKey.get(`${s.metadata.namespace}/${s.metadata.name}`));
              return (
                <tr key={s.metadata.uid} data-name={s.metadata.name}>
                  <th scope="row"><a href={href('services', s.metadata.namespace, s.metadata.name)}>{s.metadata.name}</a></th>
                  {!app.namespace && <td>{s.metadata.namespace}</td>}
                  <td>{s.spec?.type ?? 'ClusterIP'}</td>
                  <td class="hide-narrow">{s.spec?.clusterIP}</td>
                  <td>{ports(s)}</td>
                  <td><Badge health={counts.ready > 0 ? 'ok' : s.spec?.selector ? 'bad' : 'idle'}>{counts.ready} ready</Badge>
                    {counts.notReady > 0 && <> <Badge health="progress">{counts.notReady} not ready</Badge></>}</td>
                  <td class="hide-narrow"><Labels labels={s.spec?.selector} /></td>
                  <td><Age t={s.metadata.creationTimestamp} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

interface Backend { ip: string; pod?: Pod; podName?: string; node?: string; ready: boolean }

export function ServicePage({ namespace, name }: { namespace: string; name: string }) {
  const app = useApp();
  const servicesResource = app.discovery.find('', 'services')!;
  const one = `fieldSelector=${encodeURIComponent('metadata.name=' + name)}`;
  const services = useList<KObject>(servicesResource, namespace, one);
  const endpoints = useList<KObject>(app.discovery.find('', 'endpoints'), namespace, one);
  const pods = useList<Pod>(app.discovery.find('', 'pods'), namespace);
  const nodes = useList<KObject>(app.discovery.find('', 'nodes'), null);
  const action = useAction();
  const [deleting, setDeleting] = useState(false);
  const svc = services.items[0];
  const subsets: Subset[] = (endpoints.items[0] as unknown as { subsets?: Subset[] } | undefined)?.subsets ?? [];
  const podByName = new Map(pods.items.map((p) => [p.metadata.name, p]));
  const podByIp = new Map(pods.items.filter((p) => p.status?.podIP).map((p) => [p.status!.podIP!, p]));
  const backends: Backend[] = [];
  for (const s of subsets) {
    for (const [list, ready] of [[s.addresses ?? [], true], [s.notReadyAddresses ?? [], false]] as [Address[], boolean][]) {
      for (const a of list) {
        const pod = (a.targetRef?.kind === 'Pod' && a.targetRef.name ? podByName.get(a.targetRef.name) : undefined) ?? podByIp.get(a.ip);
        if (!backends.some((b) => b.ip === a.ip)) backends.push({ ip: a.ip, pod, podName: a.targetRef?.name ?? pod?.metadata.name, node: a.nodeName ?? pod?.spec.nodeName, ready });
      }
    }
  }
  backends.sort((a, b) => (a.podName ?? a.ip).localeCompare(b.podName ?? b.ip));
  const selected = svc?.spec?.selector ? pods.items.filter((p) => matchesSelector(p.metadata.labels, svc.spec.selector)) : [];
  const outside = selected.filter((p) => !backends.some((b) => b.pod?.metadata.uid === p.metadata.uid));

  return (
    <section aria-labelledby="service-title">
      <p class="crumbs"><a href={href('services')}>Services</a> / {namespace}</p>
      <h1 id="service-title" tabIndex={-1}>Service {name}</h1>
      <ListStatus state={services} what="the service" />
      {services.synced && !svc && <p class="note" role="status">This service does not exist (any more).</p>}
      {svc && (
        <>
          <div class="actions">
            <a class="button" href={href('edit', 'core', 'services', namespace, name)}>Edit YAML</a>
            <ActionButton access={{ verb: 'delete', group: '', resource: 'services', namespace, name }} danger busy={action.busy}
              onClick={() => setDeleting(true)}>Delete</ActionButton>
          </div>
          <ActionError error={action.error} />
          <Confirm title={`Delete service ${name}?`} open={deleting} onClose={() => setDeleting(false)} confirmLabel="Delete"
            onConfirm={() => action.run(`delete service ${name}`, () => remove(servicesResource, svc))}>
            <p>Clients lose this address; the pods keep running.</p>
          </Confirm>
          <dl class="facts">
            <div><dt>Type</dt><dd>{svc.spec?.type ?? 'ClusterIP'}</dd></div>
            <div><dt>Cluster IP</dt><dd>{svc.spec?.clusterIP}</dd></div>
            {svc.spec?.externalIPs?.length > 0 && <div><dt>External IPs</dt><dd>{svc.spec.externalIPs.join(', ')}</dd></div>}
            <div><dt>Ports</dt><dd>{ports(svc)}</dd></div>
            <div><dt>Selector</dt><dd><Labels labels={svc.spec?.selector} /></dd></div>
            <div><dt>Session affinity</dt><dd>{svc.spec?.sessionAffinity ?? 'None'}</dd></div>
          </dl>
          <h2>Topology</h2>
          <Topology namespace={namespace} name={name} backends={backends} nodes={nodes.items.map((n) => n.metadata.name)}
            kinds={(svc.spec?.ports ?? []).map((p: { appProtocol?: string }) => portKind(p.appProtocol))} />
          <h2>Endpoints <span class="count">{backends.length}</span></h2>
          <ListStatus state={endpoints} what="endpoints" />
          {backends.length === 0 ? <p class="muted">No endpoints: {svc.spec?.selector ? 'no ready pod matches the selector.' : 'the service has no selector; its Endpoints are written by hand.'}</p> : (
            <div class="table-scroll" tabIndex={0} role="region" aria-label={`Endpoints of ${name}`}>
              <table class="grid">
                <caption class="sr-only">Endpoints of {name}</caption>
                <thead><tr><th scope="col">Pod</th><th scope="col">Address</th><th scope="col">Node</th><th scope="col">Traffic</th><th scope="col">Pod status</th></tr></thead>
                <tbody>
                  {backends.map((b) => (
                    <tr key={b.ip}>
                      <th scope="row">{b.podName ? <a href={href('pods', namespace, b.podName)}>{b.podName}</a> : <span class="muted">not a pod</span>}</th>
                      <td>{b.ip}</td>
                      <td>{b.node ?? ''}</td>
                      <td><Badge health={b.ready ? 'ok' : 'progress'}>{b.ready ? 'receives traffic' : 'not ready: no traffic'}</Badge></td>
                      <td>{b.pod ? <PodBadge pod={b.pod} /> : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {outside.length > 0 && (
            <>
              <h3>Selected pods that are not endpoints</h3>
              <ul>{outside.map((p) => <li key={p.metadata.uid}><a href={href('pods', namespace, p.metadata.name)}>{p.metadata.name}</a>: {podStatus(p)}{isReady(p) ? ' (ready: the endpoints controller adds it shortly)' : ', not ready'}</li>)}</ul>
            </>
          )}
        </>
      )}
    </section>
  );
}

/** Long names keep their start and their end (a pod's distinguishing suffix). */
function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 11)}…${text.slice(-10)}`;
}

/** A rate labelled by what it counts, for each kind the service's ports have (or that carried traffic: an Ingress
 * sends requests to an L4 port's pods): "2.00 req/s", "1.50 conn/s", or both. */
function label(rates: Rates | undefined, kinds: Kind[]): string {
  const shown = (['http', 'tcp'] as Kind[]).filter((k) => kinds.includes(k) || (rates?.get(k) ?? 0) > 0);
  return (shown.length > 0 ? shown : ['http' as Kind]).map((k) => `${rate(rates?.get(k) ?? 0)} ${unit(k)}`).join(' · ');
}

/** Service → node proxies → pods, with the requests (HTTP ports) or connections (L4 ports) per second on every edge. */
function Topology({ namespace, name, backends, nodes, kinds }: { namespace: string; name: string; backends: Backend[]; nodes: string[]; kinds: Kind[] }) {
  const traffic = useServiceTraffic(namespace, name, nodes);
  const perPod = new Map<string, Rates>();
  const perNode = new Map<string, Rates>();
  const totals: Rates = new Map();
  const edges: { node: string; ip: string; rate: number }[] = [];
  traffic.rates.forEach((endpoints, node) => {
    const nodeRates: Rates = new Map();
    endpoints.forEach((rates, endpoint) => {
      const ip = endpoint.slice(0, endpoint.lastIndexOf(':'));
      addRates(nodeRates, rates);
      const podRates = perPod.get(ip) ?? new Map<Kind, number>();
      addRates(podRates, rates);
      perPod.set(ip, podRates);
      const r = sum(rates);
      if (r > 0 || backends.some((b) => b.ip === ip)) edges.push({ node, ip, rate: r });
    });
    perNode.set(node, nodeRates);
    addRates(totals, nodeRates);
  });
  const proxyNodes = nodes.slice().sort();
  const rows = Math.max(backends.length, proxyNodes.length, 1);
  const rowHeight = 54;
  const height = rows * rowHeight + 20;
  const width = 760;
  const x = { service: 20, proxy: 280, pod: 540 };
  const boxW = 200, boxH = 40;
  const yOf = (i: number, n: number) => 10 + (height - 20) * (i + 0.5) / Math.max(n, 1) - boxH / 2;
  const serviceY = yOf(0, 1);
  const maxRate = Math.max(1, ...edges.map((e) => e.rate));
  const stroke = (r: number) => 1 + 9 * (r / maxRate);
  const errors = [...traffic.errors];
  const spoken = (rates: Rates | undefined) => label(rates, kinds).replaceAll('req/s', 'requests per second').replaceAll('conn/s', 'connections per second');
  const summary = backends.length === 0 ? 'No endpoints.'
    : backends.map((b) => `${b.podName ?? b.ip}: ${spoken(perPod.get(b.ip))}`).join('; ');

  return (
    <figure class="topology" data-testid="topology">
      {errors.length > 0 && <p class="note error" role="alert">Traffic figures unavailable from {errors.map(([n, e]) => `${n} (${e})`).join(', ')}.</p>}
      <div class="table-scroll" tabIndex={0} role="region" aria-label={`Traffic of ${name}`}>
        <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`Traffic of service ${name}: ${spoken(totals)}. ${summary}`}>
          {proxyNodes.map((node, i) => {
            const y = yOf(i, proxyNodes.length) + boxH / 2;
            const r = sum(perNode.get(node));
            return <path key={`s-${node}`} class="edge" d={`M${x.service + boxW},${serviceY + boxH / 2} C${x.service + boxW + 40},${serviceY + boxH / 2} ${x.proxy - 40},${y} ${x.proxy},${y}`} stroke-width={stroke(r)} />;
          })}
          {edges.map((e) => {
            const from = yOf(proxyNodes.indexOf(e.node), proxyNodes.length) + boxH / 2;
            const index = backends.findIndex((b) => b.ip === e.ip);
            if (index < 0) return null;
            const to = yOf(index, backends.length) + boxH / 2;
            return (
              <g key={`${e.node}-${e.ip}`}>
                <path class={`edge ${e.rate > 0 ? 'active' : ''}`} d={`M${x.proxy + boxW},${from} C${x.proxy + boxW + 40},${from} ${x.pod - 40},${to} ${x.pod},${to}`} stroke-width={stroke(e.rate)} />
              </g>
            );
          })}
          <g class="box service">
            <rect x={x.service} y={serviceY} width={boxW} height={boxH} rx={6} />
            <text x={x.service + 10} y={serviceY + 17}>service {name}</text>
            <text x={x.service + 10} y={serviceY + 33} class="rate">{label(totals, kinds)}</text>
          </g>
          {proxyNodes.map((node, i) => {
            const y = yOf(i, proxyNodes.length);
            return (
              <g key={node} class="box proxy">
                <rect x={x.proxy} y={y} width={boxW} height={boxH} rx={6} />
                <text x={x.proxy + 10} y={y + 17}>proxy on {node}</text>
                <text x={x.proxy + 10} y={y + 33} class="rate">{traffic.errors.has(node) ? 'unavailable' : label(perNode.get(node), kinds)}</text>
              </g>
            );
          })}
          {backends.map((b, i) => {
            const y = yOf(i, backends.length);
            const r = sum(perPod.get(b.ip));
            return (
              <g key={b.ip} class={`box pod ${b.ready ? '' : 'not-ready'}`} data-pod={b.podName} data-rate={r.toFixed(2)}>
                <rect x={x.pod} y={y} width={boxW} height={boxH} rx={6} />
                <text x={x.pod + 10} y={y + 17}><title>{b.podName ?? b.ip}</title>{shorten(b.podName ?? b.ip, 25)}</text>
                <text x={x.pod + 10} y={y + 33} class="rate">{b.ready ? label(perPod.get(b.ip), kinds) : 'not ready'}</text>
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption class="muted small">
        {traffic.sampled ? 'Requests (HTTP ports) and connections (other ports, forwarded at L4) per second over the last 2 s, as each node\'s proxy counts them (nodes/NAME/proxy/metrics).' : 'Measuring…'}
      </figcaption>
    </figure>
  );
}
