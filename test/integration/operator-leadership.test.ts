// The operator's guarantees when the API server stops answering it, on a real API server: one leader
// at a time when a renewal hangs, no silent stall when a watch cannot list, and objects deleted while
// the watches were down put back once they resume. A loopback TCP proxy (test/support/tcp-proxy.ts)
// sits between one operator process and the API server, so only that process loses its connection.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { LEASE } from '../../src/operator/kube/resources.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { dumpLogsOnFailure, OPERATOR_NAMESPACE, operatorKubeconfig, OperatorProcess, sumSamples, type LogLine } from '../support/operator.ts';
import { conditionOf, listOwnedObjects, readExperiment } from '../support/owned-objects.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const CANARY_SAMPLE = path.join(repositoryRoot, 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml');
const leaseSchema = z.looseObject({ spec: z.looseObject({ holderIdentity: z.string().nullish() }) });
const kubeconfigSchema = z.looseObject({
  clusters: z.array(z.looseObject({ name: z.string(), cluster: z.looseObject({ server: z.string() }) })).min(1),
});

/** Figures printed at the end of the run (reported, asserted only within the guarantees). */
const figures: Record<string, string> = {};

describe('operator leadership, cache sync and relists on a real API server', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let kubeconfig: string;
  const operators: OperatorProcess[] = [];
  const proxies: TcpProxy[] = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    kubeconfig = await operatorKubeconfig(cluster);
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, operators);
  });

  after(async () => {
    await Promise.all(operators.map((operator) => operator.stop()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    if (Object.keys(figures).length > 0) {
      console.log(`\n  Figures:\n${Object.entries(figures).map(([what, value]) => `    ${what}: ${value}`).join('\n')}\n`);
    }
  });

  // ---- helpers ----

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  function operatorProcess(options: ConstructorParameters<typeof OperatorProcess>[0]): OperatorProcess {
    const operator = new OperatorProcess(options);
    operators.push(operator);
    return operator;
  }

  /** A proxy to the API server and a copy of `source` (a kubeconfig) that goes through it. */
  async function throughProxy(source: string, name: string): Promise<{ proxy: TcpProxy; kubeconfigPath: string }> {
    const document = parse(await readFile(source, 'utf8')) as Record<string, unknown>;
    const parsed = kubeconfigSchema.parse(document);
    const server = new URL(parsed.clusters[0]?.cluster.server ?? '');
    const proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 443) });
    proxies.push(proxy);
    // Same host (the certificate's), another port: TLS verification is unaffected.
    const clusters = parsed.clusters.map((entry) => ({ ...entry, cluster: { ...entry.cluster, server: `https://${server.hostname}:${proxy.port}` } }));
    const kubeconfigPath = `${source}.${name}`;
    await writeFile(kubeconfigPath, stringify({ ...document, clusters }), { mode: 0o600 });
    return { proxy, kubeconfigPath };
  }

  async function leaseHolder(name: string): Promise<string | null | undefined> {
    const raw = await client.get(LEASE, { namespace: OPERATOR_NAMESPACE, name });
    return raw === undefined ? undefined : leaseSchema.parse(raw).spec.holderIdentity;
  }

  /** The leader gauge, or 0 when the process does not answer (it exited, so it leads nothing). */
  async function leading(operator: OperatorProcess): Promise<0 | 1> {
    try {
      return sumSamples(await operator.metricsText(), 'smsx_operator_leader') === 1 ? 1 : 0;
    } catch {
      return 0;
    }
  }

  function firstLine(lines: LogLine[], msg: string, pid: number | undefined): LogLine {
    const line = lines.find((candidate) => candidate.msg === msg && candidate.pid === pid);
    assert.ok(line, `no "${msg}" line of pid ${pid}`);
    return line;
  }

  // ---- tests ----

  it('a leader whose renewals hang stops leading before the other replica takes over; never two leaders', async () => {
    const lease = 'smsx-test-leadership';
    const namespace = await cluster.createNamespace('lead');
    // Short timings: the lease lasts 3 s, the leader renews every 500 ms and gives up after 2 s.
    const args = ['--lease-duration', '3s', '--lease-renew-interval', '500ms', '--lease-renew-deadline', '2s', '--leader-election-lease-name', lease, '--log-level', 'debug'];
    const { proxy, kubeconfigPath } = await throughProxy(kubeconfig, 'leader-a');
    const first = operatorProcess({ name: 'leader-a', kubeconfigPath, namespaces: [namespace], args });
    const second = operatorProcess({ name: 'leader-b', kubeconfigPath: kubeconfig, namespaces: [namespace], args });
    await first.start();
    await eventually('leader-a to lead', async () => assert.equal(await leaseHolder(lease), 'leader-a'));
    await second.start();
    await eventually('the leader gauges to settle', async () => {
      assert.equal(await leading(first), 1, 'leader-a reports leading');
      assert.equal(await leading(second), 0, 'leader-b reports standing by');
    });

    // Sample both replicas' own view every 100 ms from before the stall until well after the takeover.
    const samples: Array<{ at: number; a: 0 | 1; b: 0 | 1 }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = Date.now();
        const [a, b] = await Promise.all([leading(first), leading(second)]);
        samples.push({ at, a, b });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stalledAt = Date.now();
    proxy.stall();
    await eventually('leader-b to take over', async () => assert.equal(await leaseHolder(lease), 'leader-b'), { timeoutMs: 20_000 });
    await eventually('leader-b to report leading', async () => assert.equal(await leading(second), 1));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sampling = false;
    await sampler;

    const both = samples.filter((sample) => sample.a === 1 && sample.b === 1);
    assert.deepEqual(both, [], 'a sampled moment at which both replicas led');
    const aStopped = samples.find((sample) => sample.at >= stalledAt && sample.a === 0);
    const bStarted = samples.find((sample) => sample.b === 1);
    assert.ok(aStopped && bStarted, 'both transitions were sampled');
    assert.ok(aStopped.at < bStarted.at, `leader-a stopped (${aStopped.at}) before leader-b started (${bStarted.at})`);

    // The processes' own account: leader-a's "Lost leadership" (and its exit, code 1) comes before
    // leader-b's "Acquired leadership", and the hung requests were cut off, not waited out.
    assert.equal(await first.exited, 1, 'leader-a exits with 1 after losing leadership');
    const lost = firstLine(await first.logLines(), 'Lost leadership', first.pid);
    const acquired = firstLine(await second.logLines(), 'Acquired leadership', second.pid);
    const lostAt = Date.parse(lost.time);
    const acquiredAt = Date.parse(acquired.time);
    assert.ok(lostAt < acquiredAt, `Lost leadership at ${lost.time}, Acquired leadership at ${acquired.time}`);
    assert.ok(lostAt - stalledAt <= 2_000 + 1_000, `leader-a stepped down ${lostAt - stalledAt} ms after the stall (deadline 2 s)`);
    assert.equal(lost.reason, 'renew deadline passed');
    figures['renewals stall → leader-a logs Lost leadership (deadline 2 s)'] = `${lostAt - stalledAt} ms`;
    figures['leader-a Lost leadership → leader-b Acquired leadership (lease 3 s)'] = `${acquiredAt - lostAt} ms`;
    figures['sampled: leader-a not leading → leader-b leading'] = `${bStarted.at - aStopped.at} ms (${samples.length} samples, none with two leaders)`;

    // The new leader reconciles.
    await kubectlOk(['apply', '-n', namespace, '-f', CANARY_SAMPLE]);
    await eventually('leader-b to create the experiment objects', async () => assert.ok((await listOwnedObjects(client, namespace, 'sms-app')).length > 0));
    proxy.resume();
  });

  it('a watch whose list is forbidden: /readyz names the kind and the error, the process exits 3 after --cache-sync-timeout', async () => {
    const namespace = await cluster.createNamespace('sync');
    const noList = await kubeconfigWithoutListOn(cluster, 'servicemonitors');
    const syncTimeoutMs = 4_000;
    const operator = operatorProcess({
      name: 'no-list',
      kubeconfigPath: noList,
      namespaces: [namespace],
      args: ['--no-leader-elect', '--cache-sync-timeout', `${syncTimeoutMs}ms`, '--log-level', 'debug'],
    });
    const startedAt = Date.now();
    await operator.start({ waitUntilReady: false });
    const before = await eventually('/readyz to name the forbidden watch', async () => {
      const answer = await operator.readyz();
      assert.equal(answer.status, 503);
      assert.match(answer.body, /ServiceMonitor in /);
      assert.match(answer.body, /HTTP 403: servicemonitors\.monitoring\.coreos\.com is forbidden: .*cannot list resource "servicemonitors"/);
      // Every other watch lists at once: the one that cannot is left, alone.
      const waitingFor = answer.body.replace(/^not ready: waiting for /, '').split('; ');
      assert.deepEqual(waitingFor.map((watch) => watch.split(' ')[0]), ['ServiceMonitor'], answer.body);
      return { ...answer, at: Date.now() };
    });
    assert.ok(operator.alive && before.at - startedAt < syncTimeoutMs + 1_000, 'named before the bound');
    figures['/readyz before the bound'] = before.body.trim();

    const code = await operator.exited;
    const exitedAfterMs = Date.now() - startedAt;
    assert.equal(code, 3, 'exit code 3: caches did not sync');
    const lines = await operator.logLines();
    const failure = firstLine(lines, 'Failed to sync caches in time', operator.pid);
    assert.equal(failure.level, 'error');
    const unsynced = z.array(z.looseObject({ kind: z.string(), lastError: z.string().optional() })).parse(failure.unsynced);
    assert.deepEqual(unsynced.map((watch) => watch.kind), ['ServiceMonitor']);
    assert.match(unsynced[0]?.lastError ?? '', /forbidden/);
    const startLine = firstLine(lines, 'Serving metrics and probes', operator.pid);
    const boundMs = Date.parse(failure.time) - Date.parse(startLine.time);
    assert.ok(boundMs >= syncTimeoutMs - 100 && boundMs < syncTimeoutMs + 2_000, `sync timeout fired ${boundMs} ms after the watches started`);
    figures['--cache-sync-timeout 4s: watches started → error line'] = `${boundMs} ms`;
    figures['--cache-sync-timeout 4s: process start → exit 3'] = `${exitedAfterMs} ms`;
  });

  it('an owned object deleted while the watches were down is recreated once they resume', async () => {
    const namespace = await cluster.createNamespace('relist');
    const { proxy, kubeconfigPath } = await throughProxy(kubeconfig, 'relist');
    const operator = operatorProcess({ name: 'relist', kubeconfigPath, namespaces: [namespace], args: ['--no-leader-elect', '--log-level', 'debug'] });
    await operator.start();
    await kubectlOk(['apply', '-n', namespace, '-f', CANARY_SAMPLE]);
    const target = await eventually('the experiment objects to exist', async () => {
      const found = (await listOwnedObjects(client, namespace, 'sms-app')).find((object) => object.id.startsWith('VirtualService/'));
      assert.ok(found, 'a VirtualService exists');
      return found;
    });
    const [kind, name] = target.id.split('/') as [string, string];
    // Idle: Ready for the current generation, and no pass for a whole second (no retry pending that
    // would put the object back on its own, without the watches noticing the deletion).
    await eventually('the experiment to be Ready', async () => {
      const experiment = await readExperiment(client, namespace, 'sms-app');
      assert.equal(experiment?.status?.observedGeneration, experiment?.metadata.generation);
      assert.equal(conditionOf(experiment, 'Ready')?.status, 'True');
    });
    await eventually('the operator to be idle', async () => {
      const passes = await operator.metric('smsx_operator_reconcile_total');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await operator.metric('smsx_operator_reconcile_total'), passes, 'a pass ran within the last second');
      assert.equal(await operator.metric('smsx_operator_workqueue_depth'), 0);
    }, { timeoutMs: 30_000 });
    const linesBefore = (await operator.logLines()).length;

    // Watches down: every connection reset, new ones accepted and left hanging.
    proxy.stall({ dropOpen: true });
    await kubectlOk(['delete', kind.toLowerCase(), name, '-n', namespace, '--wait=true']);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stillGone = (await listOwnedObjects(client, namespace, 'sms-app')).find((object) => object.id === target.id);
    assert.equal(stillGone, undefined, 'nothing recreated it while the operator was cut off');

    const resumedAt = Date.now();
    proxy.resume();
    const recreated = await eventually(`${target.id} to be recreated`, async () => {
      const found = (await listOwnedObjects(client, namespace, 'sms-app')).find((object) => object.id === target.id);
      assert.ok(found, `${target.id} is back`);
      return found;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const recreatedAfterMs = Date.now() - resumedAt;
    assert.notEqual(recreated.uid, target.uid, 'a new object');
    assert.ok(operator.alive, 'the same process');
    // The cache learnt of the deletion (a replayed DELETED event or a relist without the object):
    // the pass that put it back *created* it, rather than re-applying what it thought was there.
    const since = async () => (await operator.logLines()).slice(linesBefore);
    const createdIt = (line: LogLine) => line.msg === 'Applied objects' && z.array(z.string()).catch([]).parse(line.created).some((entry) => entry.startsWith(`${kind} ${namespace}/${name}`));
    // The log file may trail the API by a moment (the operator's logger writes asynchronously).
    await eventually('the log line of the pass that created it', async () => {
      assert.ok((await since()).some(createdIt), `no "Applied objects" line created ${kind} ${namespace}/${name}`);
    }, { timeoutMs: 5_000, intervalMs: 100 });
    await eventually('the watches to report resuming', async () => {
      assert.ok((await since()).some((line) => line.msg === 'Resumed watch' && line.pid === operator.pid), 'its watches failed and resumed');
    });
    figures['watches resumed → deleted VirtualService recreated'] = `${recreatedAfterMs} ms`;
  });
});

