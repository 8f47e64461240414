// Shared set-up for the benchmarks, on the same harness as the integration tests: the cluster of
// test/support/cluster.ts (a local control plane, or an existing cluster named by
// SMSX_BENCH_KUBECONFIG), the SmsExperiment CRD of test/support/crd.ts, and the operator as the
// tests run it (test/support/operator.ts), plus what only a benchmark needs: the experiments it
// creates and the wait until they are Ready. Memory figures are in bench/memory.ts.
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { releaseCluster, useCluster } from '../test/support/cluster.ts';
import { installCrd } from '../test/support/crd.ts';
import { OperatorProcess, type OperatorOptions } from '../test/support/operator.ts';

export { sumSamples } from '../test/support/operator.ts';

export interface BenchCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** Runs kubectl and returns its output; a non-zero exit throws with kubectl's message. */
  kubectl(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchCluster(): Promise<BenchCluster> {
  // The benchmarks have their own variable, so that a shell set up for tests does not redirect them.
  if (process.env.SMSX_BENCH_KUBECONFIG) process.env.SMSX_TEST_KUBECONFIG = process.env.SMSX_BENCH_KUBECONFIG;
  else delete process.env.SMSX_TEST_KUBECONFIG;
  const cluster = await useCluster();
  await installCrd(cluster);
  return {
    kubeconfigPath: cluster.kubeconfigPath,
    kubeConfig: cluster.kubeConfig,
    async kubectl(args, input) {
      // A read is retried after a dropped connection (a loaded API server resets the odd stream).
      const attempts = args[0] === 'get' ? 3 : 1;
      for (let attempt = 1; ; attempt++) {
        const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
        if (result.code === 0) return result.stdout;
        if (attempt >= attempts || !/Unable to connect to the server/.test(result.stderr)) {
          throw new Error(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    stop: releaseCluster,
  };
}

/**
 * The operator with the cluster's admin credentials, no leader election and quiet logs; ready when it
 * resolves. `launch` starts it through a launcher (a memory cgroup), with node flags or environment.
 */
export async function startOperator(
  cluster: BenchCluster,
  namespace: string,
  extraArgs: string[] = [],
  launch: Pick<OperatorOptions, 'launcher' | 'nodeArgs' | 'env'> = {},
): Promise<OperatorProcess> {
  const operator = new OperatorProcess({
    name: 'bench',
    kubeconfigPath: cluster.kubeconfigPath,
    namespaces: [namespace],
    args: ['--no-leader-elect', '--log-level', 'warn', ...extraArgs],
    ...launch,
  });
  await operator.start();
  return operator;
}

export interface BenchHttp {
  /** One request; resolves with the status and the parsed body (never throws on an HTTP status). */
  send(method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  close(): void;
}

/**
 * HTTPS to the kubeconfig's API server with its credentials, on one keep-alive Agent: the bare
 * client's requests, and the benchmarks' polls, which must not cost a kubectl process a second on a
 * machine the run saturates.
 */
export async function benchHttp(kubeConfig: KubeConfig, inFlight: number): Promise<BenchHttp> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const tls: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: inFlight,
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

/** `count` SmsExperiments exp-000, exp-001, …: even ones canary, odd ones shadow, all defaults otherwise. */
export function experimentManifest(count: number, prefix = 'exp'): string {
  return Array.from({ length: count }, (_, i) =>
    stringify({
      apiVersion: 'experiments.sms-app.io/v1alpha1',
      kind: 'SmsExperiment',
      metadata: { name: `${prefix}-${String(i).padStart(3, '0')}` },
      spec: { mode: i % 2 === 0 ? 'canary' : 'shadow' },
    }),
  ).join('---\n');
}

/**
 * Polls until `count` experiments of the namespace are Ready (or `alive` turns false); returns the
 * count Ready. One in-process GET a second, as the bare client polls its Deployments.
 */
export async function waitForReady(
  cluster: BenchCluster,
  namespace: string,
  count: number,
  options: { startedAt: number; alive?: () => boolean; log?: (line: string) => void; timeoutSeconds?: number },
): Promise<number> {
  const log = options.log ?? console.log;
  const http = await benchHttp(cluster.kubeConfig, 1);
  const path = `/apis/experiments.sms-app.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/smsexperiments`;
  let ready = 0;
  let lastReport = 0;
  try {
    while (ready < count) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (options.alive && !options.alive()) return ready;
      const answer = await http.send('GET', path).catch((error: unknown) => ({ status: 0, body: String(error) }));
      // A loaded API server drops the odd request: the next poll asks again.
      if (answer.status !== 200) continue;
      const list = answer.body as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
      ready = list.items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      const elapsed = (performance.now() - options.startedAt) / 1000;
      if (elapsed - lastReport >= 15) {
        log(`  ${elapsed.toFixed(0)} s: ${ready}/${count} Ready`);
        lastReport = elapsed;
      }
      if (elapsed > (options.timeoutSeconds ?? 1800)) throw new Error(`Only ${ready}/${count} Ready after ${elapsed.toFixed(0)} s`);
    }
    return ready;
  } finally {
    http.close();
  }
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}
