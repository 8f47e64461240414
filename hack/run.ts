// The main job: the whole system locally. Starts the local control plane (with the Istio and
// prometheus-operator CRDs), installs the SmsExperiment CRD, starts the operator, applies the canary
// sample, prints the kubectl commands to watch and change it and streams the operator's log.
// Where the real node runs (root, containerd, the images built), the sample's pods run on it for
// real: the models are trained into the folder its hostPath mounts, and the page is served through a
// kubectl port-forward on 127.0.0.1. SMSX_REAL_NODE=0 keeps to the kwok fakes.
// Ctrl-C (or SIGTERM) stops the port-forward, the operator and then the control plane.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { renderCrdYaml, CRD_NAME } from '../src/crd/crd.ts';
import { trainToDirectory } from '../src/model/build-artifact.ts';
import { readDataset, sharedTrainingFile } from '../src/model/dataset.ts';
import { MODEL_VERSIONS } from '../src/model/presets.ts';
import { experimentNames } from '../src/operator/render/names.ts';
import { freePort, startControlPlane, type ControlPlane } from './cluster/control-plane.ts';
import { realNodePlacement, realNodeUnavailableReason } from './cluster/real-node.ts';
import { cacheDir, loadToolchain } from './cluster/toolchain.ts';

const execFileAsync = promisify(execFile);
const NAMESPACE = 'sms-app';
const SAMPLE = 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TAG = process.env.SMSX_IMAGE_TAG ?? '0.1.0';
const IMAGES = [`ghcr.io/sms-experiment/app:${TAG}`, `ghcr.io/sms-experiment/model:${TAG}`];
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
/** Trained on when the shared SMS Spam Collection is not next to the repository. */
const FIXTURE_CORPUS = path.join(repoRoot, 'test/fixtures/model/corpus.tsv');

function say(line: string): void {
  console.log(`[run] ${line}`);
}

/** Why the sample's pods stay on the kwok fakes, or undefined when the real node can take them. */
async function withoutRealNode(): Promise<string | undefined> {
  if (process.env.SMSX_REAL_NODE === '0') return 'SMSX_REAL_NODE=0';
  const reason = realNodeUnavailableReason(await loadToolchain());
  if (reason !== undefined) return reason;
  for (const image of IMAGES) {
    const { status } = await new Promise<{ status: number | null }>((resolve) =>
      spawn('podman', [...PODMAN, 'image', 'exists', image], { stdio: 'ignore' }).once('exit', (status) => resolve({ status })));
    if (status !== 0) return `${image} is not built (hack/images.sh)`;
  }
  return undefined;
}

/** The sample, placed on the real node, reading the models from modelsDir. */
function realNodeSample(modelsDir: string): string {
  const sample = parse(readFileSync(path.join(repoRoot, SAMPLE), 'utf8')) as { spec: Record<string, unknown> };
  // Fresh copies: a shared object would come out as YAML anchors and aliases.
  const placed = () => structuredClone(realNodePlacement);
  sample.spec.app = { stable: placed(), canary: placed() };
  sample.spec.model = { stable: placed(), canary: placed() };
  sample.spec.storage = { hostPath: modelsDir };
  return stringify(sample);
}

async function trainModels(modelsDir: string): Promise<string> {
  const shared = sharedTrainingFile();
  const file = existsSync(shared) ? shared : FIXTURE_CORPUS;
  const dataset = await readDataset(file);
  for (const version of MODEL_VERSIONS) {
    await trainToDirectory({ dataset, version, seed: 42, created: new Date().toISOString(), modelsDirectory: modelsDir, evaluate: false });
  }
  return file;
}

