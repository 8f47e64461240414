// dist/install.yaml as a user installs it: one `kubectl apply -f` on a real API server, then the
// operator's ServiceAccount asked, through `kubectl auth can-i --as`, for everything the operator does
// (allowed) and a table of things it must never be able to do (denied).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { BUNDLE_FILE } from '../../hack/generate-bundle.ts';
import { OWNED_RESOURCE_TYPES, SMS_EXPERIMENT } from '../../src/operator/controller/experiment.ts';
import { crdNameOf } from '../../src/operator/kube/resources.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { OPERATOR_NAMESPACE } from '../support/operator.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const BUNDLE = path.join(repositoryRoot, BUNDLE_FILE);
const SERVICE_ACCOUNT = `system:serviceaccount:${OPERATOR_NAMESPACE}:sms-experiment-operator`;
/** Any namespace an experiment may live in: the ClusterRole is not limited to one. */
const TEAM = 'team-a';

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});
const clusterRoleSchema = z.looseObject({
  kind: z.literal('ClusterRole'),
  rules: z.array(z.looseObject({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()), resourceNames: z.array(z.string()).optional() })),
});

async function bundleObjects(): Promise<Array<z.output<typeof objectSchema>>> {
  return parseAllDocuments(await readFile(BUNDLE, 'utf8'))
    .map((document) => document.toJSON() as unknown)
    .filter((object) => object !== null)
    .map((object) => objectSchema.parse(object));
}

/** One `kubectl auth can-i` question: verb, resource (with group, optional /name), where. */
interface Question {
  verb: string;
  resource: string;
  namespace?: string;
  subresource?: string;
}

const describeQuestion = (q: Question) =>
  `${q.verb} ${q.resource}${q.subresource ? ` (${q.subresource})` : ''} ${q.namespace === undefined ? 'cluster-wide' : `in ${q.namespace}`}`;

const OWNED = OWNED_RESOURCE_TYPES.map((type) => {
  const group = type.apiVersion.includes('/') ? type.apiVersion.split('/')[0] : '';
  return group ? `${type.plural}.${group}` : type.plural;
});
const EXPERIMENTS = 'smsexperiments.experiments.sms-app.io';

const ALLOWED: Question[] = [
  { verb: 'list', resource: EXPERIMENTS },
  { verb: 'watch', resource: EXPERIMENTS },
  { verb: 'patch', resource: EXPERIMENTS, subresource: 'status', namespace: TEAM },
  { verb: 'update', resource: EXPERIMENTS, subresource: 'finalizers', namespace: TEAM },
  ...OWNED.flatMap((resource) => ['get', 'list', 'watch', 'create', 'patch', 'delete'].map((verb) => ({ verb, resource, namespace: TEAM }))),
  ...OWNED.flatMap((resource) => ['list', 'watch'].map((verb) => ({ verb, resource }))),
  { verb: 'patch', resource: 'virtualservices.networking.istio.io', namespace: 'another-team' },
  { verb: 'create', resource: 'events.events.k8s.io', namespace: TEAM },
  { verb: 'list', resource: 'pods' },
  { verb: 'watch', resource: 'pods' },
  { verb: 'get', resource: 'customresourcedefinitions.apiextensions.k8s.io/virtualservices.networking.istio.io' },
  { verb: 'get', resource: 'customresourcedefinitions.apiextensions.k8s.io/servicemonitors.monitoring.coreos.com' },
  { verb: 'get', resource: `customresourcedefinitions.apiextensions.k8s.io/${EXPERIMENTS}` },
  { verb: 'get', resource: 'leases.coordination.k8s.io', namespace: OPERATOR_NAMESPACE },
  { verb: 'create', resource: 'leases.coordination.k8s.io', namespace: OPERATOR_NAMESPACE },
  { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: OPERATOR_NAMESPACE },
];

