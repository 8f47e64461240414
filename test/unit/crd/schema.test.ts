// The zod schema as the operator uses it: a two-line spec gets the documented defaults, and every
// invalid spec of the shared table is rejected with an issue that names the field.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { durationSeconds, formatIssues, smsExperimentSchema, smsExperimentSpecSchema } from '../../../src/crd/schema.ts';
import { DOCUMENTED_DEFAULTS, INVALID_EXPERIMENTS, VALID_EXPERIMENTS, experimentObject } from '../../support/experiment-cases.ts';

const repositoryRoot = resolve(import.meta.dirname, '../../..');

describe('SmsExperiment zod schema', () => {
  describe('defaults', () => {
    it('turns an empty spec into the documented defaults', () => {
      assert.deepStrictEqual(smsExperimentSpecSchema.parse({}), DOCUMENTED_DEFAULTS);
    });

    it('gives an object without a spec the documented defaults', () => {
      const experiment = smsExperimentSchema.parse({
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { name: 'sms-app', namespace: 'demo' },
      });
      assert.deepStrictEqual(experiment.spec, DOCUMENTED_DEFAULTS);
    });

    it('keeps the defaults next to a partly given object', () => {
      const spec = smsExperimentSpecSchema.parse({ mode: 'shadow', traffic: { weights: { stable: 50, canary: 50 } } });
      assert.equal(spec.mode, 'shadow');
      assert.deepStrictEqual(spec.traffic, { ...DOCUMENTED_DEFAULTS.traffic, weights: { stable: 50, canary: 50 } });
      assert.deepStrictEqual(spec.app, DOCUMENTED_DEFAULTS.app);
    });

    it('replaces the default storage when a PersistentVolumeClaim is given', () => {
      assert.deepStrictEqual(smsExperimentSpecSchema.parse({ storage: { persistentVolumeClaim: 'models' } }).storage, {
        persistentVolumeClaim: 'models',
      });
    });

    it('defaults the SMTP Secret of e-mail alerting to smtp-credentials', () => {
      const spec = smsExperimentSpecSchema.parse({ monitoring: { email: { to: 'a@example.com', from: 'b@example.com', smarthost: 'smtp:25' } } });
      assert.deepStrictEqual(spec.monitoring.email?.passwordSecretRef, { name: 'smtp-credentials', key: 'password' });
    });
  });

  describe('the samples', () => {
    for (const sample of ['canary', 'shadow', 'full', 'progressive']) {
      it(`accepts config/samples/…_${sample}.yaml`, async () => {
        const file = resolve(repositoryRoot, `config/samples/experiments_v1alpha1_smsexperiment_${sample}.yaml`);
        const object = parse(await readFile(file, 'utf8')) as { metadata: Record<string, unknown> };
        const result = smsExperimentSchema.safeParse({ ...object, metadata: { ...object.metadata, namespace: 'test' } });
        assert.ok(result.success, result.success ? '' : formatIssues(result.error).join('\n'));
      });
    }

    it('the full sample spells out every default it does not change', async () => {
      const file = resolve(repositoryRoot, 'config/samples/experiments_v1alpha1_smsexperiment_full.yaml');
      const { spec } = parse(await readFile(file, 'utf8')) as { spec: Record<string, unknown> };
      const { monitoring, ...rest } = smsExperimentSpecSchema.parse(spec);
      const { email, ...monitoringRest } = monitoring;
      const { monitoring: defaultMonitoring, ...defaultRest } = DOCUMENTED_DEFAULTS;
      assert.deepStrictEqual({ ...rest, monitoring: monitoringRest }, { ...defaultRest, monitoring: defaultMonitoring });
      assert.ok(email, 'the full sample shows e-mail alerting');
      assert.deepStrictEqual(spec, smsExperimentSpecSchema.parse(spec), 'every field of the full sample is written out');
    });
  });

  describe('rejects invalid experiments naming the field', () => {
    for (const invalid of INVALID_EXPERIMENTS.filter((candidate) => candidate.serverOnly === undefined)) {
      it(`rejects ${invalid.title}`, () => {
        const result = smsExperimentSchema.safeParse(experimentObject(invalid, 'test'));
        assert.equal(result.success, false, 'zod accepted it');
        const lines = result.success ? [] : formatIssues(result.error);
        assert.ok(
          lines.some((line) => line.includes(invalid.field) && line.includes(invalid.message)),
          `expected an issue naming ${invalid.field} with "${invalid.message}", got:\n${lines.join('\n')}`,
        );
      });
    }
  });

  describe('accepts the edge cases', () => {
    for (const valid of VALID_EXPERIMENTS) {
      it(`accepts ${valid.title}`, () => {
        const result = smsExperimentSchema.safeParse(experimentObject(valid, 'test'));
        assert.ok(result.success, result.success ? '' : formatIssues(result.error).join('\n'));
      });
    }
  });

  describe('durationSeconds', () => {
    const cases: [string, number | undefined][] = [
      ['3600s', 3600],
      ['1h', 3600],
      ['90m', 5400],
      ['1h30m15s', 5415],
      ['1.5h', 5400],
      ['1500ms', 1.5],
      ['3600', undefined],
      ['1 h', undefined],
      ['1d', undefined],
      ['', undefined],
    ];
    for (const [text, seconds] of cases) {
      it(`reads '${text}' as ${String(seconds)}`, () => assert.equal(durationSeconds(text), seconds));
    }
  });

  describe('formatIssues', () => {
    it('prints the path like the API server, with list indexes in brackets', () => {
      const result = smsExperimentSchema.safeParse({
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { name: 'sms-app', namespace: 'demo' },
        status: { conditions: [{ type: 'Ready' }] },
      });
      assert.equal(result.success, false);
      const lines = result.success ? [] : formatIssues(result.error);
      assert.ok(lines.some((line) => line.startsWith('status.conditions[0].status: ')), lines.join('\n'));
    });

    it('prefixes a root', () => {
      const result = smsExperimentSpecSchema.safeParse({ mode: 'blue' });
      assert.deepStrictEqual(result.success ? [] : formatIssues(result.error, 'spec').map((line) => line.split(':')[0]), ['spec.mode']);
    });
  });
});
