// Benchmark: POST /sms under load (autocannon) against the app and the real model service on
// loopback, each in its own process as in a cluster. Two runs:
//   all hits   one message, answered from the cache after the first request
//   no hits    a different message every request: every request goes to the model
// Prints requests/s, latency p50/p99, errors, the app's own counters as a cross-check, and the CPU
// time the app and the model processes spent per request (from /proc), which other load on the
// machine does not distort the way it distorts requests/s.
// Usage: node bench/app-load.ts [seconds per run, default 10] [connections, default 20]
// Figures are reported, never asserted (target: at least 5,000 requests/s with all hits).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { startModelService, trainedModelsDir } from '../test/support/model-service.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 20);
const MAIN = path.resolve(import.meta.dirname, '../src/app/main.ts');
const HEADERS = { 'content-type': 'application/json' };
const REPEATED = JSON.stringify({ sms: 'WINNER!! You have been chosen for a £900 cash prize. To claim, call 09050001234 now.', guess: 'spam' });

// Linux reports process CPU time in clock ticks of 10 ms (USER_HZ is 100 on every mainstream kernel).
const MS_PER_TICK = 10;

/** User + system CPU milliseconds a process has used so far, or NaN where /proc is not available. */
function cpuMs(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return Number.NaN;
  }
}

async function startApp(modelUrl: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH ?? '', MODEL_HOST: modelUrl, APP_SERVER_PORT: '0', APP_VERSION: 'v1', LOG_LEVEL: 'info' },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // The app logs nothing per request, so info costs nothing under load and says which port it took.
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = output.split('\n').find((candidate) => candidate.includes('"msg":"Started app"'));
      if (line !== undefined) {
        clearInterval(timer);
        resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      }
    }, 20);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`app exited while starting:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function counter(appUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${appUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{version="v1"} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

interface RunFigures {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  hits: number;
  modelCalls: number;
  appCpuUsPerRequest: number;
  modelCpuUsPerRequest: number;
}

async function run(name: string, target: { url: string; pid: number; modelPid: number }, options: Partial<autocannon.Options>): Promise<RunFigures> {
  const appUrl = target.url;
  const hitsBefore = await counter(appUrl, 'sms_cache_hits_total');
  const callsBefore = await counter(appUrl, 'sms_model_calls_total');
  const [appCpuBefore, modelCpuBefore] = [cpuMs(target.pid), cpuMs(target.modelPid)];
  const result = await autocannon({ url: `${appUrl}/sms`, method: 'POST', headers: HEADERS, connections: CONNECTIONS, duration: SECONDS, ...options });
  const [appCpu, modelCpu] = [cpuMs(target.pid) - appCpuBefore, cpuMs(target.modelPid) - modelCpuBefore];
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    hits: (await counter(appUrl, 'sms_cache_hits_total')) - hitsBefore,
    modelCalls: (await counter(appUrl, 'sms_model_calls_total')) - callsBefore,
    appCpuUsPerRequest: (appCpu * 1000) / result.requests.total,
    modelCpuUsPerRequest: (modelCpu * 1000) / result.requests.total,
  };
}

const model = await startModelService({ modelsDir: await trainedModelsDir(), version: 'v1', env: { LOG_LEVEL: 'warn' } });
const app = await startApp(model.url);
const target = { url: app.url, pid: app.pid, modelPid: model.pid };
try {
  // Warm-up: JIT, keep-alive pools, and the one cached answer of the all-hits run.
  await run('warm-up', target, { duration: 2, body: REPEATED });

  const figures: RunFigures[] = [];
  figures.push(await run('all cache hits', target, { body: REPEATED }));
  let sequence = 0;
  figures.push(
    await run('no cache hits', target, {
      requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ sms: `Are we still meeting at ${sequence++} o'clock by the station?` }) }) }],
    }),
  );

  process.stdout.write(`\nPOST /sms, ${CONNECTIONS} connections, ${SECONDS} s per run, app and model on loopback (${process.platform}, Node ${process.version})\n\n`);
  const columns: Array<[string, number, (row: RunFigures) => string]> = [
    ['run', -16, (row) => row.name],
    ['req/s', 8, (row) => row.requestsPerSecond.toFixed(0)],
    ['p50 ms', 8, (row) => String(row.p50)],
    ['p99 ms', 8, (row) => String(row.p99)],
    ['errors', 8, (row) => String(row.errors + row.non2xx)],
    ['cache hits', 12, (row) => String(row.hits)],
    ['model calls', 13, (row) => String(row.modelCalls)],
    ['app CPU µs/req', 16, (row) => row.appCpuUsPerRequest.toFixed(0)],
    ['model CPU µs/req', 18, (row) => row.modelCpuUsPerRequest.toFixed(0)],
  ];
  const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
  process.stdout.write(`${columns.map(([title, width]) => cell(title, width)).join('')}\n`);
  for (const row of figures) process.stdout.write(`${columns.map(([, width, value]) => cell(value(row), width)).join('')}\n`);
  const hits = figures[0];
  if (hits !== undefined) {
    process.stdout.write(`\nOne core spent on the app alone would answer about ${(1e6 / hits.appCpuUsPerRequest).toFixed(0)} cached requests/s (app CPU per request).\n`);
  }
} finally {
  await app.stop();
  await model.stop();
}