const DENIED: Question[] = [
  // Secrets and other workloads' credentials: nowhere.
  { verb: 'get', resource: 'secrets' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'get', resource: 'secrets', namespace: OPERATOR_NAMESPACE },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: OPERATOR_NAMESPACE },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: TEAM },
  { verb: 'create', resource: 'pods', namespace: TEAM },
  // CRDs: read by name at start-up, never listed, changed or read beyond its own list.
  { verb: 'delete', resource: 'customresourcedefinitions.apiextensions.k8s.io' },
  { verb: 'create', resource: 'customresourcedefinitions.apiextensions.k8s.io' },
  { verb: 'update', resource: 'customresourcedefinitions.apiextensions.k8s.io/virtualservices.networking.istio.io' },
  { verb: 'list', resource: 'customresourcedefinitions.apiextensions.k8s.io' },
  { verb: 'get', resource: 'customresourcedefinitions.apiextensions.k8s.io/certificates.cert-manager.io' },
  // No way to raise its own privileges.
  { verb: 'create', resource: 'clusterroles.rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'clusterrolebindings.rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'rolebindings.rbac.authorization.k8s.io', namespace: TEAM },
  { verb: 'escalate', resource: 'clusterroles.rbac.authorization.k8s.io' },
  { verb: 'bind', resource: 'clusterroles.rbac.authorization.k8s.io' },
  { verb: 'impersonate', resource: 'users' },
  { verb: 'impersonate', resource: 'serviceaccounts', namespace: TEAM },
  // Experiments belong to their users: the operator only writes their status.
  { verb: 'create', resource: EXPERIMENTS, namespace: TEAM },
  { verb: 'delete', resource: EXPERIMENTS, namespace: TEAM },
  { verb: 'patch', resource: EXPERIMENTS, namespace: TEAM },
  { verb: 'update', resource: EXPERIMENTS, subresource: 'status', namespace: TEAM },
  // Owned objects are written by server-side apply (patch) only, never replaced.
  { verb: 'update', resource: 'deployments.apps', namespace: TEAM },
  { verb: 'update', resource: 'virtualservices.networking.istio.io', namespace: TEAM },
  { verb: 'deletecollection', resource: 'services', namespace: TEAM },
  // Leases of anyone else (kube-controller-manager's, other operators') and namespaces themselves.
  { verb: 'get', resource: 'leases.coordination.k8s.io', namespace: 'kube-system' },
  { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: 'kube-system' },
  { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: TEAM },
  { verb: 'delete', resource: 'leases.coordination.k8s.io', namespace: OPERATOR_NAMESPACE },
  { verb: 'delete', resource: 'namespaces' },
  { verb: 'patch', resource: 'namespaces' },
  { verb: 'list', resource: 'namespaces' },
  // Pods are only read (sidecar check); the Deployments own them.
  { verb: 'delete', resource: 'pods', namespace: TEAM },
  { verb: 'create', resource: 'pods', namespace: TEAM },
  { verb: 'get', resource: 'nodes' },
  { verb: 'delete', resource: 'events.events.k8s.io', namespace: TEAM },
  { verb: '*', resource: '*' },
];

