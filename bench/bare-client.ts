// The reference the operator is measured against: no controller at all, only what any client must do
// to reach the same state. It creates the same SmsExperiments (their objects need a live owner, or
// the garbage collector removes them), reads their uids, renders every experiment with the
// operator's own renderer (src/operator/render) and server-side applies all objects at once, then
// waits until every rendered Deployment is Available. What is left is the time the control plane
// itself needs (API server, controller-manager, scheduler, kwok): the limit a controller can reach.
// Its requests go through a client of its own (bench/support.ts's benchHttp: node:https, one
// keep-alive Agent), not the operator's KubeClient, so the reference is the same whichever version
// of the operator a run measures.
// Usage: node bench/bare-client.ts [experiments]   (its own cluster; bench/scale.ts runs it in-line)
import { smsExperimentSchema } from '../src/crd/schema.ts';
import { DEPLOYMENT, resourcePath, resourceTypeOf } from '../src/operator/kube/resources.ts';
import { renderPlan } from '../src/operator/render/index.ts';
import { benchHttp, experimentManifest, startBenchCluster, type BenchCluster, type BenchHttp } from './support.ts';

/** Applies in flight at once: enough to keep the API server busy, below its max-mutating-requests-inflight (200). */
const IN_FLIGHT = 64;
const FIELD_MANAGER = 'smsx-bench-bare-client';

export interface BareClientResult {
  /** From creating the experiments to every Deployment Available. */
  seconds: number;
  objects: number;
  deployments: number;
  /** Apply requests (retries included; the uid list and the polls left out). */
  applies: number;
}

/** Server-side apply with force; 429 (too many in flight), 409 and 500 are retried with backoff. */
async function applyWithRetries(http: BenchHttp, path: string, body: unknown, count: () => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    count();
    const { status, body: answer } = await http.send('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=true`, body);
    if (status >= 200 && status < 300) return;
    if (attempt >= 10 || ![429, 409, 500].includes(status)) throw new Error(`apply ${path}: HTTP ${status}: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** Math.min(attempt, 5)));
  }
}

async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function availableCount(list: { items: unknown[] }): number {
  return list.items.filter((item) =>
    (item as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions?.some(
      (condition) => condition.type === 'Available' && condition.status === 'True',
    ),
  ).length;
}

/** Runs the bare client in `namespace` (which must exist) for `count` experiments. */
export async function runBareClient(cluster: BenchCluster, namespace: string, count: number, log = console.log): Promise<BareClientResult> {
  let applies = 0;
  const http = await benchHttp(cluster.kubeConfig, IN_FLIGHT);
  const startedAt = performance.now();
  await cluster.kubectl(['create', '-n', namespace, '-f', '-'], experimentManifest(count));
  const listed = JSON.parse(await cluster.kubectl(['get', '-n', namespace, 'smsx', '-o', 'json'])) as { items: unknown[] };
  const plans = listed.items.map((item) => renderPlan(smsExperimentSchema.parse(item), { monitoring: true }));
  const objects = plans.flatMap((plan) => plan.objects);
  const deployments = plans.reduce((sum, plan) => sum + plan.workloads.length, 0);
  await inPool(objects, IN_FLIGHT, async (object) => {
    const path = resourcePath(resourceTypeOf(object), { namespace: object.metadata.namespace, name: object.metadata.name });
    await applyWithRetries(http, path, object, () => applies++);
  });
  const appliedAt = performance.now();
  log(`  bare client: ${objects.length} objects applied in ${((appliedAt - startedAt) / 1000).toFixed(1)} s`);
  let lastReport = 0;
  const deploymentsPath = resourcePath(DEPLOYMENT, { namespace });
  for (;;) {
    const { body } = await http.send('GET', deploymentsPath);
    const available = availableCount(body as { items: unknown[] });
    const elapsed = (performance.now() - startedAt) / 1000;
    if (available >= deployments) break;
    if (elapsed - lastReport >= 15) {
      log(`  bare client: ${elapsed.toFixed(0)} s: ${available}/${deployments} Deployments Available`);
      lastReport = elapsed;
    }
    if (elapsed > 1800) throw new Error(`bare client: only ${available}/${deployments} Deployments Available after 30 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  http.close();
  return { seconds: (performance.now() - startedAt) / 1000, objects: objects.length, deployments, applies };
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 100);
  const namespace = 'bench-bare';
  const cluster = await startBenchCluster();
  try {
    await cluster.kubectl(['create', 'namespace', namespace]);
    const result = await runBareClient(cluster, namespace, count);
    console.log(`\nBare client, ${count} experiments: ${result.objects} objects, ${result.deployments} Deployments Available in ${result.seconds.toFixed(1)} s, ${(result.applies / count).toFixed(1)} applies per experiment`);
  } finally {
    await cluster.stop();
  }
}
