// JSON logs with pino, one line per event; the version field tells stable and canary pods apart.
// Messages start with a capital, past tense, no trailing period ("Started app").
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  version: string;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

export function createLogger({ level, version, destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { component: 'sms-app', version, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Synchronous writes: the app logs little (start, stop, failures), and a line written just before
  // process.exit must not be lost or overtaken.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}
