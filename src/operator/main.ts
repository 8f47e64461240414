// The operator's entry point: `node src/operator/main.ts [flags]` (see --help).
// Owns the process: configuration, exit codes and signals. Exit codes (EXIT_CODES): 0 after a clean
// stop or --help, 1 when start-up fails or leadership is lost, 2 on invalid configuration, 3 when a
// watch has not listed its objects within --cache-sync-timeout.
import { hostname } from 'node:os';
import { loadConfigOrExit } from '../common/config-error.ts';
import { loadConfig } from './config.ts';
import { loadKubeConfig } from './kube/client.ts';
import { createLogger, type Logger } from './runtime/logging.ts';
import { EXIT_CODES, startOperator, StartupError, type RunningOperator } from './operator.ts';

/** A stop that hangs (an API call that never returns) must not keep a terminating pod alive. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const result = loadConfigOrExit(
    () => loadConfig({ argv: process.argv.slice(2), env: process.env, hostname: hostname(), pid: process.pid }),
    EXIT_CODES.invalidConfig,
  );
  if (result.kind === 'help') {
    process.stdout.write(result.text);
    return;
  }
  const config = result.config;

  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  process.on('uncaughtException', (error) => exitAfterFatal(logger, error, 'Crashed on an uncaught exception'));
  process.on('unhandledRejection', (error) => exitAfterFatal(logger, error, 'Crashed on an unhandled rejection'));

  logger.info(
    {
      namespaces: config.namespaces,
      leaderElection: config.leaderElection.enabled ? config.leaderElection : false,
      concurrency: config.concurrency,
      resyncPeriodMs: config.resyncPeriodMs,
      fieldManager: config.fieldManager,
      skipMonitoring: config.skipMonitoring,
    },
    'Starting operator',
  );

  let operator: RunningOperator;
  try {
    operator = await startOperator({ config, logger, kubeConfig: loadKubeConfig(config.kubeconfig) });
  } catch (error) {
    // A StartupError's message is the whole story (what to install); anything else keeps its stack.
    if (error instanceof StartupError) logger.fatal(error.message);
    else logger.fatal({ err: error }, 'Failed to start');
    process.exit(EXIT_CODES.startupFailed);
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'Stopped at once on a second signal');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'Received signal, stopping');
    const timeout = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'Failed to stop in time');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timeout.unref();
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => exitAfterFatal(logger, error, 'Failed to stop cleanly'),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const code = await operator.ended;
  if (code === EXIT_CODES.cacheSyncTimeout) {
    // Already stopped (the Lease released): a restart tries the lists again, with backoff.
    logger.error({ code }, 'Exited: caches did not sync');
    process.exit(code);
  }
  // Leadership lost: exit without a graceful stop (nothing may run alongside the new leader).
  if (code !== 0) {
    logger.error({ code }, 'Exited after losing leadership');
    process.exit(code);
  }
}

function exitAfterFatal(logger: Logger, error: unknown, message: string): never {
  logger.fatal({ err: error }, message);
  process.exit(1);
}

await main();
