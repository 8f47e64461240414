// The training and evaluation commands as a user runs them (node src/model/train.ts, evaluate.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadArtifact } from '../../src/model/artifact.ts';
import { FIXTURE_CORPUS } from '../support/model-service.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const command = (script: string, args: string[]) => run(process.execPath, [path.join(root, 'src/model', script), ...args], { cwd: root });
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('the command succeeded'),
    (error: unknown) => error as { code: number; stderr: string },
  );

describe('model commands', function () {
  this.timeout(60_000);
  let out: string;

  before(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'sms-model-commands-'));
  });
  after(() => rm(out, { recursive: true, force: true }));

  it('trains a versioned artifact, byte-identical for the same data and seed', async () => {
    const first = await command('train.ts', ['--data', FIXTURE_CORPUS, '--out', path.join(out, 'a'), '--version', 'v2', '--seed', '9', '--created', '2026-01-01T00:00:00Z']);
    assert.match(first.stdout, /^Trained v2 on 60 messages \(30 spam\) in [\d.]+ s → .*a\/v2\n/);
    await command('train.ts', ['--data', FIXTURE_CORPUS, '--out', path.join(out, 'b'), '--version', 'v2', '--seed', '9']);
    const model = (dir: string) => readFile(path.join(out, dir, 'v2', 'model.json'), 'utf8');
    assert.equal(await model('a'), await model('b'));
    const loaded = await loadArtifact(path.join(out, 'a', 'v2'));
    assert.equal(loaded.metadata.created, '2026-01-01T00:00:00Z');
    assert.equal(loaded.metadata.seed, 9);
    assert.match(loaded.metadata.evaluation?.protocol ?? '', /5-fold CV/);
  });

  it('says what is wrong with its arguments and exits 1', async () => {
    const failure = await failureOf(command('train.ts', ['--data', FIXTURE_CORPUS, '--version', 'v3']));
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /^Invalid arguments:\n {2}--out: is required\n {2}--version: model version must be one of v1, v2\n/);
    const missing = await failureOf(command('train.ts', ['--data', '/nonexistent.tsv', '--out', out, '--version', 'v1']));
    assert.equal(missing.stderr, 'cannot read labelled file /nonexistent.tsv: ENOENT: no such file or directory, open \'/nonexistent.tsv\'\n');
    const unknown = await failureOf(command('evaluate.ts', ['--data', FIXTURE_CORPUS, '--folds', '3']));
    assert.match(unknown.stderr, /Unknown option '--folds'/);
  });

  it('prints the protocols as a Markdown table, (c) with --test', async () => {
    const { stdout } = await command('evaluate.ts', ['--data', FIXTURE_CORPUS, '--test', FIXTURE_CORPUS, '--version', 'v1']);
    const rows = stdout.split('\n').filter((line) => line.startsWith('| v1 |'));
    assert.deepEqual(
      rows.map((row) => row.split('|')[2]?.trim()),
      ['(a) paper split', '(b) 5-fold CV', '(c) train/test files'],
    );
    assert.match(stdout, /^\| Version \| Protocol \| Test messages \| Accuracy \| Spam caught \| Ham blocked \| Precision \| F1 \| MCC \|$/m);
    assert.match(stdout, /v1 \(a\) paper split: first 18 messages train, last 42 test, file order/);
  });
});
