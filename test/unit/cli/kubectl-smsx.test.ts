import assert from 'node:assert/strict';
import { formatStatus, parseArgs, run, UsageError, type Kubectl } from '../../../src/cli/kubectl-smsx.ts';
import { smsExperimentSchema } from '../../../src/crd/schema.ts';

const experiment = (spec: Record<string, unknown>, status?: Record<string, unknown>) =>
  smsExperimentSchema.parse({ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name: 'sms-app', namespace: 'team' }, spec, ...(status ? { status } : {}) });

const progressing = {
  mode: 'canary',
  weights: { stable: 75, canary: 25 },
  mirrorPercent: 0,
  progression: {
    run: 'r',
    phase: 'Progressing',
    step: 2,
    steps: 4,
    mode: 'canary',
    weights: { stable: 75, canary: 25 },
    weightsFrom: 'steps',
    acknowledgedWeights: { stable: 90, canary: 10 },
    epoch: 0,
    message: 'step 2/4 (25%): waiting: 40 of 200 canary requests',
    history: [{ step: 1, canaryWeight: 10, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:01:00Z', outcome: 'Advanced', canaryRequests: 300, message: 'every gate passes' }],
  },
  analysis: {
    step: 's',
    stepStartedAt: '2026-01-01T00:01:05Z',
    alpha: 0.05,
    verdict: 'no-difference-yet',
    signals: [{ name: 'errors', stable: { trials: 120, events: 0 }, canary: { trials: 40, events: 0 }, verdict: 'no-difference-yet', pValue: 1, srmPValue: 1, interval: [0, -1] }],
  },
};

describe('kubectl smsx', () => {
  describe('parseArgs', () => {
    it('reads a command, the name and kubectl\'s flags', () => {
      assert.deepEqual(parseArgs(['pause', 'sms-app', '-n', 'team', '--context=dev']), { kind: 'action', action: 'pause', name: 'sms-app', flags: ['-n', 'team', '--context=dev'] });
      assert.deepEqual(parseArgs(['status', 'sms-app']), { kind: 'status', name: 'sms-app', flags: [] });
      assert.deepEqual(parseArgs([]), { kind: 'help' });
      assert.deepEqual(parseArgs(['abort', '--help']), { kind: 'help' });
    });

    it('refuses what it cannot use, saying what', () => {
      assert.throws(() => parseArgs(['rewind', 'sms-app']), (error: unknown) => error instanceof UsageError && /unknown command "rewind"/.test(error.message));
      assert.throws(() => parseArgs(['pause']), /NAME is missing/);
      assert.throws(() => parseArgs(['pause', 'a', 'b']), /unexpected arguments: b/);
      assert.throws(() => parseArgs(['pause', 'a', '-n']), /-n needs a value/);
      assert.throws(() => parseArgs(['pause', 'a', '--watch']), /unknown flag --watch/);
    });
  });

  describe('formatStatus', () => {
    it('shows the phase, the step, the evidence, the history and what is next', () => {
      const text = formatStatus(experiment({ analysis: { progression: { steps: [10, 25, 50, 100] } } }, progressing));
      assert.match(text, /^team\/sms-app\nIn effect: canary mode, stable 75% \/ canary 25%/);
      assert.match(text, /Steps: 10% → 25% → 50% → 100%/);
      assert.match(text, /Phase: Progressing, step 2\/4, driven weights 75\/25 \(from the steps\)/);
      assert.match(text, /errors +no-difference-yet +canary 0\/40 +stable 0\/120 +ratio interval \[0, ∞\]/);
      assert.match(text, /History:\n {2}step 1 +10% {2}Advanced/);
    });

    it('says when there is no progression, or it has not started', () => {
      assert.match(formatStatus(experiment({})), /No progression/);
      assert.match(formatStatus(experiment({ analysis: { progression: {} } })), /not started .*--prometheus-url/);
    });
  });

  describe('run', () => {
    it('annotates the experiment with the action and a nonce, passing kubectl\'s flags on', async () => {
      const calls: string[][] = [];
      const kubectl: Kubectl = (args) => {
        calls.push([...args]);
        return Promise.resolve(args[0] === 'get' ? JSON.stringify(experiment({ analysis: { progression: {} } }, progressing)) : '');
      };
      const output = await run({ kind: 'action', action: 'abort', name: 'sms-app', flags: ['-n', 'team'] }, kubectl, () => 'n1');
      assert.deepEqual(calls[1], ['annotate', 'smsexperiments.experiments.sms-app.io', 'sms-app', 'experiments.sms-app.io/request=abort/n1', '--overwrite', '-n', 'team']);
      assert.match(output, /Requested abort of team\/sms-app/);
    });

    it('refuses an action on an experiment without a progression, and reports what kubectl said', async () => {
      const plain: Kubectl = () => Promise.resolve(JSON.stringify(experiment({})));
      await assert.rejects(run({ kind: 'action', action: 'pause', name: 'sms-app', flags: [] }, plain), /no spec.analysis.progression/);
      const missing: Kubectl = () => Promise.reject(new Error('Error from server (NotFound): smsexperiments "x" not found'));
      await assert.rejects(run({ kind: 'status', name: 'x', flags: [] }, missing), /NotFound/);
      const broken: Kubectl = () => Promise.resolve(JSON.stringify({ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name: 'x', namespace: 'y' }, spec: { mode: 'bluegreen' } }));
      await assert.rejects(run({ kind: 'status', name: 'x', flags: [] }, broken), /cannot be read: spec.mode/);
    });
  });
});
