// Operator configuration from command-line flags and SMSX_* environment variables (a flag wins over
// its variable), validated with zod. Every error names the flag or variable that carried the value.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../common/config-error.ts';
import { labelValueProblem, metadataKeyProblem } from '../crd/formats.ts';

import { DEFAULT_DASHBOARD_LABEL, type MonitoringDefaults } from './render/index.ts';
import { defaultRenewDeadlineMs } from './runtime/leader-election.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './runtime/logging.ts';

export interface OperatorConfig {
  /** Namespaces to watch; "all" watches the whole cluster. */
  namespaces: 'all' | readonly string[];
  /** The one HTTP server for /metrics, /healthz and /readyz. */
  metrics: { bindAddress: string; port: number };
  logLevel: LogLevel;
  logFormat: LogFormat;
  leaderElection: {
    enabled: boolean;
    leaseName: string;
    leaseNamespace: string;
    identity: string;
    leaseDurationMs: number;
    renewIntervalMs: number;
    /** A leader that could not renew for this long steps down (and each attempt is cut off there). */
    renewDeadlineMs: number;
  };
  /** Watches that have not listed within this bound fail /readyz and end the process (exit 3). */
  cacheSyncTimeoutMs: number;
  concurrency: number;
  resyncPeriodMs: number;
  fieldManager: string;
  /** Run without the prometheus-operator CRDs: monitoring objects are skipped and a condition says so. */
  skipMonitoring: boolean;
  /** Whether experiments may route the same host on the same gateway (no HostConflict check). */
  allowSharedHosts: boolean;
  /** Explicit kubeconfig; otherwise KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig: string | undefined;
  /** Where the experiments' evidence is read; undefined switches the analysis off. */
  analysis: { prometheusUrl: string | undefined; intervalMs: number };
  /** What every experiment's monitoring objects carry unless its spec.monitoring says otherwise. */
  monitoringDefaults: MonitoringDefaults;
}


export type ConfigResult = { kind: 'config'; config: OperatorConfig } | { kind: 'help'; text: string };

export { ConfigError };

const invalid = (problems: readonly string[]) => new ConfigError('Invalid configuration', problems, 'Run with --help for usage.');

interface OptionSpec {
  flag: string;
  env: string;
  type: 'string' | 'boolean';
  /** Shown in --help. */
  value?: string;
  description: string;
}

