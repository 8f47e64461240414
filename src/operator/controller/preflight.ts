// Start-up checks: fail fast, with the names to install, when a CRD the operator needs is missing,
// instead of starting watches that would only ever fail.
import type { KubeClient } from '../kube/client.ts';
import { crdNameOf, CUSTOM_RESOURCE_DEFINITION } from '../kube/resources.ts';
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
