// The app's configuration, read from environment variables (the operator's ConfigMap sets
// APP_SERVER_PORT, MODEL_HOST and MODEL_PORT; the Deployment sets APP_VERSION) and validated with
// zod. Every problem names the variable that carried the value.
import { z } from 'zod';
import { ConfigError } from '../common/config-error.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * lru: a hit makes the entry the most recently used; fifo: entries leave in insertion order,
 * whatever their hits; none: no cache, every request calls the model.
 */
export const CACHE_POLICIES = ['lru', 'fifo', 'none'] as const;
export type CachePolicy = (typeof CACHE_POLICIES)[number];

export interface AppConfig {
  port: number;
  /** Base URL of the model service without a trailing slash, e.g. http://sms-app-model.sms-app.svc:8081. */
  modelUrl: string;
  /** The version label of this app: in every metric, every answer and the page's footer. */
  appVersion: string;
  /** Budget for one classification's model call, retry included. */
  modelTimeoutMs: number;
  cache: { policy: CachePolicy; maxEntries: number; ttlMs: number };
  /** How long in-flight requests may take to finish after SIGTERM before the process exits anyway. */
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
}

export { ConfigError };

const invalid = (problems: readonly string[]) => new ConfigError('Invalid configuration', problems);

const wholeNumber = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return value;
  });

// What a Kubernetes label value allows, since the version ends up in labels and metric labels.
const versionLabel = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, 'must be 1 to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit, e.g. v1');

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;

const rawSchema = z.object({
  APP_SERVER_PORT: wholeNumber(0, 65_535).default(8080),
  MODEL_HOST: z.string({ error: 'is not set; set it to the model service URL (e.g. http://sms-app-model:8081) or host name' }).trim().min(1, 'must not be empty'),
  MODEL_PORT: wholeNumber(1, 65_535).default(8081),
  APP_VERSION: versionLabel.default('v1'),
  MODEL_TIMEOUT_MS: wholeNumber(1, 60_000).default(2_000),
  CACHE_POLICY: z.enum(CACHE_POLICIES, { error: (issue) => `"${String(issue.input)}" is not one of ${CACHE_POLICIES.join(', ')}` }).default('lru'),
  CACHE_MAX_ENTRIES: wholeNumber(1, 10_000_000).default(10_000),
  CACHE_TTL_SECONDS: wholeNumber(1, 7 * 24 * 3600).default(600),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(0, 600_000).default(10_000),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: (issue) => `"${String(issue.input)}" is not one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

type VariableName = keyof typeof rawSchema.shape;
const VARIABLES = Object.keys(rawSchema.shape) as VariableName[];

/**
 * MODEL_HOST is a URL (what the operator's ConfigMap sets) or a bare host name, optionally with a
 * port; a bare name gets MODEL_PORT. Returns the base URL or a problem.
 */
export function modelBaseUrl(modelHost: string, modelPort: number): { url: string } | { problem: string } {
  if (modelHost.includes('://')) {
    let url: URL;
    try {
      url = new URL(modelHost);
    } catch {
      return { problem: `"${modelHost}" is not a valid URL` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `"${modelHost}" must be an http:// or https:// URL` };
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      return { problem: `"${modelHost}" must not carry a query, fragment or credentials` };
    }
    return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
  }
  if (!HOST_NAME.test(modelHost)) return { problem: `"${modelHost}" is neither a URL nor a host name (e.g. sms-app-model or sms-app-model:8081)` };
  return { url: `http://${modelHost.includes(':') ? modelHost : `${modelHost}:${modelPort}`}` };
}

/** Reads the configuration from the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  // An empty variable (e.g. `KEY=` in a ConfigMap) counts as unset, so the default applies.
  const raw = Object.fromEntries(VARIABLES.flatMap((name) => (env[name] === undefined || env[name] === '' ? [] : [[name, env[name]]])));
  const result = rawSchema.safeParse(raw);
  if (!result.success) {
    throw invalid(result.error.issues.map((issue) => `${String(issue.path[0] ?? 'environment')}: ${issue.message}`));
  }
  const values = result.data;
  const model = modelBaseUrl(values.MODEL_HOST, values.MODEL_PORT);
  if ('problem' in model) throw invalid([`MODEL_HOST: ${model.problem}`]);
  return {
    port: values.APP_SERVER_PORT,
    modelUrl: model.url,
    appVersion: values.APP_VERSION,
    modelTimeoutMs: values.MODEL_TIMEOUT_MS,
    cache: { policy: values.CACHE_POLICY, maxEntries: values.CACHE_MAX_ENTRIES, ttlMs: values.CACHE_TTL_SECONDS * 1000 },
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS,
    logLevel: values.LOG_LEVEL,
  };
}
