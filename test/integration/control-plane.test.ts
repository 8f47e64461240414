// Proof that the local control plane is a real one: controllers run Deployments to Running Pods on
// fake nodes, garbage collection follows ownerReferences, and the real Istio and prometheus-operator
// schemas and tools judge what we give them.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, type V1Pod } from '@kubernetes/client-node';
import { cacheDir } from '../../hack/cluster/toolchain.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

const execFileAsync = promisify(execFile);

describe('local control plane', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let namespace: string;

  before(async function () {
    this.timeout(300_000);
    cluster = await useCluster();
  });

  beforeEach(async () => {
    namespace = await cluster.createNamespace('control-plane');
  });

  it('lists the fake nodes as Ready', async () => {
    const result = await cluster.kubectl(['get', 'nodes', '--no-headers']);
    assert.equal(result.code, 0, result.stderr);
    const ready = result.stdout.split('\n').filter((line) => /\sReady\s/.test(line));
    assert.ok(ready.length >= 2, `expected two Ready nodes, got:\n${result.stdout}`);
  });

  it('serves the Istio and prometheus-operator resources', async () => {
    const result = await cluster.kubectl(['api-resources', '-o', 'name']);
    assert.equal(result.code, 0, result.stderr);
    for (const resource of [
      'virtualservices.networking.istio.io', 'destinationrules.networking.istio.io', 'gateways.networking.istio.io',
      'prometheusrules.monitoring.coreos.com', 'servicemonitors.monitoring.coreos.com',
      'alertmanagerconfigs.monitoring.coreos.com',
    ]) {
      assert.match(result.stdout, new RegExp(`^${resource.replaceAll('.', '\\.')}$`, 'm'));
    }
  });

  it('runs a Deployment to Running Pods on fake nodes and garbage-collects them when it is deleted', async () => {
    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const labels = { app: 'proof' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'proof', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'example.invalid/proof:1' }] } },
        },
      },
    });
    const runningPods = await eventually('two Running Pods on fake nodes', async () => {
      const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=proof' })).items;
      const running = pods.filter((pod: V1Pod) => pod.status?.phase === 'Running' && pod.spec?.nodeName?.startsWith('kwok-node-'));
      assert.equal(running.length, 2, `pods: ${pods.map((p) => `${p.metadata?.name}:${p.status?.phase}@${p.spec?.nodeName}`).join(', ')}`);
      return running;
    });
    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace })).items;
    assert.equal(replicaSets.length, 1);
    assert.equal(replicaSets[0]?.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
    assert.equal(runningPods[0]?.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet');

    await apps.deleteNamespacedDeployment({ namespace, name: 'proof' });
    await eventually('ReplicaSet and Pods garbage-collected', async () => {
      const [sets, pods] = await Promise.all([
        apps.listNamespacedReplicaSet({ namespace }),
        core.listNamespacedPod({ namespace }),
      ]);
      assert.equal(sets.items.length, 0, 'ReplicaSets left');
      assert.equal(pods.items.length, 0, 'Pods left');
    });
  });

  it('rejects a VirtualService with an invalid field through the real Istio CRD schema', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    const invalid = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'invalid', namespace },
      spec: { hosts: ['app'], http: [{ route: [{ destination: { host: 'app' }, weight: 'ninety' }] }] },
    };
    await assert.rejects(objects.create(invalid), (error: { code?: number; body?: string }) => {
      assert.equal(error.code, 422);
      assert.match(String(error.body), /spec\.http\[0\]\.route\[0\]\.weight/);
      return true;
    });
  });

  it('has istioctl analyze report a VirtualService that names a missing DestinationRule subset', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'istioctl-analyze-'));
    const file = path.join(dir, 'routes.yaml');
    await writeFile(file, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: ${namespace}}
spec:
  hosts: [app]
  http:
  - route:
    - destination: {host: app, subset: v3}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: app, namespace: ${namespace}}
spec:
  host: app
  subsets:
  - {name: v1, labels: {version: v1}}
`);
    const result = await cluster.istioctl(['analyze', '--use-kube=false', '--all-namespaces', file]);
    assert.notEqual(result.code, 0, 'istioctl analyze should report the missing subset');
    assert.equal(result.code, 79, 'exit code 79 means analyzers found issues');
    assert.match(result.stdout + result.stderr, /IST0101.*host\+subset in destinationrule not found: "app\+v3"/);
  });

  it('has promtool reject a PrometheusRule with a broken expression', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'promtool-'));
    const good = path.join(dir, 'good.yaml');
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(good, 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(x_total[1m])) > 1\n');
    await writeFile(broken, 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(x_total[1m]) > 1\n');
    await execFileAsync('promtool', ['check', 'rules', good]);
    await assert.rejects(execFileAsync('promtool', ['check', 'rules', broken]), (error: { stdout?: string; stderr?: string }) => {
      assert.match(`${error.stdout ?? ''}${error.stderr ?? ''}`, /parse error|unclosed|expected/i);
      return true;
    });
  });
});

describe('local control plane CLI', function () {
  this.timeout(180_000);

  it('leaves no process behind when interrupted with Ctrl-C (SIGINT)', async function () {
    if (process.env.SMSX_TEST_KUBECONFIG) {
      console.log('    (runs only with the local control plane; SMSX_TEST_KUBECONFIG is set)');
      this.skip();
    }
    // A cache of its own (with the built toolchain's manifest), so the CLI's state files are the test's.
    const isolatedCache = await mkdtemp(path.join(tmpdir(), 'sms-experiment-cli-'));
    await mkdir(path.join(isolatedCache, 'cluster'));
    await writeFile(path.join(isolatedCache, 'cluster', 'toolchain.json'), await readFile(path.join(cacheDir(), 'cluster', 'toolchain.json')));
    const cli = spawn(process.execPath, ['hack/cluster/cli.ts', 'run', '--name', 'sigint'], {
      env: { ...process.env, SMSX_CACHE_DIR: isolatedCache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    const stateFile = path.join(isolatedCache, 'clusters', 'sigint', 'state.json');
    const state = await eventually('the CLI reports the control plane ready', async () => {
      return JSON.parse(await readFile(stateFile, 'utf8')) as { processes: { name: string; pid: number }[] };
    }, { timeoutMs: 120_000 });
    assert.deepEqual(state.processes.map((p) => p.name).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
    cli.kill('SIGINT');
    assert.equal(await exited, 0, output);
    const survivors = state.processes.filter((p) => {
      try {
        process.kill(p.pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(survivors, [], `processes left behind:\n${output}`);
  });
});
