// The operator as the tests run it: a child process, `node src/operator/main.ts`, exactly what a user
// runs, with its JSON log appended to a file (kept across restarts) and its /metrics read over HTTP.
// By default it authenticates as the operator's ServiceAccount with the RBAC of config/rbac, so every
// integration test also proves those permissions are enough.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../hack/cluster/control-plane.ts';
import type { TestCluster } from './cluster.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(repositoryRoot, 'src/operator/main.ts');
export const OPERATOR_NAMESPACE = 'sms-experiment-system';
const SERVICE_ACCOUNT = 'sms-experiment-operator';

export interface LogLine {
  level: string;
  msg: string;
  time: string;
  pid: number;
  namespace?: string;
  name?: string;
  [field: string]: unknown;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let logDirectory: Promise<string> | undefined;
function logDir(): Promise<string> {
  logDirectory ??= mkdtemp(path.join(tmpdir(), 'sms-experiment-operator-test-'));
  return logDirectory;
}

export interface OperatorOptions {
  /** Names the log file and, unless args say otherwise, the leader-election identity. */
  name: string;
  kubeconfigPath: string;
  namespaces: readonly string[];
  /** Extra flags, e.g. ['--lease-duration', '4s']. */
  args?: readonly string[];
  /**
   * Refuse experiments that share a host (HostConflict). Off by default here: the tests run many
   * experiments with the default hosts in separate namespaces, which only a real gateway would
   * make collide; the host-conflict test turns it on.
   */
  refuseSharedHosts?: boolean;
  /** A fixed port for /metrics (e.g. one a Prometheus already scrapes); a free one otherwise. */
  metricsPort?: number;
  /** Flags for node itself, before the script, e.g. ['--inspect-port=127.0.0.1:9230']. */
  nodeArgs?: readonly string[];
  /** Extra environment, e.g. { NODE_OPTIONS: '--max-old-space-size-percentage=40' } as a manifest sets it. */
  env?: Readonly<Record<string, string>>;
  /**
   * A command the node process is started through, which must exec its arguments (so the pid stays
   * node's), e.g. ['sh', '-c', 'echo $$ > /sys/fs/cgroup/memory/x/cgroup.procs && exec "$@"', 'sh'].
   */
  launcher?: readonly string[];
}

export class OperatorProcess {
  readonly name: string;
  readonly #options: OperatorOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<number | string> = Promise.resolve('not started');
  #port = 0;
  #logFile = '';

  constructor(options: OperatorOptions) {
    this.name = options.name;
    this.#options = options;
  }