const OPTIONS = {
  namespaces: {
    flag: 'namespaces',
    env: 'SMSX_NAMESPACES',
    type: 'string',
    value: 'LIST',
    description: 'Comma-separated namespaces to watch, or "all" (default: all)',
  },
  metricsBindAddress: {
    flag: 'metrics-bind-address',
    env: 'SMSX_METRICS_BIND_ADDRESS',
    type: 'string',
    value: 'HOST',
    description: 'Address of the metrics and probe server (default: 0.0.0.0)',
  },
  metricsPort: {
    flag: 'metrics-port',
    env: 'SMSX_METRICS_PORT',
    type: 'string',
    value: 'PORT',
    description: 'Port of /metrics, /healthz and /readyz (default: 8080; 0 picks a free port)',
  },
  logLevel: {
    flag: 'log-level',
    env: 'SMSX_LOG_LEVEL',
    type: 'string',
    value: 'LEVEL',
    description: `One of ${LOG_LEVELS.join(', ')} (default: info)`,
  },
  logFormat: {
    flag: 'log-format',
    env: 'SMSX_LOG_FORMAT',
    type: 'string',
    value: 'FORMAT',
    description: 'json (one JSON object a line, for a cluster) or text (one readable line a record, for a terminal) (default: json)',
  },
  leaderElect: {
    flag: 'leader-elect',
    env: 'SMSX_LEADER_ELECT',
    type: 'boolean',
    description: 'Elect a leader through a Lease so only one replica reconciles (default: true; --no-leader-elect)',
  },
  leaseName: {
    flag: 'leader-election-lease-name',
    env: 'SMSX_LEADER_ELECTION_LEASE_NAME',
    type: 'string',
    value: 'NAME',
    description: 'Name of the Lease (default: sms-experiment-operator)',
  },
  leaseNamespace: {
    flag: 'leader-election-namespace',
    env: 'SMSX_LEADER_ELECTION_NAMESPACE',
    type: 'string',
    value: 'NAMESPACE',
    description: 'Namespace of the Lease (default: $POD_NAMESPACE, else default)',
  },
  identity: {
    flag: 'leader-election-identity',
    env: 'SMSX_LEADER_ELECTION_IDENTITY',
    type: 'string',
    value: 'ID',
    description: 'Holder identity written to the Lease (default: <hostname>_<pid>)',
  },
  leaseDuration: {
    flag: 'lease-duration',
    env: 'SMSX_LEASE_DURATION',
    type: 'string',
    value: 'DURATION',
    description: 'How long a silent leader keeps the Lease before another replica takes over (default: 15s)',
  },
  renewInterval: {
    flag: 'lease-renew-interval',
    env: 'SMSX_LEASE_RENEW_INTERVAL',
    type: 'string',
    value: 'DURATION',
    description: 'How often the leader renews and a candidate retries (default: 2s)',
  },
  renewDeadline: {
    flag: 'lease-renew-deadline',
    env: 'SMSX_LEASE_RENEW_DEADLINE',
    type: 'string',
    value: 'DURATION',
    description: 'A leader that cannot renew for this long stops leading; above the renew interval, below the lease duration (default: two thirds of the lease duration)',
  },
  cacheSyncTimeout: {
    flag: 'cache-sync-timeout',
    env: 'SMSX_CACHE_SYNC_TIMEOUT',
    type: 'string',
    value: 'DURATION',
    description: 'Exit (code 3) when a watch has not listed its objects within this time after start (default: 2m)',
  },
  concurrency: {
    flag: 'concurrency',
    env: 'SMSX_CONCURRENCY',
    type: 'string',
    value: 'N',
    description: 'Experiments reconciled at the same time (default: 4)',
  },
  resyncPeriod: {
    flag: 'resync-period',
    env: 'SMSX_RESYNC_PERIOD',
    type: 'string',
    value: 'DURATION',
    description: 'Interval of the full resync that re-queues every experiment (default: 5m; 0 disables)',
  },
  prometheusUrl: {
    flag: 'prometheus-url',
    env: 'SMSX_PROMETHEUS_URL',
    type: 'string',
    value: 'URL',
    description: 'Prometheus to read each experiment\'s per-version counts from, e.g. http://prometheus-operated.monitoring:9090 (default: none, no analysis)',
  },
  analysisInterval: {
    flag: 'analysis-interval',
    env: 'SMSX_ANALYSIS_INTERVAL',
    type: 'string',
    value: 'DURATION',
    description: 'How often each experiment\'s evidence is collected and judged (default: 30s)',
  },
  monitoringLabels: {
    flag: 'monitoring-labels',
    env: 'SMSX_MONITORING_LABELS',
    type: 'string',
    value: 'K=V,...',
    description:
      'Labels on every experiment\'s ServiceMonitors, PrometheusRule and AlertmanagerConfig, e.g. release=kube-prometheus-stack for a stock kube-prometheus-stack; comma-separated key=value or a JSON object; spec.monitoring.labels adds to them (default: none)',
  },
  monitoringAnnotations: {
    flag: 'monitoring-annotations',
    env: 'SMSX_MONITORING_ANNOTATIONS',
    type: 'string',
    value: 'K=V,...',
    description: 'Annotations on the same objects; comma-separated key=value or a JSON object (for values with commas); spec.monitoring.annotations adds to them (default: none)',
  },
  dashboardLabel: {
    flag: 'dashboard-label',
    env: 'SMSX_DASHBOARD_LABEL',
    type: 'string',
    value: 'K=V',
    description: 'The label the Grafana sidecar loads the dashboard ConfigMaps by; spec.monitoring.dashboardLabel overrides it (default: grafana_dashboard=1, what kube-prometheus-stack selects)',
  },
  fieldManager: {
    flag: 'field-manager',
    env: 'SMSX_FIELD_MANAGER',
    type: 'string',
    value: 'NAME',
    description: 'Server-side apply field manager (default: sms-experiment-operator)',
  },
  skipMonitoring: {
    flag: 'skip-monitoring',
    env: 'SMSX_SKIP_MONITORING',
    type: 'boolean',
    description: 'Run without the prometheus-operator CRDs; monitoring objects are skipped (default: false)',
  },
  allowSharedHosts: {
    flag: 'allow-shared-hosts',
    env: 'SMSX_ALLOW_SHARED_HOSTS',
    type: 'boolean',
    description: 'Let experiments route the same host on the same gateway instead of refusing the later one with HostConflict; only for clusters where that cannot collide, such as tests without a data plane (default: false)',
  },
  kubeconfig: {
    flag: 'kubeconfig',
    // Not KUBECONFIG itself: that one may be a path list, which the default loading already handles.
    env: 'SMSX_KUBECONFIG',
    type: 'string',
    value: 'PATH',
    description: 'Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
  },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations: "500ms", "15s", "5m", "1h30m", and "0". */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    const [whole, amount, unit] = match;
    const factor = unit === undefined ? undefined : DURATION_UNITS_MS[unit];
    if (amount === undefined || factor === undefined) return undefined;
    total += Number(amount) * factor;
    consumed += whole.length;
  }
  return consumed > 0 && consumed === trimmed.length ? Math.round(total) : undefined;
}

