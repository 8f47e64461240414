import type { Logger } from '../../../../src/operator/runtime/logging.ts';
import { createLogger } from '../../../../src/operator/runtime/logging.ts';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A real pino logger whose JSON lines land in an array. */
export function memoryLogger(level: 'trace' | 'debug' | 'info' = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level,
    destination: {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  });
  return { logger, lines };
}
