// SmsExperiments as the operator receives them: parsed by the schema, so every default is filled.
import { API_VERSION, KIND, smsExperimentSchema, type SmsExperiment, type SmsExperimentSpecInput } from '../../../src/crd/schema.ts';
import type { RenderedObject } from '../../../src/operator/render/index.ts';

export const NAMESPACE = 'sms-app';
export const UID = '6f1d2c3b-0000-4000-8000-000000000001';

export function experiment(spec: SmsExperimentSpecInput = {}, name = 'sms-app'): SmsExperiment {
  return smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NAMESPACE, uid: UID }, spec });
}

export function byName<K extends RenderedObject['kind']>(objects: RenderedObject[], kind: K, name: string): Extract<RenderedObject, { kind: K }> {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} among ${objectIds(objects).join(', ')}`);
  return found as Extract<RenderedObject, { kind: K }>;
}

export function ofKind<K extends RenderedObject['kind']>(objects: RenderedObject[], kind: K): Extract<RenderedObject, { kind: K }>[] {
  return objects.filter((object): object is Extract<RenderedObject, { kind: K }> => object.kind === kind);
}

export function objectIds(objects: RenderedObject[]): string[] {
  return objects.map((object) => `${object.kind}/${object.metadata.name}`);
}
