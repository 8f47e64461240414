// Shared set-up for the benchmarks, on the same harness as the integration tests: the cluster of
// test/support/cluster.ts (a local control plane, or an existing cluster named by
// SMSX_BENCH_KUBECONFIG), the SmsExperiment CRD of test/support/crd.ts, and the operator as the
// tests run it (test/support/operator.ts), plus what only a benchmark reads: peak memory.
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { releaseCluster, useCluster } from '../test/support/cluster.ts';
import { installCrd } from '../test/support/crd.ts';
import { OperatorProcess } from '../test/support/operator.ts';

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
      const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim()}`);
      return result.stdout;
    },
    stop: releaseCluster,
  };
}

/** The operator with the cluster's admin credentials, no leader election and quiet logs; ready when it resolves. */
export async function startOperator(cluster: BenchCluster, namespace: string, extraArgs: string[] = []): Promise<OperatorProcess> {
  const operator = new OperatorProcess({
    name: 'bench',
    kubeconfigPath: cluster.kubeconfigPath,
    namespaces: [namespace],
    args: ['--no-leader-elect', '--log-level', 'warn', ...extraArgs],
  });
  await operator.start();
  return operator;
}

/** Peak resident set size of a process so far (VmHWM), in MiB. */
export async function peakRssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 'NaN') / 1024;
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}
