// The model service as it runs in a pod: `node src/model/main.ts` as a child process, configured by
// environment, on a loopback port (test/support/model-service.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { METADATA_FILE, MODEL_FILE } from '../../src/model/artifact.ts';
import { eventually } from '../support/eventually.ts';
import { startModelService, trainedModelsDir, type RunningModelService } from '../support/model-service.ts';
import { sumSamples } from '../support/operator.ts';

const SPAM = 'WINNER! Claim your £900 cash prize, call 09061790121 now';
const HAM = 'are you coming to dinner tonight?';
const MAIN = path.resolve(import.meta.dirname, '../../src/model/main.ts');

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** POST /predict with node:http, which (unlike fetch) may set the Host header. */
function predict(url: string, sms: string, host?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ sms });
    const target = new URL('/predict', url);
    const outgoing = request(target, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(host ? { host } : {}) } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const metricsOf = async (service: RunningModelService) => (await fetch(`${service.url}/metrics`)).text();
const logLines = (service: RunningModelService) =>
  service
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('model service process', function () {
  this.timeout(60_000);
  let modelsDir: string;
  let scratch: string;
  const services: RunningModelService[] = [];
  const start = async (options: Omit<Parameters<typeof startModelService>[0], 'modelsDir'> & { modelsDir?: string }) => {
    const service = await startModelService({ modelsDir, ...options });
    services.push(service);
    return service;
  };

  before(async () => {
    modelsDir = await trainedModelsDir();
    scratch = await mkdtemp(path.join(tmpdir(), 'sms-model-service-test-'));
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const service of services) console.log(`----- model service ${service.pid} -----\n${service.logs()}`);
    await Promise.all(services.splice(0).map((service) => service.stop()));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('serves predictions of both versions, ready and with metrics after traffic', async () => {
    const v1 = await start({ version: 'v1' });
    const v2 = await start({ version: 'v2' });
    assert.deepEqual(await (await fetch(`${v1.url}/readyz`)).json(), { status: 'ready', modelVersion: 'v1' });

    const spam = await predict(v1.url, SPAM);
    assert.equal(spam.status, 200);
    assert.equal(spam.body.result, 'spam');
    assert.equal(spam.body.modelVersion, 'v1');
    assert.equal(spam.body.classifier, 'naive-bayes');
    const ham = await predict(v1.url, HAM);
    assert.equal(ham.body.result, 'ham');
    const fromV2 = await predict(v2.url, HAM);
    assert.equal(fromV2.body.modelVersion, 'v2');
    assert.notEqual(fromV2.body.spamProbability, ham.body.spamProbability);

    const text = await metricsOf(v1);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { version: 'v1', source: 'live' }), 2);
    assert.equal(sumSamples(text, 'sms_model_inference_seconds_count', { version: 'v1' }), 2);
    assert.equal(sumSamples(text, 'sms_model_inflight_requests', { version: 'v1' }), 0);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.equal(sumSamples(await metricsOf(v2), 'sms_model_predictions_total', { version: 'v2', source: 'live' }), 1);
  });

  it('labels mirrored requests (Host name-shadow or name-shadow:port) and SHADOW_MODE traffic as shadow', async () => {
    const live = await start({ version: 'v1' });
    await predict(live.url, HAM, 'sms-app-model-shadow:8081');
    await predict(live.url, HAM, 'sms-app-model-shadow');
    await predict(live.url, HAM, 'sms-app-model:8081');
    let text = await metricsOf(live);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { source: 'shadow' }), 2);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { source: 'live' }), 1);

    const shadow = await start({ version: 'v2', env: { SHADOW_MODE: 'true' } });
    await predict(shadow.url, HAM, 'sms-app-model:8081');
    text = await metricsOf(shadow);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { version: 'v2', source: 'shadow' }), 1);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { source: 'live' }), 0);
  });

  it('refuses bad input over real HTTP, reading the body from Node directly', async () => {
    const service = await start({ version: 'v1' });
    const post = async (body: string | undefined, headers: Record<string, string>) => {
      const response = await fetch(`${service.url}/predict`, { method: 'POST', headers, body });
      return { status: response.status, body: (await response.json()) as { error?: string; result?: string } };
    };
    const json = { 'content-type': 'application/json' };
    assert.deepEqual(await post('{"sms":', json), { status: 400, body: { error: 'request body is not valid JSON' } });
    assert.deepEqual(await post('{"sms":""}', json), { status: 400, body: { error: '"sms" must not be empty' } });
    assert.deepEqual(await post('{"sms":"hi"}', { 'content-type': 'text/html' }), { status: 415, body: { error: 'Content-Type must be application/json, got "text/html"' } });
    assert.deepEqual(await post(JSON.stringify({ sms: 'a'.repeat(20_000) }), json), { status: 413, body: { error: 'request body is larger than 10240 bytes' } });
    // Chunked, no Content-Length: the limit is enforced while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const outgoing = request(new URL('/predict', service.url), { method: 'POST', headers: json }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      for (let index = 0; index < 6; index += 1) outgoing.write(`{"sms":"${'b'.repeat(2048)}`);
      outgoing.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await post(JSON.stringify({ sms: HAM }), json)).body.result, 'ham');
  });

  it('loads MODEL_PATH rather than MODEL_DIR/MODEL_VERSION, as the operator sets both', async () => {
    const service = await start({ version: 'v1', env: { MODEL_DIR: '/models', MODEL_PATH: path.join(modelsDir, 'v2') } });
    assert.equal((await predict(service.url, HAM)).body.modelVersion, 'v2');
  });

  for (const [name, damage, expected] of [
    ['a corrupt model file', async (dir: string) => writeFile(path.join(dir, MODEL_FILE), (await readFile(path.join(dir, MODEL_FILE), 'utf8')).slice(0, 1000)), /model\.json is corrupt: sha256 .* does not match/],
    [
      'an unknown format version',
      async (dir: string) => {
        const metadata = JSON.parse(await readFile(path.join(dir, METADATA_FILE), 'utf8')) as Record<string, unknown>;
        await writeFile(path.join(dir, METADATA_FILE), JSON.stringify({ ...metadata, formatVersion: 7 }));
      },
      /metadata\.json has unknown format version 7 \(this service reads format version 1\)/,
    ],
  ] as const) {
    it(`is never ready with ${name}, and says so in exactly one log line`, async () => {
      const artifact = path.join(scratch, name.replaceAll(' ', '-'));
      await cp(path.join(modelsDir, 'v1'), artifact, { recursive: true });
      await damage(artifact);
      const service = await start({ version: 'v1', env: { MODEL_PATH: artifact }, waitFor: 'live' });
      await eventually('the load failure to show in /readyz', async () => {
        const readiness = await fetch(`${service.url}/readyz`);
        assert.equal(readiness.status, 503);
        assert.match(((await readiness.json()) as { reason: string }).reason, expected);
      }, { timeoutMs: 10_000 });
      const answer = await predict(service.url, HAM);
      assert.equal(answer.status, 503);
      assert.match(String(answer.body.error), /^model failed to load: /);
      const problems = logLines(service).filter((line) => line.level !== 'info');
      assert.equal(problems.length, 1, service.logs());
      assert.equal(problems[0]?.level, 'error');
      assert.match(problems[0]?.msg ?? '', expected);
    });
  }

  it('waits for a missing artifact and becomes ready when it appears', async () => {
    const models = path.join(scratch, 'late');
    await mkdir(models, { recursive: true });
    const service = await start({ version: 'v2', modelsDir: models, waitFor: 'live', env: { MODEL_RETRY_SECONDS: '0.5' } });
    await eventually('the missing artifact to show in /readyz', async () => {
      const waiting = await fetch(`${service.url}/readyz`);
      assert.equal(waiting.status, 503);
      assert.match(((await waiting.json()) as { reason: string }).reason, /late\/v2 does not exist and MODEL_URL is not set/);
    }, { timeoutMs: 10_000 });
    await cp(path.join(modelsDir, 'v2'), path.join(models, 'v2.partial'), { recursive: true });
    await rename(path.join(models, 'v2.partial'), path.join(models, 'v2'));
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${service.url}/readyz`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'not ready 15 s after the artifact appeared');
      await sleep(200);
    }
    assert.equal((await predict(service.url, SPAM)).body.result, 'spam');
    assert.equal(logLines(service).filter((line) => line.level === 'warn').length, 1, 'the wait is logged once');
  });

  it('fetches a missing artifact from MODEL_URL', async () => {
    const requested: string[] = [];
    const server: Server = createServer((incoming, outgoing) => {
      requested.push(incoming.url ?? '');
      const match = /^\/models\/(v[12])\/(model\.json|metadata\.json)$/.exec(incoming.url ?? '');
      if (!match) {
        outgoing.writeHead(404).end();
        return;
      }
      readFile(path.join(modelsDir, match[1] ?? '', match[2] ?? '')).then(
        (bytes) => outgoing.writeHead(200, { 'content-type': 'application/json' }).end(bytes),
        () => outgoing.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
      const service = await start({ version: 'v2', modelsDir: path.join(scratch, 'empty'), env: { MODEL_URL: base } });
      assert.equal((await predict(service.url, HAM)).body.modelVersion, 'v2');
      assert.deepEqual(requested.sort(), ['/models/v2/metadata.json', '/models/v2/model.json']);

      const absent = await start({ version: 'v9', modelsDir: path.join(scratch, 'empty'), env: { MODEL_URL: base }, waitFor: 'live' });
      // Live is not loaded: the fetch may still be on its way ("reading ..."), so wait for its outcome.
      await eventually('the failed fetch to show in /readyz', async () => {
        const readiness = await fetch(`${absent.url}/readyz`);
        assert.equal(readiness.status, 503);
        assert.match(((await readiness.json()) as { reason: string }).reason, /\/models\/v9\/metadata\.json answered 404 Not Found/);
      }, { timeoutMs: 10_000 });
    } finally {
      server.close();
    }
  });

  it('lets a request in flight finish on SIGTERM, then exits 0', async () => {
    const service = await start({ version: 'v1' });
    const body = JSON.stringify({ sms: SPAM });
    let finishBody = () => {};
    const answer = new Promise<Answer>((resolve, reject) => {
      const outgoing = request(new URL('/predict', service.url), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      outgoing.on('error', reject);
      outgoing.write(body.slice(0, 10));
      finishBody = () => outgoing.end(body.slice(10));
    });
    const deadline = Date.now() + 10_000;
    while (sumSamples(await metricsOf(service), 'sms_model_inflight_requests', { version: 'v1' }) !== 1) {
      assert.ok(Date.now() < deadline, 'the request never showed as in flight');
      await sleep(20);
    }
    service.kill('SIGTERM');
    await sleep(300);
    // Draining: new connections are refused while the request in flight is still being read.
    await assert.rejects(fetch(`${service.url}/healthz`));
    finishBody();
    const result = await answer;
    assert.equal(result.status, 200);
    assert.equal(result.body.result, 'spam');
    assert.equal(await service.exited, 0);
    assert.ok(logLines(service).some((line) => line.msg === 'Stopped model service'));
  });

  it('refuses invalid configuration with one clear message and exit code 1', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, [MAIN], { env: { ...process.env, MODEL_PORT: 'eighty', SHADOW_MODE: 'maybe' } }).then(
      () => assert.fail('started with an invalid configuration'),
      (error: unknown) => error as { code: number; stderr: string; stdout: string },
    );
    assert.equal(failure.code, 1);
    assert.equal(failure.stdout, '');
    assert.equal(failure.stderr, 'Invalid model service configuration:\n  - MODEL_PORT must be a port number\n  - SHADOW_MODE must be "true" or "false"\n');
  });
});