describe('dist/install.yaml on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;

  async function canI(question: Question): Promise<boolean> {
    const args = ['auth', 'can-i', question.verb, question.resource, `--as=${SERVICE_ACCOUNT}`];
    if (question.subresource) args.push(`--subresource=${question.subresource}`);
    args.push(...(question.namespace === undefined ? ['--all-namespaces'] : ['-n', question.namespace]));
    const result = await cluster.kubectl(args);
    // can-i exits 0 for yes and 1 for no; anything else (or an unknown resource) is a broken question.
    assert.ok(result.code === 0 || result.code === 1, `kubectl ${args.join(' ')}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /doesn't have a resource type|the server doesn't have/, `kubectl ${args.join(' ')}`);
    return result.code === 0;
  }

  /** Asks a few questions at a time: each is a kubectl process. */
  async function askAll(questions: readonly Question[]): Promise<boolean[]> {
    const answers: boolean[] = [];
    for (let start = 0; start < questions.length; start += 8) {
      answers.push(...(await Promise.all(questions.slice(start, start + 8).map(canI))));
    }
    return answers;
  }

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
  });

  it('is what config/default builds (`node hack/generate-bundle.ts --check`)', async () => {
    const result = await promisify(execFile)(process.execPath, [path.join(repositoryRoot, 'hack/generate-bundle.ts'), '--check']).catch(
      (error: { stdout?: string; stderr?: string; message?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? error.message ?? 'failed' }),
    );
    assert.match(result.stdout, /dist\/install\.yaml is up to date/, result.stderr);
  });

  it('holds the CRD, namespace, RBAC, Deployment and its disruption budget, metrics Service, ServiceMonitor, and the operator\'s alerts and dashboard', async () => {
    const objects = (await bundleObjects()).map((object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`);
    assert.deepEqual(objects.sort(), [
      `ClusterRole//sms-experiment-operator`,
      `ClusterRoleBinding//sms-experiment-operator`,
      `ConfigMap/${OPERATOR_NAMESPACE}/sms-experiment-operator-dashboard`,
      `CustomResourceDefinition//${EXPERIMENTS}`,
      `Deployment/${OPERATOR_NAMESPACE}/sms-experiment-operator`,
      `Namespace//${OPERATOR_NAMESPACE}`,
      `PodDisruptionBudget/${OPERATOR_NAMESPACE}/sms-experiment-operator`,
      `PrometheusRule/${OPERATOR_NAMESPACE}/sms-experiment-operator`,
      `Role/${OPERATOR_NAMESPACE}/sms-experiment-operator-leader-election`,
      `RoleBinding/${OPERATOR_NAMESPACE}/sms-experiment-operator-leader-election`,
      `Service/${OPERATOR_NAMESPACE}/sms-experiment-operator-metrics`,
      `ServiceAccount/${OPERATOR_NAMESPACE}/sms-experiment-operator`,
      `ServiceMonitor/${OPERATOR_NAMESPACE}/sms-experiment-operator`,
    ]);
  });

  it('grants no wildcard, and reads exactly the CRDs the operator checks at start-up', async () => {
    const role = clusterRoleSchema.parse((await bundleObjects()).find((object) => object.kind === 'ClusterRole'));
    for (const rule of role.rules) {
      for (const value of [...rule.apiGroups.filter((group) => group !== ''), ...rule.resources, ...rule.verbs]) {
        assert.doesNotMatch(value, /\*/, `wildcard in ${JSON.stringify(rule)}`);
      }
    }
    const crdRule = role.rules.find((rule) => rule.resources.includes('customresourcedefinitions'));
    const checked = [SMS_EXPERIMENT, ...OWNED_RESOURCE_TYPES].map(crdNameOf).filter((name) => name !== undefined);
    assert.deepEqual([...(crdRule?.resourceNames ?? [])].sort(), checked.sort());
  });

  it('applies with `kubectl apply -f dist/install.yaml`, and the operator’s pods pass restricted Pod Security', async function () {
    this.timeout(120_000);
    const applied = await cluster.kubectl(['apply', '-f', BUNDLE]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.doesNotMatch(applied.stderr, /PodSecurity/);
    const listed = await cluster.kubectl(['get', '-f', BUNDLE, '-o', 'name']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split('\n').length, (await bundleObjects()).length);
    // The ReplicaSet's pods pass admission in the restricted namespace (the local control plane's
    // kwok nodes then report them Running; on a real cluster the image must exist).
    if (cluster.controlPlane) {
      const available = await cluster.kubectl(['wait', '-n', OPERATOR_NAMESPACE, '--for=condition=Available', '--timeout=90s', 'deployment/sms-experiment-operator']);
      assert.equal(available.code, 0, available.stderr);
    }
  });

  describe('`kubectl auth can-i` as the operator’s ServiceAccount', () => {
    before(async function () {
      this.timeout(60_000);
      const applied = await cluster.kubectl(['apply', '-f', BUNDLE]);
      assert.equal(applied.code, 0, applied.stderr);
    });

    it(`allows all ${ALLOWED.length} things the operator does`, async () => {
      const answers = await askAll(ALLOWED);
      assert.deepEqual(ALLOWED.filter((_, index) => !answers[index]).map(describeQuestion), []);
    });

    it(`denies all ${DENIED.length} things it must not do`, async () => {
      const answers = await askAll(DENIED);
      assert.deepEqual(DENIED.filter((_, index) => answers[index]).map(describeQuestion), []);
    });

    it('answers as the ServiceAccount, not as the admin running the test (the table can fail)', async () => {
      const admin = await cluster.kubectl(['auth', 'can-i', 'get', 'secrets', '--all-namespaces']);
      assert.equal(admin.code, 0, 'the test’s own user can read Secrets, so a "no" above is the ServiceAccount’s');
    });
  });
});
