// The real app, `node src/app/main.ts`, as a child process on a fixed loopback port (so a
// restart keeps its scrape target), in front of a model service URL.
//
//   const app = await startAppProcess({ version: 'v2', modelUrl: model.url });
//   await app.restart();  await app.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../hack/cluster/control-plane.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/app/main.ts');

export interface AppProcessOptions {
  version: string;
  modelUrl: string;
  /** Defaults to a free port, kept across restarts. */
  port?: number;
  /** Extra environment; wins over the defaults (which turn the cache off: every request calls the model). */
  env?: Record<string, string>;
}

export interface RunningAppProcess {
  readonly url: string;
  readonly port: number;
  /** host:port, as a scrape target. */
  readonly address: string;
  /** SIGTERM and wait, then a new process on the same port (its counters start again at 0). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Everything the current and earlier processes printed. */
  logs(): string;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function startAppProcess(options: AppProcessOptions): Promise<RunningAppProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const started = spawn(process.execPath, [MAIN], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        APP_SERVER_PORT: String(port),
        APP_VERSION: options.version,
        MODEL_HOST: options.modelUrl,
        CACHE_POLICY: 'none',
        LOG_LEVEL: 'error',
        SHUTDOWN_TIMEOUT_MS: '2000',
        ...options.env,
      },
    });
    child = started;
    children.add(started);
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    started.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    exited = new Promise<void>((resolve) =>
      started.once('exit', () => {
        children.delete(started);
        resolve();
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`app ${options.version} exited (${started.exitCode}) while starting:\n${output}`);
      const answer = await fetch(`${url}/healthz`).catch(() => undefined);
      if (answer?.ok) return;
      if (Date.now() > deadline) throw new Error(`app ${options.version} not answering /healthz after 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(): Promise<void> {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const timer = setTimeout(() => current.kill('SIGKILL'), 10_000);
    current.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    url,
    port,
    address: `127.0.0.1:${port}`,
    async restart() {
      await stop();
      await start();
    },
    stop,
    logs: () => output,
  };
}
