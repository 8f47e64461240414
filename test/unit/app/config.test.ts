import assert from 'node:assert/strict';
import { ConfigError, loadConfig, modelBaseUrl, type AppConfig } from '../../../src/app/config.ts';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('app config', () => {
  it('needs only MODEL_HOST and has defaults for the rest', () => {
    assert.deepEqual(loadConfig({ MODEL_HOST: 'http://sms-app-model.sms-app.svc:8081' }), {
      port: 8080,
      modelUrl: 'http://sms-app-model.sms-app.svc:8081',
      appVersion: 'v1',
      modelTimeoutMs: 2_000,
      cache: { policy: 'lru', maxEntries: 10_000, ttlMs: 600_000 },
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
    } satisfies AppConfig);
  });

  it('reads the operator ConfigMap and every variable', () => {
    const config = loadConfig({
      APP_SERVER_PORT: '9000',
      MODEL_HOST: 'http://sms-app-model.sms-app.svc:8081/',
      MODEL_PORT: '8081',
      APP_VERSION: 'v2',
      MODEL_TIMEOUT_MS: '500',
      CACHE_POLICY: 'fifo',
      CACHE_MAX_ENTRIES: '50',
      CACHE_TTL_SECONDS: '30',
      SHUTDOWN_TIMEOUT_MS: '0',
      LOG_LEVEL: 'warn',
    });
    assert.deepEqual(config, {
      port: 9000,
      modelUrl: 'http://sms-app-model.sms-app.svc:8081',
      appVersion: 'v2',
      modelTimeoutMs: 500,
      cache: { policy: 'fifo', maxEntries: 50, ttlMs: 30_000 },
      shutdownTimeoutMs: 0,
      logLevel: 'warn',
    });
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ MODEL_HOST: 'model', APP_SERVER_PORT: '', CACHE_POLICY: '' }).port, 8080);
  });

  it('turns a bare MODEL_HOST into a URL with MODEL_PORT, unless it names its own port', () => {
    assert.deepEqual(modelBaseUrl('sms-app-model', 8081), { url: 'http://sms-app-model:8081' });
    assert.deepEqual(modelBaseUrl('sms-app-model.sms-app.svc', 9000), { url: 'http://sms-app-model.sms-app.svc:9000' });
    assert.deepEqual(modelBaseUrl('127.0.0.1:7000', 8081), { url: 'http://127.0.0.1:7000' });
    assert.equal(loadConfig({ MODEL_HOST: 'model', MODEL_PORT: '9191' }).modelUrl, 'http://model:9191');
  });

  it('keeps a path prefix of a MODEL_HOST URL and drops its trailing slash', () => {
    assert.deepEqual(modelBaseUrl('https://models.example.com/sms/', 8081), { url: 'https://models.example.com/sms' });
  });

  it('names MODEL_HOST when it is missing or unusable', () => {
    assert.match(problemsOf({})[0] ?? '', /^MODEL_HOST: is not set/);
    assert.match(problemsOf({ MODEL_HOST: 'ftp://model' })[0] ?? '', /^MODEL_HOST: "ftp:\/\/model" must be an http:\/\/ or https:\/\/ URL/);
    assert.match(problemsOf({ MODEL_HOST: 'http://' })[0] ?? '', /^MODEL_HOST: "http:\/\/" is not a valid URL/);
    assert.match(problemsOf({ MODEL_HOST: 'http://model:8081/?x=1' })[0] ?? '', /^MODEL_HOST: .* must not carry a query/);
    assert.match(problemsOf({ MODEL_HOST: 'model host' })[0] ?? '', /^MODEL_HOST: "model host" is neither a URL nor a host name/);
  });

  it('names every bad variable at once', () => {
    assert.deepEqual(
      problemsOf({
        MODEL_HOST: 'model',
        APP_SERVER_PORT: '99999',
        MODEL_PORT: '0',
        APP_VERSION: 'v2 canary',
        MODEL_TIMEOUT_MS: '2s',
        CACHE_POLICY: 'lfu',
        CACHE_MAX_ENTRIES: '-1',
        CACHE_TTL_SECONDS: '1.5',
        LOG_LEVEL: 'loud',
      }),
      [
        'APP_SERVER_PORT: "99999" must be a whole number from 0 to 65535',
        'MODEL_PORT: "0" must be a whole number from 1 to 65535',
        'APP_VERSION: must be 1 to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit, e.g. v1',
        'MODEL_TIMEOUT_MS: "2s" must be a whole number from 1 to 60000',
        'CACHE_POLICY: "lfu" is not one of lru, fifo, none',
        'CACHE_MAX_ENTRIES: "-1" must be a whole number from 1 to 10000000',
        'CACHE_TTL_SECONDS: "1.5" must be a whole number from 1 to 604800',
        'LOG_LEVEL: "loud" is not one of trace, debug, info, warn, error, fatal, silent',
      ],
    );
  });

  it('puts the problems in the error message', () => {
    assert.throws(() => loadConfig({ MODEL_HOST: 'model', CACHE_POLICY: 'random' }), {
      name: 'ConfigError',
      message: 'Invalid configuration:\n  - CACHE_POLICY: "random" is not one of lru, fifo, none',
    });
  });
});
