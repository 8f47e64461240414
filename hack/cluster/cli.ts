// The local control plane from the command line.
//   up      start it in the background and print how to use kubectl against it
//   down    stop it (no process is left behind)
//   status  show its processes and whether the API server answers
//   run     start it in the foreground; Ctrl-C stops it
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { cacheDir, loadToolchain } from './toolchain.ts';

const usage = `Usage: node hack/cluster/cli.ts <up|down|status|run> [--name NAME] [--real-node]

  up      Start the local control plane in the background and print how to use kubectl against it
  down    Stop it; no etcd, kube-apiserver, controller-manager, scheduler or kwok process is left
  status  Show whether it runs and where its kubeconfig and logs are
  run     Start it in the foreground; Ctrl-C or SIGTERM stops it

  --real-node  (up, run) also start a real node (kubelet, containerd, kube-proxy, CoreDNS; needs root,
               containerd and hack/cluster/build.sh --with-real-node); where it cannot run, says why

Binaries come from hack/cluster/build.sh (cached under ${cacheDir()}).`;

const stateSchema = z.object({
  supervisorPid: z.number().int(),
  kubeconfigPath: z.string(),
  apiServerUrl: z.string(),
  kubectl: z.string(),
  processes: z.array(z.object({ name: z.string(), pid: z.number().int(), logFile: z.string() })),
});
type State = z.infer<typeof stateSchema>;

function runDirFor(name: string): string {
  return path.join(cacheDir(), 'clusters', name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readState(runDir: string): Promise<State | undefined> {
  const text = await readFile(path.join(runDir, 'state.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const state = stateSchema.parse(JSON.parse(text));
  return alive(state.supervisorPid) ? state : undefined;
}

export function kubectlHelp(kubectl: string, kubeconfigPath: string): string {
  return [
    `export KUBECONFIG=${kubeconfigPath}`,
    `alias kubectl=${kubectl}   # kubectl matching the API server's version`,
    'kubectl get nodes',
    'kubectl api-resources --api-group=networking.istio.io',
    'kubectl api-resources --api-group=monitoring.coreos.com',
  ].join('\n');
}

async function run(name: string, realNode: boolean): Promise<void> {
  const runDir = runDirFor(name);
  if (await readState(runDir)) throw new Error(`The control plane "${name}" is already running: use "down" first`);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const toolchain = await loadToolchain();
  // Filled in once started; the signal handlers must exist before that, to stop a half-started plane.
  const started: { controlPlane?: ControlPlane } = {};
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`Received ${signal}: stopping the control plane`);
    await started.controlPlane?.stop();
    await rm(path.join(runDir, 'state.json'), { force: true });
    console.log('Stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  const controlPlane = await startControlPlane({ toolchain, runDir, realNode, log: (line) => console.log(`  ${line}`) });
  started.controlPlane = controlPlane;
  if (controlPlane.realNode) console.log(`Real node ${controlPlane.realNode.name} at ${controlPlane.realNode.nodeIp}: pods that select and tolerate sms-experiment.local/real-node=true run on it`);
  const state: State = {
    supervisorPid: process.pid,
    kubeconfigPath: controlPlane.kubeconfigPath,
    apiServerUrl: controlPlane.apiServerUrl,
    kubectl: toolchain.kubectl,
    processes: controlPlane.processes.map(({ name: n, pid, logFile }) => ({ name: n, pid, logFile })),
  };
  await writeFile(path.join(runDir, 'state.json'), JSON.stringify(state, null, 2));
  console.log(`Control plane ready in ${(controlPlane.timings.total ?? 0) / 1000} s at ${controlPlane.apiServerUrl}`);
  console.log(`Logs: ${runDir}/*.log\n\n${kubectlHelp(toolchain.kubectl, controlPlane.kubeconfigPath)}`);
  // Stay alive until a signal arrives; a process that dies takes the cluster down with a message.
  for (const child of controlPlane.processes) {
    void child.exited.then((code) => {
      if (!stopping) console.error(`${child.name} exited with ${code}; see ${child.logFile}`);
    });
  }
  await new Promise(() => undefined);
}

async function up(name: string, realNode: boolean): Promise<void> {
  const runDir = runDirFor(name);
  const existing = await readState(runDir);
  if (existing) {
    console.log(`Already running.\n\n${kubectlHelp(existing.kubectl, existing.kubeconfigPath)}`);
    return;
  }
  await mkdir(path.dirname(runDir), { recursive: true });
  const logFile = `${runDir}.supervisor.log`;
  const fd = openSync(logFile, 'w');
  const supervisor = spawn(process.execPath, [fileURLToPath(import.meta.url), 'run', '--name', name, ...(realNode ? ['--real-node'] : [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  supervisor.unref();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const state = await readState(runDir).catch(() => undefined);
    if (state) {
      console.log(`Control plane "${name}" is up (supervisor pid ${state.supervisorPid}).`);
      console.log(`Logs: ${runDir}/*.log\n\n${kubectlHelp(state.kubectl, state.kubeconfigPath)}`);
      return;
    }
    if (supervisor.exitCode !== null || !alive(supervisor.pid ?? -1)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The control plane did not come up; see ${logFile}:\n${await readFile(logFile, 'utf8')}`);
}

async function down(name: string): Promise<void> {
  const runDir = runDirFor(name);
  const state = await readState(runDir);
  if (!state) {
    console.log(`The control plane "${name}" is not running`);
    return;
  }
  process.kill(state.supervisorPid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(state.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const leftovers = state.processes.filter((p) => alive(p.pid));
  for (const p of leftovers) process.kill(p.pid, 'SIGKILL');
  console.log(`Stopped the control plane "${name}"${leftovers.length ? ` (killed ${leftovers.map((p) => p.name).join(', ')})` : ''}`);
}

async function status(name: string): Promise<void> {
  const runDir = runDirFor(name);
  const state = await readState(runDir);
  if (!state) {
    console.log(`The control plane "${name}" is not running${existsSync(runDir) ? ` (last logs in ${runDir})` : ''}`);
    process.exitCode = 3;
    return;
  }
  console.log(`Control plane "${name}": supervisor pid ${state.supervisorPid}, API server ${state.apiServerUrl}`);
  for (const p of state.processes) console.log(`  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${alive(p.pid) ? 'running' : 'GONE'}  ${p.logFile}`);
  console.log(`\n${kubectlHelp(state.kubectl, state.kubeconfigPath)}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const nameIndex = rest.indexOf('--name');
  const name = nameIndex >= 0 ? rest[nameIndex + 1] : 'default';
  if (!name || !/^[a-z0-9-]+$/.test(name)) throw new Error('--name takes lowercase letters, digits and dashes');
  switch (command) {
    case 'up': return up(name, rest.includes('--real-node'));
    case 'down': return down(name);
    case 'status': return status(name);
    case 'run': return run(name, rest.includes('--real-node'));
    case undefined: case '-h': case '--help': case 'help':
      console.log(usage);
      return;
    default:
      throw new Error(`Unknown command "${command}"\n\n${usage}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
