// JSON logs with pino. Every line about an experiment comes from its child logger, so it carries the
// experiment's namespace and name as fields that log queries can filter on.
//
// Message style: start with a capital, past tense, no trailing period ("Applied VirtualService",
// "Lost leadership"); details go in fields, not in the message.
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  const options = {
    level,
    // pid and hostname tell two replicas' lines apart (the leader's identity is hostname_pid).
    base: { component: 'sms-experiment-operator', pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names instead of numbers: what a person reading `kubectl logs` expects.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The logger for lines about one experiment. */
export function experimentLogger(root: Logger, experiment: { namespace: string; name: string }): Logger {
  return root.child({ namespace: experiment.namespace, name: experiment.name });
}
