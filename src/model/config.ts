// The model service's configuration, from the environment the operator's Deployment sets, checked
// with zod. Every problem names its variable.
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../common/config-error.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const booleanText = (name: string) =>
  z
    .enum(['true', 'false'], { error: () => `${name} must be "true" or "false"` })
    .default('false')
    .transform((value) => value === 'true');

// An artifact name becomes a label value and a directory name, so it follows label-value rules.
const ARTIFACT_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

const envSchema = z.object({
  MODEL_PORT: z.coerce
    .number({ error: () => 'MODEL_PORT must be a port number' })
    .int('MODEL_PORT must be an integer')
    .min(1, 'MODEL_PORT must be between 1 and 65535')
    .max(65535, 'MODEL_PORT must be between 1 and 65535')
    .default(8081),
  MODEL_LISTEN_HOST: z.string().min(1, 'MODEL_LISTEN_HOST must not be empty').default('0.0.0.0'),
  MODEL_DIR: z.string().min(1, 'MODEL_DIR must not be empty').default('/mnt/shared/models'),
  MODEL_VERSION: z
    .string()
    .regex(ARTIFACT_NAME, "MODEL_VERSION must be an artifact name: letters, digits, '.', '_' or '-', at most 63, starting and ending with a letter or digit")
    .default('v1'),
  MODEL_PATH: z.string().min(1, 'MODEL_PATH must not be empty when set').optional(),
  MODEL_URL: z
    .url({ protocol: /^https?$/, error: () => 'MODEL_URL must be an http(s) URL' })
    .optional(),
  SHADOW_MODE: booleanText('SHADOW_MODE'),
  STABLE_MODEL_VERSION: z
    .string()
    .regex(ARTIFACT_NAME, "STABLE_MODEL_VERSION must be an artifact name: letters, digits, '.', '_' or '-', at most 63, starting and ending with a letter or digit")
    .optional(),
  STABLE_MODEL_PATH: z.string().min(1, 'STABLE_MODEL_PATH must not be empty when set').optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: () => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  MODEL_RETRY_SECONDS: z.coerce
    .number({ error: () => 'MODEL_RETRY_SECONDS must be a number' })
    .positive('MODEL_RETRY_SECONDS must be positive')
    .default(5),
  SHUTDOWN_GRACE_SECONDS: z.coerce
    .number({ error: () => 'SHUTDOWN_GRACE_SECONDS must be a number' })
    .positive('SHUTDOWN_GRACE_SECONDS must be positive')
    .default(20),
});

export interface ModelServiceConfig {
  port: number;
  host: string;
  /** The artifact name, e.g. v1: the directory under MODEL_DIR and the path under MODEL_URL. */
  artifact: string;
  /** Where the artifact is read from: MODEL_PATH, else MODEL_DIR/MODEL_VERSION. */
  artifactDirectory: string;
  /** Base URL to fetch a missing artifact from (<MODEL_URL>/<artifact>/model.json and metadata.json). */
  modelUrl: string | undefined;
  shadowMode: boolean;
  /**
   * A shadow's comparison model: the stable version's artifact, loaded next to the shadow's own so
   * every message is classified by both (STABLE_MODEL_VERSION, STABLE_MODEL_PATH).
   */
  stable: { artifact: string; artifactDirectory: string } | undefined;
  /** How often a missing artifact is looked for again. */
  retryMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  shutdownGraceMs: number;
}

export { ConfigError };

// Empty variables count as unset: a Deployment or shell often renders an absent value as "".
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

export function loadConfig(env: NodeJS.ProcessEnv): ModelServiceConfig {
  const parsed = envSchema.safeParse(present(env));
  if (!parsed.success) throw new ConfigError('Invalid model service configuration', parsed.error.issues.map((issue) => issue.message));
  const values = parsed.data;
  const stableProblems = [
    ...(values.STABLE_MODEL_VERSION !== undefined && !values.SHADOW_MODE ? ['STABLE_MODEL_VERSION is set but SHADOW_MODE is not "true": only a shadow compares its answers with the stable model'] : []),
    ...(values.STABLE_MODEL_PATH !== undefined && values.STABLE_MODEL_VERSION === undefined ? ['STABLE_MODEL_PATH is set without STABLE_MODEL_VERSION: set the stable artifact name too'] : []),
  ];
  if (stableProblems.length > 0) throw new ConfigError('Invalid model service configuration', stableProblems);
  return {
    port: values.MODEL_PORT,
    host: values.MODEL_LISTEN_HOST,
    artifact: values.MODEL_VERSION,
    artifactDirectory: values.MODEL_PATH ?? path.join(values.MODEL_DIR, values.MODEL_VERSION),
    modelUrl: values.MODEL_URL,
    shadowMode: values.SHADOW_MODE,
    stable:
      values.STABLE_MODEL_VERSION === undefined
        ? undefined
        : { artifact: values.STABLE_MODEL_VERSION, artifactDirectory: values.STABLE_MODEL_PATH ?? path.join(values.MODEL_DIR, values.STABLE_MODEL_VERSION) },
    retryMs: values.MODEL_RETRY_SECONDS * 1000,
    logLevel: values.LOG_LEVEL,
    shutdownGraceMs: values.SHUTDOWN_GRACE_SECONDS * 1000,
  };
}
