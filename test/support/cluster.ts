// Test access to a real Kubernetes API server. One control plane per mocha run, started lazily by
// the first suite that asks for it and stopped by the root hooks (test/support/hooks.ts).
// SMSX_TEST_KUBECONFIG points the same suites at an existing cluster (kind, a real one) instead.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../hack/cluster/control-plane.ts';
import { loadToolchain, type Toolchain } from '../../hack/cluster/toolchain.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  /** Path of a kubeconfig that kubectl and @kubernetes/client-node both accept. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** The local control plane, or undefined when the tests run against an existing cluster. */
  controlPlane: ControlPlane | undefined;
  /** The kubectl binary (for programs that run it themselves, such as the kubectl plugin). */
  kubectlPath: string;
  /** Runs kubectl with --kubeconfig set; never throws on a non-zero exit. */
  kubectl(args: string[], options?: { input?: string }): Promise<CommandResult>;
  /** Runs istioctl; never throws on a non-zero exit. */
  istioctl(args: string[], options?: { input?: string }): Promise<CommandResult>;
  /** Creates a uniquely named namespace, deleted when the run ends. */
  createNamespace(prefix: string): Promise<string>;
}

let clusterPromise: Promise<TestCluster> | undefined;
const createdNamespaces: string[] = [];

function runCommand(command: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function connect(): Promise<TestCluster> {
  const toolchain = await loadToolchain();
  const external = process.env.SMSX_TEST_KUBECONFIG;
  let controlPlane: ControlPlane | undefined;
  let kubeconfigPath: string;
  if (external) {
    kubeconfigPath = external;
    console.log(`  (tests run against the existing cluster of ${external})`);
  } else {
    const runDir = await mkdtemp(path.join(tmpdir(), 'sms-experiment-test-cluster-'));
    controlPlane = await startControlPlane({ toolchain, runDir });
    kubeconfigPath = controlPlane.kubeconfigPath;
    const seconds = ((controlPlane.timings.total ?? 0) / 1000).toFixed(1);
    console.log(`  (local control plane started in ${seconds} s; logs in ${runDir})`);
    // hack/test.sh reports this among its phase timings.
    if (process.env.SMSX_TIMINGS_FILE) await writeFile(process.env.SMSX_TIMINGS_FILE, seconds);
  }
  return testCluster(toolchain, kubeconfigPath, controlPlane);
}

function testCluster(toolchain: Toolchain, kubeconfigPath: string, controlPlane: ControlPlane | undefined): TestCluster {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let counter = 0;
  return {
    kubeconfigPath,
    kubeConfig,
    controlPlane,
    kubectlPath: toolchain.kubectl,
    kubectl: (args, options) => runCommand(toolchain.kubectl, ['--kubeconfig', kubeconfigPath, ...args], options?.input),
    istioctl: (args, options) => runCommand(toolchain.istioctl, args, options?.input),
    async createNamespace(prefix) {
      counter += 1;
      const name = `${prefix}-${process.pid}-${counter}`.toLowerCase().slice(0, 63);
      await core.createNamespace({ body: { metadata: { name, labels: { 'sms-experiment.test/run': String(process.pid) } } } });
      createdNamespaces.push(name);
      return name;
    },
  };
}

/**
 * A control plane of the caller's own, beside the shared one (e.g. with the real node, which one
 * suite needs and whose stop it checks); the caller stops it with controlPlane.stop().
 */
export async function startOwnCluster(options: Omit<ControlPlaneOptions, 'toolchain' | 'runDir'>): Promise<TestCluster & { controlPlane: ControlPlane }> {
  const toolchain = await loadToolchain();
  const runDir = await mkdtemp(path.join(tmpdir(), 'sms-experiment-own-cluster-'));
  const controlPlane = await startControlPlane({ ...options, toolchain, runDir });
  return { ...testCluster(toolchain, controlPlane.kubeconfigPath, controlPlane), controlPlane };
}

/** The cluster of this test run, started on first use. Call from a before() hook with a long timeout. */
export function useCluster(): Promise<TestCluster> {
  clusterPromise ??= connect();
  return clusterPromise;
}

/** Stops the local control plane, or cleans up the namespaces made in an existing cluster. */
export async function releaseCluster(): Promise<void> {
  if (!clusterPromise) return;
  const cluster = await clusterPromise.catch(() => undefined);
  clusterPromise = undefined;
  if (!cluster) return;
  if (cluster.controlPlane) {
    await cluster.controlPlane.stop();
  } else if (createdNamespaces.length > 0) {
    await cluster.kubectl(['delete', 'namespace', '--wait=false', ...createdNamespaces]);
  }
}
