// The built images run the way the rendered Deployments run them: numeric user 10001, read-only root
// filesystem, every capability dropped, no new privileges, only /tmp writable (a tmpfs standing in for
// the emptyDir), model artifacts mounted read-only at /models. Uses podman with runc; skipped, with
// the reason printed, where podman is missing or the images are not built (hack/images.sh builds them).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../hack/cluster/control-plane.ts';
import { MODEL_MOUNT_PATH, RUN_AS_ID } from '../../src/operator/render/workloads.ts';
import { createKubeClient } from '../../src/operator/kube/client.ts';
import { useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { trainedModelsDir } from '../support/model-service.ts';
import { OPERATOR_NAMESPACE, operatorKubeconfig } from '../support/operator.ts';
import { conditionOf, readExperiment } from '../support/owned-objects.ts';

const run = promisify(execFile);
const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const TAG = process.env.SMSX_IMAGE_TAG ?? '0.1.0';
const image = (name: string) => `ghcr.io/sms-experiment/${name}:${TAG}`;
// crun refuses hybrid cgroup set-ups; runc with explicit ulimits runs everywhere podman does.
const PODMAN = ['--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const RESTRICTED = [
  '--user', `${RUN_AS_ID}:${RUN_AS_ID}`,
  '--read-only', '--read-only-tmpfs=false', '--tmpfs', '/tmp:rw,size=256m,mode=1777',
  '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
  '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
  '--network', 'host',
];

function unavailableReason(): string | undefined {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed';
  if (process.getuid?.() !== 0) return 'podman runs containers here as root only';
  for (const name of ['model', 'app', 'operator']) {
    if (spawnSync('podman', [...PODMAN, 'image', 'exists', image(name)]).status !== 0) return `${image(name)} is not built (run hack/images.sh)`;
  }
  return undefined;
}

async function podman(args: string[]): Promise<string> {
  process.stdout.write(`      $ podman ${[...PODMAN, ...args].join(' ')}\n`);
  const { stdout } = await run('podman', [...PODMAN, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

const started: string[] = [];

/** Starts a detached container restricted like the rendered pods; returns its id. */
async function startContainer(name: string, options: string[], args: string[] = []): Promise<string> {
  const id = await podman(['run', '--detach', ...RESTRICTED, ...options, image(name), ...args]);
  started.push(id);
  return id;
}

/** SIGTERM, then the exit code and the logs. */
async function stopContainer(id: string): Promise<{ exitCode: number; logs: string }> {
  await podman(['kill', '--signal', 'TERM', id]);
  const exitCode = Number(await podman(['wait', id]));
  const logs = await podman(['logs', id]);
  return { exitCode, logs };
}

async function status(url: string): Promise<number> {
  return fetch(url).then((response) => response.status, () => 0);
}

/** Polls /readyz until 200; a container that exits first fails at once, with its logs. */
async function waitReady(id: string, url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await status(`${url}/readyz`)) === 200) return;
    const { stdout } = await run('podman', [...PODMAN, 'inspect', '--format', '{{.State.Running}}', id]);
    if (stdout.trim() !== 'true') {
      const logs = await run('podman', [...PODMAN, 'logs', id]).then((output) => output.stdout + output.stderr);
      assert.fail(`container ${id.slice(0, 12)} exited before ${url}/readyz answered 200:\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${url}/readyz did not answer 200 within 60 s`);
}

describe('the built images, run as the cluster runs them', function () {
  this.timeout(120_000);
  let modelsCopy = '';

  before(async function () {
    const reason = unavailableReason();
    if (reason) {
      process.stdout.write(`      (images: skipped because ${reason})\n`);
      this.skip();
    }
    // The trained models, readable by uid 10001 (the training directory is private to root).
    modelsCopy = await mkdtemp(path.join(tmpdir(), 'sms-image-models-'));
    await cp(await trainedModelsDir(), modelsCopy, { recursive: true });
    await run('chmod', ['-R', 'a+rX', modelsCopy]);
    await chmod(modelsCopy, 0o755);
  });

  after(async () => {
    for (const id of started) await run('podman', [...PODMAN, 'rm', '--force', id]).catch(() => undefined);
    if (modelsCopy) await rm(modelsCopy, { recursive: true, force: true });
  });

  async function startModel(): Promise<{ id: string; url: string }> {
    const port = await freePort();
    const id = await startContainer('model', [
      '--volume', `${modelsCopy}:${MODEL_MOUNT_PATH}:ro`,
      '--env', `MODEL_PORT=${port}`, '--env', `MODEL_DIR=${MODEL_MOUNT_PATH}`,
      '--env', 'MODEL_VERSION=v1', '--env', `MODEL_PATH=${MODEL_MOUNT_PATH}/v1`, '--env', 'SHADOW_MODE=false',
    ]);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(id, url);
    return { id, url };
  }

  it('the model image reads its artifact from the read-only /models, answers /predict and drains on SIGTERM', async () => {
    const model = await startModel();
    const response = await fetch(`${model.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: 'WINNER! Claim your free prize now, call 09061701461' }) });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { result?: unknown; modelVersion?: unknown };
    assert.ok(answer.result === 'spam' || answer.result === 'ham', JSON.stringify(answer));
    assert.equal(answer.modelVersion, 'v1');
    const stopped = await stopContainer(model.id);
    assert.equal(stopped.exitCode, 0, stopped.logs);
    assert.match(stopped.logs, /Stopped model service/);
  });

  it('the app image, pointed at the model container, serves the page and answers POST /sms', async () => {
    const model = await startModel();
    const port = await freePort();
    const app = await startContainer('app', ['--env', `APP_SERVER_PORT=${port}`, '--env', `MODEL_HOST=${model.url}`, '--env', 'APP_VERSION=v1']);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(app, url);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const response = await fetch(`${url}/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: 'Are we still meeting for lunch today?' }) });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { result?: unknown };
    assert.ok(answer.result === 'spam' || answer.result === 'ham', JSON.stringify(answer));
    const stopped = await stopContainer(app);
    assert.equal(stopped.exitCode, 0, stopped.logs);
    await stopContainer(model.id);
  });

  it('the operator image starts under the same restrictions and prints its usage', async () => {
    const output = await podman(['run', '--rm', ...RESTRICTED, image('operator'), '--help']);
    assert.match(output, /usage|--/i);
  });
});

