// The model service's Prometheus metrics, with the seed's names, on a registry of their own (never
// prom-client's global one, so tests can run several services in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TrafficSource } from './shadow.ts';

// Inference takes tens of microseconds; the buckets resolve that and still catch a slow outlier.
const INFERENCE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];

export interface ModelMetrics {
  readonly registry: Registry;
  countPrediction(version: string, source: TrafficSource): void;
  observeInference(version: string, seconds: number): void;
  /** Marks one /predict request in flight; call the returned function when it ends. */
  trackInflight(version: string): () => void;
  /** Creates the four pairs of a version couple at 0, so they exist before the first message. */
  prepareComparisons(version: string, stableVersion: string): void;
  /** One message classified by the shadow (version) and by the stable model it is compared with. */
  countComparison(pair: ComparisonPair): void;
  /** 1 while the stable artifact is loaded and every answer is compared, else 0. */
  setComparisonAvailable(available: boolean): void;
}

export interface ComparisonPair {
  version: string;
  stableVersion: string;
  stableResult: 'spam' | 'ham';
  shadowResult: 'spam' | 'ham';
}

const RESULTS = ['spam', 'ham'] as const;

export function createModelMetrics(options: { processMetrics?: boolean } = {}): ModelMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const predictions = new Counter({
    name: 'sms_model_predictions_total',
    help: 'Total predictions made, by model version and traffic source (live or shadow)',
    labelNames: ['version', 'source'] as const,
    registers: [registry],
  });
  const inference = new Histogram({
    name: 'sms_model_inference_seconds',
    help: 'Model inference latency (tokenizing and scoring one message)',
    labelNames: ['version'] as const,
    buckets: INFERENCE_BUCKETS,
    registers: [registry],
  });
  const inflight = new Gauge({
    name: 'sms_model_inflight_requests',
    help: 'Current in-flight inference requests',
    labelNames: ['version'] as const,
    registers: [registry],
  });
  const comparisons = new Counter({
    name: 'sms_model_shadow_comparisons_total',
    help: "Messages classified by this shadow model and by the stable model, by both models' results",
    labelNames: ['version', 'stable_version', 'stable_result', 'shadow_result'] as const,
    registers: [registry],
  });
  const comparisonAvailable = new Gauge({
    name: 'sms_model_shadow_comparison_available',
    help: 'Whether the stable artifact is loaded and every answer is compared with it (1) or not (0)',
    registers: [registry],
  });
  return {
    registry,
    prepareComparisons(version, stableVersion) {
      for (const stable of RESULTS) for (const shadow of RESULTS) comparisons.inc({ version, stable_version: stableVersion, stable_result: stable, shadow_result: shadow }, 0);
    },
    countComparison: ({ version, stableVersion, stableResult, shadowResult }) =>
      comparisons.inc({ version, stable_version: stableVersion, stable_result: stableResult, shadow_result: shadowResult }),
    setComparisonAvailable: (available) => comparisonAvailable.set(available ? 1 : 0),
    countPrediction: (version, source) => predictions.inc({ version, source }),
    observeInference: (version, seconds) => inference.observe({ version }, seconds),
    trackInflight(version) {
      inflight.inc({ version });
      return () => inflight.dec({ version });
    },
  };
}