let withoutListCounter = 0;

/**
 * A kubeconfig for a ServiceAccount with the operator's ClusterRole (config/rbac/role.yaml) minus
 * `list` on one resource: the watch of that kind can never list.
 */
async function kubeconfigWithoutListOn(cluster: TestCluster, resource: string): Promise<string> {
  withoutListCounter += 1;
  const name = `smsx-test-no-list-${resource}-${process.pid}-${withoutListCounter}`;
  const ruleSchema = z.looseObject({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) });
  const role = z.looseObject({ rules: z.array(ruleSchema) }).parse(parse(await readFile(path.join(repositoryRoot, 'config/rbac/role.yaml'), 'utf8')));
  const rules = role.rules.flatMap((rule) => {
    if (!rule.resources.includes(resource)) return [rule];
    return [
      { ...rule, resources: rule.resources.filter((other) => other !== resource) },
      { ...rule, resources: [resource], verbs: rule.verbs.filter((verb) => verb !== 'list') },
    ].filter((split) => split.resources.length > 0);
  });
  const manifests = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: OPERATOR_NAMESPACE } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: OPERATOR_NAMESPACE }],
    },
  ];
  const applied = await cluster.kubectl(['apply', '--server-side', '--field-manager=smsx-tests', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }),
  });
  if (applied.code !== 0) throw new Error(`applying the reduced RBAC failed: ${applied.stderr}`);
  const token = await cluster.kubectl(['create', 'token', name, '-n', OPERATOR_NAMESPACE, '--duration=1h']);
  if (token.code !== 0) throw new Error(`kubectl create token failed: ${token.stderr}`);

  // The operator's own kubeconfig (same cluster, same CA), with this ServiceAccount's token.
  const source = await operatorKubeconfig(cluster);
  const document = z.looseObject({ users: z.array(z.looseObject({ name: z.string(), user: z.looseObject({}) })) }).parse(parse(await readFile(source, 'utf8')));
  const users = document.users.map((user) => ({ ...user, user: { token: token.stdout.trim() } }));
  const file = `${source}.${name}`;
  await writeFile(file, stringify({ ...document, users }), { mode: 0o600 });
  return file;
}
