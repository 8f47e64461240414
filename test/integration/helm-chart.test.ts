// charts/sms-experiment-operator with the project's own helm (hack/cluster/build.sh --with-helm):
// generated from config/default (--check), `helm lint`, its default render equal to dist/install.yaml
// object for object, the namespace-scoped values, values the schema refuses, and
// `helm template | kubectl apply --dry-run=server -f -` on a real API server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { loadToolchain } from '../../hack/cluster/toolchain.ts';
import { BUNDLE_FILE } from '../../hack/generate-bundle.ts';
import { CHART_DIR } from '../../hack/generate-chart.ts';
import { useCluster, type CommandResult, type TestCluster } from '../support/cluster.ts';
import { OPERATOR_NAMESPACE } from '../support/operator.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const CHART = path.join(repositoryRoot, CHART_DIR);
const SCOPED_VALUES = path.join(repositoryRoot, 'test/fixtures/helm/namespace-scoped-values.yaml');

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }),
});
type KubeObject = z.output<typeof objectSchema>;
const ruleSchema = z.looseObject({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) });
const roleSchema = z.looseObject({ rules: z.array(ruleSchema) });
const deploymentSchema = z.looseObject({
  spec: z.looseObject({ replicas: z.number(), template: z.looseObject({ spec: z.looseObject({ containers: z.array(z.looseObject({ args: z.array(z.string()) })) }) }) }),
});

const keyOf = (object: KubeObject) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
const parseObjects = (text: string): KubeObject[] =>
  parseAllDocuments(text)
    .map((document) => document.toJSON() as unknown)
    .filter((object) => object !== null)
    .map((object) => objectSchema.parse(object));
const byKey = (objects: KubeObject[]) => Object.fromEntries(objects.map((object) => [keyOf(object), object]));
const find = (objects: KubeObject[], key: string): KubeObject => {
  const found = objects.find((object) => keyOf(object) === key);
  assert.ok(found, `${key} among ${objects.map(keyOf).join(', ')}`);
  return found;
};

