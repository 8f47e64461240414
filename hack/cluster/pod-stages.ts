// The kwok stages the local control plane runs: the toolchain's node stages and pod lifecycle, with
// pod readiness made controllable per pod, so tests can hold pods unready the way slow or broken
// images would be:
// - `pod-ready.stage.kwok.x-k8s.io/delay: 3s` on a pod delays its readiness (kwok's own annotation);
// - `kwok.sms-experiment.test/never-ready: "true"` keeps it Pending and unready forever, so its
//   Deployment runs into its progress deadline like one whose image never starts.
// Both reach pods through SmsExperiment podAnnotations.
import { parseAllDocuments, stringify } from 'yaml';

export const READY_DELAY_ANNOTATION = 'pod-ready.stage.kwok.x-k8s.io/delay';
export const NEVER_READY_ANNOTATION = 'kwok.sms-experiment.test/never-ready';

interface Stage {
  metadata: { name: string };
  spec: {
    selector?: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
    delay?: Record<string, unknown>;
  };
}

/** The toolchain's stages with `pod-ready` made delayable and skippable per pod. */
export function projectStages(toolchainStages: string): string {
  const stages = parseAllDocuments(toolchainStages)
    .map((document) => document.toJS() as Stage | null)
    .filter((stage): stage is Stage => stage !== null);
  const podReady = stages.find((stage) => stage.metadata.name === 'pod-ready');
  if (!podReady) throw new Error('the toolchain stages have no pod-ready stage to adapt');
  podReady.spec.selector ??= {};
  podReady.spec.selector.matchExpressions ??= [];
  podReady.spec.selector.matchExpressions.push({ key: `.metadata.annotations["${NEVER_READY_ANNOTATION}"]`, operator: 'DoesNotExist' });
  podReady.spec.delay = { durationMilliseconds: 0, durationFrom: { expressionFrom: `.metadata.annotations["${READY_DELAY_ANNOTATION}"]` } };
  return stages.map((stage) => stringify(stage)).join('---\n');
}
