// 'Continuous Experimentation' (seed §8, uid sms-app-experiment): the versions side by side.
// Every query groups by the `version` label the ServiceMonitor copies from the pod.
import type { RenderContext } from '../context.ts';
import { APP_METRICS, appMetricSelector } from '../metrics.ts';
import { dashboard, type Dashboard, type PanelSpec } from './grafana.ts';

function perMinuteByVersion(title: string, description: string, metric: string, selector: string): PanelSpec {
  return {
    type: 'timeseries',
    title,
    description,
    unit: 'reqpm',
    width: 12,
    height: 8,
    queries: [{ expr: `sum by (version) (rate(${metric}${selector}[$__rate_interval])) * 60`, legend: '{{version}}' }],
  };
}

export function experimentDashboard(context: RenderContext): Dashboard {
  const selector = appMetricSelector(context);
  const hits = `sum by (version) (rate(${APP_METRICS.cacheHits}${selector}[$__rate_interval]))`;
  const misses = `sum by (version) (rate(${APP_METRICS.cacheMisses}${selector}[$__rate_interval]))`;
  const analysisSelector = `{namespace="${context.namespace}",experiment="${context.experiment}"}`;
  return dashboard({
    uid: context.names.experimentDashboardUid,
    title: `Continuous Experimentation (${context.namespace}/${context.experiment})`,
    description: `Stable versus canary of SmsExperiment ${context.namespace}/${context.experiment}, by version label.`,
    tags: ['sms-app', 'experiment', context.experiment],
    panels: [
      perMinuteByVersion('Model calls/min by version', 'Lower is better: fewer calls reach the model when caching works.', APP_METRICS.modelCalls, selector),
      perMinuteByVersion('Cache hits/min by version', 'Higher is better.', APP_METRICS.cacheHits, selector),
      perMinuteByVersion('Cache misses/min by version', 'Lower is better.', APP_METRICS.cacheMisses, selector),
      {
        type: 'timeseries',
        title: 'Cache hit ratio by version',
        description: 'Hits divided by all cache lookups.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        width: 12,
        height: 8,
        queries: [{ expr: `${hits} / (${hits} + ${misses})`, legend: '{{version}}' }],
      },
      {
        type: 'timeseries',
        title: 'Request latency p95 by version',
        description: '95th percentile of the classification latency.',
        unit: 's',
        width: 12,
        height: 8,
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (le, version) (rate(${APP_METRICS.latency}_bucket${selector}[$__rate_interval])))`,
            legend: '{{version}}',
          },
        ],
      },
      {
        type: 'timeseries',
        title: 'Active requests by version',
        description: 'Classification requests in flight.',
        unit: 'short',
        width: 12,
        height: 8,
        queries: [{ expr: `sum by (version) (${APP_METRICS.activeRequests}${selector})`, legend: '{{version}}' }],
      },
      // The operator's own judgement (it runs with --prometheus-url): gauges it exports per signal.
      {
        type: 'timeseries',
        title: 'Analysis: anytime-valid p-value by signal',
        description:
          'Of "the canary is no different", per signal (errors, slow, spam, guesses; shadow-lean in shadow mode), already adjusted for the signals sharing alpha: a verdict is given at or below spec.analysis.alpha. It only falls.',
        unit: 'none',
        min: 0,
        max: 1,
        width: 12,
        height: 8,
        queries: [{ expr: `max by (signal) (smsx_operator_analysis_p_value${analysisSelector})`, legend: '{{signal}}' }],
      },
      {
        type: 'timeseries',
        title: 'Analysis: canary/stable rate ratio by signal',
        description: 'Event rate of the canary over the stable version since the step began (1: the same; -1: undefined so far). status.analysis holds its confidence interval.',
        unit: 'none',
        width: 12,
        height: 8,
        queries: [{ expr: `max by (signal) (smsx_operator_analysis_ratio${analysisSelector.replace('}', ',signal!="shadow-lean"}')})`, legend: '{{signal}}' }],
      },
      {
        type: 'timeseries',
        title: 'Shadow agreement with the stable model',
        description: 'Share of mirrored messages the shadow model classified as the stable model did (shadow mode).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        width: 12,
        height: 8,
        queries: [{ expr: `max(smsx_operator_analysis_ratio${analysisSelector.replace('}', ',signal="shadow-lean"}')})`, legend: 'agreement' }],
      },
      {
        type: 'timeseries',
        title: 'Shadow comparisons/min by outcome',
        description: 'Mirrored messages classified by both models: stable result → shadow result. The off-diagonal pairs are the disagreements.',
        unit: 'reqpm',
        width: 12,
        height: 8,
        queries: [
          {
            expr: `sum by (stable_result, shadow_result) (rate(sms_model_shadow_comparisons_total{namespace="${context.namespace}",service="${context.names.modelService}"}[$__rate_interval])) * 60`,
            legend: 'stable {{stable_result}} → shadow {{shadow_result}}',
          },
        ],
      },
    ],
  });
}
