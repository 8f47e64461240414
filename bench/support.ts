// Shared set-up for the benchmarks: a local control plane (or SMSX_BENCH_KUBECONFIG), the
// SmsExperiment CRD, and the operator as a child process whose metrics and peak memory we read.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { CRD_NAME, renderCrdYaml } from '../src/crd/crd.ts';
import { freePort, startControlPlane, type ControlPlane } from '../hack/cluster/control-plane.ts';
import { loadToolchain, type Toolchain } from '../hack/cluster/toolchain.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchCluster {
  toolchain: Toolchain;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  runDir: string;
  kubectl(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchCluster(): Promise<BenchCluster> {
  const toolchain = await loadToolchain();
  const runDir = await mkdtemp(path.join(tmpdir(), 'sms-experiment-bench-'));
  let controlPlane: ControlPlane | undefined;
  let kubeconfigPath = process.env.SMSX_BENCH_KUBECONFIG;
  if (!kubeconfigPath) {
    controlPlane = await startControlPlane({ toolchain, runDir });
    kubeconfigPath = controlPlane.kubeconfigPath;
    console.log(`Local control plane ready in ${((controlPlane.timings.total ?? 0) / 1000).toFixed(1)} s (logs in ${runDir})`);
  }
  const kubeconfig = kubeconfigPath;
  const kubectl = async (args: string[], input?: string) => {
    const child = execFileAsync(toolchain.kubectl, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 256 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=sms-experiment-bench', '-f', '-'], renderCrdYaml());
  await kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return { toolchain, kubeconfigPath: kubeconfig, kubeConfig, runDir, kubectl, stop: async () => controlPlane?.stop() };
}

export interface OperatorProcess {
  child: ChildProcess;
  metricsUrl: string;
  logFile: string;
  /** Parsed Prometheus text exposition: metric name with labels → value. */
  metrics(): Promise<Map<string, number>>;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): Promise<number>;
  stop(): Promise<void>;
}

export async function startOperator(cluster: BenchCluster, namespaces: string, extraArgs: string[] = []): Promise<OperatorProcess> {
  const port = await freePort();
  const logFile = path.join(cluster.runDir, 'operator.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [
    path.join(repoRoot, 'src/operator/main.ts'), '--kubeconfig', cluster.kubeconfigPath, '--namespaces', namespaces,
    '--metrics-bind-address', '127.0.0.1', '--metrics-port', String(port), '--no-leader-elect', '--log-level', 'warn',
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  process.on('exit', () => child.kill('SIGKILL'));
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`The operator did not become ready; log:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    metricsUrl,
    logFile,
    async metrics() {
      const text = await (await fetch(metricsUrl)).text();
      const values = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (line.startsWith('#') || line.trim() === '') continue;
        const at = line.lastIndexOf(' ');
        values.set(line.slice(0, at), Number(line.slice(at + 1)));
      }
      return values;
    },
    async peakRssMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
      return kib / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      child.kill('SIGKILL');
    },
  };
}

/** Sum of every sample of a metric whose labels match all of `labels`. */
export function sumMetric(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of values) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)] ?? Number.NaN;
}
