// A shadow compares each answer with the stable model's: the configuration that turns it on, the
// pair counter, the disagreement log (a hash, never the text) and /readyz, in process with two
// real models trained on the fixture corpus (the shadow on a third of it, so they disagree on some messages).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createModelApp } from '../../../src/model/app.ts';
import { loadArtifact, sha256, type LoadedModel } from '../../../src/model/artifact.ts';
import { trainToDirectory } from '../../../src/model/build-artifact.ts';
import { parseLabelledText, readDataset } from '../../../src/model/dataset.ts';
import { ConfigError, loadConfig } from '../../../src/model/config.ts';
import { createServiceLogger } from '../../../src/model/logging.ts';
import type { ModelState } from '../../../src/model/model-state.ts';
import { createModelMetrics } from '../../../src/model/service-metrics.ts';
import { FIXTURE_CORPUS } from '../../support/model-service.ts';

function configProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('shadow comparison with the stable model', () => {
  describe('configuration', () => {
    it('reads STABLE_MODEL_VERSION under MODEL_DIR, or STABLE_MODEL_PATH', () => {
      assert.deepEqual(loadConfig({ SHADOW_MODE: 'true', MODEL_DIR: '/models', MODEL_VERSION: 'v2', STABLE_MODEL_VERSION: 'v1' }).stable, { artifact: 'v1', artifactDirectory: '/models/v1' });
      assert.deepEqual(loadConfig({ SHADOW_MODE: 'true', STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: '/elsewhere/v1' }).stable, { artifact: 'v1', artifactDirectory: '/elsewhere/v1' });
      assert.equal(loadConfig({ SHADOW_MODE: 'true' }).stable, undefined);
    });

    it('refuses a stable model outside shadow mode, a path without a version and a bad artifact name', () => {
      assert.deepEqual(configProblems({ STABLE_MODEL_VERSION: 'v1' }), ['STABLE_MODEL_VERSION is set but SHADOW_MODE is not "true": only a shadow compares its answers with the stable model']);
      assert.deepEqual(configProblems({ SHADOW_MODE: 'true', STABLE_MODEL_PATH: '/models/v1' }), ['STABLE_MODEL_PATH is set without STABLE_MODEL_VERSION: set the stable artifact name too']);
      assert.match(configProblems({ SHADOW_MODE: 'true', STABLE_MODEL_VERSION: '../v1' }).join('\n'), /^STABLE_MODEL_VERSION must be an artifact name/);
    });
  });

  describe('routes', () => {
    let directory: string;
    let shadow: LoadedModel;
    let stable: LoadedModel;
    let messages: string[];

    before(async () => {
      directory = await mkdtemp(path.join(tmpdir(), 'sms-shadow-test-'));
      const dataset = await readDataset(FIXTURE_CORPUS);
      const created = new Date().toISOString();
      await trainToDirectory({ dataset, version: 'v1', seed: 42, created, modelsDirectory: path.join(directory, 'stable'), evaluate: false });
      // The shadow learns from a third of the messages only, so that it disagrees on some.
      const subset = { ...dataset, messages: dataset.messages.filter((_, index) => index % 3 === 0) };
      await trainToDirectory({ dataset: subset, version: 'v2', seed: 42, created, modelsDirectory: path.join(directory, 'shadow'), evaluate: false });
      stable = await loadArtifact(path.join(directory, 'stable', 'v1'));
      shadow = await loadArtifact(path.join(directory, 'shadow', 'v2'));
      messages = parseLabelledText(await readFile(FIXTURE_CORPUS, 'utf8'), FIXTURE_CORPUS).map((message) => message.text);
    });
    after(() => rm(directory, { recursive: true, force: true }));

    function shadowApp(stableState: ModelState | undefined) {
      const metrics = createModelMetrics({ processMetrics: false });
      const lines: string[] = [];
      const logger = createServiceLogger('info', { write: (line: string) => lines.push(line) });
      const app = createModelApp({ state: () => ({ status: 'ready', loaded: shadow }), metrics, shadowMode: true, logger, ...(stableState === undefined ? {} : { stable: () => stableState }) });
      const predict = (sms: string) => app.request('/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sms }) });
      return { app, metrics, lines, predict };
    }

    it('counts every message by both results, exactly as the two models classify it, and logs each disagreement by hash', async () => {
      const { metrics, lines, predict } = shadowApp({ status: 'ready', loaded: stable });
      metrics.prepareComparisons('v2', 'v1');
      const expected = new Map<string, number>();
      const disagreements: string[] = [];
      for (const sms of messages) {
        const response = await predict(sms);
        assert.equal(response.status, 200);
        const answer = (await response.json()) as { result: string };
        const stableResult = stable.classifier.predict(sms).result;
        assert.equal(answer.result, shadow.classifier.predict(sms).result);
        const key = `stable_result="${stableResult}",shadow_result="${answer.result}"`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
        if (stableResult !== answer.result) disagreements.push(sms);
      }
      assert.ok(disagreements.length > 0, 'the two models should disagree on some fixture messages');
      const text = await metrics.registry.metrics();
      for (const stableResult of ['spam', 'ham']) {
        for (const shadowResult of ['spam', 'ham']) {
          const key = `stable_result="${stableResult}",shadow_result="${shadowResult}"`;
          assert.ok(text.includes(`sms_model_shadow_comparisons_total{version="v2",stable_version="v1",${key}} ${expected.get(key) ?? 0}\n`), `pair ${key}`);
        }
      }
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'Shadow disagreed with stable');
      assert.deepEqual(
        logged.map((line) => line.smsSha256),
        disagreements.map((sms) => sha256(sms)),
      );
      for (const line of logged) {
        assert.deepEqual(Object.keys(line).filter((key) => !['level', 'time', 'pid', 'component', 'hostname', 'msg'].includes(key)).sort(), [
          'shadowResult',
          'shadowSpamProbability',
          'smsSha256',
          'stableResult',
          'stableSpamProbability',
          'stableVersion',
          'version',
        ]);
        assert.notEqual(line.shadowResult, line.stableResult);
      }
      for (const sms of disagreements) assert.ok(!lines.join('').includes(JSON.stringify(sms).slice(1, -1)), 'a message text was logged');
    });

    it('serves without comparing while the stable model is missing, and /readyz says why', async () => {
      const { app, metrics, predict } = shadowApp({ status: 'failed', problem: '/models/v1/model.json is corrupt' });
      assert.equal((await predict(messages[0] ?? 'hello')).status, 200);
      const ready = await app.request('/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', modelVersion: 'v2', comparison: { status: 'not comparing', reason: 'stable model failed to load: /models/v1/model.json is corrupt' } });
      assert.doesNotMatch(await metrics.registry.metrics(), /sms_model_shadow_comparisons_total\{/);
      assert.match(await metrics.registry.metrics(), /sms_model_shadow_comparison_available 0/);
    });

    it('says nothing about comparing when no stable model is configured', async () => {
      const { app } = shadowApp(undefined);
      assert.deepEqual(await (await app.request('/readyz')).json(), { status: 'ready', modelVersion: 'v2' });
    });
  });
});
