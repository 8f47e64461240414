import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { formatRecord } from '../../../../src/operator/runtime/log-text.ts';
import { createLogger, experimentLogger, type LogFormat, type Logger } from '../../../../src/operator/runtime/logging.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** Literal messages of `<something log-like>.<level>(...)` calls in a source file. */
function logMessages(file: string): Array<{ message: string; line: number }> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Array<{ message: string; line: number }> = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      LEVELS.has(node.expression.name.text) &&
      /log/i.test(node.expression.expression.getText(source))
    ) {
      const last = node.arguments[node.arguments.length - 1];
      if (last && (ts.isStringLiteral(last) || ts.isNoSubstitutionTemplateLiteral(last))) {
        found.push({ message: last.text, line: source.getLineAndCharacterOfPosition(last.getStart()).line + 1 });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('logging', () => {
  it('writes JSON lines with level names, an ISO time, and the experiment on every child line', () => {
    const { logger, lines } = memoryLogger();
    const log = experimentLogger(logger, { namespace: 'team-a', name: 'demo' });
    log.info({ object: 'VirtualService team-a/demo' }, 'Applied VirtualService');
    log.child({ attempt: 2 }).warn('Retried apply');
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map(({ level, msg, namespace, name }) => ({ level, msg, namespace, name })),
      [
        { level: 'info', msg: 'Applied VirtualService', namespace: 'team-a', name: 'demo' },
        { level: 'warn', msg: 'Retried apply', namespace: 'team-a', name: 'demo' },
      ],
    );
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(lines[0]?.component, 'sms-experiment-operator');
    assert.equal(lines[0]?.object, 'VirtualService team-a/demo');
  });

  it('serializes errors under err', () => {
    const { logger, lines } = memoryLogger();
    logger.error({ err: new Error('boom') }, 'Failed to apply');
    const err = lines[0]?.err as { message: string; stack: string };
    assert.equal(err.message, 'boom');
    assert.ok(err.stack.includes('Error: boom'));
  });

  describe('--log-format text', () => {
    /** The same records through a real pino logger in each format. */
    function both(log: (logger: Logger) => void): { json: Array<Record<string, unknown>>; text: string } {
      const written: Record<LogFormat, string[]> = { json: [], text: [] };
      for (const format of ['json', 'text'] as const) {
        log(createLogger({ level: 'debug', format, destination: { write: (line: string) => void written[format].push(line) } }));
      }
      return { json: written.json.map((line) => JSON.parse(line) as Record<string, unknown>), text: written.text.join('') };
    }

    it('writes one line a record: time, level, message, then every field of the JSON record', () => {
      const { json, text } = both((logger) => {
        const log = experimentLogger(logger, { namespace: 'team-a', name: 'demo' });
        log.info({ object: 'VirtualService team-a/demo', weights: { stable: 90, canary: 10 } }, 'Applied VirtualService');
        log.debug({ attempt: 2, leader: true }, 'Retried apply');
      });
      const lines = text.trimEnd().split('\n');
      assert.equal(lines.length, 2, text);
      for (const [index, record] of json.entries()) {
        const line = lines[index] ?? '';
        // Two loggers, two calls: the times differ, their form does not.
        assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
        assert.ok(line.slice(25).startsWith(`${String(record.level).toUpperCase().padEnd(5)} ${String(record.msg)} `), line);
        const fields = Object.keys(record).filter((key) => !['time', 'level', 'msg'].includes(key));
        assert.ok(fields.length >= 6, `component, pid, hostname, namespace, name and the call's own: ${fields.join(', ')}`);
        for (const key of fields) assert.match(line, new RegExp(` ${key}=`), `${key} in ${line}`);
      }
      assert.match(lines[0] ?? '', / namespace=team-a name=demo object="VirtualService team-a\/demo" weights=\{"stable":90,"canary":10\}$/);
      assert.match(lines[1] ?? '', /^\S+ DEBUG Retried apply .* attempt=2 leader=true$/);
    });

    it('keeps an error’s message on the line and puts its stack below it', () => {
      const { text } = both((logger) => logger.error({ err: new Error('connection refused') }, 'Failed to apply'));
      const [line, ...stack] = text.trimEnd().split('\n');
      assert.match(line ?? '', / ERROR Failed to apply .* err="connection refused"$/);
      assert.match(stack[0] ?? '', /^ {4}Error: connection refused$/);
      assert.ok(stack.length > 1 && stack.every((stackLine) => stackLine.startsWith('    ')), stack.join('\n'));
    });

    it('passes a line that is not a JSON object through unchanged', () => {
      assert.equal(formatRecord('not json'), 'not json\n');
      assert.equal(formatRecord('[1,2]\n'), '[1,2]\n');
    });
  });

  it('keeps the message style in src/operator: a capital first, no trailing period', () => {
    const dir = 'src/operator';
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f));
    const messages = files.flatMap((file) => logMessages(file).map((m) => ({ ...m, file })));
    assert.ok(messages.length >= 10, `found only ${messages.length} log messages; is the scanner broken?`);
    const offenders = messages.filter(({ message }) => !/^[A-Z]/.test(message) || /[.!]$/.test(message));
    assert.deepEqual(offenders.map((o) => `${o.file}:${o.line} "${o.message}"`), []);
  });
});
