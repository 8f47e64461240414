// Start-up checks: fail fast, with the names to install, when a CRD the operator needs is missing
// or the API server does not serve a group/version it uses (an Istio too old for
// networking.istio.io/v1, a CRD installed without the version the operator speaks), instead of
// starting watches that would only ever fail.
import type { KubeClient } from '../kube/client.ts';
import {
  crdNameOf,
  CUSTOM_RESOURCE_DEFINITION,
  EVENT,
  groupOf,
  LEASE,
  POD,
  type ResourceType,
} from '../kube/resources.ts';
import { OWNED_RESOURCE_TYPES, SMS_EXPERIMENT } from './experiment.ts';

export interface MissingCrds {
  /** CRDs without which the operator cannot run: SmsExperiment and Istio. */
  required: string[];
  /** prometheus-operator CRDs: fatal unless the operator runs with --skip-monitoring. */
  monitoring: string[];
}

export async function findMissingCrds(client: KubeClient): Promise<MissingCrds> {
  const wanted = [
    { name: crdNameOf(SMS_EXPERIMENT), monitoring: false },
    ...OWNED_RESOURCE_TYPES.map((type) => ({ name: crdNameOf(type), monitoring: type.monitoring })),
  ].filter((crd): crd is { name: string; monitoring: boolean } => crd.name !== undefined);
  const missing: MissingCrds = { required: [], monitoring: [] };
  const found = await Promise.all(
    wanted.map(async (crd) => ({ ...crd, exists: (await client.get(CUSTOM_RESOURCE_DEFINITION, { namespace: '', name: crd.name })) !== undefined })),
  );
  for (const crd of found) {
    if (!crd.exists) (crd.monitoring ? missing.monitoring : missing.required).push(crd.name);
  }
  return missing;
}

/** The start-up error for missing CRDs, or undefined when the operator can start. */
export function describeMissingCrds(missing: MissingCrds, options: { skipMonitoring: boolean }): string | undefined {
  const problems: string[] = [];
  if (missing.required.length > 0) problems.push(`required CRDs are not installed: ${missing.required.join(', ')}`);
  if (missing.monitoring.length > 0 && !options.skipMonitoring) {
    problems.push(
      `prometheus-operator CRDs are not installed: ${missing.monitoring.join(', ')} (install them, or run with --skip-monitoring)`,
    );
  }
  return problems.length > 0 ? `Cannot start: ${problems.join('; ')}` : undefined;
}

/** A resource type the operator reads or writes; `monitoring` ones are skipped with --skip-monitoring. */
export interface UsedResourceType extends ResourceType {
  monitoring: boolean;
}

/** Every type the operator touches: its own, the ones it owns, and the Kubernetes ones it needs. */
export function usedResourceTypes(options: { leaderElection: boolean; monitoring: boolean }): UsedResourceType[] {
  const platform = [SMS_EXPERIMENT, POD, EVENT, CUSTOM_RESOURCE_DEFINITION, ...(options.leaderElection ? [LEASE] : [])];
  return [
    ...platform.map((type) => ({ ...type, monitoring: false })),
    ...OWNED_RESOURCE_TYPES.filter((type) => options.monitoring || !type.monitoring),
  ];
}

/** A group/version the API server does not serve, or serves without some of the resources used. */
export interface UnservedApi {
  apiVersion: string;
  /** Kinds used at this group/version that the server does not serve. */
  kinds: string[];
  /** False when the whole group/version is missing from discovery. */
  groupVersionServed: boolean;
  monitoring: boolean;
}

/** Asks discovery about each group/version once, and reports what is not served. */
export async function findUnservedApis(client: KubeClient, types: readonly UsedResourceType[]): Promise<UnservedApi[]> {
  const byVersion = new Map<string, UsedResourceType[]>();
  for (const type of types) byVersion.set(type.apiVersion, [...(byVersion.get(type.apiVersion) ?? []), type]);
  const answers = await Promise.all(
    [...byVersion].map(async ([apiVersion, used]) => ({ apiVersion, used, served: await client.discover(apiVersion) })),
  );
  const unserved: UnservedApi[] = [];
  for (const { apiVersion, used, served } of answers) {
    const missing = used.filter((type) => !served?.includes(type.plural));
    if (missing.length === 0) continue;
    unserved.push({
      apiVersion,
      kinds: missing.map((type) => type.kind),
      groupVersionServed: served !== undefined,
      monitoring: missing.every((type) => type.monitoring),
    });
  }
  return unserved;
}

/** What to install so the API server serves a group (named by the project, not guessed). */
export function installHintFor(apiVersion: string): string {
  const group = groupOf(apiVersion);
  if (group === groupOf(SMS_EXPERIMENT.apiVersion)) return 'install the SmsExperiment CRD of this operator version (config/crd, or dist/install.yaml)';
  if (group === 'networking.istio.io') return `install Istio 1.22 or later, whose CRDs serve ${apiVersion}`;
  if (group === 'monitoring.coreos.com') {
    return `install prometheus-operator CRDs that serve ${apiVersion} (kube-prometheus-stack), or run with --skip-monitoring`;
  }
  return `run on a Kubernetes version that serves ${apiVersion} (1.19 or later)`;
}

/** The start-up error for group/versions that are not served, or undefined when all are. */
export function describeUnservedApis(unserved: readonly UnservedApi[]): string | undefined {
  if (unserved.length === 0) return undefined;
  const problems = unserved.map((api) => {
    const what = api.groupVersionServed
      ? `the API server serves ${api.apiVersion} but not ${api.kinds.join(', ')}`
      : `the API server does not serve ${api.apiVersion} (needed for ${api.kinds.join(', ')})`;
    return `${what}: ${installHintFor(api.apiVersion)}`;
  });
  return `Cannot start: ${problems.join('; ')}`;
}
