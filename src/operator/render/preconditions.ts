// What the renderer checks itself: only what the schema cannot see. Spec rules (versions, weights,
// hosts, durations, storage) live in src/crd, once, as CEL rules with their zod twins; the operator
// parses every cached experiment with that schema before it renders, so none of them is repeated
// here. Left for the renderer: the uid the owner references need (metadata the schema does not
// own) and the limits of names and labels it derives from several fields at once.
import { DNS1035_LABEL, DNS_LABEL_MAX_LENGTH, LABEL_VALUE_MAX_LENGTH, OPTIONAL_LABEL_VALUE } from '../../crd/formats.ts';
import type { SmsExperiment } from '../../crd/schema.ts';
import type { RenderedObject } from './types.ts';

export class RenderError extends Error {
  readonly problems: string[];

  constructor(experiment: string, problems: string[]) {
    super(`cannot render SmsExperiment ${experiment}: ${problems.join('; ')}`);
    this.name = 'RenderError';
    this.problems = problems;
  }
}

const SERVICE_NAME = new RegExp(DNS1035_LABEL);
const LABEL_VALUE = new RegExp(OPTIONAL_LABEL_VALUE);

export function specProblems(experiment: SmsExperiment): string[] {
  return experiment.metadata.uid ? [] : ['metadata.uid is missing (ownerReferences need it)'];
}

/** Name and label limits, checked on the rendered objects because names derive from several fields. */
export function renderedProblems(objects: RenderedObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const { name, labels } = object.metadata;
    if (object.kind === 'Service' && (!SERVICE_NAME.test(name) || name.length > DNS_LABEL_MAX_LENGTH)) {
      problems.push(`Service name '${name}' must be a DNS-1035 label of at most ${DNS_LABEL_MAX_LENGTH} characters (shorten the experiment name or version)`);
    }
    for (const [key, value] of Object.entries(labels)) {
      if (!LABEL_VALUE.test(value) || value.length > LABEL_VALUE_MAX_LENGTH) {
        problems.push(`${object.kind} ${name}: label ${key}='${value}' is not a valid label value (at most ${LABEL_VALUE_MAX_LENGTH} characters)`);
      }
    }
  }
  return [...new Set(problems)];
}
