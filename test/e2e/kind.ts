// The kind half of the end-to-end suite: a throwaway kind cluster with Istio, the monitoring stack
// and ingress-nginx, the three images built from the Dockerfile and loaded into the nodes, models
// trained into a host folder that every node mounts at /mnt/shared/models, and the operator
// installed from dist/install.yaml. Tools come from PATH or the environment (KIND, HELM, ISTIOCTL,
// KUBECTL, DOCKER); .github/workflows/e2e.yaml installs pinned versions.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_APP_IMAGE, DEFAULT_MODEL_IMAGE } from '../../src/crd/schema.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
export const OPERATOR_IMAGE = 'ghcr.io/sms-experiment/operator:0.1.0';
/** Where the nodes see the trained models: the CRD's default model storage (hostPath). */
export const NODE_MODELS_PATH = '/mnt/shared/models';
export const CLUSTER_NAME = process.env.SMSX_E2E_CLUSTER ?? 'smsx-e2e';

/** Versions of what the suite installs; the workflow may override them. */
export const VERSIONS = {
  kubePrometheusStack: process.env.KUBE_PROMETHEUS_STACK_VERSION ?? '77.0.0',
  ingressNginx: process.env.INGRESS_NGINX_VERSION ?? '4.13.0',
  kindNode: process.env.KIND_NODE_IMAGE,
};

const tool = (name: string, variable: string) => process.env[variable] ?? name;
export const tools = {
  docker: tool('docker', 'DOCKER'),
  kind: tool('kind', 'KIND'),
  helm: tool('helm', 'HELM'),
  istioctl: tool('istioctl', 'ISTIOCTL'),
  kubectl: tool('kubectl', 'KUBECTL'),
};

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 600_000, cwd: options.cwd ?? repositoryRoot }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (error && typeof error.code !== 'number' ? String(error.message) : '') });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a step, printing what it does; throws with the tool's own output when it fails. */
export async function step(what: string, command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const started = Date.now();
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${what} failed: ${command} ${args.join(' ')} (exit ${result.code})\n${result.stderr || result.stdout}`);
  console.log(`      ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result.stdout;
}

export type KindAvailability = { usable: true } | { usable: false; reason: string };

/** Whether this machine can run the kind half: a Docker engine that answers, and the kind tool. */
export async function kindAvailability(): Promise<KindAvailability> {
  const docker = await run(tools.docker, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 30_000 });
  if (docker.code !== 0) {
    const detail = (docker.stderr || docker.stdout).trim().split('\n')[0] ?? '';
    return { usable: false, reason: `no Docker engine (\`docker info\` failed: ${detail || `exit ${docker.code}`})` };
  }
  const kind = await run(tools.kind, ['version'], { timeoutMs: 30_000 });
  if (kind.code !== 0) return { usable: false, reason: `Docker runs but the kind tool is missing (\`${tools.kind} version\`: ${kind.stderr.trim() || `exit ${kind.code}`})` };
  return { usable: true };
}

