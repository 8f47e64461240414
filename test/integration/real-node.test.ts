// The experiment's pods on a real node (kubelet, containerd, kube-proxy, CoreDNS: hack/cluster/real-node.ts)
// of a control plane of this suite's own: the page through a port-forward in headless Chromium,
// answered by the model pod through its Service and cluster DNS; a canary whose entry point fails
// crash-loops for real and the experiment reads Degraded naming it; a model pod without its artifact
// stays unready and out of the Service's endpoints; `kubectl logs` shows the pods' JSON logs; and after
// the stop no node process, bridge, mount or KUBE-* rule is left. Skipped, with the reason printed,
// where the real node cannot start (no root, containerd, built images, ...).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { REAL_NODE_NAME, realNodePlacement, realNodeUnavailableReason, type RealNode } from '../../hack/cluster/real-node.ts';
import { loadToolchain } from '../../hack/cluster/toolchain.ts';
import { COMPONENT_LABEL, EXPERIMENT_LABEL } from '../../src/operator/render/labels.ts';
import { experimentNames } from '../../src/operator/render/names.ts';
import { startOwnCluster, type TestCluster } from '../support/cluster.ts';
import type { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { trainedModelsDir } from '../support/model-service.ts';
import { OperatorProcess, dumpLogsOnFailure, operatorKubeconfig, sumSamples } from '../support/operator.ts';

const run = promisify(execFile);
const TAG = process.env.SMSX_IMAGE_TAG ?? '0.1.0';
const APP_IMAGE = `ghcr.io/sms-experiment/app:${TAG}`;
const MODEL_IMAGE = `ghcr.io/sms-experiment/model:${TAG}`;
/** The app image with an entry point that exits 1: a canary that can never start. */
const CRASHING_IMAGE = `localhost/sms-experiment/app-crashing:${TAG}`;
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const CHROMIUM = process.env.SMSX_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SPAM_MESSAGE = 'URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt the word: CLAIM to No: 81010';
const EXPERIMENT = 'sms-app';
const names = experimentNames(EXPERIMENT);
/** The processes of a real node, by their command, in `ps -eo pid,ppid,args` lines. */
const NODE_PROCESS = /^\s*\d+\s+\d+\s+\S*\b(containerd|containerd-shim-runc-v2|kubelet|kube-proxy|coredns|pause)(\s|$)/;

function skip(context: Mocha.Context, reason: string): never {
  process.stdout.write(`      SKIPPED: the real-node tests need a real node, and ${reason}\n`);
  context.skip();
}

function missingImage(): string | undefined {
  for (const image of [APP_IMAGE, MODEL_IMAGE]) {
    if (spawnSync('podman', [...PODMAN, 'image', 'exists', image]).status !== 0) return `${image} is not built (hack/images.sh builds it)`;
  }
  return undefined;
}

interface PodShape {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: Array<{ image: string; env?: Array<{ name: string; value?: string }> }> };
  status: {
    podIP?: string;
    phase?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ restartCount: number; ready: boolean; state?: { waiting?: { reason?: string }; running?: object }; lastState?: { terminated?: { exitCode?: number } } }>;
  };
}