const duration = (what: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${what} "${text}" is not a duration like 500ms, 15s, 5m or 1h` });
      return z.NEVER;
    }
    return ms;
  });

const integer = (what: string, min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `${what} "${text}" must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return value;
  });

const boolean = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const normalized = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
  if (['false', '0', 'no', 'off'].includes(normalized)) return false;
  ctx.addIssue({ code: 'custom', message: `"${value}" is not a boolean (true/false)` });
  return z.NEVER;
});

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} must not be empty`);

// A DNS-1123 label (namespace) or subdomain (Lease name): what the API server would accept.
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const namespaces = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'all' || trimmed === '*') return 'all' as const;
  const list = [...new Set(trimmed.split(',').map((part) => part.trim()).filter((part) => part !== ''))];
  const invalid = list.filter((ns) => !dnsLabel.test(ns) || ns.length > 63);
  if (invalid.length > 0) {
    ctx.addIssue({ code: 'custom', message: `not valid namespace names: ${invalid.join(', ')}` });
    return z.NEVER;
  }
  return list;
});

/** "a=1,b=2" or '{"a":"1"}' into a map, every key checked as the API server and the CRD would. */
const keyValues = (what: string, checkValue: (value: string) => string | undefined) =>
  z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    let entries: Array<[string, unknown]>;
    if (trimmed.startsWith('{')) {
      try {
        entries = Object.entries(JSON.parse(trimmed) as Record<string, unknown>);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${what}: not a JSON object (${error instanceof Error ? error.message : String(error)})` });
        return z.NEVER;
      }
    } else {
      entries = trimmed === '' ? [] : trimmed.split(',').map((pair) => {
        const at = pair.indexOf('=');
        return at < 0 ? [pair.trim(), undefined] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      });
    }
    const map: Record<string, string> = {};
    for (const [key, value] of entries) {
      const problem = typeof value === 'string' ? (metadataKeyProblem(key) ?? checkValue(value)) : `"${key}" needs a value: key=value`;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${what}: ${problem}` });
      else map[key] = value as string;
    }
    return map;
  });

const dashboardLabel = keyValues('the dashboard label', labelValueProblem).transform((map, ctx) => {
  const entries = Object.entries(map);
  const [entry] = entries;
  if (entries.length !== 1 || entry === undefined) {
    ctx.addIssue({ code: 'custom', message: 'the dashboard label must be exactly one key=value, e.g. grafana_dashboard=1' });
    return z.NEVER;
  }
  return { key: entry[0], value: entry[1] };
});

const rawSchema = z.object({
  namespaces: namespaces.default('all'),
  metricsBindAddress: nonEmpty('the bind address').default('0.0.0.0'),
  metricsPort: integer('the port', 0, 65_535).default(8080),
  logLevel: z.enum(LOG_LEVELS, { error: (issue) => `"${String(issue.input)}" is not one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  logFormat: z.enum(LOG_FORMATS, { error: (issue) => `"${String(issue.input)}" is not one of ${LOG_FORMATS.join(', ')}` }).default('json'),
  leaderElect: boolean.default(true),
  leaseName: nonEmpty('the lease name')
    .regex(dnsSubdomain, 'the lease name must be a DNS subdomain (lower-case letters, digits, "-" and ".")')
    .default('sms-experiment-operator'),
  leaseNamespace: nonEmpty('the lease namespace').regex(dnsLabel, 'the lease namespace must be a DNS label').optional(),
  identity: nonEmpty('the identity').optional(),
  leaseDuration: duration('the lease duration').default(15_000),
  renewInterval: duration('the renew interval').default(2_000),
  renewDeadline: duration('the renew deadline').optional(),
  cacheSyncTimeout: duration('the cache sync timeout').default(120_000),
  concurrency: integer('the concurrency', 1, 1_000).default(4),
  resyncPeriod: duration('the resync period').default(300_000),
  fieldManager: nonEmpty('the field manager').max(128, 'the field manager must be at most 128 characters').default('sms-experiment-operator'),
  skipMonitoring: boolean.default(false),
  allowSharedHosts: boolean.default(false),
  kubeconfig: nonEmpty('the kubeconfig path').optional(),
  // Only the operator's own flag names Prometheus: an experiment's spec never does, so a namespace
  // user cannot point the operator at arbitrary hosts.
  prometheusUrl: nonEmpty('the Prometheus URL')
    .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'the Prometheus URL must be an http:// or https:// URL')
    .optional(),
  analysisInterval: duration('the analysis interval').default(30_000),
  monitoringLabels: keyValues('a monitoring label', labelValueProblem).default({}),
  monitoringAnnotations: keyValues('a monitoring annotation', () => undefined).default({}),
  dashboardLabel: dashboardLabel.default({ ...DEFAULT_DASHBOARD_LABEL }),
});