/** kubectl against the kind cluster. */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<Run> {
  return run(tools.kubectl, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
}

export interface KindCluster {
  kubeconfig: string;
  modelsDir: string;
  workDir: string;
}

/** kind cluster config: one control plane and one worker, both mounting the host's model folder. */
export function kindConfig(modelsDir: string): string {
  const mount = [{ hostPath: modelsDir, containerPath: NODE_MODELS_PATH, readOnly: true }];
  const node = (role: string) => ({ role, extraMounts: mount, ...(VERSIONS.kindNode ? { image: VERSIONS.kindNode } : {}) });
  return stringify({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [node('control-plane'), node('worker')] });
}

/** Trains model versions v1 and v2 into <modelsDir>/<version>/ with the project's training command. */
export async function trainModels(dataFile: string, modelsDir: string): Promise<void> {
  for (const version of ['v1', 'v2']) {
    await step(`trained model ${version}`, process.execPath, [path.join(repositoryRoot, 'src/model/train.ts'), '--data', dataFile, '--out', modelsDir, '--version', version]);
  }
  // The model pods run as uid 10001 and read the folder through a read-only hostPath.
  await run('chmod', ['-R', 'a+rX', modelsDir]);
}

/** Everything up to an installed operator. Slow (minutes): images, charts, Istio. */
export async function createKindCluster(dataFile: string): Promise<KindCluster> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'smsx-e2e-'));
  const modelsDir = path.join(workDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  await chmod(workDir, 0o755);
  await trainModels(dataFile, modelsDir);

  const configFile = path.join(workDir, 'kind.yaml');
  await writeFile(configFile, kindConfig(modelsDir));
  const kubeconfig = path.join(workDir, 'kubeconfig');
  await run(tools.kind, ['delete', 'cluster', '--name', CLUSTER_NAME]);
  await step(`created kind cluster ${CLUSTER_NAME}`, tools.kind, ['create', 'cluster', '--name', CLUSTER_NAME, '--config', configFile, '--kubeconfig', kubeconfig, '--wait', '180s']);

  for (const [target, image] of [['operator', OPERATOR_IMAGE], ['app', DEFAULT_APP_IMAGE], ['model', DEFAULT_MODEL_IMAGE]] as const) {
    await step(`built image ${image} (Dockerfile target ${target})`, tools.docker, ['build', '--target', target, '-t', image, repositoryRoot], { timeoutMs: 1_200_000 });
    await step(`loaded ${image} into the nodes`, tools.kind, ['load', 'docker-image', '--name', CLUSTER_NAME, image]);
  }

  await step('installed Istio (default profile: istiod + istio-ingressgateway)', tools.istioctl, ['install', '-y', '--kubeconfig', kubeconfig, '--set', 'profile=default'], { timeoutMs: 900_000 });
  await step(`installed kube-prometheus-stack ${VERSIONS.kubePrometheusStack}`, tools.helm, [
    'upgrade', '--install', 'kube-prometheus-stack', 'kube-prometheus-stack',
    '--repo', 'https://prometheus-community.github.io/helm-charts', '--version', VERSIONS.kubePrometheusStack,
    '--kubeconfig', kubeconfig, '--namespace', 'monitoring', '--create-namespace', '--wait', '--timeout', '15m',
    // Stock selectors: the bundle labels the operator's and the experiments' monitoring objects
    // release=kube-prometheus-stack, the name of this release.
    '--set', 'grafana.enabled=false',
  ], { timeoutMs: 1_200_000 });
  await step(`installed ingress-nginx ${VERSIONS.ingressNginx}`, tools.helm, [
    'upgrade', '--install', 'ingress-nginx', 'ingress-nginx',
    '--repo', 'https://kubernetes.github.io/ingress-nginx', '--version', VERSIONS.ingressNginx,
    '--kubeconfig', kubeconfig, '--namespace', 'ingress-nginx', '--create-namespace', '--wait', '--timeout', '10m',
    '--set', 'controller.service.type=ClusterIP',
  ], { timeoutMs: 900_000 });

  await step('installed the operator (kubectl apply -f dist/install.yaml)', tools.kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', path.join(repositoryRoot, 'dist/install.yaml')]);
  await step('operator Deployment available', tools.kubectl, ['--kubeconfig', kubeconfig, 'wait', '-n', 'sms-experiment-system', '--for=condition=Available', '--timeout=300s', 'deployment/sms-experiment-operator']);
  return { kubeconfig, modelsDir, workDir };
}

export async function deleteKindCluster(): Promise<void> {
  await run(tools.kind, ['delete', 'cluster', '--name', CLUSTER_NAME]);
}

export interface PortForward {
  port: number;
  stop(): void;
}

/** `kubectl port-forward <target> 0:<port>`; resolves with the local port once it listens. */
export function portForward(kubeconfig: string, namespace: string, target: string, remotePort: number): Promise<PortForward> {
  const child: ChildProcess = spawn(tools.kubectl, ['--kubeconfig', kubeconfig, 'port-forward', '-n', namespace, target, `0:${remotePort}`, '--address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`port-forward to ${namespace}/${target}:${remotePort} did not start in 30 s: ${output}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), stop: () => child.kill() });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward to ${namespace}/${target} exited (${String(code)}): ${output}`));
    });
  });
}
