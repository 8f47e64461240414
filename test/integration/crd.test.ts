// The generated CRD on a real API server: the samples apply and come back defaulted exactly as zod
// defaults them, every invalid experiment of the shared table is rejected with a message naming the
// field, kubectl explain teaches the fields, and kubectl get prints the columns.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildCrd } from '../../src/crd/crd.ts';
import { GROUP, PLURAL, SINGULAR, smsExperimentSpecSchema } from '../../src/crd/schema.ts';
import type { SchemaNode } from '../../src/crd/structural.ts';
import { useCluster } from '../support/cluster.ts';
import type { CommandResult, TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { INVALID_EXPERIMENTS, VALID_EXPERIMENTS, experimentObject } from '../support/experiment-cases.ts';

const repositoryRoot = resolve(import.meta.dirname, '../..');
const RESOURCE = `${PLURAL}.${GROUP}`;
const sampleFile = (name: string) => resolve(repositoryRoot, `config/samples/experiments_v1alpha1_smsexperiment_${name}.yaml`);
const SAMPLES = ['canary', 'shadow', 'full', 'progressive'].map((name) => ({ name, file: sampleFile(name) }));

interface StoredExperiment {
  metadata: { name: string; generation: number };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function explain(result: CommandResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

/** kubectl explain wraps and indents descriptions; compare text with whitespace collapsed. */
function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function schemaNode(...path: string[]): SchemaNode {
  let node: SchemaNode | undefined = buildCrd().spec.versions[0]?.schema.openAPIV3Schema;
  for (const segment of path) node = node?.properties?.[segment];
  if (node === undefined) throw new Error(`no schema at ${path.join('.')}`);
  return node;
}

describe('SmsExperiment CRD on a real API server', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async function () {
    cluster = await useCluster();
    await installCrd(cluster);
  });

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${explain(result)}`);
    return result.stdout;
  }

  it('installs idempotently', async () => {
    await installCrd(cluster);
    const established = await kubectlOk(['get', `crd/${RESOURCE}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    assert.equal(established, 'True');
  });

  describe('the samples', () => {
    for (const sample of SAMPLES) {
      it(`applies the ${sample.name} sample and reads it back with the schema defaults filled in`, async () => {
        const namespace = await cluster.createNamespace(`smsx-sample-${sample.name}`);
        const written = parse(await readFile(sample.file, 'utf8')) as StoredExperiment;
        await kubectlOk(['apply', '--server-side', '--field-manager=smsx-tests', '-n', namespace, '-f', sample.file]);
        const stored = JSON.parse(await kubectlOk(['get', RESOURCE, written.metadata.name, '-n', namespace, '-o', 'json'])) as StoredExperiment;
        assert.deepStrictEqual(stored.spec, smsExperimentSpecSchema.parse(written.spec));
      });
    }
  });

  describe('valid experiments', () => {
    let namespace: string;
    before(async () => {
      namespace = await cluster.createNamespace('smsx-valid');
    });

    for (const valid of VALID_EXPERIMENTS) {
      it(`accepts ${valid.title}, defaulted as zod defaults it`, async () => {
        const stored = JSON.parse(
          await kubectlOk(['create', '--dry-run=server', '-n', namespace, '-o', 'json', '-f', '-'], stringify(experimentObject(valid, namespace))),
        ) as StoredExperiment;
        assert.deepStrictEqual(stored.spec, smsExperimentSpecSchema.parse(valid.spec));
      });
    }
  });

  describe('invalid experiments', () => {
    let namespace: string;
    before(async () => {
      namespace = await cluster.createNamespace('smsx-invalid');
    });

    it('has at least 15 cases', () => {
      assert.ok(INVALID_EXPERIMENTS.length >= 15);
    });

    for (const invalid of INVALID_EXPERIMENTS) {
      it(`rejects ${invalid.title}, naming ${invalid.field}`, async () => {
        const result = await cluster.kubectl(['create', '--dry-run=server', '-n', namespace, '-f', '-'], {
          input: stringify(experimentObject(invalid, namespace)),
        });
        assert.notEqual(result.code, 0, `the API server accepted it: ${explain(result)}`);
        assert.match(result.stderr, /is invalid|Error from server/, `not the API server's rejection: ${explain(result)}`);
        assert.ok(result.stderr.includes(invalid.field), `the error does not name ${invalid.field}: ${result.stderr}`);
        const message = invalid.serverMessage ?? invalid.message;
        assert.ok(result.stderr.includes(message), `the error does not say "${message}": ${result.stderr}`);
      });
    }
  });

  describe('kubectl explain', () => {
    async function explainField(field: string): Promise<string> {
      // The API server publishes a new CRD's OpenAPI a moment after it is Established.
      const result = await eventually(`kubectl explain ${field}`, async () => {
        const explained = await cluster.kubectl(['explain', field]);
        assert.equal(explained.code, 0, `kubectl explain ${field}: ${explain(explained)}`);
        return explained;
      });
      return collapse(result.stdout);
    }

    it('describes spec.traffic and each of its fields', async () => {
      const output = await explainField('smsexperiment.spec.traffic');
      const traffic = schemaNode('spec', 'traffic');
      assert.ok(output.includes(collapse(String(traffic.description))), output);
      for (const [name, field] of Object.entries(traffic.properties ?? {})) {
        assert.ok(output.includes(name), `explain does not list ${name}: ${output}`);
        assert.ok(output.includes(collapse(String(field.description))), `explain does not describe ${name}: ${output}`);
      }
    });

    it('teaches a leaf field, its default included', async () => {
      const output = await explainField('smsx.spec.traffic.stickySession.ttl');
      assert.ok(output.includes('Default 3600s'), output);
    });
  });

  describe('printer columns and the status subresource', () => {
    let namespace: string;
    before(async () => {
      namespace = await cluster.createNamespace('smsx-columns');
      await kubectlOk(['apply', '-n', namespace, '-f', sampleFile('canary')]);
      const status = {
        status: {
          observedGeneration: 1,
          mode: 'canary',
          weights: { stable: 90, canary: 10 },
          mirrorPercent: 2.5,
          ready: '4/4',
          conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: 'All versions are ready', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        },
      };
      await kubectlOk(['patch', RESOURCE, 'sms-app', '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    });

    /** Rows cut at the header's column starts: an empty cell (a field not set yet) stays an empty string. */
    function table(output: string): string[][] {
      const [header = '', ...rows] = output.replace(/\s+$/, '').split('\n');
      const starts = [...header.matchAll(/\S+/g)].map((match) => match.index);
      const cut = (line: string) => starts.map((start, i) => line.slice(start, starts[i + 1] ?? line.length).trim());
      return [cut(header), ...rows.map(cut)];
    }

    it('prints mode, stable %, canary %, mirror %, ready, the phase, the verdict and age', async () => {
      const [header, row] = table(await kubectlOk(['get', 'smsx', '-n', namespace]));
      assert.deepStrictEqual(header, ['NAME', 'MODE', 'STABLE%', 'CANARY%', 'MIRROR%', 'READY', 'PHASE', 'VERDICT', 'AGE']);
      assert.deepStrictEqual(row?.slice(0, 8), ['sms-app', 'canary', '90', '10', '2.5', '4/4', '', ''], 'no phase without a progression, no verdict without --prometheus-url');
    });

    it('adds the step, the Ready reason and the experiment host with -o wide', async () => {
      const [header, row] = table(await kubectlOk(['get', 'smsx', '-n', namespace, '-o', 'wide']));
      assert.deepStrictEqual(header, ['NAME', 'MODE', 'STABLE%', 'CANARY%', 'MIRROR%', 'READY', 'PHASE', 'STEP', 'VERDICT', 'REASON', 'HOST', 'AGE']);
      assert.deepStrictEqual(row?.slice(0, 11), ['sms-app', 'canary', '90', '10', '2.5', '4/4', '', '', '', 'Available', 'sms-app.local']);
    });

    it('lists the experiment under the sms category', async () => {
      assert.equal((await kubectlOk(['get', 'sms', '-n', namespace, '-o', 'name'])).trim(), `${SINGULAR}.${GROUP}/sms-app`);
    });

    it('keeps status out of the generation: only spec changes bump it', async () => {
      const stored = JSON.parse(await kubectlOk(['get', RESOURCE, 'sms-app', '-n', namespace, '-o', 'json'])) as StoredExperiment;
      assert.equal(stored.metadata.generation, 1);
      assert.equal(stored.status?.ready, '4/4');
    });
  });
});
