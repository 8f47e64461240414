// Child processes of the local control plane: each logs to a file in the run folder, and none may
// outlive us. Three layers make sure of that: an orderly stop(), synchronous kills on process exit
// and on SIGINT/SIGTERM, and a detached reaper that kills the recorded pids if this process dies
// without running any handler (SIGKILL, a crash of the runtime).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A caller with its own handler (the CLI) stops gracefully; without one, die like the default would.
      if (process.listenerCount(signal) > 1) return;
      killAllNow();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

export function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  runDir: string;
  env?: NodeJS.ProcessEnv;
}): ManagedProcess {
  installExitHooks();
  const logFile = path.join(options.runDir, `${options.name}.log`);
  const logFd = openSync(logFile, 'a');
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', logFd, logFd],
    env: options.env ?? process.env,
  });
  closeSync(logFd);
  if (child.pid === undefined) {
    throw new Error(`Could not start ${options.name} (${options.command}); see ${logFile}`);
  }
  const pid = child.pid;
  live.add(child);
  const pidFile = path.join(options.runDir, 'pids', `${options.name}.pid`);
  writeFileSync(pidFile, `${pid}\n`);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      rmSync(pidFile, { force: true });
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      live.delete(child);
      resolve('spawn-error');
    });
  });
  return {
    name: options.name,
    pid,
    logFile,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a detached watchdog that waits for `ownerPid` to die and then kills every pid recorded in
 * runDir/pids, then runs the runDir/cleanup-*.sh scripts (what the real node leaves: containers,
 * mounts, the bridge, iptables rules). It ignores the terminal's Ctrl-C so that it is still there to
 * clean up afterwards.
 */
export function startReaper(runDir: string, ownerPid = process.pid): void {
  const script = `
    trap '' INT HUP
    trap 'exit 0' TERM
    while kill -0 ${ownerPid} 2>/dev/null && [ -d "$1" ]; do sleep 1; done
    [ -d "$1" ] || exit 0
    for f in "$1"/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done
    sleep 3
    for f in "$1"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null && rm -f "$f"; done
    for c in "$(dirname "$1")"/cleanup-*.sh; do [ -f "$c" ] && sh "$c"; done
    exit 0`;
  const reaper = spawn('sh', ['-c', script, 'sms-experiment-reaper', path.join(runDir, 'pids')], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  if (reaper.pid !== undefined) writeFileSync(path.join(runDir, 'reaper.pid'), `${reaper.pid}\n`);
}