export interface ConfigEnvironment {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  hostname: string;
  pid: number;
}

/** Reads the configuration, or the help text when --help was given. Throws ConfigError. */
export function loadConfig({ argv, env, hostname, pid }: ConfigEnvironment): ConfigResult {
  const parsedArgs = parseCommandLine(argv);
  if (parsedArgs.help) return { kind: 'help', text: helpText() };

  const raw: Partial<Record<OptionName, string | boolean>> = {};
  const sourceOf: Partial<Record<OptionName, string>> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[OptionName, OptionSpec]>) {
    const fromFlag = parsedArgs.values[spec.flag];
    const fromEnv = env[spec.env];
    if (fromFlag !== undefined) {
      raw[name] = fromFlag;
      sourceOf[name] = `--${spec.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[name] = fromEnv;
      sourceOf[name] = `${spec.env} (environment)`;
    }
  }

  const result = rawSchema.safeParse(raw);
  if (!result.success) {
    throw invalid(
      result.error.issues.map((issue) => {
        const name = issue.path[0] as OptionName | undefined;
        const source = name ? (sourceOf[name] ?? `--${OPTIONS[name].flag}`) : 'configuration';
        return `${source}: ${issue.message}`;
      }),
    );
  }
  const values = result.data;
  const problems: string[] = [];
  if (values.renewInterval <= 0) problems.push(`${sourceOf.renewInterval ?? '--lease-renew-interval'}: must be above 0`);
  if (values.leaseDuration < 2 * values.renewInterval) {
    problems.push(
      `${sourceOf.leaseDuration ?? '--lease-duration'}: must be at least twice the renew interval, so a leader can miss one renewal without losing the lease`,
    );
  }
  const renewDeadline = values.renewDeadline ?? defaultRenewDeadlineMs(values.leaseDuration, values.renewInterval);
  if (values.renewDeadline !== undefined && (renewDeadline <= values.renewInterval || renewDeadline >= values.leaseDuration)) {
    problems.push(
      `${sourceOf.renewDeadline ?? '--lease-renew-deadline'}: must be above the renew interval and below the lease duration, so a leader that cannot renew stops before its lease can expire for others`,
    );
  }
  if (values.cacheSyncTimeout <= 0) problems.push(`${sourceOf.cacheSyncTimeout ?? '--cache-sync-timeout'}: must be above 0`);
  if (values.analysisInterval < 1_000) problems.push(`${sourceOf.analysisInterval ?? '--analysis-interval'}: must be at least 1s`);
  if (problems.length > 0) throw invalid(problems);

  return {
    kind: 'config',
    config: {
      namespaces: values.namespaces,
      metrics: { bindAddress: values.metricsBindAddress, port: values.metricsPort },
      logLevel: values.logLevel,
      logFormat: values.logFormat,
      leaderElection: {
        enabled: values.leaderElect,
        leaseName: values.leaseName,
        leaseNamespace: values.leaseNamespace ?? nonBlank(env.POD_NAMESPACE) ?? 'default',
        identity: values.identity ?? `${hostname}_${pid}`,
        leaseDurationMs: values.leaseDuration,
        renewIntervalMs: values.renewInterval,
        renewDeadlineMs: renewDeadline,
      },
      cacheSyncTimeoutMs: values.cacheSyncTimeout,
      concurrency: values.concurrency,
      resyncPeriodMs: values.resyncPeriod,
      fieldManager: values.fieldManager,
      skipMonitoring: values.skipMonitoring,
      allowSharedHosts: values.allowSharedHosts,
      kubeconfig: values.kubeconfig,
      analysis: { prometheusUrl: values.prometheusUrl, intervalMs: values.analysisInterval },
      monitoringDefaults: { labels: values.monitoringLabels, annotations: values.monitoringAnnotations, dashboardLabel: values.dashboardLabel },
    },
  };
}

function parseCommandLine(argv: readonly string[]): { help: boolean; values: Record<string, string | boolean | undefined> } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const spec of Object.values(OPTIONS)) options[spec.flag] = { type: spec.type };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, allowNegative: true });
    return { help: values.help === true, values };
  } catch (error) {
    throw invalid([error instanceof Error ? error.message : String(error)]);
  }
}

function nonBlank(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

export function helpText(): string {
  const rows = Object.values(OPTIONS).map((spec: OptionSpec) => {
    const flag = spec.type === 'boolean' ? `--${spec.flag}` : `--${spec.flag} ${spec.value ?? 'VALUE'}`;
    return { flag, env: spec.env, description: spec.description };
  });
  const width = Math.max(...rows.map((row) => row.flag.length));
  const lines = rows.map((row) => `  ${row.flag.padEnd(width)}  ${row.description}\n  ${' '.repeat(width)}  env: ${row.env}`);
  return [
    'Usage: sms-experiment-operator [options]',
    '',
    'Reconciles SmsExperiment resources into Deployments, Services, Istio and monitoring objects.',
    'Each option can also be set through the environment variable shown; a flag wins over its variable.',
    'Durations take Go syntax: 500ms, 15s, 5m, 1h.',
    '',
    'Options:',
    ...lines,
    `  ${'-h, --help'.padEnd(width)}  Show this help`,
    '',
  ].join('\n');
}