describe(`${CHART_DIR} (Helm)`, function () {
  this.timeout(60_000);
  let helmPath: string;

  async function helm(args: string[]): Promise<CommandResult> {
    return promisify(execFile)(helmPath, args, { maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );
  }

  /** `helm template` of the chart into the operator's namespace (a later --namespace wins); CRDs included, as `helm install` applies them. */
  async function render(...args: string[]): Promise<string> {
    const result = await helm(['template', 'sms-experiment-operator', CHART, '--namespace', OPERATOR_NAMESPACE, '--include-crds', ...args]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  }

  before(async () => {
    const { helm: built } = await loadToolchain();
    if (built === undefined) throw new Error('helm is not built: run hack/cluster/build.sh --with-helm (hack/test.sh does)');
    helmPath = built;
  });

  it('is what config/default builds (`node hack/generate-chart.ts --check`)', async () => {
    const result = await promisify(execFile)(process.execPath, [path.join(repositoryRoot, 'hack/generate-chart.ts'), '--check']).catch(
      (error: { stdout?: string; stderr?: string; message?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? error.message ?? 'failed' }),
    );
    assert.match(result.stdout, /is up to date/, result.stderr);
  });

  for (const [what, extra] of [['default values', []], ['the namespace-scoped values file', ['--values', SCOPED_VALUES]]] as const) {
    it(`passes \`helm lint --strict\` with ${what}`, async () => {
      const result = await helm(['lint', '--strict', CHART, ...extra]);
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  it('renders, with default values, exactly the objects of dist/install.yaml but its Namespace', async () => {
    const rendered = parseObjects(await render());
    const bundle = parseObjects(await readFile(path.join(repositoryRoot, BUNDLE_FILE), 'utf8'));
    // Helm creates and owns the release namespace (`-n NAMESPACE --create-namespace`), and says
    // it manages the objects where kustomize said it did.
    const expected = bundle
      .filter((object) => object.kind !== 'Namespace')
      .map((object) => {
        const labels = object.metadata.labels;
        return labels?.['app.kubernetes.io/managed-by'] === 'kustomize'
          ? { ...object, metadata: { ...object.metadata, labels: { ...labels, 'app.kubernetes.io/managed-by': 'Helm' } } }
          : object;
      });
    assert.deepEqual(bundle.filter((object) => !rendered.some((other) => keyOf(other) === keyOf(object))).map(keyOf), [`Namespace//${OPERATOR_NAMESPACE}`]);
    assert.deepEqual(rendered.map(keyOf).sort(), expected.map(keyOf).sort());
    assert.deepEqual(byKey(rendered), byKey(expected));
  });

  it('passes values.monitoring to the operator as its monitoring flags, and leaves out what is empty', async () => {
    const envOf = (text: string) => {
      const deployment = find(parseObjects(text), `Deployment/${OPERATOR_NAMESPACE}/sms-experiment-operator`) as unknown as { spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } } };
      return Object.fromEntries((deployment.spec.template.spec.containers[0]?.env ?? []).filter((variable) => variable.name.startsWith('SMSX_MONITORING') || variable.name === 'SMSX_DASHBOARD_LABEL').map((variable) => [variable.name, variable.value]));
    };
    assert.deepEqual(envOf(await render()), { SMSX_MONITORING_LABELS: 'release=kube-prometheus-stack' });
    const set = await render(
      '--set-json', 'monitoring.labels={"release":"monitoring","team":"ml"}',
      '--set-json', 'monitoring.annotations={"note":"a, b"}',
      '--set-json', 'monitoring.dashboardLabel={"grafana_dashboard":"sms"}',
    );
    assert.deepEqual(envOf(set), { SMSX_MONITORING_LABELS: 'release=monitoring,team=ml', SMSX_MONITORING_ANNOTATIONS: '{"note":"a, b"}', SMSX_DASHBOARD_LABEL: 'grafana_dashboard=sms' });
    // Helm merges maps into the defaults: a key is dropped by setting it to null.
    assert.deepEqual(envOf(await render('--set', 'monitoring.labels.release=null')), {});
  });

  it('namespace-scoped: a Role and RoleBinding in each watched namespace, and a ClusterRole that only reads the CRDs', async () => {
    const rendered = parseObjects(await render('--values', SCOPED_VALUES));
    const clusterRole = roleSchema.parse(find(rendered, 'ClusterRole//sms-experiment-operator'));
    assert.deepEqual(clusterRole.rules.map((rule) => rule.resources), [['customresourcedefinitions']]);
    const bundleRole = roleSchema.parse(find(parseObjects(await readFile(path.join(repositoryRoot, BUNDLE_FILE), 'utf8')), 'ClusterRole//sms-experiment-operator'));
    for (const namespace of ['team-a', 'team-b']) {
      const role = roleSchema.parse(find(rendered, `Role/${namespace}/sms-experiment-operator`));
      assert.deepEqual(role.rules, bundleRole.rules.filter((rule) => !rule.resources.includes('customresourcedefinitions')), `the bundle's namespaced rules in ${namespace}`);
      assert.deepEqual(find(rendered, `RoleBinding/${namespace}/sms-experiment-operator`).subjects, [
        { kind: 'ServiceAccount', name: 'sms-experiment-operator', namespace: OPERATOR_NAMESPACE },
      ]);
    }
    const deployment = deploymentSchema.parse(find(rendered, `Deployment/${OPERATOR_NAMESPACE}/sms-experiment-operator`));
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.template.spec.containers[0]?.args, [
      '--no-leader-elect',
      '--metrics-bind-address=0.0.0.0',
      '--metrics-port=8080',
      '--log-level=info',
      '--namespaces=team-a,team-b',
      '--log-format=text',
      '--concurrency=2',
    ]);
    assert.deepEqual(deployment.spec.template.spec.containers[0]?.resources, { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '250m', memory: '256Mi' } });
    assert.equal(find(rendered, `ServiceMonitor/${OPERATOR_NAMESPACE}/sms-experiment-operator`).metadata.labels?.release, 'monitoring');
    assert.ok(!rendered.some((object) => object.metadata.name.endsWith('-leader-election')), 'no Lease RBAC without leader election');
    assert.ok(!parseObjects(await render('--set', 'metrics.serviceMonitor.enabled=false')).some((object) => object.kind === 'ServiceMonitor'));
  });

  it('refuses values the schema or the chart rules out, naming the value', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'replicas=-1'], /replicas/],
      [['--set', 'replicaCount=3'], /replicaCount/],
      [['--set', 'watchNamespaces={Team_A}'], /watchNamespaces/],
      [['--set', 'logLevel=loud'], /logLevel/],
      [['--set', 'leaderElection.enabled=false'], /replicas: more than 1 replica needs leaderElection\.enabled/],
    ];
    for (const [args, message] of cases) {
      const result = await helm(['template', 'x', CHART, ...args]);
      assert.notEqual(result.code, 0, `${args.join(' ')} was accepted`);
      assert.match(result.stderr, message, args.join(' '));
    }
  });

  it('has every value in the values table of docs/install.md', async () => {
    const schema = JSON.parse(await readFile(path.join(CHART, 'values.schema.json'), 'utf8')) as unknown;
    const nodeSchema = z.looseObject({ properties: z.record(z.string(), z.unknown()).optional(), additionalProperties: z.unknown().optional() });
    /** Dotted paths down to the values a user sets (the schema's closed objects are walked into). */
    const paths = (node: unknown, prefix: string): string[] => {
      const parsed = nodeSchema.parse(node);
      if (parsed.properties === undefined || parsed.additionalProperties !== false) return [prefix];
      return Object.entries(parsed.properties).flatMap(([key, child]) => paths(child, prefix === '' ? key : `${prefix}.${key}`));
    };
    const docs = await readFile(path.join(repositoryRoot, 'docs/install.md'), 'utf8');
    const documented = (value: string) => value.split('.').some((_, index, parts) => docs.includes(`\`${parts.slice(0, parts.length - index).join('.')}\``));
    const all = paths(schema, '');
    assert.ok(all.length >= 12, all.join(', '));
    assert.deepEqual(all.filter((value) => !documented(value)), []);
  });

  describe('`helm template | kubectl apply --dry-run=server -f -`', () => {
    let cluster: TestCluster;
    const teams: string[] = [];

    before(async function () {
      this.timeout(180_000);
      cluster = await useCluster();
      // The release namespace (Helm's to create) as the bundle makes it, restricted Pod Security
      // enforced, so the dry run also admits the operator's pods under it.
      const created = await cluster.kubectl(['apply', '--server-side', '--field-manager=smsx-tests', '-f', path.join(repositoryRoot, 'config/manager/namespace.yaml')]);
      assert.equal(created.code, 0, created.stderr);
      teams.push(await cluster.createNamespace('helm-team'), await cluster.createNamespace('helm-team'));
    });

    async function dryRun(manifest: string): Promise<string[]> {
      const applied = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
      assert.equal(applied.code, 0, applied.stderr);
      return applied.stdout.trim().split('\n');
    }

    it('with default values: every object passes the API server', async () => {
      const manifest = await render();
      const applied = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
      assert.equal(applied.code, 0, applied.stderr);
      assert.doesNotMatch(applied.stderr, /PodSecurity|violate/, 'the pods pass restricted Pod Security');
      const lines = applied.stdout.trim().split('\n');
      assert.equal(lines.length, parseObjects(manifest).length, lines.join('\n'));
      assert.ok(lines.every((line) => / \(server dry run\)$/.test(line)), lines.join('\n'));
    });

    it('with the namespace-scoped values file, in two real namespaces', async () => {
      const manifest = await render('--values', SCOPED_VALUES, '--set-json', `watchNamespaces=${JSON.stringify(teams)}`);
      const lines = await dryRun(manifest);
      assert.equal(lines.length, parseObjects(manifest).length, lines.join('\n'));
      // kubectl names no namespace in these lines: one Role and one RoleBinding per team.
      assert.equal(lines.filter((line) => line.startsWith('role.rbac.authorization.k8s.io/sms-experiment-operator ')).length, teams.length, lines.join('\n'));
      assert.equal(lines.filter((line) => line.startsWith('rolebinding.rbac.authorization.k8s.io/sms-experiment-operator ')).length, teams.length, lines.join('\n'));
    });

    it('namespace-scoped RBAC, applied: the operator may work in the watched namespaces and nowhere else', async () => {
      // Its own release namespace, so the bundle's ServiceAccount and ClusterRole stay as they are;
      // the Roles and RoleBindings are what is checked (the ClusterRole's one rule above).
      const release = await cluster.createNamespace('helm-release');
      const other = await cluster.createNamespace('helm-other');
      const objects = parseObjects(await render('--values', SCOPED_VALUES, '--set-json', `watchNamespaces=${JSON.stringify(teams)}`, '--namespace', release));
      // The CRD as `helm install` applies it (the same one as the bundle's), so can-i knows the resource.
      const crds = objects.filter((object) => object.kind === 'CustomResourceDefinition');
      const scoped = objects.filter((object) => ['Role', 'RoleBinding'].includes(object.kind) && teams.includes(object.metadata.namespace ?? ''));
      assert.equal(scoped.length, 2 * teams.length);
      const crdApplied = await cluster.kubectl(['apply', '-f', '-'], { input: crds.map((object) => stringify(object)).join('---\n') });
      assert.equal(crdApplied.code, 0, crdApplied.stderr);
      const established = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((crd) => `crd/${crd.metadata.name}`)]);
      assert.equal(established.code, 0, established.stderr);
      const applied = await cluster.kubectl(['apply', '-f', '-'], { input: scoped.map((object) => stringify(object)).join('---\n') });
      assert.equal(applied.code, 0, applied.stderr);
      const canI = async (verb: string, resource: string, where: string[]) => {
        const result = await cluster.kubectl(['auth', 'can-i', verb, resource, `--as=system:serviceaccount:${release}:sms-experiment-operator`, ...where]);
        assert.ok(result.code === 0 || result.code === 1, result.stderr);
        assert.doesNotMatch(result.stderr, /doesn't have a resource type/, `${verb} ${resource}`);
        return `${verb} ${resource} ${where.join(' ')}: ${result.code === 0 ? 'yes' : 'no'}`;
      };
      const [teamA = '', teamB = ''] = teams;
      const answers = await Promise.all([
        canI('watch', 'smsexperiments.experiments.sms-app.io', ['-n', teamA]),
        canI('patch', 'smsexperiments.experiments.sms-app.io', ['-n', teamB, '--subresource=status']),
        canI('create', 'virtualservices.networking.istio.io', ['-n', teamB]),
        canI('create', 'events.events.k8s.io', ['-n', teamA]),
        canI('watch', 'smsexperiments.experiments.sms-app.io', ['-n', other]),
        canI('create', 'deployments.apps', ['-n', other]),
        canI('list', 'smsexperiments.experiments.sms-app.io', ['--all-namespaces']),
        canI('get', 'secrets', ['-n', teamA]),
      ]);
      assert.deepEqual(answers.map((answer) => answer.replace(teamA, 'team-a').replace(teamB, 'team-b').replace(other, 'other')), [
        'watch smsexperiments.experiments.sms-app.io -n team-a: yes',
        'patch smsexperiments.experiments.sms-app.io -n team-b --subresource=status: yes',
        'create virtualservices.networking.istio.io -n team-b: yes',
        'create events.events.k8s.io -n team-a: yes',
        'watch smsexperiments.experiments.sms-app.io -n other: no',
        'create deployments.apps -n other: no',
        'list smsexperiments.experiments.sms-app.io --all-namespaces: no',
        'get secrets -n team-a: no',
      ]);
    });
  });
});
