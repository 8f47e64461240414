// JSON logs with pino (--log-format text rewrites each record as one readable line: log-text.ts). Every line about an experiment comes from its child logger, so it carries the
// experiment's namespace and name as fields that log queries can filter on.
//
// Message style: start with a capital, past tense, no trailing period ("Applied VirtualService",
// "Lost leadership"); details go in fields, not in the message.
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import { textDestination } from './log-text.ts';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** json for a cluster's log pipeline, text for a person at a terminal (the same fields either way). */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: LogLevel;
  format?: LogFormat;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

export function createLogger({ level, format = 'json', destination }: LoggerOptions): Logger {
  const options = {
    level,
    // pid and hostname tell two replicas' lines apart (the leader's identity is hostname_pid).
    base: { component: 'sms-experiment-operator', pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names instead of numbers: what a person reading `kubectl logs` expects.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Synchronous, as pino's own default: the last lines before process.exit() are not lost.
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, format === 'text' ? textDestination(out, { colour: destination === undefined && process.stdout.isTTY }) : out);
}

/** The logger for lines about one experiment. */
export function experimentLogger(root: Logger, experiment: { namespace: string; name: string }): Logger {
  return root.child({ namespace: experiment.namespace, name: experiment.name });
}
