// The dashboard's writes, each the request kubectl makes for the same command.
import { ApiError, getJson, send } from './api';
import { objectPath, type Resource } from './discovery';
import { controllerOf, type KObject, type Pod } from './model';

const MergePatch = 'application/merge-patch+json';
const StrategicMergePatch = 'application/strategic-merge-patch+json';
const JsonPatch = 'application/json-patch+json';

/** kubectl scale: a merge patch of the scale subresource. */
export function scale(r: Resource, o: KObject, replicas: number): Promise<unknown> {
  return send('PATCH', objectPath(r, o.metadata.namespace, o.metadata.name, 'scale'), { spec: { replicas } }, MergePatch);
}

/** kubectl rollout restart: the pod template's restartedAt annotation changes, so the controller rolls every pod. */
export function restart(r: Resource, o: KObject): Promise<unknown> {
  const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
  return send('PATCH', objectPath(r, o.metadata.namespace, o.metadata.name), patch, StrategicMergePatch);
}

export const RevisionAnnotation = 'deployment.kubernetes.io/revision';

/** kubectl rollout undo --to-revision: the Deployment's template becomes that ReplicaSet's (less pod-template-hash). */
export function rollback(deployments: Resource, deployment: KObject, replicaSet: KObject): Promise<unknown> {
  const template = structuredClone(replicaSet.spec.template);
  if (template?.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
  const ops = [{ op: 'replace', path: '/spec/template', value: template }];
  return send('PATCH', objectPath(deployments, deployment.metadata.namespace, deployment.metadata.name), ops, JsonPatch);
}

/** kubectl delete: dependents go in the background. */
export function remove(r: Resource, o: KObject): Promise<unknown> {
  return send('DELETE', objectPath(r, o.metadata.namespace, o.metadata.name) + '?propagationPolicy=Background');
}

export function cordon(nodes: Resource, node: KObject, unschedulable: boolean): Promise<unknown> {
  return send('PATCH', objectPath(nodes, undefined, node.metadata.name), { spec: { unschedulable: unschedulable || null } }, MergePatch);
}

/**
 * kubectl drain: cordon, then evict every pod on the node through the eviction subresource (which honours
 * PodDisruptionBudgets where the server has them), leaving DaemonSet pods and mirror pods as kubectl does.
 * Returns the pods it could not evict with the server's reason.
 */
export async function drain(nodes: Resource, node: KObject): Promise<string[]> {
  await cordon(nodes, node, true);
  const list = await getJson<{ items: Pod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName=' + node.metadata.name)}`);
  const failures: string[] = [];
  await Promise.all(list.items
    .filter((p) => controllerOf(p)?.kind !== 'DaemonSet' && !p.metadata.annotations?.['kubernetes.io/config.mirror'] && !p.metadata.deletionTimestamp)
    .map(async (p) => {
      try {
        // repeated after a network failure: an eviction that already happened answers 404, which is what drain wants
        await send('POST', `/api/v1/namespaces/${encodeURIComponent(p.metadata.namespace!)}/pods/${encodeURIComponent(p.metadata.name)}/eviction`, {
          apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
        }, undefined, true);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) failures.push(`${p.metadata.namespace}/${p.metadata.name}: ${(e as Error).message}`);
      }
    }));
  return failures;
}