describe('the operator image against the local control plane', function () {
  this.timeout(180_000);
  let kubeconfigDir = '';

  before(function () {
    const reason = unavailableReason();
    if (reason) {
      process.stdout.write(`      (operator image: skipped because ${reason})\n`);
      this.skip();
    }
  });

  after(async () => {
    if (kubeconfigDir) await rm(kubeconfigDir, { recursive: true, force: true });
  });

  it('reconciles the canary sample to Ready with the operator\'s ServiceAccount and exits 0 on SIGTERM', async () => {
    const cluster = await useCluster();
    await installCrd(cluster);
    const client = createKubeClient(cluster.kubeConfig);
    // The ServiceAccount's kubeconfig, readable by uid 10001 and mounted read-only.
    kubeconfigDir = await mkdtemp(path.join(tmpdir(), 'sms-image-kubeconfig-'));
    await chmod(kubeconfigDir, 0o755);
    await copyFile(await operatorKubeconfig(cluster), path.join(kubeconfigDir, 'kubeconfig'));
    await chmod(path.join(kubeconfigDir, 'kubeconfig'), 0o644);
    const namespace = await cluster.createNamespace('image');
    const port = await freePort();
    const id = await startContainer('operator', ['--volume', `${kubeconfigDir}:/kube:ro`], [
      '--kubeconfig', '/kube/kubeconfig', '--namespaces', namespace,
      '--metrics-bind-address', '127.0.0.1', '--metrics-port', String(port),
      '--leader-election-namespace', OPERATOR_NAMESPACE, '--leader-election-identity', `image-${namespace}`,
    ]);
    await waitReady(id, `http://127.0.0.1:${port}`);
    const applied = await cluster.kubectl(['apply', '-n', namespace, '-f', path.join(repositoryRoot, 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    await eventually('the canary sample to be Ready', async () => {
      const experiment = await readExperiment(client, namespace, 'sms-app');
      assert.equal(experiment?.status?.observedGeneration, experiment?.metadata.generation);
      assert.equal(conditionOf(experiment, 'Ready')?.status, 'True', JSON.stringify(experiment?.status));
    }, { timeoutMs: 90_000 });
    const stopped = await stopContainer(id);
    assert.equal(stopped.exitCode, 0, stopped.logs);
  });
});
