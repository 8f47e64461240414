// node src/model/main.ts — the model service. Configuration from the environment (src/model/config.ts).
import { loadConfigOrExit } from '../common/config-error.ts';
import { loadConfig } from './config.ts';
import { createServiceLogger } from './logging.ts';
import { startModelServer } from './server.ts';

const config = loadConfigOrExit(() => loadConfig(process.env), 1);
const logger = createServiceLogger(config.logLevel);
const service = await startModelServer(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'Failed to start model service');
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'Began shutdown, letting requests in flight finish');
    void service.stop().then(() => {
      logger.info('Stopped model service');
      process.exit(0);
    });
  });
}
