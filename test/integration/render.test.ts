// The renderer's whole output, judged by the real tools: each sample is created on the API server
// (so the CRD's schema defaults fill it in), read back, rendered, and the object set is applied
// server-side with dryRun=All and strict field validation against the real Istio and
// prometheus-operator CRDs; istioctl analyze and promtool then check the Istio objects and the rules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { smsExperimentSchema, type SmsExperiment } from '../../src/crd/schema.ts';
import { promtoolRuleFile, render } from '../../src/operator/render/index.ts';
import type { RenderedObject } from '../../src/operator/render/index.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';

const execFileAsync = promisify(execFile);

const SAMPLES = ['canary', 'shadow', 'full', 'progressive'].map((name) => `config/samples/experiments_v1alpha1_smsexperiment_${name}.yaml`);

function multiDocument(objects: readonly object[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

describe('rendered objects on the real API server', function () {
  this.timeout(120_000);
  let cluster: TestCluster;

  before(async function () {
    this.timeout(300_000);
    cluster = await useCluster();
    await installCrd(cluster);
  });

  async function admittedSample(file: string): Promise<{ namespace: string; experiment: SmsExperiment }> {
    const namespace = await cluster.createNamespace('render');
    const created = await cluster.kubectl(['apply', '-n', namespace, '-f', file, '-o', 'json']);
    assert.equal(created.code, 0, created.stderr);
    return { namespace, experiment: smsExperimentSchema.parse(JSON.parse(created.stdout)) };
  }

  for (const file of SAMPLES) {
    describe(path.basename(file), () => {
      let objects: RenderedObject[];
      let namespace: string;

      before(async () => {
        const admitted = await admittedSample(file);
        namespace = admitted.namespace;
        objects = render(admitted.experiment);
      });

      it('is accepted whole by server-side apply with dryRun=All and strict field validation', async () => {
        const result = await cluster.kubectl(
          ['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=sms-experiment-operator', '-n', namespace, '-f', '-', '-o', 'name'],
          { input: multiDocument(objects) },
        );
        assert.equal(result.code, 0, `the API server refused the rendered objects:\n${result.stderr}`);
        const applied = result.stdout.trim().split('\n');
        assert.equal(applied.length, objects.length, result.stdout);
        assert.equal(result.stderr.trim(), '', 'no warnings expected');
      });

      it('gives istioctl analyze nothing to report', async () => {
        const istio = objects.filter((object) => object.apiVersion.startsWith('networking.istio.io/') || ['Service', 'Deployment'].includes(object.kind));
        assert.ok(istio.some((object) => object.kind === 'VirtualService'));
        const dir = await mkdtemp(path.join(tmpdir(), 'rendered-istio-'));
        const manifest = path.join(dir, 'objects.yaml');
        await writeFile(manifest, multiDocument(istio));
        const result = await cluster.istioctl(['analyze', '--use-kube=false', '--all-namespaces', manifest]);
        assert.equal(result.code, 0, `istioctl analyze reported:\n${result.stdout}${result.stderr}`);
        assert.match(result.stdout + result.stderr, /No validation issues found/);
      });

      it('has a rule group that promtool accepts', async () => {
        const rules = promtoolRuleFile(objects);
        assert.ok(rules, 'the sample has monitoring on, so it must render rules');
        const dir = await mkdtemp(path.join(tmpdir(), 'rendered-rules-'));
        const file = path.join(dir, 'rules.yaml');
        await writeFile(file, rules);
        const { stdout } = await execFileAsync('promtool', ['check', 'rules', file]);
        assert.match(stdout, /SUCCESS: 1 rules found/);
        const parsed = parse(await readFile(file, 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
        assert.equal(parsed.groups[0]?.rules[0]?.alert, 'HighRequestRate');
      });
    });
  }
});
