// Numbers that are not objects, polled (neither can be watched): CPU and memory from the metrics API when the server
// serves metrics.k8s.io, and the requests the node proxies forward to each endpoint, read from every node's
// /metrics through the API's node proxy subresource (nodes/{name}/proxy/metrics).
import { useEffect, useState } from 'preact/hooks';
import { getJson, request } from './api';
import type { Discovery } from './discovery';
import { quantity } from './format';

export interface NodeUsage { cpu: number; memory: number }

export type Metrics = { available: true; nodes: Map<string, NodeUsage> } | { available: false; reason: string };

export function useNodeMetrics(discovery: Discovery): Metrics | undefined {
  const served = discovery.find('metrics.k8s.io', 'nodes');
  const [metrics, setMetrics] = useState<Metrics | undefined>(served ? undefined
    : { available: false, reason: 'metrics unavailable: the server does not serve the metrics API (metrics.k8s.io)' });
  useEffect(() => {
    if (!served) return;
    const abort = new AbortController();
    const poll = async () => {
      try {
        const list = await getJson<{ items: { metadata: { name: string }; usage: { cpu: string; memory: string } }[] }>(
          `/apis/metrics.k8s.io/${served.version}/nodes`, abort.signal);
        setMetrics({ available: true, nodes: new Map(list.items.map((m) => [m.metadata.name, { cpu: quantity(m.usage.cpu), memory: quantity(m.usage.memory) }])) });
      } catch (e) {
        if (!abort.signal.aborted) setMetrics({ available: false, reason: `metrics unavailable: ${(e as Error).message}` });
      }
    };
    void poll();
    const timer = setInterval(poll, 15_000);
    return () => { abort.abort(); clearInterval(timer); };
  }, [served]);
  return metrics;
}

export interface Sample { service: string; kind: string; endpoint: string; value: number }

/** The per-endpoint request counters of the Prometheus text the node proxies write. */
export function parseEndpointCounters(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('orchestrator_proxy_endpoint_requests_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(line.indexOf('{') + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2];
    const value = Number(line.slice(close + 1).trim());
    if (labels.service && labels.endpoint && Number.isFinite(value)) samples.push({ service: labels.service, kind: labels.kind ?? '', endpoint: labels.endpoint, value });
  }
  return samples;
}

/** What a counter counts, by its kind label: HTTP ports (appProtocol http) count requests, L4 ports (every other
 * port) connections. */
export type Kind = 'http' | 'tcp';

/** Per second, by kind. */
export type Rates = Map<Kind, number>;

/** The kind of a service port's figures: HTTP (YARP) only for the appProtocols the node proxy serves as HTTP. */
export function portKind(appProtocol: string | undefined): Kind {
  return ['http', 'kubernetes.io/ws'].includes((appProtocol ?? '').toLowerCase()) ? 'http' : 'tcp';
}

export function unit(kind: Kind): string {
  return kind === 'tcp' ? 'conn/s' : 'req/s';
}

export function sum(rates: Rates | undefined): number {
  let total = 0;
  rates?.forEach((r) => { total += r; });
  return total;
}

/** Adds <code>from</code>'s rates into <code>to</code>. */
export function addRates(to: Rates, from: Rates | undefined): void {
  from?.forEach((r, kind) => to.set(kind, (to.get(kind) ?? 0) + r));
}

export interface Traffic {
  /** requests (http) or connections (tcp) per second by node, then by endpoint address (ip:port) */
  rates: Map<string, Map<string, Rates>>;
  /** nodes whose figures could not be read, with the reason */
  errors: Map<string, string>;
  sampled: boolean;
}

const Interval = 2000;

/** Request and connection rates to the endpoints of one service (its clusters are "namespace/name:port…"), per node proxy. */
export function useServiceTraffic(namespace: string, name: string, nodes: string[]): Traffic {
  const [traffic, setTraffic] = useState<Traffic>({ rates: new Map(), errors: new Map(), sampled: false });
  const nodeList = nodes.slice().sort().join(',');
  useEffect(() => {
    const prefix = `${namespace}/${name}:`;
    const previous = new Map<string, { at: number; value: number }>();
    const abort = new AbortController();
    let rounds = 0;
    const poll = async () => {
      const rates = new Map<string, Map<string, Rates>>();
      const errors = new Map<string, string>();
      await Promise.all(nodeList.split(',').filter((n) => n).map(async (node) => {
        try {
          const text = await (await request(`/api/v1/nodes/${encodeURIComponent(node)}/proxy/metrics`, { accept: 'text/plain', signal: abort.signal })).text();
          const at = performance.now();
          const perEndpoint = new Map<string, Rates>();
          for (const s of parseEndpointCounters(text)) {
            if (!s.service.startsWith(prefix)) continue;
            const id = `${node}|${s.service}|${s.kind}|${s.endpoint}`;
            const before = previous.get(id);
            previous.set(id, { at, value: s.value });
            const r = before && s.value >= before.value ? (s.value - before.value) / ((at - before.at) / 1000) : 0;
            const kind: Kind = s.kind === 'http' ? 'http' : 'tcp';
            const endpointRates = perEndpoint.get(s.endpoint) ?? new Map<Kind, number>();
            endpointRates.set(kind, (endpointRates.get(kind) ?? 0) + r);
            perEndpoint.set(s.endpoint, endpointRates);
          }
          rates.set(node, perEndpoint);
        } catch (e) {
          if (!abort.signal.aborted) errors.set(node, (e as Error).message);
        }
      }));
      if (!abort.signal.aborted) setTraffic({ rates, errors, sampled: ++rounds > 1 });
    };
    void poll();
    const timer = setInterval(poll, Interval);
    return () => { abort.abort(); clearInterval(timer); };
  }, [namespace, name, nodeList]);
  return traffic;
}
