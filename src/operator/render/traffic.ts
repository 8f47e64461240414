// The traffic the routing puts in effect. By default it is what the spec asks for; the controller
// passes a held-back plan while a version cannot answer yet (make before break), and the renderer
// only draws what it is given.
import type { SmsExperimentSpec } from '../../crd/schema.ts';

export interface TrafficPlan {
  /** Split of the experiment host between the app versions (canary mode). */
  weights: { stable: number; canary: number };
  /** Canary mode: the canary host routes to the canary app. Without it that host answers 404. */
  canaryHost: boolean;
  /** Canary mode: calls from canary app pods go to the canary model; otherwise to the stable model. */
  pairedModel: boolean;
  /** Shadow mode: the share of model calls mirrored to the shadow model. */
  mirrorPercent: number;
}

/** Subsets a DestinationRule keeps beyond the spec's: versions live routing still names. */
export interface RetainedSubsets {
  app: readonly string[];
  model: readonly string[];
}

/** The plan with nothing held back: every version gets what the spec gives it. */
export function specTraffic(spec: SmsExperimentSpec): TrafficPlan {
  // A canary scaled to zero (allowed with weight 0) has no pod to answer its host or paired calls.
  return spec.mode === 'canary'
    ? { weights: { ...spec.traffic.weights }, canaryHost: spec.app.canary.replicas > 0, pairedModel: spec.model.canary.replicas > 0, mirrorPercent: 0 }
    : { weights: { stable: 100, canary: 0 }, canaryHost: false, pairedModel: false, mirrorPercent: spec.traffic.mirrorPercent };
}

export function trafficEqual(a: TrafficPlan, b: TrafficPlan): boolean {
  return (
    a.weights.stable === b.weights.stable &&
    a.weights.canary === b.weights.canary &&
    a.canaryHost === b.canaryHost &&
    a.pairedModel === b.pairedModel &&
    a.mirrorPercent === b.mirrorPercent
  );
}