  get logFile(): string {
    return this.#logFile;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves with the exit code (or signal name) of the current process. */
  get exited(): Promise<number | string> {
    return this.#exited;
  }

  /**
   * Starts the process and waits until /readyz answers 200 (every watch listed); with
   * `waitUntilReady: false`, only until /readyz answers at all (for tests of an operator that
   * never gets ready).
   */
  async start({ waitUntilReady = true }: { waitUntilReady?: boolean } = {}): Promise<void> {
    if (this.alive) throw new Error(`operator ${this.name} is already running`);
    this.#logFile ||= path.join(await logDir(), `${this.name}.log`);
    this.#port = this.#options.metricsPort ?? (await freePort());
    const args = [
      MAIN,
      '--kubeconfig', this.#options.kubeconfigPath,
      '--namespaces', this.#options.namespaces.join(','),
      '--metrics-bind-address', '127.0.0.1',
      '--metrics-port', String(this.#port),
      '--leader-election-namespace', OPERATOR_NAMESPACE,
      '--leader-election-identity', this.name,
      ...(this.#options.refuseSharedHosts === true ? [] : ['--allow-shared-hosts']),
      ...(this.#options.args ?? []),
    ];
    const logFd = openSync(this.#logFile, 'a');
    const command = [...(this.#options.launcher ?? []), process.execPath, ...(this.#options.nodeArgs ?? []), ...args];
    const [executable = process.execPath, ...commandArgs] = command;
    const env = this.#options.env === undefined ? process.env : { ...process.env, ...this.#options.env };
    const child = spawn(executable, commandArgs, { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    this.#child = child;
    running.add(child);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve(code ?? signal ?? 'unknown');
      });
    });
    // Polls /readyz; an operator that exits meanwhile fails the start at once, with its log.
    const deadline = Date.now() + 30_000;
    let lastAnswer = 'no answer';
    for (;;) {
      if (!this.alive) throw new Error(`operator ${this.name} exited (${String(await this.#exited)}) while starting; log:\n${await this.tail()}`);
      const response = await fetch(`http://127.0.0.1:${this.#port}/readyz`).catch(() => undefined);
      if (response?.ok || (response && !waitUntilReady)) return;
      if (response) lastAnswer = `${response.status} ${await response.text()}`;
      if (Date.now() > deadline) throw new Error(`operator ${this.name} not ready after 30 s (/readyz: ${lastAnswer}); log:\n${await this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends a signal and waits for the exit (SIGKILL: nothing runs afterwards, no Lease release). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    if (!this.alive) return this.#exited;
    this.#child?.kill(signal);
    return this.#exited;
  }

  /** Graceful stop (SIGTERM), then SIGKILL if it takes longer than 15 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 15_000);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }

  /** The current /readyz answer. */
  async readyz(): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.#port}/readyz`);
    return { status: response.status, body: await response.text() };
  }

  async metricsText(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.#port}/metrics`);
    return response.text();
  }

  /** The sum of every sample of a metric whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumSamples(await this.metricsText(), name, labels);
  }

  /** Every JSON line of the log so far (of all runs of this operator). */
  async logLines(): Promise<LogLine[]> {
    const text = await readFile(this.#logFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  async tail(lines = 40): Promise<string> {
    const text = await readFile(this.#logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

export function sumSamples(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    const at = line.lastIndexOf(' ');
    const series = line.slice(0, at);
    if (Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`))) total += Number(line.slice(at + 1));
  }
  return total;
}

/** Prints the log tails of the given operators when the current test failed (an afterEach hook). */
export async function dumpLogsOnFailure(context: Mocha.Context, operators: ReadonlyArray<OperatorProcess | undefined>): Promise<void> {
  if (context.currentTest?.state !== 'failed') return;
  for (const operator of operators) {
    if (!operator?.logFile) continue;
    console.log(`\n----- last lines of operator ${operator.name} (${operator.logFile}) -----\n${await operator.tail(60)}\n-----`);
  }
}

// One per cluster: a suite may run a control plane of its own beside the shared one.
const serviceAccountKubeconfigs = new WeakMap<TestCluster, Promise<string>>();

/**
 * A kubeconfig that authenticates as the operator's ServiceAccount, after installing the namespace
 * and RBAC of config/ (the manifests users apply) into the cluster.
 */
export function operatorKubeconfig(cluster: TestCluster): Promise<string> {
  let kubeconfig = serviceAccountKubeconfigs.get(cluster);
  if (kubeconfig === undefined) {
    kubeconfig = createServiceAccountKubeconfig(cluster);
    serviceAccountKubeconfigs.set(cluster, kubeconfig);
  }
  return kubeconfig;
}

async function createServiceAccountKubeconfig(cluster: TestCluster): Promise<string> {
  const kubectlOk = async (args: string[]) => {
    const result = await cluster.kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await kubectlOk(['apply', '--server-side', '--field-manager=smsx-tests', '-f', path.join(repositoryRoot, 'config/manager/namespace.yaml')]);
  await kubectlOk(['apply', '--server-side', '--field-manager=smsx-tests', '-n', OPERATOR_NAMESPACE, '-k', path.join(repositoryRoot, 'config/rbac')]);
  const token = (await kubectlOk(['create', 'token', SERVICE_ACCOUNT, '-n', OPERATOR_NAMESPACE, '--duration=2h'])).trim();
  const server = cluster.kubeConfig.getCurrentCluster();
  if (!server) throw new Error('the test kubeconfig has no current cluster');
  const caData = server.caData ?? (server.caFile ? (await readFile(server.caFile)).toString('base64') : undefined);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: server.server, ...(caData ? { 'certificate-authority-data': caData } : { 'insecure-skip-tls-verify': true }) } }],
    users: [{ name: SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: 'test', user: SERVICE_ACCOUNT } }],
    'current-context': 'operator',
  };
  // Named by the API server's port: each cluster gets its own.
  const file = path.join(await logDir(), `operator-${new URL(server.server).port || 'default'}.kubeconfig`);
  await writeFile(file, stringify(kubeconfig), { mode: 0o600 });
  return file;
}
