// The reference the operator is measured against: no controller at all, only what any client must do
// to reach the same state. It creates the same SmsExperiments (their objects need a live owner, or
// the garbage collector removes them), reads their uids, renders every experiment with the
// operator's own renderer (src/operator/render) and server-side applies all objects at once, then
// waits until every rendered Deployment is Available. What is left is the time the control plane
// itself needs (API server, controller-manager, scheduler, kwok): the limit a controller can reach.
// Its requests go through a client of its own (node:https, one keep-alive Agent), not the operator's
// KubeClient, so the reference is the same whichever version of the operator a run measures.
// Usage: node bench/bare-client.ts [experiments]   (its own cluster; bench/scale.ts runs it in-line)
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { smsExperimentSchema } from '../src/crd/schema.ts';
import { DEPLOYMENT, resourcePath, resourceTypeOf } from '../src/operator/kube/resources.ts';
import { renderPlan } from '../src/operator/render/index.ts';
import { experimentManifest, startBenchCluster, type BenchCluster } from './support.ts';

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

interface BareHttp {
  /** One request; resolves with the status and the parsed body (never throws on an HTTP status). */
  send(method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): void;
}

/** HTTPS to the kubeconfig's API server with its credentials, on one keep-alive Agent. */
async function bareHttp(kubeConfig: KubeConfig): Promise<BareHttp> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const tls: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: IN_FLIGHT,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  });
  const headers = { ...(tls.headers as Record<string, string> | undefined), Accept: 'application/json' };
  return {
    send: (method, path, body) =>
      new Promise((resolve, reject) => {
        const url = new URL(path, server);
        const outgoing = request(
          url,
          { method, agent, headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/apply-patch+yaml' } },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) }));
            response.on('error', reject);
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body === undefined ? undefined : JSON.stringify(body));
      }),
    close: () => agent.destroy(),
  };
}

/** Server-side apply with force; 429 (too many in flight), 409 and 500 are retried with backoff. */
async function applyWithRetries(http: BareHttp, path: string, body: unknown, count: () => void): Promise<void> {
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
  const http = await bareHttp(cluster.kubeConfig);
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
