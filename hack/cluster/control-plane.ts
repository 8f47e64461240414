// A real Kubernetes control plane on loopback, without containers: etcd, kube-apiserver,
// kube-controller-manager (garbage collection, Deployments → ReplicaSets → Pods), kube-scheduler
// (kwok only takes Pods that already have a node) and kwok with fake nodes that run the Pods.
// The Istio and prometheus-operator CRDs are installed before start() resolves. With realNode, one
// real node (kubelet, containerd, kube-proxy, CoreDNS: real-node.ts) joins the fakes where this
// machine can run it; where it cannot, the reason is logged and kept, and the fakes carry on alone.
import { execFile } from 'node:child_process';
import { mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { createPki, type Pki } from './pki.ts';
import { freePort } from './ports.ts';
import { projectStages } from './pod-stages.ts';
import { startProcess, startReaper, type ManagedProcess } from './processes.ts';
import { RealNodeUnavailable, startRealNode, type RealNode } from './real-node.ts';
import type { Toolchain } from './toolchain.ts';

const execFileAsync = promisify(execFile);

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
const SERVICE_CIDR = '10.96.0.0/12';

export interface ControlPlaneOptions {
  toolchain: Toolchain;
  /** Folder for certificates, data and one log file per process; created if missing. */
  runDir: string;
  /** Number of fake nodes (default 2). */
  nodes?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Also start the real node, loading these podman images into its containerd (default: no real node). */
  realNode?: boolean | { images: string[] };
}

export interface ControlPlane {
  runDir: string;
  kubeconfigPath: string;
  apiServerUrl: string;
  processes: ManagedProcess[];
  /** Timings of the start phases in milliseconds. */
  timings: Record<string, number>;
  /** The real node, when asked for and it started. */
  realNode: RealNode | undefined;
  /** Why the real node asked for is not there (this machine cannot run it, or it failed to start). */
  realNodeUnavailable: string | undefined;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export { freePort };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, probe: () => Promise<boolean>, owner: ManagedProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void owner?.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`${what}: ${owner?.name} exited with ${exited}; last log lines:\n${await tail(owner?.logFile)}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms; last log lines:\n${await tail(owner?.logFile)}`);
}

async function tail(file: string | undefined, lines = 20): Promise<string> {
  if (!file) return '';
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The admin's client credentials, read once: the readiness probe and the kubeconfig both use them. */
interface AdminCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

async function readAdminCredentials(pki: Pki): Promise<AdminCredentials> {
  const [ca, cert, key] = await Promise.all([readFile(pki.caCert), readFile(pki.adminCert), readFile(pki.adminKey)]);
  return { ca, cert, key };
}

function httpsOk(url: string, { ca, cert, key }: AdminCredentials): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca, cert, key, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function writeKubeconfig(file: string, server: string, admin: AdminCredentials): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sms-experiment-local', cluster: { server, 'certificate-authority-data': admin.ca.toString('base64') } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': admin.cert.toString('base64'), 'client-key-data': admin.key.toString('base64') } }],
    contexts: [{ name: 'sms-experiment-local', context: { cluster: 'sms-experiment-local', user: 'admin', namespace: 'default' } }],
    'current-context': 'sms-experiment-local',
    preferences: {},
  };
  await writeFile(file, stringify(config), { mode: 0o600 });
}

