// The parts of Kubernetes objects the dashboard reads, and small facts derived from them.

export interface OwnerReference { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: unknown;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
}

export interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }

export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number; startedAt?: string; finishedAt?: string; signal?: number };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod extends KObject {
  spec: {
    nodeName?: string;
    containers: { name: string; image?: string; ports?: { containerPort: number; name?: string }[] }[];
    initContainers?: { name: string; image?: string }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface EventObject extends KObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  note?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
}

export const key = (o: KObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/` : '') + o.metadata.name;

export function controllerOf(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

/** kubectl's STATUS column: the reason a container waits or ended, Terminating, or the phase. */
export function podStatus(pod: Pod): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const statuses = pod.status?.containerStatuses ?? [];
  for (const init of pod.status?.initContainerStatuses ?? []) {
    if (init.state?.terminated && init.state.terminated.exitCode === 0) continue;
    if (init.state?.waiting?.reason && init.state.waiting.reason !== 'PodInitializing') return `Init:${init.state.waiting.reason}`;
    if (init.state?.terminated) return `Init:${init.state.terminated.reason ?? 'Error'}`;
    return 'Init:0/' + (pod.spec.initContainers?.length ?? 0);
  }
  for (const s of statuses) {
    if (s.state?.waiting?.reason) return s.state.waiting.reason;
    if (s.state?.terminated?.reason) return s.state.terminated.reason;
  }
  if (pod.status?.phase === 'Pending' && !pod.spec.nodeName) {
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unschedulable) return 'Unschedulable';
  }
  return pod.status?.phase ?? 'Pending';
}

export type Health = 'ok' | 'progress' | 'bad' | 'idle';

/** The colour family of a pod in pictures and badges. */
export function podHealth(pod: Pod): Health {
  const status = podStatus(pod);
  if (status === 'Running') return isReady(pod) ? 'ok' : 'progress';
  if (status === 'Succeeded' || status === 'Completed') return 'idle';
  if (['Pending', 'ContainerCreating', 'PodInitializing', 'Terminating'].includes(status) || status.startsWith('Init:0')) return 'progress';
  return 'bad';
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function readyCount(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  return `${statuses.filter((s) => s.ready).length}/${pod.spec.containers.length}`;
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

export function nodeReady(node: KObject): 'True' | 'False' | 'Unknown' {
  const ready = (node.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
  return (ready?.status as 'True' | 'False' | undefined) ?? 'Unknown';
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The time an event last happened, whichever of the fields the writer filled. */
export function eventTime(e: EventObject): number {
  const when = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return when ? Date.parse(when) : 0;
}