describe('real node: the experiment runs in real pods', function () {
  this.timeout(240_000);
  let cluster: (TestCluster & { controlPlane: ControlPlane }) | undefined;
  let realNode: RealNode;
  let operator: OperatorProcess | undefined;
  let namespace: string;
  let browser: Browser | undefined;
  const portForwards: ChildProcess[] = [];

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    assert.ok(cluster);
    const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited with ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  const pods = async (selector: string): Promise<PodShape[]> =>
    (JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as { items: PodShape[] }).items;
  const patchExperiment = (patch: object) => kubectl(['patch', 'smsx', EXPERIMENT, '-n', namespace, '--type', 'merge', '-p', JSON.stringify(patch)]);

  before(async function () {
    this.timeout(600_000);
    const toolchain = await loadToolchain();
    const reason = realNodeUnavailableReason(toolchain) ?? missingImage();
    if (reason !== undefined) skip(this, reason);
    cluster = await startOwnCluster({ realNode: { images: [APP_IMAGE, MODEL_IMAGE] } });
    const { controlPlane } = cluster;
    if (controlPlane.realNode === undefined) {
      await controlPlane.stop();
      skip(this, controlPlane.realNodeUnavailable ?? 'it did not start');
    }
    realNode = controlPlane.realNode;
    const phases = Object.entries(realNode.timings).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`).join(', ');
    process.stdout.write(`      (real node ${realNode.name} at ${realNode.nodeIp}, pods in ${realNode.podCidr}: ${phases}; logs in ${controlPlane.runDir})\n`);

    await installCrd(cluster);
    namespace = await cluster.createNamespace('real-node');
    const modelsDir = await trainedModelsDir();
    // The pods run as uid 10001 and see this folder itself at /models: it must be readable to them.
    await chmod(modelsDir, 0o755);
    operator = new OperatorProcess({ name: 'real-node', kubeconfigPath: await operatorKubeconfig(cluster), namespaces: [namespace] });
    await operator.start();
    const version = (image: string, extra: object = {}) => ({ image, replicas: 1, ...realNodePlacement, ...extra });
    await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify({
      apiVersion: 'experiments.sms-app.io/v1alpha1',
      kind: 'SmsExperiment',
      metadata: { name: EXPERIMENT },
      spec: {
        mode: 'canary',
        app: { stable: version(APP_IMAGE), canary: version(APP_IMAGE) },
        model: { stable: version(MODEL_IMAGE), canary: version(MODEL_IMAGE) },
        storage: { hostPath: modelsDir },
      },
    }));
    await eventually('the four pods ready on the real node', async () => {
      const all = await pods(`${EXPERIMENT_LABEL}=${EXPERIMENT}`).catch(() => []);
      const ready = all.filter((pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      assert.equal(ready.length, 4, `4 ready pods (app and model, stable and canary); now ${all.map((p) => `${p.metadata.name}:${p.status.phase}`).join(' ') || 'none'}`);
      for (const pod of ready) assert.equal(pod.spec.nodeName, REAL_NODE_NAME);
    }, { timeoutMs: 180_000, intervalMs: 1000 });
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    for (const child of portForwards) child.kill();
    await browser?.close();
    await operator?.stop();
    await cluster?.controlPlane.stop();
  });

  /** kubectl port-forward on 127.0.0.1 to a free port; resolves with the local URL. */
  async function portForward(target: string, remotePort: number): Promise<string> {
    assert.ok(cluster);
    const child = spawn(cluster.kubectlPath, ['--kubeconfig', cluster.kubeconfigPath, 'port-forward', '-n', namespace, '--address', '127.0.0.1', target, `:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    portForwards.push(child);
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`port-forward ${target} printed no address in 20 s: ${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${match[1]}`);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`port-forward ${target} exited with ${code}: ${output}`)));
    });
  }

  /** Predictions the model pods have served, from each pod's /metrics through the API server's pod proxy. */
  async function modelPredictions(): Promise<number> {
    let total = 0;
    for (const pod of await pods(`${EXPERIMENT_LABEL}=${EXPERIMENT},${COMPONENT_LABEL}=model`)) {
      const text = await kubectl(['get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:8081/proxy/metrics`]);
      total += sumSamples(text, 'sms_model_predictions_total');
    }
    return total;
  }

  it('the page through a port-forward on 127.0.0.1 shows a classification answered by a model pod', async () => {
    if (!existsSync(CHROMIUM)) {
      process.stdout.write(`      (Chromium is not at ${CHROMIUM}: the page is checked with fetch instead)\n`);
    }
    const url = await portForward(`svc/${names.appService}`, 80);
    const before = await modelPredictions();
    if (existsSync(CHROMIUM)) {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      await page.goto(url);
      assert.equal(await page.title(), 'SMS spam check');
      await page.locator('#sms').fill(SPAM_MESSAGE);
      const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/sms');
      await page.locator('#check-button').click();
      assert.equal((await answered).status(), 200);
      await page.locator('#check-button:not([disabled])').waitFor();
      assert.equal(await page.locator('#verdict-badge').textContent(), 'spam');
      assert.match((await page.locator('#model-version').textContent()) ?? '', /^v[12]$/);
      const screenshot = path.join(await mkdtemp(path.join(tmpdir(), 'sms-real-node-')), 'page.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      process.stdout.write(`      (page at ${url}, served by the real app pod; screenshot ${screenshot})\n`);
    } else {
      const response = await fetch(`${url}/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: SPAM_MESSAGE }) });
      assert.equal(response.status, 200);
    }
    // The app reached the model through the model Service's ClusterIP (kube-proxy) and cluster DNS.
    assert.equal(await modelPredictions(), before + 1, 'the model pods counted exactly the one classification');
  });

  it('`kubectl logs` of the managed pods shows their JSON logs', async () => {
    for (const deployment of [names.appDeployment.stable, names.modelDeployment.stable]) {
      const text = await kubectl(['logs', '-n', namespace, `deploy/${deployment}`]);
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      assert.ok(lines.length > 0, `${deployment} logged something`);
      for (const line of lines) {
        const record = JSON.parse(line) as { level?: unknown; msg?: unknown };
        assert.ok(record.level !== undefined && typeof record.msg === 'string', `a JSON log record with level and msg: ${line}`);
      }
      process.stdout.write(`      (kubectl logs deploy/${deployment}: ${lines.length} JSON lines, first: ${lines[0]?.slice(0, 120)})\n`);
    }
  });

  it('a model pod without its artifact stays unready and out of its Service\'s endpoints', async () => {
    await patchExperiment({ spec: { model: { canary: { artifact: 'v-missing' } } } });
    const artifactOf = (pod: PodShape) => pod.spec.containers[0]?.env?.find((env) => env.name === 'MODEL_VERSION')?.value;
    const selector = `${EXPERIMENT_LABEL}=${EXPERIMENT},${COMPONENT_LABEL}=model`;
    const broken = await eventually('a running model pod that reads the missing artifact', async () => {
      const pod = (await pods(selector)).find((candidate) => artifactOf(candidate) === 'v-missing' && candidate.status.containerStatuses?.[0]?.state?.running !== undefined);
      assert.ok(pod, 'a running model pod reads the missing artifact');
      return pod;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    // Running, live, but never ready: watch it for 15 s (three readiness periods and more).
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const [pod] = (await pods(selector)).filter((candidate) => candidate.metadata.name === broken.metadata.name);
      assert.ok(pod, 'the pod is still there');
      assert.equal(pod.status.containerStatuses?.[0]?.ready, false, 'never ready');
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const slices = JSON.parse(await kubectl(['get', 'endpointslices', '-n', namespace, '-l', `kubernetes.io/service-name=${names.modelService}`, '-o', 'json'])) as {
      items: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }>;
    };
    const endpoint = slices.items.flatMap((slice) => slice.endpoints ?? []).find((candidate) => candidate.addresses.includes(broken.status.podIP ?? ''));
    assert.ok(endpoint === undefined || endpoint.conditions?.ready === false, `the Service does not route to ${broken.status.podIP}: ${JSON.stringify(endpoint)}`);
    process.stdout.write(`      (${broken.metadata.name} at ${broken.status.podIP}: running, unready for 15 s, endpoint ${endpoint ? 'listed as not ready' : 'not listed'})\n`);
    await patchExperiment({ spec: { model: { canary: { artifact: 'v2' } } } });
  });

  it('a canary whose entry point fails crash-loops for real and the experiment reads Degraded naming it', async () => {
    assert.ok(cluster);
    const context = await mkdtemp(path.join(tmpdir(), 'sms-crashing-image-'));
    await run('sh', ['-c', `printf 'FROM %s\\nENTRYPOINT ["node", "-e", "console.error(\\\\"entry point fails on purpose\\\\"); process.exit(1)"]\\n' "$1" > "$2/Containerfile"`, 'sh', APP_IMAGE, context]);
    await run('podman', [...PODMAN, 'build', '--quiet', '-t', CRASHING_IMAGE, context]);
    await realNode.loadImage(CRASHING_IMAGE);
    await patchExperiment({ spec: { app: { canary: { image: CRASHING_IMAGE } } } });
    const selector = `${EXPERIMENT_LABEL}=${EXPERIMENT},${COMPONENT_LABEL}=app`;
    const crashing = await eventually('the canary app pod in CrashLoopBackOff', async () => {
      const pod = (await pods(selector)).find((candidate) => candidate.spec.containers[0]?.image === CRASHING_IMAGE);
      const status = pod?.status.containerStatuses?.[0];
      assert.equal(status?.state?.waiting?.reason, 'CrashLoopBackOff', `the canary pod is in CrashLoopBackOff (now ${JSON.stringify(status?.state)})`);
      assert.equal(status?.lastState?.terminated?.exitCode, 1);
      return { pod, status };
    }, { timeoutMs: 90_000, intervalMs: 1000 });
    // Read from the pod at once, not after the Deployment's progress deadline (ten minutes here).
    const degraded = await eventually('Degraded naming the crash loop', async () => {
      const experiment = JSON.parse(await kubectl(['get', 'smsx', EXPERIMENT, '-n', namespace, '-o', 'json'])) as { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } };
      const condition = experiment.status?.conditions?.find((c) => c.type === 'Degraded');
      assert.equal(condition?.status, 'True');
      assert.equal(condition?.reason, 'PodsFailing');
      assert.ok(
        condition?.message.includes(`Deployment ${names.appDeployment.canary}: container app of pod ${crashing.pod?.metadata.name ?? '?'} is in CrashLoopBackOff`),
        `the message names the canary Deployment, its pod and the crash loop: ${condition?.message}`,
      );
      return condition;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    process.stdout.write(`      (${crashing.pod?.metadata.name}: CrashLoopBackOff after ${crashing.status?.restartCount} restarts, exit code 1; Degraded ${degraded?.reason}: ${degraded?.message})\n`);
  });

  it('after the stop no containerd, shim, kubelet, kube-proxy, CoreDNS or pause process, bridge, mount or KUBE-* rule is left', async () => {
    assert.ok(cluster);
    const { controlPlane } = cluster;
    const listing = async () => (await run('ps', ['-eo', 'pid,ppid,args'])).stdout.split('\n').filter((line) => NODE_PROCESS.test(line));
    const beforeStop = await listing();
    const ours = beforeStop.filter((line) => line.includes(controlPlane.runDir) || / \/pause$/.test(line));
    assert.ok(ours.some((line) => line.includes('containerd-shim')) && ours.some((line) => / \/pause$/.test(line)), `shims and pause processes ran:\n${ours.join('\n')}`);
    const pids = ours.map((line) => Number(line.trim().split(/\s+/)[0]));
    for (const child of portForwards) child.kill();
    await operator?.stop();
    await controlPlane.stop();
    const afterStop = await listing();
    process.stdout.write(`      (node processes before the stop:\n${ours.map((line) => `        ${line.slice(0, 150)}`).join('\n')}\n       after it: ${afterStop.length === 0 ? 'none' : `\n${afterStop.join('\n')}`})\n`);
    const left = afterStop.filter((line) => line.includes(controlPlane.runDir) || pids.includes(Number(line.trim().split(/\s+/)[0])));
    assert.deepEqual(left, [], 'no process of the node is left');
    assert.notEqual(spawnSync('ip', ['link', 'show', realNode.bridge]).status, 0, `the bridge ${realNode.bridge} is gone`);
    const rules = (await run('iptables-save')).stdout.split('\n').filter((line) => line.includes('KUBE-') || line.includes(realNode.bridge));
    assert.deepEqual(rules, [], 'no KUBE-* rule and no guard rule is left');
    const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((line) => line.includes(controlPlane.runDir));
    assert.deepEqual(mounts, [], 'nothing stays mounted under the run folder');
  });
});