function fakeNode(name: string): object {
  // Fake nodes cost nothing: make them big enough that scheduling never limits a test or benchmark
  // (500 experiments run 2,000 pods).
  const resources = { cpu: '1000', memory: '4Ti', pods: '5000' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
    },
  };
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { toolchain, runDir } = options;
  const log = options.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const started = Date.now();
  let phaseStart = started;
  const mark = (phase: string) => {
    const now = Date.now();
    timings[phase] = now - phaseStart;
    phaseStart = now;
    log(`${phase} (${timings[phase]} ms)`);
  };

  await mkdir(path.join(runDir, 'pids'), { recursive: true });
  const processes: ManagedProcess[] = [];
  startReaper(runDir);
  const kubeconfigPath = path.join(runDir, 'kubeconfig');

  let realNode: RealNode | undefined;
  const stopAll = async () => {
    await realNode?.stop();
    for (const child of [...processes].reverse()) await child.stop();
    await rm(path.join(runDir, 'pids'), { recursive: true, force: true });
    await rm(path.join(runDir, 'etcd-data'), { recursive: true, force: true });
  };

  try {
    const pki = await createPki(runDir);
    const admin = await readAdminCredentials(pki);
    const [etcdClientPort, etcdPeerPort, apiPort, kwokPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const stagesPath = path.join(runDir, 'kwok-stages.yaml');
    await writeFile(stagesPath, projectStages(await readFile(toolchain.kwokStages, 'utf8')));
    mark('Created certificates');

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess({
      name: 'etcd',
      command: toolchain.etcd,
      runDir,
      args: [
        '--name=local', `--data-dir=${path.join(runDir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${etcdPeerUrl}`, `--initial-advertise-peer-urls=${etcdPeerUrl}`,
        `--initial-cluster=local=${etcdPeerUrl}`, '--unsafe-no-fsync=true', '--log-level=warn',
      ],
    });
    processes.push(etcd);
    await waitFor('etcd', () => httpOk(`${etcdUrl}/health`), etcd, 30_000);
    mark('Started etcd');

    const apiServerUrl = `https://127.0.0.1:${apiPort}`;
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`, `--cert-dir=${path.join(runDir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`, `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--authorization-mode=RBAC', `--service-cluster-ip-range=${SERVICE_CIDR}`, '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount', '--endpoint-reconciler-type=none',
      // logs, exec and port-forward reach a real node's kubelet at its IP, as the admin.
      `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
      '--kubelet-preferred-address-types=InternalIP',
    ];
    let apiServer: ManagedProcess | undefined;
    const startApiServer = async () => {
      apiServer = startProcess({ name: 'kube-apiserver', command: toolchain.kubeApiserver, runDir, args: apiServerArgs });
      processes.splice(1, 0, apiServer);
      await waitFor('kube-apiserver', () => httpsOk(`${apiServerUrl}/readyz`, admin), apiServer, 60_000);
    };
    await startApiServer();
    await writeKubeconfig(kubeconfigPath, apiServerUrl, admin);
    mark('Started kube-apiserver');

    const kubectl = (args: string[]) =>
      execFileAsync(toolchain.kubectl, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 16 * 1024 * 1024 });

    processes.push(
      startProcess({
        name: 'kube-controller-manager',
        command: toolchain.kubeControllerManager,
        runDir,
        args: [
          `--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--controllers=*',
          `--root-ca-file=${pki.caCert}`, `--service-account-private-key-file=${pki.serviceAccountKey}`,
          '--use-service-account-credentials=false', '--secure-port=0',
          // Pods and nodes come and go quickly in tests: collect garbage promptly.
          '--concurrent-gc-syncs=20',
          // The default client limit (20 requests/s, shared by each controller's ReplicaSet
          // creates, status updates and Events) makes the Deployment controller the bottleneck of
          // a scale benchmark: 500 experiments' 1,750 Deployments took over half an hour to be
          // Available. With more room the API server is the limit, as on a real cluster's.
          '--kube-api-qps=200', '--kube-api-burst=400',
        ],
      }),
      startProcess({
        name: 'kube-scheduler',
        command: toolchain.kubeScheduler,
        runDir,
        args: [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--secure-port=0'],
      }),
      startProcess({
        name: 'kwok',
        command: toolchain.kwok,
        runDir,
        args: [
          `--kubeconfig=${kubeconfigPath}`, `--config=${stagesPath}`,
          '--manage-all-nodes=false', `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
          `--server-address=127.0.0.1:${kwokPort}`, '--cidr=10.244.0.0/16', '--node-ip=127.0.0.1',
          // The heartbeat stage renews node status only every ~10 minutes and counts on a node Lease
          // (what kwokctl sets up too): without one the node controller marks the nodes NotReady
          // after its grace period and every Pod on them stays unready from then on.
          '--node-lease-duration-seconds=40',
        ],
      }),
    );

    const nodeNames = Array.from({ length: options.nodes ?? 2 }, (_, i) => `kwok-node-${i}`);
    const nodeManifest = nodeNames.map((name) => stringify(fakeNode(name))).join('---\n');
    const nodesFile = path.join(runDir, 'nodes.yaml');
    await writeFile(nodesFile, nodeManifest);
    await Promise.all([
      // Several CRDs exceed client-side apply's annotation limit: apply them server-side.
      kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=sms-experiment-cluster', '-f', toolchain.crdDir]),
      kubectl(['apply', '--server-side', '--field-manager=sms-experiment-cluster', '-f', nodesFile]),
    ]);
    mark('Applied CRDs and fake nodes');
    await Promise.all([
      kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']),
      kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=60s']),
    ]);
    mark('CRDs Established and nodes Ready');
    let realNodeUnavailable: string | undefined;
    if (options.realNode) {
      try {
        realNode = await startRealNode({
          toolchain, runDir, kubeconfigPath, caCert: pki.caCert, serviceCidr: SERVICE_CIDR,
          images: typeof options.realNode === 'object' ? options.realNode.images : [],
          log: (line) => log(`real node: ${line}`),
        });
        mark('Started the real node');
      } catch (error) {
        // The fakes still serve everything but real pods: say why and carry on.
        realNodeUnavailable = error instanceof RealNodeUnavailable ? error.message : `it failed to start: ${error instanceof Error ? error.message : String(error)}`;
        log(`No real node: ${realNodeUnavailable}`);
      }
    }
    timings.total = Date.now() - started;

    return {
      runDir,
      kubeconfigPath,
      apiServerUrl,
      processes,
      timings,
      realNode,
      realNodeUnavailable,
      async stopApiServer() {
        if (!apiServer) return;
        await apiServer.stop();
        processes.splice(processes.indexOf(apiServer), 1);
        apiServer = undefined;
      },
      startApiServer,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
