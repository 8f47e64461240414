// The app as Kubernetes runs it: `node src/app/main.ts` with its environment, in front of the real
// model service. Bad configuration ends it with exit code 1 and a message naming the variable;
// SIGTERM lets a request in flight finish before it exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startModelService, trainedModelsDir } from '../support/model-service.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/app/main.ts');

interface AppProcess {
  url: string;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/** Starts the app; with APP_SERVER_PORT=0 it picks a free port and its "Started app" line says which. */
function spawnApp(env: Record<string, string>): { process: AppProcess; started: Promise<AppProcess> } {
  const child = spawn(process.execPath, [MAIN], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const app: AppProcess = {
    url: '',
    pid: child.pid ?? 0,
    exited,
    output: () => output,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  const started = new Promise<AppProcess>((resolve, reject) => {
    const onData = (chunk: string) => {
      output += chunk;
      const line = output.split('\n').find((candidate) => candidate.includes('"msg":"Started app"'));
      if (line !== undefined) resolve({ ...app, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    void exited.then(({ code, signal }) => reject(new Error(`app exited (${code ?? signal}) before it started:\n${output}`)));
  });
  started.catch(() => undefined);
  process.once('exit', () => child.kill('SIGKILL'));
  return { process: app, started };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('app process (node src/app/main.ts)', function () {
  this.timeout(60_000);

  const invalid: Array<[string, Record<string, string>, string]> = [
    ['MODEL_HOST is missing', {}, 'Invalid configuration:\n  - MODEL_HOST: is not set; set it to the model service URL (e.g. http://sms-app-model:8081) or host name\n'],
    ['APP_SERVER_PORT is not a port', { MODEL_HOST: 'http://model:8081', APP_SERVER_PORT: 'eighty' }, 'Invalid configuration:\n  - APP_SERVER_PORT: "eighty" must be a whole number from 0 to 65535\n'],
    ['CACHE_POLICY is unknown', { MODEL_HOST: 'model', CACHE_POLICY: 'random' }, 'Invalid configuration:\n  - CACHE_POLICY: "random" is not one of lru, fifo, none\n'],
  ];
  for (const [name, env, message] of invalid) {
    it(`exits 1 with one message when ${name}`, async () => {
      const { process: app } = spawnApp(env);
      const { code } = await app.exited;
      assert.equal(code, 1);
      assert.equal(app.output(), message);
    });
  }

  it('serves the page and API on APP_SERVER_PORT, logs JSON, and on SIGTERM finishes the request in flight before exiting 0', async () => {
    const modelsDir = await trainedModelsDir();
    const model = await startModelService({ modelsDir, version: 'v2' });
    const { process: spawned, started } = spawnApp({ MODEL_HOST: model.url, APP_SERVER_PORT: '0', APP_VERSION: 'v2', MODEL_TIMEOUT_MS: '10000' });
    try {
      const app = await started;
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${app.url}/readyz`)).status, 200);
      const page = await fetch(`${app.url}/`);
      assert.match(await page.text(), /<strong id="app-version">v2<\/strong>/);
      const answer = await fetch(`${app.url}/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: 'Free entry in 2 a wkly comp to win FA Cup final tkts. Text FA to 87121' }) });
      const body = (await answer.json()) as Record<string, unknown>;
      assert.deepEqual([body.result, body.appVersion, body.modelVersion, body.cached], ['spam', 'v2', 'v2', false]);

      // Freeze the model so a request stays in flight, then ask the app to stop.
      model.kill('SIGSTOP');
      const inFlight = fetch(`${app.url}/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms: 'See you at 6 by the library' }) });
      await until(async () => (await (await fetch(`${app.url}/metrics`)).text()).includes('sms_active_requests{version="v2"} 1'), 'the request is in flight');
      app.kill('SIGTERM');
      await until(() => Promise.resolve(app.output().includes('"msg":"Received signal, finishing requests in flight"')), 'the app took the signal');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await assert.rejects(fetch(`${app.url}/healthz`), 'the listener is closed: no new connections');
      const stillRunning = await Promise.race([app.exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('running'), 200))]);
      assert.equal(stillRunning, 'running', 'the app waits for the request in flight');

      model.kill('SIGCONT');
      const finished = await inFlight;
      assert.equal(finished.status, 200);
      assert.equal(((await finished.json()) as { result: string }).result, 'ham');
      assert.deepEqual(await app.exited, { code: 0, signal: null });

      const lines = app.output().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; level: string; version: string });
      assert.deepEqual(lines.map((line) => line.msg), ['Started app', 'Received signal, finishing requests in flight', 'Stopped app']);
      assert.ok(lines.every((line) => line.version === 'v2' && line.level === 'info'));
    } finally {
      spawned.kill('SIGKILL');
      // The model's own graceful stop is not under test here.
      model.kill('SIGKILL');
      await model.exited;
    }
  });
});
