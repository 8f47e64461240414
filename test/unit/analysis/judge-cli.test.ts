// The offline judge as users run it: a child process reading JSON Lines on standard input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');

function run(command: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
const judge = (input: string) => run(process.execPath, ['src/analysis/judge-cli.ts'], input);

const snapshot = (stableTrials: number, stableEvents: number, canaryTrials: number, canaryEvents: number) => ({
  stable: { trials: stableTrials, events: stableEvents },
  canary: { trials: canaryTrials, events: canaryEvents },
});
const line = (value: unknown) => JSON.stringify(value);
const GOOD = line({ alpha: 0.05, split: { stable: 90, canary: 10 }, snapshots: [snapshot(900, 3, 100, 1)] });

describe('analysis: the judge command', function () {
  this.timeout(30_000);

  it('npm run analysis:judge answers one line per experiment, one judgement per snapshot', async () => {
    const worse = Array.from({ length: 30 }, (_, i) => snapshot(900 * (i + 1), 2 * (i + 1), 100 * (i + 1), 2 * (i + 1)));
    const input = [GOOD, line({ split: { stable: 50, canary: 50 }, snapshots: [] }), line({ split: { stable: 90, canary: 10 }, snapshots: worse })].join('\n') + '\n';
    const { code, stdout, stderr } = await run('npm', ['run', '--silent', 'analysis:judge'], input);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n').map((text) => JSON.parse(text) as Record<string, unknown>[]);
    assert.equal(lines.length, 3);
    assert.equal(lines[0]?.length, 1);
    assert.deepEqual(Object.keys(lines[0]?.[0] ?? {}), ['verdict', 'pValue', 'rateRatio', 'interval', 'srmPValue']);
    const first = lines[0]?.[0] as { verdict: string; pValue: number; rateRatio: number; interval: [number, number]; srmPValue: number };
    assert.equal(first.verdict, 'no-difference-yet');
    assert.ok(Math.abs(first.rateRatio - 3) < 1e-12); // (1 / 0.1) / (3 / 0.9)
    assert.ok(first.interval[0] < first.rateRatio && first.rateRatio < first.interval[1]);
    assert.equal(first.pValue, 1);
    assert.equal(first.srmPValue, 1);
    assert.deepEqual(lines[1], []);
    assert.equal(lines[2]?.length, 30);
    assert.equal(lines[2]?.at(-1)?.verdict, 'worse');
  });

  const refused: [string, string, RegExp][] = [
    ['not JSON', '{"split": ', /^analysis:judge: line 2: not valid JSON/],
    ['a missing field', line({ split: { stable: 90, canary: 10 } }), /^analysis:judge: line 2: snapshots: is required$/],
    ['a missing count', line({ split: { stable: 90, canary: 10 }, snapshots: [{ stable: { trials: 1 }, canary: { trials: 1, events: 0 } }] }), /^analysis:judge: line 2: snapshots\[0\]\.stable\.events: is required$/],
    ['a negative count', line({ split: { stable: 90, canary: 10 }, snapshots: [snapshot(9, 0, 1, 0), snapshot(18, 0, 2, -1)] }), /^analysis:judge: line 2: snapshots\[1\]\.canary\.events: must be a non-negative integer, got -1$/],
    ['counts that decrease', line({ split: { stable: 90, canary: 10 }, snapshots: [snapshot(900, 3, 100, 1), snapshot(800, 3, 100, 1)] }), /^analysis:judge: line 2: snapshots\[1\]\.stable\.trials: decreased from 900 to 800/],
    ['a split not summing to 100', line({ split: { stable: 90, canary: 5 }, snapshots: [] }), /^analysis:judge: line 2: split: stable \+ canary must be 100 \(percent\), got 95$/],
    ['an unknown field', line({ split: { stable: 90, canary: 10 }, snapshots: [], alfa: 0.1 }), /^analysis:judge: line 2: unknown field "alfa"$/],
    ['α out of range', line({ alpha: 5, split: { stable: 90, canary: 10 }, snapshots: [] }), /^analysis:judge: line 2: alpha: must be between 0 and 1 \(exclusive\), got 5$/],
    ['an empty line', '', /^analysis:judge: line 2: empty line/],
  ];
  for (const [what, bad, message] of refused) {
    it(`refuses ${what}: exit 2, naming the line and the field, after answering the lines before`, async () => {
      const { code, stdout, stderr } = await judge(`${GOOD}\n${bad}\n${GOOD}\n`);
      assert.equal(code, 2);
      assert.match(stderr.trim(), message);
      assert.equal(stdout.trimEnd().split('\n').length, 1, 'only the good first line is answered');
    });
  }
});
