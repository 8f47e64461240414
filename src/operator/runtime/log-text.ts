// --log-format text: each pino JSON record rewritten as one line a person reads in a terminal, with
// the same fields: `<time> <LEVEL> <message> key=value ...`. Strings are bare unless they hold spaces,
// quotes or "=", objects are compact JSON; an error's stack follows on indented lines, the one thing
// a terminal needs that a single line cannot hold.
import type { DestinationStream } from 'pino';

const LEVEL_COLOURS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

/** One JSON record (a pino line) as text; a line that is not a JSON object passes through unchanged. */
export function formatRecord(line: string, { colour = false }: { colour?: boolean } = {}): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return `${line.trimEnd()}\n`;
  const { time, level, msg, ...fields } = record as Record<string, unknown>;
  const asText = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
  const label = asText(level).toUpperCase().padEnd(5);
  const parts = [asText(time), colour ? `\u001b[${LEVEL_COLOURS[asText(level)] ?? '0'}m${label}\u001b[0m` : label];
  if (asText(msg) !== '') parts.push(asText(msg));
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    // pino's error serializer gives {type, message, stack, ...more}: the message (and any more, such
    // as an HTTP status) stays on the line, the stack goes below it.
    if (typeof value === 'object' && value !== null && 'stack' in value && typeof value.stack === 'string') {
      const { stack, type: _type, message, ...more } = value as Record<string, unknown>;
      parts.push(`${key}=${formatValue(Object.keys(more).length === 0 ? message : { message, ...more })}`);
      stacks.push(...String(stack).split('\n').map((stackLine) => `    ${stackLine}`));
      continue;
    }
    parts.push(`${key}=${formatValue(value)}`);
  }
  return [parts.join(' '), ...stacks].join('\n') + '\n';
}

/** A pino destination that writes `formatRecord` of each record to `out`. */
export function textDestination(out: { write(text: string): unknown }, options: { colour?: boolean } = {}): DestinationStream {
  return { write: (line: string) => void out.write(formatRecord(line, options)) };
}
