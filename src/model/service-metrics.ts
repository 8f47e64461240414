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
}

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
  return {
    registry,
    countPrediction: (version, source) => predictions.inc({ version, source }),
    observeInference: (version, seconds) => inference.observe({ version }, seconds),
    trackInflight(version) {
      inflight.inc({ version });
      return () => inflight.dec({ version });
    },
  };
}
