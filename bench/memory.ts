// What the benchmarks read about a process's memory, measured rather than guessed:
//  - a cgroup-v1 memory group (we run as root on the benchmark machine) with the limit of the
//    operator's container in config/manager/manager.yaml, and a launcher that puts a process into it
//    before exec'ing it, so Node sizes its heap from that limit as in a pod and an OOM kill is counted
//    by the kernel (memory.oom_control), not inferred;
//  - VmRSS / VmHWM of a process (/proc/<pid>/status);
//  - the V8 heap after a forced full GC, through the inspector: the operator runs with
//    --inspect-port (which opens nothing), SIGUSR1 starts the inspector when the figure is wanted, and
//    HeapProfiler.collectGarbage + Runtime.evaluate(process.memoryUsage()) run over its WebSocket
//    (Node 24's global WebSocket). --expose-gc would change the process under test; this does not,
//    until the moment of measuring. A heap snapshot can be written the same way.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

const CGROUP_MEMORY_ROOT = '/sys/fs/cgroup/memory';
const MiB = 1024 * 1024;

const repositoryRoot = path.resolve(import.meta.dirname, '..');

/** Kubernetes quantity (512Mi, 1Gi, 500M, 1e9) in bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!match) throw new Error(`Not a memory quantity: ${quantity}`);
  const factors: Record<string, number> = { Ki: 1024, Mi: MiB, Gi: 1024 * MiB, Ti: 1024 * 1024 * MiB, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(match[1]) * (match[2] ? (factors[match[2]] ?? 1) : 1));
}

export interface ManagerContainer {
  /** resources.limits.memory in bytes. */
  memoryLimitBytes: number;
  memoryLimit: string;
  /** The container's env entries with a literal value (e.g. NODE_OPTIONS). */
  env: Record<string, string>;
}

/** The operator container of config/manager/manager.yaml: its memory limit and literal env values. */
export async function managerContainer(file = path.join(repositoryRoot, 'config/manager/manager.yaml')): Promise<ManagerContainer> {
  const manifest = parse(await readFile(file, 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }>; resources?: { limits?: { memory?: string } } }> } } };
  };
  const container = manifest.spec.template.spec.containers.find((candidate) => candidate.name === 'manager');
  const memoryLimit = container?.resources?.limits?.memory;
  if (!container || memoryLimit === undefined) throw new Error(`${file}: no manager container with a memory limit`);
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) if (entry.value !== undefined) env[entry.name] = entry.value;
  return { memoryLimit, memoryLimitBytes: quantityBytes(memoryLimit), env };
}

export interface MemoryCgroup {
  readonly path: string;
  readonly limitBytes: number;
  /** Prefix for a command: it joins the group, then execs the rest (the pid is the command's). */
  readonly launcher: readonly string[];
  /** memory.max_usage_in_bytes: the group's peak charge (RSS plus page cache it caused). */
  maxUsageBytes(): Promise<number>;
  usageBytes(): Promise<number>;
  /** oom_kill of memory.oom_control: processes the kernel killed for this group's limit. */
  oomKills(): Promise<number>;
  /** Sets the hard limit, e.g. lifts it before a heap snapshot, which needs memory of its own. */
  setLimit(bytes: number): Promise<void>;
  /** Removes the group (it must be empty: the processes in it ended). */
  remove(): Promise<void>;
}

/** Creates (or reuses) a cgroup-v1 memory group with a hard limit. Needs root and cgroup v1. */
export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const group = path.join(CGROUP_MEMORY_ROOT, name);
  await mkdir(group, { recursive: true });
  await writeFile(path.join(group, 'memory.limit_in_bytes'), String(limitBytes));
  // A reused group keeps its old peak; 0 resets it.
  await writeFile(path.join(group, 'memory.max_usage_in_bytes'), '0').catch(() => undefined);
  const readNumber = async (file: string) => Number((await readFile(path.join(group, file), 'utf8')).trim());
  const procs = path.join(group, 'cgroup.procs');
  return {
    path: group,
    limitBytes,
    launcher: ['sh', '-c', `echo $$ > ${procs} && exec "$@"`, 'sh'],
    maxUsageBytes: () => readNumber('memory.max_usage_in_bytes'),
    usageBytes: () => readNumber('memory.usage_in_bytes'),
    async oomKills() {
      const text = await readFile(path.join(group, 'memory.oom_control'), 'utf8');
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
    },
    async setLimit(bytes) {
      await writeFile(path.join(group, 'memory.limit_in_bytes'), String(bytes));
    },
    async remove() {
      await rmdir(group).catch(() => undefined);
    },
  };
}

export interface ProcessMemory {
  rssBytes: number;
  peakRssBytes: number;
  /** RssAnon: heap and stacks of every kind (V8's pages, malloc arenas, buffers). */
  anonBytes: number;
  /** RssFile: mapped files, mostly the node binary's own pages. */
  fileBytes: number;
}

/** VmRSS (now), VmHWM (peak so far) and RSS by kind of a process, in bytes; undefined once it has exited. */
export async function processMemory(pid: number | undefined): Promise<ProcessMemory | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN') * 1024;
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), anonBytes: kib('RssAnon'), fileBytes: kib('RssFile') };
}

/**
 * RSS by mapping from /proc/<pid>/smaps, largest first: "[heap]" is glibc's main malloc arena,
 * "(anonymous)" every unnamed mapping (V8's heap pages, other threads' malloc arenas, large buffers).
 */
