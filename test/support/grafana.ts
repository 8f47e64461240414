// What Grafana does to a panel's PromQL before it reaches Prometheus, for tests that run the rendered
// dashboards' queries: its built-in interval variables and the dashboard's own template variables
// substituted, and the labels a legend format names.
import type { Dashboard } from '../../src/operator/render/dashboards/index.ts';

export interface GrafanaQueryContext {
  /** The dashboard's time range (now-<range> to now). */
  rangeSeconds: number;
  /** The data source's scrape interval setting: Grafana's floor for $__interval. */
  scrapeIntervalSeconds: number;
  /** Points Grafana asks for across the range (about the panel's width in pixels). */
  maxDataPoints?: number;
  /** Current values of the dashboard's own variables (other than the data source). */
  variables?: Record<string, string>;
}

/**
 * The expression as Grafana sends it: $__interval = range / maxDataPoints, at least the scrape
 * interval; $__rate_interval = max($__interval + scrape interval, 4 × scrape interval);
 * $__range = the range in seconds; `$name` / `${name}` = the variable's current value. Throws on
 * a variable it does not know, so a new one cannot slip through unsubstituted.
 */
export function grafanaExpr(expr: string, context: GrafanaQueryContext): string {
  const interval = Math.max(Math.ceil(context.rangeSeconds / (context.maxDataPoints ?? 1000)), context.scrapeIntervalSeconds);
  const rateInterval = Math.max(interval + context.scrapeIntervalSeconds, 4 * context.scrapeIntervalSeconds);
  const values: Record<string, string> = {
    __rate_interval: `${rateInterval}s`,
    __interval: `${interval}s`,
    __interval_ms: String(interval * 1000),
    __range: `${context.rangeSeconds}s`,
    __range_s: String(context.rangeSeconds),
    __range_ms: String(context.rangeSeconds * 1000),
    ...context.variables,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`unknown dashboard variable ${whole} in ${expr}`);
    return value;
  });
}

/** The current values of a dashboard's variables other than the data source, which Grafana resolves itself. */
export function dashboardVariables(dashboard: Dashboard): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const variable of dashboard.templating.list) {
    if (variable.type === 'datasource') continue;
    const current = variable.current as { value?: unknown } | undefined;
    if (typeof variable.name !== 'string' || typeof current?.value !== 'string') throw new Error(`variable ${JSON.stringify(variable)} has no current value to substitute`);
    variables[variable.name] = current.value;
  }
  return variables;
}

/** The label names a legend format such as `stable {{stable_result}} → shadow {{shadow_result}}` uses. */
export function legendLabels(legendFormat: string): string[] {
  return [...legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1] ?? '');
}
