import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../src/model/config.ts';
import { isShadowHost, trafficSource } from '../../../src/model/shadow.ts';

describe('model service configuration', () => {
  it('has defaults for everything', () => {
    assert.deepEqual(loadConfig({}), {
      port: 8081,
      host: '0.0.0.0',
      artifact: 'v1',
      artifactDirectory: '/mnt/shared/models/v1',
      modelUrl: undefined,
      shadowMode: false,
      stable: undefined,
      retryMs: 5_000,
      logLevel: 'info',
      shutdownGraceMs: 20_000,
    });
  });

  it('reads what the operator sets; MODEL_PATH wins over MODEL_DIR/MODEL_VERSION', () => {
    const config = loadConfig({ MODEL_PORT: '9000', MODEL_DIR: '/models', MODEL_VERSION: 'v2', MODEL_PATH: '/models/v2-special', SHADOW_MODE: 'true', LOG_LEVEL: 'debug' });
    assert.equal(config.port, 9000);
    assert.equal(config.artifact, 'v2');
    assert.equal(config.artifactDirectory, '/models/v2-special');
    assert.equal(config.shadowMode, true);
    assert.equal(config.logLevel, 'debug');
    assert.equal(loadConfig({ MODEL_DIR: '/models', MODEL_VERSION: '2026-11.a' }).artifactDirectory, '/models/2026-11.a');
  });

  it('treats empty variables as unset', () => {
    assert.equal(loadConfig({ MODEL_PATH: '', MODEL_URL: '', SHADOW_MODE: '' }).artifactDirectory, '/mnt/shared/models/v1');
  });

  it('names every invalid variable in one error', () => {
    const error = (() => {
      try {
        loadConfig({ MODEL_PORT: '70000', MODEL_VERSION: '../etc', SHADOW_MODE: 'yes', MODEL_URL: 'ftp://x', LOG_LEVEL: 'loud' });
      } catch (failure) {
        return failure;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConfigError);
    for (const name of ['MODEL_PORT must be between 1 and 65535', 'MODEL_VERSION must be an artifact name', 'SHADOW_MODE must be "true" or "false"', 'MODEL_URL must be an http(s) URL', 'LOG_LEVEL must be one of']) {
      assert.ok(error.message.includes(name), `missing "${name}" in:\n${error.message}`);
    }
    assert.throws(() => loadConfig({ MODEL_PORT: 'abc' }), /MODEL_PORT must be a port number/);
  });
});

describe('shadow traffic detection', () => {
  it('recognises the host Envoy gives mirrored requests, with or without a port', () => {
    assert.equal(isShadowHost('sms-app-model-shadow'), true);
    assert.equal(isShadowHost('sms-app-model-shadow:8081'), true);
    assert.equal(isShadowHost('SMS-APP-MODEL-SHADOW:8081'), true);
    // Envoy before 2018 appended the suffix after the port.
    assert.equal(isShadowHost('sms-app-model:8081-shadow'), true);
  });

  it('leaves live hosts alone', () => {
    for (const host of ['sms-app-model', 'sms-app-model:8081', 'shadow-model:8081', 'sms-app-model-shadowy', '127.0.0.1:8081', undefined]) {
      assert.equal(isShadowHost(host), false, String(host));
    }
  });

  it('labels everything shadow in SHADOW_MODE', () => {
    assert.equal(trafficSource(true, 'sms-app-model:8081'), 'shadow');
    assert.equal(trafficSource(false, 'sms-app-model:8081'), 'live');
    assert.equal(trafficSource(false, 'sms-app-model-shadow:8081'), 'shadow');
  });
});
