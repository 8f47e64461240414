// SmsExperiments as the operator receives them: parsed by the schema, so every default is filled.
import { API_VERSION, KIND, smsExperimentSchema, type SmsExperiment, type SmsExperimentSpecInput } from '../../../src/crd/schema.ts';
import type { DesiredObject } from '../../../src/operator/render/index.ts';

export const NAMESPACE = 'sms-app';
export const UID = '6f1d2c3b-0000-4000-8000-000000000001';

export function experiment(spec: SmsExperimentSpecInput = {}, name = 'sms-app'): SmsExperiment {
  return smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: NAMESPACE, uid: UID }, spec });
}

export function byName<K extends DesiredObject['kind']>(objects: DesiredObject[], kind: K, name: string): Extract<DesiredObject, { kind: K }> {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} among ${objectIds(objects).join(', ')}`);
  return found as Extract<DesiredObject, { kind: K }>;
}

export function ofKind<K extends DesiredObject['kind']>(objects: DesiredObject[], kind: K): Extract<DesiredObject, { kind: K }>[] {
  return objects.filter((object): object is Extract<DesiredObject, { kind: K }> => object.kind === kind);
}

export function objectIds(objects: DesiredObject[]): string[] {
  return objects.map((object) => `${object.kind}/${object.metadata.name}`);
}
