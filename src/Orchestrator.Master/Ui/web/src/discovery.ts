// Which resources the server serves, from its discovery documents (/api/v1, /apis, /apis/{group}/{version}): kinds
// the server does not serve yet are simply absent from the dashboard.
import { getJson } from './api';

export interface Resource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  subresources: string[];
}

export const apiVersionOf = (r: Resource): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The collection path, in one namespace or (null) across all of them. */
export function collectionPath(r: Resource, namespace: string | null): string {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${root}/namespaces/${encodeURIComponent(namespace)}/${r.resource}` : `${root}/${r.resource}`;
}

export function objectPath(r: Resource, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(r, r.namespaced ? namespace ?? 'default' : null)}/${encodeURIComponent(name)}${subresource ? '/' + subresource : ''}`;
}

interface ApiResourceList { groupVersion: string; resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }
interface ApiGroupList { groups: { name: string; preferredVersion?: { version: string }; versions: { version: string }[] }[] }

// the groups the dashboard uses; others are not read
const WantedGroups = ['apps', 'batch', 'metrics.k8s.io', 'authorization.k8s.io'];

export class Discovery {
  private constructor(private readonly byKey: Map<string, Resource>, readonly groups: Set<string>) {}

  static async load(): Promise<Discovery> {
    const [core, groups] = await Promise.all([getJson<ApiResourceList>('/api/v1'), getJson<ApiGroupList>('/apis')]);
    const lists: ApiResourceList[] = [core];
    const served = new Set(groups.groups.map((g) => g.name));
    const wanted = groups.groups.filter((g) => WantedGroups.includes(g.name));
    const loaded = await Promise.all(wanted.map((g) => {
      const version = g.preferredVersion?.version ?? g.versions[0]?.version;
      return getJson<ApiResourceList>(`/apis/${g.name}/${version}`).catch(() => undefined);
    }));
    for (const list of loaded) if (list) lists.push(list);

    const byKey = new Map<string, Resource>();
    for (const list of lists) {
      const [group, version] = list.groupVersion.includes('/') ? list.groupVersion.split('/') : ['', list.groupVersion];
      for (const r of list.resources) {
        if (r.name.includes('/')) continue;
        byKey.set(`${group}/${r.name}`, {
          group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [],
          subresources: list.resources.filter((s) => s.name.startsWith(r.name + '/')).map((s) => s.name.slice(r.name.length + 1)),
        });
      }
    }
    return new Discovery(byKey, served);
  }

  /** The resource when served, e.g. find('apps', 'deployments'); undefined otherwise. */
  find(group: string, resource: string): Resource | undefined {
    return this.byKey.get(`${group}/${resource}`);
  }

  byKind(apiVersion: string | undefined, kind: string): Resource | undefined {
    const group = apiVersion?.includes('/') ? apiVersion.split('/')[0] : '';
    for (const r of this.byKey.values()) if (r.group === group && r.kind === kind) return r;
    return undefined;
  }

  serves(group: string): boolean {
    return group === '' || this.groups.has(group);
  }
}
