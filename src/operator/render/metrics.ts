// Metric names from the seed's tables (§8) and the PromQL selector that scopes a query to one
// experiment. The selector matters: several experiments report the same metric names, and
// Prometheus sees them all.
import type { RenderContext } from './context.ts';

export const APP_METRICS = {
  classified: 'sms_messages_classified_total',
  activeRequests: 'sms_active_requests',
  latency: 'sms_request_latency_seconds',
  cacheHits: 'sms_cache_hits_total',
  cacheMisses: 'sms_cache_misses_total',
  modelCalls: 'sms_model_calls_total',
} as const;

export const MODEL_METRICS = {
  predictions: 'sms_model_predictions_total',
  inference: 'sms_model_inference_seconds',
  inflight: 'sms_model_inflight_requests',
} as const;

/**
 * Series of the app pods of this experiment. prometheus-operator labels every target it discovers
 * through a ServiceMonitor with `namespace` and `service` (the Service's name).
 */
export function appMetricSelector(context: RenderContext): string {
  return `{namespace="${context.namespace}",service="${context.names.appService}"}`;
}