/** kubectl port-forward on 127.0.0.1; resolves with the local port once it listens. */
function portForward(kubectl: string, kubeconfig: string, target: string, remotePort: number, localPort: number): Promise<ChildProcess> {
  const child = spawn(kubectl, ['--kubeconfig', kubeconfig, 'port-forward', '-n', NAMESPACE, '--address', '127.0.0.1', target, `${localPort}:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Forwarding from')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`kubectl port-forward ${target} exited with ${code}: ${output.trim()}`)));
  });
}

async function main(): Promise<void> {
  const toolchain = await loadToolchain();
  const runDir = path.join(cacheDir(), 'clusters', 'main');
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });

  // Filled in as they start; the signal handlers exist from the beginning to stop whatever is up.
  const running: { controlPlane?: ControlPlane; operator?: ChildProcess; portForward?: ChildProcess } = {};
  let stopping = false;
  const stop = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping the operator and the control plane`);
    const { operator, controlPlane, portForward: forward } = running;
    forward?.kill();
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator.once('exit', resolve));
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
      // A terminal's Ctrl-C reaches the operator too (same process group): give it time to stop
      // gracefully on that signal alone, since a second signal makes it stop at once.
      if (why !== 'Received SIGINT' || !(await within(5_000))) {
        operator.kill('SIGTERM');
        if (!(await within(10_000))) operator.kill('SIGKILL');
      }
    }
    await controlPlane?.stop();
    say('Stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('Received SIGINT'));
  process.on('SIGTERM', () => void stop('Received SIGTERM'));
  // A failure after this point still stops everything in order (the real node's pods and rules too).
  try {
    const noRealNode = await withoutRealNode();
    say(noRealNode === undefined ? 'Starting the local control plane with a real node' : `Starting the local control plane (kwok nodes only: ${noRealNode})`);
    const controlPlane = await startControlPlane({
      toolchain, runDir, log: (line) => say(`  ${line}`), realNode: noRealNode === undefined ? { images: IMAGES } : false,
    });
    running.controlPlane = controlPlane;
    const realNode = controlPlane.realNode;
    const kubeconfig = controlPlane.kubeconfigPath;
    const kubectl = (args: string[], input?: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(toolchain.kubectl, ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'inherit', 'inherit'] });
        child.stdin.end(input ?? '');
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')} exited with ${code}`))));
      });

    say(`Installing the ${CRD_NAME} CRD and the ${NAMESPACE} namespace`);
    await kubectl(['apply', '--server-side', '--field-manager=sms-experiment-run', '-f', '-'], renderCrdYaml());
    await kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
    // The label is what a user sets for Istio sidecar injection; paired routing depends on it.
    await kubectl(['apply', '--server-side', '--field-manager=sms-experiment-run', '-f', '-'],
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n  labels:\n    istio-injection: enabled\n`);

    const metricsPort = await freePort();
    say(`Starting the operator (metrics on http://127.0.0.1:${metricsPort}/metrics)`);
    const operator = spawn(process.execPath, [
      path.join(repoRoot, 'src/operator/main.ts'),
      '--kubeconfig', kubeconfig,
      '--namespaces', NAMESPACE,
      '--metrics-bind-address', '127.0.0.1',
      '--metrics-port', String(metricsPort),
      '--leader-election-namespace', 'default',
      // A person reads this log in the terminal; a cluster's pipeline gets the default, JSON.
      '--log-format', 'text',
    ], { stdio: ['ignore', 'inherit', 'inherit'] });
    running.operator = operator;
    operator.once('exit', (code, signal) => {
      if (!stopping) void stop(`The operator exited (${code ?? signal})`, 1);
    });

    let pageUrl: string | undefined;
    if (realNode) {
      // The pods run as uid 10001: the folder and artifacts are world-readable.
      const modelsDir = path.join(runDir, 'models');
      await mkdir(modelsDir, { recursive: true, mode: 0o755 });
      say(`Training models ${MODEL_VERSIONS.join(' and ')} into ${modelsDir} (the hostPath the model pods mount) from ${await trainModels(modelsDir)}`);
      say(`Applying ${SAMPLE} on the real node (nodeSelector and toleration ${Object.keys(realNodePlacement.nodeSelector).join('')}, storage.hostPath ${modelsDir})`);
      await kubectl(['apply', '-n', NAMESPACE, '-f', '-'], realNodeSample(modelsDir));
      say('Waiting for the pods to run on the real node (kubectl wait --for=condition=Available)');
      const experiment = experimentNames('sms-app');
      const deployments = [...Object.values(experiment.appDeployment), experiment.modelDeployment.stable, experiment.modelDeployment.canary];
      // The operator creates the Deployments a moment after the apply; kubectl wait needs them to exist.
      const exists = () => execFileAsync(toolchain.kubectl, ['--kubeconfig', kubeconfig, 'get', '-n', NAMESPACE, ...deployments.map((name) => `deploy/${name}`)]).then(() => true, () => false);
      for (let tries = 0; !(await exists()); tries += 1) {
        if (tries >= 60) throw new Error(`the operator created no Deployments within 60 s (${deployments.join(', ')})`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await kubectl(['wait', '-n', NAMESPACE, '--for=condition=Available', '--timeout=180s', ...deployments.map((name) => `deploy/${name}`)]).catch(() => {
        throw new Error(`the experiment's Deployments did not become Available on the real node within 180 s; see kubectl -n ${NAMESPACE} describe pods`);
      });
      const localPort = await freePort();
      running.portForward = await portForward(toolchain.kubectl, kubeconfig, `svc/${experiment.appService}`, 80, localPort);
      running.portForward.once('exit', (code) => {
        if (!stopping) say(`The port-forward to the page exited (${code}); restart it with: kubectl -n ${NAMESPACE} port-forward --address 127.0.0.1 svc/${experiment.appService} ${localPort}:80`);
      });
      pageUrl = `http://127.0.0.1:${localPort}/`;
      await kubectl(['get', '-n', NAMESPACE, 'smsx,pods', '-o', 'wide']);
      await kubectl(['get', '-n', NAMESPACE, 'smsx/sms-app', '-o', 'jsonpath={range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\\n"}{end}']);
    } else {
      say(`Applying ${SAMPLE}`);
      await kubectl(['apply', '-n', NAMESPACE, '-f', path.join(repoRoot, SAMPLE)]);
    }

    const k = `${toolchain.kubectl} --kubeconfig ${kubeconfig}`;
    const page = pageUrl === undefined
      ? 'The pods run on kwok fake nodes: nothing serves the page (the real node needs root, containerd and the images).\n'
      : `The page: ${pageUrl}  (kubectl port-forward to the app Service; the pods run on ${realNode?.name}, the app calls the model through its Service and cluster DNS; no Istio data plane here, so the experiment reads Degraded SidecarsMissing and the 90/10 split is not applied)\n`;
    say(`Ready. ${page}In another terminal:

    export KUBECONFIG=${kubeconfig}
    alias kubectl=${toolchain.kubectl}

    kubectl -n ${NAMESPACE} get smsx -w                 # mode, weights, mirror %, ready
    kubectl -n ${NAMESPACE} edit smsx sms-app           # shift traffic, switch mode, ...
    kubectl -n ${NAMESPACE} patch smsx sms-app --type merge -p '{"spec":{"traffic":{"weights":{"stable":50,"canary":50}}}}'
    kubectl -n ${NAMESPACE} get virtualservice sms-app-vs -o yaml
    kubectl -n ${NAMESPACE} get deploy,svc,gateway,virtualservice,destinationrule,ingress,servicemonitor,prometheusrule
    kubectl -n ${NAMESPACE} describe smsx sms-app       # conditions and events
    kubectl -n ${NAMESPACE} get pods -o wide            # on which node each pod runs
    kubectl -n ${NAMESPACE} logs deploy/sms-app-model   # JSON logs (real pods only)
    curl -s http://127.0.0.1:${metricsPort}/metrics | grep smsx_operator

  (full kubectl path: ${k})
  The operator's log follows; Ctrl-C stops everything.
  `);
    await new Promise(() => undefined);
  } catch (error) {
    console.error(`[run] error: ${error instanceof Error ? error.message : String(error)}`);
    await stop('Failed', 1);
  }
}

main().catch((error: unknown) => {
  console.error(`[run] error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