export async function rssByMapping(pid: number | undefined): Promise<Array<{ mapping: string; rssBytes: number; regions: number }>> {
  if (pid === undefined) return [];
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8').catch(() => '');
  const totals = new Map<string, { rssBytes: number; regions: number }>();
  let mapping = '';
  for (const line of smaps.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      mapping = header[1] || '(anonymous)';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const total = totals.get(mapping) ?? { rssBytes: 0, regions: 0 };
      total.rssBytes += Number(rss[1]) * 1024;
      total.regions += 1;
      totals.set(mapping, total);
    }
  }
  return [...totals].map(([name, total]) => ({ mapping: name, ...total })).sort((a, b) => b.rssBytes - a.rssBytes);
}

export const mib = (bytes: number): string => (bytes / MiB).toFixed(0);

export interface HeapFigures {
  /** process.memoryUsage() after the forced GC. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  rssBytes: number;
  /** v8.getHeapStatistics().heap_size_limit: the heap the process may grow to. */
  heapLimitBytes: number;
}

type InspectorMessage = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string } };

/** One inspector session over the DevTools protocol, on Node's global WebSocket. */
class InspectorSession {
  readonly #socket: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  readonly #listeners = new Map<string, (params: Record<string, unknown>) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event: MessageEvent) => {
      const message = JSON.parse(String(event.data)) as InspectorMessage;
      if (message.id !== undefined) {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result ?? {});
      } else if (message.method) {
        this.#listeners.get(message.method)?.(message.params ?? {});
      }
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`inspector WebSocket ${url} failed`)), { once: true });
    });
    return new InspectorSession(socket);
  }

  on(method: string, listener: (params: Record<string, unknown>) => void): void {
    this.#listeners.set(method, listener);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send('Runtime.evaluate', { expression, returnByValue: true });
    return (result.result as { value: T }).value;
  }

  close(): void {
    this.#socket.close();
  }
}

/** The inspector of a process started with --inspect-port=host:port: SIGUSR1 opens it, then a session. */
async function openInspector(pid: number, port: number): Promise<InspectorSession> {
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const targets = await fetch(`http://127.0.0.1:${port}/json/list`)
      .then((response) => response.json() as Promise<Array<{ webSocketDebuggerUrl?: string }>>)
      .catch(() => undefined);
    const url = targets?.[0]?.webSocketDebuggerUrl;
    if (url) return InspectorSession.open(url);
    if (Date.now() > deadline) throw new Error(`no inspector on port ${port} after SIGUSR1 to ${pid}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Forces a full GC in the process (twice: weak references and finalizers need a second pass) and
 * reads its memory; with `snapshotFile`, also writes a heap snapshot there.
 */
export async function heapAfterGc(pid: number, port: number, snapshotFile?: string): Promise<HeapFigures> {
  const session = await openInspector(pid, port);
  try {
    await session.send('HeapProfiler.enable');
    await session.send('HeapProfiler.collectGarbage');
    await session.send('HeapProfiler.collectGarbage');
    // Evaluated in the process's global scope, where `require` is absent in an ES module: getBuiltinModule.
    const usage = JSON.parse(await session.evaluate<string>('JSON.stringify(process.memoryUsage())')) as Record<string, number>;
    const heapLimit = await session.evaluate<number>("process.getBuiltinModule('node:v8').getHeapStatistics().heap_size_limit");
    if (snapshotFile) await writeHeapSnapshot(session, snapshotFile);
    return {
      heapUsedBytes: usage.heapUsed ?? NaN,
      heapTotalBytes: usage.heapTotal ?? NaN,
      externalBytes: usage.external ?? NaN,
      arrayBuffersBytes: usage.arrayBuffers ?? NaN,
      rssBytes: usage.rss ?? NaN,
      heapLimitBytes: heapLimit,
    };
  } finally {
    await session.send('HeapProfiler.disable').catch(() => undefined);
    session.close();
  }
}

async function writeHeapSnapshot(session: InspectorSession, file: string): Promise<void> {
  const out = createWriteStream(file);
  session.on('HeapProfiler.addHeapSnapshotChunk', (params) => out.write(String(params.chunk)));
  await session.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

export interface ConfinedOperator {
  cgroup: MemoryCgroup;
  container: ManagerContainer;
  /** The inspector port the operator is started with (--inspect-port opens nothing until SIGUSR1). */
  inspectPort: number;
  /** For startOperator: the cgroup launcher, --inspect-port, and the manifest's env (NODE_OPTIONS). */
  launch: { launcher: readonly string[]; nodeArgs: readonly string[]; env: Record<string, string> };
}

/**
 * How to run the operator as config/manager/manager.yaml runs it, as far as memory goes: inside a
 * memory cgroup with the container's limit and with the container's environment.
 */
export async function confineLikeTheManifest(name: string, inspectPort: number): Promise<ConfinedOperator> {
  const container = await managerContainer();
  const cgroup = await createMemoryCgroup(name, container.memoryLimitBytes).catch((error: unknown) => {
    throw new Error(`cannot create the memory cgroup ${name} (the benchmark needs root and cgroup v1 at ${CGROUP_MEMORY_ROOT}): ${String(error)}`);
  });
  return {
    cgroup,
    container,
    inspectPort,
    launch: {
      launcher: cgroup.launcher,
      // SMSX_BENCH_NODE_ARGS adds node flags for one run (e.g. --cpu-prof), the manifest unchanged.
      nodeArgs: [`--inspect-port=127.0.0.1:${inspectPort}`, ...(process.env.SMSX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      env: container.env,
    },
  };
}
