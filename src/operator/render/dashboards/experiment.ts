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
    ],
  });
}
