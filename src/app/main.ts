// Entry point: `node src/app/main.ts`. Reads the environment (config.ts), serves the page and API,
// and stops gracefully on SIGTERM or SIGINT. A bad variable ends it at once with exit code 1.
import { loadConfigOrExit } from '../common/config-error.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { assembleApp, startServer } from './server.ts';

const config = loadConfigOrExit(() => loadConfig(process.env), 1);
const logger = createLogger({ level: config.logLevel, version: config.appVersion });
const app = assembleApp(config, { logger });
const server = await startServer(app, { port: config.port, shutdownTimeoutMs: config.shutdownTimeoutMs, logger });
logger.info({ port: server.port, modelUrl: config.modelUrl, cache: config.cache, modelTimeoutMs: config.modelTimeoutMs }, 'Started app');

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'Received signal, finishing requests in flight');
  server.close().then(
    () => {
      logger.info('Stopped app');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'Failed to stop cleanly');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
