// 'SMS App Metrics' (seed §8, uid sms-app-metrics): how much the app classifies and how fast.
import type { RenderContext } from '../context.ts';
import { APP_METRICS, appMetricSelector } from '../metrics.ts';
import { dashboard, type Dashboard } from './grafana.ts';

const PERCENTILES = [0.5, 0.9, 0.95, 0.99];

export function appMetricsDashboard(context: RenderContext): Dashboard {
  const selector = appMetricSelector(context);
  const classified = `${APP_METRICS.classified}${selector}`;
  const latency = APP_METRICS.latency;
  return dashboard({
    uid: context.names.metricsDashboardUid,
    title: `SMS App Metrics (${context.namespace}/${context.experiment})`,
    description: `Classification throughput and latency of SmsExperiment ${context.namespace}/${context.experiment}, all versions together.`,
    tags: ['sms-app', context.experiment],
    panels: [
      {
        type: 'gauge',
        title: 'Classification rate',
        description: 'Classifications per minute over all versions.',
        unit: 'reqpm',
        min: 0,
        width: 6,
        height: 6,
        queries: [{ expr: `sum(rate(${classified}[$__rate_interval])) * 60`, legend: 'req/min' }],
      },
      {
        type: 'stat',
        title: 'Total classifications',
        description: 'Classifications in the selected time range (counter increase, so pod restarts do not reset it).',
        unit: 'short',
        width: 6,
        height: 6,
        queries: [{ expr: `sum(increase(${classified}[$__range]))`, legend: 'total' }],
      },
      {
        type: 'gauge',
        title: 'Average response time',
        description: 'Mean classification latency.',
        unit: 's',
        min: 0,
        width: 6,
        height: 6,
        queries: [
          {
            expr: `sum(rate(${latency}_sum${selector}[$__rate_interval])) / sum(rate(${latency}_count${selector}[$__rate_interval]))`,
            legend: 'average',
          },
        ],
      },
      {
        type: 'gauge',
        title: 'Active requests',
        description: 'Classification requests in flight right now.',
        unit: 'short',
        min: 0,
        width: 6,
        height: 6,
        queries: [{ expr: `sum(${APP_METRICS.activeRequests}${selector})`, legend: 'active' }],
      },
      {
        type: 'timeseries',
        title: 'Classification rate by result',
        description: 'Classifications per minute, spam versus ham.',
        unit: 'reqpm',
        width: 12,
        height: 8,
        queries: [{ expr: `sum by (result) (rate(${classified}[$__rate_interval])) * 60`, legend: '{{result}}' }],
      },
      {
        type: 'timeseries',
        title: 'Response time percentiles',
        description: 'p50, p90, p95 and p99 of the classification latency.',
        unit: 's',
        width: 12,
        height: 8,
        queries: PERCENTILES.map((quantile) => ({
          expr: `histogram_quantile(${quantile}, sum by (le) (rate(${latency}_bucket${selector}[$__rate_interval])))`,
          legend: `p${Math.round(quantile * 100)}`,
        })),
      },
      {
        type: 'piechart',
        title: 'Classifications by result',
        description: 'Share of spam and ham in the selected time range.',
        unit: 'short',
        width: 12,
        height: 8,
        queries: [{ expr: `sum by (result) (increase(${classified}[$__range]))`, legend: '{{result}}' }],
      },
      {
        type: 'timeseries',
        title: 'Model service calls',
        description: 'Calls from the app to the model service per minute (cache misses reach the model).',
        unit: 'reqpm',
        width: 12,
        height: 8,
        queries: [{ expr: `sum(rate(${APP_METRICS.modelCalls}${selector}[$__rate_interval])) * 60`, legend: 'calls/min' }],
      },
    ],
  });
}
