// The model service as tests use it: trained models in a temporary directory (once per process) and
// the real service, `node src/model/main.ts`, as a child process on a free loopback port.
//
//   const modelsDir = await trainedModelsDir();
//   const model = await startModelService({ modelsDir, version: 'v1' });
//   await fetch(`${model.url}/predict`, ...);  await model.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../hack/cluster/control-plane.ts';
import { trainToDirectory } from '../../src/model/build-artifact.ts';
import { readDataset, sharedTrainingFile } from '../../src/model/dataset.ts';
import { MODEL_VERSIONS } from '../../src/model/presets.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(repositoryRoot, 'src/model/main.ts');
export const FIXTURE_CORPUS = path.join(repositoryRoot, 'test/fixtures/model/corpus.tsv');

let models: Promise<string> | undefined;

/** The labelled file tests train on: the shared SMS Spam Collection when present, else the small fixture corpus. */
export function trainingDataFile(): { file: string; shared: boolean } {
  const shared = sharedTrainingFile();
  return existsSync(shared) ? { file: shared, shared: true } : { file: FIXTURE_CORPUS, shared: false };
}

/** Trains v1 and v2 once per process into a temporary models directory and returns that directory. */
export function trainedModelsDir(): Promise<string> {
  models ??= (async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'sms-models-'));
    process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
    const { file, shared } = trainingDataFile();
    const dataset = await readDataset(file);
    for (const version of MODEL_VERSIONS) {
      await trainToDirectory({ dataset, version, seed: 42, created: new Date().toISOString(), modelsDirectory: directory, evaluate: false });
    }
    process.stdout.write(
      `      (model service: trained ${MODEL_VERSIONS.join(' and ')} on ${shared ? 'the shared SMS Spam Collection' : 'the fixture corpus, because the shared SMS Spam Collection is absent'}: ${file})\n`,
    );
    return directory;
  })();
  return models;
}

export interface ModelServiceOptions {
  modelsDir: string;
  /** The artifact under modelsDir (MODEL_VERSION), e.g. v1. */
  version: string;
  /** Defaults to a free port. */
  port?: number;
  /** Extra environment, e.g. { SHADOW_MODE: 'true' }; wins over the defaults. */
  env?: Record<string, string>;
  /** 'ready' (default): wait for /readyz 200; 'live': only for /healthz (e.g. a broken artifact). */
  waitFor?: 'ready' | 'live';
}

export interface RunningModelService {
  url: string;
  pid: number;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** Everything the service printed so far (JSON log lines). */
  logs(): string;
  /** Resolves with the exit code, or the signal name, when the process ends. */
  exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startModelService(options: ModelServiceOptions): Promise<RunningModelService> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      MODEL_PORT: String(port),
      MODEL_LISTEN_HOST: '127.0.0.1',
      MODEL_DIR: options.modelsDir,
      MODEL_VERSION: options.version,
      LOG_LEVEL: 'info',
      ...options.env,
    },
  });
  running.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  if (child.pid === undefined) throw new Error(`could not start ${MAIN}`);

  const service: RunningModelService = {
    url,
    pid: child.pid,
    exited,
    logs: () => output,
    kill: (signal = 'SIGKILL') => {
      if (alive()) child.kill(signal);
    },
    async stop() {
      if (!alive()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };

  const probe = options.waitFor === 'live' ? '/healthz' : '/readyz';
  const deadline = Date.now() + 30_000;
  let lastAnswer = 'no answer';
  for (;;) {
    if (!alive()) throw new Error(`model service exited (${String(await exited)}) while starting; output:\n${output}`);
    const response = await fetch(`${url}${probe}`).catch(() => undefined);
    if (response?.ok) return service;
    if (response) lastAnswer = `${response.status} ${await response.text()}`;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`model service not answering ${probe} after 30 s (last: ${lastAnswer}); output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
