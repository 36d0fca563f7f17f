// May the signed-in user do this? SelfSubjectAccessReview (authorization.k8s.io/v1), as `kubectl auth can-i` asks.
// Actions the user may not do are disabled with the reason. A server that does not serve authorization.k8s.io cannot
// say: its actions are enabled and marked "not checked", and the API still refuses what it refuses.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, send } from './api';

export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface Decision { allowed: boolean; checked: boolean; reason?: string }

const Ttl = 60_000;
const cache = new Map<string, { at: number; decision: Promise<Decision> }>();
let served: boolean | undefined;

/** Discovery tells whether the group is served; until it does, the review itself is tried. */
export function setAuthorizationServed(value: boolean): void { served = value; }

export function authorizationServed(): boolean | undefined { return served; }

const Unchecked: Decision = { allowed: true, checked: false, reason: 'not checked: this server does not serve authorization.k8s.io' };

export function can(attributes: Attributes): Promise<Decision> {
  if (served === false) return Promise.resolve(Unchecked);
  const id = JSON.stringify(attributes);
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < Ttl) return hit.decision;
  const decision = review(attributes);
  cache.set(id, { at: Date.now(), decision });
  return decision;
}

async function review(attributes: Attributes): Promise<Decision> {
  try {
    const answer = await send<{ status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } }>(
      'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { ...attributes, namespace: attributes.namespace ?? '' } },
      }, undefined, true); // a review changes nothing: safe to repeat
    const allowed = answer.status?.allowed === true;
    return { allowed, checked: true, reason: allowed ? undefined : answer.status?.reason || `you may not ${describe(attributes)}` };
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) {
      served = false;
      return Unchecked;
    }
    // the review itself refused or failed: leave the action to the API, which answers for itself
    return { allowed: true, checked: false, reason: `not checked: ${(e as Error).message}` };
  }
}

export function describe(a: Attributes): string {
  const what = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return `${a.verb} ${what}${a.group ? '.' + a.group : ''}${a.namespace ? ` in namespace ${a.namespace}` : ''}`;
}

export function forgetDecisions(): void {
  cache.clear();
}

/** The decision for an action, undefined while it is asked. */
export function useCan(attributes: Attributes | undefined): Decision | undefined {
  const id = attributes ? JSON.stringify(attributes) : '';
  const [decision, setDecision] = useState<Decision | undefined>(undefined);
  useEffect(() => {
    if (!attributes) return;
    let live = true;
    setDecision(undefined);
    void can(attributes).then((d) => { if (live) setDecision(d); });
    return () => { live = false; };
  }, [id]);
  return decision;
}
