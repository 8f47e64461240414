// Two experiments that route the same host on the same gateway would collide on it: Istio merges
// or drops one of the conflicting servers, and users of one experiment land in the other. So a host
// belongs to one experiment at a time. The one that already routes it (status.claimedHosts) keeps
// it; a newcomer is refused with HostConflict until the host is free. When neither routes it yet,
// the older experiment wins (creation time, then namespace/name), so the choice is the same
// whichever pass looks first. Pure functions of the experiments in the cache.
import type { SmsExperiment, SmsExperimentSpec } from '../../crd/schema.ts';
import { compareStrings } from '../../common/compare.ts';

export interface HostClaimant {
  namespace: string;
  name: string;
  uid: string | undefined;
  creationTimestamp: string;
  /** The hosts it would route, keyed by gateway (see claimKeys). */
  wanted: readonly string[];
  /** The hosts it routes now (its status), keyed the same way. */
  held: readonly string[];
}

export interface HostConflict {
  host: string;
  gateway: string;
  other: { namespace: string; name: string };
}

/** Where a host is served: a shared Gateway by reference, or the ingress gateway pods a rendered Gateway selects. */
export function gatewayScope(spec: SmsExperimentSpec, namespace: string): string {
  const shared = spec.istio.gateway;
  if (shared !== undefined) return `gateway ${shared.namespace ?? namespace}/${shared.name}`;
  const selector = Object.entries(spec.istio.gatewaySelector).sort(([a], [b]) => compareStrings(a, b));
  return `ingress gateway ${selector.map(([key, value]) => `${key}=${value}`).join(',')}`;
}

/** The hosts the Gateway routes for a spec (shadow mode has no canary host). */
export function routedHosts(spec: SmsExperimentSpec): string[] {
  const { hosts } = spec.istio;
  return spec.mode === 'canary' ? [hosts.experiment, hosts.stable, hosts.canary] : [hosts.experiment, hosts.stable];
}

const key = (scope: string, host: string) => `${scope}\n${host.toLowerCase()}`;

export function claimKeys(spec: SmsExperimentSpec, namespace: string, hosts: readonly string[] = routedHosts(spec)): string[] {
  const scope = gatewayScope(spec, namespace);
  return hosts.map((host) => key(scope, host));
}

export function claimantOf(experiment: SmsExperiment): HostClaimant {
  const { namespace, name, uid } = experiment.metadata;
  const creationTimestamp = typeof experiment.metadata.creationTimestamp === 'string' ? experiment.metadata.creationTimestamp : '';
  return {
    namespace,
    name,
    uid,
    creationTimestamp,
    wanted: claimKeys(experiment.spec, namespace),
    held: claimKeys(experiment.spec, namespace, experiment.status?.claimedHosts ?? []),
  };
}

function olderFirst(a: HostClaimant, b: HostClaimant): number {
  return compareStrings(a.creationTimestamp, b.creationTimestamp) || compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`);
}

/** The first host `self` may not route because another experiment has the better claim, if any. */
export function hostConflict(self: HostClaimant, others: Iterable<HostClaimant>): HostConflict | undefined {
  const held = new Set(self.held);
  for (const other of others) {
    if (other.uid !== undefined && other.uid === self.uid) continue;
    if (other.namespace === self.namespace && other.name === self.name) continue;
    const theirs = new Set(other.wanted);
    const theyHold = new Set(other.held);
    for (const wanted of self.wanted) {
      if (!theirs.has(wanted)) continue;
      const iHold = held.has(wanted);
      const otherWins = theyHold.has(wanted) !== iHold ? theyHold.has(wanted) : olderFirst(other, self) < 0;
      if (otherWins) {
        const [gateway = '', host = ''] = wanted.split('\n');
        return { host, gateway, other: { namespace: other.namespace, name: other.name } };
      }
    }
  }
  return undefined;
}

export function conflictMessage(conflict: HostConflict): string {
  return (
    `host ${conflict.host} on the ${conflict.gateway} is already routed by SmsExperiment ${conflict.other.namespace}/${conflict.other.name}; ` +
    'this experiment changes nothing until the host is free: choose other spec.istio.hosts, or remove the host from the other experiment'
  );
}
