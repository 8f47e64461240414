// JSON logs (pino) in the same shape as the operator's: level names, ISO time, the component.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { ModelServiceConfig } from './config.ts';

export function createServiceLogger(level: ModelServiceConfig['logLevel'], destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { component: 'sms-model', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
