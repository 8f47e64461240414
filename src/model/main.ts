// node src/model/main.ts — the model service. Configuration from the environment (src/model/config.ts).
import { ConfigError, loadConfig, type ModelServiceConfig } from './config.ts';
import { createServiceLogger } from './logging.ts';
import { startModelServer } from './server.ts';

function configOrExit(): ModelServiceConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
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
