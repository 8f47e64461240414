import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { experimentLogger } from '../../../../src/operator/runtime/logging.ts';
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
