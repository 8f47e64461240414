// Reading an experiment and everything it owns straight from the API server, and what the renderer
// says it should own, so integration tests compare whole object lists instead of sampling a few.
import { smsExperimentSchema, type SmsExperiment } from '../../src/crd/schema.ts';
import type { KubeClient } from '../../src/operator/kube/client.ts';
import { OWNED_RESOURCE_TYPES, SMS_EXPERIMENT } from '../../src/operator/controller/experiment.ts';
import { liveObjectSchema, type LiveObject } from '../../src/operator/kube/objects.ts';
import { EXPERIMENT_LABEL, render } from '../../src/operator/render/index.ts';

export interface OwnedObject {
  /** "Kind/name", the identity the tests compare. */
  id: string;
  uid: string;
  resourceVersion: string;
  object: LiveObject;
}

/** Every object of every kind an experiment can own that carries the experiment's label. */
export async function listOwnedObjects(client: KubeClient, namespace: string, experiment: string): Promise<OwnedObject[]> {
  const lists = await Promise.all(
    OWNED_RESOURCE_TYPES.map(async (type) => {
      const { items } = await client.list(type, namespace, { labelSelector: `${EXPERIMENT_LABEL}=${experiment}` });
      return items.map((item) => liveObjectSchema.parse({ apiVersion: type.apiVersion, kind: type.kind, ...(item as object) }));
    }),
  );
  return lists
    .flat()
    .map((object) => ({
      id: `${object.kind}/${object.metadata.name}`,
      uid: object.metadata.uid ?? '',
      resourceVersion: object.metadata.resourceVersion ?? '',
      object,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export async function readExperiment(client: KubeClient, namespace: string, name: string): Promise<SmsExperiment | undefined> {
  const raw = await client.get(SMS_EXPERIMENT, { namespace, name });
  return raw === undefined ? undefined : smsExperimentSchema.parse(raw);
}

/** "Kind/name" of every object the renderer wants for the experiment as it is now, sorted. */
export function expectedObjectIds(experiment: SmsExperiment, options: { monitoring: boolean } = { monitoring: true }): string[] {
  return render(experiment, options)
    .map((object) => `${object.kind}/${object.metadata.name}`)
    .sort((a, b) => a.localeCompare(b));
}

export function conditionOf(experiment: SmsExperiment | undefined, type: string) {
  return experiment?.status?.conditions?.find((condition) => condition.type === type);
}
