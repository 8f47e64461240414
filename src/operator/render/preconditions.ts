// Invariants the rendered objects depend on. The CRD's schema and CEL rules should already reject
// all of these; checking again here turns a gap there into one readable error instead of objects the
// API server or Istio reject one by one (or, worse, accept and misroute).
import type { SmsExperiment } from '../../crd/schema.ts';
import { durationToSeconds } from './duration.ts';
import type { DesiredObject } from './types.ts';

export class RenderError extends Error {
  readonly problems: string[];

  constructor(experiment: string, problems: string[]) {
    super(`cannot render SmsExperiment ${experiment}: ${problems.join('; ')}`);
    this.name = 'RenderError';
    this.problems = problems;
  }
}

/** Versions become Istio subset names and Service name suffixes, so they must be DNS labels. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Service names must be DNS-1035 labels (start with a letter). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const MAX_LABEL = 63;

function distinct(values: string[]): boolean {
  return new Set(values).size === values.length;
}

export function specProblems(experiment: SmsExperiment): string[] {
  const { spec, metadata } = experiment;
  const problems: string[] = [];
  const canary = spec.mode === 'canary';
  if (!metadata.uid) problems.push('metadata.uid is missing (ownerReferences need it)');

  const versions: [string, string][] = [
    ['spec.app.stable.version', spec.app.stable.version],
    ['spec.model.stable.version', spec.model.stable.version],
  ];
  if (canary) {
    versions.push(['spec.app.canary.version', spec.app.canary.version], ['spec.model.canary.version', spec.model.canary.version]);
  } else {
    versions.push(['spec.model.shadow.version', spec.model.shadow.version]);
  }
  for (const [field, version] of versions) {
    if (!DNS_LABEL.test(version) || version.length > MAX_LABEL) {
      problems.push(`${field} '${version}' must be a lowercase DNS label (it names an Istio subset and a Service)`);
    }
  }
  if (canary && spec.app.stable.version === spec.app.canary.version) {
    problems.push('spec.app.stable.version and spec.app.canary.version must differ');
  }
  const modelOther = canary ? spec.model.canary.version : spec.model.shadow.version;
  if (spec.model.stable.version === modelOther) {
    problems.push(`spec.model.stable.version and spec.model.${spec.mode}.version must differ`);
  }

  if (canary) {
    const { stable, canary: canaryWeight } = spec.traffic.weights;
    const inRange = (weight: number) => Number.isInteger(weight) && weight >= 0 && weight <= 100;
    if (!inRange(stable) || !inRange(canaryWeight) || stable + canaryWeight !== 100) {
      problems.push('spec.traffic.weights must be whole numbers from 0 to 100 that sum to 100');
    }
  } else if (!(spec.traffic.mirrorPercent >= 0 && spec.traffic.mirrorPercent <= 100)) {
    problems.push('spec.traffic.mirrorPercent must be between 0 and 100');
  }
  try {
    durationToSeconds(spec.traffic.stickySession.ttl);
  } catch (error) {
    problems.push(`spec.traffic.stickySession.ttl: ${(error as Error).message}`);
  }

  const { experiment: experimentHost, stable: stableHost, canary: canaryHost } = spec.istio.hosts;
  if (!distinct(canary ? [experimentHost, stableHost, canaryHost] : [experimentHost, stableHost])) {
    problems.push('spec.istio.hosts must be three different host names');
  }

  const { hostPath, persistentVolumeClaim } = spec.storage;
  if ((hostPath === undefined) === (persistentVolumeClaim === undefined)) {
    problems.push('spec.storage must set exactly one of hostPath and persistentVolumeClaim');
  }
  return problems;
}

/** Name and label limits, checked on the rendered objects because names derive from several fields. */
export function renderedProblems(objects: DesiredObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const { name, labels } = object.metadata;
    if (object.kind === 'Service' && (!DNS_1035_LABEL.test(name) || name.length > MAX_LABEL)) {
      problems.push(`Service name '${name}' must be a DNS-1035 label of at most ${MAX_LABEL} characters (shorten the experiment name or version)`);
    }
    for (const [key, value] of Object.entries(labels)) {
      if (!LABEL_VALUE.test(value) || value.length > MAX_LABEL) {
        problems.push(`${object.kind} ${name}: label ${key}='${value}' is not a valid label value (at most ${MAX_LABEL} characters)`);
      }
    }
  }
  return [...new Set(problems)];
}
