// What every builder needs, computed once from the experiment.
import { API_VERSION, KIND, type SmsExperiment, type SmsExperimentSpec } from '../../crd/schema.ts';
import { experimentNames, type ExperimentNames } from './names.ts';
import type { DesiredMetadata, Labels, OwnerReference } from './types.ts';

export interface RenderContext {
  experiment: string;
  namespace: string;
  spec: SmsExperimentSpec;
  names: ExperimentNames;
  owner: OwnerReference;
}

export function renderContext(experiment: SmsExperiment): RenderContext {
  const { name, namespace, uid } = experiment.metadata;
  return {
    experiment: name,
    namespace,
    spec: experiment.spec,
    names: experimentNames(name),
    // Garbage collection deletes everything with this reference when the experiment goes away.
    owner: { apiVersion: API_VERSION, kind: KIND, name, uid: uid ?? '', controller: true, blockOwnerDeletion: true },
  };
}

export function objectMetadata(
  context: RenderContext,
  name: string,
  labels: Labels,
  annotations?: Record<string, string>,
): DesiredMetadata {
  return {
    name,
    namespace: context.namespace,
    labels,
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [{ ...context.owner }],
  };
}
